"""The solver-backed tactics of the Z3 prover (``z3`` and the named Z3 tactics), the hypothesis
preflight, and the worker side of a prover step.

These run inside a worker process of :mod:`prover.z3.isolate` (Z3 ignores interrupts inside some
tactics, so only a killable process bounds them): :func:`serve` rebuilds the theorem from its row
and the goal from its SMT-LIB text, runs the step under :class:`~prover.z3.gateway.Limits` and a
watchdog, and answers plain JSON that :mod:`prover.z3.env` turns back into goals.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from time import perf_counter
from typing import Any

import z3

from prover.records.verdicts import UnknownReason
from prover.z3.gateway import (
    RLIMIT_PER_SECOND,
    Limits,
    Watchdog,
    error_text,
    is_limit_text,
    model_value,
    solve,
)
from prover.z3.goals import (
    Goal,
    TacticError,
    constants,
    make_goal,
    parse_tactic,
    smt,
    walk,
)
from prover.z3.theorem import Theorem, parse_theorem, quote_symbol, unquote_symbol

NAMED_TACTICS: dict[str, str] = {
    "simplify": "simplify", "solve-eqs": "solve-eqs", "propagate-values": "propagate-values",
    "ctx-simplify": "ctx-simplify", "ctx-solver-simplify": "ctx-solver-simplify",
    "split-clause": "split-clause", "propagate-ineqs": "propagate-ineqs", "der": "der",
    "smt": "smt", "nlsat": "qfnra-nlsat", "qfnra-nlsat": "qfnra-nlsat",
}
"""Accepted named tactics -> Z3 tactic. All are satisfiability-preserving transformations or
decision procedures, so an unsat subgoal is a real refutation; under-approximations such as
``nla2bv`` are excluded (their unsat is no proof). ``nlsat`` alone needs purify-arith first,
so it names ``qfnra-nlsat``. Tactics that introduce fresh constants (``elim-term-ite``,
``purify-arith``, ``nnf``...) are left out too: a goal's text must name its constants
unambiguously; :func:`apply_named` still rejects any result that reuses a name."""


class CounterModel(TacticError):
    """Z3 found values where the hypotheses hold and the conclusion fails."""

    def __init__(self, message: str, values: dict[str, str]) -> None:
        super().__init__(message)
        self.values = values


class TacticTimeout(Exception):
    """The tactic ran out of its budget (Z3 timeout, rlimit, interrupt or wall overrun)."""


def counter_model(goal: Goal, model: z3.ModelRef) -> dict[str, str]:
    """The goal's constants in plain values (sorted by name)."""
    return {name: model_value(model.eval(c, model_completion=True))
            for name, c in sorted(constants(goal.terms()).items())}


def uninterpreted(theorem: Theorem, terms: Sequence[z3.ExprRef]) -> list[z3.ExprRef]:
    """``terms`` with every recursive function replaced by an uninterpreted one of the same
    signature (named ``f!uf``): an unsat result over them holds for the real definitions too."""
    pairs = []
    for rec in theorem.rec_defs.values():
        decl = rec.decl
        domain = [decl.domain(i) for i in range(decl.arity())]
        free = z3.Function(f"{rec.name}!uf", *domain, decl.range())
        pairs.append((decl, free(*[z3.Var(i, s) for i, s in enumerate(domain)])))
    return [z3.substitute_funs(t, *pairs) for t in terms] if pairs else list(terms)


def mentions_recursive(theorem: Theorem, terms: Sequence[z3.ExprRef]) -> bool:
    """Whether ``terms`` apply one of the theorem's recursive functions."""
    names = set(theorem.rec_defs)
    return bool(names) and any(
        z3.is_app(t) and t.decl().name() in names and t.decl().kind() == z3.Z3_OP_RECURSIVE
        for t in walk(terms))


