"""Decide ground claims with square roots exactly, in Q(√a), before any solver is asked.

:func:`evaluate_surd` evaluates an expression to a :class:`prover.arith.radicals.Surd` (sums,
products, quotients, integer powers and square roots of rationals, trigonometric functions at
multiples of π/12); :func:`check_radical` compares the two sides of a claim with the same rules
as :func:`prover.arith.check.compare_values` (exact ``=``; a stated decimal allows half a unit
of its last digit, a truncated one a whole unit; ``≈`` also 1%), every comparison exact. Whatever
falls outside the field (a cube root, ``√(1+√2)``, an unknown, an uninterpreted function) gives
None: the caller decides it another way or says ``unknown``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from prover.arith import radicals as rad
from prover.arith.ast import App, Const, Expr, Neg, Num, Relation, Var, format_number, num
from prover.arith.evaluate import evaluate, has_truncated, pi_multiple
from prover.arith.parse import TooLargeError
from prover.arith.powers import check_monomial
from prover.arith.premises import stated_tolerance
from prover.arith.radicals import Surd
from prover.records.verdicts import Verdict


class OutsideFieldError(ArithmeticError):
    """The value is not (known to be) in Q(√a): a solver or nobody decides it."""


def evaluate_surd(expr: Expr, env: Mapping[str, Fraction] | None = None) -> Surd:
    """Exact value of ``expr`` in Q(√a). Raises :class:`OutsideFieldError` (not in the field,
    or an unbound name or uninterpreted term), ZeroDivisionError, or TooLargeError."""
    if isinstance(expr, Num):
        return rad.surd(expr.value)
    if isinstance(expr, Var):
        if env is None or expr.name not in env:
            raise OutsideFieldError(f"{expr.name} has no value")
        return rad.surd(env[expr.name])
    if isinstance(expr, Const):
        raise OutsideFieldError(f"the constant {expr.name} is not in Q(√a)")
    if isinstance(expr, Neg):
        return rad.neg(evaluate_surd(expr.arg, env))
    if isinstance(expr, App):
        return _apply(expr, env)
    left = evaluate_surd(expr.left, env)
    right = evaluate_surd(expr.right, env)
    op = expr.op
    if op == "+":
        return rad.add(left, right)
    if op == "-":
        return rad.sub(left, right)
    if op == "*":
        return rad.mul(left, right)
    if op == "/":
        return rad.div(left, right)
    if op == "^":
        if not right.is_rational:
            raise OutsideFieldError("an irrational exponent")
        try:
            return rad.power(left, right.rational)
        except NotImplementedError as err:
            raise OutsideFieldError(str(err)) from err
        except ValueError as err:  # an even root of a negative number
            raise OutsideFieldError(str(err)) from err
    raise OutsideFieldError(f"{op} is not exact in Q(√a)")


def _apply(expr: App, env: Mapping[str, Fraction] | None) -> Surd:
    if expr.name in rad.TRIG and len(expr.args) == 1:
        multiple = pi_multiple(expr.args[0], env)
        if multiple is not None:
            value = rad.trig_at_pi_multiple(expr.name, multiple)
            if value is not None:
                return value
    args = [evaluate_surd(a, env) for a in expr.args]
    if expr.name == "abs" and len(args) == 1:
        return rad.absolute(args[0])
    if expr.name in ("floor", "ceil") and any(has_truncated(a) for a in expr.args):
        raise OutsideFieldError(f"{expr.name} of a truncated decimal is not read")
    if expr.name in ("floor", "ceil") and len(args) == 1 and not args[0].is_rational:
        return rad.surd(_floor(args[0]) + (expr.name == "ceil"))  # irrational: never an integer
    if all(a.is_rational for a in args):
        try:
            return rad.surd(evaluate(App(expr.name, tuple(num(a.rational) for a in args))))
        except (ArithmeticError, TooLargeError, ValueError, KeyError) as err:
            raise OutsideFieldError(str(err)) from err
    raise OutsideFieldError(f"{expr.name}(...) of an irrational value is not read")


def _floor(x: Surd) -> int:
    """The integer ``n`` with ``n <= x < n + 1``: a float proposes it, exact signs decide."""
    try:
        guess = math.floor(sum(float(c) * math.sqrt(d) for d, c in x.terms))
    except (OverflowError, ValueError) as err:
        raise OutsideFieldError("the floor of a value too large for its estimate") from err
    for n in (guess, guess - 1, guess + 1):
        if rad.sign(rad.sub(x, rad.surd(n))) >= 0 and rad.sign(rad.sub(x, rad.surd(n + 1))) < 0:
            return n
    raise OutsideFieldError("the floor's estimate was off by more than one")


def _truncated_unit(rel: Relation) -> Fraction | None:
    for side in (rel.right, rel.left):
        lit = side.arg if isinstance(side, Neg) else side
        if isinstance(lit, Num) and lit.truncated and lit.decimals is not None:
            return Fraction(1, 10**lit.decimals)
    return None


_APPROX_RELATIVE = Fraction(1, 100)


def _max_abs(x: Surd, y: Surd) -> Surd:
    ax, ay = rad.absolute(x), rad.absolute(y)
    return ax if rad.sign(rad.sub(ax, ay)) >= 0 else ay


def compare_surds(rel: Relation, lhs: Surd, rhs: Surd) -> Verdict:
    """Verdict of ``lhs op rhs`` with both sides exact in Q(√a) (the rules of
    :func:`prover.arith.check.compare_values`)."""
    diff = rad.sub(lhs, rhs)
    s = rad.sign(diff)
    evidence = {"lhs": f"{lhs} (≈{rad.approx(lhs)})", "rhs": f"{rhs} (≈{rad.approx(rhs)})",
                "method": "exact arithmetic in Q(√a)"}
    if rel.op in ("=", "~="):
        if s == 0:
            return Verdict("verified", evidence={"method": "exact arithmetic in Q(√a)"})
        tol = _truncated_unit(rel) or stated_tolerance(rel)
        bounds = [] if tol is None else [rad.surd(tol)]
        if rel.op == "~=":  # as for rationals: "≈" also allows 1% (the smallest bound is shown)
            bounds.append(rad.mul(_max_abs(lhs, rhs), rad.surd(_APPROX_RELATIVE)))
        size = rad.absolute(diff)
        for bound in bounds:
            shown = format_number(bound.rational) if bound.is_rational else rad.approx(bound)
            if rad.sign(rad.sub(bound, size)) >= 0:
                return Verdict("verified_approx", evidence=evidence, tolerance=shown)
            evidence["tolerance"] = shown
        return Verdict("refuted", evidence=evidence)
    holds = {"!=": s != 0, "<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0}[rel.op]
    if holds:
        return Verdict("verified", evidence={"method": "exact arithmetic in Q(√a)"})
    return Verdict("refuted", evidence=evidence)


def check_radical(rel: Relation, values: Mapping[str, Fraction] | None = None) -> Verdict | None:
    """Decide a ground claim exactly in Q(√a); None when a side is outside the field, an
    unknown or a function is left, a bound is exceeded, or a denominator is zero (the
    rational evaluator reports those)."""
    try:
        lhs = evaluate_surd(rel.left, values)
        rhs = evaluate_surd(rel.right, values)
        return compare_surds(rel, lhs, rhs)
    except (OutsideFieldError, ZeroDivisionError, TooLargeError, RecursionError):
        return check_monomial(rel, values)  # 10^(-27/2), cube roots: exact powers, else None
