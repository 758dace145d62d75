"""Check a chain-of-thought solution step by step with the deterministic arithmetic extractor.

Per step: claims are extracted (annotations and prose equations), definitions (``x = 12``,
``Let A = ...``) bind names for later steps of the same solution, equations that introduce
unknowns become constraints (premises) after a consistency check, and every other claim gets a
verdict from :class:`prover.arith.check.ArithChecker` (exact rationals first, Z3 for unknowns).
The result is a plain JSON-ready dict plus a proof graph; the first refuted step is
``first_error``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from formalizer.extract import RawClaim, extract_claims
from formalizer.readings import reread
from prover.arith.ast import Expr, Relation, Var, to_smt, variables
from prover.arith.check import ArithChecker, Limits, Premises, check_ground
from prover.arith.evaluate import evaluate
from prover.verdicts import Provenance, UnknownReason, Verdict, unknown

FORMALIZER = "arith-extract"
FORMALIZER_VERSION = "1"
BACKEND_NAME = "proofgraph-arith"
_INTEGER_HINT = re.compile(r"\b(integers?|whole numbers?|natural numbers?)\b", re.IGNORECASE)


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

    def to_dict(self) -> dict[str, Any]:
        """The claim as in the JSONL output."""
        out: dict[str, Any] = {"kind": self.kind, "source": self.source, "formal": self.formal,
                               "verdict": None, "reason": None, "tolerance": None,
                               "evidence": {}, "binds": self.binds, "backend": self.backend,
                               "time_s": round(self.time_s, 6)}
        if self.verdict is not None:
            out.update(self.verdict.to_dict())
        return out


@dataclass
class _Scope:
    """Names known in one solution: ground values, symbolic constraints, declared unknowns."""

    premises: Premises
    unknowns: set[str] = field(default_factory=set)

    def forget(self, names: set[str]) -> None:
        """Drop what is known about ``names`` (a new hypothesis or definition reuses them)."""
        if not names:
            return
        for name in names:
            self.premises.values.pop(name, None)
        self.unknowns -= names
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
_HYPOTHETICAL = re.compile(r"\b(if|suppose|assume|let|let's|say)\b", re.IGNORECASE)


def _ground_value(expr: Expr, values: dict[str, Fraction]) -> Fraction | None:
    try:
        return evaluate(expr, values)
    except (ArithmeticError, ValueError, KeyError):
        return None


def step_verdict(claims: list[CheckedClaim]) -> str:
    """refuted > unknown > verified_approx > verified; ``no_claims`` when nothing was checked."""
    kinds = {c.verdict.kind for c in claims if c.verdict is not None}
    for kind in ("refuted", "unknown", "verified_approx", "verified"):
        if kind in kinds:
            return kind
    return "no_claims"


class StepChecker:
    """Checks solutions; holds one :class:`ArithChecker` (one Z3 context), so one per thread."""

    def __init__(self, limits: Limits | None = None, run_id: str = "adhoc") -> None:
        self.limits = limits or Limits()
        self.checker = ArithChecker(self.limits)
        self.run_id = run_id

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
        free = variables(rel) - premises.values.keys()
        if not free:
            verdict = check_ground(rel, premises.values)
            backend = "exact"
            if verdict is None:
                verdict, backend = self.checker.check(rel, premises)
            if verdict.kind == "refuted":
                verdict = reread(rel, verdict, ctx.raw_text, ctx.index, ctx.step_text,
                                 premises.values)
            if verdict.kind == "refuted" and ctx.hypothetical and isinstance(rel.left, Var):
                value = _ground_value(rel.right, premises.values)
                if value is not None:  # "let x = 5" after x = 12: a new x, not an error
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
        if ctx.identity:
            # inside a chain "A = B = 7" a relation between two expressions in unknowns is a
            # rewriting step: it must hold for every value, not just under the premises
            verdict, backend = self.checker.check(rel, Premises(values=dict(premises.values),
                                                                integer=premises.integer))
            return _Outcome("claim", verdict, backend)
        if free <= scope.unknowns:
            verdict, backend = self.checker.check(rel, premises)
            if verdict.kind != "refuted" or "division_by_zero" in verdict.evidence:
                return _Outcome("claim", verdict, backend)
            if self._contradicts(rel, premises) is not None:
                if not ctx.hypothetical:
                    return _Outcome("claim", verdict, backend)
                scope.forget(free)  # "if 100 + 100x = 120 then x = .2": a fresh x
                scope.unknowns |= free
            premises.constraints.append(rel)  # a further equation the solution states
            return _Outcome("constraint", None, backend)
        contradiction = self._contradicts(rel, premises)
        if contradiction is not None and ctx.hypothetical:
            scope.forget(free & scope.unknowns)
            contradiction = None
        scope.unknowns |= free
        if contradiction is not None:
            return _Outcome("constraint", contradiction, "z3")
        premises.constraints.append(rel)
        return _Outcome("constraint", None, "z3")

    def _contradicts(self, rel: Relation, premises: Premises) -> Verdict | None:
        """A refutation when the premises entail the negation of ``rel``, else None."""
        negated = _NEGATION.get(rel.op)
        if negated is None:
            return None
        verdict, _ = self.checker.check(Relation(negated, rel.left, rel.right), premises)  # type: ignore[arg-type]
        if verdict.kind == "verified":
            return Verdict("refuted", evidence={"contradicts": verdict.evidence.get(
                "premises_used", [])}, detail="the new equation contradicts earlier ones")
        return None

    def _check_claim(self, raw: RawClaim, scope: _Scope, step_text: str) -> list[CheckedClaim]:
        if raw.error is not None:
            reason = UnknownReason.TOO_LARGE if raw.too_large else UnknownReason.NOT_FORMALIZED
            return [CheckedClaim(raw.source, raw.text, "", unknown(reason, raw.error), "none", 0.0)]
        out = []
        hypothetical = bool(_HYPOTHETICAL.search(step_text))
        chain = len(raw.relations) > 1
        for index, rel in enumerate(raw.relations):
            unknowns = scope.unknowns | (variables(rel) - scope.premises.values.keys())
            identity = chain and bool(variables(rel.left) & unknowns) and bool(
                variables(rel.right) & unknowns)
            ctx = _Context(raw.text, index, step_text, hypothetical, identity)
            start = time.perf_counter()
            outcome = self._check_relation(rel, scope, ctx)
            elapsed = time.perf_counter() - start
            if outcome.kind != "claim":
                label = outcome.kind
            elif raw.source == "equation" and rel.op not in ("=", "~="):
                label = "comparison"
            else:
                label = raw.source
            out.append(CheckedClaim(label, raw.text, to_smt(rel), outcome.verdict,
                                    outcome.backend, elapsed, outcome.binds))
        return out

    # ------------------------------------------------------------------ solutions
    def check(self, solution: Solution) -> tuple[dict[str, Any],
                                                  list[tuple[str, Verdict, Provenance]]]:
        """Check every step; return the result dict and each verdict with its provenance,
        keyed by the claim's graph text (its formal form, else its source)."""
        start = time.perf_counter()
        integer = bool(_INTEGER_HINT.search(solution.problem))
        scope = _Scope(Premises(values={}, constraints=[], integer=integer))
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
            for raw in extract_claims(text, bound):
                claims.extend(self._check_claim(raw, scope, text))
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
