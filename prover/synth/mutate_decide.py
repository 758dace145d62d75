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

from prover.z3.decide import (  # re-exported: the Z3 side lives in prover/z3/
    consistent,
    prove_equality,
    recheck_counter_model,
    refute,
)
from prover.z3.env import check_proof
from search.best_first import SearchConfig

__all__ = ["Budget", "consistent", "prove", "prove_equality", "recheck_counter_model",
           "refute"]


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


def prove(row: Mapping[str, Any], budget: Budget, hint: Sequence[str] | None = None,
          run_id: str = "synth-mutate") -> tuple[list[str] | None, str]:
    """(proof, how): the hint replayed by ``check_proof``, else the symbolic search's proof
    (re-checked by :func:`prove_row`); (None, why) when neither proves ``row``."""
    if hint:
        verdict = check_proof(row, list(hint), budget_s=max(budget.search.tactic_timeout_s, 0.5))
        if verdict.is_verified:
            return list(hint), "hint replayed"
    from prover.backends import BACKENDS
    from prover.policy.registry import describe_policy, make_policy
    from prover.proving import ProveOptions, prove_row

    policy = make_policy("symbolic", "z3")
    opts = ProveOptions(backend="z3", policy="symbolic", search=budget.search)
    result, *_ = prove_row(row, BACKENDS["z3"], policy, describe_policy(policy, "symbolic"),
                           opts, run_id)
    if result.get("verdict") == "verified" and result.get("proof"):
        return list(result["proof"]), "search"
    return None, f"search {result.get('status')}: {result.get('stop_reason')}"
