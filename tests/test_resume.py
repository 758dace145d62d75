"""Resume after SIGKILL, with real subprocesses: no item lost, none duplicated, same results.

The input is tests/data/gsm8k_train_300.jsonl repeated with distinct ids, so one run takes a
few seconds; each run is killed at several points (after >= N output lines) and restarted with
the same arguments until it completes, then compared with a clean uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_runner_hard_limit import VOLATILE, normalized

from prover.records.store import Store

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
GSM8K = DATA / "gsm8k_train_300.jsonl"
N_ROWS = 1500
KILL_AFTER = (1, 350, 900)  # output lines seen before each SIGKILL
RUN_TIMEOUT_S = 120
WAIT_TIMEOUT_S = 60
# a long Z3 timeout: the wall-clock safety net never decides a claim here, however loaded the
# machine; the default solver budget per solution is counted in Z3 resource units (rlimit), not
# seconds, so every run (killed and resumed or not) decides the same claims under any load
CHECK_ARGS = ("--timeout-ms", "60000", "--no-progress", "--json")


def build_input(path: Path, n_rows: int) -> Path:
    src = [json.loads(line) for line in GSM8K.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n_rows):
            handle.write(json.dumps({"id": f"r{i}", **src[i % len(src)]}) + "\n")
    return path


def check_cmd(inp: Path, out: Path, store: Path | None = None, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "proofgraph.cli", "check", str(inp), "--out", str(out),
           *CHECK_ARGS, *extra]
    if store is not None:
        cmd += ["--store", str(store)]
    return cmd


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def start_and_kill(cmd: list[str], out: Path, min_lines: int, cwd: Path) -> int:
    """Start ``cmd``, SIGKILL it once ``out`` has >= ``min_lines`` lines; return that count."""
    with (cwd / "killed.stderr").open("ab") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
    try:
        deadline = time.monotonic() + WAIT_TIMEOUT_S
        while count_lines(out) < min_lines:
            assert proc.poll() is None, f"the run ended (rc={proc.returncode}) before the kill"
            assert time.monotonic() < deadline, f"no {min_lines} output lines in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return count_lines(out)




def core_sorted(obj: Any) -> Any:
    """``normalized`` with every unsat core (evidence ``premises_used``) in sorted order."""
    if isinstance(obj, dict):
        return {k: sorted(v) if k == "premises_used" else core_sorted(v)
                for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [core_sorted(v) for v in obj]
    return obj


def read_rows(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n"), "the output must end with a complete line"
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("resume")


@pytest.fixture(scope="module")
def big_input(workdir: Path) -> Path:
    return build_input(workdir / "gsm8k_big.jsonl", N_ROWS)


@pytest.fixture(scope="module")
def reference(big_input: Path, workdir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A clean, uninterrupted run (JSONL only): (summary, rows)."""
    out = workdir / "reference.jsonl"
    proc = run(check_cmd(big_input, out), workdir)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    rows = read_rows(out)
    assert len(rows) == N_ROWS and summary["solutions"] == N_ROWS
    return summary, rows


def assert_complete(rows: list[dict[str, Any]], reference_rows: list[dict[str, Any]]) -> None:
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == N_ROWS, "duplicated or lost rows"
    assert set(keys) == {str(i) for i in range(N_ROWS)}
    assert all(r["id"] == f"r{r['key']}" for r in rows)
    # first everything but the order of unsat cores, then strictly (time fields aside)
    loose = {r["key"]: core_sorted(r) for r in rows}
    assert [r["key"] for r in reference_rows if loose[r["key"]] != core_sorted(r)] == []
    strict = {r["key"]: normalized(r) for r in rows}
    assert [r["key"] for r in reference_rows if strict[r["key"]] != normalized(r)] == []


