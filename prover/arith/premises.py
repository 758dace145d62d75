"""What a claim may use (:class:`Premises`) and the tolerance a stated rounded value allows.

Pure syntax-level helpers shared by the exact checker (:mod:`prover.arith.check`) and the Z3
backend (:mod:`prover.z3.arith`), so neither imports the other's module (no import circle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from prover.arith.ast import PERCENT, Bin, Neg, Num, Relation, variables


@dataclass
class Premises:
    """What a claim may use: ground values of defined names, stated symbolic constraints, and
    whether unknowns range over the integers (only when the text says so)."""

    values: dict[str, Fraction] = field(default_factory=dict)
    constraints: list[Relation] = field(default_factory=list)
    integer: bool = False
    # the names the text itself declares integral ("n is a positive integer"); the Z3 side
    # may declare exactly these as Int (``integer`` stays the all-unknowns switch)
    integer_names: frozenset[str] = frozenset()


def premises_key(premises: Premises, rel: Relation | None = None) -> tuple | None:
    """What a solver answer about ``premises`` (and the claim ``rel``, if given) depends on:
    the claim, the constraints, the integer switches and the values of the names in play. A
    memo key; None when a part is unhashable (no memo)."""
    names: set[str] = set()
    for c in premises.constraints:
        names |= variables(c)
    if rel is not None:
        names |= variables(rel)
    key = (rel, tuple(premises.constraints), premises.integer, premises.integer_names,
           tuple(sorted((n, premises.values[n]) for n in names if n in premises.values)))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _literal(node: object) -> tuple[Fraction, int] | None:
    """(value, stated decimals) when ``node`` is a plain (possibly negated) decimal literal."""
    if isinstance(node, Neg):
        inner = _literal(node.arg)
        return (-inner[0], inner[1]) if inner else None
    if isinstance(node, Num):
        d = node.decimals
        return (node.value, d) if d is not None else None
    if isinstance(node, Bin) and node.op == "/" and node.right is PERCENT and isinstance(
            node.left, Num):
        # a stated percentage: "66.7%" is 0.667, rounded to the place of its last digit
        inner = _literal(node.left)
        return (inner[0] / 100, inner[1] + 2) if inner else None
    return None


def rounded_place(rel: Relation) -> Fraction | None:
    """The place an ``≈`` value may be rounded to when its spelling suggests it: ``10^k`` for a
    whole literal ending in k zeros (``≈ 1200``: 100) or for a power ``10^k`` itself; None
    for ``=`` and otherwise. Such a claim is not checked against that place (``√50 ≈ 10`` is
    within it and still a poor approximation), only kept from being refuted within it."""
    if rel.op != "~=":
        return None
    return _rounded_place(rel.right) or _rounded_place(rel.left)


def _rounded_place(node: object) -> Fraction | None:
    if isinstance(node, Neg):
        return _rounded_place(node.arg)
    if isinstance(node, Num) and node.decimals == 0 and node.value:
        digits = node.text.lstrip("-")
        zeros = len(digits) - len(digits.rstrip("0"))
        return Fraction(10**zeros) if zeros else None
    if isinstance(node, Bin) and node.op == "^" and isinstance(node.left, Num) and (
            node.left.value == 10) and isinstance(node.right, Num) and (
            node.right.value.denominator == 1 and 1 <= node.right.value <= 400):
        return Fraction(10**int(node.right.value))
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
