"""Check one arithmetic claim: exact rationals first, Z3 where there are unknowns.

The contract: a claim is ``verified`` only when it holds exactly; a stated rounded value
(a decimal literal, or ``≈``) is at best ``verified_approx`` with the tolerance it used (half a
unit of the last stated digit); division by zero is never verified; every ``unknown`` carries
a typed reason.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from prover.arith.ast import Neg, Num, Relation, format_number
from prover.arith.evaluate import (
    MAX_BITS,
    DivisionByZeroError,
    NotRationalError,
    UnboundError,
    evaluate,
)
from prover.arith.parse import MAX_DEPTH, MAX_LITERAL_DIGITS, MAX_TOKENS, TooLargeError
from prover.verdicts import UnknownReason, Verdict, unknown

_COMPARE: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
VERIFIED_EXACT = Verdict("verified", evidence={"method": "exact rational evaluation"})


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


@dataclass
class Premises:
    """What a claim may use: ground values of defined names, stated symbolic constraints, and
    whether unknowns range over the integers (only when the text says so)."""

    values: dict[str, Fraction] = field(default_factory=dict)
    constraints: list[Relation] = field(default_factory=list)
    integer: bool = False


def _literal(node: object) -> tuple[Fraction, int] | None:
    """(value, stated decimals) when ``node`` is a plain (possibly negated) decimal literal."""
    if isinstance(node, Neg):
        inner = _literal(node.arg)
        return (-inner[0], inner[1]) if inner else None
    if isinstance(node, Num):
        d = node.decimals
        return (node.value, d) if d is not None else None
    return None


def stated_tolerance(rel: Relation) -> Fraction | None:
    """Half a unit of the last stated digit of the literal side of ``rel``, or None.

    ``=`` with an integer literal is exact (no tolerance); ``≈`` with an integer allows 1/2.
    """
    if rel.op not in ("=", "~="):
        return None
    lit = _literal(rel.right) or _literal(rel.left)
    if lit is None:
        return Fraction(1, 2) if rel.op == "~=" else None
    decimals = lit[1]
    if decimals == 0 and rel.op == "=":
        return None
    return Fraction(1, 2 * 10**decimals)


def compare_values(rel: Relation, lhs: Fraction, rhs: Fraction) -> Verdict:
    """Verdict for ``lhs op rhs`` with both sides known exactly."""
    if rel.op in ("=", "~="):
        if lhs == rhs:
            return VERIFIED_EXACT
        evidence = {"lhs": format_number(lhs), "rhs": format_number(rhs)}
        tol = stated_tolerance(rel)
        if tol is not None:
            if abs(lhs - rhs) <= tol:
                return Verdict("verified_approx", evidence=evidence, tolerance=format_number(tol))
            evidence["tolerance"] = format_number(tol)
        return Verdict("refuted", evidence=evidence)
    if _COMPARE[rel.op](lhs, rhs):
        return VERIFIED_EXACT
    return Verdict("refuted", evidence={"lhs": format_number(lhs), "rhs": format_number(rhs)})


def check_ground(rel: Relation, values: dict[str, Fraction] | None = None) -> Verdict | None:
    """Fast path: decide ``rel`` by exact evaluation; None when it needs Z3 (unknowns, roots)."""
    try:
        lhs = evaluate(rel.left, values)
        rhs = evaluate(rel.right, values)
    except DivisionByZeroError as err:
        return Verdict("refuted", evidence={"division_by_zero": err.term},
                       detail="a denominator is zero, so the claim is undefined")
    except TooLargeError as err:
        return unknown(UnknownReason.TOO_LARGE, str(err))
    except (NotRationalError, UnboundError):
        return None
    return compare_values(rel, lhs, rhs)


class ArithChecker:
    """Checks claims under premises; owns one Z3 context, so use one checker per thread."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._z3: object | None = None

    def check(self, rel: Relation, premises: Premises | None = None) -> tuple[Verdict, str]:
        """Return the verdict and the backend that decided it (``exact`` or ``z3``)."""
        values = premises.values if premises else None
        verdict = check_ground(rel, values)
        if verdict is not None:
            return verdict, "exact"
        from prover.z3.arith import Z3ArithBackend  # z3 only when a claim needs it

        if self._z3 is None:
            self._z3 = Z3ArithBackend(self.limits.timeout_ms, self.limits.rlimit)
        backend: Z3ArithBackend = self._z3  # type: ignore[assignment]
        return backend.check(rel, premises or Premises()), "z3"
