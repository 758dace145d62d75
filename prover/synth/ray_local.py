"""Leftovers of a local Ray cluster whose driver was killed: record it, reap it on the next start.

When the driver of a local cluster (``ray.init()`` without an address) is SIGKILLed, Ray's
agents (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``, idle workers) outlive it. While
such a cluster runs, :func:`record_cluster` keeps ``OUT/.ray-local.json`` (synth; a runner
job keeps ``.<file name>.ray-local.json`` beside its ``--out`` or ``--store``): the driver's pid and
start time, the node id and the session folder. :func:`reap_leftovers`, called before the next
local cluster of the same output folder starts, SIGKILLs the processes of this user that belong
to that recorded cluster (the node id in their environment, the session folder on their command
line or among their open files), but only when the recorded driver is dead; a cluster given by
``--ray-address`` is never recorded, so never touched. Linux only (``/proc``); elsewhere both
are no-ops apart from the record itself. :func:`import_path` and :func:`environ_set` give a
local cluster our import path as its processes' environment (see ``RayPool._init``), and
:func:`own_sigterm_kept` keeps the run's SIGTERM handler across ``ray.init``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RECORD = ".ray-local.json"
_PROC = Path("/proc")
_ROOT = Path(__file__).resolve().parents[2]


def import_path() -> str:
    """The PYTHONPATH that lets a Ray worker on this machine import our code: our packages'
    folder, then the driver's ``sys.path``."""
    paths = [str(_ROOT), *(p for p in sys.path if p and Path(p).is_dir())]
    return os.pathsep.join(dict.fromkeys(paths))


@contextmanager
def environ_set(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` inside the block (what processes started there inherit),
    restored after it."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextmanager
def own_sigterm_kept() -> Iterator[None]:
    """Inside the block ``ray.init`` may run: the SIGTERM handler in place before it is put back
    after it. ``ray.init`` in the main thread replaces the driver's handler with one that calls
    ``sys.exit`` (documented in its docstring), which would bypass a run's own stop: the run
    would end with status 15 mid-call, its store left as ``running``. A SIGTERM that Ray's
    handler turned into ``SystemExit(15)`` inside the block is handed to the handler in place
    before it."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    except SystemExit as exc:
        # SIGTERM while the block ran, turned into SystemExit(15) by Ray's handler: it goes to
        # the handler in place before (a run's stop raises there) instead
        if exc.code == signal.SIGTERM and callable(before):
            signal.signal(signal.SIGTERM, before)
            before(signal.SIGTERM, None)
        raise
    finally:
        if main and before is not None:
            signal.signal(signal.SIGTERM, before)


def start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (None if gone/unknown)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int, ticks: int | None) -> bool:
    if ticks is None or start_ticks(pid) != ticks:
        return False
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def record_cluster(out: Path, node_id: str, session_dir: str | None, *,
                   name: str = RECORD) -> None:
    """Write the record (``out/name``) of the local cluster this process just started
    (atomically)."""
    data = {"driver_pid": os.getpid(), "driver_start": start_ticks(os.getpid()),
            "node_id": node_id, "session_dir": session_dir}
    path = out / name
    tmp = path.with_name(f"{name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def clear_record(out: Path, *, name: str = RECORD) -> None:
    """Forget the record (the cluster was shut down normally)."""
    (out / name).unlink(missing_ok=True)


def _belongs(pid: int, node_id: str, session: str | None) -> bool:
    base = _PROC / str(pid)
    try:
        if f"RAY_NODE_ID={node_id}".encode() in (base / "environ").read_bytes().split(b"\0"):
            return True
        if session and session.encode() in (base / "cmdline").read_bytes():
            return True
        if session:
            for fd in (base / "fd").iterdir():
                try:
                    if os.readlink(fd).startswith(session + "/"):
                        return True
                except OSError:
                    continue
    except OSError:
        return False
    return False


def reap_leftovers(out: Path, *, wait_s: float = 5.0, name: str = RECORD) -> list[int]:
    """SIGKILL what is left of the cluster recorded in ``out/name`` (see the module
    docstring) and drop the record; the pids killed. Nothing is done while the recorded
    driver lives."""
    path = out / name
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        node_id = str(data["node_id"])
        driver, driver_start = int(data["driver_pid"]), data.get("driver_start")
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return []
    if _alive(driver, driver_start):
        return []  # another live run owns that cluster
    session = data.get("session_dir") or None
    killed: list[int] = []
    if _PROC.is_dir():
        uid, me = os.getuid(), os.getpid()
        for entry in _PROC.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            pid = int(entry.name)
            try:
                if entry.stat().st_uid != uid:
                    continue
            except OSError:
                continue
            if _belongs(pid, node_id, session):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except (ProcessLookupError, PermissionError):
                    pass
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(_alive(p, start_ticks(p)) for p in killed):
        time.sleep(0.05)
    path.unlink(missing_ok=True)
    return killed
