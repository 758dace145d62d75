"""Where a job's batches run on a pool of worker processes (:class:`LocalPool`; the in-process
default is :class:`prover.records.runner.Serial`). Both yield ``(batch, outcomes)`` in
submission order, so the runner commits in input order; only the runner's process writes.

Pool workers are ``python -m prover.synth.worker`` processes (synth's worker entry point, never
``multiprocessing``'s spawn, which re-runs the caller's ``__main__``): each leads its own
process group, dies with the parent, has ``RLIMIT_AS`` set and ignores SIGINT (the parent stops
the run). A worker whose batch exceeds ``batch_timeout_s`` is killed with its group; that
batch's rows fail with a ``timeout`` error and a fresh worker takes the slot. A worker that dies
fails its batch the same way. The job is pickled once per worker and started there
(:meth:`Job.start`), so models and solver contexts are built in the worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prover.synth.executor import picklable

_ROOT = Path(__file__).resolve().parents[2]

if TYPE_CHECKING:
    from prover.records.runner import Item, Job, Outcome

Batch = list["Item"]


class _BatchFn:
    """What a worker runs: ``(key, batch) -> (outcomes, None)``; the job starts on first use."""

    def __init__(self, job: Job, run_id: str) -> None:
        self.job = job
        self.run_id = run_id
        self.started = False

    def __call__(self, key: str, batch: Batch) -> tuple[list[Outcome], None]:
        from prover.records.runner import isolated

        if not self.started:
            self.job.start(self.run_id)
            self.started = True
        return isolated(self.job, batch), None


class _Slot:
    """One worker process (``python -m prover.synth.worker``), its socket and its batch."""

    def __init__(self, blob: bytes, mem_gb: float) -> None:
        parent, child = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "prover.synth.worker", str(child.fileno()),
                 str(os.getpid()), repr(mem_gb)],
                pass_fds=(child.fileno(),), process_group=0, env=_worker_env(),
                stdin=subprocess.DEVNULL)
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.conn.send((list(sys.path), blob))
        self.batch: Batch | None = None
        self.started = 0.0

    def send(self, batch: Batch) -> None:
        self.batch, self.started = batch, time.monotonic()
        self.conn.send((batch[0].key, batch))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.proc.wait(2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class LocalPool:
    """``workers`` spawned processes; see the module docstring."""

    def __init__(self, workers: int, *, run_id: str, mem_gb: float = 8.0,
                 batch_timeout_s: float | None = 600.0) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.run_id = run_id
        self.mem_gb = mem_gb
        self.batch_timeout_s = batch_timeout_s

    def run(self, job: Job, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        """Yield ``(batch, outcomes)`` in submission order; closing the generator kills the
        workers."""
        source = iter(batches)
        order: deque[int] = deque()  # submission numbers not yet yielded
        ready: dict[int, tuple[Batch, list[Outcome]]] = {}
        blob = picklable(_BatchFn(job, self.run_id))
        slots = [_Slot(blob, self.mem_gb) for _ in range(self.workers)]
        number: dict[int, int] = {}  # slot index -> submission number in flight
        submitted = 0
        exhausted = False
        try:
            while True:
                for index, slot in enumerate(slots):
                    if slot.batch is None and not exhausted and len(order) < 4 * self.workers:
                        batch = next(source, None)
                        if batch is None:
                            exhausted = True
                            break
                        slot.send(batch)
                        number[index] = submitted
                        order.append(submitted)
                        submitted += 1
                busy = [i for i, s in enumerate(slots) if s.batch is not None]
                if not busy and exhausted:
                    break
                waitables = [slots[i].conn for i in busy]
                got = set(wait(waitables, timeout=self._wait_s([slots[i] for i in busy])))
                for i in busy:
                    done = self._collect(job, blob, slots, i, got)
                    if done is not None:
                        ready[number.pop(i)] = done
                while order and order[0] in ready:
                    yield ready.pop(order.popleft())
        finally:
            for slot in slots:
                slot.stop() if slot.batch is None else slot.kill()

    def _wait_s(self, busy: list[_Slot]) -> float:
        if self.batch_timeout_s is None or not busy:
            return 1.0
        left = min(s.started + self.batch_timeout_s - time.monotonic() for s in busy)
        return max(0.0, min(left, 1.0))

    def _collect(self, job: Job, blob: bytes, slots: list[_Slot], index: int,
                 got: set[Any]) -> tuple[Batch, list[Outcome]] | None:
        slot = slots[index]
        batch = slot.batch
        assert batch is not None
        if slot.conn in got or slot.conn.poll():
            try:
                message = slot.conn.recv()
                if len(message) == 1:  # the worker's READY: start-up is over, the clock starts
                    slot.started = time.monotonic()
                    return None
                _, outcomes, _ = message
                slot.batch = None
                return batch, outcomes
            except (EOFError, OSError):
                slot.proc.poll()
                reason = f"the worker process died (exit code {slot.proc.returncode})"
        elif not slot.alive():
            reason = f"the worker process died (exit code {slot.proc.returncode})"
        elif (self.batch_timeout_s is not None
              and time.monotonic() - slot.started >= self.batch_timeout_s):
            reason = f"timeout: the batch ran past {self.batch_timeout_s:g} s and was killed"
        else:
            return None
        slot.kill()
        slots[index] = _Slot(blob, self.mem_gb)
        from prover.records.runner import Outcome

        return batch, [Outcome({**job.failed(item, RuntimeError(reason)),
                                "error": f"{reason}; the other rows are unaffected (tried "
                                         "again when the run resumes)",
                                "error_detail": {"kind": "infra", "message": reason}},
                               report=f"row {item.row_id!r}: {reason}") for item in batch]


class RayExecutor:
    """The runner's batches on Ray actors, through synth's :class:`prover.synth.ray_exec.RayPool`
    (same item-function contract as the local pools): results come back in any order and are
    yielded in submission order; a batch whose actor died or ran past the time limit fails its
    rows as infrastructure failures (tried again on resume)."""

    def __init__(self, workers: int, *, run_id: str, batch_timeout_s: float | None = 600.0,
                 address: str | None = None) -> None:
        self.workers = workers
        self.run_id = run_id
        self.batch_timeout_s = batch_timeout_s
        self.address = address

    def run(self, job: Job, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        from prover.records.runner import Outcome
        from prover.synth.executor import PoolOptions
        from prover.synth.ray_exec import RayPool

        pool = RayPool(_BatchFn(job, self.run_id),  # type: ignore[arg-type]
                       PoolOptions(workers=self.workers, mem_gb=0,
                                   item_timeout_s=self.batch_timeout_s, prefetch=1),
                       address=self.address)
        sent: dict[int, Batch] = {}

        def items() -> Iterator[tuple[int, str, Any]]:
            for seq, batch in enumerate(batches):
                sent[seq] = batch
                yield seq, batch[0].key, batch

        ready: dict[int, tuple[Batch, list[Outcome]]] = {}
        following = 0
        results = pool.run(items())
        try:
            for done in results:
                if done is None:
                    continue
                batch = sent.pop(done.seq)
                output = done.output
                if not isinstance(output, list):  # the pool's own failure: timeout, died
                    reason = f"{getattr(output, 'reason', 'failed')} on a Ray worker"
                    output = [Outcome({**job.failed(item, RuntimeError(reason)),
                                       "error": f"{reason}; tried again when the run resumes",
                                       "error_detail": {"kind": "infra", "message": reason}},
                                      report=f"row {item.row_id!r}: {reason}") for item in batch]
                ready[done.seq] = (batch, output)
                while following in ready:
                    yield ready.pop(following)
                    following += 1
        finally:
            results.close()
