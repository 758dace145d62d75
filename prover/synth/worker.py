"""The local pool's worker process: ``python -m prover.synth.worker FD PARENT_PID MEM_GB``, or
the same protocol (:func:`run`) in a child forked by the pool's fork server
(``python -m prover.synth.worker --fork-server FD PARENT_PID``, :mod:`prover.synth.forkserver`).

Workers are started through this module entry point (not ``multiprocessing``'s spawn), so they
never import or re-run the caller's ``__main__`` (a plain script calling ``synth()`` without an
``if __name__ == "__main__"`` guard runs once, on every platform). The parent sends its
``sys.path``, the pickled item function and a list of modules over the socket ``FD`` (a worker
started ahead of its pool, :func:`prover.synth.executor.prestarted`, gets no function at first:
it imports and warms those modules, :func:`warm_up`, then waits for the function); the
worker answers :data:`READY` once loaded, then each ``(key, payload)`` with
``(key, output, diagnostic)`` until it receives None or EOF, and then exits at once
(:func:`quick_exit`).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import resource
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1
READY = ("ready",)  # the worker's first message (results are 3-tuples)


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


def serve(conn: Connection, fn: Any) -> None:
    """Answer ``(key, payload)`` messages with ``(key, output, diagnostic)`` until None/EOF."""
    from prover.synth.task import TaskOutput

    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        key, payload = message
        output, detail = fn(key, payload)
        try:
            conn.send((key, output, detail))
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            conn.send((key, TaskOutput([], ok=False, reason="exception: unpicklable output",
                                       kind="content"), str(err)))


def warm_up(modules: list[str]) -> None:
    """Import ``modules`` and call each one's ``warm_up()`` if it has one (a task module's
    hook that loads what its first item would load lazily). Best effort: a failure here is
    ignored, and loading the item function or running the item reports it properly."""
    import importlib

    for name in modules:
        try:
            hook = getattr(importlib.import_module(name), "warm_up", None)
            if callable(hook):
                hook()
        except Exception:  # noqa: BLE001 - best effort, see the docstring
            continue


def main(argv: list[str]) -> None:
    """``FD PARENT_PID MEM_GB``: a worker (:func:`run`); ``--fork-server FD PARENT_PID``: the
    pool's fork server (:func:`prover.synth.forkserver.serve`), whose workers run :func:`run`
    in a forked child."""
    if argv[0] == "--fork-server":
        from prover.synth.forkserver import serve

        serve(int(argv[1]), int(argv[2]))
        quick_exit()
    run(int(argv[0]), int(argv[1]), float(argv[2]))


def run(fd: int, parent_pid: int, mem_gb: float) -> None:
    """Set the process up (die with the parent, memory cap; its own group is set by whoever
    started it), load the item function the parent sends over ``fd``, and serve items; exits
    the process at the end."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    conn = Connection(fd)
    limit_memory(mem_gb)
    try:
        parent_path, blob, modules = conn.recv()
        sys.path[:] = list(dict.fromkeys([*sys.path, *parent_path]))
        if blob is None:  # started ahead of its pool: load the task's modules while waiting
            warm_up(modules)
            blob = conn.recv()
    except EOFError:
        return
    if blob is None:  # a worker started ahead that no pool took
        quick_exit()
    fn = pickle.loads(blob)
    conn.send(READY)  # start-up is over: the parent starts the first item's clock now
    serve(conn, fn)
    quick_exit()


def quick_exit() -> None:
    """Exit now: run the ``atexit`` handlers (e.g. ones that stop helper processes), flush the
    standard streams, and skip the interpreter's module teardown, which took 0.4 s (idle) to
    over 1 s (loaded) with Z3, pint and numpy loaded and made a pool's shutdown wait for it."""
    import atexit

    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
