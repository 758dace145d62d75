"""Exact rational evaluation of ground arithmetic: the checker's fast path.

Every intermediate value is bounded by :data:`MAX_BITS` (numerator and denominator), and a
power is refused before it is computed when its result would exceed that bound, so inputs like
``10^10^10`` fail in microseconds with :class:`TooLargeError` instead of exhausting memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from prover.arith.ast import Bin, Expr, Neg, Num, Var, to_smt
from prover.arith.parse import TooLargeError

MAX_BITS = 4096


class DivisionByZeroError(ArithmeticError):
    """A denominator evaluated to zero; ``term`` is the offending division in formal form."""

    def __init__(self, term: str) -> None:
        super().__init__(f"division by zero in {term}")
        self.term = term


class NotRationalError(ArithmeticError):
    """The value is irrational (e.g. ``2^(1/2)``): exact rational evaluation cannot decide it."""


class UnboundError(KeyError):
    """A variable has no value in the environment."""


def _bounded(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise TooLargeError(f"intermediate value exceeds {MAX_BITS} bits")
    return value


def _iroot(n: int, k: int) -> int | None:
    """Exact integer k-th root of n >= 0, or None."""
    if n < 2:
        return n
    guess = int(round(n ** (1.0 / k))) if n.bit_length() < 1000 else 1 << (n.bit_length() // k)
    for cand in (guess - 1, guess, guess + 1):
        if cand >= 0 and cand**k == n:
            return cand
    lo, hi = 0, 1 << (n.bit_length() // k + 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if mid**k < n:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo**k == n else None


def power(base: Fraction, exp: Fraction) -> Fraction:
    """``base ** exp`` exactly, refusing oversized results and irrational roots."""
    if exp.denominator > 16:
        raise NotRationalError("root of degree above 16")
    if base == 0:
        if exp < 0:
            raise DivisionByZeroError("(^ 0 negative)")
        return Fraction(0) if exp else Fraction(1)
    size = max(base.numerator.bit_length(), base.denominator.bit_length())
    if size * abs(exp) > MAX_BITS + 64 and abs(base) != 1:
        raise TooLargeError(f"power result would exceed {MAX_BITS} bits")
    if exp.denominator == 1:
        return _bounded(base ** int(exp))
    if base < 0:
        raise NotRationalError("even root of a negative number" if exp.denominator % 2 == 0
                               else "root of a negative number")
    k = exp.denominator
    num_root, den_root = _iroot(base.numerator, k), _iroot(base.denominator, k)
    if num_root is None or den_root is None:
        raise NotRationalError(f"root of degree {k} is irrational")
    return _bounded(Fraction(num_root, den_root) ** exp.numerator)


def evaluate(expr: Expr, env: Mapping[str, Fraction] | None = None) -> Fraction:
    """Exact value of ``expr`` with variables taken from ``env``.

    Raises DivisionByZeroError, TooLargeError, NotRationalError or UnboundError; never a
    float anywhere.
    """
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Var):
        if env is None or expr.name not in env:
            raise UnboundError(expr.name)
        return env[expr.name]
    if isinstance(expr, Neg):
        return -evaluate(expr.arg, env)
    left = evaluate(expr.left, env)
    right = evaluate(expr.right, env)
    op = expr.op
    if op == "+":
        return _bounded(left + right)
    if op == "-":
        return _bounded(left - right)
    if op == "*":
        return _bounded(left * right)
    if op in ("/", "//"):
        if right == 0:
            raise DivisionByZeroError(to_smt(expr))
        quotient = left / right
        return _bounded(quotient) if op == "/" else Fraction(quotient.numerator // quotient.denominator)
    return power(left, right)


def is_ground(expr: Expr, env: Mapping[str, Fraction]) -> bool:
    """True when every variable of ``expr`` has a value in ``env``."""
    stack: list[Expr] = [expr]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Var):
            if cur.name not in env:
                return False
        elif isinstance(cur, Neg):
            stack.append(cur.arg)
        elif isinstance(cur, Bin):
            stack.extend((cur.left, cur.right))
    return True


def denominators(expr: Expr) -> list[Expr]:
    """Every divisor term below ``expr`` (for division-by-zero guards)."""
    found: list[Expr] = []
    stack: list[Expr] = [expr]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Neg):
            stack.append(cur.arg)
        elif isinstance(cur, Bin):
            if cur.op in ("/", "//"):
                found.append(cur.right)
            stack.extend((cur.left, cur.right))
    return found
