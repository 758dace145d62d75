"""``proofgraph prove --mode``: search only. Whole-proof generation is ``eval --mode whole``
(attempts with seeds, repair rounds, a per-attempt report); ``prove --mode whole`` and the
whole-mode options are usage errors that name that command instead of being ignored or
reported as unknown options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proofgraph.cli import main

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"


@pytest.mark.parametrize("extra", [["--mode", "whole"], ["--repair-rounds", "2"],
                                   ["--prompt-format", "z3-script"], ["--mode", "tree"]])
def test_whole_mode_options_are_a_usage_error_naming_eval(
        extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["prove", str(DATA), *extra])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {extra[0]}" in err
    if extra[1] != "tree":
        assert "proofgraph eval BENCH --mode whole" in err
    else:
        assert "prove has only 'search'" in err


def test_search_mode_is_the_default_and_may_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    row = next(json.loads(x) for x in DATA.read_text().splitlines()
               if x.strip() and json.loads(x)["id"] == "abs_nonneg")
    assert main(["prove", "--row", json.dumps(row), "--mode", "search", "--json",
                 "--no-progress", "--max-expansions", "8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["proved"] == 1 and summary["results"][0]["verdict"] == "verified"
