"""Exact rational evaluation of ground arithmetic: the checker's fast path.

Every intermediate value is bounded by :data:`MAX_BITS` (numerator and denominator), and a
power is refused before it is computed when its result would exceed that bound, so inputs like
``10^10^10`` fail in microseconds with :class:`TooLargeError` instead of exhausting memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from prover.arith.ast import App, Bin, Const, Expr, Neg, Num, Var, to_smt, walk
from prover.arith.parse import TooLargeError
from prover.arith.radicals import TRIG, Surd, trig_at_pi_multiple

MAX_BITS = 4096


class DivisionByZeroError(ArithmeticError):
    """A denominator evaluated to zero; ``term`` is the offending division in formal form."""

    def __init__(self, term: str) -> None:
        super().__init__(f"division by zero in {term}")
        self.term = term


class NotRationalError(ArithmeticError):
    """The value is irrational (e.g. ``2^(1/2)``): exact rational evaluation cannot decide it."""


class UninterpretedError(ArithmeticError):
    """The value needs a function or constant with no exact value here (``f(2)``, ``sin(1)``,
    ``pi``): only the same term on both sides decides such a claim."""


MAX_FACTORIAL = 400


def _integer(value: Fraction, what: str) -> int:
    if value.denominator != 1 or value < 0:
        raise UninterpretedError(f"{what} of {value} is not read")
    return value.numerator


def _log(base: Fraction, value: Fraction) -> Fraction:
    """``log_base(value)`` when it is a rational with denominator at most 6 (checked exactly by
    :func:`power`), else raise: a float only proposes the candidate, never decides."""
    if base <= 0 or base == 1 or value <= 0:
        raise UninterpretedError("log outside its domain")
    try:
        guess = (math.log(value.numerator) - math.log(value.denominator)) / (
            math.log(base.numerator) - math.log(base.denominator))
    except (ValueError, OverflowError, ZeroDivisionError) as err:
        raise UninterpretedError("log not computable") from err
    if abs(guess) > MAX_BITS:
        raise UninterpretedError("log too large")
    exp = Fraction(guess).limit_denominator(6)
    try:
        if power(base, exp) == value:
            return exp
    except (NotRationalError, TooLargeError, DivisionByZeroError):
        pass
    raise UninterpretedError("the logarithm is not a simple rational")


def pi_multiple(expr: Expr, env: Mapping[str, Fraction] | None) -> Fraction | None:
    """``m`` when ``expr`` is exactly ``m·π`` (``pi/6``, ``30*pi/180``, ``2*pi - pi/3``), 0 for a
    ground expression equal to zero; None for anything else (an unknown, another
    application, a non-linear use of π)."""
    part = _pi_linear(expr, env)
    if part is None:
        return None
    rational, multiple = part
    return multiple if rational == 0 else None


def _pi_linear(expr: Expr, env: Mapping[str, Fraction] | None) -> tuple[Fraction, Fraction] | None:
    """``(a, b)`` with ``expr = a + b·π`` exactly, or None."""
    if isinstance(expr, Const):
        return (Fraction(0), Fraction(1)) if expr.name == "pi" else None
    if isinstance(expr, Neg):
        inner = _pi_linear(expr.arg, env)
        return None if inner is None else (-inner[0], -inner[1])
    if isinstance(expr, Bin) and expr.op in ("+", "-", "*", "/"):
        left, right = _pi_linear(expr.left, env), _pi_linear(expr.right, env)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left[0] + right[0], left[1] + right[1]
        if expr.op == "-":
            return left[0] - right[0], left[1] - right[1]
        if expr.op == "*":
            if left[1] and right[1]:
                return None
            scale, other = (left[0], right) if not left[1] else (right[0], left)
            return scale * other[0], scale * other[1]
        if right[1] or right[0] == 0:
            return None
        return left[0] / right[0], left[1] / right[0]
    try:
        return _bounded(evaluate(expr, env)), Fraction(0)
    except (ArithmeticError, TooLargeError, KeyError):
        return None


def _apply(expr: App, env: Mapping[str, Fraction] | None) -> Fraction:
    """Exact value of the few functions that have one: abs, factorial, binom, log of a power,
    floor and ceil of a rational, gcd and lcm of integers, ``residue(a, n)`` (``a mod n``),
    a trigonometric function at a multiple of π/12 whose value is rational (an irrational one
    raises :class:`NotRationalError`: :mod:`prover.arith.surds` computes it), exp(0)."""
    name = expr.name
    if name in TRIG and len(expr.args) == 1:
        multiple = pi_multiple(expr.args[0], env)
        value = None if multiple is None else _trig(name, multiple)
        if value is not None:
            if not value.is_rational:
                raise NotRationalError(f"{name} of {multiple}·pi is irrational")
            return value.rational
    if name == "residue" and len(expr.args) == 2:  # a ≡ b (mod n): residue(a - b, n) = 0
        modulus = _integer(abs(evaluate(expr.args[1], env)), "residue")
        if modulus == 0:
            raise UninterpretedError("a residue modulo 0 is not read")
        return Fraction(residue(expr.args[0], modulus, env))
    args = [evaluate(a, env) for a in expr.args]
    if name == "abs" and len(args) == 1:
        return abs(args[0])
    if name == "factorial" and len(args) == 1:
        n = _integer(args[0], "factorial")
        if n > MAX_FACTORIAL:
            raise TooLargeError(f"factorial of {n} exceeds the bound {MAX_FACTORIAL}")
        return Fraction(math.factorial(n))
    if name == "binom" and len(args) == 2:
        n, k = _integer(args[0], "binom"), _integer(args[1], "binom")
        if n > 4 * MAX_FACTORIAL:
            raise TooLargeError(f"binomial of {n} exceeds the bound")
        return Fraction(math.comb(n, k))
    if name == "log" and len(args) == 2:
        return _log(args[0], args[1])
    if name in ("floor", "ceil") and len(args) == 1:
        if has_truncated(expr.args[0]):  # "3.00…" may be 3.004: its ceiling is not known
            raise UninterpretedError(f"{name} of a truncated decimal is not read")
        return Fraction(math.floor(args[0]) if name == "floor" else math.ceil(args[0]))
    if name in ("gcd", "lcm") and len(args) >= 2:
        return _gcd_lcm(name, args)
    if name in ("ln", "log", "lg") and len(args) == 1 and args[0] == 1:
        return Fraction(0)
    if name == "exp" and len(args) == 1 and args[0] == 0:
        return Fraction(1)
    raise UninterpretedError(f"{name}(...) has no exact value here")


def has_truncated(expr: Expr) -> bool:
    """Whether a literal below ``expr`` is a truncated decimal (``3.363…``)."""
    return any(isinstance(cur, Num) and cur.truncated for cur in walk(expr))


MAX_FACTORIAL_RESIDUE = 100_000


def residue(expr: Expr, modulus: int, env: Mapping[str, Fraction] | None = None) -> int:
    """``expr mod modulus`` (in ``[0, modulus)``) of an integer-valued ground expression, with
    powers and factorials reduced as they are computed (``7^131 mod 25`` never builds 7^131).
    A part that is no integer sum, product, power or factorial is evaluated exactly and must be
    an integer; anything else raises :class:`UninterpretedError`."""
    if isinstance(expr, Neg):
        return -residue(expr.arg, modulus, env) % modulus
    if isinstance(expr, Bin) and expr.op in ("+", "-", "*"):
        a, b = residue(expr.left, modulus, env), residue(expr.right, modulus, env)
        return (a + b if expr.op == "+" else a - b if expr.op == "-" else a * b) % modulus
    if isinstance(expr, Bin) and expr.op == "^":
        exp = evaluate(expr.right, env)
        if exp.denominator == 1 and 0 <= exp.numerator <= 1 << 64:
            return pow(residue(expr.left, modulus, env), exp.numerator, modulus)
    if isinstance(expr, App) and expr.name == "factorial" and len(expr.args) == 1:
        n = _integer(evaluate(expr.args[0], env), "factorial")
        if n <= MAX_FACTORIAL_RESIDUE:
            out = 1 % modulus
            for k in range(2, min(n, modulus) + 1):  # k! is 0 mod m once k >= m
                out = out * k % modulus
            return 0 if n >= modulus else out
    value = evaluate(expr, env)
    if value.denominator != 1:
        raise UninterpretedError(f"a residue of the non-integer {value} is not read")
    return value.numerator % modulus


def _gcd_lcm(name: str, args: list[Fraction]) -> Fraction:
    """gcd or lcm of integers (of their absolute values); a non-integer is not read."""
    ints = []
    for arg in args:
        if arg.denominator != 1:
            raise UninterpretedError(f"{name} of the non-integer {arg} is not read")
        ints.append(abs(arg.numerator))
    return _bounded(Fraction(math.gcd(*ints) if name == "gcd" else math.lcm(*ints)))


def _trig(name: str, multiple: Fraction) -> Surd | None:
    try:
        return trig_at_pi_multiple(name, multiple)
    except ZeroDivisionError as err:
        raise UninterpretedError(f"{name} is undefined at {multiple}·pi") from err


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
    kind = type(expr)  # exact types first (the common case, no isinstance chain)
    if kind is Num:
        return expr.value  # type: ignore[union-attr]
    if kind is Bin:
        left = evaluate(expr.left, env)  # type: ignore[union-attr]
        right = evaluate(expr.right, env)  # type: ignore[union-attr]
        op = expr.op  # type: ignore[union-attr]
        if op in _INTEGER_OPS and left.denominator == 1 and right.denominator == 1:
            # integers: int arithmetic and one Fraction, the same value as Fraction arithmetic
            a, b = left.numerator, right.numerator
            value = a + b if op == "+" else a - b if op == "-" else a * b
            if value.bit_length() > MAX_BITS:
                raise TooLargeError(f"intermediate value exceeds {MAX_BITS} bits")
            return Fraction(value)
        return _binary(expr, op, left, right)  # type: ignore[arg-type]
    if isinstance(expr, Var):
        if env is None or expr.name not in env:
            raise UnboundError(expr.name)
        return env[expr.name]
    if isinstance(expr, Neg):
        return -evaluate(expr.arg, env)
    if isinstance(expr, App):
        return _apply(expr, env)
    if isinstance(expr, Const):
        raise UninterpretedError(f"the constant {expr.name} has no exact rational value")
    return _binary(expr, expr.op, evaluate(expr.left, env), evaluate(expr.right, env))


_INTEGER_OPS = ("+", "-", "*")


def _binary(expr: Bin, op: str, left: Fraction, right: Fraction) -> Fraction:
    """``left op right`` exactly (bounded); ``expr`` names a zero divisor in the error."""
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
    return all(cur.name in env for cur in walk(expr) if isinstance(cur, Var))


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
        elif isinstance(cur, App):
            stack.extend(cur.args)
    return found
