"""The Z3 half of the symbolic policy: the goal-directed tactic portfolio for a Z3 goal.

Reads the goal's terms (recursive functions, Int constants with lower bounds, ``mod`` and ``ite``
conditions, forall hypotheses) and proposes tactics, cheapest and likeliest first; used by
:class:`prover.policy.symbolic.SymbolicPolicy` (which itself never touches z3). For a
``(mod P m)`` conclusion it proposes ``residues x m`` on P's variables, ALONE when a dry run
(no solver) shows ``mod-eval`` then closes every case, and ``mod-eval`` alone once it closes
the goal (:mod:`prover.z3.modular`): a certain proof is not raced against solver calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from prover.z3.goals import Goal, TacticError, constants, smt, walk
from prover.z3.modular import MAX_RESIDUES, mod_eval, mod_terms, residues
from prover.z3.structural import lower_bound
from prover.z3.theorem import Theorem, quote_symbol

NAMED_Z3 = ("nlsat", "solve-eqs", "propagate-values", "ctx-solver-simplify")
MAX_MODULUS = 6
MAX_CASES = 6
MAX_DRY_SPLITS = 2
MAX_DRY_MODULUS = 12


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


_POLY_OPS = (z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_MUL, z3.Z3_OP_UMINUS, z3.Z3_OP_POWER)


def _poly_vars(term: z3.ExprRef) -> list[str]:
    """Int constants reached from ``term`` through +, -, * and ^ only (not inside atoms)."""
    out: list[str] = []
    stack = [term]
    while stack:
        t = stack.pop()
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED and z3.is_int(t):
            out.append(t.decl().name())
        elif z3.is_app(t) and t.decl().kind() in _POLY_OPS:
            stack.extend(reversed(t.children()[:1] if z3.is_app_of(t, z3.Z3_OP_POWER)
                                  else t.children()))
    return list(dict.fromkeys(out))


def _residue_splits(goal: Goal) -> list[tuple[str, int]]:
    """(x, m) for each Int constant x that a ``(mod P m)`` of the conclusion (m in
    2..MAX_RESIDUES) reaches polynomially: each case of ``residues x m`` may fix the mod."""
    out = []
    for t in mod_terms([goal.concl]):
        m = t.arg(1).as_long()
        if 2 <= m <= MAX_RESIDUES:
            out += [(name, m) for name in _poly_vars(t.arg(0))]
    return list(dict.fromkeys(out))[:MAX_CASES]


def _closing_split(theorem: Theorem, goal: Goal,
                   splits: Sequence[tuple[str, int]]) -> tuple[str, int] | None:
    """The first of the first :data:`MAX_DRY_SPLITS` splits (modulus <= :data:`MAX_DRY_MODULUS`)
    after which ``mod-eval`` closes every case, by a dry run (no solver), or None."""
    for name, m in splits[:MAX_DRY_SPLITS]:
        if m > MAX_DRY_MODULUS:
            continue
        try:
            cases = residues(theorem, goal, name, m)
        except (TacticError, ValueError, z3.Z3Exception):
            continue
        if all(_mod_eval_effect(case) == "closes" for case in cases):
            return name, m
    return None


def _residues_tactic(name: str, m: int) -> str:
    return f"residues {quote_symbol(name)} {m}"


def _mod_eval_effect(goal: Goal) -> str | None:
    """``closes`` when ``mod-eval`` would close the goal, ``rewrites`` when it would only
    rewrite it, None when it does not apply (a dry run: no solver)."""
    try:
        new, _ = mod_eval(goal)
    except (TacticError, ValueError, z3.Z3Exception):
        return None
    return "rewrites" if new else "closes"


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
    """The Z3 tactics for ``goal``, cheapest first (see the module docstring). When
    ``mod-eval`` closes the goal (checked by a dry run) it is the only candidate."""
    effect = _mod_eval_effect(goal)
    if effect == "closes":
        return ["mod-eval"]
    splits = _residue_splits(goal)
    closing = _closing_split(theorem, goal, splits)
    if closing is not None:  # a whole proof without a solver call: nothing else to try
        return [_residues_tactic(*closing)]
    tactics = ["z3"] + (["mod-eval"] if effect else [])
    if z3.is_implies(goal.concl) or (z3.is_quantifier(goal.concl) and goal.concl.is_forall()):
        tactics.append("intro")
    if z3.is_and(goal.concl):
        tactics.append("split")
    tactics += [_residues_tactic(name, m) for name, m in splits]
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
