"""Ray on a local 2-CPU cluster gives the same rows as the local pool (as sets of hashes), the
shared policy actor serves every environment actor's searches, and the agents a SIGKILLed
driver leaves behind are reaped by the next start (only those of our recorded cluster)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofgraph.synth_api import synth
from prover.synth import ray_local
from prover.synth.verify import load_rows, verify_output

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402
from synth_helpers import FAST, PROOF_OPTS, fast_theorems  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_ray_rows_equal_local_pool_rows(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    inp = fast_theorems(tmp_path / "thms.jsonl", copies=2, duplicate_lines=1)
    local = synth("proofs", inp, tmp_path / "local", workers=2, shard_rows=25, **PROOF_OPTS)
    on_ray = synth("proofs", inp, tmp_path / "ray", workers=2, ray=True, shard_rows=25,
                   **PROOF_OPTS)
    assert on_ray["executor"] == "ray:2" and local["executor"] == "local:2"
    assert on_ray["run_id"] == local["run_id"]  # same task config, same input
    for key in ("items", "ok", "rows", "rows_by_kind", "duplicates_dropped"):
        assert on_ray[key] == local[key], key
    assert verify_output(tmp_path / "ray")["problems"] == []
    local_rows, ray_rows = load_rows(tmp_path / "local"), load_rows(tmp_path / "ray")
    assert {r["hash"] for r in ray_rows} == {r["hash"] for r in local_rows}
    assert len(ray_rows) == len(local_rows) == local["rows"]


@pytest.mark.slow
def test_shared_policy_actor_serves_the_searches(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    inp = fast_theorems(tmp_path / "thms.jsonl")
    summary = synth("proofs", inp, tmp_path / "out", workers=2, ray=True, shared_policy=True,
                    **PROOF_OPTS)
    assert summary["items"] == len(FAST)
    service = summary["policy_service"]
    assert service["policy_calls"] > 0 and service["states_per_call_max"] >= 1
    rows = load_rows(tmp_path / "out")
    assert rows and all(r["provenance"]["policy"]["served_by"] == "ray-policy-actor"
                        for r in rows)
    assert verify_output(tmp_path / "out")["problems"] == []


def _record(out: Path, driver: int, start: int | None, node: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / ray_local.RECORD).write_text(json.dumps(
        {"driver_pid": driver, "driver_start": start, "node_id": node, "session_dir": None}))


def test_reap_kills_only_the_recorded_clusters_processes(tmp_path: Path) -> None:
    """Processes carrying the recorded node id die; another cluster's survive; nothing is
    touched while the recorded driver is alive."""
    def sleeper(node: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["sleep", "120"], env={**os.environ, "RAY_NODE_ID": node})

    ours, theirs = sleeper("node-ours"), sleeper("node-theirs")
    try:
        me = os.getpid()
        _record(tmp_path, me, ray_local.start_ticks(me), "node-ours")  # a live driver
        assert ray_local.reap_leftovers(tmp_path) == [] and ours.poll() is None
        _record(tmp_path, me, -1, "node-ours")  # a dead driver (pid reused: other start)
        assert ray_local.reap_leftovers(tmp_path) == [ours.pid]
        assert ours.wait(10) == -signal.SIGKILL and theirs.poll() is None
        assert not (tmp_path / ray_local.RECORD).exists()
    finally:
        for proc in (ours, theirs):
            proc.kill()
            proc.wait(10)


@pytest.mark.slow
def test_leftovers_of_a_killed_driver_are_reaped_by_the_next_start(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    inp = fast_theorems(tmp_path / "thms.jsonl", copies=60)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "proofgraph.cli", "synth", "proofs", str(inp), "--out",
               str(out), "--ray", "--workers", "2", "--max-expansions", "4", "--json",
               "--no-progress", "--no-parquet"]
    record = out / ray_local.RECORD
    driver = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not record.exists() and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert record.exists(), "the driver never recorded its local cluster"
        time.sleep(3)  # let the actors start
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
    recorded = json.loads(record.read_text())
    assert recorded["session_dir"]
    time.sleep(3)  # what fate-sharing kills is gone by now
    left = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
            and ray_local._belongs(int(p.name), recorded["node_id"], recorded["session_dir"])]
    assert left, "Ray left nothing behind: the test no longer exercises the cleanup"
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads(again.stdout)
    assert summary["ray_leftovers_killed"] >= len(left) and summary["resumed"]
    assert not [p for p in left if Path(f"/proc/{p}").exists()
                and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]]
    assert not record.exists()  # a normal shutdown forgets the cluster


@pytest.mark.slow
def test_ray_failure_paths_fail_only_the_guilty_item() -> None:
    """On Ray, items run in batches; a batch whose call times out or whose actor dies is re-run
    one item per call, so only the hung or crashing item fails (with an infra kind)."""
    pf.require("ray", "the Ray executor tests need ray")
    from synth_helpers import BehaviourTask

    from prover.synth.executor import PoolOptions
    from prover.synth.item import SynthItem
    from prover.synth.ray_exec import RayPool

    plan = [("ok", 0), ("sleep", 120), ("ok", 0), ("exit", 0), ("ok", 0), ("raise", 0)]
    task = BehaviourTask(plan)
    pool = RayPool(SynthItem(task, {"run_id": "t"}),
                   PoolOptions(workers=2, item_timeout_s=4.0), batch=3)
    items = ((seq, key, payload) for seq, (key, payload) in enumerate(task.items()))
    got = {d.key: (d.output.ok, d.output.reason, d.output.failure_kind)
           for d in pool.run(items) if d is not None}
    assert got == {"0:ok": (True, None, None), "1:sleep": (False, "timeout", "infra"),
                   "2:ok": (True, None, None), "3:exit": (False, "worker-died", "infra"),
                   "4:ok": (True, None, None),
                   "5:raise": (False, "exception: ZeroDivisionError", "content")}
