"""The one Z3 gateway: hard wall-clock guard (in process and in a killable worker), one
classification of ``unknown``, bounded model values, the hypothesis preflight of ``prove``
(vacuous premises, refutation), and bounded SMT-LIB reading (issue 13)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import z3

from prover.arith.check import ArithChecker, Premises
from prover.arith.parse import parse_chain
from prover.records.verdicts import UnknownReason
from prover.z3.env import Z3Env, plain_z3
from prover.z3.gateway import (
    Limits,
    classify_unknown,
    model_value,
    needs_isolation,
    solve,
    z3_version,
)
from prover.z3.theorem import TheoremError, parse_theorem
from search.protocols import Failed, Timeout

NON_TERMINATING = {"id": "nt", "smt2": "(define-fun-rec f ((n Int)) Int (+ 1 (f (+ n 1)))) "
                   "(declare-const n Int)", "goal": "(= (f 0) (f 5))"}


def test_one_classification_of_unknown() -> None:
    limits = Limits(timeout_ms=1000, rlimit=10)
    assert classify_unknown("timeout", 0.1, limits) is UnknownReason.TIMEOUT
    assert classify_unknown("canceled", 0.95, limits) is UnknownReason.TIMEOUT  # the clock ran out
    assert classify_unknown("canceled", 0.05, limits) is UnknownReason.BUDGET  # the rlimit did
    assert classify_unknown("max. memory exceeded", 0.05, limits) is UnknownReason.BUDGET
    assert classify_unknown("anything", 0.05, limits, interrupted=True) is UnknownReason.TIMEOUT
    assert classify_unknown("(incomplete quantifiers)", 0.05, limits) \
        is UnknownReason.UNDECIDABLE
    assert z3_version().count(".") >= 2


def test_solve_tracks_cores_and_evaluates_terms() -> None:
    ctx = z3.Context()
    x = z3.Int("x", ctx)
    sat = solve([x * x <= 9], ctx=ctx, limits=Limits(), tracked={"h": x > 2}, evaluate=[x])
    assert sat.status == "sat" and sat.values == ("3",)
    unsat = solve([x * x <= 9], ctx=ctx, limits=Limits(), tracked={"h": x > 3})
    assert unsat.status == "unsat" and unsat.core == ("h",)
    isolated = solve([x * x <= 9], ctx=ctx, limits=Limits(), tracked={"h": x > 3}, isolate=True)
    assert isolated.isolated and isolated.status == "unsat" and isolated.core == ("h",)


def test_exponent_claim_stops_within_its_wall_limit() -> None:
    """``a^((1001/4002) - 1) = 4`` ran 336 s under a 2 s timeout; Z3 ignores interrupt there,
    so the gateway runs it in a worker that is killed at the deadline."""
    ctx = z3.Context()
    a = z3.Real("a", ctx)
    claim = a ** (z3.RealVal("1001/4002", ctx) - 1) == 4
    assert needs_isolation([claim]) and not needs_isolation([a * a == 4])
    start = time.perf_counter()
    result = solve([z3.Not(claim)], ctx=ctx, limits=Limits(timeout_ms=1000))
    assert time.perf_counter() - start < 30  # was minutes; the deadline is about 2 s
    assert result.status == "unknown" and result.reason is UnknownReason.TIMEOUT
    rel = parse_chain("a^((1001/4002) - 1) = 4")[0]
    start = time.perf_counter()
    verdict, backend = ArithChecker().check(rel, Premises())
    assert time.perf_counter() - start < 30 and backend == "z3"
    assert verdict.kind == "unknown" and not verdict.is_verified


def test_a_4400_digit_model_value_is_shown_bounded() -> None:
    ctx = z3.Context()
    huge = z3.IntVal("7" + "0" * 4399, ctx)
    text = model_value(huge)
    assert "4400 digits" in text and len(text) < 80
    assert model_value(z3.RealVal("1/3", ctx)) == "1/3"
    x = z3.Int("x", ctx)
    result = solve([x == huge + 1], ctx=ctx, limits=Limits(), evaluate=[x])
    assert result.sat and "4400 digits" in result.values[0]
    rel = parse_chain("x * 1 = x + 1")[0]  # a refutation with a model, checked end to end
    premises = Premises(constraints=[parse_chain("x = 10^4400")[0]])
    verdict, _ = ArithChecker().check(rel, premises)  # raised ValueError (4300 digits) before
    assert verdict.kind == "refuted" and "4401 digits" in verdict.evidence["lhs"]


def test_non_terminating_definition_stops_within_the_tactic_budget() -> None:
    """``ctx-solver-simplify`` on this row ignored interrupts for 10+ minutes (3.6 GB)."""
    env = Z3Env(NON_TERMINATING, preflight_s=1.0)
    state = env.initial_state()
    start = time.perf_counter()
    outcome = env.apply(state, "ctx-solver-simplify", 1.0)
    assert time.perf_counter() - start < 30  # the worker is killed at 1.5 x 1 s + 0.5 s
    assert isinstance(outcome, Timeout)
    outcome = env.apply(state, "z3", 1.0)  # the worker was replaced: the next call works
    assert isinstance(outcome, (Timeout, Failed))
    start = time.perf_counter()
    verdict = plain_z3(NON_TERMINATING, 1.0)
    assert time.perf_counter() - start < 30 and not verdict.is_verified


def test_contradictory_hypotheses_are_vacuous_with_their_core() -> None:
    for smt2 in ("(declare-const x Int) (assert (> x 2)) (assert (< x 1))",
                 "(declare-const x Int) (assert (>= x 0)) (assert false)"):
        env = Z3Env({"id": "vac", "smt2": smt2, "goal": "(= 1 2)"})
        state = env.initial_state()
        verdict = env.preflight_verdict
        assert verdict is not None and verdict.reason is UnknownReason.VACUOUS
        assert verdict.evidence["unsat_core"]
        assert isinstance(env.apply(state, "z3", 1.0), Failed)  # nothing is "proved"
    core = Z3Env({"id": "v", "smt2": "(declare-const x Int) (assert (>= x 0)) "
                  "(assert (> x 2)) (assert (< x 1))", "goal": "(= 1 2)"})
    core.initial_state()
    assert core.preflight_verdict is not None
    assert [c["index"] for c in core.preflight_verdict.evidence["unsat_core"]] == [1, 2]


def test_false_theorem_is_refuted_with_a_rechecked_counter_model() -> None:
    env = Z3Env({"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))",
                 "goal": "(> (* x x) 9)"})
    env.initial_state()
    verdict = env.preflight_verdict
    assert verdict is not None and verdict.kind == "refuted"
    assert verdict.evidence["counter_model"] == {"x": "3"}
    assert verdict.evidence["recheck"] == "substitution"
    true = Z3Env({"id": "ok", "smt2": "(declare-const x Int) (assert (> x 3))",
                  "goal": "(> (* x x) 9)"})
    true.initial_state()
    assert true.preflight_verdict is None  # true theorems are left to the search


def test_deeply_nested_goal_is_a_clear_error_not_a_recursion_error() -> None:
    goal = "(not " * 20_000 + "(> x 0)" + ")" * 20_000
    try:
        parse_theorem({"id": "deep", "smt2": "(declare-const x Int)", "goal": goal})
    except TheoremError as exc:
        assert "nested deeper than" in str(exc)
    else:  # pragma: no cover - the test fails
        raise AssertionError("a 20,000-deep goal was accepted")


def test_prove_cli_stops_within_wall_timeout_and_reports_preflight_verdicts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """End to end through ``proofgraph prove --json``: the non-terminating row ends well
    within a minute under ``--wall-timeout 3`` (it ran 10+ minutes, 3.6 GB); the contradictory
    and the false theorem come back ``unknown: vacuous-premises`` and ``refuted``."""
    from proofgraph.cli import main

    rows = [NON_TERMINATING,
            {"id": "vac", "smt2": "(declare-const x Int) (assert (> x 2)) (assert (< x 1))",
             "goal": "(= 1 2)"},
            {"id": "false", "smt2": "(declare-const x Int) (assert false)", "goal": "(= 1 2)"},
            {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))",
             "goal": "(> (* x x) 9)"}]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    start = time.perf_counter()
    code = main(["prove", str(path), "--json", "--wall-timeout", "3", "--out", str(out)])
    assert time.perf_counter() - start < 60
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in summary["results"]}
    assert by_id["nt"]["verdict"] == "unknown"
    assert by_id["vac"]["verdict"] == "unknown" and by_id["vac"]["reason"] == "vacuous-premises"
    assert by_id["false"]["reason"] == "vacuous-premises"
    assert by_id["sq"]["verdict"] == "refuted"
    written = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert [c["index"] for c in written["vac"]["evidence"]["unsat_core"]] == [0, 1]
    assert written["sq"]["evidence"]["counter_model"] == {"x": "3"}