def definitions_contradict(theorem: Theorem, terms: Sequence[z3.ExprRef],
                           limits: Limits) -> bool:
    """Whether the recursive definitions contradict themselves on one of ``terms``.

    A ``define-fun-rec`` is an axiom (``f(x) = body``); one without a solution (``f(x) =
    f(x) + 1``) makes every goal that mentions ``f`` follow, so such a closure is vacuous, not
    a proof. A Bool term ``t`` mentioning a recursive function for which both ``t`` and
    ``¬t`` are unsat (nothing else asserted) shows it: with consistent definitions one of them
    is satisfiable. ``unknown`` is not taken as a contradiction. Each term is checked once per
    theorem (the search and the replay meet the same hypotheses at every step)."""
    checked = theorem.definitions_checked
    if any(checked[t.get_id()][1] for t in terms if t.get_id() in checked):
        return True
    suspects = [t for t in terms if t.get_id() not in checked and z3.is_bool(t)
                and mentions_recursive(theorem, [t])]
    if not suspects:
        return False
    part = limits.part(1.0 / (2 * len(suspects)))
    for t in suspects:
        contradict = (solve([t], ctx=theorem.ctx, limits=part, want_model=False).unsat and
                      solve([z3.Not(t)], ctx=theorem.ctx, limits=part, want_model=False).unsat)
        checked[t.get_id()] = (t, contradict)
        if contradict:
            return True
    return False


def close_by_z3(goal: Goal, theorem: Theorem, limits: Limits,
                abstract: bool = True) -> dict[str, Any]:
    """Close ``goal`` by an unsat check of hyps ∧ ¬concl; the closure record, or raise
    :class:`TacticError` (counter-model, unknown) / :class:`TacticTimeout`.

    With ``abstract`` and recursive functions in the goal, a quarter of the budget first tries
    the check with those functions uninterpreted (Z3 otherwise keeps unrolling definitions and
    misses easy arithmetic, e.g. 4 | p - 1 ⊢ 4 | 5p - 1); only unsat counts from that phase.
    """
    ctx, formulas = theorem.ctx, [*goal.hyps, z3.Not(goal.concl)]
    names = set(theorem.rec_defs)
    if abstract and any(z3.is_app(t) and t.decl().name() in names and
                        t.decl().kind() == z3.Z3_OP_RECURSIVE for t in walk(formulas)):
        quarter = limits.part(0.25)
        if solve(uninterpreted(theorem, formulas), ctx=ctx, limits=quarter).unsat:
            return {"method": "z3 unsat (recursive functions uninterpreted)"}
        limits = limits.part(0.75)
    result = solve(formulas, ctx=ctx, limits=limits)
    if result.unsat:
        return {"method": "z3 unsat"}
    if result.sat:
        values = counter_model(goal, result.model)
        shown = ", ".join(f"{k} = {v}" for k, v in values.items()) or "(no constants)"
        raise CounterModel(f"counter-model: {shown}", values)
    if result.reason in (UnknownReason.TIMEOUT, UnknownReason.BUDGET):
        raise TacticTimeout(result.raw_reason)
    raise TacticError(f"z3 unknown ({result.raw_reason}): not a proof")


def _run_tactic(name: str, ctx: z3.Context, formulas: Sequence[z3.BoolRef],
                limits: Limits) -> list[list[z3.BoolRef]]:
    goal = z3.Goal(ctx=ctx)
    goal.add(*formulas)
    tactic = z3.TryFor(z3.Tactic(NAMED_TACTICS[name], ctx), limits.timeout_ms)
    try:
        with Watchdog(ctx, limits.wall):
            result = tactic(goal)
    except z3.Z3Exception as exc:
        text = error_text(exc)
        if is_limit_text(text):
            raise TacticTimeout(text) from None
        raise TacticError(f"{name}: {text}") from None
    return [[z3.BoolVal(False, ctx)] if sub.inconsistent() else list(sub) for sub in result]


