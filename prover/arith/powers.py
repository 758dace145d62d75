"""Exact products of rational powers of positive rationals: ``10^(-27/2)``, ``2^(1/3)·4^(2/3)``.

A ground side built from rationals by ``*``, ``/`` and ``^`` with a rational exponent (a root
of any degree up to :data:`MAX_ROOT`) is a *monomial* ``c · Π b_i^(e_i)``. :func:`check_monomial`
decides ``lhs op rhs`` exactly from the quotient ``lhs/rhs`` written over a basis of pairwise
coprime integers that are not perfect powers, each exponent reduced into ``[0, 1)``. Over such a
basis the form is unique: if ``c · Π b_i^(f_i)`` were rational with some ``0 < f_i < 1``, raising
it to the common denominator ``L`` would give ``v_p(c^L) = L·f_i·v_p(b_i)`` for every prime ``p``
of ``b_i`` (the bases share no prime), so ``f_i·v_p(b_i)`` is an integer for all of them, and as
the exponents ``v_p(b_i)`` have no common divisor (``b_i`` is no perfect power), ``f_i`` is an
integer: a contradiction. So the quotient is 1 exactly when ``c = 1`` and no base is left, and an
order is decided by comparing ``c^L · Π b_i^(L·f_i)`` with 1 in integers.

Sums are read only when both terms are rational; a negative base under a root, an unknown, a
function, a stated tolerance (a decimal literal, ``≈``) or a bound exceeded give None: another
reader decides the claim, or nobody does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from prover.arith.ast import Bin, Expr, Neg, Num, Relation, Var
from prover.arith.evaluate import MAX_BITS, _iroot, evaluate
from prover.arith.premises import stated_tolerance
from prover.records.verdicts import Verdict

MAX_ROOT = 64  # the largest root degree read
MAX_FACTORS = 24  # the most distinct bases one claim may hold
_METHOD = "exact products of rational powers (coprime bases, unique form)"


class NotMonomialError(ArithmeticError):
    """The expression is not a product of rational powers of positive rationals (as read)."""


Monomial = tuple[Fraction, dict[int, Fraction]]  # c · Π b^e with integer bases b > 1


def _of_rational(value: Fraction) -> Monomial:
    return value, {}


def _times(x: Monomial, y: Monomial, sign: int = 1) -> Monomial:
    """``x · y`` (``sign = -1``: ``x / y``; the caller has checked ``y`` is not zero)."""
    coef = x[0] * y[0] if sign == 1 else x[0] / y[0]
    powers = dict(x[1])
    for base, exp in y[1].items():
        powers[base] = powers.get(base, Fraction(0)) + sign * exp
    if len(powers) > MAX_FACTORS:
        raise NotMonomialError("too many distinct bases")
    return _bounded(coef), powers


def _bounded(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise NotMonomialError(f"a coefficient exceeds {MAX_BITS} bits")
    return value


def _power(x: Monomial, exp: Fraction) -> Monomial:
    """``x ** exp`` for a rational ``exp``; a root of a negative or zero coefficient is refused."""
    if exp.denominator > MAX_ROOT or abs(exp.numerator) > MAX_BITS:
        raise NotMonomialError("an exponent beyond the bounds")
    coef, powers = x
    if coef == 0:
        raise NotMonomialError("a power of zero")  # the rational evaluator reports 0^-1
    new = {b: e * exp for b, e in powers.items()}
    if exp.denominator == 1:
        size = max(coef.numerator.bit_length(), coef.denominator.bit_length())
        if size * abs(exp.numerator) > MAX_BITS + 64:
            raise NotMonomialError("a power beyond the bounds")
        return _bounded(coef ** exp.numerator), new
    if coef < 0:
        raise NotMonomialError("a root of a negative number is not read")
    for part, sign in ((coef.numerator, 1), (coef.denominator, -1)):
        if part > 1:
            new[part] = new.get(part, Fraction(0)) + sign * exp
    if len(new) > MAX_FACTORS:
        raise NotMonomialError("too many distinct bases")
    return Fraction(1), new


def monomial(expr: Expr, env: Mapping[str, Fraction] | None = None) -> Monomial:
    """``expr`` as ``c · Π b^e`` (not yet reduced); raises :class:`NotMonomialError`."""
    if isinstance(expr, Num):
        return _of_rational(expr.value)
    if isinstance(expr, Var):
        if env is None or expr.name not in env:
            raise NotMonomialError(f"{expr.name} has no value")
        return _of_rational(env[expr.name])
    if isinstance(expr, Neg):
        coef, powers = monomial(expr.arg, env)
        return -coef, powers
    if not isinstance(expr, Bin):
        raise NotMonomialError("a function or constant is not read here")
    if expr.op == "^":
        try:
            exp = evaluate(expr.right, env)
        except (ArithmeticError, ValueError, KeyError) as err:
            raise NotMonomialError("an exponent without an exact rational value") from err
        return _power(monomial(expr.left, env), exp)
    left, right = monomial(expr.left, env), monomial(expr.right, env)
    if expr.op == "*":
        return _times(left, right)
    if expr.op == "/":
        if right[0] == 0:
            raise NotMonomialError("a division by zero")  # the rational evaluator reports it
        return _times(left, right, -1)
    if expr.op in ("+", "-") and not _reduce(left)[1] and not _reduce(right)[1]:
        a, b = _reduce(left)[0], _reduce(right)[0]
        return _of_rational(_bounded(a + b if expr.op == "+" else a - b))
    raise NotMonomialError(f"{expr.op} of irrational powers is not read here")


def _perfect_root(n: int) -> tuple[int, int]:
    """``(r, k)`` with ``n = r^k`` and ``k`` largest (bases of at most 256 bits)."""
    if n.bit_length() > 256:
        raise NotMonomialError("a base too large to test for perfect powers")
    for k in range(n.bit_length(), 1, -1):
        root = _iroot(n, k)
        if root is not None and root > 1:
            return root, k
    return n, 1


def _reduce(x: Monomial) -> tuple[Fraction, dict[int, Fraction]]:
    """The unique form: pairwise coprime bases that are no perfect powers, exponents in
    ``(0, 1)``, integer parts moved into the coefficient."""
    coef, powers = x
    items = {b: e for b, e in powers.items() if e != 0 and b > 1}
    for _ in range(400):  # each split lowers the product of the bases, so this ends
        pair = next(((a, b) for a in items for b in items if a < b and math.gcd(a, b) > 1), None)
        if pair is None:
            break
        a, b = pair
        g = math.gcd(a, b)
        ea, eb = items.pop(a), items.pop(b)
        for base, exp in ((g, ea + eb), (a // g, ea), (b // g, eb)):
            if base > 1:
                items[base] = items.get(base, Fraction(0)) + exp
        items = {k: v for k, v in items.items() if v != 0}
    else:
        raise NotMonomialError("the coprime basis did not settle")
    reduced: dict[int, Fraction] = {}
    for base, exp in items.items():
        root, k = _perfect_root(base)
        exp *= k
        whole = exp.numerator // exp.denominator
        if whole:
            if root.bit_length() * abs(whole) > MAX_BITS + 64:
                raise NotMonomialError("a power beyond the bounds")
            coef = _bounded(coef * Fraction(root) ** whole)
        if exp - whole:
            reduced[root] = reduced.get(root, Fraction(0)) + exp - whole
    return coef, reduced


def _above_one(coef: Fraction, powers: dict[int, Fraction]) -> int:
    """Sign of ``coef · Π b^f - 1`` for ``coef > 0``, by integer powers."""
    lcd = math.lcm(*(f.denominator for f in powers.values())) if powers else 1
    bits = max(coef.numerator.bit_length(), coef.denominator.bit_length()) * lcd + sum(
        b.bit_length() * (f * lcd).numerator for b, f in powers.items())
    if bits > 4 * MAX_BITS:
        raise NotMonomialError("the comparison exceeds the bounds")
    value = coef ** lcd
    for base, exp in powers.items():
        value *= Fraction(base) ** int(exp * lcd)
    return (value > 1) - (value < 1)


def _sign(x: Monomial) -> int:
    return (x[0] > 0) - (x[0] < 0)


def check_monomial(rel: Relation, values: Mapping[str, Fraction] | None = None) -> Verdict | None:
    """Exact verdict of a ground claim whose sides are monomials (see the module docstring);
    None when a side is no monomial, a bound is exceeded, or the claim carries a tolerance
    (``≈``, a decimal literal): those are decided elsewhere or not at all."""
    if rel.op == "~=" or stated_tolerance(rel) is not None or _has_decimal(rel):
        return None
    try:
        lhs, rhs = monomial(rel.left, values), monomial(rel.right, values)
        sl, sr = _sign(lhs), _sign(rhs)
        if sl != sr or sl == 0:
            order = (sl > sr) - (sl < sr)
        else:
            coef, powers = _reduce(_times(lhs, rhs, -1))  # lhs/rhs > 0
            order = _above_one(coef, powers) * sl
    except (NotMonomialError, ZeroDivisionError, ValueError, OverflowError):
        return None
    holds = {"=": order == 0, "!=": order != 0, "<": order < 0, "<=": order <= 0,
             ">": order > 0, ">=": order >= 0}[rel.op]
    if holds:
        return Verdict("verified", evidence={"method": _METHOD})
    return Verdict("refuted", evidence={"method": _METHOD, "order": (
        "lhs > rhs" if order > 0 else "lhs < rhs" if order < 0 else "lhs = rhs")})


def _has_decimal(rel: Relation) -> bool:
    """Whether a literal of the claim is written with a decimal point (a possible rounding)."""
    stack: list[Expr] = [rel.left, rel.right]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Num) and ("." in cur.text or "…" in cur.text):
            return True
        if isinstance(cur, Neg):
            stack.append(cur.arg)
        elif isinstance(cur, Bin):  # an exponent is exact as written (sqrt is ^ 0.5)
            stack.extend((cur.left,) if cur.op == "^" else (cur.left, cur.right))
    return False
