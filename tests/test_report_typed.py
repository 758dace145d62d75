"""The report renders typed results (prover.records.results) and its pages are unchanged.

The goldens in tests/data/report_golden were written by the report code that still read raw
dict keys, from real ``check``/``entail``/``prove`` runs (see SOURCE.md there). Each test parses
the rows once with ``from_dict`` and renders the types; any change in what the report shows
fails here. Inlined CSS/JS (and the CSP hashes of them) are compared separately from the
markup, so an asset edit shows as such.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from prover.records.results import (
    CheckVerdict,
    EntailmentResult,
    Givens,
    LlmClaim,
    LlmStep,
    ProofSearchResult,
    SolutionResult,
)
from prover.report.dag import search_sections, section, verdict_word
from prover.report.entail_html import render_entail_report
from prover.report.html import render_step_report
from prover.report.page import asset
from prover.report.viewer import _scalars

GOLDEN = Path(__file__).parent / "data" / "report_golden"
_ASSET = re.compile(r"<(style|script)>.*?</\1>", re.S)
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">')


def _rows(name: str) -> list[dict[str, Any]]:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _markup(page: str) -> str:
    """The page without its inlined assets and their CSP hashes (checked on their own)."""
    return _CSP.sub("<CSP>", _ASSET.sub("<ASSET>", page))


def _same_page(page: str, golden: str) -> None:
    assert _markup(page) == _markup(GOLDEN.joinpath(golden).read_text(encoding="utf-8"))
    for name in ("report.css", "report.js"):
        assert asset(name) in page


def test_check_report_from_typed_results_is_the_old_page() -> None:
    rows = _rows("check_rows.jsonl")
    typed = [SolutionResult.from_dict(r) for r in rows]
    assert [t.to_dict() for t in typed] == rows
    summary = {"run_id": "golden", "rows": len(rows)}
    page = render_step_report(typed, title="golden check", summary=summary, hint="h")
    _same_page(page, "check.html")
    assert render_step_report(rows, title="golden check", summary=summary, hint="h") == page
    assert page.count("✘ refuted") >= 3 and 'class="rejected"' in page


def test_llm_rows_render_from_their_typed_views() -> None:
    row = json.loads((GOLDEN / "llm_row.json").read_text(encoding="utf-8"))
    sol = SolutionResult.from_dict(row)
    assert sol.to_dict() == row and isinstance(sol.givens, Givens)
    llm = sol.steps[1].llm if sol.steps else None
    assert isinstance(llm, LlmStep) and llm.claims and isinstance(llm.claims[0], LlmClaim)
    assert isinstance(llm.claims[0].local, CheckVerdict)
    assert llm.claims[0].local.evidence == {"lhs": "66", "rhs": "56", "model": {"x": "3/2"}}
    rows = [SolutionResult.from_dict(r) for r in _rows("check_rows.jsonl")[:5]] + [sol]
    page = render_step_report(rows, title="golden llm",
                              summary={"run_id": "golden", "rows": 43})
    _same_page(page, "check_llm.html")


def test_entail_report_from_typed_results_is_the_old_page() -> None:
    rows = _rows("entail_rows.jsonl")
    typed = [EntailmentResult.from_dict(r) for r in rows]
    assert [t.to_dict() for t in typed] == rows
    page = render_entail_report(typed, title="golden entail", summary={"rows": len(rows)})
    _same_page(page, "entail.html")


def test_prove_sections_from_typed_results_are_the_old_ones() -> None:
    run = {"run_id": "golden", "command": "prove", "config": {"backend": "z3"}}
    got = []
    for row in _rows("prove_rows.jsonl"):
        result = ProofSearchResult.from_dict(row)
        got.append({"sections": search_sections(result, run), "word": verdict_word(result),
                    "other": [s for s in (section("result", _scalars(row)),
                                          section("provenance", result.provenance)) if s]})
    want = json.loads((GOLDEN / "prove_sections.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(got)) == want
    assert {g["word"] for g in got} == {"verified", "rejected"}


def _stable(row: dict[str, Any]) -> dict[str, Any]:
    """A check row without what differs between runs (times, provenance, run id)."""
    out = {k: v for k, v in row.items() if k not in ("provenance", "run_id")}
    out["steps"] = [{**s, "claims": [{k: v for k, v in c.items() if k != "time_s"}
                                     for c in s.get("claims") or []]}
                    for s in row.get("steps") or []]
    return out


def _decided(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`_stable` without how a claim was decided (its ``backend`` and evidence
    ``method``: an exact decision may replace a solver call); what was read, the verdicts, the
    premises used and counter-models stay."""
    out = _stable(row)
    out["steps"] = [{**s, "claims": [
        {**{k: v for k, v in c.items() if k != "backend"},
         "evidence": {k: v for k, v in (c.get("evidence") or {}).items() if k != "method"}}
        for c in s["claims"]]} for s in out["steps"]]
    return out


def test_a_real_check_run_today_gives_the_golden_rows(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from proofgraph.cli import main

    out = tmp_path / "check.jsonl"
    main(["check", str(GOLDEN / "check_input.jsonl"), "--out", str(out), "--no-progress",
          "--json"])
    capsys.readouterr()
    now = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    old = _rows("check_rows.jsonl")
    assert [_decided(r) for r in now] == [_decided(r) for r in old]
    assert sum(r.get("first_error") is not None for r in now) >= 3
