"""Where a job's batches run besides in process (the default is
:class:`prover.records.runner.Serial`): the one local worker pool
(:class:`prover.synth.executor.LocalPool`) or Ray actors (:class:`prover.synth.ray_exec.RayPool`).

There is one pool implementation per strategy, shared with synth: :class:`PoolExecutor` sends
each batch as ONE pool item (``key`` = the batch's first key, payload = the batch) to a
:class:`_BatchFn` that starts the job in the worker on first use and runs
:func:`prover.records.runner.isolated`. The pools' contract (``run(items) -> Done`` per item, in
any order) is adapted to the runner's: ``(batch, outcomes)`` in submission order, so the runner
commits in input order; only the runner's process writes.

What the pools guarantee carries over (see :mod:`prover.synth.executor`): workers are
``python -m prover.synth.worker`` processes with their own process group, ``RLIMIT_AS`` and
death with the parent; a batch past ``batch_timeout_s`` is killed with its worker's group and a
fresh worker takes the slot; batches queued behind a lost one go to another worker. A batch the
pool fails (timeout, worker died, unpicklable result) fails each of its rows with an error of
kind ``infra`` (tried again when the run resumes); the other rows are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prover.records.runner import Item, Job, Outcome

Batch = list["Item"]
#: batches queued per local worker (a second one keeps it busy while the runner commits)
LOCAL_PREFETCH = 2


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


class PoolExecutor:
    """The runner's batches on ``workers`` local worker processes, or on Ray actors with
    ``ray`` (an existing cluster at ``address``, else a local one). ``mem_gb`` caps each local
    worker's address space (Ray workers are left to Ray's memory monitor)."""

    def __init__(self, workers: int, *, run_id: str, batch_timeout_s: float | None = 600.0,
                 mem_gb: float = 8.0, ray: bool = False, address: str | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.run_id = run_id
        self.batch_timeout_s = batch_timeout_s
        self.mem_gb = mem_gb
        self.ray = ray
        self.address = address

    def _pool(self, job: Job) -> Any:
        from prover.synth.executor import LocalPool, PoolOptions

        fn = _BatchFn(job, self.run_id)
        if self.ray:
            from prover.synth.ray_exec import RayPool

            return RayPool(fn,
                           PoolOptions(workers=self.workers, mem_gb=0,
                                       item_timeout_s=self.batch_timeout_s, prefetch=1),
                           address=self.address)
        return LocalPool(fn,
                         PoolOptions(workers=self.workers, mem_gb=self.mem_gb,
                                     item_timeout_s=self.batch_timeout_s,
                                     prefetch=LOCAL_PREFETCH))

    def run(self, job: Job, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Outcome]]]:
        """Yield ``(batch, outcomes)`` in submission order; closing the generator stops the
        workers (a busy one is killed)."""
        pool = self._pool(job)
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
                if not isinstance(output, list):  # the pool's own failure: a TaskOutput
                    output = self._failed(job, batch, getattr(output, "reason", None),
                                          done.detail)
                ready[done.seq] = (batch, output)
                while following in ready:
                    yield ready.pop(following)
                    following += 1
        finally:
            results.close()

    def _failed(self, job: Job, batch: Batch, reason: str | None,
                detail: str | None) -> list[Outcome]:
        """Every row of a batch the pool failed, as an infrastructure error."""
        from prover.records.runner import Outcome

        if reason == "timeout":
            text = f"timeout: the batch ran past {self.batch_timeout_s:g} s and was killed"
        elif reason == "worker-died":
            text = (detail or "the worker process died").strip()
        else:
            text = f"{reason or 'failed'} in the worker ({(detail or 'no detail').strip()})"
        if self.ray:
            text += " on a Ray worker"
        return [Outcome({**job.failed(item, RuntimeError(text)),
                         "error": f"{text}; the other rows are unaffected (tried again when "
                                  "the run resumes)",
                         "error_detail": {"kind": "infra", "message": text}},
                        report=f"row {item.row_id!r}: {text}") for item in batch]
