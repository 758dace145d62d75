"""The local pool's fork server (:mod:`prover.synth.forkserver`): forked workers keep the kill
path of a fresh worker (own process group, memory cap, a fresh worker after a kill), and a fork
server that dies does not lose items (they run again on fresh worker interpreters)."""

from __future__ import annotations

import os
import resource
import signal
import time
from typing import Any

import pytest

from prover.synth import executor, forkserver
from prover.synth.executor import LocalPool, PoolOptions

pytestmark = pytest.mark.skipif(not forkserver.available(), reason="no pidfd (not Linux)")


def probe(key: str, payload: Any) -> tuple[dict[str, Any], None]:
    """What the worker that runs the item looks like; ``payload`` seconds of sleep first."""
    time.sleep(float(payload))
    return {"pid": os.getpid(), "pgid": os.getpgid(0), "ppid": os.getppid(),
            "as": resource.getrlimit(resource.RLIMIT_AS)[0]}, None


def _run(pool: LocalPool, payloads: list[float]) -> dict[str, Any]:
    items = ((seq, f"k{seq}", p) for seq, p in enumerate(payloads))
    return {d.key: d.output for d in pool.run(items) if d is not None}


def test_forked_workers_lead_their_group_and_have_the_memory_cap() -> None:
    with executor.prestarted(2, 1.5):
        server = forkserver.current()
        assert server is not None
        pool = LocalPool(probe, PoolOptions(workers=2, mem_gb=1.5))
        got = _run(pool, [0.05] * 6)
    seen = {out["pid"]: out for out in got.values()}
    assert set(seen) == set(pool.pids) and len(seen) == 2
    for pid, out in seen.items():
        assert out["pgid"] == pid  # killpg reaches the worker and whatever it started
        assert out["ppid"] == server.proc.pid  # forked from the warm server
        assert out["as"] == int(1.5 * (1 << 30))
    assert server.proc.returncode is not None  # stopped with the block


def test_a_timed_out_forked_worker_is_killed_and_replaced() -> None:
    pool = LocalPool(probe, PoolOptions(workers=1, mem_gb=1.0, item_timeout_s=1.0))
    got = _run(pool, [0.0, 30.0, 0.0])
    assert got["k1"].reason == "timeout"
    assert got["k0"]["pid"] != got["k2"]["pid"]  # a fresh worker after the kill
    assert len(pool.pids) == 2
    for pid in pool.pids:  # both gone: killed or stopped, and reaped
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_items_survive_the_fork_server_dying() -> None:
    pool = LocalPool(probe, PoolOptions(workers=2, mem_gb=1.0, item_timeout_s=60))
    items = ((seq, f"k{seq}", 1.0 if seq < 2 else 0.0) for seq in range(6))
    got: dict[str, Any] = {}
    for done in pool.run(items):
        if done is None:
            continue
        got[done.key] = done.output
        server = forkserver.current()
        if server is not None:  # after the first result: its workers die with it
            os.killpg(server.proc.pid, signal.SIGKILL)
    assert set(got) == {f"k{i}" for i in range(6)}
    assert all(isinstance(out, dict) for out in got.values()), got  # none blamed
    assert forkserver.current() is None
