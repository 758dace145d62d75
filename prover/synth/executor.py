"""The one local worker pool: worker processes that run an item function, one item at a time.

The job runner runs its batches on it, synth's included (through
:class:`prover.records.executors.PoolExecutor`, which sends a batch as one item); no other
module starts ``prover.synth.worker`` processes. The interface shared with
:class:`prover.synth.ray_exec.RayPool`: ``Pool(fn, PoolOptions).run(items, tick_s=None)`` where
``fn(key, payload) -> (output, diagnostic)`` is picklable (``output`` is the caller's: a
:class:`TaskOutput` for synth, a list of outcomes for the runner; the pool's own failures are
always a failed :class:`TaskOutput`) and ``items`` yields ``(seq, key, payload)``; ``run`` yields a
:class:`Done` per item as items finish (any order) and, with ``tick_s``, None whenever
``tick_s`` seconds pass without one (so the caller can act on time, e.g. commit a group).
Closing the generator stops every worker. Only the caller writes; workers compute.

Workers are forked from a warm fork server (:mod:`prover.synth.forkserver`: the task's modules
are imported once, not once per worker), else (no pidfds, or the server is gone) fresh
``python -m prover.synth.worker`` interpreters; never ``multiprocessing``'s spawn, which
re-runs the caller's ``__main__``. At most ``prefetch`` items are queued per worker
(backpressure: items are read from the iterator only when a worker's queue has room; a queued
second item keeps the worker busy while the writer commits). Every worker leads its own process
group, has ``RLIMIT_AS`` set (a ``MemoryError`` fails the item with reason ``memory``), dies
with the parent (Linux ``PR_SET_PDEATHSIG`` = SIGKILL, and a parent-pid watchdog elsewhere), and
is killed with its group when an item exceeds the per-item timeout (the item fails with reason
``timeout``, a fresh worker takes its place). Executor failures (``timeout``, ``worker-died``)
have kind ``infra``. Workers (and their fork server) can be started ahead of their pool
(:func:`prestarted`: start-up overlaps the caller's set-up); a pool stops its idle workers at
once, with one shared grace period, and a worker exits without the interpreter's teardown.

Death blame is one policy for both pools (:func:`blame_death`, :data:`DEATHS_TO_BLAME`): an
item is failed with ``worker-died`` once its worker died under it ``DEATHS_TO_BLAME`` times while
running it alone; before that it is run again on a fresh worker. Items queued behind it (local)
are never blamed. On Ray a finished call's reply can be lost with its actor, so a death with other
calls queued on the actor, or in a call of several items, blames nobody: each of those items
re-runs alone on an actor (nothing queued behind it), and only deaths there count.
"""

from __future__ import annotations

import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple

from prover.synth import forkserver
from prover.synth.forkserver import ForkServer, ForkServerError, worker_env
from prover.synth.task import TaskOutput

ItemFn = Callable[[str, Any], tuple[Any, str | None]]
Item = tuple[int, str, Any]
STARTUP_S = 300.0  # longest a worker may take to start before its first item times out
DEATHS_TO_BLAME = 2
"""Deaths of its worker, while running an item alone, after which that item fails with
``worker-died`` (kind ``infra``, so a resumed run tries it again). Two, not one: a worker can
die of something else (the kernel's OOM killer choosing it for another process's memory, a Ray
actor lost under load: seen on a loaded 2-core machine, where an innocent item's actor died
once), and a second death on a fresh worker costs one start-up."""


def blame_death(deaths: dict[str, int], key: str) -> bool:
    """Count one death of the worker running item ``key`` alone; True when the item is to
    blame (fail it with ``worker-died``), False when it gets another worker."""
    deaths[key] = deaths.get(key, 0) + 1
    return deaths[key] >= DEATHS_TO_BLAME


class Done(NamedTuple):
    """One finished item: its input position, key, output and a diagnostic (traceback) if any."""

    seq: int
    key: str
    output: Any  # the item function's output, or a failed TaskOutput (timeout, worker died)
    detail: str | None = None


