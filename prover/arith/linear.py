"""The values a set of linear equations fixes, exactly (Gaussian elimination over Fractions).

Competition solutions state systems such as ``B + G = 100``, ``G = 4B``; a later claim
``B = 20`` is then a ground fact about the values the system fixes. :func:`fixed_values` reads
every constraint as ``sum(c_i * x_i) = c`` (coefficients exact rationals after the bound names
are substituted; a product needs a side without unknowns, a division a ground divisor, a power
a ground exponent whose value is 1 or a base without unknowns) and returns the names whose value
is the same in every real solution, together with whether that solution set is non-empty.

Contract: the answer is exact or None. None when any constraint is not a linear equation (an
inequality, a product of unknowns, a function), when the system has no solution (vacuous
premises are the solver's to report), or when it is too large (:data:`MAX_UNKNOWNS`). The
values returned hold in every real model of the constraints, and the constraints have one.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache

from prover.arith.ast import App, Const, Expr, Neg, Num, Relation, Var, variables
from prover.arith.evaluate import UnboundError, evaluate
from prover.arith.parse import TooLargeError

MAX_UNKNOWNS = 24
MAX_EQUATIONS = 32
Linear = dict[str | None, Fraction]  # name -> coefficient; None -> the constant term


def _scale(form: Linear, factor: Fraction) -> Linear:
    return {k: v * factor for k, v in form.items() if v * factor != 0}


def _add(a: Linear, b: Linear, sign: int = 1) -> Linear:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, Fraction(0)) + sign * v
        if out[k] == 0:
            del out[k]
    return out


def _ground(expr: Expr, values: Mapping[str, Fraction]) -> Fraction | None:
    try:
        return evaluate(expr, values)
    except (ArithmeticError, TooLargeError, UnboundError, ValueError):
        return None


def linear_form(expr: Expr, values: Mapping[str, Fraction]) -> Linear | None:
    """``expr`` as an exact linear form in its unbound names, or None when it is not one."""
    if isinstance(expr, Num):
        return {None: expr.value} if expr.value else {}
    if isinstance(expr, Var):
        if expr.name in values:
            value = values[expr.name]
            return {None: value} if value else {}
        return {expr.name: Fraction(1)}
    if isinstance(expr, (App, Const)):
        return None
    if isinstance(expr, Neg):
        inner = linear_form(expr.arg, values)
        return None if inner is None else _scale(inner, Fraction(-1))
    if expr.op in ("+", "-"):
        left, right = linear_form(expr.left, values), linear_form(expr.right, values)
        if left is None or right is None:
            return None
        return _add(left, right, 1 if expr.op == "+" else -1)
    if expr.op == "*":
        left, right = linear_form(expr.left, values), linear_form(expr.right, values)
        if left is None or right is None:
            return None
        if set(left) <= {None}:
            return _scale(right, left.get(None, Fraction(0)))
        if set(right) <= {None}:
            return _scale(left, right.get(None, Fraction(0)))
        return None
    if expr.op == "/":
        divisor = _ground(expr.right, values)
        left = linear_form(expr.left, values)
        if divisor is None or divisor == 0 or left is None:
            return None
        return _scale(left, 1 / divisor)
    if expr.op == "^":
        exponent = _ground(expr.right, values)
        if exponent == 1:
            return linear_form(expr.left, values)
        value = _ground(expr, values)  # a power of ground parts is a constant
        if value is None:
            return None
        return {None: value} if value else {}
    return None  # floor division


def fixed_values(constraints: list[Relation], values: Mapping[str, Fraction]) -> tuple[
        dict[str, Fraction], frozenset[str]] | None:
    """(the unknowns every real solution gives the same value, the unknowns of the system) of
    ``constraints`` read as linear equations under ``values``; None when one is no linear
    equation, the system is inconsistent or too large (see the module docs). Remembered per
    constraints and values of their names (a pure function: the claims of a solution ask it
    again under the same premises)."""
    if not constraints or len(constraints) > MAX_EQUATIONS or any(
            rel.op != "=" for rel in constraints):
        return None
    names: set[str] = set()
    for rel in constraints:
        names |= variables(rel)
    key = tuple(sorted((n, values[n]) for n in names if n in values))
    solved = _fixed_values(tuple(constraints), key)
    return None if solved is None else (dict(solved[0]), solved[1])


@lru_cache(maxsize=2048)
def _fixed_values(constraints: tuple[Relation, ...], bound: tuple[tuple[str, Fraction], ...]
                  ) -> tuple[dict[str, Fraction], frozenset[str]] | None:
    values = dict(bound)
    rows: list[Linear] = []
    for rel in constraints:
        if rel.op != "=":
            return None
        left, right = linear_form(rel.left, values), linear_form(rel.right, values)
        if left is None or right is None:
            return None
        rows.append(_add(left, right, -1))  # sum(c_i x_i) + c = 0
    names = sorted({k for row in rows for k in row if k is not None})
    if not names or len(names) > MAX_UNKNOWNS:
        return None
    pivots: list[tuple[str, Linear]] = []
    for row in rows:
        for name, pivot_row in pivots:  # reduce by the earlier pivots
            if name in row:
                row = _add(row, _scale(pivot_row, row[name]), -1)
        unknowns = [k for k in row if k is not None]
        if not unknowns:
            if row.get(None, Fraction(0)) != 0:
                return None  # 0 = c with c != 0: inconsistent
            continue
        name = min(unknowns)
        row = _scale(row, 1 / row[name])
        pivots = [(n, _add(p, _scale(row, p[name]), -1) if name in p else p) for n, p in pivots]
        pivots.append((name, row))
    fixed = {name: -row.get(None, Fraction(0)) for name, row in pivots
             if all(k is None or k == name for k in row)}
    return fixed, frozenset(names)
