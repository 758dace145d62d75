"""The local pool's fork server: one warm process that forks the pool's workers.

A fresh worker interpreter spends ~0.7 s of CPU importing and warming the task's modules; with
two workers on two cores that start-up is paid twice while the writer sets up. The fork server
(``python -m prover.synth.worker --fork-server FD PARENT_PID``, so it and its workers carry the
worker's command line) imports and warms the modules once (:func:`prover.synth.worker.warm_up`,
and unpickles the pool's item function once to import what it needs), freezes the garbage
collector's heap (fewer copy-on-write pages), and then forks one worker per request.

The kill path stays the pool's: a forked worker leads its own process group (set by the child
and by the server before the pool learns the pid), caps its own address space
(``RLIMIT_AS``), ignores SIGINT, and dies with the server (``PR_SET_PDEATHSIG``), which dies
with the pool's process; killing the server's group kills every worker it forked. The pool
sees a forked worker through :class:`ForkedProc` (the ``Popen`` calls the pool uses: ``pid``,
``poll``, ``wait``, ``kill``, ``returncode``): exit is watched with a pidfd and the exit status
is read by the server (the worker's parent), which reaps only when asked.

The server refuses to fork while it runs more than one Python thread (a lock held by another
thread would be held forever in the child; native pools such as OpenBLAS's, started by numpy's
import, have their own fork handlers) and a request it cannot answer in time marks it broken
(killed with its group); the pool then starts plain worker interpreters instead
(:func:`available` says whether the platform has pidfds at all). Outputs do not depend on how a
worker was started: each one still loads the item function from the same pickled bytes.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
START_S = 300.0  # longest the server may take to import and warm before its first fork
REPLY_S = 10.0  # longest any other answer of the server may take
THREADS_S = 2.0  # longest a fork waits for the server's other Python threads to end
_MSG = 1 << 18  # largest control message (SOCK_SEQPACKET keeps message boundaries)
_BLOB_MAX = 100_000  # item functions larger than this are not pre-loaded by the server


def kill_group(proc: subprocess.Popen[bytes] | ForkedProc) -> None:
    """SIGKILL the process group ``proc`` leads (its children too; ``proc`` alone when the
    group is gone or not ours) and reap it, waiting at most 5 s."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


class ForkServerError(RuntimeError):
    """The fork server is gone or did not answer: start plain worker interpreters instead."""


def worker_env() -> dict[str, str]:
    """The environment of worker processes: this one, with the project root on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def available() -> bool:
    """Whether this platform can run workers from a fork server (Linux with pidfds)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


# ---- the server process ---------------------------------------------------------------------

def serve(fd: int, parent_pid: int) -> None:
    """The server's loop: warm up as the first message says, then answer ``fork`` and ``wait``
    requests in order until the pool closes the control socket (then exit: the workers it
    forked die with it)."""
    from prover.synth.worker import die_with_parent, warm_up

    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool's process handles Ctrl-C
    ctl = socket.socket(fileno=fd)
    data, fds, _, _ = socket.recv_fds(ctl, _MSG, 1)
    if not data:
        return
    _, _, path, modules, blob = pickle.loads(data)
    sys.path[:] = list(dict.fromkeys([*sys.path, *path]))
    warm_up(modules)
    if blob is not None:
        try:  # imports what the item function needs; the object itself is dropped
            pickle.loads(blob)
        except Exception:  # noqa: BLE001 - each worker loads it again and reports failures
            pass
    gc.collect()
    gc.freeze()
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(ctl, _MSG, 1)
        except OSError:
            return
        if not data:
            return
        kind, seq, arg = pickle.loads(data)
        reply: Any = None
        if kind == "fork":
            reply = _fork(ctl, fds[0], float(arg)) if fds else "no socket was sent"
            fds = fds[1:]
        elif kind == "wait":
            reply = _reap(int(arg))
        for extra in fds:
            os.close(extra)
        try:
            ctl.send(pickle.dumps((seq, reply)))
        except OSError:  # the pool is gone
            return


def _fork(ctl: socket.socket, fd: int, mem_gb: float) -> int | str:
    """Fork a worker serving the socket ``fd``; its pid, or why not (a string)."""
    deadline = time.monotonic() + THREADS_S  # short-lived helper threads (a Z3 context
    while threading.active_count() > 1 and time.monotonic() < deadline:  # made ahead) end
        time.sleep(0.005)
    if threading.active_count() > 1:  # native pools (OpenBLAS's) handle fork themselves
        os.close(fd)
        return "the fork server runs more than one Python thread"
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ctl.close()
            os.setpgid(0, 0)
            from prover.synth.worker import run

            run(fd, server, mem_gb)
            code = 0
        except BaseException:  # noqa: BLE001 - the child must never return into the server
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(fd)
    try:
        os.setpgid(pid, pid)  # also here, so the group exists before the pool knows the pid
    except OSError:
        pass
    return pid


def _reap(pid: int) -> int | str | None:
    """The exit code of worker ``pid`` (negative: killed by that signal), reaping it; None
    while it runs; a string when it is not this server's child (already reaped)."""
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return "not a child"
    return os.waitstatus_to_exitcode(status) if got else None


# ---- the pool's side ------------------------------------------------------------------------

