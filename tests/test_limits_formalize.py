"""The hard limit of ``formalize``: the Z3/FOL checks of each row run in a killable worker process
(the model stays in the parent) under a per-row wall-clock budget. A row whose checks hang in
native code with every signal blocked (nothing inside the worker can end it) fails with reason
``timeout`` (kind ``infra``), the other rows of its batch are decided (their parsed candidates,
lost with the killed worker, are parsed again), and the resumed run decides only that row,
giving what an uninterrupted in-process run gives. Checks in the worker and in process agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest
from test_formalize_mechanics import FOLIO, N_EVEN, Z3_OUTPUTS, Z3_REPAIRS, ScriptedSampler
from test_runner_hard_limit import native_hang, normalized

from formalizer.autoformalize import FormalizeConfig, formalize, make_sampler
from formalizer.autoformalize.isolation import ROW_TIMEOUT_S, IsolatedTarget
from formalizer.autoformalize.runner import FormalizeJob, RunOptions
from formalizer.autoformalize.targets.base import Candidate, Item, Target
from formalizer.autoformalize.targets.fol import FolTarget
from formalizer.autoformalize.targets.z3 import Z3Target
from proofgraph.cli import EXIT_USAGE, main
from proofgraph.run_options import ROW_TIMEOUT_S as CHECK_ROW_TIMEOUT_S
from prover.records.runner import RunSettings, run_job

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
ROW_TIMEOUT = 8.0  # far above a row's checks here (well under a second), so load cannot trip it
STATEMENTS = [N_EVEN, "For every natural number m, m(m+1) is even.",
              "For every natural number k, k(k+1) is even."]


def _hang_once(marker: str) -> None:
    if not Path(marker).exists():
        Path(marker).write_text("hung once", encoding="utf-8")
        native_hang()


class HangingZ3Target(Z3Target):
    """The real Z3 target; its ``flags`` hang in native code once for the statement ``text``
    (in the worker: this object is sent there pickled)."""

    def __init__(self, marker: str, text: str) -> None:
        self.marker, self.text = marker, text

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        if item.text == self.text:
            _hang_once(self.marker)
        return super().flags(item, candidate, timeout_ms)


class HangingFolTarget(FolTarget):
    """The real FOL target; its ``typecheck`` hangs in native code once for ``text``."""

    def __init__(self, marker: str, text: str) -> None:
        super().__init__()
        self.marker, self.text = marker, text

    def typecheck(self, item: Item, candidates: Any) -> None:
        if item.text == self.text:
            _hang_once(self.marker)
        super().typecheck(item, candidates)


class DyingZ3Target(Z3Target):
    """The real Z3 target; its type check ends the worker process once for ``text`` (as an
    out-of-memory kill would)."""

    def __init__(self, marker: str, text: str) -> None:
        self.marker, self.text = marker, text

    def typecheck(self, item: Item, candidates: Any) -> None:
        if item.text == self.text and not Path(self.marker).exists():
            Path(self.marker).write_text("died once", encoding="utf-8")
            os._exit(9)
        super().typecheck(item, candidates)


class JobWith(FormalizeJob):
    """The real formalize job whose checks run in a worker holding ``inner``."""

    def __init__(self, path: Path, sampler: Any, config: FormalizeConfig, opts: RunOptions,
                 inner: Callable[[], Target]) -> None:
        super().__init__(path, sampler, config, opts)
        self.inner = inner

    def make_target(self) -> tuple[Target, Callable[[], None]]:
        assert self.row_timeout_s is not None
        target = IsolatedTarget(self.inner(), self.row_timeout_s)
        return target, target.close


def _settings(opts: RunOptions) -> RunSettings:
    return RunSettings(out=opts.out, store=opts.store, progress=False, report=opts.report)


def _row(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what names the run or times it."""
    return normalized({k: v for k, v in result.items() if k not in ("run_id", "provenance")})


@pytest.fixture
def worker_imports_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker unpickles the hanging targets of this module: it must find it."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS))


def test_row_timeout_default_is_checks(tmp_path: Path) -> None:
    assert ROW_TIMEOUT_S == CHECK_ROW_TIMEOUT_S  # one constant, re-exported
    assert RunOptions().row_timeout_s == ROW_TIMEOUT_S and not RunOptions().in_process
    with pytest.raises(ValueError, match="row_timeout_s"):
        RunOptions(row_timeout_s=0)
    with pytest.raises(ValueError, match="row_timeout_s"):
        IsolatedTarget(Z3Target(), 0)
    job = FormalizeJob(tmp_path / "x.jsonl", ScriptedSampler({}), FormalizeConfig("z3"),
                       RunOptions(in_process=True))
    assert job.row_timeout_s is None
    assert job.settings == FormalizeJob(tmp_path / "x.jsonl", ScriptedSampler({}),
                                        FormalizeConfig("z3"), RunOptions()).settings


