"""Check one parsed relation of a solution against what the solution knows (its :class:`Scope`).

A relation is a claim (verified, refuted or unknown), a definition (``x = 12``: binds a name)
or a constraint (an equation in unknowns the solution states). Claims go through
:class:`prover.arith.check.ArithChecker` (exact rationals first, Z3 for unknowns) under the
solution's solver budget, counted in Z3 resource units (``rlimit``, see :mod:`prover.z3.meter`),
never in seconds: every solver call is capped by what is left and charged what it used, so the
same solution gets the same verdicts on an idle or a loaded machine. Once the budget is spent,
what exact evaluation cannot decide is ``unknown: budget``.

Z3's work on a query depends on the history of its context (term order), so each solution gets a
fresh :class:`ArithChecker` (a fresh Z3 context and memo, made only when the solution needs Z3):
its verdicts then do not depend on which solutions the same checker saw before, or on how rows
are spread over workers. Within a solution, a remembered answer is charged the cost recorded
when it was computed (or, if that is more than is left, answers ``unknown: budget`` and spends
the rest). A wall-clock deadline per solution is only the safety net (``unknown: timeout``),
far above what ordinary claims take.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from formalizer.readings import reread
from formalizer.step_scope import (
    CASE_STEP,
    NEGATION,
    NEW_MEANING,
    Context,
    Outcome,
    Scope,
    fresh_definition,
    ground_value,
    holds_as_supposed,
    literal,
    reuses,
    states_a_value,
    undefined_binding,
)
from prover.arith.ast import Relation, Var, is_opaque, variables
from prover.arith.check import (
    ArithChecker,
    Premises,
    check_ground,
    polynomial_identity,
    probe_identity,
)
from prover.arith.premises import premises_key
from prover.records.verdicts import UnknownReason, Verdict, unknown
from prover.z3.meter import Meter, metered

SOLVER_UNITS_PER_SECOND = 1_700_000
"""Z3 resource units (``rlimit``) per second of ``solver_budget_s``: THE mapping from the
seconds users give (``check --solver-budget``) to the deterministic budget. Calibrated on the
ProcessBench dev half (Z3 5.4): the step checker's calls used about 1.7M counted units per
second of CPU beyond a fixed cost per call (charged as :data:`prover.z3.meter.CALL_UNITS`)."""
SAFETY_WALL_S = 30.0
SAFETY_WALL_FACTOR = 60.0
"""The wall-clock safety net of one solution's solver calls: ``max(SAFETY_WALL_S,
SAFETY_WALL_FACTOR * solver_budget_s)`` seconds; past it a call is ``unknown: timeout``."""
SAFETY_CALL_CPU_S = 0.5
SAFETY_CALL_WALL_S = 10.0
"""The safety net of one solver call: ``max(SAFETY_CALL_CPU_S, 2 * solver_budget_s)`` seconds of
CPU (the calling thread's, or the isolate worker's), with ``max(SAFETY_CALL_WALL_S, 20 *
solver_budget_s)`` wall seconds as the backstop. Ordinary calls use milliseconds of CPU (the
slowest decided call on the dev half: 0.09 s); this stops the Z3 code that counts no units
(exponent terms) after the same CPU time on a loaded machine as on an idle one. A call that
hits it is ``unknown: timeout`` and spends the rest of the solution's budget."""
_MEMO_SIZE = 8192
BUDGET_SPENT = unknown(UnknownReason.BUDGET, "the solver budget of this solution is spent")
CASE_CONTRADICTION = unknown(UnknownReason.NOT_CHECKED, (
    "a derivation in a case step contradicts earlier equations, which may be another case's"))
CASE_CHOSEN = unknown(UnknownReason.NOT_CHECKED, (
    "states a value the solution examined as a case: the conclusion of a case analysis, "
    "not a derivation from the equations before it"))
SAFETY_TIMEOUT = unknown(UnknownReason.TIMEOUT, "the solver's wall-clock safety limit expired")
LISTED_VALUE = unknown(UnknownReason.NOT_CHECKED, (
    "a second value for a letter defined earlier in the same sentence (x = A and x = B): "
    "a list of values, not a claim that they are equal"))


def solver_units(budget_s: float) -> int:
    """The Z3 resource units of a budget of ``budget_s`` seconds."""
    return max(0, round(budget_s * SOLVER_UNITS_PER_SECOND))