class ForkServer:
    """A running fork server (see the module docstring), started warming ``modules`` and
    pre-loading ``blob`` (a pickled item function, optional)."""

    def __init__(self, modules: Sequence[str] = (), blob: bytes | None = None) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "prover.synth.worker", "--fork-server",
                 str(child.fileno()), str(os.getpid())],
                pass_fds=(child.fileno(),), process_group=0, env=worker_env(),
                stdin=subprocess.DEVNULL)
        finally:
            child.close()
        self.ctl = parent
        self.broken = False
        self._seq = 0
        self._replies: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._request("init", (list(sys.path), list(modules),
                               blob if blob is not None and len(blob) <= _BLOB_MAX else None))

    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    def _request(self, kind: str, arg: Any, fds: Sequence[int] = ()) -> int:
        with self._lock:
            if self.broken:
                raise ForkServerError("the fork server is gone")
            self._seq += 1
            data = pickle.dumps((kind, self._seq, arg) if kind != "init" else
                                (kind, self._seq, *arg))
            try:
                socket.send_fds(self.ctl, [data], list(fds))
            except OSError as err:
                self._break()
                raise ForkServerError(f"the fork server is gone: {err}") from err
            return self._seq

    def _reply(self, seq: int, timeout_s: float) -> Any:
        """The answer to request ``seq`` (answers come in request order)."""
        with self._lock:
            deadline = time.monotonic() + timeout_s
            while seq not in self._replies:
                if self.broken:
                    raise ForkServerError("the fork server is gone")
                ready, _, _ = select.select([self.ctl], [], [],
                                            max(0.0, deadline - time.monotonic()))
                data = self.ctl.recv(_MSG) if ready else b""
                if not data:
                    self._break()
                    raise ForkServerError("the fork server did not answer" if not ready
                                          else "the fork server is gone")
                got, value = pickle.loads(data)
                self._replies[got] = value
            return self._replies.pop(seq)

    def fork(self, mem_gb: float) -> tuple[ForkedProc, socket.socket]:
        """Ask for a worker capped at ``mem_gb`` GiB: its process handle (the pid arrives when
        the server is warm) and the pool's end of its socket."""
        ours, theirs = socket.socketpair()
        try:
            seq = self._request("fork", mem_gb, [theirs.fileno()])
        except ForkServerError:
            ours.close()
            raise
        finally:
            theirs.close()
        return ForkedProc(self, seq), ours

    def _break(self) -> None:
        """Mark the server unusable and kill it (its workers die with it)."""
        self.broken = True
        self.stop()

    def stop(self) -> None:
        """Kill the server's group and reap it; workers it forked die with it."""
        if self.proc.poll() is None:
            kill_group(self.proc)
        self.broken = True
        self.ctl.close()


class ForkedProc:
    """A worker forked by a :class:`ForkServer`, seen through the ``Popen`` calls the pool
    uses. A fork the server refused or never answered is a worker that ended (``returncode``
    -9, ``pid`` 0: nothing to signal)."""

    def __init__(self, server: ForkServer, seq: int) -> None:
        self._server = server
        self._seq = seq
        self._pid: int | None = None
        self._pidfd: int | None = None
        self.returncode: int | None = None
        self.why: str | None = None  # why there is no process, when the fork failed

    @property
    def pid(self) -> int:
        if self._pid is None:
            try:
                got = self._server._reply(self._seq, START_S)
            except ForkServerError as err:
                got = str(err)
            if isinstance(got, int):
                self._pid = got
                try:
                    self._pidfd = os.pidfd_open(got)
                except OSError:  # gone already, and reaped by nobody but the server
                    self._pidfd = None
            else:  # later workers are plain interpreters (the pool sees this one end)
                self._pid, self.returncode, self.why = 0, -signal.SIGKILL, str(got)
                if not self._server.broken:
                    self._server._break()
        return self._pid

    @property
    def forked(self) -> bool:
        """Whether the server has answered the fork (without waiting for it)."""
        return self._pid is not None

    def _exited(self, timeout_s: float) -> bool:
        if self._pidfd is None:
            return True
        ready, _, _ = select.select([self._pidfd], [], [], timeout_s)
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None and self.pid > 0 and self._exited(0.0):
            self._collect()
        return self.returncode

    def _collect(self) -> None:
        try:
            code = self._server._reply(self._server._request("wait", self._pid), REPLY_S)
        except ForkServerError:
            code = "the fork server is gone"
        if code is None:
            return  # exited a moment ago, not reapable yet: the next poll reads it
        self.returncode = code if isinstance(code, int) else -signal.SIGKILL
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("fork-server worker", timeout or 0.0)
            self._exited(0.05 if left is None else min(left, 0.05))
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.pid > 0 and self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_CURRENT: list[ForkServer] = []
"""The fork server the pool forks workers from (at most one per process), while the
:func:`prover.synth.executor.prestarted` block or the pool that started it runs."""


def current() -> ForkServer | None:
    """The running fork server, if any."""
    return _CURRENT[0] if _CURRENT and _CURRENT[0].alive() else None


def start(modules: Sequence[str], blob: bytes | None) -> ForkServer | None:
    """Start the fork server (warming ``modules``, pre-loading ``blob``) unless one runs or
    the platform cannot; the server started, which the caller stops (:func:`stop`)."""
    if current() is not None or not available():
        return None
    for old in _CURRENT:
        old.stop()
    _CURRENT[:] = [ForkServer(modules, blob)]
    return _CURRENT[0]


def stop(server: ForkServer | None) -> None:
    """Stop ``server`` (its workers, all stopped by now, die with it)."""
    if server is not None:
        server.stop()
        if server in _CURRENT:
            _CURRENT.remove(server)
