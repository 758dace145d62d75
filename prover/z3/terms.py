"""What the terms of a Z3 query are, read without a solver: bounded model values and the isolation
rule.

- :func:`model_value` prints a model value as plain exact text, bounded (a 4,400-digit integer is
  abbreviated with its digit count, never converted to a Python int);
- :func:`needs_isolation` says whether a query holds a term Z3 is known not to interrupt (a power
  whose exponent is not a small natural-number numeral), so that :mod:`prover.z3.gateway` sends
  it to the killable worker of :mod:`prover.z3.isolate`.

Part of :mod:`prover.z3.gateway`, which re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import z3

MAX_SHOWN_DIGITS = 40
"""A model number with more digits than this is shown abbreviated (leading digits, count)."""



# --------------------------------------------------------------------------- bounded values
def _digits(text: str) -> str:
    """A decimal integer text, abbreviated when it has more than MAX_SHOWN_DIGITS digits."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    if len(body) <= MAX_SHOWN_DIGITS:
        return sign + body
    return f"{sign}{body[:12]}…{body[-4:]} ({len(body)} digits)"


def model_value(value: z3.ExprRef) -> str:
    """A model value as plain exact text, bounded: integers and fractions print in full up to
    :data:`MAX_SHOWN_DIGITS` digits and abbreviated (with their digit count) beyond; algebraic
    numbers as 12-digit decimals. Never converts a huge number to a Python int."""
    if z3.is_int_value(value):
        return _digits(value.as_string())
    if z3.is_rational_value(value):
        num, den = value.numerator().as_string(), value.denominator().as_string()
        return _digits(num) if den == "1" else f"{_digits(num)}/{_digits(den)}"
    if z3.is_algebraic_value(value):
        return value.as_decimal(12).rstrip("?") + " (algebraic)"
    text = value.sexpr() if z3.is_expr(value) else str(value)
    return text if len(text) <= 200 else text[:200] + "…"


# --------------------------------------------------------------------------- isolation rule


def needs_isolation(terms: Iterable[z3.ExprRef]) -> bool:
    """Whether a query holds terms Z3 may not interrupt (seen: ``a^(1001/4002 - 1)`` ran for
    minutes under a 2 s timeout and ignored ``interrupt``): a power whose exponent is not a
    natural-number numeral (Z3's exponent terms reach its transcendental/irrational code), or a
    numeral above :data:`MAX_SAFE_EXPONENT` (expanding ``x**2010`` ignored it too).
    The answer per term text is remembered (the same premises come back with every claim);
    the text alone decides it, so the memo holds no Z3 object."""
    found = False
    for term in terms:
        text = term.sexpr()
        if "(^ " not in text:  # cheap C-side prefilter
            continue
        known = _ISOLATION.get(text)
        if known is None:
            if len(_ISOLATION) >= _ISOLATION_SIZE:
                _ISOLATION.clear()
            known = _ISOLATION[text] = _has_opaque_power(term)
        found = found or known
    return found


_ISOLATION: dict[str, bool] = {}
_ISOLATION_SIZE = 2048


#: the largest natural exponent Z3 is trusted to expand under an interrupt: ``x**2010`` in a
#: premise (omnimath-554) ran for minutes in the in-process solver and ignored ``interrupt``
MAX_SAFE_EXPONENT = 16


def safe_exponent(exponent: z3.ExprRef) -> bool:
    """Whether a power with this exponent may run in process: a natural-number numeral of at
    most :data:`MAX_SAFE_EXPONENT` (others go to the isolate worker, which can be killed)."""
    if z3.is_int_value(exponent):
        return 0 <= exponent.as_long() <= MAX_SAFE_EXPONENT
    if z3.is_rational_value(exponent) and exponent.denominator_as_long() == 1:
        return 0 <= exponent.numerator_as_long() <= MAX_SAFE_EXPONENT
    return False


def _has_opaque_power(root: z3.ExprRef) -> bool:
    """Whether ``root`` holds a power :func:`safe_exponent` does not accept."""
    return any(z3.is_app(term) and term.decl().kind() == z3.Z3_OP_POWER
               and not safe_exponent(term.arg(1)) for term in walk([root]))


def walk(terms: Iterable[z3.ExprRef]) -> Iterator[z3.ExprRef]:
    """Every sub-term once (quantifier bodies included), pre-order."""
    seen: set[int] = set()
    stack = list(terms)[::-1]
    while stack:
        term = stack.pop()
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        yield term
        if z3.is_quantifier(term):
            stack.append(term.body())
        elif z3.is_app(term):
            stack.extend(reversed(term.children()))


def uninterpreted_symbols(terms: Iterable[z3.ExprRef], consts_only: bool = False
                  ) -> dict[str, z3.ExprRef]:
    """The first application in ``terms`` (quantifier bodies too) of each uninterpreted symbol,
    by name; with ``consts_only``, of the 0-ary ones only."""
    found: dict[str, z3.ExprRef] = {}
    for term in walk(terms):
        if z3.is_app(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED and (
                not consts_only or z3.is_const(term)):
            found.setdefault(term.decl().name(), term)
    return found
