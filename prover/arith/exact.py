"""Exact decisions of claims with unknowns, without a solver: a polynomial identity on a
grid (:func:`polynomial_identity`), a counter-model among fixed points
(:func:`point_refutation`, :func:`probe_identity`) and unknowns fixed by consistent linear
equations (:func:`linear_decision`). Each returns a verdict only when it is certain (the same
one Z3 would reach) and None when a solver must decide.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from prover.arith.ast import (
    Bin,
    Expr,
    Neg,
    Num,
    Relation,
    Var,
    format_number,
    is_opaque,
    to_infix,
    variables,
)
from prover.arith.evaluate import UnboundError, evaluate
from prover.arith.ground import check_ground, compare_values, truncated_unit
from prover.arith.linear import fixed_values
from prover.arith.parse import TooLargeError
from prover.arith.points import exact_points
from prover.arith.premises import Premises
from prover.records.verdicts import Verdict

_PROBES = (Fraction(3, 7), Fraction(-5, 3), Fraction(11, 4))


def probe_identity(rel: Relation, values: dict[str, Fraction] | None = None,
                   integer: bool = False) -> Verdict | None:
    """Evaluate both sides of an ``=`` at a few fixed points of its unknowns (exactly). A point
    where they differ (and nothing divides by zero) is a counter-model: ``rel`` is no identity,
    returned as ``refuted`` with that model. None when every point agrees or none evaluates —
    only a solver can then decide."""
    if rel.op != "=":
        return None
    env = dict(values or {})
    names = sorted(variables(rel) - env.keys())
    if not names:
        return None
    for trial in range(len(_PROBES)):
        point = {name: (Fraction(2 * i + trial + 2) if integer else
                        _PROBES[(i + trial) % len(_PROBES)] + i)
                 for i, name in enumerate(names)}
        try:
            lhs = evaluate(rel.left, {**env, **point})
            rhs = evaluate(rel.right, {**env, **point})
        except (ArithmeticError, TooLargeError, UnboundError, ValueError):
            continue
        if lhs != rhs:
            return Verdict("refuted", evidence={
                "model": {k: format_number(v) for k, v in point.items()},
                "lhs": format_number(lhs), "rhs": format_number(rhs),
                "method": "exact evaluation at a point"})
    return None


_MAX_GRID = 400


def _degrees(expr: Expr) -> dict[str, int] | None:
    """Per-variable degree bound of a polynomial expression, None when it is not one (a
    division, a root, an application or a power that is not a small whole literal)."""
    if isinstance(expr, Num):
        return {}
    if isinstance(expr, Var):
        return {expr.name: 1}
    if isinstance(expr, Neg):
        return _degrees(expr.arg)
    if not isinstance(expr, Bin) or expr.op in ("/", "//"):
        return None
    left = _degrees(expr.left)
    if left is None:
        return None
    if expr.op == "^":
        exp = expr.right
        if not (isinstance(exp, Num) and exp.value.denominator == 1 and 0 <= exp.value <= 12):
            return None
        return {k: v * int(exp.value) for k, v in left.items()}
    right = _degrees(expr.right)
    if right is None:
        return None
    if expr.op == "*":
        return {k: left.get(k, 0) + right.get(k, 0) for k in left.keys() | right.keys()}
    return {k: max(left.get(k, 0), right.get(k, 0)) for k in left.keys() | right.keys()}


def polynomial_identity(rel: Relation, values: dict[str, Fraction] | None = None) -> Verdict | None:
    """Decide ``p = q`` for polynomials exactly, without a solver: ``p - q`` of degree at most
    d_v in each variable v vanishes everywhere iff it vanishes on the grid {0..d_v}^vars.
    Verified with that proof, or refuted with a grid point as counter-model; None when ``rel``
    is not a polynomial identity of a small grid."""
    if rel.op != "=":
        return None
    env = dict(values or {})
    left, right = _degrees(rel.left), _degrees(rel.right)
    if left is None or right is None:
        return None
    degree = {k: max(left.get(k, 0), right.get(k, 0)) for k in (left.keys() | right.keys())
              if k not in env}
    if not degree:
        return None
    names = sorted(degree)
    size = 1
    for name in names:
        size *= degree[name] + 1
        if size > _MAX_GRID:
            return None
    points: list[dict[str, Fraction]] = [{}]
    for name in names:
        points = [{**p, name: Fraction(k)} for p in points for k in range(degree[name] + 1)]
    for point in points:
        try:
            lhs = evaluate(rel.left, {**env, **point})
            rhs = evaluate(rel.right, {**env, **point})
        except (ArithmeticError, TooLargeError, UnboundError, ValueError):
            return None
        if lhs != rhs:
            return Verdict("refuted", evidence={
                "model": {k: format_number(v) for k, v in point.items()},
                "lhs": format_number(lhs), "rhs": format_number(rhs),
                "method": "exact evaluation at a point"})
    return Verdict("verified", evidence={
        "method": "polynomial identity: both sides agree on a grid larger than the degree"})


def point_refutation(rel: Relation, values: dict[str, Fraction] | None = None) -> Verdict | None:
    """Refute ``rel`` under no premises by exact evaluation at the fixed points of
    :func:`prover.arith.points.exact_points`: a point where it is false is the counter-model a
    solver would find for ``¬rel``. None (a solver decides) when every point satisfies it or
    none evaluates, and always for an ``≈`` or a truncated literal (their tolerance is the
    solver's to read) or an application (never refuted through a reading of a function)."""
    if rel.op == "~=" or is_opaque(rel) or truncated_unit(rel) is not None:
        return None
    for point, lhs, rhs in exact_points(rel, values or {}):
        verdict = compare_values(rel, lhs, rhs)
        if verdict.kind == "refuted":
            return Verdict("refuted", evidence={
                "model": {k: format_number(v) for k, v in point.items()}, **verdict.evidence,
                "method": "exact evaluation at a point"})
    return None


def linear_decision(rel: Relation, premises: Premises) -> Verdict | None:
    """Decide ``premises ⊢ rel`` exactly when the constraints are consistent linear equations
    (:func:`prover.arith.linear.fixed_values`) that fix every unknown of ``rel``: the claim is
    then ground at those values, which every model of the premises shares (in the integer sort
    only when the system fixes all its unknowns at whole numbers: that point is the model).
    None (a solver decides) otherwise, for an ``≈`` (the solver reads its tolerance) and when
    a denominator is zero at those values (the solver's division guard reports it)."""
    values = premises.values
    if rel.op == "~=":
        return None
    solved = fixed_values(premises.constraints, values)
    if solved is None:
        return None
    fixed, names = solved
    if premises.integer and (names - fixed.keys() or any(
            v.denominator != 1 for v in fixed.values())):
        return None
    if any(fixed[k].denominator != 1 for k in premises.integer_names & fixed.keys()):
        return None  # a declared integer fixed at a fraction: the solver reads the sorts
    claim_names = variables(rel) - values.keys()
    if not claim_names <= fixed.keys():
        return None
    verdict = check_ground(rel, {**values, **fixed})
    if verdict is None or verdict.kind == "unknown" or "division_by_zero" in verdict.evidence:
        return None
    model = {k: format_number(fixed[k]) for k in sorted(claim_names)}
    if verdict.kind == "refuted":
        return Verdict("refuted", evidence={"model": model, **verdict.evidence,
                                            "method": "exact: the premises' linear equations "
                                                      "fix these values"})
    return replace(verdict, evidence={
        **verdict.evidence, "method": "exact: the premises' linear equations fix "
        + ", ".join(f"{k} = {v}" for k, v in model.items()),
        "premises_used": [to_infix(c) for c in premises.constraints]})

