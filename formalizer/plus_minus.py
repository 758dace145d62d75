"""Read ``±`` as the pair of values it writes, for links between two ground expressions.

``\\frac{1 \\pm \\sqrt{9}}{2} = \\frac{1 \\pm 3}{2}`` says two sets of two values are equal. A link
is read only when each of its two sides has exactly one ``±`` (or ``∓``) and no names: it holds
when the two values on the left equal the two on the right, paired in order or crossed (so
``±(a - b) = ±(b - a)`` holds); it is false only when every one of the four exact comparisons was
decided and neither pairing works. Anything else with a ``±`` (a name equal to two values, one
side with two values and the other with one, two signs in one side) is not read.
"""

from __future__ import annotations

import re

from prover.arith.ast import Relation, variables
from prover.arith.check import check_ground
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain

SIGNS = ("±", "∓")
_RELATION = re.compile(r"(~=|<=|>=|!=|==|=|<|>)")


class NotRead(ValueError):
    """The ``±`` text is not read; the message says why."""


def _variants(operand: str) -> tuple[str, str]:
    """(upper, lower) spelling of an operand: ``±`` as ``+`` then ``-`` (``∓`` the other way)."""
    count = operand.count("±") + operand.count("∓")
    if count > 1:
        raise NotRead("more than one '±' in one expression: which signs go together is not read")
    if count == 0:
        return operand, operand
    return (operand.replace("±", "+").replace("∓", "-"),
            operand.replace("±", "-").replace("∓", "+"))


def _decide(left: str, right: str, functions: frozenset[str]) -> tuple[Relation, str | None]:
    """The relation ``left = right`` and its exact verdict kind (None when not decided)."""
    try:
        rel = parse_chain(f"{left} = {right}", functions)
    except (ArithSyntaxError, TooLargeError) as err:
        raise NotRead(str(err)) from err
    if len(rel) != 1 or variables(rel[0]):
        raise NotRead("'±' in an expression with names: two values are not read as one")
    verdict = check_ground(rel[0])
    kind = None if verdict is None else verdict.kind
    return rel[0], kind if kind in ("verified", "verified_approx", "refuted") else None


def read_plus_minus(text: str, functions: frozenset[str] = frozenset()) -> tuple[
        list[Relation], list[str]]:
    """The relations of a chain with ``±``, and why each link not read was not: a link between
    two-valued sides becomes the comparison of one pairing that holds, or of one that fails
    when none holds; any other link with a ``±`` (``k = (1 ± 3)/2``) is not read."""
    parts = _RELATION.split(text)
    operands, ops = parts[::2], parts[1::2]
    relations: list[Relation] = []
    problems: list[str] = []
    for k, op in enumerate(ops):
        try:
            relations.extend(_link(operands[k].strip(), op, operands[k + 1].strip(), functions))
        except NotRead as err:
            problems.append(str(err))
    return relations, problems


def _link(left: str, op: str, right: str, functions: frozenset[str]) -> list[Relation]:
    """The relations one link ``left op right`` is read as (see :func:`read_plus_minus`)."""
    signed = [any(s in side for s in SIGNS) for side in (left, right)]
    if not any(signed):
        try:
            return parse_chain(f"{left} {op} {right}", functions)
        except (ArithSyntaxError, TooLargeError) as err:
            raise NotRead(str(err)) from err
    if not all(signed) or op not in ("=", "=="):
        raise NotRead("'±' on one side only, or in an inequality: not read")
    (l_up, l_low), (r_up, r_low) = _variants(left), _variants(right)
    upper, k_upper = _decide(l_up, r_up, functions)
    lower, k_lower = _decide(l_low, r_low, functions)
    cross_a, k_cross_a = _decide(l_up, r_low, functions)
    cross_b, k_cross_b = _decide(l_low, r_up, functions)
    holds = ("verified", "verified_approx")
    if k_upper in holds and k_lower in holds:
        return [upper, lower]
    if k_cross_a in holds and k_cross_b in holds:
        return [cross_a, cross_b]
    if None in (k_upper, k_lower, k_cross_a, k_cross_b):
        raise NotRead("the values on the two sides of '±' could not all be compared exactly")
    return [upper if k_upper == "refuted" else lower]
