"""Exact evaluation of a relation at fixed points of its unknowns, where the value is one a
solver would agree with.

A point here is a candidate counter-model for a claim under no premises: each unknown gets a
distinct whole number >= 2 (a model in the integer and in the real sort alike), the bound names
keep their values, and the point is used only when every part has an exact rational value that
Z3's reading of the same term shares: no denominator that depends on the unknowns (the solver's
division guard reads those), and every power with a positive base, or an integer exponent and a
non-zero base (never ``0^0``, ``0^-k`` or a root of a negative number, which Z3 leaves
unspecified). Pure, deterministic, no floating point.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction

from prover.arith.ast import App, Bin, Expr, Neg, Relation, variables
from prover.arith.evaluate import UnboundError, denominators, evaluate, is_ground
from prover.arith.parse import TooLargeError

POINT_BASES = (2, 3, 5, 7, 11, 13)
POINT_TRIALS = 4


def powers_defined(expr: Expr, env: Mapping[str, Fraction]) -> bool:
    """Every power below ``expr`` has, at ``env``, a value Z3 and exact evaluation agree on: a
    positive base, or an integer exponent with a non-zero base. Raises what
    :func:`prover.arith.evaluate.evaluate` raises."""
    stack: list[Expr] = [expr]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Neg):
            stack.append(cur.arg)
        elif isinstance(cur, App):
            stack.extend(cur.args)
        elif isinstance(cur, Bin):
            if cur.op == "^":
                base, exp = evaluate(cur.left, env), evaluate(cur.right, env)
                if (base < 0 and exp.denominator != 1) or (base == 0 and exp <= 0):
                    return False
            stack.extend((cur.left, cur.right))
    return True


def exact_points(rel: Relation, values: Mapping[str, Fraction]) -> Iterator[
        tuple[dict[str, Fraction], Fraction, Fraction]]:
    """(point, lhs, rhs) for each of :data:`POINT_TRIALS` fixed points of the unknowns of
    ``rel`` (names not in ``values``) where both sides evaluate exactly (see the module docs);
    nothing when ``rel`` has no unknowns or a denominator that depends on them."""
    names = sorted(variables(rel) - values.keys())
    if not names or any(not is_ground(d, values)
                        for d in denominators(rel.left) + denominators(rel.right)):
        return
    for trial in range(POINT_TRIALS):
        point = {name: Fraction(POINT_BASES[(i + trial) % len(POINT_BASES)] + trial)
                 for i, name in enumerate(names)}
        env = {**values, **point}
        try:
            if not (powers_defined(rel.left, env) and powers_defined(rel.right, env)):
                continue
            lhs, rhs = evaluate(rel.left, env), evaluate(rel.right, env)
        except (ArithmeticError, TooLargeError, UnboundError, ValueError):
            continue
        yield point, lhs, rhs