@dataclass(frozen=True)
class _Memo:
    """A solver answer and its cost in units; ``cut_at`` is the units that were left when a
    budget cut it short (None: a decided answer)."""

    verdict: Verdict
    backend: str
    cost: int
    cut_at: int | None = None


class RelationChecker:
    """Decides relations for one solution at a time; owns one :class:`ArithChecker` (one Z3
    context), so one per thread. :meth:`start_solution` resets the solver budget."""

    def __init__(self, checker: ArithChecker, solver_budget_s: float) -> None:
        self.checker = checker
        self.solver_budget_s = solver_budget_s
        self.meter = Meter(solver_units(solver_budget_s))
        self._memo: dict[tuple, _Memo] = {}
        self._cases: set[Relation] = set()  # values this solution examined as a case
        self._defined_in: dict[str, tuple[str, int]] = {}  # name -> (step, sentence) bound

    def start_solution(self) -> None:
        """A new solution: the full solver budget (units), a fresh safety deadline, and a fresh
        checker (Z3 context and memo: see the module docs)."""
        wall = max(SAFETY_WALL_S, SAFETY_WALL_FACTOR * self.solver_budget_s)
        self.meter = Meter(solver_units(self.solver_budget_s), time.monotonic() + wall,
                           call_cpu_s=max(SAFETY_CALL_CPU_S, 2 * self.solver_budget_s),
                           call_wall_s=max(SAFETY_CALL_WALL_S, 20 * self.solver_budget_s))
        if self._memo or self.checker.setup_s:  # the last solution used Z3
            self.checker = ArithChecker(self.checker.limits)
        self._memo = {}
        self._cases = set()
        self._defined_in = {}

    # ------------------------------------------------------------------ claims
    def _check_relation(self, rel: Relation, scope: Scope, ctx: Context) -> Outcome:
        """Decide what one parsed relation is (claim, definition, constraint) and check it."""
        premises = scope.premises
        # only a binding "x = ..." or a name bound to an undefined value can be one
        if scope.undefined or (rel.op == "=" and isinstance(rel.left, Var)):
            undefined = undefined_binding(rel, scope)
            if undefined is not None:
                return undefined
        names = variables(rel)
        if scope.imaginary and "i" in names:
            return Outcome("claim", unknown(UnknownReason.NOT_FORMALIZED, (
                "the solution uses i as the imaginary unit; complex numbers are not read")),
                "none")
        if is_opaque(rel):  # f(x), sin(30), pi: a claim, never a binding or a constraint
            verdict, backend = self._solve(rel, premises)
            return Outcome("claim", verdict, backend)
        free = names - premises.values.keys()
        unknown_names = free.union(*(variables(c) for c in premises.constraints))
        # integers only when every unknown in play is one the text declares integral
        premises.integer = bool(unknown_names) and unknown_names <= premises.integer_names
        if not ctx.asserted and free:
            return Outcome("claim", unknown(UnknownReason.NOT_CHECKED, (
                "read as an alternative, a range endpoint or a reductio step: not asserted, "
                "binds nothing")),
                "none")
        if not free:
            verdict = check_ground(rel, premises.values)
            backend = "exact"
            if verdict is None:
                verdict, backend = self._solve(rel, premises)
            if verdict.kind == "refuted":
                verdict = reread(rel, verdict, ctx.raw_text, ctx.index, ctx.step_text,
                                 premises.values)
            if verdict.kind == "refuted" and isinstance(rel.left, Var) and (
                    ctx.hypothetical or (rel.op == "=" and literal(rel.right))):
                value = ground_value(rel.right, premises.values)
                if value is not None:  # "let x = 5" after x = 12, "from x = 1 to x = 89":
                    # a new x (the letter has a new meaning), not an error; a letter with two
                    # meanings is bound for its step only (never across the change)
                    scope.reused.add(rel.left.name)
                    scope.forget({rel.left.name})
                    premises.values[rel.left.name] = value
                    return Outcome("definition", None, "exact", rel.left.name)
            if verdict.kind == "refuted" and isinstance(rel.left, Var) and rel.op == "=" and (
                    self._defined_in.get(rel.left.name) == (ctx.step_text, scope.sentence)
                    and not variables(rel.right)
                    and ground_value(rel.right, premises.values) is None):
                # "x = 10^{100} and x = 10^{0.01}": a value with no rational form given to a
                # letter this sentence defined lists solutions (a rational one rebinds above)
                return Outcome("claim", LISTED_VALUE, backend)
            if verdict.kind == "refuted" and holds_as_supposed(rel, scope):
                # "x = 3", then "consider the case x = 7", then "x + 2 = 9": true of the value
                # the letter was last supposed to have, so it may speak of that case
                return Outcome("claim", NEW_MEANING, backend)
            return Outcome("claim", verdict, backend)
        if rel.op == "=" and isinstance(rel.left, Var) and rel.left.name in free and (
                rel.left.name not in scope.unknowns):
            value = ground_value(rel.right, premises.values)
            if value is not None:
                scope.forget({rel.left.name})
                premises.values[rel.left.name] = value
                self._defined_in[rel.left.name] = (ctx.step_text, scope.sentence)
                return Outcome("definition", None, "exact", rel.left.name)
        identity = None if isinstance(rel.left, Var) or isinstance(rel.right, Var) else (
            polynomial_identity(rel, premises.values))  # "x = ..." binds or defines instead
        if identity is not None and identity.kind == "verified":
            return Outcome("claim", identity, "exact")  # true for every value: no solver
        defined = fresh_definition(rel, free, scope)
        if defined is not None:  # "P_1996 = P - 0.029P": names a new quantity
            scope.unknowns |= free
            premises.constraints.append(rel)
            return Outcome("definition", None, "z3", defined)
        if rel.op not in ("=", "~=") or not variables(rel.left) & variables(rel.right):
            # "k <= 20 - a < k + 1", "AC - BC = T - 1": a condition relating quantities, not a
            # rewriting of one expression (an identity shares its names on both sides)
            ctx = replace(ctx, identity=False)
        known = scope.history.union(*(variables(c) for c in premises.constraints))
        if ctx.identity and free & known:
            # a chain link over names bound or constrained earlier is a derivation from those
            # bindings, not an identity: verified when it follows, refuted only when it
            # contradicts them, otherwise no verdict
            verdict, backend = self._solve(rel, premises)
            if verdict.kind == "refuted" and "division_by_zero" not in verdict.evidence:
                contradiction = self._contradicts(rel, premises)
                if contradiction is not None and CASE_STEP.search(ctx.step_text):
                    # "If y = 1/2, then 5x + 9 = (x + 3)^2": the earlier equations may be
                    # another case's (constraints are not scoped to their case)
                    contradiction = CASE_CONTRADICTION
                verdict = contradiction if contradiction is not None else unknown(
                    UnknownReason.NOT_CHECKED, "a derivation step over names with earlier "
                    "bindings: it neither follows from nor contradicts them")
            return Outcome("claim", verdict, backend)
        if rel.op == "~=":
            return Outcome("claim", unknown(UnknownReason.NOT_FORMALIZED, (
                "an approximation between expressions in unknowns: its tolerance is not read")),
                "none")
        if ctx.identity:
            # inside a chain "A = B = 7" a relation between two expressions in unknowns is a
            # rewriting step: it must hold for every value, not just under the premises
            probe = polynomial_identity(rel, premises.values) or probe_identity(
                rel, premises.values, premises.integer)
            if probe is not None:
                return Outcome("claim", probe, "exact")
            verdict, backend = self._solve(rel, Premises(values=dict(premises.values),
                                                                integer=premises.integer))
            return Outcome("claim", verdict, backend)
        if not free & known and not premises.integer and probe_identity(
                rel, premises.values) is not None:
            # an equation in names nothing speaks of yet, and no identity: a condition the
            # solution states (no solver call can refute it: at worst it has no real root)
            scope.unknowns |= free
            premises.constraints.append(rel)
            return Outcome("constraint", None, "exact")
        if free <= scope.unknowns:
            verdict, backend = self._solve(rel, premises)
            if verdict.kind != "refuted" or "division_by_zero" in verdict.evidence:
                return Outcome("claim", verdict, backend)
            if not ctx.hypothetical and not states_a_value(rel) and reuses(rel, premises):
                premises.constraints.append(rel)  # a further condition; a contradiction here
                return Outcome("constraint", None, backend)  # could only be a new meaning
            if self._contradicts(rel, premises) is not None:
                if not ctx.hypothetical and rel in self._cases:
                    return Outcome("claim", CASE_CHOSEN, backend)
                if not ctx.hypothetical and (states_a_value(rel) or not reuses(rel, premises)):
                    return Outcome("claim", verdict, backend)  # "so x = 3" after 2x = 4
                scope.forget(free)  # "if 100 + 100x = 120 then x = .2": a fresh x
                scope.unknowns |= free
                if not ctx.hypothetical:
                    return Outcome("claim", NEW_MEANING, backend)
            premises.constraints.append(rel)  # a further equation the solution states
            return Outcome("constraint", None, backend)
        contradiction = self._contradicts(rel, premises)
        if contradiction is not None and (ctx.hypothetical or (
                not states_a_value(rel) and reuses(rel, premises))):
            scope.forget(free & scope.unknowns)
            scope.unknowns |= free
            if not ctx.hypothetical:
                return Outcome("claim", NEW_MEANING, "z3")
            contradiction = None
        scope.unknowns |= free
        if contradiction is not None:
            return Outcome("constraint", contradiction, "z3")
        premises.constraints.append(rel)
        return Outcome("constraint", None, "z3")

    def check(self, rel: Relation, scope: Scope, ctx: Context) -> Outcome:
        """:meth:`_check_relation`, with a zero denominator that depends on the values of
        letters (bound, or unknown) read as ``unknown: division-by-zero``, never a refutation:
        the letter may have another meaning here, or the text assumes it is non-zero."""
        outcome = self._check_relation(rel, scope, ctx)
        if ctx.hypothetical and ctx.asserted and states_a_value(rel):
            self._cases.add(rel)  # supposed ("For x = 15: ..."), not a listed alternative
        verdict = outcome.verdict
        if verdict is not None and verdict.kind == "refuted" and (
                "division_by_zero" in verdict.evidence) and variables(rel) - scope.undefined:
            return Outcome(outcome.kind, unknown(UnknownReason.DIVISION_BY_ZERO, (
                "a denominator is zero (or may be) for values of "
                f"{', '.join(sorted(variables(rel)))}; the text may mean them non-zero")),
                outcome.backend, outcome.binds)
        return outcome

    def _solve(self, rel: Relation, premises: Premises) -> tuple[Verdict, str]:
        """:meth:`ArithChecker.check` under the solution's meter (see the module docs): exact
        evaluation is never cut or charged; a solver answer is charged its units, remembered
        answers included; a call the budget cut short is ``unknown: budget``, one the safety
        deadline stopped ``unknown: timeout``."""
        meter = self.meter
        key = premises_key(premises, rel)
        memo = self._memo.get(key) if key is not None else None
        if memo is not None and (memo.cut_at is None or meter.left <= memo.cut_at):
            if memo.cut_at is None and memo.cost <= meter.left:
                meter.charge(memo.cost)
                return replace(memo.verdict, evidence=dict(memo.verdict.evidence)), memo.backend
            meter.spend_all()  # a fresh call would run out here too
            return BUDGET_SPENT, "none"
        if meter.left <= 0 or meter.timed_out:
            verdict = check_ground(rel, premises.values)
            if verdict is not None:
                return verdict, "exact"
            return (SAFETY_TIMEOUT if meter.timed_out else BUDGET_SPENT), "none"
        left, spent = meter.left, meter.spent
        meter.cut = False
        with metered(meter):
            verdict, backend = self.checker.check(rel, premises)
        if backend == "exact" and meter.spent == spent:
            return verdict, backend
        if meter.timed_out:
            return SAFETY_TIMEOUT, "none"  # the safety net: not remembered (load-dependent)
        entry = _Memo(verdict, backend, meter.spent - spent)
        if meter.cut:
            entry = _Memo(BUDGET_SPENT, "none", left, cut_at=left)
        if key is not None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = entry
        return replace(entry.verdict, evidence=dict(entry.verdict.evidence)), entry.backend

    def _contradicts(self, rel: Relation, premises: Premises) -> Verdict | None:
        """A refutation when the premises entail the negation of ``rel``, else None."""
        negated = NEGATION.get(rel.op)
        if negated is None:
            return None
        verdict, _ = self._solve(Relation(negated, rel.left, rel.right), premises)  # type: ignore[arg-type]
        if verdict.kind == "verified":
            return Verdict("refuted", evidence={"contradicts": verdict.evidence.get(
                "premises_used", [])}, detail="the new equation contradicts earlier ones")
        return None


