"""Check a chain-of-thought solution step by step with the deterministic arithmetic extractor.

Per step: claims are extracted (annotations and prose equations), definitions (``x = 12``,
``Let A = ...``) bind names for later steps of the same solution, equations that introduce
unknowns become constraints (premises) after a consistency check, and every other claim gets a
verdict from :class:`prover.arith.check.ArithChecker` (exact rationals first, Z3 for unknowns).
The result is a plain JSON-ready dict plus a proof graph; the first refuted step is
``first_error``.

Each claim carries its reading (:mod:`formalizer.reading`): only asserted claims can refute a
step; a supposition, case, alternative or reductio that is false as written is
``unknown: not-checked``. A case step's bindings, and a letter bound to two values, hold for
their step only. Solver time per solution is capped (``solver_budget_s``); what exact evaluation
cannot decide after that is ``unknown: budget``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from formalizer.extract import RawClaim, extract_claims
from formalizer.reading import (
    ASSERTED,
    function_names,
    integer_names,
    reductio_step,
    uses_imaginary_unit,
)
from formalizer.readings import reread
from prover.arith.ast import Expr, Neg, Num, Relation, Var, is_opaque, to_smt, variables
from prover.arith.check import (
    ArithChecker,
    Limits,
    Premises,
    check_ground,
    polynomial_identity,
    probe_identity,
)
from prover.arith.evaluate import DivisionByZeroError, evaluate
from prover.verdicts import Provenance, UnknownReason, Verdict, unknown

FORMALIZER = "arith-extract"
FORMALIZER_VERSION = "1"
BACKEND_NAME = "proofgraph-arith"


@dataclass
class Solution:
    """One CoT solution to check: ``steps`` in order; ``line`` is its 0-based input line."""

    id: str
    problem: str
    steps: list[str]
    final_answer: str | None = None
    line: int = 0


@dataclass
class CheckedClaim:
    """A claim with its verdict (None for definitions and constraints, which only bind)."""

    kind: str
    source: str
    formal: str
    verdict: Verdict | None
    backend: str
    time_s: float
    binds: str | None = None
    reading: str = "equation"

    def to_dict(self) -> dict[str, Any]:
        """The claim as in the JSONL output."""
        out: dict[str, Any] = {"kind": self.kind, "source": self.source, "formal": self.formal,
                               "verdict": None, "reason": None, "tolerance": None,
                               "evidence": {}, "binds": self.binds, "reading": self.reading,
                               "backend": self.backend,
                               "time_s": round(self.time_s, 6)}
        if self.verdict is not None:
            out.update(self.verdict.to_dict())
        return out


@dataclass
class _Scope:
    """Names known in one solution: ground values, symbolic constraints, declared unknowns."""

    premises: Premises
    unknowns: set[str] = field(default_factory=set)
    history: set[str] = field(default_factory=set)  # names bound or constrained before this step
    scoped: set[str] = field(default_factory=set)  # names bound by a supposition in this step
    reused: set[str] = field(default_factory=set)  # letters bound to two different values
    imaginary: bool = False  # the solution uses i as the imaginary unit
    undefined: set[str] = field(default_factory=set)  # bound to an undefined value (1/0)

    def forget(self, names: set[str]) -> None:
        """Drop what is known about ``names`` (a new hypothesis or definition reuses them)."""
        if not names:
            return
        for name in names:
            self.premises.values.pop(name, None)
        self.unknowns -= names
        self.undefined -= names
        self.premises.constraints = [c for c in self.premises.constraints
                                     if not variables(c) & names]


@dataclass(frozen=True)
class _Context:
    """Where a relation stands: its claim text and index in the chain, its step, and whether
    the step speaks hypothetically (if/let/suppose) or the relation rewrites within a chain."""

    raw_text: str
    index: int
    step_text: str
    hypothetical: bool
    identity: bool
    asserted: bool = True


@dataclass(frozen=True)
class _Outcome:
    kind: str
    verdict: Verdict | None
    backend: str
    binds: str | None = None


_NEGATION = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DECLARATION = re.compile(
    r"\b(?:let|call|denote|say)\b[^.=;]*?\b(?:be|as|by|is)\s+([A-Za-z])"
    r"(?=\s*(?:[.,;:]|$|\s+(?:and|then|so|for|to)\b))"
    r"|\blet\s+([A-Za-z])\s+(?:be|represent|denote|stand)\b"
    r"|\b([A-Za-z])\s+(?:represents?|denotes?|stands? for)\b", re.IGNORECASE)
_HYPOTHETICAL = re.compile(
    r"\b(if|suppose|assume|let|let's|say|case|cases|consider|considering|whenever|when|try|"
    r"trying|test|testing|choose|pick)\b|\bfor\s*[\\(\[$ ]*\s*[A-Za-z](?:_\w+)?\s*[=<>≤≥]",
    re.IGNORECASE)
# a step that opens a case ("For \(\log_2 x = 6\): ...", "Case 2: ...", "If n = 3, ..."): its
# bindings hold for that step only
_CASE_STEP = re.compile(r"^\W{0,6}(?:\w+ly,?\s+|(?:first|second|third|next|finally),?\s+)?"
                        r"(?:for|when|if|case|suppose|assume|consider|in the case|subcase)\b",
                        re.IGNORECASE)


def _ground_value(expr: Expr, values: dict[str, Fraction]) -> Fraction | None:
    try:
        return evaluate(expr, values)
    except (ArithmeticError, ValueError, KeyError):
        return None


def _undefined_binding(rel: Relation, scope: _Scope) -> _Outcome | None:
    """``Let x = 1/0``: the binding is refuted (a zero denominator) and binds nothing usable, so
    every later claim on ``x`` is ``unknown: division-by-zero``; None for any other relation."""
    used = variables(rel) & scope.undefined
    if isinstance(rel.left, Var) and rel.op == "=" and rel.left.name not in variables(rel.right):
        try:
            evaluate(rel.right, scope.premises.values)
        except DivisionByZeroError as err:
            scope.forget({rel.left.name})
            scope.undefined.add(rel.left.name)
            return _Outcome("definition", Verdict(
                "refuted", evidence={"division_by_zero": err.term},
                detail="a denominator is zero: the name is bound to no value"), "exact",
                rel.left.name)
        except (ArithmeticError, ValueError, KeyError):
            pass  # not ground: a claim, unknown when it uses an undefined name
        else:
            return None  # a fresh definition of the name
    if used:
        return _Outcome("claim", unknown(UnknownReason.DIVISION_BY_ZERO, (
            f"{', '.join(sorted(used))} was bound to an undefined value (a zero denominator)")),
            "exact")
    return None


_NEW_MEANING = unknown(UnknownReason.NOT_CHECKED, (
    "contradicts earlier equations in the same names, which competition text often reuses "
    "for another case or meaning: read as a new meaning, not as an error"))


def _literal(expr: Expr) -> bool:
    return isinstance(expr, Num) or (isinstance(expr, Neg) and isinstance(expr.arg, Num))


def _states_a_value(rel: Relation) -> bool:
    """``x = 3`` (a name and a number): a stated solution value, which may contradict what the
    solution derived before; any other relation in unknowns is read as a further condition."""
    return rel.op == "=" and ((isinstance(rel.left, Var) and _literal(rel.right)) or (
        isinstance(rel.right, Var) and _literal(rel.left)))


def _reuses(rel: Relation, premises: Premises) -> bool:
    """May a contradiction of ``rel`` be a reuse of its letters rather than an error? Yes when
    earlier conditions speak of its names (another case or meaning), and when nothing does and
    the names are real (``x^2 + 4x + 5 = 0`` is an equation under study with no real root,
    not a false statement); no for names the text declares integers (``2n = 7``)."""
    names = variables(rel)
    if any(variables(c) & names for c in premises.constraints):
        return True
    return not premises.integer


def _fresh_definition(rel: Relation, free: set[str], scope: _Scope) -> str | None:
    """The name a relation ``N = expr`` (or ``expr = N``) introduces, when ``N`` is new to the
    solution and absent from ``expr``: a definition of a quantity, never a claim."""
    if rel.op != "=":
        return None
    for side, other in ((rel.left, rel.right), (rel.right, rel.left)):
        if isinstance(side, Var) and side.name in free and side.name not in scope.unknowns and (
                side.name not in scope.history) and side.name not in variables(other):
            return side.name
    return None


def _unasserted(outcome: _Outcome, reading: str, asserted: bool) -> _Outcome:
    """A refutation of a claim the text does not assert (a supposition, a case, an alternative,
    a reductio) is no claim that the text is wrong: it becomes ``unknown: not-checked``."""
    verdict = outcome.verdict
    if asserted or verdict is None or verdict.kind != "refuted":
        return outcome
    evidence = dict(verdict.evidence)
    evidence["reading"] = reading
    return _Outcome(outcome.kind, Verdict("unknown", UnknownReason.NOT_CHECKED, evidence=evidence,
                                          detail=f"false as written, but read as a {reading}: "
                                                 "not asserted by the text"),
                    outcome.backend, outcome.binds)


def step_verdict(claims: list[CheckedClaim]) -> str:
    """refuted > unknown > verified_approx > verified; ``no_claims`` when nothing was checked."""
    kinds = {c.verdict.kind for c in claims if c.verdict is not None}
    for kind in ("refuted", "unknown", "verified_approx", "verified"):
        if kind in kinds:
            return kind
    return "no_claims"


class StepChecker:
    """Checks solutions; holds one :class:`ArithChecker` (one Z3 context), so one per thread."""

    def __init__(self, limits: Limits | None = None, run_id: str = "adhoc",
                 solver_budget_s: float = 0.25) -> None:
        self.limits = limits or Limits()
        self.checker = ArithChecker(self.limits)
        self.run_id = run_id
        self.solver_budget_s = solver_budget_s
        self._solver_left = solver_budget_s

    def provenance(self, backend: str, wall_time_s: float) -> Provenance:
        """Provenance of one verdict decided by ``backend`` (``exact`` or ``z3``)."""
        from prover.z3.arith import Z3_VERSION

        version = {"z3": f"z3 {Z3_VERSION}", "exact": "python fractions"}.get(
            backend, f"python fractions + z3 {Z3_VERSION}")
        return Provenance(run_id=self.run_id, backend=f"{BACKEND_NAME}/{backend}",
                          backend_version=version, limits=self.limits.as_dict(),
                          formalizer=FORMALIZER, formalizer_version=FORMALIZER_VERSION,
                          wall_time_s=round(wall_time_s, 6))

    # ------------------------------------------------------------------ claims
    def _check_relation(self, rel: Relation, scope: _Scope, ctx: _Context) -> _Outcome:
        """Decide what one parsed relation is (claim, definition, constraint) and check it."""
        premises = scope.premises
        undefined = _undefined_binding(rel, scope)
        if undefined is not None:
            return undefined
        if scope.imaginary and "i" in variables(rel):
            return _Outcome("claim", unknown(UnknownReason.NOT_FORMALIZED, (
                "the solution uses i as the imaginary unit; complex numbers are not read")),
                "none")
        if is_opaque(rel):  # f(x), sin(30), pi: a claim, never a binding or a constraint
            verdict, backend = self._solve(rel, premises)
            return _Outcome("claim", verdict, backend)
        free = variables(rel) - premises.values.keys()
        unknown_names = free.union(*(variables(c) for c in premises.constraints))
        # integers only when every unknown in play is one the text declares integral
        premises.integer = bool(unknown_names) and unknown_names <= premises.integer_names
        if not ctx.asserted and free:
            return _Outcome("claim", unknown(UnknownReason.NOT_CHECKED, (
                "read as an alternative or a reductio step: not asserted, binds nothing")),
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
                    ctx.hypothetical or (rel.op == "=" and _literal(rel.right))):
                value = _ground_value(rel.right, premises.values)
                if value is not None:  # "let x = 5" after x = 12, "from x = 1 to x = 89":
                    # a new x (the letter has a new meaning), not an error; a letter with two
                    # meanings is bound for its step only (never across the change)
                    scope.reused.add(rel.left.name)
                    scope.forget({rel.left.name})
                    premises.values[rel.left.name] = value
                    return _Outcome("definition", None, "exact", rel.left.name)
            return _Outcome("claim", verdict, backend)
        if rel.op == "=" and isinstance(rel.left, Var) and rel.left.name in free and (
                rel.left.name not in scope.unknowns):
            value = _ground_value(rel.right, premises.values)
            if value is not None:
                scope.forget({rel.left.name})
                premises.values[rel.left.name] = value
                return _Outcome("definition", None, "exact", rel.left.name)
        identity = None if isinstance(rel.left, Var) or isinstance(rel.right, Var) else (
            polynomial_identity(rel, premises.values))  # "x = ..." binds or defines instead
        if identity is not None and identity.kind == "verified":
            return _Outcome("claim", identity, "exact")  # true for every value: no solver
        defined = _fresh_definition(rel, free, scope)
        if defined is not None:  # "P_1996 = P - 0.029P": names a new quantity
            scope.unknowns |= free
            premises.constraints.append(rel)
            return _Outcome("definition", None, "z3", defined)
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
                verdict = contradiction if contradiction is not None else unknown(
                    UnknownReason.NOT_CHECKED, "a derivation step over names with earlier "
                    "bindings: it neither follows from nor contradicts them")
            return _Outcome("claim", verdict, backend)
        if rel.op == "~=":
            return _Outcome("claim", unknown(UnknownReason.NOT_FORMALIZED, (
                "an approximation between expressions in unknowns: its tolerance is not read")),
                "none")
        if ctx.identity:
            # inside a chain "A = B = 7" a relation between two expressions in unknowns is a
            # rewriting step: it must hold for every value, not just under the premises
            probe = polynomial_identity(rel, premises.values) or probe_identity(
                rel, premises.values, premises.integer)
            if probe is not None:
                return _Outcome("claim", probe, "exact")
            verdict, backend = self._solve(rel, Premises(values=dict(premises.values),
                                                                integer=premises.integer))
            return _Outcome("claim", verdict, backend)
        if not free & known and not premises.integer and probe_identity(
                rel, premises.values) is not None:
            # an equation in names nothing speaks of yet, and no identity: a condition the
            # solution states (no solver call can refute it: at worst it has no real root)
            scope.unknowns |= free
            premises.constraints.append(rel)
            return _Outcome("constraint", None, "exact")
        if free <= scope.unknowns:
            verdict, backend = self._solve(rel, premises)
            if verdict.kind != "refuted" or "division_by_zero" in verdict.evidence:
                return _Outcome("claim", verdict, backend)
            if not ctx.hypothetical and not _states_a_value(rel) and _reuses(rel, premises):
                premises.constraints.append(rel)  # a further condition; a contradiction here
                return _Outcome("constraint", None, backend)  # could only be a new meaning
            if self._contradicts(rel, premises) is not None:
                if not ctx.hypothetical and (_states_a_value(rel) or not _reuses(rel, premises)):
                    return _Outcome("claim", verdict, backend)  # "so x = 3" after 2x = 4
                scope.forget(free)  # "if 100 + 100x = 120 then x = .2": a fresh x
                scope.unknowns |= free
                if not ctx.hypothetical:
                    return _Outcome("claim", _NEW_MEANING, backend)
            premises.constraints.append(rel)  # a further equation the solution states
            return _Outcome("constraint", None, backend)
        contradiction = self._contradicts(rel, premises)
        if contradiction is not None and (ctx.hypothetical or (
                not _states_a_value(rel) and _reuses(rel, premises))):
            scope.forget(free & scope.unknowns)
            scope.unknowns |= free
            if not ctx.hypothetical:
                return _Outcome("claim", _NEW_MEANING, "z3")
            contradiction = None
        scope.unknowns |= free
        if contradiction is not None:
            return _Outcome("constraint", contradiction, "z3")
        premises.constraints.append(rel)
        return _Outcome("constraint", None, "z3")

    def _check_relation_safe(self, rel: Relation, scope: _Scope, ctx: _Context) -> _Outcome:
        """:meth:`_check_relation`, with a zero denominator that depends on the values of
        letters (bound, or unknown) read as ``unknown: division-by-zero``, never a refutation:
        the letter may have another meaning here, or the text assumes it is non-zero."""
        outcome = self._check_relation(rel, scope, ctx)
        verdict = outcome.verdict
        if verdict is not None and verdict.kind == "refuted" and (
                "division_by_zero" in verdict.evidence) and variables(rel) - scope.undefined:
            return _Outcome(outcome.kind, unknown(UnknownReason.DIVISION_BY_ZERO, (
                "a denominator is zero (or may be) for values of "
                f"{', '.join(sorted(variables(rel)))}; the text may mean them non-zero")),
                outcome.backend, outcome.binds)
        return outcome

    def _solve(self, rel: Relation, premises: Premises) -> tuple[Verdict, str]:
        """:meth:`ArithChecker.check` under the solution's solver budget: once the solver time
        spent on this solution passes it, what exact evaluation cannot decide is
        ``unknown: budget`` (exact evaluation is never cut)."""
        if self._solver_left <= 0:
            verdict = check_ground(rel, premises.values)
            if verdict is not None:
                return verdict, "exact"
            return unknown(UnknownReason.BUDGET, "the solver budget of this solution is spent"), (
                "none")
        start = time.perf_counter()
        self.checker.call_budget_s = self._solver_left
        try:
            verdict, backend = self.checker.check(rel, premises)
        finally:
            self.checker.call_budget_s = None
        if backend != "exact":
            self._solver_left -= time.perf_counter() - start
        return verdict, backend

    def _contradicts(self, rel: Relation, premises: Premises) -> Verdict | None:
        """A refutation when the premises entail the negation of ``rel``, else None."""
        negated = _NEGATION.get(rel.op)
        if negated is None:
            return None
        verdict, _ = self._solve(Relation(negated, rel.left, rel.right), premises)  # type: ignore[arg-type]
        if verdict.kind == "verified":
            return Verdict("refuted", evidence={"contradicts": verdict.evidence.get(
                "premises_used", [])}, detail="the new equation contradicts earlier ones")
        return None

    def _check_claim(self, raw: RawClaim, scope: _Scope, step_text: str) -> list[CheckedClaim]:
        reading = raw.reading or raw.source
        if reading in ASSERTED and raw.source != "annotation" and reductio_step(step_text):
            reading = "reductio"
        if raw.error is not None:
            reason = UnknownReason.TOO_LARGE if raw.too_large else UnknownReason.NOT_FORMALIZED
            return [CheckedClaim(raw.source, raw.text, "", unknown(reason, raw.error), "none", 0.0,
                                 reading=reading)]
        out = []
        supposed = reading in ("hypothesis", "case")
        case_step = bool(_CASE_STEP.search(step_text))
        asserted = reading in ASSERTED
        hypothetical = supposed or case_step or bool(_HYPOTHETICAL.search(step_text))
        chain = len(raw.relations) > 1
        for index, rel in enumerate(raw.relations):
            unknowns = scope.unknowns | (variables(rel) - scope.premises.values.keys())
            identity = chain and bool(variables(rel.left) & unknowns) and bool(
                variables(rel.right) & unknowns)
            ctx = _Context(raw.text, index, step_text, hypothetical, identity,
                           asserted or supposed)
            start = time.perf_counter()
            outcome = self._check_relation_safe(rel, scope, ctx)
            elapsed = time.perf_counter() - start
            if outcome.binds and (supposed or case_step or outcome.binds in scope.reused):
                scope.scoped.add(outcome.binds)
            # a reductio's "≠"/"<" is the failure it asserts; its "=" are the trial's
            outcome = _unasserted(outcome, reading, asserted or (
                reading == "reductio" and rel.op not in ("=", "~=")))
            link = reading if not asserted else (
                "binding" if outcome.binds else "chain" if chain else reading)
            if outcome.kind != "claim":
                label = outcome.kind
            elif raw.source == "equation" and rel.op not in ("=", "~="):
                label = "comparison"
            else:
                label = raw.source
            out.append(CheckedClaim(label, raw.text, to_smt(rel), outcome.verdict,
                                    outcome.backend, elapsed, outcome.binds, link))
        return out

    # ------------------------------------------------------------------ solutions
    def check(self, solution: Solution, budget_s: float | None = None) -> tuple[
            dict[str, Any], list[tuple[str, Verdict, Provenance]]]:
        """Check every step; return the result dict and each verdict with its provenance,
        keyed by the claim's graph text (its formal form, else its source). With ``budget_s``
        the claims met after that many seconds are ``unknown: budget`` (not checked)."""
        start = time.perf_counter()
        self._solver_left = self.solver_budget_s
        texts = [solution.problem, *solution.steps]
        functions = function_names(texts)
        # integers only for the names the text declares integral (never every unknown)
        scope = _Scope(Premises(values={}, constraints=[], integer=False),
                       imaginary=uses_imaginary_unit(texts))
        scope.premises.integer_names = integer_names(texts)
        steps_out: list[dict[str, Any]] = []
        verdicts: list[tuple[str, Verdict, Provenance]] = []
        first_error: int | None = None
        for index, text in enumerate(solution.steps):
            for match in _DECLARATION.finditer(text):
                name = next(g for g in match.groups() if g)
                scope.forget({name})
                scope.unknowns.add(name)  # "Let x be the number of ...": x is an unknown
            bound = set(scope.premises.values) | scope.unknowns
            claims: list[CheckedClaim] = []
            for raw in extract_claims(text, bound, functions):
                if budget_s is not None and time.perf_counter() - start > budget_s:
                    claims.append(CheckedClaim(raw.source, raw.text, "", unknown(
                        UnknownReason.BUDGET, f"the solution's budget of {budget_s:g}s is spent"),
                        "none", 0.0, reading=raw.reading or raw.source))
                    continue
                claims.extend(self._check_claim(raw, scope, text))
            scope.forget(scope.scoped)  # a supposition's bindings end with its step
            scope.scoped = set()
            scope.history |= set(scope.premises.values).union(
                *(variables(c) for c in scope.premises.constraints))
            verdict = step_verdict(claims)
            if verdict == "refuted" and first_error is None:
                first_error = index
            for claim in claims:
                if claim.verdict is not None:
                    verdicts.append((claim.formal or claim.source, claim.verdict,
                                     self.provenance(claim.backend, claim.time_s)))
            steps_out.append({"index": index, "text": text, "verdict": verdict,
                              "claims": [c.to_dict() for c in claims]})
        result = {
            "id": solution.id, "line": solution.line, "problem": solution.problem,
            "final_answer": solution.final_answer, "steps": steps_out,
            "first_error": first_error, "error": None,
            "provenance": self.provenance("exact+z3", time.perf_counter() - start).to_dict(),
        }
        return result, verdicts