def _conjoin(formulas: Sequence[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    if not formulas:
        return z3.BoolVal(True, ctx)
    return formulas[0] if len(formulas) == 1 else z3.And(*formulas)


def _check_names(theorem: Theorem, goal: Goal, formulas: Sequence[z3.BoolRef],
                 name: str) -> None:
    """Reject a tactic result whose new constants reuse a name (the text would be ambiguous)."""
    before = constants(goal.terms())
    seen: dict[str, z3.ExprRef] = {}
    for term in walk(formulas):
        if z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            label = term.decl().name()
            other = seen.setdefault(label, term)
            known = before.get(label)
            if not other.eq(term) or (known is None and label in theorem.reserved) or \
                    (known is not None and not known.eq(term)):
                raise TacticError(f"{name}: the result reuses the constant name {label!r}")


def apply_named(theorem: Theorem, goal: Goal, name: str, limits: Limits) -> list[Goal]:
    """A named Z3 tactic on ``goal``. ``simplify`` rewrites each formula in place (keeping
    ``hyps ⊢ concl``); the others run on hyps ∧ ¬concl and each remaining subgoal becomes
    ``formulas ⊢ false`` (an unsat subgoal is closed)."""
    ctx = theorem.ctx
    if name == "simplify":
        parts = [_conjoin(sub, ctx) for f in goal.terms()
                 for sub in _run_tactic(name, ctx, [f], limits)]
        hyps = [h for h in parts[:-1] if not z3.is_true(h)]
        new = make_goal(hyps, parts[-1])
        if new.text == goal.text:
            raise TacticError("simplify: no change")
        return [new]
    subgoals = _run_tactic(name, ctx, [*goal.hyps, z3.Not(goal.concl)], limits)
    _check_names(theorem, goal, [f for sub in subgoals for f in sub], name)
    out = []
    for sub in subgoals:
        if any(z3.is_false(f) for f in sub):
            continue
        if not sub:
            raise TacticError(f"{name}: a subgoal reduced to true (no contradiction): "
                              "the goal may be false")
        out.append(make_goal(sub, z3.BoolVal(False, ctx)))
    before = {f.get_id() for f in (*goal.hyps, z3.Not(goal.concl))}
    if len(out) == 1 and {f.get_id() for f in out[0].hyps} == before:
        raise TacticError(f"{name}: no change")
    return out




# --------------------------------------------------------------------------- hypothesis preflight
def preflight(theorem: Theorem, limits: Limits) -> dict[str, Any]:
    """Before any search: ``vacuous`` (the hypotheses are unsat; ``core`` names them),
    ``refuted`` (a counter-model of hyps ∧ ¬goal, confirmed by substituting it back), or
    ``open``. Plain JSON."""
    hyps = list(theorem.hypotheses)
    if definitions_contradict(theorem, [*hyps, theorem.conclusion], limits.part(0.25)):
        return {"kind": "vacuous", "core": [], "definitions": True}
    if hyps:
        tracked = [(f"hyp!{i}", h) for i, h in enumerate(hyps)]
        base = solve([], ctx=theorem.ctx, limits=limits.part(0.5), tracked=tracked,
                     options={"core.minimize": True}, want_model=False)
        if base.unsat:
            used = sorted(int(t[4:]) for t in base.core if t.startswith("hyp!"))
            return {"kind": "vacuous",
                    "core": [{"index": i, "text": smt(hyps[i])} for i in used]}
        if base.status == "unknown":
            return {"kind": "open", "note": f"hypotheses not decided: {base.raw_reason}"}
    goal = make_goal(hyps, theorem.conclusion)
    negated = solve([*hyps, z3.Not(theorem.conclusion)], ctx=theorem.ctx,
                    limits=limits.part(0.5))
    if negated.sat:
        how = _confirm(goal, negated.model)
        if how is not None:
            return {"kind": "refuted", "counter_model": counter_model(goal, negated.model),
                    "recheck": how}
    return {"kind": "open"}


def _confirm(goal: Goal, model: z3.ModelRef) -> str | None:
    """How the counter-model was re-checked (``substitution``: the constants' values put into
    the hypotheses and the goal simplify to true and false; ``model evaluation`` when functions
    or quantifiers need the model's interpretation), or None when it could not be."""
    pairs = [(c, model.eval(c, model_completion=True))
             for c in constants(goal.terms()).values()]
    ground = [z3.simplify(z3.substitute(t, *pairs)) if pairs else z3.simplify(t)
              for t in goal.terms()]
    if all(z3.is_true(h) for h in ground[:-1]) and z3.is_false(ground[-1]):
        return "substitution"
    evaluated = [model.eval(t, model_completion=True) for t in ground]
    if all(z3.is_true(h) for h in evaluated[:-1]) and z3.is_false(evaluated[-1]):
        return "model evaluation"
    return None


# --------------------------------------------------------------------------- transfer, worker side
def goal_payload(goal: Goal) -> dict[str, Any]:
    """A goal as plain JSON: hypothesis and conclusion texts and its constants' sorts."""
    consts = constants(goal.terms())
    avoid = frozenset(quote_symbol(n) for n in consts)
    return {"hyps": [smt(h, avoid=avoid) for h in goal.hyps],
            "concl": smt(goal.concl, avoid=avoid),
            "consts": {name: c.sort().sexpr() for name, c in consts.items()}}


def _declare(theorem: Theorem, name: str, sort_text: str) -> z3.ExprRef:
    ctx = theorem.ctx
    builtin = {"Int": z3.IntSort(ctx), "Real": z3.RealSort(ctx), "Bool": z3.BoolSort(ctx)}
    sort = builtin.get(sort_text)
    if sort is None:
        sort = theorem.sorts.get(unquote_symbol(sort_text))
    if sort is None:
        probe = f"{theorem.macros} (declare-const |c!sort| {sort_text}) (assert (= |c!sort| |c!sort|))"
        sort = z3.parse_smt2_string(probe, sorts=theorem.sorts, ctx=ctx)[-1].arg(0).sort()
    return z3.Const(name, sort)


def goal_from_payload(theorem: Theorem, data: Mapping[str, Any]) -> Goal:
    """The inverse of :func:`goal_payload` in ``theorem``'s context (raises ValueError)."""
    extra = {name: _declare(theorem, name, sort) for name, sort in data["consts"].items()
             if name not in theorem.symbols}
    hyps = [theorem.parse_term(text, extra, bool_only=True) for text in data["hyps"]]
    return make_goal(hyps, theorem.parse_term(data["concl"], extra, bool_only=True))


_THEOREMS: OrderedDict[str, Theorem] = OrderedDict()


def _theorem(row: Mapping[str, Any]) -> Theorem:
    key = json.dumps(row, sort_keys=True)
    if key not in _THEOREMS:
        _THEOREMS[key] = parse_theorem(row)
        while len(_THEOREMS) > 8:
            _THEOREMS.popitem(last=False)
    _THEOREMS.move_to_end(key)
    return _THEOREMS[key]


def serve(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Worker handler: ``op`` ``preflight`` (see :func:`preflight`) or ``step`` (one solver
    tactic on one goal): ``{"kind": "goals", "goals", "record"}``, ``failed`` (``reason``,
    maybe ``counter_model``) or ``timeout``."""
    theorem = _theorem(payload["row"])
    limits = Limits.of(payload["budget_s"], payload.get("rlimit_per_s", RLIMIT_PER_SECOND))
    if payload["op"] == "preflight":
        return preflight(theorem, limits)
    start = perf_counter()
    try:
        goal = goal_from_payload(theorem, payload["goal"])
        call = parse_tactic(payload["tactic"], NAMED_TACTICS)
        with Watchdog(theorem.ctx, limits.wall):
            if definitions_contradict(theorem, goal.terms(), limits.part(0.25)):
                raise TacticError("the recursive definitions contradict themselves on this "
                                  "goal's terms: any conclusion would follow (vacuous)")
            if call.kind == "z3":
                new = []
                record = close_by_z3(goal, theorem, limits, payload.get("abstract", True))
            elif call.kind == "named":
                new = apply_named(theorem, goal, call.name, limits)
                record = None if new else {"method": f"tactic {NAMED_TACTICS[call.name]}"}
            else:
                raise TacticError(f"not a solver tactic: {call.kind}")
    except TacticTimeout as exc:
        return {"kind": "timeout", "reason": str(exc)}
    except CounterModel as exc:
        return {"kind": "failed", "reason": str(exc), "counter_model": exc.values}
    except TacticError as exc:
        return {"kind": "failed", "reason": str(exc)}
    except z3.Z3Exception as exc:
        text = error_text(exc)
        if is_limit_text(text):
            return {"kind": "timeout"}
        return {"kind": "failed", "reason": f"z3 error: {text}"}
    except (ValueError, TypeError, RecursionError) as exc:  # z3py rejecting bad terms
        return {"kind": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    if perf_counter() - start > payload["budget_s"]:
        return {"kind": "timeout"}
    return {"kind": "goals", "goals": [goal_payload(g) for g in new], "record": record}
