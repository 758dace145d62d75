"""kill -9 in whole-proof mode (``eval --mode whole``, Z3 backend): a run killed mid-way and
rerun does every (theorem, attempt) exactly once, in the output and in the store, and ends with
the same verdicts, proofs, rounds and completions as a run that was never interrupted. The
policy is the deterministic scripted one of tests/whole_kill_driver.py (one answer is wrong
first and repaired in round 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).parent / "whole_kill_driver.py"
DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
IDS = ("abs_nonneg", "gauss_sum", "max_props", "n_n1_even", "sum_mono", "amgm2")
ATTEMPTS = 2


def _bench(tmp: Path) -> Path:
    rows = {json.loads(x)["id"]: x for x in DATA.read_text().splitlines() if x.strip()}
    path = tmp / "bench.jsonl"
    path.write_text("".join(rows[i] + "\n" for i in IDS))
    return path


def _command(bench: Path, out: Path) -> list[str]:
    return [sys.executable, str(DRIVER), "eval", str(bench), "--mode", "whole", "--policy",
            "scripted", "--attempts", str(ATTEMPTS), "--repair-rounds", "1", "--concurrency",
            "1", "--tactic-timeout", "20", "--wall-timeout", "120", "--out", str(out),
            "--json", "--no-progress"]


def _env(pause_s: float) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PROOFGRAPH_TEST_CALL_S": str(pause_s)}


def _rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "attempts.jsonl").read_text().splitlines()
            if x.strip()]


def _view(row: dict[str, Any]) -> tuple[Any, ...]:
    """What must not depend on the kill: verdict, proof, and every round's answer and check."""
    rounds = tuple((r["round"], r["completion"], r["verdict"], r.get("reason"), r["errors"])
                   for r in row["rounds"])
    return (row["theorem"], row["attempt"], row["seed"], row["verdict"], row.get("reason"),
            json.dumps(row.get("proof")), row["stop_reason"], rounds)


@pytest.mark.slow
def test_kill_9_in_whole_mode_then_rerun_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    total = ATTEMPTS * len(IDS)
    expected = {f"{i}:{a}" for i in range(len(IDS)) for a in range(ATTEMPTS)}
    clean = tmp_path / "clean"
    done = subprocess.run(_command(bench, clean), cwd=ROOT, env=_env(0.0), capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = {r["key"]: _view(r) for r in _rows(clean)}
    assert set(reference) == expected
    assert sum(v[3] == "verified" for v in reference.values()) == total  # all proved ...
    assert {len(v[7]) for k, v in reference.items() if k.startswith("1:")} == {2}  # repaired

    out = tmp_path / "killed"
    # one theorem (2 attempts) per committed batch; 1.5 s per model call: killed mid-way
    proc = subprocess.Popen(_command(bench, out), cwd=ROOT, env=_env(1.5),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    lines = out / "attempts.jsonl"
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            if lines.exists() and len(lines.read_text().splitlines()) >= 2 * ATTEMPTS:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    before = [r["key"] for r in _rows(out)]
    assert 2 * ATTEMPTS <= len(before) < total  # killed in the middle
    again = subprocess.run(_command(bench, out), cwd=ROOT, env=_env(0.0), capture_output=True,
                           text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads(again.stdout)
    assert summary["resumed"] is True
    assert summary["attempts_this_session"] == total - len(before)
    rows = _rows(out)
    keys = [r["key"] for r in rows]
    assert sorted(keys) == sorted(expected) and len(keys) == total  # each exactly once
    assert {r["key"]: _view(r) for r in rows} == reference  # the same results
    assert summary["run_id"] == json.loads(done.stdout)["run_id"]
    from prover.records.store import Store

    with Store(out / "eval.sqlite") as store:
        stored = [k for k, _ in store.item_results(summary["run_id"])]
    assert sorted(stored) == sorted(expected)  # the store too: once each
