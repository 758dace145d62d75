"""Check one arithmetic claim: exact rationals first, Z3 where there are unknowns.

The contract: a claim is ``verified`` only when it holds exactly; a stated rounded value
(a decimal literal, or ``≈``) is at best ``verified_approx`` with the tolerance it used (half a
unit of the last stated digit); division by zero is never verified; every ``unknown`` carries
a typed reason.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    format_number,
    is_opaque,
    num,
    to_infix,
    variables,
)
from prover.arith.atoms import canonical
from prover.arith.evaluate import (
    MAX_BITS,
    DivisionByZeroError,
    NotRationalError,
    UnboundError,
    UninterpretedError,
    evaluate,
)
from prover.arith.linear import fixed_values
from prover.arith.parse import MAX_DEPTH, MAX_LITERAL_DIGITS, MAX_TOKENS, TooLargeError
from prover.arith.points import exact_points
from prover.arith.premises import Premises, stated_tolerance
from prover.arith.surds import check_radical
from prover.records.verdicts import UnknownReason, Verdict, unknown

_COMPARE: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
VERIFIED_EXACT = Verdict("verified", evidence={"method": "exact rational evaluation"})


@dataclass(frozen=True)
class Limits:
    """Budgets of one claim check; all of them are recorded in provenance."""

    timeout_ms: int = 2000
    rlimit: int = 5_000_000

    def as_dict(self) -> dict[str, int]:
        """Every bound that can change a verdict, for provenance."""
        return {"timeout_ms": self.timeout_ms, "rlimit": self.rlimit, "max_bits": MAX_BITS,
                "max_tokens": MAX_TOKENS, "max_depth": MAX_DEPTH,
                "max_literal_digits": MAX_LITERAL_DIGITS}


_APPROX_RELATIVE = Fraction(1, 100)


def _truncated_unit(rel: Relation) -> Fraction | None:
    """One unit of the last digit when a side is a truncated literal (``3.363...``)."""
    for side in (rel.right, rel.left):
        lit = side.arg if isinstance(side, Neg) else side
        if isinstance(lit, Num) and lit.truncated and lit.decimals is not None:
            return Fraction(1, 10**lit.decimals)
    return None


def compare_values(rel: Relation, lhs: Fraction, rhs: Fraction) -> Verdict:
    """Verdict for ``lhs op rhs`` with both sides known exactly; a truncated literal
    (``3.363...``) allows one unit of its last digit, a rounded one half a unit."""
    if rel.op in ("=", "~="):
        if lhs == rhs:
            return VERIFIED_EXACT
        evidence = {"lhs": format_number(lhs), "rhs": format_number(rhs)}
        tol = _truncated_unit(rel) or stated_tolerance(rel)
        if rel.op == "~=":  # "≈" also carries the rounding of the values it was computed from
            tol = max(tol or Fraction(0), max(abs(lhs), abs(rhs)) * _APPROX_RELATIVE)
        if tol is not None:
            if abs(lhs - rhs) <= tol:
                return Verdict("verified_approx", evidence=evidence, tolerance=format_number(tol))
            evidence["tolerance"] = format_number(tol)
        return Verdict("refuted", evidence=evidence)
    if _COMPARE[rel.op](lhs, rhs):
        return VERIFIED_EXACT
    return Verdict("refuted", evidence={"lhs": format_number(lhs), "rhs": format_number(rhs)})


def check_ground(rel: Relation, values: dict[str, Fraction] | None = None) -> Verdict | None:
    """Fast path: decide ``rel`` by exact evaluation; None when it needs Z3 (unknowns, roots)."""
    try:
        lhs = evaluate(rel.left, values)
        rhs = evaluate(rel.right, values)
    except DivisionByZeroError as err:
        return Verdict("refuted", evidence={"division_by_zero": err.term},
                       detail="a denominator is zero, so the claim is undefined")
    except TooLargeError as err:
        return unknown(UnknownReason.TOO_LARGE, str(err))
    except NotRationalError as err:
        if "even root of a negative" in str(err):  # sqrt(-4): no real value, never Z3's guess
            return unknown(UnknownReason.NOT_FORMALIZED, f"{err}: not a real number")
        return check_radical(rel, values)  # exact in Q(√a), else None (a solver decides)
    except UnboundError:
        return None
    except UninterpretedError as err:
        if same_term(rel, values or {}):
            return SAME_TERM
        return unknown(UnknownReason.NOT_FORMALIZED, str(err))
    return compare_values(rel, lhs, rhs)


SAME_TERM = Verdict("verified", evidence={"method": "the same term on both sides"})


def substitute(expr: Expr, values: dict[str, Fraction]) -> Expr:
    """``expr`` with every bound name replaced by its value."""
    if isinstance(expr, Var):
        return num(values[expr.name]) if expr.name in values else expr
    if isinstance(expr, Neg):
        return Neg(substitute(expr.arg, values))
    if isinstance(expr, Bin):
        return Bin(expr.op, substitute(expr.left, values), substitute(expr.right, values))
    if isinstance(expr, App):
        return App(expr.name, tuple(substitute(a, values) for a in expr.args))
    return expr


def same_term(rel: Relation, values: dict[str, Fraction]) -> bool:
    """Both sides are the same term once bound names are replaced (``f(2) = f(2)``)."""
    return rel.op in ("=", "<=", ">=", "~=") and substitute(rel.left, values) == substitute(
        rel.right, values)


def abstract_opaque(rel: Relation) -> tuple[Relation, dict[str, str]]:
    """``rel`` with each distinct application or constant replaced by a fresh name (the same
    term by the same name), and the names' meaning. Valid for every value of the fresh names
    implies valid for the real ones; nothing else may be concluded from the abstraction."""
    names: dict[Expr, str] = {}

    def walk(expr: Expr) -> Expr:
        if isinstance(expr, (App, Const)):
            if expr not in names:
                names[expr] = f"_opaque{len(names)}"
            return Var(names[expr])
        if isinstance(expr, Neg):
            return Neg(walk(expr.arg))
        if isinstance(expr, Bin):
            return Bin(expr.op, walk(expr.left), walk(expr.right))
        return expr

    abstracted = Relation(rel.op, walk(rel.left), walk(rel.right))
    return abstracted, {name: to_infix(term) for term, name in names.items()}


_MEMO_SIZE = 4096
"""Solver answers an :class:`ArithChecker` remembers (the memo is emptied when full)."""

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
    if rel.op == "~=" or is_opaque(rel) or _truncated_unit(rel) is not None:
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


class ArithChecker:
    """Checks claims under premises; owns one Z3 context, so use one checker per thread."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._z3: object | None = None
        self._verdicts: dict[tuple, Verdict] = {}
        self.setup_s = 0.0  # seconds spent loading z3 and creating the context (once)

    def check(self, rel: Relation, premises: Premises | None = None) -> tuple[Verdict, str]:
        """Return the verdict and the backend that decided it (``exact`` or ``z3``)."""
        values = premises.values if premises else None
        if is_opaque(rel):
            return self._check_opaque(rel, values or {})
        verdict = check_ground(rel, values)
        if verdict is not None:
            return verdict, "exact"
        premises = premises or Premises()
        if not premises.constraints:  # nothing constrains the unknowns: exact decisions first
            verdict = polynomial_identity(rel, values) or point_refutation(rel, values)
        else:
            verdict = linear_decision(rel, premises)
        if verdict is not None:
            return verdict, "exact"
        return self._z3_check(rel, premises), "z3"

    def _check_opaque(self, rel: Relation, values: dict[str, Fraction]) -> tuple[Verdict, str]:
        """A claim with ``f(x)``, ``sin(30)`` or ``pi``: exact when every part has an exact
        value, verified when it holds for every value of the uninterpreted terms, otherwise
        unknown: never refuted through a reading of a function we do not interpret."""
        if same_term(rel, values):
            return SAME_TERM, "exact"
        verdict = check_ground(rel, values)
        if verdict is not None and verdict.kind != "unknown":
            return verdict, "exact"
        # the same application is the same term once its arguments are evaluated (f(2*3) is
        # f(6)) and an application with an exact value is that value (log(2, 8) is 3)
        ground = Relation(rel.op, canonical(rel.left, values), canonical(rel.right, values))
        if not variables(ground) and not is_opaque(ground):
            verdict = check_ground(ground)
            if verdict is not None and verdict.kind != "unknown":
                return verdict, "exact"
        if same_term(ground, {}):
            return SAME_TERM, "exact"
        abstracted, meaning = abstract_opaque(ground)
        if rel.op != "~=" and not is_opaque(abstracted):
            try:
                z3_verdict = self._z3_check(abstracted, Premises())
            except Exception as err:  # noqa: BLE001 - a backend fault is an unknown, not a crash
                return unknown(UnknownReason.BACKEND_ERROR, f"{type(err).__name__}: {err}"), "z3"
            if z3_verdict.kind == "verified":
                return Verdict("verified", evidence={
                    "method": "holds for every value of the uninterpreted terms",
                    "terms": meaning}), "z3"
        if not meaning:  # every application had an exact value; unknowns are left
            return unknown(UnknownReason.NOT_FORMALIZED, (
                f"its applications have exact values ({to_infix(ground)}), but a claim with "
                "applications is decided only when it holds for every value")), "exact"
        terms = ", ".join(sorted(meaning.values()))
        return unknown(UnknownReason.NOT_FORMALIZED,
                       f"uses {terms}, which is not interpreted here; only identities and "
                       "exact values are decided"), "exact"

    def _z3_check(self, rel: Relation, premises: Premises) -> Verdict:
        """Z3's verdict on ``premises ⊢ rel``, remembered per query: the same relation under the
        same constraints, integer switch and values of its names gets the first answer again
        (a repeated claim or a re-check costs no solver call). Answers that a limit cut short
        (``timeout``, ``budget``) are not remembered: a later call may have more time."""
        names = variables(rel).union(*(variables(c) for c in premises.constraints))
        key = (rel, tuple(premises.constraints), premises.integer, premises.integer_names,
               tuple(sorted((n, premises.values[n]) for n in names if n in premises.values)))
        try:
            cached = self._verdicts.get(key)
        except TypeError:  # an unhashable part: decide without the memo
            return self._z3_decide(rel, premises)
        if cached is not None:
            return replace(cached, evidence=dict(cached.evidence))
        verdict = self._z3_decide(rel, premises)
        if verdict.reason not in (UnknownReason.TIMEOUT, UnknownReason.BUDGET):
            if len(self._verdicts) >= _MEMO_SIZE:
                self._verdicts.clear()
            self._verdicts[key] = replace(verdict, evidence=dict(verdict.evidence))
        return verdict

    def _z3_decide(self, rel: Relation, premises: Premises) -> Verdict:
        start = time.perf_counter()
        from prover.z3.arith import Z3ArithBackend  # z3 only when a claim needs it

        if self._z3 is None:  # loading z3 and making the context is set-up, not solving
            self._z3 = Z3ArithBackend(self.limits.timeout_ms, self.limits.rlimit)
            self.setup_s += time.perf_counter() - start
        backend: Z3ArithBackend = self._z3  # type: ignore[assignment]
        return backend.check(rel, premises)
