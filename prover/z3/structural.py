"""The structural (solver-free) tactics of the Z3 prover: each acts on ONE goal and returns the
goals that replace it, or raises :class:`~prover.z3.goals.TacticError` when it does not apply.

``induction``/``induction2`` (on an Int constant with a lower-bound hypothesis), ``cases`` and
``have`` (a Bool SMT-LIB term), ``unfold`` (one unfolding of a ``define-fun-rec`` function),
``instantiate`` (a forall hypothesis at given terms), ``intro`` and ``split``; the grammar that
produces a :class:`~prover.z3.goals.TacticCall` lives in :mod:`prover.z3.goals`, the
solver-backed tactics in :mod:`prover.z3.tactics`, the residue tactics in
:mod:`prover.z3.modular`. Entry point: :func:`apply_structural`.
"""

from __future__ import annotations

import z3

from prover.z3.goals import (
    Goal,
    TacticCall,
    TacticError,
    constants,
    fresh_name,
    make_goal,
    mentions,
    smt,
)
from prover.z3.theorem import Theorem


def lower_bound(hyp: z3.ExprRef, var: z3.ExprRef) -> z3.ArithRef | None:
    """``t`` when ``hyp`` says ``var >= t`` (also ``t <= var``, ``var > t``, ``t < var``) and
    ``t`` does not mention ``var``; else None."""
    if not z3.is_app(hyp) or hyp.num_args() != 2:
        return None
    a, b = hyp.arg(0), hyp.arg(1)
    kind = hyp.decl().kind()
    found: z3.ArithRef | None = None
    if kind == z3.Z3_OP_GE and a.eq(var) or kind == z3.Z3_OP_LE and b.eq(var):
        found = b if a.eq(var) else a
    elif kind == z3.Z3_OP_GT and a.eq(var) or kind == z3.Z3_OP_LT and b.eq(var):
        found = z3.simplify((b if a.eq(var) else a) + 1)
    if found is None or mentions(found, var):
        return None
    return found


def induction(theorem: Theorem, goal: Goal, name: str, two_step: bool) -> list[Goal]:
    """Induction on the Int constant ``name`` from its first lower-bound hypothesis ``n >= t``.

    Hypotheses mentioning n join the motive M(n) = (hyps(n) -> concl(n)). Base: M(t). Step (k
    fresh): k >= t, M(k) ⊢ M(k+1); ``two_step`` also assumes k >= t+1 -> M(k-1) (a consequence
    of strong induction), enough for Fibonacci-like recursions.
    """
    var = constants(goal.terms()).get(name)
    if var is None or not z3.is_int(var):
        raise TacticError(f"induction: {name} is not an Int constant of the goal")
    bounds = [(i, lower_bound(h, var)) for i, h in enumerate(goal.hyps)]
    bounds = [(i, t) for i, t in bounds if t is not None]
    if not bounds:
        raise TacticError(f"induction: no hypothesis {name} >= t (try cases (>= {name} 0))")
    index, start = bounds[0]
    others = [h for i, h in enumerate(goal.hyps) if i != index]
    dep = [h for h in others if mentions(h, var)]
    indep = [h for h in others if not mentions(h, var)]

    def at(term: z3.ExprRef, value: z3.ExprRef) -> z3.ExprRef:
        return z3.substitute(term, (var, value))

    def motive(value: z3.ExprRef) -> z3.BoolRef:
        concl = at(goal.concl, value)
        if not dep:
            return concl
        premise = at(dep[0], value) if len(dep) == 1 else z3.And([at(h, value) for h in dep])
        return z3.Implies(premise, concl)

    taken = set(constants(goal.terms())) | theorem.reserved
    k = z3.Int(fresh_name(name, taken), theorem.ctx)
    base = make_goal([*indep, *(at(h, start) for h in dep)], at(goal.concl, start))
    step_hyps = [*indep, k >= start, motive(k)]
    if two_step:
        step_hyps.append(z3.Implies(k >= z3.simplify(start + 1), motive(k - 1)))
    step = make_goal([*step_hyps, *(at(h, k + 1) for h in dep)], at(goal.concl, k + 1))
    return [base, step]


def unfold(theorem: Theorem, goal: Goal, name: str, hyp: int | None) -> list[Goal]:
    """One unfolding of the recursive function ``name`` in the conclusion (or hypothesis
    ``hyp``): each outermost application is replaced by the body at its arguments. When some
    applications have a compound argument (``f(k + 1)``), only those are unfolded: unfolding
    ``f(x)`` at a free constant only adds a case split."""
    rec = theorem.rec_defs.get(name)
    if rec is None:
        raise TacticError(f"unfold: {name} is not a define-fun-rec function of the theorem")
    if hyp is not None and not 0 <= hyp < len(goal.hyps):
        raise TacticError(f"unfold: no hypothesis h{hyp}")
    target = goal.concl if hyp is None else goal.hyps[hyp]
    apps = _outermost(target, rec.decl)
    if not apps:
        where = "the conclusion" if hyp is None else f"h{hyp}"
        raise TacticError(f"unfold: {name} does not occur in {where}")
    compound = [a for a in apps if not all(_atomic(arg) for arg in a.children())]
    apps = compound or apps
    new = z3.substitute(target, *[(a, rec.instance(a.children())) for a in apps])
    if hyp is None:
        return [make_goal(goal.hyps, new)]
    return [make_goal(goal.hyps[:hyp] + (new,) + goal.hyps[hyp + 1:], goal.concl)]


