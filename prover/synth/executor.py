"""The local executor: a pool of worker processes that run a task's items, one at a time each.

Workers only compute: each receives ``(key, payload)``, calls ``task.run`` and sends the
:class:`TaskOutput` back; the caller (the single writer) commits it. At most ``prefetch`` items
are queued per worker (backpressure: items are read from the iterator only when a worker's
queue has room; a queued second item keeps the worker busy while the writer commits).
Every worker leads its own process group, has ``RLIMIT_AS`` set (a ``MemoryError`` fails the
item with reason ``memory``), dies with the parent (Linux ``PR_SET_PDEATHSIG`` = SIGKILL, and a
parent-pid watchdog elsewhere), and is killed with its group when an item exceeds the per-item
timeout (the item fails with reason ``timeout``, a fresh worker takes its place).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple

from prover.synth.rows import prehash
from prover.synth.task import SynthTask, TaskOutput

_PR_SET_PDEATHSIG = 1


class Done(NamedTuple):
    """One finished item: its input position, key, output and a diagnostic (traceback) if any."""

    seq: int
    key: str
    output: TaskOutput
    detail: str | None = None


@dataclass(frozen=True)
class PoolOptions:
    """Worker count, memory cap per worker (GiB; 0 = none) and per-item timeout (s; None)."""

    workers: int = 1
    mem_gb: float = 8.0
    item_timeout_s: float | None = 600.0
    start_method: str = "spawn"
    prefetch: int = 2  # items queued per worker, so none idles while the writer commits

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.prefetch < 1:
            raise ValueError("prefetch must be >= 1")
        if self.mem_gb < 0:
            raise ValueError("worker memory limit must be >= 0 (0 = no limit)")
        if self.item_timeout_s is not None and not self.item_timeout_s > 0:
            raise ValueError("item timeout must be > 0")


def die_with_parent(parent_pid: int) -> None:
    """Make this process die when ``parent_pid`` dies: PR_SET_PDEATHSIG on Linux (checked
    against a parent that already died), else a daemon thread polling the parent pid."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


def limit_memory(mem_gb: float) -> None:
    """Cap this process's address space at ``mem_gb`` GiB (0 = leave it)."""
    if mem_gb <= 0:
        return
    cap = int(mem_gb * (1 << 30))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def run_item(task: SynthTask, key: str,
             payload: dict[str, Any]) -> tuple[TaskOutput, str | None]:
    """``task.run(payload)`` with its rows' content hashes (computed here, in the worker), and
    a bug or a memory error turned into a failed output (and the traceback as a diagnostic)
    so one bad item never stops a run."""
    try:
        output = task.run(payload)
    except MemoryError:
        return TaskOutput([], ok=False, reason="memory"), None
    except Exception as err:  # a task bug: fail the item, keep the run going
        return (TaskOutput([], ok=False, reason=f"exception: {type(err).__name__}"),
                traceback.format_exc(limit=8))
    if not isinstance(output, TaskOutput):
        return (TaskOutput([], ok=False, reason="exception: bad output"),
                f"task.run returned {type(output).__name__}, not TaskOutput")
    output.hashes = prehash(output.rows, task=task.name, item=key)
    return output, None


def _worker_main(conn: Connection, task: SynthTask, mem_gb: float, parent_pid: int) -> None:
    """A worker's loop: receive ``(key, payload)`` (None or EOF ends it), send the result."""
    os.setpgrp()
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    limit_memory(mem_gb)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        key, payload = message
        output, detail = run_item(task, key, payload)
        try:
            conn.send((key, output, detail))
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            conn.send((key, TaskOutput([], ok=False, reason="exception: unpicklable rows"),
                       str(err)))


class _Worker:
    """One worker process, its pipe, and the items sent to it, oldest (running) first."""

    def __init__(self, ctx: Any, task: SynthTask, opts: PoolOptions) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, task, opts.mem_gb, os.getpid()),
                                daemon=True, name="proofgraph-synth-worker")
        self.proc.start()
        child.close()
        self.queue: deque[tuple[int, str, dict[str, Any]]] = deque()
        self.started = 0.0  # when the oldest queued item started running

    def send(self, seq: int, key: str, payload: dict[str, Any]) -> None:
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append((seq, key, payload))
        self.conn.send((key, payload))

    def kill(self) -> None:
        """SIGKILL the worker's process group (its children too) and reap it."""
        if self.proc.pid is not None and self.proc.is_alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not within a second."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(1)
        self.kill()


