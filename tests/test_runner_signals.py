"""The runner with real subprocesses: SIGINT/SIGTERM stop a run within seconds (also inside a
long Z3 call), commit what is done, say how to resume and exit 130/143; a second writer on
the same --out is refused while the first finishes, and the file never holds a key twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prover.records.store import Store

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
GSM8K = DATA / "gsm8k_train_300.jsonl"
REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
HARD = {"id": "hard", "smt2": "(declare-const x Int) (declare-const y Int) (declare-const z Int)"
        " (assert (> x 100)) (assert (> y 100)) (assert (> z 100))",
        "goal": "(not (= (+ (* x x x) (* y y y)) (* z z z)))"}


def big_input(path: Path, n: int) -> Path:
    src = GSM8K.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(json.dumps({"id": f"r{i}", **json.loads(src[i % len(src)])}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def cli(*argv: object) -> list[str]:
    return [sys.executable, "-m", "proofgraph.cli", *map(str, argv)]


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "the run ended before the signal"
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_check_commits_and_resumes(tmp_path: Path, sig: int, code: int) -> None:
    src = big_input(tmp_path / "in.jsonl", 1200)
    out, db = tmp_path / "out.jsonl", tmp_path / "s.db"
    argv = cli("check", src, "--out", out, "--store", db, "--no-progress", "--json")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV, cwd=tmp_path)
    wait_for(lambda: lines(out) >= 1, proc)
    sent = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5, "the run did not stop promptly"
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and stdout == ""
    (message,) = stderr.splitlines()
    assert f"stopped by {signal.Signals(sig).name}" in message
    assert "run the same command again to resume" in message
    with Store(db) as store:
        (run,) = store.runs()
        done = store.done_keys(run["run_id"])
        assert run["status"] == "stopped" and run["stop_note"]
    assert 0 < len(done) < 1200
    assert lines(out) == len(done), "everything processed before the stop is committed"
    again = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=tmp_path,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["resumed"] and summary["solutions"] == 1200
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert keys == [str(i) for i in range(1200)]


def _child_names(pid: int) -> set[str]:
    """The command names of ``pid``'s direct children (``ps``: Linux and macOS alike)."""
    listing = subprocess.run(["ps", "-A", "-o", "ppid=,comm="], capture_output=True, text=True,
                             timeout=10, check=True).stdout
    return {Path(parts[1]).name for parts in (line.split(None, 1) for line in listing.splitlines())
            if len(parts) == 2 and parts[0] == str(pid)}


@pytest.mark.parametrize(("sig", "code", "when"), [
    (signal.SIGTERM, 143, "running"), (signal.SIGINT, 130, "running"),
    (signal.SIGTERM, 143, "starting")])
def test_signal_stops_a_ray_check_run_the_same_way(tmp_path: Path, sig: int, code: int,
                                                   when: str) -> None:
    """``ray.init`` replaces the driver's SIGTERM handler with ``sys.exit`` (first, then starts
    the cluster), and Ray's core worker turns our SIGINT stop into a plain KeyboardInterrupt:
    the run used to end with status 15 and a Ray crash dump, its store left ``running``. The
    run's own stop holds on Ray too, mid-run and while the head node starts: exit 130/143,
    status ``stopped``, the message, and an exact resume."""
    pf.require("ray", "the Ray executor tests need ray")
    rows = 3000 if when == "running" else 300
    src = big_input(tmp_path / "in.jsonl", rows)
    out, db = tmp_path / "out.jsonl", tmp_path / "s.db"
    argv = cli("check", src, "--out", out, "--store", db, "--no-progress", "--json", "--ray",
               "--workers", "2")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV, cwd=tmp_path)
    if when == "running":
        wait_for(lambda: lines(out) >= 1, proc, timeout=120)
    else:  # inside ray.init: its head node is starting
        wait_for(lambda: "gcs_server" in _child_names(proc.pid), proc, timeout=120)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr and stdout == ""
    assert f"stopped by {signal.Signals(sig).name}" in stderr
    with Store(db) as store:
        (run,) = store.runs()
        done = store.done_keys(run["run_id"])
        assert run["status"] == "stopped"
    assert len(done) < rows and lines(out) == len(done)
    again = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=tmp_path,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert keys == [str(i) for i in range(rows)]


def test_sigint_interrupts_a_long_z3_call_in_prove(tmp_path: Path) -> None:
    """Z3's own Ctrl-C handler used to swallow SIGINT: the run went on and exited 0."""
    theorems = tmp_path / "t.jsonl"
    theorems.write_text(json.dumps(HARD) + "\n", encoding="utf-8")
    proc = subprocess.Popen(cli("prove", theorems, "--wall-timeout", 120, "--tactic-timeout",
                                60, "--no-progress", "--store", tmp_path / "s.db"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=tmp_path)
    time.sleep(4)  # well inside the search's first Z3 calls
    assert proc.poll() is None
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 5, "SIGINT did not stop the Z3 call promptly"
    assert proc.returncode == 130, stderr
    assert "stopped by SIGINT" in stderr and "Traceback" not in stderr


def test_second_writer_on_the_same_out_is_refused_and_keys_stay_unique(tmp_path: Path) -> None:
    src = big_input(tmp_path / "in.jsonl", 1500)
    out = tmp_path / "out.jsonl"
    argv = cli("check", src, "--out", out, "--no-progress", "--json")
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=ENV, cwd=tmp_path)
    wait_for(lambda: lines(out) >= 1, first)
    second = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=tmp_path,
                            timeout=120)
    assert second.returncode == 2
    (message,) = second.stderr.splitlines()
    assert "is in use: another proofgraph process is writing" in message
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert keys == [str(i) for i in range(1500)]
