"""Z3 as a proving :class:`~search.protocols.Environment`, and the replay check of a proof.

:class:`Z3Env` holds ONE theorem in its own ``z3.Context``. A state is a list of goals (first =
current); ``apply`` parses the tactic (:mod:`prover.z3.goals`), runs it on the first goal under
``budget_s`` (solver timeout + rlimit; tactic timeout; a watchdog thread interrupts the context
at 1.5 x budget + 0.1 s), and returns ``Progress``/``Proved``/``Failed``/``Timeout``; a Z3 call
that overruns the budget is a ``Timeout`` whatever it returned. Z3's ``unknown`` is never a
proof. The rlimit bounds solver checks only (Z3 tactics take no rlimit; they get the timeout
and the watchdog).

``max_concurrency`` is 1, and ``apply`` holds a per-environment lock. A Z3 context is not
thread-safe, and z3py reference-counts every term in its context from ``__del__``, so a
state's terms dropped or copied (``translate``) on one thread while another thread works in
the same context would race on the counts; translating each call into a private context
would need the same lock around every touch of the shared terms and buys little for
millisecond tactics. Parallelism belongs one level up: one environment (one context) per
theorem, in separate threads or processes.

:func:`check_proof` replays a tactic list from the row in a FRESH environment (fresh context)
and is the final word on a proof the search reports.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import z3

from prover.verdicts import UnknownReason, Verdict, unknown
from prover.z3.arith import Z3_VERSION, model_value
from prover.z3.goals import (
    STRUCTURAL,
    Goal,
    TacticCall,
    TacticError,
    Z3Goals,
    apply_structural,
    constants,
    is_trivial,
    make_goal,
    parse_tactic,
    smt,
    walk,
)
from prover.z3.theorem import Theorem, parse_theorem, z3_message
from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout

RLIMIT_PER_SECOND = 50_000_000
"""rlimit units per second of budget: about twice what Z3 5.4 counted per second of an unrolling
check on the development machine (27M/s), so the wall-clock timeout normally binds first and the
rlimit is the machine-independent backstop."""

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


@dataclass(frozen=True)
class Limits:
    """One call's Z3 limits derived from ``budget_s``."""

    budget_s: float
    timeout_ms: int
    rlimit: int

    @classmethod
    def of(cls, budget_s: float, rlimit_per_s: int = RLIMIT_PER_SECOND) -> Limits:
        return cls(budget_s, max(1, int(budget_s * 1000)), max(1, int(budget_s * rlimit_per_s)))


def _is_budget(reason: str) -> bool:
    reason = reason.lower()
    return any(w in reason for w in ("timeout", "canceled", "cancelled", "interrupt", "rlimit",
                                     "resource", "memory"))


def counter_model(goal: Goal, model: z3.ModelRef) -> dict[str, str]:
    """The goal's constants in plain values (sorted by name)."""
    return {name: model_value(model.eval(c, model_completion=True))
            for name, c in sorted(constants(goal.terms()).items())}


