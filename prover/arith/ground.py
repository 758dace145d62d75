"""Decide a claim whose sides have exact values: compare two rationals under the claim's
stated tolerance, and evaluate a ground claim (no unknowns) exactly.

The contract (shared with :mod:`prover.arith.check`): ``verified`` only when the claim holds
exactly; a stated rounded value (a decimal literal, or ``≈``) is at best ``verified_approx``
with the tolerance it used; division by zero is refuted, never verified; every ``unknown``
carries a typed reason; None means exact evaluation cannot decide (a solver may).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction

from prover.arith.ast import App, Bin, Expr, Neg, Num, Relation, Var, format_number, num
from prover.arith.evaluate import (
    DivisionByZeroError,
    NotRationalError,
    UnboundError,
    UninterpretedError,
    evaluate,
)
from prover.arith.parse import TooLargeError
from prover.arith.premises import rounded_place, stated_tolerance
from prover.arith.surds import check_radical
from prover.records.verdicts import UnknownReason, Verdict, unknown

_COMPARE: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
VERIFIED_EXACT = Verdict("verified", evidence={"method": "exact rational evaluation"})


_APPROX_RELATIVE = Fraction(1, 100)


def truncated_unit(rel: Relation) -> Fraction | None:
    """One unit of the last digit when a side is a truncated literal (``3.363...``)."""
    for side in (rel.right, rel.left):
        lit = side.arg if isinstance(side, Neg) else side
        if isinstance(lit, Num) and lit.truncated and lit.decimals is not None:
            return Fraction(1, 10**lit.decimals)
    return None


def compare_values(rel: Relation, lhs: Fraction, rhs: Fraction) -> Verdict:
    """Verdict for ``lhs op rhs`` with both sides known exactly; a truncated literal
    (``3.363...``) allows one unit of its last digit, a rounded one half a unit."""
    if rel.op in ("=", "~="):
        if lhs == rhs:
            return VERIFIED_EXACT
        evidence = {"lhs": format_number(lhs), "rhs": format_number(rhs)}
        tol = truncated_unit(rel) or stated_tolerance(rel)
        if rel.op == "~=":  # "≈" also carries the rounding of the values it was computed from
            tol = max(tol or Fraction(0), max(abs(lhs), abs(rhs)) * _APPROX_RELATIVE)
        if tol is not None:
            if abs(lhs - rhs) <= tol:
                return Verdict("verified_approx", evidence=evidence, tolerance=format_number(tol))
            evidence["tolerance"] = format_number(tol)
        place = rounded_place(rel)
        if place is not None and abs(lhs - rhs) <= place / 2:  # "3456 ≈ 3500": to the hundred?
            return unknown(UnknownReason.NOT_CHECKED,
                           f"within rounding to the nearest {format_number(place)}, which the "
                           "stated value may mean, but beyond the tolerance checked")
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
    except NotRationalError as err:
        if "even root of a negative" in str(err):  # sqrt(-4): no real value, never Z3's guess
            return unknown(UnknownReason.NOT_FORMALIZED, f"{err}: not a real number")
        return check_radical(rel, values)  # exact in Q(√a), else None (a solver decides)
    except UnboundError:
        return None
    except UninterpretedError as err:
        if same_term(rel, values or {}):
            return SAME_TERM
        return unknown(UnknownReason.NOT_FORMALIZED, str(err))
    return compare_values(rel, lhs, rhs)


SAME_TERM = Verdict("verified", evidence={"method": "the same term on both sides"})


def substitute(expr: Expr, values: dict[str, Fraction]) -> Expr:
    """``expr`` with every bound name replaced by its value."""
    if isinstance(expr, Var):
        return num(values[expr.name]) if expr.name in values else expr
    if isinstance(expr, Neg):
        return Neg(substitute(expr.arg, values))
    if isinstance(expr, Bin):
        return Bin(expr.op, substitute(expr.left, values), substitute(expr.right, values))
    if isinstance(expr, App):
        return App(expr.name, tuple(substitute(a, values) for a in expr.args))
    return expr


def same_term(rel: Relation, values: dict[str, Fraction]) -> bool:
    """Both sides are the same term once bound names are replaced (``f(2) = f(2)``)."""
    return rel.op in ("=", "<=", ">=", "~=") and substitute(rel.left, values) == substitute(
        rel.right, values)

