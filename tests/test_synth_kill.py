"""Kill-and-resume: a real ``proofgraph synth`` subprocess SIGKILLed at several points, then
restarted with the same arguments, ends with every item exactly once, no duplicate rows, and
manifest, shards and store in agreement; its rows equal those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from prover.synth.verify import load_rows, verify_output

sys.path.insert(0, str(Path(__file__).parent))
from synth_helpers import FAST, fast_theorems  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _command(inp: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "proofgraph.cli", "synth", "proofs", str(inp), "--out",
            str(out), "--workers", "2", "--shard-rows", "10", "--max-expansions", "4",
            "--json", "--no-progress"]


def _items(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM items").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _run_until(inp: Path, out: Path, when: Callable[[], bool], limit_s: float = 120) -> bool:
    """Start the job, SIGKILL it as soon as ``when()`` holds; True if it was killed."""
    proc = subprocess.Popen(_command(inp, out), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + limit_s
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if when():
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return True
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return False


@pytest.mark.slow
def test_sigkill_at_several_points_then_resume(tmp_path: Path) -> None:
    inp = fast_theorems(tmp_path / "thms.jsonl", copies=5, duplicate_lines=2)
    total = len(FAST) * 5 + 2
    out = tmp_path / "out"
    db = out / "synth.sqlite"
    started = time.monotonic()
    points: list[tuple[str, Callable[[], bool]]] = [
        ("during start-up", lambda: time.monotonic() - started > 1.0),
        ("after the first commit", lambda: _items(db) >= 1),
        ("after shards were written", lambda: _items(db) >= 12
         and len(list((out / "shards").glob("*.parquet"))) >= 2),
        ("once every item is committed (final shard + manifest)", lambda: _items(db) >= total),
    ]
    killed = []
    for name, when in points:
        started = time.monotonic()
        before = _items(db)
        if _run_until(inp, out, when):
            killed.append(name)
        assert _items(db) >= before  # nothing committed is ever lost
    assert len(killed) >= 3, killed
    final = subprocess.run(_command(inp, out), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["items"] == total and summary["ok"] == total and summary["resumed"]
    report = verify_output(out)
    assert report["problems"] == [] and report["status"] == "complete"
    with sqlite3.connect(db) as con:
        keys = [k for (k,) in con.execute("SELECT item_key FROM items")]
    assert len(keys) == len(set(keys)) == total

    reference = tmp_path / "reference"
    clean = subprocess.run(_command(inp, reference), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert clean.returncode == 0, clean.stderr
    assert {r["hash"] for r in load_rows(out)} == {r["hash"] for r in load_rows(reference)}
    assert summary["rows_by_kind"] == json.loads(clean.stdout)["rows_by_kind"]


@pytest.mark.slow
def test_sigkill_inside_an_open_group_loses_only_that_group(tmp_path: Path) -> None:
    """Group commit: with groups of 5 items (and no time bound to speak of), a kill after
    more items finished than were committed loses exactly the open group; the rerun produces
    every item exactly once, with the rows of an uninterrupted run."""
    inp = fast_theorems(tmp_path / "thms.jsonl", copies=8)
    total = len(FAST) * 8
    out = tmp_path / "out"
    db = out / "synth.sqlite"
    command = _command(inp, out)
    command[command.index("--no-progress")] = "--progress"
    command += ["--group-items", "5", "--group-s", "600"]
    env = {**os.environ, "PROOFGRAPH_PROGRESS_INTERVAL_S": "0.1"}  # see items finish mid-run
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    finished = 0
    try:
        buffer = b""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            chunk = proc.stderr.read1(4096) if proc.stderr else b""  # type: ignore[union-attr]
            if not chunk:
                break
            buffer += chunk
            counts = [int(m) for m in re.findall(rb"proofs: (\d+)/", buffer)]
            finished = max(counts, default=0)
            if finished >= 7 and finished > _items(db):  # some finished items are uncommitted
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    committed = _items(db)
    assert 7 <= finished < total
    assert committed % 5 == 0 and committed < finished  # the open group was lost, only it
    final = subprocess.run(_command(inp, out), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["items"] == summary["ok"] == total
    assert summary["items_this_session"] == total - committed
    assert verify_output(out)["problems"] == []
    with sqlite3.connect(db) as con:
        keys = [k for (k,) in con.execute("SELECT item_key FROM items")]
    assert len(keys) == len(set(keys)) == total
    reference = tmp_path / "reference"
    clean = subprocess.run(_command(inp, reference), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert clean.returncode == 0, clean.stderr
    assert sorted(r["hash"] for r in load_rows(out)) == \
        sorted(r["hash"] for r in load_rows(reference))
