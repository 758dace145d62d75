"""The symbolic policy: a deterministic tactic portfolio per state, no model (the offline default).

``SymbolicPolicy(backend="z3")`` reads the first goal of a Z3 state (its
:class:`~prover.z3.goals.Z3Goals` handle) and proposes, cheapest and likeliest first: ``z3``
(or ``mod-eval`` alone when a dry run shows it closes the goal, as it closes each case of a
residue split; second when it only rewrites; :mod:`prover.z3.modular`); ``intro`` / ``split``
when the conclusion is an implication or forall / a conjunction; ``residues x m`` for each
variable of the polynomial P of a ``(mod P m)`` conclusion; ``induction x`` for each Int
constant with a lower-bound hypothesis (arguments of recursive functions first; also
``induction2 x`` when a definition recurses twice, as Fibonacci does) and ``unfold f`` for each
recursive function of the conclusion (unfold first when an application has a compound argument
such as ``f(k + 1)``: the shape of an induction step); case splits (``x >= 0`` for an unbounded
argument of a recursive function, residues of ``x mod m``, ite conditions and comparisons of
the conclusion); ``simplify``; ``instantiate`` for forall
hypotheses; nonnegativity lemmas ``have (forall ((x Int)) (=> (>= x 0) (>= (f x) 0)))``; the
named Z3 tactics. (``simplify`` comes after the structural tactics rather than second: on the
suite that halved the search time, since every simplified copy of a goal costs another
failing ``z3`` call.) A state without a Z3 handle gets :data:`TEXT_ONLY_Z3`.

``backend="lean"`` proposes a fixed Lean 4 portfolio (``rfl``, ``decide``, ``norm_num``,
``simp``, ``omega``, ``linarith``, ... ``aesop``, ``exact?``) with ``induction x`` for each
natural-number or list variable and ``intro x ...`` for the ``∀`` binders found in the goal
text. Candidate ``i`` gets logprob ``-0.1 * i``, so best-first search prefers cheap tactics and
short proofs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from prover.z3.goals import Z3Goals
from prover.z3.portfolio import NAMED_Z3, z3_portfolio
from search.protocols import Candidate, State

Backend = Literal["z3", "lean"]
STEP = 0.1
TEXT_ONLY_Z3 = ("z3", "simplify", *NAMED_Z3)
LEAN_HEAD = ("rfl", "decide", "norm_num", "simp", "omega", "linarith", "nlinarith",
             "positivity", "ring_nf")
LEAN_TAIL = ("constructor", "intro", "simp_all", "aesop", "tauto", "exact?")
_LEAN_HYP = re.compile(r"^\s*([^:⊢\n]+?)\s*:\s*(ℕ|Nat|List\s.+)\s*$", re.MULTILINE)
_LEAN_BINDER = re.compile(r"∀\s*\(?([^,:()]+?)\s*:")
_LEAN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'!?₀-₉]*\Z")


class SymbolicPolicy:
    """A :class:`~prover.policy.sampling.ModelPolicy` over a fixed, goal-directed portfolio
    (see the module docstring). Deterministic: the same states give the same candidates, so it
    samples nothing and takes no :class:`~prover.policy.sampling.SamplingParams`; the batching
    queue runs its calls in the caller's thread (``merge_calls = False``)."""

    name = "symbolic"
    merge_calls = False
    deterministic = True

    def __init__(self, backend: Backend = "z3") -> None:
        if backend not in ("z3", "lean"):
            raise ValueError(f"unknown backend {backend!r} (expected 'z3' or 'lean')")
        self.backend = backend

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """Up to ``k`` candidates per state, logprob ``-0.1 * rank``."""
        out = []
        for state in states:
            tactics = self.tactics(state)[:max(0, k)]
            out.append([Candidate(t, -STEP * i) for i, t in enumerate(tactics)])
        return out

    def describe(self) -> dict[str, Any]:
        """Provenance: the portfolio's backend; no model, no sampling."""
        return {"policy": "symbolic", "backend": self.backend, "model": None,
                "deterministic": True, "logprob": f"-{STEP} * rank in the portfolio"}

    def close(self) -> None:
        """Nothing to release."""

    def tactics(self, state: State) -> list[str]:
        """The whole portfolio for ``state``, best first, without duplicates."""
        if self.backend == "lean":
            found = lean_portfolio(state.goals[0] if state.goals else state.text)
        elif isinstance(state.handle, Z3Goals) and state.handle.goals:
            found = z3_portfolio(state.handle.theorem, state.handle.goals[0])
        else:
            found = list(TEXT_ONLY_Z3)
        return list(dict.fromkeys(found))


def lean_variables(goal_text: str) -> tuple[list[str], list[str]]:
    """(natural-number and list variables of the hypotheses, names bound by ``∀`` in the
    goal)."""
    nat: list[str] = []
    for names, _ in _LEAN_HYP.findall(goal_text):
        nat += [n for n in names.split() if _LEAN_NAME.match(n)]
    bound: list[str] = []
    for names in _LEAN_BINDER.findall(goal_text):
        bound += [n for n in names.split() if _LEAN_NAME.match(n)]
    return list(dict.fromkeys(nat)), list(dict.fromkeys(bound))


def lean_portfolio(goal_text: str) -> list[str]:
    """The fixed Lean 4 portfolio, with ``induction x`` / ``intro x ...`` for the goal's names."""
    nat, bound = lean_variables(goal_text)
    intros = [f"intro {' '.join(bound)}"] if bound else []
    return [*LEAN_HEAD, *(f"induction {n}" for n in nat), *intros, *LEAN_TAIL]
