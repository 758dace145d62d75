"""Deciding a Z3 theorem row: a checked proof, or a re-checked counter-model, or undecided.

:func:`refute` looks for a model of hypotheses ∧ ¬goal (recursive functions keep their real
definitions) and re-checks it in a FRESH context with every constant pinned to its value;
:func:`prove` replays a hint proof (e.g. the parent's) with :func:`prover.z3.env.check_proof`,
then runs best-first search with the symbolic policy (:func:`prover.proving.prove_row`, which
re-checks the proof it reports); :func:`consistent` asks whether the hypotheses have a model (a
proof from contradictory hypotheses is vacuous and is not kept). Z3 ``unknown`` and budget
overruns are never a decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import z3

from prover.z3.env import (
    CounterModel,
    Limits,
    TacticTimeout,
    Watchdog,
    check_proof,
    close_by_z3,
)
from prover.z3.goals import TacticError, constants, make_goal
from prover.z3.theorem import parse_theorem
from search.best_first import SearchConfig


@dataclass(frozen=True)
class Budget:
    """Per-theorem budgets: ``refute_s`` for the counter-model search, ``search`` for proving."""

    refute_s: float
    search: SearchConfig

    @classmethod
    def of(cls, budget_s: float) -> Budget:
        """A fifth of ``budget_s`` (at most 1 s) to refute; the search gets ``budget_s`` wall
        time with 0.5 s tactics (at most a quarter of the budget), 40 expansions, 16
        candidates: the settings under which the symbolic policy proves the Z3 suite."""
        return cls(min(1.0, budget_s / 5), SearchConfig(
            batch_size=8, num_candidates=16, tactic_timeout_s=min(0.5, budget_s / 4),
            wall_timeout_s=budget_s, max_expansions=40, concurrency=1))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for provenance and the task config."""
        return {"refute_s": self.refute_s, "search": asdict(self.search)}


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


def recheck_counter_model(row: Mapping[str, Any], values: Mapping[str, str],
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
    solver = z3.Solver(ctx=theorem.ctx)
    solver.set("timeout", max(1, int(timeout_s * 1000)))
    solver.add(*theorem.hypotheses, z3.Not(theorem.conclusion), *pins)
    with Watchdog(theorem.ctx, 1.5 * timeout_s + 0.1):
        return solver.check() == z3.sat


def refute(row: Mapping[str, Any], seconds: float) -> dict[str, str] | None:
    """A re-checked counter-model (constant -> value) of ``row``, or None if none was found."""
    theorem = parse_theorem(row)
    goal = make_goal(theorem.hypotheses, theorem.conclusion)
    try:
        with Watchdog(theorem.ctx, 1.5 * seconds + 0.1):
            close_by_z3(goal, theorem, Limits.of(seconds), abstract=False)
    except CounterModel as found:
        return found.values if recheck_counter_model(row, found.values, 2 * seconds) else None
    except (TacticError, TacticTimeout, z3.Z3Exception):
        return None
    return None


def consistent(row: Mapping[str, Any], seconds: float) -> bool | None:
    """Whether the hypotheses have a model: True (sat), False (unsat: vacuous), None (unknown)."""
    theorem = parse_theorem(row)
    if not theorem.hypotheses:
        return True
    solver = z3.Solver(ctx=theorem.ctx)
    solver.set("timeout", max(1, int(seconds * 1000)))
    solver.add(*theorem.hypotheses)
    with Watchdog(theorem.ctx, 1.5 * seconds + 0.1):
        result = solver.check()
    return True if result == z3.sat else False if result == z3.unsat else None


def prove_equality(row: Mapping[str, Any], equality: str, seconds: float) -> bool:
    """True iff ``equality`` (an SMT-LIB ``(= a b)`` over the row's symbols) follows from the
    row's hypotheses: Z3 shows hypotheses ∧ ¬equality unsat (recursive functions first left
    uninterpreted), so the rewritten goal is equivalent to the row's goal."""
    theorem = parse_theorem(row)
    try:
        term = theorem.parse_term(equality, bool_only=True)
        goal = make_goal(theorem.hypotheses, term)  # type: ignore[arg-type]
        with Watchdog(theorem.ctx, 1.5 * seconds + 0.1):
            close_by_z3(goal, theorem, Limits.of(seconds))
    except (ValueError, TacticError, TacticTimeout, z3.Z3Exception):
        return False
    return True


def prove(row: Mapping[str, Any], budget: Budget, hint: Sequence[str] | None = None,
          run_id: str = "synth-mutate") -> tuple[list[str] | None, str]:
    """(proof, how): the hint replayed by ``check_proof``, else the symbolic search's proof
    (re-checked by :func:`prove_row`); (None, why) when neither proves ``row``."""
    if hint:
        verdict = check_proof(row, list(hint), budget_s=max(budget.search.tactic_timeout_s, 0.5))
        if verdict.is_verified:
            return list(hint), "hint replayed"
    from prover.policy.registry import describe_policy, make_policy
    from prover.proving import BACKENDS, ProveOptions, prove_row

    policy = make_policy("symbolic", "z3")
    opts = ProveOptions(backend="z3", policy="symbolic", search=budget.search)
    result, *_ = prove_row(row, BACKENDS["z3"], policy, describe_policy(policy, "symbolic"),
                           opts, run_id)
    if result.get("verdict") == "verified" and result.get("proof"):
        return list(result["proof"]), "search"
    return None, f"search {result.get('status')}: {result.get('stop_reason')}"
