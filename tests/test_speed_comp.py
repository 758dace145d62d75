"""Competition-text speed without changed verdicts (issue 11), and the guards it relies on.

- A claim with uninterpreted terms is verified only when it holds for every value of them;
  one that is false at an exact point cannot be, so it costs no solver call (counted calls).
- The Z3 backend builds each premise once per context and each claim term once per check; a
  remembered premise with an exponent term still sends the query to the isolate worker.
- The vacuous-premises contract of :mod:`prover.z3.arith`: a claim proved without premises is
  ``verified`` by default, never under ``require_satisfiable`` when the premises contradict.
- Guards: a declared integer that linear equations fix at a fraction goes to Z3
  (:func:`prover.arith.exact.linear_decision`), and the declared integers are part of the
  premises memo key (:func:`prover.arith.premises.premises_key`).
"""

from __future__ import annotations

from typing import Any

import pytest

import prover.z3.arith as z3_arith
from prover.arith.ast import Relation
from prover.arith.check import ArithChecker
from prover.arith.exact import linear_decision
from prover.arith.parse import parse_chain
from prover.arith.premises import Premises, premises_key
from prover.records.verdicts import UnknownReason
from prover.z3.arith import Z3ArithBackend


def rel(text: str, functions: frozenset[str] = frozenset()) -> Relation:
    """The single relation of ``text``."""
    (out,) = parse_chain(text, functions)
    return out


def counted_solver(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the keyword arguments of every solver call of the Z3 backend."""
    calls: list[dict[str, Any]] = []
    real = z3_arith.solve

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(z3_arith, "solve", spy)
    return calls


def test_opaque_claim_false_at_a_point_costs_no_solver_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counted_solver(monkeypatch)
    checker = ArithChecker()
    verdict, backend = checker.check(rel("sin(x) + 1 = sin(x) + 2"))
    assert (verdict.kind, verdict.reason, backend) == (
        "unknown", UnknownReason.NOT_FORMALIZED, "exact")
    assert calls == []
    verdict, backend = checker.check(rel("sin(x) + sin(x) = 2*sin(x)"))
    assert (verdict.kind, backend) == ("verified", "z3")  # valid: the solver still proves it
    assert calls


def test_remembered_premise_with_an_exponent_still_goes_to_the_worker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counted_solver(monkeypatch)
    backend = Z3ArithBackend(2000, 5_000_000)
    premises = Premises(constraints=[rel("2^n = 8"), rel("n >= 0")])
    first = backend.check(rel("n + 1 = n + 1"), premises)
    translated = len(backend._premise_terms)
    second = backend.check(rel("n + 2 = n + 2"), premises)
    assert first.kind == second.kind == "verified"
    assert len(backend._premise_terms) == translated == 2  # built once, for both checks
    claim_calls = [c for c in calls if c.get("isolate") is not None]
    assert claim_calls and all(c["isolate"] for c in claim_calls)


def test_claim_sides_are_translated_once_per_check(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = z3_arith.to_z3

    def spy(expr: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(expr)
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(z3_arith, "to_z3", spy)
    claim = rel("x*y = y*x + 1")
    verdict = Z3ArithBackend(2000, 5_000_000).check(claim, Premises())
    assert verdict.kind == "refuted"
    assert built.count(claim.left) == 1 and built.count(claim.right) == 1


def test_vacuous_premises_contract() -> None:
    backend = Z3ArithBackend(2000, 5_000_000)
    contradicting = Premises(constraints=[rel("x = 1"), rel("x = 2")])
    true_alone = rel("y + 1 > y")
    assert backend.check(true_alone, contradicting).kind == "verified"
    strict = backend.check(true_alone, contradicting, require_satisfiable=True)
    assert (strict.kind, strict.reason) == ("unknown", UnknownReason.VACUOUS)
    uses_them = backend.check(rel("x = 3"), contradicting)
    assert (uses_them.kind, uses_them.reason) == ("unknown", UnknownReason.VACUOUS)
    consistent = Premises(constraints=[rel("x = 1")])
    assert backend.check(true_alone, consistent, require_satisfiable=True).kind == "verified"


def test_declared_integer_fixed_at_a_fraction_goes_to_the_solver() -> None:
    claim = rel("n = 3/2")
    real_sort = Premises(constraints=[rel("2*n = 3")])
    decided = linear_decision(claim, real_sort)
    assert decided is not None and decided.kind == "verified"
    declared = Premises(constraints=[rel("2*n = 3")], integer_names=frozenset({"n"}))
    assert linear_decision(claim, declared) is None
    _, backend = ArithChecker().check(claim, declared)
    assert backend == "z3"


def test_declared_integers_are_part_of_the_premises_memo_key() -> None:
    claim = rel("n = 3/2")
    plain = Premises(constraints=[rel("2*n = 3")])
    declared = Premises(constraints=[rel("2*n = 3")], integer_names=frozenset({"n"}))
    assert premises_key(plain, claim) != premises_key(declared, claim)
    assert premises_key(plain) != premises_key(declared)


def test_a_listed_second_value_of_a_letter_is_not_a_refutation() -> None:
    """olympiadbench-975 (dev2, label -1) read with a budget that reaches it: a sentence that
    lists the solutions gives one letter two values; the irrational one is not refuted against
    the first. In separate sentences the second value is still a claim (and refuted)."""
    from formalizer.stepcheck import Solution, StepChecker

    def run(step: str) -> tuple[int | None, list[tuple[str | None, str | None]]]:
        result, _ = StepChecker(solver_budget_s=5).check(Solution("t", "Find x.", [step]))
        return result["first_error"], [(c["verdict"], c["reason"])
                                       for s in result["steps"] for c in s["claims"]]

    listed = run("Thus the real numbers x that satisfy the equation are: \\[ x = 10^{100} "
                 "\\quad \\text{and} \\quad x = 10^{0.01}. \\]")
    assert listed == (None, [(None, None), ("unknown", "not-checked")])
    apart = run("We get \\( x = 4 \\). Therefore \\( x = \\sqrt{15} \\).")
    assert apart == (0, [(None, None), ("refuted", None)])