def test_checks_in_the_worker_equal_checks_in_process() -> None:
    """The mechanics scenarios (Z3: filter, repair, clusters, flags; FOL: entailment vote)."""
    row = FOLIO[0]
    good = "\n".join(f"{i}. {p}" for i, p in enumerate(row["premises-FOL"], 1))
    fol_outputs = [(f"{good}\nFOL conclusion: Jokes(rina) ⊕ Unaware(rina)", -1.0),
                   (f"{good}\nFOL conclusion: Jokes(rina)", -2.0),
                   (f"{good}\nFOL conclusion: Jokes(rina) ⊕", -0.2)]
    fol_item = {"id": "f", "premises": row["premises"], "conclusion": row["conclusion"]}
    runs = []
    for row_timeout in (None, ROW_TIMEOUT):
        z3 = formalize([{"id": "n", "text": N_EVEN}],
                       ScriptedSampler({N_EVEN: Z3_OUTPUTS}, Z3_REPAIRS, "even"),
                       FormalizeConfig("z3", k=7), row_timeout_s=row_timeout)
        fol = formalize([fol_item], ScriptedSampler({row["conclusion"][:30]: fol_outputs},
                                                    [("nope", -3.0)]),
                        FormalizeConfig("fol", k=3), row_timeout_s=row_timeout)
        runs.append([_row(r.to_dict()) for r in (*z3, *fol)])
    assert runs[0] == runs[1]
    z3_row, fol_row = runs[1]
    assert z3_row["chosen"]["index"] == 0 and "failure" not in z3_row
    assert fol_row["vote"]["voters"] == 2 and fol_row["candidates"][0]["entailment"]["answer"] == "True"


def test_a_native_hang_in_a_rows_checks_fails_that_row_and_resume_completes(
        tmp_path: Path, worker_imports_tests: None) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n"
                           for i, t in enumerate(STATEMENTS)), encoding="utf-8")

    def sampler() -> ScriptedSampler:
        return ScriptedSampler({t: Z3_OUTPUTS for t in STATEMENTS}, english="even")

    config = FormalizeConfig("z3", k=7, repair_rounds=0)
    messages: list[str] = []
    opts = RunOptions(out=tmp_path / "out.jsonl", store=tmp_path / "s.db", progress=False,
                      batch_size=3, row_timeout_s=ROW_TIMEOUT, report=messages.append)
    marker = str(tmp_path / "marker")
    job = JobWith(src, sampler(), config, opts, lambda: HangingZ3Target(marker, STATEMENTS[1]))
    summary, first = run_job(job, _settings(opts))
    assert Path(marker).exists()  # the worker did hang
    assert [r["key"] for r in first] == ["0", "1", "2"]
    hung = first[1]
    assert hung["error"].startswith(f"timeout: the row's candidate checks ran past "
                                    f"{ROW_TIMEOUT:g} s")
    assert hung["error_detail"]["kind"] == "infra" and hung["error_detail"]["reason"] == "timeout"
    assert "chosen" not in hung
    for done in (first[0], first[2]):  # row 2's candidates were parsed again after the kill
        assert not done.get("error") and done["chosen"]["index"] == 0
        assert done["candidates"][4]["flags"]["vacuous"]["value"] is True
    assert summary["rejected"] == 1 and summary["formalized"] == 2
    assert any("timeout" in m for m in messages)

    job = JobWith(src, sampler(), config, opts, lambda: HangingZ3Target(marker, STATEMENTS[1]))
    summary, again = run_job(job, _settings(opts))  # resume: only row 1 again
    assert summary["resumed"] and summary["rejected"] == 0 and summary["formalized"] == 3

    here = RunOptions(out=tmp_path / "here.jsonl", progress=False, batch_size=3,
                      in_process=True)
    _, reference = run_job(FormalizeJob(src, sampler(), config, here), _settings(here))
    assert [_row(r) for r in again] == [_row(r) for r in reference]
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["key"] for r in lines] == ["0", "1", "2"]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("transformers", "the hf sampler needs torch + transformers")
    return pf.build_tiny_llama(tmp_path_factory.mktemp("limits_llama"))


