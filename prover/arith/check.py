"""Check one arithmetic claim: exact rationals first, Z3 where there are unknowns.

The contract: a claim is ``verified`` only when it holds exactly; a stated rounded value
(a decimal literal, or ``≈``) is at best ``verified_approx`` with the tolerance it used (half a
unit of the last stated digit); division by zero is never verified; every ``unknown`` carries
a typed reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from fractions import Fraction

from prover.arith.ast import (
    App,
    Bin,
    Const,
    Expr,
    Neg,
    Relation,
    Var,
    is_opaque,
    to_infix,
    variables,
)
from prover.arith.atoms import canonical
from prover.arith.evaluate import MAX_BITS
from prover.arith.exact import (
    linear_decision,
    point_refutation,
    polynomial_identity,
    probe_identity,
)
from prover.arith.ground import (
    SAME_TERM,
    VERIFIED_EXACT,
    check_ground,
    compare_values,
    same_term,
    substitute,
)
from prover.arith.parse import MAX_DEPTH, MAX_LITERAL_DIGITS, MAX_TOKENS
from prover.arith.premises import Premises
from prover.records.verdicts import UnknownReason, Verdict, unknown

__all__ = [  # the exact decisions live in prover.arith.ground / prover.arith.exact
    "SAME_TERM", "VERIFIED_EXACT", "ArithChecker", "Limits", "Premises", "abstract_opaque",
    "check_ground", "compare_values", "linear_decision", "point_refutation",
    "polynomial_identity", "probe_identity", "same_term", "substitute",
]


@dataclass(frozen=True)
class Limits:
    """Budgets of one claim check; all of them are recorded in provenance."""

    timeout_ms: int = 2000
    rlimit: int = 5_000_000

    def as_dict(self) -> dict[str, int]:
        """Every bound that can change a verdict, for provenance."""
        return {"timeout_ms": self.timeout_ms, "rlimit": self.rlimit, "max_bits": MAX_BITS,
                "max_tokens": MAX_TOKENS, "max_depth": MAX_DEPTH,
                "max_literal_digits": MAX_LITERAL_DIGITS}


def abstract_opaque(rel: Relation) -> tuple[Relation, dict[str, str]]:
    """``rel`` with each distinct application or constant replaced by a fresh name (the same
    term by the same name), and the names' meaning. Valid for every value of the fresh names
    implies valid for the real ones; nothing else may be concluded from the abstraction."""
    names: dict[Expr, str] = {}

    def walk(expr: Expr) -> Expr:
        if isinstance(expr, (App, Const)):
            if expr not in names:
                names[expr] = f"_opaque{len(names)}"
            return Var(names[expr])
        if isinstance(expr, Neg):
            return Neg(walk(expr.arg))
        if isinstance(expr, Bin):
            return Bin(expr.op, walk(expr.left), walk(expr.right))
        return expr

    abstracted = Relation(rel.op, walk(rel.left), walk(rel.right))
    return abstracted, {name: to_infix(term) for term, name in names.items()}


_MEMO_SIZE = 4096
"""Solver answers an :class:`ArithChecker` remembers (the memo is emptied when full)."""


class ArithChecker:
    """Checks claims under premises; owns one Z3 context, so use one checker per thread."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._z3: object | None = None
        self._verdicts: dict[tuple, Verdict] = {}
        self.setup_s = 0.0  # seconds spent loading z3 and creating the context (once)

    def check(self, rel: Relation, premises: Premises | None = None) -> tuple[Verdict, str]:
        """Return the verdict and the backend that decided it (``exact`` or ``z3``)."""
        values = premises.values if premises else None
        if is_opaque(rel):
            return self._check_opaque(rel, values or {})
        verdict = check_ground(rel, values)
        if verdict is not None:
            return verdict, "exact"
        premises = premises or Premises()
        if not premises.constraints:  # nothing constrains the unknowns: exact decisions first
            verdict = polynomial_identity(rel, values) or point_refutation(rel, values)
        else:
            verdict = linear_decision(rel, premises)
        if verdict is not None:
            return verdict, "exact"
        return self._z3_check(rel, premises), "z3"

    def _check_opaque(self, rel: Relation, values: dict[str, Fraction]) -> tuple[Verdict, str]:
        """A claim with ``f(x)``, ``sin(30)`` or ``pi``: exact when every part has an exact
        value, verified when it holds for every value of the uninterpreted terms, otherwise
        unknown: never refuted through a reading of a function we do not interpret."""
        if same_term(rel, values):
            return SAME_TERM, "exact"
        verdict = check_ground(rel, values)
        if verdict is not None and verdict.kind != "unknown":
            return verdict, "exact"
        # the same application is the same term once its arguments are evaluated (f(2*3) is
        # f(6)) and an application with an exact value is that value (log(2, 8) is 3)
        ground = Relation(rel.op, canonical(rel.left, values), canonical(rel.right, values))
        if not variables(ground) and not is_opaque(ground):
            verdict = check_ground(ground)
            if verdict is not None and verdict.kind != "unknown":
                return verdict, "exact"
        if same_term(ground, {}):
            return SAME_TERM, "exact"
        abstracted, meaning = abstract_opaque(ground)
        # only a verified answer is used, so a claim false at an exact point (a model of its
        # negation, which Z3 reads the same) needs no solver call: it cannot be verified
        if rel.op != "~=" and not is_opaque(abstracted) and point_refutation(abstracted) is None:
            try:
                z3_verdict = self._z3_check(abstracted, Premises())
            except Exception as err:  # noqa: BLE001 - a backend fault is an unknown, not a crash
                return unknown(UnknownReason.BACKEND_ERROR, f"{type(err).__name__}: {err}"), "z3"
            if z3_verdict.kind == "verified":
                return Verdict("verified", evidence={
                    "method": "holds for every value of the uninterpreted terms",
                    "terms": meaning}), "z3"
        if not meaning:  # every application had an exact value; unknowns are left
            return unknown(UnknownReason.NOT_FORMALIZED, (
                f"its applications have exact values ({to_infix(ground)}), but a claim with "
                "applications is decided only when it holds for every value")), "exact"
        terms = ", ".join(sorted(meaning.values()))
        return unknown(UnknownReason.NOT_FORMALIZED,
                       f"uses {terms}, which is not interpreted here; only identities and "
                       "exact values are decided"), "exact"

    def _z3_check(self, rel: Relation, premises: Premises) -> Verdict:
        """Z3's verdict on ``premises ⊢ rel``, remembered per query: the same relation under the
        same constraints, integer switch and values of its names gets the first answer again
        (a repeated claim or a re-check costs no solver call). Answers that a limit cut short
        (``timeout``, ``budget``) are not remembered: a later call may have more time."""
        names = variables(rel).union(*(variables(c) for c in premises.constraints))
        key = (rel, tuple(premises.constraints), premises.integer, premises.integer_names,
               tuple(sorted((n, premises.values[n]) for n in names if n in premises.values)))
        try:
            cached = self._verdicts.get(key)
        except TypeError:  # an unhashable part: decide without the memo
            return self._z3_decide(rel, premises)
        if cached is not None:
            return replace(cached, evidence=dict(cached.evidence))
        verdict = self._z3_decide(rel, premises)
        if verdict.reason not in (UnknownReason.TIMEOUT, UnknownReason.BUDGET):
            if len(self._verdicts) >= _MEMO_SIZE:
                self._verdicts.clear()
            self._verdicts[key] = replace(verdict, evidence=dict(verdict.evidence))
        return verdict

    def _z3_decide(self, rel: Relation, premises: Premises) -> Verdict:
        start = time.perf_counter()
        from prover.z3.arith import Z3ArithBackend  # z3 only when a claim needs it

        if self._z3 is None:  # loading z3 and making the context is set-up, not solving
            self._z3 = Z3ArithBackend(self.limits.timeout_ms, self.limits.rlimit)
            self.setup_s += time.perf_counter() - start
        backend: Z3ArithBackend = self._z3  # type: ignore[assignment]
        return backend.check(rel, premises)