@dataclass(frozen=True)
class PoolOptions:
    """Worker count, memory cap per worker (GiB; 0 = none) and per-item timeout (s; None)."""

    workers: int = 1
    mem_gb: float = 8.0
    item_timeout_s: float | None = 600.0
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


def picklable(fn: Any) -> bytes:
    """``fn`` pickled for a worker; a clear error when it cannot be. Workers never import the
    caller's ``__main__``, so a task class defined there is pickled by value (cloudpickle,
    which comes with Ray) or refused with a clear message."""
    try:
        if "__main__" in (type(fn).__module__, type(getattr(fn, "task", None)).__module__):
            try:
                import cloudpickle
            except ImportError:
                raise ValueError("a task class defined in the __main__ script cannot run in "
                                 "worker processes; define it in a module (or install "
                                 "cloudpickle)") from None
            return bytes(cloudpickle.dumps(fn))
        return pickle.dumps(fn)
    except ValueError:
        raise
    except Exception as err:
        raise ValueError(f"the item function is not picklable: {err}") from err


class _Worker:
    """One worker process, its socket, and the items sent to it, oldest (running) first.
    Without ``blob`` (a worker started ahead, see :func:`prestarted`) it imports ``modules``
    until :meth:`give` sends the item function. With ``server`` it is forked from that warm
    fork server (which imported the modules already), else (or if the server is gone) it is a
    fresh interpreter."""

    def __init__(self, blob: bytes | None, opts: PoolOptions,
                 modules: Sequence[str] = (), server: ForkServer | None = None) -> None:
        self.proc: subprocess.Popen[bytes] | forkserver.ForkedProc
        parent: socket.socket | None = None
        if server is not None and server.alive():
            try:
                self.proc, parent = server.fork(opts.mem_gb)
                modules = ()  # warmed up in the server
            except ForkServerError:
                parent = None
        if parent is None:
            parent, child = socket.socketpair()
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "prover.synth.worker", str(child.fileno()),
                     str(os.getpid()), repr(opts.mem_gb)],
                    pass_fds=(child.fileno(),), process_group=0, env=worker_env(),
                    stdin=subprocess.DEVNULL)
            finally:
                child.close()
        self.mem_gb = opts.mem_gb
        self.conn = Connection(parent.detach())
        self.conn.send((list(sys.path), blob, list(modules)))  # into an empty socket buffer
        self.queue: deque[Item] = deque()
        self.started = 0.0  # when the oldest queued item started running
        self.ready = False  # start-up (process, imports) does not count against a timeout
        # Every later message goes out through a thread of its own: a payload larger than the
        # socket's buffer must never block the pool (which would then stop reading results and
        # timing items), neither against a worker busy sending back a large result (a
        # deadlock) nor against a hung one (its kill path).
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, daemon=True,
                                        name="pool-writer")
        self._writer.start()

    def _post(self, message: Any) -> None:
        """Queue ``message`` for the worker, pickled here (an unpicklable payload raises in the
        caller, as a direct send would)."""
        self._outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def _write(self) -> None:
        while True:
            data = self._outbox.get()
            if data is None:
                return
            try:
                self.conn.send_bytes(data)
            except (OSError, ValueError):  # the worker is gone: the collector finds it dead
                return

    def alive(self) -> bool:
        return self.proc.poll() is None

    def give(self, blob: bytes) -> bool:
        """Send a worker started ahead its item function; False if it is gone (then it is
        reaped and must not be used)."""
        if not self.alive():
            self.kill()
            return False
        self._post(blob)
        return True

    def send(self, seq: int, key: str, payload: Any) -> None:
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append((seq, key, payload))
        # if it died since we last looked, the collector finds it dead and blames its running
        # item; this one (queued) goes to another worker
        self._post((key, payload))

    def kill(self) -> None:
        """SIGKILL the worker's process group (its children too) and reap it."""
        if self.alive() and self.proc.pid > 0:
            forkserver.kill_group(self.proc)
        else:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._outbox.put(None)
        self._writer.join(5)  # its send fails now that the worker's end of the socket is gone
        self.conn.close()

    def ask_to_exit(self) -> None:
        """Tell an idle worker to exit (it answers nothing)."""
        self._post(None)


