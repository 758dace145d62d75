"""Exact arithmetic in Q(√a): sums, products and quotients of rationals and square roots of
rationals, decided without a solver and without floats.

A value is a :class:`Surd`, a Q-linear combination ``Σ c_d·√d`` over distinct square-free
integers ``d >= 1`` (``d = 1`` is the rational part). Distinct square-free roots are linearly
independent over Q, so this form is canonical: two values are equal exactly when their terms
are. Division rationalises one prime at a time (``1/(u + v√p) = (u - v√p)/(u² - p·v²)``) and
the sign of a value is found the same way, so ``(2+√3)(2-√3) = 1``, ``√12 = 2√3``,
``√8/√2 = 2`` and ``√2 < 1.415`` are all decided exactly.

Every size is bounded (terms, distinct primes, radicand size, coefficient bits, powers);
exceeding a bound raises :class:`prover.arith.parse.TooLargeError`, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from prover.arith.parse import TooLargeError

MAX_TERMS = 64
MAX_PRIMES = 8
MAX_RADICAND = 10**10
_TRIAL = 10**5  # every prime factor of a radicand up to MAX_RADICAND is found by k <= _TRIAL
MAX_COEFF_BITS = 4096
MAX_POWER = 64


@dataclass(frozen=True, slots=True)
class Surd:
    """``Σ coeff·√radicand``: ``terms`` sorted by radicand, no zero coefficient, every
    radicand square-free (1 is the rational part). Build with :func:`surd` / :func:`sqrt_of`."""

    terms: tuple[tuple[int, Fraction], ...]

    @property
    def is_rational(self) -> bool:
        """True when no square root is left."""
        return all(d == 1 for d, _ in self.terms)

    @property
    def rational(self) -> Fraction:
        """The rational part (the whole value when :attr:`is_rational`)."""
        return next((c for d, c in self.terms if d == 1), Fraction(0))

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for d, c in self.terms:
            coeff = str(c) if c.denominator == 1 else f"({c})"
            parts.append(coeff if d == 1 else f"{coeff}*sqrt({d})")
        return " + ".join(parts).replace("+ -", "- ")


ZERO = Surd(())


def _make(items: dict[int, Fraction]) -> Surd:
    terms = tuple(sorted((d, c) for d, c in items.items() if c != 0))
    if len(terms) > MAX_TERMS:
        raise TooLargeError(f"more than {MAX_TERMS} distinct square roots")
    for _, c in terms:
        if c.numerator.bit_length() > MAX_COEFF_BITS or c.denominator.bit_length() > MAX_COEFF_BITS:
            raise TooLargeError(f"a coefficient exceeds {MAX_COEFF_BITS} bits")
    return Surd(terms)


def surd(value: Fraction | int) -> Surd:
    """The rational ``value`` as a Surd."""
    return _make({1: Fraction(value)})


@lru_cache(maxsize=4096)
def _squarefree(n: int) -> tuple[int, int]:
    """``(s, f)`` with ``n = s²·f`` and ``f`` square-free (``n >= 1``, at most MAX_RADICAND).
    Trial division by every k up to ∛n; what is left is 1, a prime, a prime squared or a
    product of two distinct primes, so a perfect-square test finishes it."""
    if n > MAX_RADICAND:
        raise TooLargeError(f"radicand above {MAX_RADICAND}")
    outside, inside = 1, 1
    k = 2
    while k * k * k <= n:
        if n % k == 0:
            count = 0
            while n % k == 0:
                n //= k
                count += 1
            outside *= k ** (count // 2)
            if count % 2:
                inside *= k
        k += 1
    root = _isqrt(n)
    if n > 1 and root * root == n:
        outside *= root
    else:
        inside *= n
    return outside, inside


def _isqrt(n: int) -> int:
    import math

    return math.isqrt(n)


def sqrt_of(value: Fraction) -> Surd:
    """``√value`` for a rational ``value >= 0`` (``√(a/b) = √(a·b)/b``); ValueError below 0."""
    if value < 0:
        raise ValueError("even root of a negative number")
    if value == 0:
        return ZERO
    outside, inside = _squarefree(value.numerator * value.denominator)
    return _make({inside: Fraction(outside, value.denominator)})


def add(x: Surd, y: Surd) -> Surd:
    """``x + y``."""
    items = dict(x.terms)
    for d, c in y.terms:
        items[d] = items.get(d, Fraction(0)) + c
    return _make(items)


def neg(x: Surd) -> Surd:
    """``-x``."""
    return Surd(tuple((d, -c) for d, c in x.terms))


def sub(x: Surd, y: Surd) -> Surd:
    """``x - y``."""
    return add(x, neg(y))


def mul(x: Surd, y: Surd) -> Surd:
    """``x · y`` (``√a·√b = g·√(ab/g²)``)."""
    if len(x.terms) * len(y.terms) > MAX_TERMS * MAX_TERMS:
        raise TooLargeError("product with too many terms")
    items: dict[int, Fraction] = {}
    for d1, c1 in x.terms:
        for d2, c2 in y.terms:
            g = _gcd(d1, d2)
            d = (d1 // g) * (d2 // g)  # square-free: d1, d2 square-free, common part squared out
            items[d] = items.get(d, Fraction(0)) + c1 * c2 * g
    return _make(items)


def _gcd(a: int, b: int) -> int:
    import math

    return math.gcd(a, b)


def _a_prime(x: Surd) -> int | None:
    """The smallest prime dividing some radicand of ``x``; None when ``x`` is rational.
    Radicands are products of primes of radicands up to MAX_RADICAND, so trial division up to
    ``_TRIAL`` finds a factor or proves a radicand up to MAX_RADICAND prime; a larger
    radicand without a small factor is refused (TooLargeError)."""
    best: int | None = None
    for d, _ in x.terms:
        if d == 1:
            continue
        k = 2
        while k * k <= d and d % k and k <= _TRIAL:
            k += 1
        if d % k == 0 and k * k <= d:
            p = k
        elif k * k > d or d <= MAX_RADICAND:
            p = d
        else:
            raise TooLargeError("a radicand with only large prime factors")
        best = p if best is None else min(best, p)
    return best


def _split(x: Surd, p: int) -> tuple[Surd, Surd]:
    """``(u, v)`` with ``x = u + v·√p``, neither ``u`` nor ``v`` involving ``√p``."""
    u = {d: c for d, c in x.terms if d % p}
    v = {d // p: c for d, c in x.terms if d % p == 0}
    return _make(u), _make(v)


def _primes(x: Surd) -> set[int]:
    found: set[int] = set()
    y = x
    while (p := _a_prime(y)) is not None:
        found.add(p)
        if len(found) > MAX_PRIMES:
            raise TooLargeError(f"more than {MAX_PRIMES} distinct primes under square roots")
        y = _make({(d // p if d % p == 0 else d): c for d, c in y.terms})
    return found


def inverse(x: Surd) -> Surd:
    """``1 / x``; ZeroDivisionError for zero."""
    if not x.terms:
        raise ZeroDivisionError("division by zero")
    _primes(x)  # bound the recursion depth before starting
    return _inverse(x)


def _inverse(x: Surd) -> Surd:
    if x.is_rational:
        return surd(1 / x.rational)
    p = _a_prime(x)
    assert p is not None
    u, v = _split(x, p)
    conj = sub(u, mul(v, sqrt_of(Fraction(p))))
    norm = sub(mul(u, u), mul(surd(p), mul(v, v)))  # no √p left: fewer primes
    return mul(conj, _inverse(norm))


def div(x: Surd, y: Surd) -> Surd:
    """``x / y``; ZeroDivisionError when ``y`` is zero."""
    return mul(x, inverse(y))


def sign(x: Surd) -> int:
    """-1, 0 or 1: the exact sign of ``x`` (``u + v√p`` has the sign of ``u`` when ``u`` and
    ``v`` agree, else ``sign(u)·sign(u² - p·v²)``)."""
    _primes(x)
    return _sign(x)


def _sign(x: Surd) -> int:
    if x.is_rational:
        r = x.rational
        return (r > 0) - (r < 0)
    p = _a_prime(x)
    assert p is not None
    u, v = _split(x, p)
    su, sv = _sign(u), _sign(v)
    if su == 0 or sv == 0 or su == sv:
        return su or sv
    return su * _sign(sub(mul(u, u), mul(surd(p), mul(v, v))))


def power(base: Surd, exp: Fraction) -> Surd:
    """``base ** exp`` for an integer ``exp`` (|exp| <= MAX_POWER), or a half-integer ``exp`` of a
    rational ``base >= 0``; NotImplementedError for anything else (the caller leaves it to
    a solver)."""
    if exp.denominator == 2 and base.is_rational:
        root = sqrt_of(base.rational)  # ValueError below zero
        return power(root, Fraction(exp.numerator))
    if exp.denominator != 1:
        raise NotImplementedError("only square roots are exact here")
    n = int(exp)
    if abs(n) > MAX_POWER:
        raise TooLargeError(f"power above {MAX_POWER} of an irrational value")
    if n < 0:
        return power(inverse(base), Fraction(-n))
    result, square = surd(1), base
    while n:
        if n & 1:
            result = mul(result, square)
        n >>= 1
        if n:
            square = mul(square, square)
    return result


def absolute(x: Surd) -> Surd:
    """``|x|``."""
    return neg(x) if sign(x) < 0 else x


def approx(x: Surd) -> str:
    """A short decimal spelling for evidence (display only: no verdict reads it)."""
    total = 0.0
    for d, c in x.terms:
        total += float(c) * d**0.5
    return f"{total:.6g}"


_HALF_ROOT3 = Fraction(1, 2)


def _sin_twelfths(k: int) -> Surd:
    """``sin(k·π/12)`` exactly (every value lies in Q(√2, √3))."""
    k %= 24
    if k >= 12:
        return neg(_sin_twelfths(k - 12))
    if k > 6:
        k = 12 - k
    r2, r3, r6 = sqrt_of(Fraction(2)), sqrt_of(Fraction(3)), sqrt_of(Fraction(6))
    quarter = surd(Fraction(1, 4))
    table = {0: ZERO, 1: mul(quarter, sub(r6, r2)), 2: surd(Fraction(1, 2)),
             3: mul(surd(Fraction(1, 2)), r2), 4: mul(surd(_HALF_ROOT3), r3),
             5: mul(quarter, add(r6, r2)), 6: surd(1)}
    return table[k]


TRIG = frozenset(("sin", "cos", "tan", "cot", "sec", "csc"))


def trig_at_pi_multiple(name: str, multiple: Fraction) -> Surd | None:
    """``name(multiple·π)`` exactly when ``12·multiple`` is whole (the angles with values in
    Q(√2, √3)); None for any other angle. ZeroDivisionError where the function is undefined
    (``tan(π/2)``)."""
    if name not in TRIG or (12 * multiple).denominator != 1:
        return None
    k = int(12 * multiple) % 24
    s, c = _sin_twelfths(k), _sin_twelfths(k + 6)
    if name == "sin":
        return s
    if name == "cos":
        return c
    if name == "tan":
        return div(s, c)
    if name == "cot":
        return div(c, s)
    if name == "sec":
        return inverse(c)
    return inverse(s)
