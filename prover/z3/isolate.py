"""Z3 in a worker process with a kill path: the hard guard for calls Z3 does not interrupt.

Z3 5.4 ignores ``Context.interrupt()`` (and its own timeout) inside some calls: the
``ctx-solver-simplify`` tactic on a non-terminating ``define-fun-rec`` (``Z3_tactic_apply``
ran 10+ minutes and grew to 3.6 GB) and a solver check with ``a^(1001/4002 - 1)`` (336 s under
a 2 s timeout). Such calls run here: a persistent worker (``python -m prover.z3.isolate``)
reads one JSON request per line and answers one JSON line; the parent waits at most the
call's wall deadline and then kills the worker (SIGKILL) and starts a fresh one on the next
call. Each worker caps its address space (``RLIMIT_AS``) and Z3's ``memory_max_size``, and dies
with its parent (``PR_SET_PDEATHSIG`` and a parent-watch thread), so kill -9 of a run leaves no
Z3 process behind.

Workers are forked from one long-lived thread (:func:`spawn`): ``PR_SET_PDEATHSIG`` fires when
the forking *thread* exits, and the search and check pools' threads are short-lived. A worker
that dies without answering is replaced and the request sent once more (:func:`call`).

After a kill a replacement worker is started at once and left to start up while the caller
goes on (it is one of this process's workers from then on: same limits, same kill path), so
the next call does not wait for a whole start-up.

Requests name a handler from :data:`HANDLERS` (never an arbitrary import): ``solve`` (an
SMT-LIB benchmark, assumption names, terms to evaluate; see :mod:`prover.z3.isolated`),
``theorem`` (a step of the Z3 prover, see :func:`prover.z3.env.serve`) and ``decide``.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HANDLERS = {"solve": "prover.z3.isolated:serve_solve", "theorem": "prover.z3.tactics:serve",
            "decide": "prover.z3.decide:serve"}
STARTUP_S = 60.0
_ROOT = str(Path(__file__).resolve().parents[2])
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkerError(RuntimeError):
    """The worker could not be started or answered nonsense."""


_SPAWNER: ThreadPoolExecutor | None = None
_SPAWN_LOCK = threading.Lock()


def spawn(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(argv, **kwargs)`` from a thread that lives as long as the process.
    A worker arms ``PR_SET_PDEATHSIG``, which Linux fires when the *thread* that forked it
    exits: a worker started from a short-lived pool thread (a search or check pool) was killed
    when that pool shut down, and the next call that took it from the idle list got no answer
    (read as a timeout). Calls from the main thread fork directly."""
    global _SPAWNER
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(argv, **kwargs)
    with _SPAWN_LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="worker-spawner")
        spawner = _SPAWNER
    return spawner.submit(subprocess.Popen, argv, **kwargs).result()


class Worker:
    """One worker process; ``request`` returns its answer, or None when it was killed at the
    deadline or died (then the worker is gone and must be replaced)."""

    def __init__(self, memory_mb: int, startup_s: float = STARTUP_S, wait: bool = True) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        self.memory_mb = memory_mb
        self.proc = spawn(
            [sys.executable, "-m", "prover.z3.isolate", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=_ROOT, close_fds=True)
        self._buffer = b""
        self.ready = False
        self.died = False  # the last read ended because the process closed its output
        if wait:
            self.wait_ready(startup_s)

    def wait_ready(self, startup_s: float = STARTUP_S) -> None:
        """Wait (at most ``startup_s``) until the worker says it is ready; a worker that does
        not is killed (:class:`WorkerError`)."""
        if self.ready:
            return
        ready = self._read_line(startup_s)
        try:
            ok = ready is not None and json.loads(ready).get("ready") is True
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            self.kill()
            raise WorkerError(f"the Z3 worker process did not start within {startup_s:.3g} s")
        self.ready = True

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + system) the worker used so far; None where /proc cannot say."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError):
            return None

    def _read_line(self, wait_s: float, cpu_s: float | None = None) -> bytes | None:
        """The next line; None after ``wait_s`` wall seconds, or once the worker has used
        ``cpu_s`` more CPU seconds (looked at every 50 ms), or when it died."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + wait_s
        cpu0 = None if cpu_s is None else self.cpu_seconds()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if cpu0 is not None and cpu_s is not None:
                used = self.cpu_seconds()
                if used is not None and used - cpu0 >= cpu_s:
                    return None
                left = min(left, 0.05)
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the worker died
                self.died = True
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, payload: dict[str, Any], wall_s: float,
                cpu_s: float | None = None) -> dict[str, Any] | None:
        """Send one request; the answer, or None (killed at ``wall_s``, or after ``cpu_s`` CPU
        seconds of the worker, or died: then :attr:`died` is set)."""
        assert self.proc.stdin is not None
        self.died = False
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.died = True
            self.kill()
            return None
        line = self._read_line(wall_s, cpu_s)
        if line is None:
            self.kill()
            return None
        answer = json.loads(line)
        if not isinstance(answer, dict):
            self.kill()
            raise WorkerError("the Z3 worker answered nonsense")
        return answer

    def kill(self) -> None:
        """Kill the process (SIGKILL) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kernel problem
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a request still buffered for a process that is gone
                    pass