@pytest.mark.parametrize("with_store", [True, False], ids=["store", "jsonl-only"])
def test_sigkill_at_several_points_then_resume(tmp_path: Path, big_input: Path,
                                               reference: tuple[dict, list[dict]],
                                               with_store: bool) -> None:
    ref_summary, ref_rows = reference
    out = tmp_path / "out.jsonl"
    db = tmp_path / "runs.db" if with_store else None
    cmd = check_cmd(big_input, out, db)
    seen = []
    for min_lines in KILL_AFTER:
        seen.append(start_and_kill(cmd, out, min_lines, tmp_path))
        assert seen[-1] < N_ROWS
    assert seen == sorted(seen), "a resumed run must not lose committed lines"

    proc = run(cmd, tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["resumed"] is True
    assert summary["solutions"] == N_ROWS
    assert 0 < summary["claims_checked_now"] < ref_summary["claims"]
    for key in ("steps", "claims", "verdicts", "first_errors", "rejected", "run_id"):
        assert summary[key] == ref_summary[key], key

    rows = read_rows(out)
    assert [r["key"] for r in rows] == [str(i) for i in range(N_ROWS)], "input order"
    assert {r["run_id"] for r in rows} == {ref_summary["run_id"]}

    if db is not None:
        with Store(db) as store:
            stored = list(store.item_results(summary["run_id"]))
            (run_info,) = store.runs()
            assert store.integrity_check() == "ok"
        assert len(stored) == N_ROWS
        assert [k for k, _ in stored] == [str(i) for i in range(N_ROWS)]
        assert [normalized(r) for _, r in stored] == [normalized(r) for r in rows]
        assert run_info["status"] == "finished" and run_info["n_items"] == N_ROWS

    # one more run of a finished job changes nothing
    again = run(cmd, tmp_path)
    assert again.returncode == 0
    assert json.loads(again.stdout)["claims_checked_now"] == 0
    assert [normalized(r) for r in read_rows(out)] == [normalized(r) for r in rows]

    assert_complete(rows, ref_rows)  # last: same results as the uninterrupted run


def test_resume_point_does_not_change_evidence(tmp_path: Path) -> None:
    """Deterministic: the same solution twice; resuming after row 0 (what a SIGKILL right after
    the first commit leaves) must give row 1 exactly as the clean run computed it."""
    line = GSM8K.read_text(encoding="utf-8").splitlines()[150]  # "Let p ... p + m = 27 ..."
    src = tmp_path / "twice.jsonl"
    src.write_text("".join(json.dumps({"id": f"c{i}", **json.loads(line)}) + "\n"
                           for i in range(2)), encoding="utf-8")
    clean, resumed = tmp_path / "clean.jsonl", tmp_path / "resumed.jsonl"
    assert run(check_cmd(src, clean), tmp_path).returncode == 0
    resumed.write_bytes(clean.read_bytes().splitlines(keepends=True)[0])
    proc = run(check_cmd(src, resumed), tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["resumed"] is True
    want, got = read_rows(clean), read_rows(resumed)
    assert [core_sorted(r) for r in got] == [core_sorted(r) for r in want]
    cores = [[c["evidence"].get("premises_used") for s in r["steps"] for c in s["claims"]]
             for r in (want[1], got[1])]
    assert cores[1] == cores[0]
    assert [normalized(r) for r in got] == [normalized(r) for r in want]


# --------------------------------------------------------------------------- torn / foreign OUT
@pytest.fixture(scope="module")
def small_input(workdir: Path) -> Path:
    return build_input(workdir / "gsm8k_small.jsonl", 40)


@pytest.mark.parametrize("with_store", [True, False], ids=["store", "jsonl-only"])
def test_torn_last_line_is_repaired(tmp_path: Path, small_input: Path, with_store: bool) -> None:
    clean = tmp_path / "clean.jsonl"
    assert run(check_cmd(small_input, clean), tmp_path).returncode == 0
    expected = [normalized(r) for r in read_rows(clean)]

    out = tmp_path / "out.jsonl"
    db = tmp_path / "runs.db" if with_store else None
    cmd = check_cmd(small_input, out, db)
    assert run(cmd, tmp_path).returncode == 0
    lines = out.read_bytes().splitlines(keepends=True)
    assert len(lines) == 40
    # as if killed while writing row 30: rows 30.. gone, half of row 30 on disk, no newline
    torn = lines[30][: len(lines[30]) // 2]
    out.write_bytes(b"".join(lines[:30]) + torn)
    if db is not None:
        # the store commits before the JSONL line is written: it holds rows 0..30
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            deleted = conn.execute("DELETE FROM items WHERE CAST(item_key AS INTEGER) > 30")
            assert deleted.rowcount == 9
        conn.close()

    proc = run(cmd, tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["resumed"] is True and summary["solutions"] == 40
    assert summary["claims_checked_now"] > 0
    rows = read_rows(out)
    assert [r["key"] for r in rows] == [str(i) for i in range(40)]
    assert [normalized(r) for r in rows] == expected


def test_torn_line_after_a_finished_store_run(tmp_path: Path, small_input: Path) -> None:
    """The store has every item; the JSONL has a torn tail: rewritten from the store."""
    out, db = tmp_path / "out.jsonl", tmp_path / "runs.db"
    cmd = check_cmd(small_input, out, db)
    assert run(cmd, tmp_path).returncode == 0
    good = out.read_bytes()
    out.write_bytes(good + b'{"key":"40","run_id":"check-')
    proc = run(cmd, tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["claims_checked_now"] == 0
    assert [normalized(r) for r in read_rows(out)] == [
        normalized(json.loads(line)) for line in good.splitlines()]


@pytest.mark.parametrize("with_store", [True, False], ids=["store", "jsonl-only"])
def test_out_of_another_run_is_refused_unless_fresh(tmp_path: Path, small_input: Path,
                                                    with_store: bool) -> None:
    other = build_input(tmp_path / "other.jsonl", 5)
    out = tmp_path / "out.jsonl"
    db = tmp_path / "runs.db" if with_store else None
    first = run(check_cmd(other, out, db), tmp_path)
    assert first.returncode == 0
    other_run = json.loads(first.stdout)["run_id"]
    before = out.read_bytes()

    refused = run(check_cmd(small_input, out, db), tmp_path)
    assert refused.returncode == 2
    (err,) = [line for line in refused.stderr.splitlines() if line.strip()]
    assert err.startswith("proofgraph: error: ")
    assert str(out) in err and other_run in err and "--fresh" in err
    assert refused.stdout == ""
    assert out.read_bytes() == before

    fresh = run(check_cmd(small_input, out, db, "--fresh"), tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    summary = json.loads(fresh.stdout)
    assert summary["run_id"] != other_run and summary["solutions"] == 40
    rows = read_rows(out)
    assert len(rows) == 40
    assert {r["run_id"] for r in rows} == {summary["run_id"]}
    assert [r["key"] for r in rows] == [str(i) for i in range(40)]
