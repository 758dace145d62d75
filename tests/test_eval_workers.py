"""``proofgraph eval`` on worker processes and on Ray: each worker builds its own model and
queue, every attempt is committed once in input order, and the results are those of a run in
one process (same run id, same verdicts and proofs for attempts that hit no wall time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proofgraph.cli import main
from tests.policy_fixtures import require

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
IDS = ("n_n1_even", "abs_nonneg", "max_props")
FAST = ["--attempts", "2", "--max-expansions", "8", "--tactic-timeout", "3",
        "--wall-timeout", "120", "--no-progress", "--json"]


def _bench(tmp: Path) -> Path:
    rows = [line for line in DATA.read_text().splitlines()
            if line.strip() and json.loads(line)["id"] in IDS]
    path = tmp / "bench.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _view(out: Path) -> list[tuple[object, ...]]:
    rows = [json.loads(x) for x in (out / "attempts.jsonl").read_text().splitlines()]
    return [(r["theorem"], r["attempt"], r["seed"], r["verdict"], tuple(r.get("proof") or ()))
            for r in rows if r.get("stop_reason") != "wall_time"]


def _run(tmp: Path, name: str, extra: list[str],
         capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = tmp / name
    assert main(["eval", str(_bench(tmp)), "--out", str(out), *FAST, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_on_two_worker_processes_matches_one_process(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _run(tmp_path, "one", [], capsys)
    two = _run(tmp_path, "two", ["--workers", "2", "--concurrency", "2"], capsys)
    assert two["run_id"] == one["run_id"]  # workers and K are not settings of the run
    assert two["workers"] == 2 and "batching" not in two  # the queues were in the workers
    assert two["attempts_done"] == one["attempts_done"] == 2 * len(IDS)
    assert two["pass_at_k"] == one["pass_at_k"]
    assert _view(tmp_path / "two") == _view(tmp_path / "one")
    again = _run(tmp_path, "two", ["--workers", "2"], capsys)  # rerun: nothing new
    assert again["attempts_this_session"] == 0 and again["resumed"] is True


@pytest.mark.slow
def test_eval_on_ray_with_two_workers(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    require("ray", "ray is not installed")
    got = _run(tmp_path, "ray", ["--ray", "--workers", "2"], capsys)
    assert got["ray"] is True and got["attempts_done"] == 2 * len(IDS)
    rows = [json.loads(x) for x in (tmp_path / "ray" / "attempts.jsonl").read_text()
            .splitlines()]
    keys = [(r["theorem"], r["attempt"]) for r in rows]
    assert keys == [(t, a) for t in IDS for a in (0, 1)]  # each once, in input order
    assert got["solved"] == len(IDS)