def _atomic(term: z3.ExprRef) -> bool:
    return z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED


def _outermost(term: z3.ExprRef, decl: z3.FuncDeclRef) -> list[z3.ExprRef]:
    """Applications of ``decl`` not nested in another one, outside quantifiers (whose bodies
    hold de Bruijn variables)."""
    out, seen, stack = [], set(), [term]
    while stack:
        t = stack.pop()
        if t.get_id() in seen or not z3.is_app(t):
            continue
        seen.add(t.get_id())
        if t.decl().eq(decl):
            out.append(t)
        else:
            stack.extend(t.children())
    return out


def instantiate(theorem: Theorem, goal: Goal, hyp: int, terms: tuple[str, ...]) -> list[Goal]:
    """Add the instance of the forall hypothesis ``hyp`` at ``terms`` (filling nested foralls
    in order; every bound variable must be given, sorts must match)."""
    if not 0 <= hyp < len(goal.hyps):
        raise TacticError(f"instantiate: no hypothesis h{hyp}")
    extra = constants(goal.terms())
    values = [_term(theorem, t, extra, False) for t in terms]
    body: z3.ExprRef = goal.hyps[hyp]
    while values:
        if not (z3.is_quantifier(body) and body.is_forall()):
            raise TacticError(f"instantiate: h{hyp} has no forall for {len(values)} more term(s)")
        n = body.num_vars()
        if len(values) < n:
            raise TacticError(f"instantiate: the forall binds {n} variables, {len(values)} given")
        now, values = values[:n], values[n:]
        for i, value in enumerate(now):
            if not value.sort().eq(body.var_sort(i)):
                raise TacticError(f"instantiate: {smt(value)} has sort {value.sort()}, "
                                  f"{body.var_name(i)} needs {body.var_sort(i)}")
        body = z3.substitute_vars(body.body(), *reversed(now))
    return [make_goal([*goal.hyps, body], goal.concl)]


def intro(theorem: Theorem, goal: Goal) -> list[Goal]:
    """Strip every leading ``forall`` (its variables become fresh constants) and ``=>`` (its
    premise becomes a hypothesis) from the conclusion, like Lean's ``intros``."""
    hyps, concl = list(goal.hyps), goal.concl
    taken = set(constants(goal.terms())) | theorem.reserved
    while True:
        if z3.is_implies(concl):
            hyps.append(concl.arg(0))
            concl = concl.arg(1)
        elif z3.is_quantifier(concl) and concl.is_forall():
            fresh = []
            for i in range(concl.num_vars()):
                name = concl.var_name(i)
                name = name if name not in taken else fresh_name(name, taken)
                taken.add(name)
                fresh.append(z3.Const(name, concl.var_sort(i)))
            concl = z3.substitute_vars(concl.body(), *reversed(fresh))
        else:
            break
    if concl.eq(goal.concl):
        raise TacticError("intro: the conclusion is neither an implication nor a forall")
    return [make_goal(hyps, concl)]


def split(goal: Goal) -> list[Goal]:
    """A conjunction ``(and A B ...)`` becomes one goal per conjunct."""
    if not z3.is_and(goal.concl):
        raise TacticError("split: the conclusion is not a conjunction")
    return [make_goal(goal.hyps, c) for c in goal.concl.children()]


def _term(theorem: Theorem, text: str, extra: dict[str, z3.ExprRef],
          bool_only: bool) -> z3.ExprRef:
    try:
        return theorem.parse_term(text, extra, bool_only=bool_only)
    except ValueError as exc:
        raise TacticError(f"cannot parse {text!r}: {exc}") from None


def apply_structural(theorem: Theorem, goal: Goal, call: TacticCall) -> list[Goal]:
    """Apply a structural (solver-free) tactic to ``goal``: the goals that replace it."""
    if call.kind in ("cases", "have"):
        phi = _term(theorem, call.terms[0], constants(goal.terms()), True)
        if call.kind == "have":
            return [make_goal(goal.hyps, phi), make_goal([*goal.hyps, phi], goal.concl)]
        return [make_goal([*goal.hyps, phi], goal.concl),
                make_goal([*goal.hyps, z3.Not(phi)], goal.concl)]
    if call.kind in ("induction", "induction2"):
        return induction(theorem, goal, call.name, call.kind == "induction2")
    if call.kind == "unfold":
        return unfold(theorem, goal, call.name, call.hyp)
    if call.kind == "instantiate":
        assert call.hyp is not None
        return instantiate(theorem, goal, call.hyp, call.terms)
    if call.kind == "intro":
        return intro(theorem, goal)
    if call.kind == "split":
        return split(goal)
    raise TacticError(f"not a structural tactic: {call.kind}")
