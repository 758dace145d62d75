"""Function applications as uninterpreted atoms: ``sin(theta)``, ``log(2, x)``, ``f(3)``, ``pi``.

:func:`canonical` rewrites a relation so that the same application is the same term: bound names
are replaced by their values, ground arguments are evaluated exactly (``f(2*3+3-3)`` is
``f(6)``), and an application with an exact value becomes that value (``log(2, 8)`` is 3,
``sin(pi/4)`` is ``sqrt(2)/2``; :mod:`prover.arith.surds`). :func:`atomize` then names every
remaining application (and ``pi``) by a fresh variable, the same term by the same name, so
earlier equations about an atom (``sin(theta) = 1/2``) can be premises of later claims.

What may be concluded from an atomized relation: anything that holds for *every* value of the
atoms (verification, or a contradiction with premises that speak of the same atoms) holds for
the real values too. A counter-model of the atomized relation is no counter-model of the text
unless the atoms are free: :attr:`Atomized.free_atoms` says when a failed identity is a real
failure (only ``pi`` and at most one application of a transcendental function of an argument with
an unknown: ``sin(theta)``, ``log(x)``; never ``f(x)`` of a function the problem defines, never
two applications such as ``sin(x)`` and ``cos(x)``, which are tied by identities).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from prover.arith.ast import (
    App,
    Bin,
    Const,
    Expr,
    Neg,
    Num,
    Relation,
    Var,
    num,
    to_infix,
    variables,
)
from prover.arith.evaluate import evaluate, has_truncated
from prover.arith.parse import TooLargeError
from prover.arith.radicals import Surd
from prover.arith.surds import OutsideFieldError, evaluate_surd

# transcendental over the rational functions of their argument: one such atom beside the
# unknowns cannot be tied to them by a polynomial identity
TRANSCENDENTAL = frozenset(("sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "lg", "exp"))
ATOM_PREFIX = "_at_"


def surd_expr(value: Surd) -> Expr:
    """An expression with the exact value ``value`` (``c·d^(1/2)`` summed)."""
    if not value.terms:
        return num(0)
    parts: list[Expr] = []
    for d, c in value.terms:
        parts.append(num(c) if d == 1 else Bin("*", num(c), Bin("^", num(d), num(Fraction(1, 2)))))
    out = parts[0]
    for part in parts[1:]:
        out = Bin("+", out, part)
    return out


def _value(expr: Expr, values: Mapping[str, Fraction]) -> Expr | None:
    """``expr``'s exact value as an expression (a literal, or a sum of square roots), or None."""
    try:
        return num(evaluate(expr, values))
    except (ArithmeticError, TooLargeError, KeyError, ValueError):
        pass
    try:
        return surd_expr(evaluate_surd(expr, values))
    except (OutsideFieldError, ZeroDivisionError, TooLargeError, ArithmeticError):
        return None


def canonical(expr: Expr, values: Mapping[str, Fraction]) -> Expr:
    """``expr`` with bound names replaced by their values, ground arguments of applications
    evaluated exactly and applications with an exact value replaced by it."""
    if isinstance(expr, Var):
        return num(values[expr.name]) if expr.name in values else expr
    if isinstance(expr, Neg):
        return Neg(canonical(expr.arg, values))
    if isinstance(expr, Bin):
        return Bin(expr.op, canonical(expr.left, values), canonical(expr.right, values))
    if isinstance(expr, App):
        args = []
        for arg in expr.args:
            arg = canonical(arg, values)
            if has_truncated(arg):  # "3.00…" is no exact value: ceil(3.00…) stays a term
                args.append(arg)
                continue
            try:
                args.append(num(evaluate(arg)))
            except (ArithmeticError, TooLargeError, KeyError, ValueError):
                args.append(arg)
        app = App(expr.name, tuple(args))
        value = _value(app, {})
        return app if value is None else value
    return expr


@dataclass(frozen=True)
class Atomized:
    """A relation with each remaining application (and ``pi``) named by a fresh variable.

    ``meaning`` maps each atom name to its term; ``arguments`` to the names its arguments use
    (an atom speaks of them: forget it with them); ``free_atoms`` is True when a polynomial
    identity that fails for some value of the atoms also fails for some real value (see the
    module docstring)."""

    relation: Relation
    meaning: dict[str, str]
    arguments: dict[str, frozenset[str]]
    free_atoms: bool


def atom_name(term: Expr) -> str:
    """A stable variable name for ``term`` (readable prefix, hash suffix: no collisions)."""
    text = to_infix(term)
    readable = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:24]
    digest = hashlib.sha1(text.encode()).hexdigest()[:6]
    return f"{ATOM_PREFIX}{readable}_{digest}"


def atomize(rel: Relation, values: Mapping[str, Fraction]) -> Atomized:
    """:func:`canonical` of both sides, each application and constant replaced by its atom."""
    terms: dict[Expr, str] = {}

    def walk(expr: Expr) -> Expr:
        if isinstance(expr, (App, Const)):
            if expr not in terms:
                terms[expr] = atom_name(expr)
            return Var(terms[expr])
        if isinstance(expr, Neg):
            return Neg(walk(expr.arg))
        if isinstance(expr, Bin):
            return Bin(expr.op, walk(expr.left), walk(expr.right))
        return expr

    left, right = canonical(rel.left, values), canonical(rel.right, values)
    relation = Relation(rel.op, walk(left), walk(right))
    arguments = {name: frozenset(variables(term)) for term, name in terms.items()}
    apps = [t for t in terms if isinstance(t, App)]
    consts = [t for t in terms if isinstance(t, Const)]
    free = all(c.name == "pi" for c in consts) and len(apps) <= 1 and all(
        a.name in TRANSCENDENTAL and variables(a.args[-1]) and (len(a.args) == 1 or (
            a.name == "log" and len(a.args) == 2 and isinstance(a.args[0], Num)))
        for a in apps)
    return Atomized(relation, {n: to_infix(t) for t, n in terms.items()}, arguments, free)