class LocalPool:
    """Runs a task's items on ``opts.workers`` local processes; see the module docstring."""

    def __init__(self, task: SynthTask, opts: PoolOptions) -> None:
        try:
            pickle.dumps(task)
        except Exception as err:
            raise ValueError(f"task {task.name!r} is not picklable: {err}") from err
        self.task = task
        self.opts = opts
        self.ctx = mp.get_context(opts.start_method)
        self.pids: list[int] = []

    def _spawn(self) -> _Worker:
        worker = _Worker(self.ctx, self.task, self.opts)
        if worker.proc.pid is not None:
            self.pids.append(worker.proc.pid)
        return worker

    def run(self, items: Iterable[tuple[int, str, dict[str, Any]]]) -> Iterator[Done]:
        """Yield a :class:`Done` per item as items finish (any order); closing the generator
        stops every worker. Items a lost worker had queued but not started go to another."""
        source = iter(items)
        retry: deque[tuple[int, str, dict[str, Any]]] = deque()
        workers = [self._spawn() for _ in range(self.opts.workers)]
        exhausted = False
        try:
            while True:
                for index, worker in enumerate(workers):
                    while len(worker.queue) < self.opts.prefetch and (retry or not exhausted):
                        nxt = retry.popleft() if retry else next(source, None)
                        if nxt is None:
                            exhausted = True
                            break
                        if not worker.proc.is_alive() and not worker.queue:
                            worker.kill()
                            worker = workers[index] = self._spawn()
                        worker.send(*nxt)
                busy = [w for w in workers if w.queue]
                if not busy:
                    return
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                             timeout=self._wait_s(busy))
                for worker in busy:
                    yield from self._collect(worker, ready, retry)
                    if not worker.queue and (not worker.proc.is_alive() or worker.conn.closed):
                        workers[workers.index(worker)] = self._spawn()
        finally:
            for worker in workers:
                if not worker.queue:
                    worker.stop()
                else:
                    worker.kill()

    def _wait_s(self, busy: list[_Worker]) -> float:
        if self.opts.item_timeout_s is None:
            return 5.0
        now = time.monotonic()
        left = min(w.started + self.opts.item_timeout_s - now for w in busy)
        return max(0.0, min(left, 5.0))

    def _collect(self, worker: _Worker, ready: list[Any],
                 retry: deque[tuple[int, str, dict[str, Any]]]) -> Iterator[Done]:
        """The worker's finished items; on death or timeout its running item fails and the
        items queued behind it go to ``retry``."""
        while worker.queue and not worker.conn.closed and (worker.conn in ready
                                                           or worker.conn.poll()):
            seq, key, _ = worker.queue[0]
            try:
                got_key, output, detail = worker.conn.recv()
            except (EOFError, OSError):
                yield self._lost(worker, seq, key, retry)
                return
            worker.queue.popleft()
            worker.started = time.monotonic()
            if got_key != key:  # results come back in send order; never mis-file rows
                raise RuntimeError(f"worker answered item {got_key!r} for {key!r}")
            yield Done(seq, key, output, detail)
            ready = []
        if not worker.queue:
            return
        seq, key, _ = worker.queue[0]
        if worker.proc.sentinel in ready or not worker.proc.is_alive():
            yield self._lost(worker, seq, key, retry)
            return
        timeout = self.opts.item_timeout_s
        if timeout is not None and time.monotonic() - worker.started >= timeout:
            worker.kill()
            worker.queue.popleft()
            retry.extend(worker.queue)
            worker.queue.clear()
            yield Done(seq, key, TaskOutput([], ok=False, reason="timeout"),
                       f"killed after {timeout:g} s")

    @staticmethod
    def _lost(worker: _Worker, seq: int, key: str,
              retry: deque[tuple[int, str, dict[str, Any]]]) -> Done:
        worker.proc.join(5)
        code = worker.proc.exitcode
        worker.kill()
        worker.queue.popleft()
        retry.extend(worker.queue)
        worker.queue.clear()
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return Done(seq, key, TaskOutput([], ok=False, reason="worker-died"),
                    f"worker process ended ({how}) while running the item")