def _solve(formulas: Sequence[z3.BoolRef], ctx: z3.Context,
           limits: Limits) -> tuple[z3.CheckSatResult, z3.Solver]:
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", limits.timeout_ms)
    solver.set("rlimit", limits.rlimit)
    solver.add(*formulas)
    return solver.check(), solver


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
        quarter = Limits(limits.budget_s / 4, max(1, limits.timeout_ms // 4),
                         max(1, limits.rlimit // 4))
        result, _ = _solve(uninterpreted(theorem, formulas), ctx, quarter)
        if result == z3.unsat:
            return {"method": "z3 unsat (recursive functions uninterpreted)"}
        limits = Limits(limits.budget_s - quarter.budget_s, limits.timeout_ms - quarter.timeout_ms,
                        limits.rlimit - quarter.rlimit)
    result, solver = _solve(formulas, ctx, limits)
    if result == z3.unsat:
        return {"method": "z3 unsat"}
    if result == z3.sat:
        values = counter_model(goal, solver.model())
        shown = ", ".join(f"{k} = {v}" for k, v in values.items()) or "(no constants)"
        raise CounterModel(f"counter-model: {shown}", values)
    reason = solver.reason_unknown()
    if _is_budget(reason):
        raise TacticTimeout(reason)
    raise TacticError(f"z3 unknown ({reason}): not a proof")


def _run_tactic(name: str, ctx: z3.Context, formulas: Sequence[z3.BoolRef],
                limits: Limits) -> list[list[z3.BoolRef]]:
    goal = z3.Goal(ctx=ctx)
    goal.add(*formulas)
    tactic = z3.TryFor(z3.Tactic(NAMED_TACTICS[name], ctx), limits.timeout_ms)
    try:
        result = tactic(goal)
    except z3.Z3Exception as exc:
        text = z3_message(exc)
        if _is_budget(text):
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


class Watchdog:
    """Interrupts ``ctx`` if a call outlives ``after_s`` (Z3 timeouts are not always honoured)."""

    def __init__(self, ctx: z3.Context, after_s: float) -> None:
        self._ctx, self._guard, self._active = ctx, threading.Lock(), True
        self._timer = threading.Timer(after_s, self._fire)
        self._timer.daemon = True
        self.fired = False

    def _fire(self) -> None:
        with self._guard:
            if self._active:
                self.fired = True
                self._ctx.interrupt()

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            self._active = False
        self._timer.cancel()


class Z3Env:
    """The Environment of one theorem row (see the module docstring for the rules)."""

    max_concurrency = 1

    def __init__(self, row: Mapping[str, Any], rlimit_per_s: int = RLIMIT_PER_SECOND) -> None:
        """Parse ``row`` (raises :class:`~prover.z3.theorem.TheoremError` if it is bad)."""
        self.theorem = parse_theorem(row)
        self.rlimit_per_s = rlimit_per_s
        self._lock = threading.Lock()

    def initial_state(self) -> State:
        """The single goal ``hypotheses ⊢ goal``."""
        goal = make_goal(self.theorem.hypotheses, self.theorem.conclusion)
        return self._state(Z3Goals(self.theorem, (goal,)))

    @staticmethod
    def _state(handle: Z3Goals) -> State:
        texts = tuple(g.text for g in handle.goals)
        return State("\n\n".join(texts), texts, handle=handle)

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        """Run ``tactic`` on the first goal of ``state`` within ``budget_s`` seconds."""
        handle = state.handle
        if not isinstance(handle, Z3Goals) or handle.theorem is not self.theorem:
            raise ValueError("apply: the state was not produced by this environment")
        try:
            call = parse_tactic(tactic, NAMED_TACTICS)
        except TacticError as exc:
            return Failed(str(exc))
        with self._lock:
            start = perf_counter()
            try:
                with Watchdog(self.theorem.ctx, 1.5 * budget_s + 0.1):
                    new, record = self._step(handle.goals[0], call, Limits.of(budget_s,
                                                                            self.rlimit_per_s))
            except TacticTimeout:
                return Timeout(budget_s)
            except TacticError as exc:
                return Failed(str(exc))
            except z3.Z3Exception as exc:
                text = z3_message(exc)
                return Timeout(budget_s) if _is_budget(text) else Failed(f"z3 error: {text}")
            except (ValueError, TypeError, RecursionError) as exc:  # z3py rejecting bad terms
                return Failed(f"{type(exc).__name__}: {exc}")
            if perf_counter() - start > budget_s:
                return Timeout(budget_s)
            return self._after(handle, tactic, new, record)

    def _step(self, goal: Goal, call: TacticCall,
              limits: Limits) -> tuple[list[Goal], dict[str, Any] | None]:
        if call.kind == "z3":
            return [], close_by_z3(goal, self.theorem, limits)
        if call.kind == "named":
            new = apply_named(self.theorem, goal, call.name, limits)
            return new, (None if new else {"method": f"tactic {NAMED_TACTICS[call.name]}"})
        if call.kind in STRUCTURAL:
            return apply_structural(self.theorem, goal, call), None
        raise TacticError(f"unknown tactic {call.kind!r}")

    def _after(self, handle: Z3Goals, tactic: str, new: list[Goal],
               record: dict[str, Any] | None) -> Outcome:
        closed = list(handle.closed)
        if record is not None:
            closed.append({"goal": handle.goals[0].text, "tactic": tactic, **record})
        kept = []
        for goal in new:
            if is_trivial(goal):
                closed.append({"goal": goal.text, "tactic": tactic, "method": "trivial"})
            else:
                kept.append(goal)
        goals = (*kept, *handle.goals[1:])
        if not goals:
            return Proved({"backend": "z3", "z3_version": Z3_VERSION,
                           "theorem": self.theorem.id, "closed": closed})
        return Progress(self._state(Z3Goals(self.theorem, goals, tuple(closed))))


# --------------------------------------------------------------------------- whole proofs
def check_proof(row: Mapping[str, Any], tactics: Sequence[str],
                budget_s: float = 10.0) -> Verdict:
    """Replay ``tactics`` on ``row`` in a fresh environment (fresh Z3 context): ``verified``
    iff the last tactic closes the last goal; ``refuted`` when a tactic fails, goals remain,
    or tactics follow the end of the proof; ``unknown`` on timeout or a crash. A bad row
    raises :class:`~prover.z3.theorem.TheoremError`."""
    env = Z3Env(row)
    state = env.initial_state()
    tactics = list(tactics)
    for i, tactic in enumerate(tactics):
        try:
            outcome = env.apply(state, tactic, budget_s)
        except Exception as exc:  # broken backend, not a verdict on the proof
            outcome = Crashed(f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, Progress):
            state = outcome.state
            continue
        if isinstance(outcome, Proved):
            if i != len(tactics) - 1:
                return Verdict("refuted", evidence={"step": i, "extra": tactics[i + 1:]},
                               detail="all goals were closed before the last tactic")
            evidence = {"method": "replay", "tactics": tactics, **dict(outcome.evidence)}
            return Verdict("verified", evidence=evidence, detail="proof replayed in a fresh context")
        if isinstance(outcome, Failed):
            return Verdict("refuted", evidence={"step": i, "tactic": tactic,
                                                "reason": outcome.reason},
                           detail=f"tactic {i} failed on replay")
        if isinstance(outcome, Timeout):
            return unknown(UnknownReason.TIMEOUT, f"tactic {i} ({tactic}) timed out "
                                                  f"after {outcome.budget_s} s")
        return unknown(UnknownReason.BACKEND_ERROR, f"tactic {i} crashed: {outcome.message}")
    return Verdict("refuted", evidence={"open_goals": list(state.goals)},
                   detail="the tactics leave goals open")


def plain_z3(row: Mapping[str, Any], timeout_s: float) -> Verdict:
    """One-shot Z3 on hyps ∧ ¬goal (the baseline): verified (unsat), refuted (counter-model)
    or unknown with a typed reason."""
    theorem = parse_theorem(row)
    goal = make_goal(theorem.hypotheses, theorem.conclusion)
    try:
        close_by_z3(goal, theorem, Limits.of(timeout_s), abstract=False)
    except TacticTimeout as exc:
        reason = UnknownReason.TIMEOUT if "timeout" in str(exc) else UnknownReason.BUDGET
        return unknown(reason, str(exc))
    except CounterModel as exc:
        return Verdict("refuted", evidence={"counter_model": exc.values}, detail=str(exc))
    except TacticError as exc:
        return unknown(UnknownReason.UNDECIDABLE, str(exc))
    return Verdict("verified", evidence={"method": "z3 unsat", "goal": smt(theorem.conclusion)})
