"""The hard wall-clock limit of ``entail``, as ``check``'s (tests/test_runner_hard_limit.py): by
default its rows run in a killable worker process, so a row stuck in native code with every
signal blocked (nothing in the worker can end it) fails with reason ``timeout`` when its limit
passes, the other rows are decided, and the resumed run decides only that row, giving what an
in-process run gives. Also the flags (``--row-timeout``, ``--in-process``) and the API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_runner_hard_limit import HangOnce, normalized

import proofgraph
from proofgraph.cli import EXIT_OK, EXIT_USAGE, main
from proofgraph.entail_job import EntailJob, EntailOptions, entail_settings
from prover.records.runner import run_job

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "folio_train_50.jsonl"
ROW_TIMEOUT_S = 10.0  # far above a FOLIO row's decision (milliseconds), so load cannot trip it
# FOLIO premises (tests/data/folio_train_50.jsonl) with conclusions of tests/test_entail.py
CONCLUSIONS = [(262, "Suspended(tiffanyTAlston)"), (1390, "Program(tiktok)"),
               (253, "Citizenof(daniel, lawtonPark)"), (1342, "Paper(seaEel)")]
ANSWERS = ["True", "True", "Uncertain", "False"]


def _rows(tmp_path: Path) -> Path:
    stories = {row["example_id"]: row for row in
               map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}
    src = tmp_path / "fol.jsonl"
    src.write_text("".join(json.dumps({"id": str(example), "premises":
                                       stories[example]["premises-FOL"],
                                       "conclusion": conclusion}, ensure_ascii=False) + "\n"
                           for example, conclusion in CONCLUSIONS), encoding="utf-8")
    return src


class HangsInNative(HangOnce, EntailJob):
    """The real entail job, hanging once at row ``hang_seq``."""


def _row(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what names the run or times it."""
    return normalized({k: v for k, v in result.items() if k not in ("run_id", "provenance")})


def test_default_entail_settings_isolate_rows_under_a_hard_limit(tmp_path: Path) -> None:
    opts = EntailOptions()
    settings = entail_settings(opts)
    assert settings.pool and settings.row_timeout_s == opts.row_timeout_s > 0
    assert EntailJob(tmp_path / "x.jsonl", opts).pool_batch_size == 1  # a row's own limit
    settings = entail_settings(EntailOptions(in_process=True))
    assert not settings.pool and settings.row_timeout_s is None
    with pytest.raises(ValueError, match="in_process"):
        EntailOptions(in_process=True, workers=2)
    with pytest.raises(ValueError, match="row_timeout_s"):
        EntailOptions(row_timeout_s=0)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_native_hang_fails_its_row_with_timeout_and_the_run_goes_on(tmp_path: Path,
                                                                      workers: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))  # the worker imports this module
    src = _rows(tmp_path)
    out = tmp_path / "out.jsonl"
    messages: list[str] = []
    opts = EntailOptions(out=out, store=tmp_path / "s.db", progress=False, workers=workers,
                         row_timeout_s=ROW_TIMEOUT_S, report=messages.append)
    job = HangsInNative(src, opts, str(tmp_path / "marker"), hang_seq=1)
    summary, first = run_job(job, entail_settings(opts))
    assert [r["key"] for r in first] == ["0", "1", "2", "3"]
    hung = first[1]
    assert hung["error"].startswith(f"timeout: the batch ran past {ROW_TIMEOUT_S:g} s")
    assert hung["error_detail"]["kind"] == "infra" and hung["error_detail"]["reason"] == "timeout"
    assert "answer" not in hung
    assert [first[i].get("answer") for i in (0, 2, 3)] == [ANSWERS[i] for i in (0, 2, 3)]
    assert summary["rejected"] == 1 and summary["rows"] == 4
    assert any("timeout" in m for m in messages)

    summary, again = run_job(job, entail_settings(opts))  # resume: only row 1 again
    assert summary["resumed"] and summary["rejected"] == 0
    assert [r.get("answer") for r in again] == ANSWERS
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["key"] for r in lines] == ["0", "1", "2", "3"]

    here = EntailOptions(out=tmp_path / "here.jsonl", progress=False, in_process=True)
    _, reference = run_job(EntailJob(src, here), entail_settings(here))
    assert [_row(r) for r in again] == [_row(r) for r in reference]


def test_cli_entail_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _rows(tmp_path)
    outs = []
    for flags in ([], ["--in-process"], ["--workers", "2", "--row-timeout", "30"]):
        out = tmp_path / f"out{len(outs)}.jsonl"
        code = main(["entail", str(src), "--out", str(out), "--json", "--no-progress", *flags])
        summary = json.loads(capsys.readouterr().out)
        assert code == EXIT_OK and summary["rows"] == 4 and summary["rejected"] == 0
        outs.append([_row(json.loads(x)) for x in out.read_text().splitlines()])
    assert outs[0] == outs[1] == outs[2]
    assert [r["answer"] for r in outs[0]] == ANSWERS
    for flags, says in ((["--in-process", "--workers", "2"], "--in-process cannot be combined"),
                        (["--in-process", "--row-timeout", "5"], "--in-process cannot be"),
                        (["--in-process", "--ray"], "--in-process cannot be combined"),
                        (["--row-timeout", "0"], "--row-timeout must be > 0")):
        assert main(["entail", str(src), *flags]) == EXIT_USAGE, flags
        assert says in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not a number of seconds
        main(["entail", str(src), "--row-timeout", "soon"])
    assert "expected a number of seconds" in capsys.readouterr().err


def test_api_entail_file_in_a_worker_and_in_process_agree(tmp_path: Path) -> None:
    src = _rows(tmp_path)
    summary, isolated = proofgraph.entail_file(src, row_timeout_s=ROW_TIMEOUT_S)
    _, here = proofgraph.entail_file(src, in_process=True)
    assert summary["rows"] == 4 and [r["answer"] for r in isolated] == ANSWERS
    assert [_row(r) for r in isolated] == [_row(r) for r in here]
    with pytest.raises(ValueError):
        proofgraph.entail_file(src, row_timeout_s=0)
