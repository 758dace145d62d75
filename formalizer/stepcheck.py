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
their step only. Solver work per solution is capped (``solver_budget_s`` seconds, counted as
Z3 resource units through :data:`formalizer.step_relations.SOLVER_UNITS_PER_SECOND`, so the cap
does not depend on the machine's load); what exact evaluation cannot decide after that is
``unknown: budget``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from formalizer.extract import RawClaim, extract_claims
from formalizer.hints import absent
from formalizer.names import function_names, integer_names, uses_imaginary_unit
from formalizer.reading import ASSERTED, reductio_step
from formalizer.step_relations import RelationChecker
from formalizer.step_scope import (
    CASE_STEP,
    DECLARATION,
    DECLARATION_HINTS,
    HYPOTHETICAL,
    HYPOTHETICAL_HINTS,
    Context,
    Scope,
    unasserted,
)
from prover.arith.ast import to_smt, variables
from prover.arith.check import ArithChecker, Limits, Premises
from prover.records.verdicts import Provenance, UnknownReason, Verdict, unknown

FORMALIZER = "arith-extract"
FORMALIZER_VERSION = "1"
BACKEND_NAME = "proofgraph-arith"
_BACKEND_VERSIONS: dict[str, str] = {}  # backend -> its version line (z3 is asked once)


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


class _StepFlags:
    """What a step's text says about all its claims, read once per step: a case step
    (:data:`CASE_STEP`), hypothetical wording (:data:`HYPOTHETICAL`) and, on first use, a
    reductio (:func:`formalizer.reading.reductio_step`). Pure functions of the text."""

    __slots__ = ("text", "case_step", "hypothetical", "_reductio")

    def __init__(self, text: str) -> None:
        self.text = text
        self.case_step = bool(CASE_STEP.search(text))
        self.hypothetical = not absent(HYPOTHETICAL_HINTS, text) and bool(
            HYPOTHETICAL.search(text))
        self._reductio: bool | None = None

    def reductio(self) -> bool:
        """:func:`formalizer.reading.reductio_step` of the text (computed once)."""
        if self._reductio is None:
            self._reductio = reductio_step(self.text)
        return self._reductio


def step_verdict(claims: list[CheckedClaim]) -> str:
    """refuted > unknown > verified_approx > verified; ``no_claims`` when nothing was checked."""
    kinds = {c.verdict.kind for c in claims if c.verdict is not None}
    for kind in ("refuted", "unknown", "verified_approx", "verified"):
        if kind in kinds:
            return kind
    return "no_claims"


class StepChecker:
    """Checks solutions; holds one :class:`ArithChecker` (one Z3 context), so one per thread.
    ``solver_budget_s`` caps the solver work on one solution, in seconds mapped to Z3 resource
    units (deterministic: the same solution gets the same verdicts whatever the load)."""

    def __init__(self, limits: Limits | None = None, run_id: str = "adhoc",
                 solver_budget_s: float = 0.25) -> None:
        self.limits = limits or Limits()
        self.run_id = run_id
        self.solver_budget_s = solver_budget_s
        self.relations = RelationChecker(ArithChecker(self.limits), solver_budget_s)
        self._limits_dict: dict[str, int] | None = None

    @property
    def checker(self) -> ArithChecker:
        """The claim checker of the current solution (a fresh one per solution that used Z3)."""
        return self.relations.checker

    def provenance(self, backend: str, wall_time_s: float) -> Provenance:
        """Provenance of one verdict decided by ``backend`` (``exact`` or ``z3``)."""
        version = _BACKEND_VERSIONS.get(backend)
        if version is None:
            from prover.z3.gateway import z3_version

            z3v = z3_version()
            version = {"z3": f"z3 {z3v}", "exact": "python fractions"}.get(
                backend, f"python fractions + z3 {z3v}")
            _BACKEND_VERSIONS[backend] = version
        if self._limits_dict is None:
            self._limits_dict = self.limits.as_dict()
        return Provenance(run_id=self.run_id, backend=f"{BACKEND_NAME}/{backend}",
                          backend_version=version, limits=dict(self._limits_dict),
                          formalizer=FORMALIZER, formalizer_version=FORMALIZER_VERSION,
                          wall_time_s=round(wall_time_s, 6))

    def _check_claim(self, raw: RawClaim, scope: Scope, step: _StepFlags) -> list[CheckedClaim]:
        reading = raw.reading or raw.source
        step_text = step.text
        if reading in ASSERTED and raw.source != "annotation" and step.reductio():
            reading = "reductio"
        if raw.error is not None:
            reason = UnknownReason.TOO_LARGE if raw.too_large else UnknownReason.NOT_FORMALIZED
            return [CheckedClaim(raw.source, raw.text, "", unknown(reason, raw.error), "none", 0.0,
                                 reading=reading)]
        out = []
        supposed = reading in ("hypothesis", "case")
        case_step = step.case_step
        asserted = reading in ASSERTED
        hypothetical = supposed or case_step or step.hypothetical
        chain = len(raw.relations) > 1
        for index, rel in enumerate(raw.relations):
            identity = False  # a chain link between expressions in unknowns (a rewriting)
            if chain:
                left_vars, right_vars = variables(rel.left), variables(rel.right)
                unknowns = scope.unknowns | (
                    (left_vars | right_vars) - scope.premises.values.keys())
                identity = bool(left_vars & unknowns) and bool(right_vars & unknowns)
            ctx = Context(raw.text, index, step_text, hypothetical, identity,
                           asserted or supposed)
            start = time.perf_counter()
            outcome = self.relations.check(rel, scope, ctx)
            elapsed = time.perf_counter() - start
            if outcome.binds and (supposed or case_step or outcome.binds in scope.reused):
                scope.scoped.add(outcome.binds)
            # a reductio's "≠"/"<" is the failure it asserts; its "=" are the trial's
            outcome = unasserted(outcome, reading, asserted or (
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
        self.relations.solver_budget_s = self.solver_budget_s
        self.relations.start_solution()
        texts = [solution.problem, *solution.steps]
        functions = function_names(texts)
        # integers only for the names the text declares integral (never every unknown)
        scope = Scope(Premises(values={}, constraints=[], integer=False),
                       imaginary=uses_imaginary_unit(texts))
        scope.premises.integer_names = integer_names(texts)
        steps_out: list[dict[str, Any]] = []
        verdicts: list[tuple[str, Verdict, Provenance]] = []
        first_error: int | None = None
        for index, text in enumerate(solution.steps):
            declared = () if absent(DECLARATION_HINTS, text) else DECLARATION.finditer(text)
            for match in declared:
                name = next(g for g in match.groups() if g)
                scope.forget({name})
                scope.unknowns.add(name)  # "Let x be the number of ...": x is an unknown
            bound = set(scope.premises.values) | scope.unknowns
            claims: list[CheckedClaim] = []
            flags = _StepFlags(text)
            for raw in extract_claims(text, bound, functions):
                if budget_s is not None and time.perf_counter() - start > budget_s:
                    claims.append(CheckedClaim(raw.source, raw.text, "", unknown(
                        UnknownReason.BUDGET, f"the solution's budget of {budget_s:g}s is spent"),
                        "none", 0.0, reading=raw.reading or raw.source))
                    continue
                scope.at_claim(raw.sentence, raw.conditional)
                claims.extend(self._check_claim(raw, scope, flags))
            scope.end_sentence()  # a supposition's bindings end with its sentence
            scope.forget(scope.scoped)  # and those of a supposed step with its step
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
