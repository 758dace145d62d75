"""``proofgraph check --formalizer llm:<spec>`` end to end: a tiny random-weight Llama (built in
code, no download) formalizes two real GSM8K rows; its garbage becomes ``not-formalized``,
nothing crashes, the rules claims are unchanged, and a bad spec is a clean usage error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest

from proofgraph.cli import EXIT_OK, EXIT_USAGE, main
from prover.records.store import Store

DATA = Path(__file__).parent / "data"


@pytest.fixture
def two_rows(tmp_path: Path) -> Path:
    """The first two GSM8K train rows (Natalia, Weng)."""
    path = tmp_path / "two.jsonl"
    lines = (DATA / "gsm8k_train_300.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _rules_claims(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Every rules claim without its timing (the only field that may differ between runs)."""
    return [[{k: v for k, v in claim.items() if k != "time_s"} for claim in step["claims"]]
            for row in rows for step in row["steps"]]


@pytest.mark.parametrize("spec", [
    "llm:nope", "bogus", "llm:",
    pytest.param("llm:hf:/no/such/model/dir", marks=pytest.mark.slow),  # imports transformers
])
def test_bad_formalizer_spec_is_a_clean_usage_error(spec: str, two_rows: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["check", str(two_rows), "--out", str(out), "--formalizer", spec])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--formalizer" in err and "Traceback" not in err
    assert not out.exists()  # rejected before the run opens


@pytest.mark.slow
def test_tiny_model_garbage_is_not_formalized_and_rules_are_unchanged(
        two_rows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pf.require("torch", "the hf formalizer needs torch")
    pf.require("transformers", "the hf formalizer needs transformers")
    model = pf.build_tiny_llama(tmp_path / "tiny")
    rules_out = tmp_path / "rules.jsonl"
    assert main(["check", str(two_rows), "--out", str(rules_out)]) == EXIT_OK
    capsys.readouterr()
    short = ["--llm-samples", "2", "--llm-max-new-tokens", "24"]  # keeps the test fast
    out, store, html = tmp_path / "llm.jsonl", tmp_path / "runs.sqlite", tmp_path / "r.html"
    code = main(["check", str(two_rows), "--out", str(out), "--store", str(store),
                 "--html", str(html), "--json", "--formalizer", f"llm:hf:{model}", *short])
    assert code == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    rows = _rows(out)
    assert len(rows) == 2 and summary["solutions"] == 2
    assert _rules_claims(rows) == _rules_claims(_rows(rules_out))
    llm_claims = [c for row in rows for step in row["steps"] for c in step["llm"]["claims"]]
    assert llm_claims and summary["llm"]["claims"] == len(llm_claims)
    for claim in llm_claims:
        for view in ("local", "grounded"):
            assert (claim[view]["verdict"], claim[view]["reason"]) == ("unknown",
                                                                       "not-formalized")
    for row in rows:
        assert row["givens"]["samples"] == 2 and row["givens"]["facts"] == []
        assert row["first_error_local"] is None and row["first_error_grounded"] is None
        assert all(step["llm"]["samples"] == 2 and step["llm"]["lines"]
                   for step in row["steps"])
        prov = row["provenance"]
        assert prov["formalizer"] == f"llm:hf:{model}"
        assert prov["llm"]["sampler"]["policy"] == "hf"
        assert prov["llm"]["sampler"]["max_new_tokens"] == 24
    assert "<html" in html.read_text(encoding="utf-8").lower()
    with Store(store) as db:
        assert [run["run_id"] for run in db.runs()] == [summary["run_id"]]
    again = main(["check", str(two_rows), "--out", str(out), "--store", str(store), "--json",
                  "--formalizer", f"llm:hf:{model}", *short])
    resumed = json.loads(capsys.readouterr().out)
    assert again == EXIT_OK and resumed["resumed"] and resumed["claims_checked_now"] == 0
    assert resumed["run_id"] == summary["run_id"] and _rows(out) == rows