def _stop_all(workers: list[_Worker], grace_s: float = 1.0) -> None:
    """Stop every worker at once: busy ones are killed, idle ones are asked to exit and killed
    if they have not within ``grace_s`` (one shared deadline, not one per worker)."""
    idle = [w for w in workers if not w.queue]
    for worker in workers:
        if worker.queue:
            worker.kill()
    for worker in idle:
        worker.ask_to_exit()
    deadline = time.monotonic() + grace_s
    for worker in idle:
        try:
            worker.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        worker.kill()


_SPARES: list[_Worker] = []
"""Workers started ahead of their pool by :func:`prestarted`, taken by the next pools."""
@contextmanager
def prestarted(count: int, mem_gb: float, modules: Sequence[str] = ()) -> Iterator[None]:
    """Start up to ``count`` workers now (minus those already waiting) so that their start-up
    (interpreter, imports of ``modules`` and their ``warm_up()`` hooks, once in the fork
    server they are forked from) overlaps the caller's own set-up (reading the input, opening
    the store); the next :class:`LocalPool` with the same ``mem_gb`` in this process takes
    them instead of starting its own, and forks any others from the same server. Leaving the
    block stops the ones no pool took, then the server. Outputs do not depend on it: a worker
    started ahead gets the same item function as any other before it runs an item."""
    mine: list[_Worker] = []
    opts = PoolOptions(workers=1, mem_gb=mem_gb)
    server = None
    try:
        wanted = max(0, count - sum(w.mem_gb == mem_gb for w in _SPARES))
        if wanted:
            server = forkserver.start(modules, None)
        for _ in range(wanted):
            worker = _Worker(None, opts, modules, server=forkserver.current())
            mine.append(worker)
            _SPARES.append(worker)
        yield
    finally:
        left = [w for w in mine if w in _SPARES]
        for worker in left:
            _SPARES.remove(worker)
        if any(not getattr(w.proc, "forked", True) for w in left):
            forkserver.stop(server)  # still warming up: stop it without waiting for it
        _stop_all(left)
        forkserver.stop(server)


def _take_spare(mem_gb: float, blob: bytes) -> _Worker | None:
    """A worker started ahead (same memory cap), given ``blob``; None when there is none."""
    while True:
        spare = next((w for w in _SPARES if w.mem_gb == mem_gb), None)
        if spare is None:
            return None
        _SPARES.remove(spare)
        if spare.alive() and spare.give(blob):
            return spare
        spare.kill()