def test_tiny_model_in_the_parent_hang_in_the_worker(tmp_path: Path, tiny_llama: Path,
                                                     worker_imports_tests: None) -> None:
    """A real model samples here; its FOL candidates are type-checked in the worker, where
    row 1's check hangs in native code: that row times out, rows 0 and 2 are decided, and the
    resumed run completes row 1."""
    texts = [FOLIO[i]["conclusion"] for i in range(3)]
    assert len(set(texts)) == 3
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"s{i}", "text": t}) + "\n"
                           for i, t in enumerate(texts)), encoding="utf-8")
    sampler = make_sampler(f"hf:{tiny_llama}", max_new_tokens=12, max_input_tokens=160, seed=1)
    config = FormalizeConfig("fol", k=2, repair_rounds=0, backtranslate=False)
    opts = RunOptions(out=tmp_path / "out.jsonl", progress=False, batch_size=3,
                      row_timeout_s=ROW_TIMEOUT)
    marker = str(tmp_path / "marker")
    job = JobWith(src, sampler, config, opts, lambda: HangingFolTarget(marker, texts[1]))
    summary, first = run_job(job, _settings(opts))
    assert Path(marker).exists()
    assert first[1]["error_detail"] == {"kind": "infra", "reason": "timeout",
                                        "message": first[1]["error_detail"]["message"]}
    for done in (first[0], first[2]):
        assert not done.get("error") and done["summary"]["candidates"] == 2
        assert all(c["check"]["status"] in ("ok", "error") and c["check"].get("error") != "unchecked"
                   for c in done["candidates"] if c["formal"] is not None)
    assert summary["rejected"] == 1
    job = JobWith(src, sampler, config, opts, lambda: HangingFolTarget(marker, texts[1]))
    summary, again = run_job(job, _settings(opts))
    assert summary["rejected"] == 0 and not again[1].get("error")
    assert [_row(r) for r in again][::2] == [_row(r) for r in first][::2]


def test_cli_formalize_limit_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": N_EVEN}) + "\n", encoding="utf-8")
    base = ["formalize", "--input", str(src), "--target", "z3", "--model", "hf:/nonexistent"]
    for flags, says in ((["--in-process", "--row-timeout", "5"], "--in-process cannot be"),
                        (["--row-timeout", "0"], "--row-timeout must be > 0")):
        assert main([*base, *flags]) == EXIT_USAGE, flags
        assert says in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not a number of seconds
        main([*base, "--row-timeout", "soon"])
    assert "expected a number of seconds" in capsys.readouterr().err



def test_cli_in_a_worker_and_in_process_agree(tmp_path: Path, tiny_llama: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The same run (same run id: the limit does not name it) with the checks in the worker
    (default) and ``--in-process`` gives the same rows; FOL lone statements reach the check."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"s{i}", "text": FOLIO[i]["conclusion"]}) + "\n"
                           for i in range(2)), encoding="utf-8")
    outs = []
    for flags in (["--row-timeout", "30"], ["--in-process"]):
        out = tmp_path / f"out{len(outs)}.jsonl"
        code = main(["formalize", "--input", str(src), "--out", str(out), "--target", "fol",
                     "--model", f"hf:{tiny_llama}", "-k", "2", "--max-new-tokens", "12",
                     "--max-input-tokens", "160", "--seed", "1", "--json", "--no-progress",
                     *flags])
        summary = json.loads(capsys.readouterr().out)
        assert code == 0 and summary["rows"] == 2 and summary["rejected"] == 0
        outs.append([json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()])
    assert outs[0][0]["run_id"] == outs[1][0]["run_id"]
    assert [_row(r) for r in outs[0]] == [_row(r) for r in outs[1]]
    checked = [c["check"] for r in outs[0] for c in r["candidates"] if c["formal"] is not None]
    assert checked and all(c.get("error") != "unchecked" for c in checked)  # type-checked


def test_a_worker_that_dies_fails_only_its_row(tmp_path: Path,
                                               worker_imports_tests: None) -> None:
    sampler = ScriptedSampler({t: Z3_OUTPUTS for t in STATEMENTS}, english="even")
    target = IsolatedTarget(DyingZ3Target(str(tmp_path / "marker"), STATEMENTS[1]), ROW_TIMEOUT)
    try:
        results = formalize([{"id": f"r{i}", "text": t} for i, t in enumerate(STATEMENTS)],
                            sampler, FormalizeConfig("z3", k=7, repair_rounds=0), target=target)
    finally:
        target.close()
    assert results[1].failure is not None and results[1].failure["reason"] == "worker-died"
    assert results[1].chosen is None and results[1].to_dict()["failure"] == results[1].failure
    assert [r.chosen["index"] for r in (results[0], results[2])] == [0, 0]  # type: ignore[index]
    assert target.kills == 1 and "failure" not in results[0].to_dict()
