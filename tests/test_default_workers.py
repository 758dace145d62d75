"""``check`` and ``entail`` without ``--workers``: one worker per usable core (at most
:data:`proofgraph.run_options.AUTO_WORKERS_MAX`) on an input of at least
:data:`proofgraph.run_options.AUTO_WORKERS_MIN_ROWS` rows, else one; one in process, on Ray and
with an LLM formalizer. The results do not depend on the number of workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import proofgraph.jobs as jobs
import proofgraph.run_options as run_options
from proofgraph.cli import main
from proofgraph.run_options import AUTO_WORKERS_MAX, AUTO_WORKERS_MIN_ROWS, default_workers

DATA = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"


def _rows(tmp_path: Path, count: int, blank_every: int = 0) -> Path:
    lines = DATA.read_text(encoding="utf-8").splitlines()[:count]
    if blank_every:  # blank lines are not rows
        lines = [x for i, line in enumerate(lines)
                 for x in ((line, "") if i % blank_every == 0 else (line,))]
    path = tmp_path / f"rows{count}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 2), (3, 3), (64, AUTO_WORKERS_MAX)])
def test_a_large_input_gets_one_worker_per_core_up_to_the_cap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, expected: int) -> None:
    monkeypatch.setattr(run_options, "usable_cores", lambda: cores)
    path = _rows(tmp_path, AUTO_WORKERS_MIN_ROWS)
    assert default_workers(path, in_process=False, ray=False, llm=False) == expected


def test_a_small_input_and_the_other_executors_get_one_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_options, "usable_cores", lambda: 8)
    small = _rows(tmp_path, AUTO_WORKERS_MIN_ROWS - 1, blank_every=3)  # blank lines not counted
    large = _rows(tmp_path, AUTO_WORKERS_MIN_ROWS)
    assert default_workers(small, in_process=False, ray=False, llm=False) == 1
    assert default_workers(large, in_process=False, ray=False, llm=False) == AUTO_WORKERS_MAX
    for flags in ({"in_process": True}, {"ray": True}, {"llm": True}):
        kwargs = {"in_process": False, "ray": False, "llm": False, **flags}
        assert default_workers(large, **kwargs) == 1, flags
    for limit, workers in ((AUTO_WORKERS_MIN_ROWS - 1, 1), (AUTO_WORKERS_MIN_ROWS, 4)):
        assert default_workers(large, in_process=False, ray=False, llm=False,
                               limit=limit) == workers  # --limit: the rows that run
    assert default_workers(tmp_path / "missing.jsonl", in_process=False, ray=False,
                           llm=False) == 1  # the run reports the missing file itself


def test_usable_cores_is_the_affinity_of_this_process() -> None:
    import os

    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    assert run_options.usable_cores() == expected


def _verdicts(rows: list[dict[str, Any]]) -> list[Any]:
    """Each row's id, first error and claims (formal form, verdict, reason): no times."""
    return [(r["id"], r["first_error"], [[(c["formal"], c["verdict"], c["reason"])
                                          for c in s["claims"]] for s in r["steps"]])
            for r in rows]


def _spy_workers(monkeypatch: pytest.MonkeyPatch, module: Any = jobs) -> list[int]:
    """The ``workers`` of the runner settings of every run ``module`` (the check job's by
    default) starts; the real runner runs."""
    seen: list[int] = []
    real = module.run_job

    def spy(job: Any, settings: Any) -> Any:
        seen.append(settings.workers)
        return real(job, settings)

    monkeypatch.setattr(module, "run_job", spy)
    return seen


def test_cli_check_without_workers_runs_the_default_and_gives_the_same_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_options, "usable_cores", lambda: 2)
    seen = _spy_workers(monkeypatch)
    path = _rows(tmp_path, AUTO_WORKERS_MIN_ROWS)
    base = ["check", str(path), "--no-progress", "--json"]
    assert main([*base, "--out", str(tmp_path / "auto.jsonl")]) == 0
    assert main([*base, "--out", str(tmp_path / "one.jsonl"), "--workers", "1"]) == 0
    assert main([*base, "--out", str(tmp_path / "here.jsonl"), "--in-process"]) == 0
    assert seen == [2, 1, 1]
    capsys.readouterr()

    def verdicts(name: str) -> list[Any]:
        return _verdicts([json.loads(line)
                          for line in (tmp_path / name).read_text().splitlines()])

    auto = verdicts("auto.jsonl")
    assert len(auto) == AUTO_WORKERS_MIN_ROWS
    assert auto == verdicts("one.jsonl") == verdicts("here.jsonl")


def test_a_long_plain_text_solution_is_one_row_and_gets_one_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_options, "usable_cores", lambda: 2)
    seen = _spy_workers(monkeypatch)
    text = tmp_path / "solution.txt"  # one solution, one step per line
    text.write_text("".join(f"{n} + 1 = {n + 1}\n" for n in range(AUTO_WORKERS_MIN_ROWS)),
                    encoding="utf-8")
    assert main(["check", str(text), "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert seen == [1]
    assert (summary["solutions"], summary["steps"]) == (1, AUTO_WORKERS_MIN_ROWS)
    assert summary["verdicts"] == {"verified": AUTO_WORKERS_MIN_ROWS}


def test_cli_in_process_with_explicit_workers_is_still_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _rows(tmp_path, 3)
    assert main(["check", str(path), "--in-process", "--workers", "2", "--no-progress"]) != 0
    assert "--in-process cannot be combined" in capsys.readouterr().err


def test_the_python_api_takes_the_same_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import proofgraph
    import proofgraph.entail_job as entail_job

    monkeypatch.setattr(run_options, "usable_cores", lambda: 2)
    monkeypatch.setattr(run_options, "AUTO_WORKERS_MIN_ROWS", 4)
    seen = _spy_workers(monkeypatch)
    path = _rows(tmp_path, 4)
    _, auto = proofgraph.check(path)
    _, one = proofgraph.check(path, workers=1)
    assert seen == [2, 1]
    assert _verdicts(auto) == _verdicts(one)
    assert len(auto) == 4

    entailed = _spy_workers(monkeypatch, entail_job)
    fol = tmp_path / "fol.jsonl"  # four rows of first-order logic
    fol.write_text("".join(json.dumps({"id": str(n), "premises": ["forall x (P(x) -> Q(x))",
                                                                  f"P(a{n})"],
                                       "conclusion": f"Q(a{n})"}) + "\n" for n in range(4)),
                   encoding="utf-8")
    summary, results = proofgraph.entail_file(fol)
    assert entailed == [2]
    assert [r.get("answer") for r in results] == ["True"] * 4, results[0]
