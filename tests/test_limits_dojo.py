"""Our own bound on a LeanDojo start-up (prover/lean/dojo.py ``enter_bounded``), without Lean.

The Lean side is a real process: a fake ``lake`` script on PATH that ignores SIGTERM/SIGINT/SIGHUP,
starts a child (as ``lake env`` starts ``lean``) and either prints a line every 0.2 s forever
(lean-dojo's pexpect timeout is per line, so it never fires) or stays silent. The Dojo is a
stand-in that does what lean-dojo 4.20.0's ``Dojo.__enter__`` does, in order: take the cache
lock (``fcntl.flock`` on ``<cache>.lock``, as ``filelock`` does on Linux, no timeout), write the
modified file (``NamedTemporaryFile``), spawn ``lake env lean --threads=... FILE`` in its own
session (pexpect: setsid) and read lines with a per-line timeout, raising ``DojoInitError`` on
a per-line timeout without killing what it spawned (lean-dojo calls ``kill_descendants`` only
in ``__exit__``). Checks: the start-up ends with :class:`DojoStartupTimeout` and every spawned
process is dead; a start-up blocked on the lock (nothing spawned yet) is abandoned and what it
spawns later is killed; a failed start-up's processes are killed too.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import pytest

from prover.lean.dojo import DojoStartupTimeout, LeanDojoEnv, enter_bounded
from prover.proving import classify_failure
from prover.records.verdicts import UnknownReason

CHATTY = "while true; do echo 'elaborating...'; sleep 0.2; done"
SILENT = "while true; do sleep 0.2; done"


def fake_lake(tmp_path: Path, body: str) -> Path:
    """A ``lake`` that cannot be stopped politely; it writes its pid and its child's pid."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "lake"
    script.write_text(f"""#!/bin/sh
trap '' TERM INT HUP
sleep 1000 &
echo "$$ $!" > "{tmp_path / 'pids'}"
{body}
""", encoding="utf-8")
    script.chmod(0o755)
    return bin_dir


class DojoInitError(Exception):
    pass


class StandInDojo:
    """lean-dojo 4.20.0's ``Dojo.__enter__`` start-up steps (see the module docstring)."""

    lock_path: Path

    def __init__(self, theorem: Any, timeout: int = 600, additional_imports: Any = ()) -> None:
        self.theorem, self.timeout = theorem, timeout

    def __enter__(self) -> tuple[StandInDojo, str]:
        with open(self.lock_path, "a") as lock:  # get_traced_repo_path -> cache.get
            fcntl.flock(lock, fcntl.LOCK_EX)
            fcntl.flock(lock, fcntl.LOCK_UN)
        self.modified_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - as lean-dojo
            "wt", suffix=".lean", dir=self.lock_path.parent, delete=True).__enter__()
        self.proc = subprocess.Popen(
            ["lake", "env", "lean", "--threads=1", self.modified_file.name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        assert self.proc.stdout is not None
        while True:  # _read_next_line: a fresh timeout per line
            ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
            if not ready:
                raise DojoInitError("Timeout during initialization")
            line = self.proc.stdout.readline()
            if not line:
                raise DojoInitError("Unexpected EOF")
            if line.startswith(b"REPL>"):
                return self, "initial state"

    def __exit__(self, *exc: object) -> None:
        raise AssertionError("not reached: the start-up never finishes")


def stand_in(tmp_path: Path) -> types.ModuleType:
    module = types.ModuleType("lean_dojo")
    StandInDojo.lock_path = tmp_path / "cache.lock"
    module.Dojo = StandInDojo  # type: ignore[attr-defined]
    module.is_available_in_cache = lambda repo: True  # type: ignore[attr-defined]
    return module


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _spawned(tmp_path: Path, wait_s: float = 30.0) -> list[int]:
    pids = tmp_path / "pids"
    deadline = time.monotonic() + wait_s
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the fake lake never started"
        time.sleep(0.05)
    return [int(p) for p in pids.read_text().split()]


def _all_dead(pids: list[int], wait_s: float = 30.0) -> bool:
    deadline = time.monotonic() + wait_s  # SIGKILL is asynchronous: wait for the kernel
    while not all(_dead(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> Any:
    def put(bin_dir: Path) -> None:
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return put


def test_a_lean_that_keeps_printing_is_stopped_and_killed(tmp_path: Path, on_path: Any) -> None:
    on_path(fake_lake(tmp_path, CHATTY))
    env = LeanDojoEnv("thm", timeout_s=5, startup_timeout_s=2, lean_dojo=stand_in(tmp_path))
    with pytest.raises(DojoStartupTimeout, match="did not start within 2 s") as caught:
        env.initial_state()
    assert classify_failure(caught.value) == (UnknownReason.TIMEOUT, "timeout")
    assert _all_dead(_spawned(tmp_path))  # lake and its child, though they ignore SIGTERM
    assert env._ctx is None  # nothing half-open is kept


def test_a_start_up_blocked_on_the_cache_lock_is_abandoned_and_reaped(tmp_path: Path,
                                                                      on_path: Any) -> None:
    on_path(fake_lake(tmp_path, CHATTY))
    module = stand_in(tmp_path)
    with open(tmp_path / "cache.lock", "a") as held:  # a trace in another process holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        env = LeanDojoEnv("thm", startup_timeout_s=1, lean_dojo=module)
        with pytest.raises(DojoStartupTimeout):
            env.initial_state()
        assert not (tmp_path / "pids").exists()  # nothing spawned while the lock is held
    # the lock is free: the abandoned start-up goes on and spawns; the reaper kills it
    assert _all_dead(_spawned(tmp_path))


def test_a_failed_start_up_does_not_leave_lean_running(tmp_path: Path, on_path: Any) -> None:
    on_path(fake_lake(tmp_path, SILENT))
    StandInDojo.lock_path = tmp_path / "cache.lock"
    dojo = StandInDojo("thm", timeout=1)  # lean-dojo's own per-line timeout fires first
    with pytest.raises(DojoInitError, match="Timeout during initialization"):
        enter_bounded(dojo, 60.0)
    assert _all_dead(_spawned(tmp_path))
    assert not Path(dojo.modified_file.name).exists()  # its temporary file is gone too
