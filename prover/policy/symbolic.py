"""The symbolic policy: a deterministic tactic portfolio per state, no model (the offline default).

``SymbolicPolicy(backend="z3")`` reads the first goal of a Z3 state (its
:class:`~prover.z3.goals.Z3Goals` handle) and proposes, cheapest and likeliest first: ``z3``;
``intro`` / ``split`` when the conclusion is an implication or forall / a conjunction;
``induction x`` for each Int constant with a lower-bound hypothesis (arguments of recursive
functions first; also ``induction2 x`` when a definition recurses twice, as Fibonacci does) and
``unfold f`` for each recursive function of the conclusion (unfold first when an application
has a compound argument such as ``f(k + 1)``: the shape of an induction step); case splits
(``x >= 0`` for an unbounded argument of a recursive function, residues of ``x mod m``, ite
conditions and comparisons of the conclusion); ``simplify``; ``instantiate`` for forall
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
from typing import Literal

import z3

from prover.z3.goals import Goal, Z3Goals, constants, lower_bound, smt, walk
from prover.z3.theorem import Theorem, quote_symbol
from search.protocols import Candidate, State

Backend = Literal["z3", "lean"]
STEP = 0.1
NAMED_Z3 = ("nlsat", "solve-eqs", "propagate-values", "ctx-solver-simplify")
TEXT_ONLY_Z3 = ("z3", "simplify", *NAMED_Z3)
LEAN_HEAD = ("rfl", "decide", "norm_num", "simp", "omega", "linarith", "nlinarith",
             "positivity", "ring_nf")
LEAN_TAIL = ("constructor", "intro", "simp_all", "aesop", "tauto", "exact?")
MAX_MODULUS = 6
MAX_CASES = 6
_LEAN_HYP = re.compile(r"^\s*([^:⊢\n]+?)\s*:\s*(ℕ|Nat|List\s.+)\s*$", re.MULTILINE)
_LEAN_BINDER = re.compile(r"∀\s*\(?([^,:()]+?)\s*:")
_LEAN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'!?₀-₉]*\Z")


class SymbolicPolicy:
    """A :class:`~search.protocols.Policy` over a fixed, goal-directed portfolio (see the
    module docstring). Deterministic: the same states give the same candidates."""

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

    def tactics(self, state: State) -> list[str]:
        """The whole portfolio for ``state``, best first, without duplicates."""
        if self.backend == "lean":
            found = lean_portfolio(state.goals[0] if state.goals else state.text)
        elif isinstance(state.handle, Z3Goals) and state.handle.goals:
            found = z3_portfolio(state.handle.theorem, state.handle.goals[0])
        else:
            found = list(TEXT_ONLY_Z3)
        return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- Z3
def _rec_calls(theorem: Theorem, name: str) -> int:
    rec = theorem.rec_defs[name]
    return sum(1 for t in walk([rec.body]) if z3.is_app(t) and t.decl().eq(rec.decl))


def _rec_apps(theorem: Theorem, terms: Sequence[z3.ExprRef]) -> list[z3.ExprRef]:
    decls = [rec.decl for rec in theorem.rec_defs.values()]
    return [t for t in walk(terms) if z3.is_app(t) and any(t.decl().eq(d) for d in decls)]


def _atomic_args(app: z3.ExprRef) -> bool:
    return all(z3.is_const(a) for a in app.children())


def _int_consts(terms: Sequence[z3.ExprRef]) -> dict[str, z3.ExprRef]:
    return {n: c for n, c in constants(terms).items() if z3.is_int(c)}


def _induction(theorem: Theorem, goal: Goal) -> tuple[list[str], list[str]]:
    """(tactics for bounded Int constants, cases splits for unbounded recursive arguments)."""
    ints = _int_consts(goal.terms())
    apps = _rec_apps(theorem, goal.terms())
    rec_args = list(_int_consts([a for app in apps for a in app.children()]))
    bounded = [n for n, c in ints.items() if any(lower_bound(h, c) is not None
                                                 for h in goal.hyps)]
    order = [n for n in rec_args if n in bounded] + [n for n in bounded if n not in rec_args]
    twice = any(_rec_calls(theorem, app.decl().name()) >= 2 for app in apps)
    tactics = [f"induction {n}" for n in order]
    if twice:
        tactics += [f"induction2 {n}" for n in order if n in rec_args]
    splits = [f"cases (>= {n} 0)" for n in rec_args if n not in bounded]
    return tactics, splits


def _case_splits(goal: Goal) -> list[str]:
    """Residues of constants under the ``mod m`` terms, then ite conditions and comparisons
    of the conclusion (not the conclusion itself)."""
    out: list[str] = []
    for t in walk(goal.terms()):
        if not (z3.is_app_of(t, z3.Z3_OP_MOD) and z3.is_int_value(t.arg(1))):
            continue
        m = t.arg(1).as_long()
        if 2 <= m <= MAX_MODULUS:
            for name in _int_consts([t.arg(0)]):
                out += [f"cases (= (mod {name} {m}) {r})" for r in range(m - 1)]
    conds = [t.arg(0) for t in walk([goal.concl]) if z3.is_app_of(t, z3.Z3_OP_ITE)]
    comparisons = [t for t in walk([goal.concl]) if not t.eq(goal.concl) and z3.is_app(t)
                   and t.decl().kind() in (z3.Z3_OP_LE, z3.Z3_OP_LT, z3.Z3_OP_GE, z3.Z3_OP_GT)]
    out += [f"cases {smt(c)}" for c in [*conds, *comparisons]][:MAX_CASES]
    return out


def _instances(goal: Goal) -> list[str]:
    """``instantiate h x`` for each one-variable forall hypothesis and each constant of its sort
    in the conclusion."""
    out = []
    names = constants([goal.concl])
    for i, h in enumerate(goal.hyps):
        if z3.is_quantifier(h) and h.is_forall() and h.num_vars() == 1:
            out += [f"instantiate h{i} {n}" for n, c in names.items()
                    if c.sort().eq(h.var_sort(0))]
    return out


def smt_name(decl: z3.FuncDeclRef) -> str:
    return quote_symbol(decl.name())


def _lemmas(theorem: Theorem, goal: Goal) -> list[str]:
    """Nonnegativity lemmas ``forall x >= 0. f(x) >= 0`` for unary Int recursive functions."""
    out = []
    for app in _rec_apps(theorem, goal.terms()):
        decl = app.decl()
        if decl.arity() == 1 and z3.is_int(app) and z3.is_int(app.arg(0)):
            lemma = f"(forall ((x Int)) (=> (>= x 0) (>= ({smt_name(decl)} x) 0)))"
            out.append(f"have {lemma}")
    return out


def z3_portfolio(theorem: Theorem, goal: Goal) -> list[str]:
    """The Z3 tactics for ``goal``, cheapest first (see the module docstring)."""
    tactics = ["z3"]
    if z3.is_implies(goal.concl) or (z3.is_quantifier(goal.concl) and goal.concl.is_forall()):
        tactics.append("intro")
    if z3.is_and(goal.concl):
        tactics.append("split")
    inductions, splits = _induction(theorem, goal)
    apps = _rec_apps(theorem, [goal.concl])
    unfolds = [f"unfold {app.decl().name()}" for app in apps]
    if any(not _atomic_args(app) for app in apps):  # f(k + 1): an induction step, unfold it
        tactics += unfolds + inductions
    else:
        tactics += inductions + unfolds
    tactics += [*splits, *_case_splits(goal), "simplify", *_instances(goal), *_lemmas(theorem, goal)]
    tactics += NAMED_Z3
    return list(dict.fromkeys(tactics))


# --------------------------------------------------------------------------- Lean
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