_IDLE: dict[int, list[Worker]] = {}
_LOCK = threading.Lock()
_ALL: list[Worker] = []


def _take(memory_mb: int, startup_s: float = STARTUP_S) -> Worker:
    """An idle worker (a replacement still starting is waited for, at most ``startup_s``), or
    a new one."""
    while True:
        with _LOCK:
            idle = _IDLE.setdefault(memory_mb, [])
            worker = idle.pop() if idle else None
        if worker is None:
            break
        if not worker.alive:
            _forget(worker)
            continue
        try:
            worker.wait_ready(startup_s)
        except WorkerError:
            _forget(worker)
            raise
        return worker
    worker = Worker(memory_mb, startup_s)
    with _LOCK:
        _ALL.append(worker)
    return worker


def _forget(worker: Worker) -> None:
    worker.kill()
    with _LOCK:
        if worker in _ALL:
            _ALL.remove(worker)


def _replace(memory_mb: int) -> None:
    """Start a replacement for a killed worker without waiting for it (see the module docs);
    nothing when one is idle already or the process cannot be started."""
    with _LOCK:
        if _IDLE.get(memory_mb):
            return
    try:
        worker = Worker(memory_mb, wait=False)
    except OSError:
        return
    with _LOCK:
        _ALL.append(worker)
        _IDLE.setdefault(memory_mb, []).append(worker)


def _give(worker: Worker) -> None:
    with _LOCK:
        if worker.alive:
            _IDLE.setdefault(worker.memory_mb, []).append(worker)
        elif worker in _ALL:
            _ALL.remove(worker)


@atexit.register
def shutdown() -> None:
    """Kill every worker this process started."""
    with _LOCK:
        workers, _ALL[:] = list(_ALL), []
        _IDLE.clear()
    for worker in workers:
        worker.kill()


def call(handler: str, payload: dict[str, Any], wall_s: float, memory_mb: int,
         kill_at: float | None = None,
         cpu_s: float | None = None) -> tuple[dict[str, Any] | None, float]:
    """Run ``handler`` on ``payload`` in a worker; (answer or None if killed/died, seconds).
    ``wall_s`` bounds the request; starting a worker (first use, or after a kill) is not
    charged to it, unless ``kill_at`` (a :func:`time.monotonic` instant, e.g. a row's deadline
    plus its kill margin) is given: then the start-up and the request both end by that instant,
    and a start-up that cannot is reported as killed (None). A worker that dies without
    answering (not killed at a limit) is replaced and the request sent once more, within what
    is left of the first request's ``wall_s``."""
    if handler not in HANDLERS:
        raise ValueError(f"unknown worker handler {handler!r}")
    start = time.perf_counter()
    request = {"handler": handler, "payload": payload}
    answer: dict[str, Any] | None = None
    window_end: float | None = None  # the first request's wall limit: a retry stays inside it
    for _ in range(2):
        if kill_at is None:
            worker = _take(memory_mb)
        else:
            try:
                worker = _take(memory_mb, max(0.01, kill_at - time.monotonic()))
            except WorkerError:
                return None, time.perf_counter() - start
            wall_s = max(0.0, min(wall_s, kill_at - time.monotonic()))
        if window_end is None:
            window_end = time.monotonic() + wall_s
        else:
            wall_s = max(0.0, min(wall_s, window_end - time.monotonic()))
        try:
            answer = worker.request(request, wall_s, cpu_s)
        finally:
            _give(worker)
        if answer is not None or not worker.died or window_end <= time.monotonic():
            break
    if answer is None:
        _replace(memory_mb)
    return answer, time.perf_counter() - start


# --------------------------------------------------------------------------- worker main
def _handler(name: str) -> Any:
    module, _, attr = HANDLERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _die_with_parent() -> None:
    """A worker never outlives its parent (kill -9 of the run included): Linux's
    PR_SET_PDEATHSIG where available, and a thread that exits when the parent changes."""
    parent = os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(4)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def harden_worker(memory_mb: int) -> None:
    """Make this process a bounded worker: Z3's ``memory_max_size`` is ``memory_mb``, the
    address space is capped at ``memory_mb`` + 768 MB (``RLIMIT_AS``: Python, Z3's code and
    its allocations), and the process dies with its parent (:func:`_die_with_parent`). Also
    used by the formalize check worker (:mod:`formalizer.autoformalize.isolation`)."""
    import resource

    from prover.z3 import gateway

    gateway.configure_memory(memory_mb)
    cap = (memory_mb + 768) * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):  # pragma: no cover - a platform without RLIMIT_AS
        pass
    _die_with_parent()


def main(argv: Sequence[str]) -> int:
    """The worker loop: cap memory, say ready, answer requests until stdin closes."""
    from prover.z3 import gateway

    gateway.IN_WORKER = True
    harden_worker(int(argv[0]) if argv else 2048)
    sys.setrecursionlimit(10_000)
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            answer = _handler(request["handler"])(request["payload"])
        except MemoryError:
            return 3
        except Exception as exc:  # one bad request is that request's error
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
