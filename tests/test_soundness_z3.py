"""Soundness regressions of the Z3 prover path: rows whose goal does not (meaningfully) follow
must never come back ``proved`` / ``verified``."""

from __future__ import annotations

import pytest

from proofgraph import prove
from prover.z3.env import check_proof

# Defect: a define-fun-rec without a solution (f(x) = f(x) + 1) is an inconsistent axiom, so Z3
# proves ANY goal mentioning f; the preflight only checked the hypotheses (which never mention
# the definitions), so `prove` said proved/verified instead of unknown: vacuous-premises.
INCONSISTENT_DEFS = [
    {"id": "rec_self_plus_one", "smt2": "(define-fun-rec f ((x Int)) Int (+ (f x) 1))",
     "goal": "(= (f 0) 7)"},
    {"id": "rec_with_hyp", "smt2": "(declare-const y Int) "
     "(define-fun-rec f ((x Int)) Int (+ (f x) 1)) (assert (> y 0))", "goal": "(= (f y) 7)"},
    {"id": "rec_const", "smt2": "(define-fun-rec k () Int (+ k 1))", "goal": "(= k 3)"},
    {"id": "rec_mutual", "smt2": "(define-funs-rec ((f ((x Int)) Int) (g ((x Int)) Int)) "
     "((+ (g x) 1) (f x))) (declare-const y Int) (assert (> y 0))", "goal": "(> (f y) 100)"},
]


@pytest.mark.parametrize("row", INCONSISTENT_DEFS, ids=lambda r: r["id"])
def test_inconsistent_recursive_definition_is_not_proved(row: dict) -> None:
    """Defect rec-defs-vacuous: must be unknown (vacuous-premises), never verified."""
    _, results = prove([row], policy="symbolic", max_expansions=20)
    result = results[0]
    assert result["verdict"] != "verified", result
    assert result["status"] != "proved", result
    assert result["verdict"] == "unknown" and result["reason"] == "vacuous-premises", result


def test_replay_does_not_verify_a_proof_through_inconsistent_definitions() -> None:
    """Defect rec-defs-vacuous, replay side: check_proof (the final word) replayed `z3` on the
    same row and said verified."""
    verdict = check_proof(INCONSISTENT_DEFS[0], ["z3"], budget_s=2.0)
    assert verdict.kind != "verified", verdict


def test_consistent_recursive_definition_still_proves() -> None:
    """Control: a total recursive definition keeps its proof."""
    row = {"id": "sum_three", "smt2": "(define-fun-rec s ((n Int)) Int (ite (<= n 0) 0 "
           "(+ n (s (- n 1))))) (declare-const n Int) (assert (= n 3))", "goal": "(= (s n) 6)"}
    _, results = prove([row], policy="symbolic", max_expansions=30)
    assert results[0]["verdict"] == "verified", results[0]


def test_synth_mutate_emits_no_vacuous_proved_rows(tmp_path) -> None:
    """Defect rec-defs-vacuous, synth side: `synth mutate` labelled both `(= (f y) 7)` and its
    negation `proved` (and shifted/conjoined mutants too) from an inconsistent definition."""
    import json

    from proofgraph import synth

    src = tmp_path / "rows.jsonl"
    src.write_text(json.dumps(INCONSISTENT_DEFS[1]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    synth("mutate", src, out, workers=1, parquet=False, progress=False)
    rows = [json.loads(line) for shard in sorted(out.glob("shards/*.jsonl"))
            for line in shard.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert not [r for r in rows if r.get("label") == "proved"], rows


# Defect tracking-tag-clash: the preflight tracks hypothesis i with the Bool literal `hyp!i`
# in the row's own context; a row that declares `|hyp!0|` makes the tag BE its constant, so
# assuming the tag true changes the query: consistent hypotheses were reported
# `unknown: vacuous-premises` ("the hypotheses contradict each other") instead of refuted/proved.
TAG_CLASH = "(declare-const |hyp!0| Bool) (declare-const x Int) (assert (not |hyp!0|)) " \
            "(assert (> x 0))"


def test_tracking_tag_does_not_capture_a_row_constant() -> None:
    """Defect tracking-tag-clash: a false goal is refuted and a true one proved."""
    _, results = prove([{"id": "clash_false", "smt2": TAG_CLASH, "goal": "(> x 5)"},
                        {"id": "clash_true", "smt2": TAG_CLASH, "goal": "(> x 0)"}],
                       policy="symbolic", max_expansions=20)
    by_id = {r["id"]: r for r in results}
    assert by_id["clash_false"]["verdict"] == "refuted", by_id["clash_false"]
    assert by_id["clash_true"]["verdict"] == "verified", by_id["clash_true"]