class LocalPool:
    """Runs an item function on ``opts.workers`` local processes; see the module docstring."""

    def __init__(self, fn: ItemFn, opts: PoolOptions) -> None:
        self.blob = picklable(fn)
        self.fn = fn
        self.opts = opts
        self.pids: list[int] = []

    def _spawn(self) -> _Worker:
        worker = (_take_spare(self.opts.mem_gb, self.blob)
                  or _Worker(self.blob, self.opts, server=forkserver.current()))
        self.pids.append(worker.proc.pid)
        return worker

    def run(self, items: Iterable[Item], tick_s: float | None = None) -> Iterator[Done | None]:
        """Yield a :class:`Done` per item as items finish (any order), and None after each
        ``tick_s`` without one; closing the generator stops every worker. Items a lost worker
        had queued but not started go to another."""
        source = iter(items)
        retry: deque[Item] = deque()
        self._deaths: dict[str, int] = {}
        server = None
        if sum(w.mem_gb == self.opts.mem_gb for w in _SPARES) < self.opts.workers:
            server = forkserver.start((), self.blob)
        workers: list[_Worker] = []
        exhausted = False
        try:
            workers += [self._spawn() for _ in range(self.opts.workers)]
            while True:
                for index, worker in enumerate(workers):
                    while len(worker.queue) < self.opts.prefetch and (retry or not exhausted):
                        nxt = retry.popleft() if retry else next(source, None)
                        if nxt is None:
                            exhausted = True
                            break
                        if not worker.alive() and not worker.queue:
                            worker.kill()
                            worker = workers[index] = self._spawn()
                        worker.send(*nxt)
                busy = [w for w in workers if w.queue]
                if not busy:
                    return
                ready = wait([w.conn for w in busy], timeout=self._wait_s(busy, tick_s))
                got = False
                for worker in busy:
                    for done in self._collect(worker, ready, retry):
                        got = True
                        yield done
                    if not worker.queue and (not worker.alive() or worker.conn.closed):
                        workers[workers.index(worker)] = self._spawn()
                if not got and tick_s is not None:
                    yield None
        finally:
            _stop_all(workers)
            forkserver.stop(server)

    def _wait_s(self, busy: list[_Worker], tick_s: float | None) -> float:
        cap = 5.0 if tick_s is None else min(5.0, tick_s)
        if self.opts.item_timeout_s is None:
            return cap
        now = time.monotonic()
        left = min(w.started + (self._limit(w) or 0.0) - now for w in busy)
        return max(0.0, min(left, cap))

    def _limit(self, worker: _Worker) -> float | None:
        """The running item's timeout; longer while the worker is still starting."""
        timeout = self.opts.item_timeout_s
        if timeout is not None and not worker.ready:
            return max(timeout, STARTUP_S)  # a worker that never starts is killed too
        return timeout

    def _collect(self, worker: _Worker, ready: list[Any], retry: deque[Item]) -> Iterator[Done]:
        """The worker's finished items; on death or timeout its running item fails and the
        items queued behind it go to ``retry``."""
        while worker.queue and not worker.conn.closed and (worker.conn in ready
                                                           or worker.conn.poll()):
            seq, key, _ = worker.queue[0]
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                lost = self._lost(worker, retry)
                if lost is not None:
                    yield lost
                return
            if len(message) == 1:  # READY: the first item's clock starts now
                worker.ready, worker.started = True, time.monotonic()
                ready = []
                continue
            got_key, output, detail = message
            worker.queue.popleft()
            worker.started = time.monotonic()
            if got_key != key:  # results come back in send order; never mis-file rows
                raise RuntimeError(f"worker answered item {got_key!r} for {key!r}")
            yield Done(seq, key, output, detail)
            ready = []
        if not worker.queue:
            return
        seq, key, _ = worker.queue[0]
        if not worker.alive():
            lost = self._lost(worker, retry)
            if lost is not None:
                yield lost
            return
        timeout = self._limit(worker)
        if timeout is not None and time.monotonic() - worker.started >= timeout:
            worker.kill()
            worker.queue.popleft()
            retry.extend(worker.queue)
            worker.queue.clear()
            yield Done(seq, key, TaskOutput([], ok=False, reason="timeout", kind="infra"),
                       f"killed after {timeout:g} s")

    def _lost(self, worker: _Worker, retry: deque[Item]) -> Done | None:
        """The worker died under its running item: the items queued behind it go to
        ``retry``; the running item fails (:func:`blame_death`) or is retried first."""
        try:
            worker.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        code = worker.proc.returncode
        worker.kill()
        running = worker.queue.popleft()
        seq, key, _ = running
        retry.extend(worker.queue)
        worker.queue.clear()
        if not blame_death(self._deaths, key):
            retry.appendleft(running)  # another worker runs it before anything else
            return None
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return Done(seq, key, TaskOutput([], ok=False, reason="worker-died", kind="infra"),
                    f"the worker process ended ({how}) while running the item")
