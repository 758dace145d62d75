"""Deciding a Z3 theorem row outright: a re-checked counter-model, hypothesis consistency, and
whether an equality follows from the hypotheses (used by the mutation synth task). Each runs in
a worker process of :mod:`prover.z3.isolate`, killed at its deadline (these theorems hold
recursive definitions, where Z3 may ignore interrupts).

:func:`refute` looks for a model of hypotheses ∧ ¬goal in a worker process (killed at its
deadline) and re-checks it in a FRESH context with every constant pinned to its value. All
solver calls go through :mod:`prover.z3.gateway`; ``unknown`` is never a decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import z3

from prover.z3 import isolate
from prover.z3.env import plain_z3
from prover.z3.gateway import DEFAULT_MEMORY_MB, Limits, solve
from prover.z3.goals import TacticError, constants, make_goal
from prover.z3.tactics import TacticTimeout, close_by_z3
from prover.z3.theorem import parse_theorem

__all__ = ["consistent", "prove_equality", "recheck_counter_model", "refute"]


def _pin(value: str, const: z3.ExprRef) -> z3.BoolRef | None:
    """``const == value`` for a plain model value (None for algebraic numbers and other sorts)."""
    ctx = const.ctx
    try:
        if z3.is_int(const):
            return const == z3.IntVal(int(value), ctx)
        if z3.is_real(const):
            return const == z3.RealVal(value, ctx)
        if z3.is_bool(const) and value in ("True", "False"):
            return const == z3.BoolVal(value == "True", ctx)
    except (ValueError, z3.Z3Exception):
        return None
    return None


def _recheck_here(row: Mapping[str, Any], values: Mapping[str, str],
                  timeout_s: float = 2.0) -> bool:
    """True iff hypotheses ∧ ¬goal is satisfiable in a fresh context with every constant of
    ``values`` pinned (algebraic values stay free): the counter-model is real."""
    theorem = parse_theorem(row)
    goal = make_goal(theorem.hypotheses, theorem.conclusion)
    consts = constants(goal.terms())
    pins = []
    for name, value in values.items():
        if name not in consts:
            return False
        pin = _pin(value, consts[name])
        if pin is not None:
            pins.append(pin)
    return solve([*theorem.hypotheses, z3.Not(theorem.conclusion), *pins], ctx=theorem.ctx,
                 limits=Limits.of(timeout_s), want_model=False).sat


def refute(row: Mapping[str, Any], seconds: float) -> dict[str, str] | None:
    """A re-checked counter-model (constant -> value) of ``row``, or None if none was found."""
    verdict = plain_z3(row, seconds)  # in the worker: killed at its deadline
    values = verdict.evidence.get("counter_model") if verdict.kind == "refuted" else None
    if values is None:
        return None
    return values if recheck_counter_model(row, values, 2 * seconds) else None


def _consistent_here(row: Mapping[str, Any], seconds: float) -> bool | None:
    """Whether the hypotheses have a model: True (sat), False (unsat: vacuous), None (unknown)."""
    theorem = parse_theorem(row)
    if not theorem.hypotheses:
        return True
    result = solve(list(theorem.hypotheses), ctx=theorem.ctx, limits=Limits.of(seconds),
                   want_model=False)
    return True if result.sat else False if result.unsat else None


def _prove_equality_here(row: Mapping[str, Any], equality: str, seconds: float) -> bool:
    """True iff ``equality`` (an SMT-LIB ``(= a b)`` over the row's symbols) follows from the
    row's hypotheses: Z3 shows hypotheses ∧ ¬equality unsat (recursive functions first left
    uninterpreted), so the rewritten goal is equivalent to the row's goal."""
    theorem = parse_theorem(row)
    try:
        term = theorem.parse_term(equality, bool_only=True)
        goal = make_goal(theorem.hypotheses, term)  # type: ignore[arg-type]
        close_by_z3(goal, theorem, Limits.of(seconds))
    except (ValueError, TacticError, TacticTimeout, z3.Z3Exception):
        return False
    return True


# --------------------------------------------------------------------------- in the worker
def serve(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Worker handler of the three decisions above (``op``: recheck, consistent, equality)."""
    op, row, seconds = payload["op"], payload["row"], payload["seconds"]
    if op == "recheck":
        return {"value": _recheck_here(row, payload["values"], seconds)}
    if op == "consistent":
        return {"value": _consistent_here(row, seconds)}
    if op == "equality":
        return {"value": _prove_equality_here(row, payload["equality"], seconds)}
    raise ValueError(f"unknown decide op {op!r}")


def _ask(op: str, row: Mapping[str, Any], seconds: float, **extra: Any) -> Any:
    """Run one decision in a worker, killed at 1.5 x seconds + 0.5 s; None when it was."""
    payload = {"op": op, "row": dict(row), "seconds": seconds, **extra}
    answer, _ = isolate.call("decide", payload, 1.5 * seconds + 0.5, DEFAULT_MEMORY_MB)
    if answer is None or "error" in answer:
        return None
    return answer["value"]


def recheck_counter_model(row: Mapping[str, Any], values: Mapping[str, str],
                          timeout_s: float = 2.0) -> bool:
    """True iff hypotheses ∧ ¬goal is satisfiable in a fresh context with every constant of
    ``values`` pinned (algebraic values stay free): the counter-model is real."""
    return _ask("recheck", row, timeout_s, values=dict(values)) is True


def consistent(row: Mapping[str, Any], seconds: float) -> bool | None:
    """Whether the hypotheses have a model: True (sat), False (unsat: vacuous), None (unknown
    or out of time)."""
    value = _ask("consistent", row, seconds)
    return value if isinstance(value, bool) else None


def prove_equality(row: Mapping[str, Any], equality: str, seconds: float) -> bool:
    """True iff ``equality`` (an SMT-LIB ``(= a b)`` over the row's symbols) follows from the
    row's hypotheses (recursive functions first left uninterpreted), so the rewritten goal is
    equivalent to the row's goal; False when not shown in time."""
    return _ask("equality", row, seconds, equality=equality) is True
