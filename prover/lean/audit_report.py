"""What an audit produces: the policy it ran under, one :class:`CheckResult` per check of
:data:`CHECKS`, the :class:`AuditReport`, and the verdict rule.

Verdict (about the PROOF): ``verified`` only when every required check passed; ``refuted``
when one failed; otherwise ``unknown`` with the reason of the first required check not run.
:func:`complete_checks` fills in the checks an audit did not reach as ``not-checked``, so a
report always lists every check in order. Pure data: no Lean, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prover.lean.audit_parse import Submission
from prover.records.verdicts import UnknownReason, Verdict

NOT_CHECKED = UnknownReason.NOT_CHECKED
CHECKS = ("statement", "lint", "tactic-steps", "compile", "axioms", "statement-type")
CheckStatus = Literal["passed", "failed", "not-checked"]


@dataclass(frozen=True)
class AuditPolicy:
    """Knobs: ``allow_native_decide`` (the proof's own native code and its axioms), the
    proof size limit, the wall clock per Lean request, the ``statement-type`` check, a fresh
    REPL process per audit."""

    allow_native_decide: bool = False
    max_proof_chars: int = 65536
    timeout_s: float = 120.0
    check_statement_type: bool = True
    fresh_process: bool = False
    lean_after_lint_failure: bool = False
    """Measurement only: run the Lean checks even after the lint failed (the verdict stays
    refuted). This RUNS the rejected proof's metaprograms: use it only in a sandbox."""


@dataclass(frozen=True)
class CheckResult:
    """One check: ``passed`` | ``failed`` | ``not-checked`` (then ``reason`` says why and
    ``required`` whether the verdict waits for it), with its ``evidence``."""

    name: str
    status: CheckStatus
    evidence: str = ""
    reason: UnknownReason | None = None
    required: bool = True

    @property
    def detail(self) -> str:
        return self.evidence

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "status": self.status,
                               "evidence": self.evidence}
        if self.reason is not None:
            out["reason"] = self.reason.value
        if not self.required:
            out["required"] = False
        return out


@dataclass(frozen=True)
class AuditReport:
    """Every check of :data:`CHECKS` in order, the axioms Lean reported, the exact Lean text
    compiled (``source`` after ``header``), and the verdict (``proved`` iff verified)."""

    statement: str
    proof: str
    header: str
    source: str
    checks: tuple[CheckResult, ...]
    verdict: Verdict
    axioms: tuple[str, ...] | None = None
    form: str = ""

    @property
    def proved(self) -> bool:
        return self.verdict.kind == "verified"

    def check(self, name: str) -> CheckResult:
        """The result of the check called ``name``. Raises KeyError."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: verdict, checks, axioms, form, header and source."""
        return {"verdict": self.verdict.to_dict(), "checks": [c.to_dict() for c in self.checks],
                "axioms": list(self.axioms) if self.axioms is not None else None,
                "form": self.form, "header": self.header, "source": self.source}


class CheckStop(Exception):
    """Ends an audit early with ``result``, the check that failed or could not run."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.evidence)
        self.result = result


def complete_checks(done: list[CheckResult], tactics_given: bool,
              policy: AuditPolicy) -> tuple[CheckResult, ...]:
    """Every check of CHECKS, in order; those not run are ``not-checked``."""
    by_name = {c.name: c for c in done}
    stopped = next((c for c in done if c.status != "passed"), None)
    out = []
    for name in CHECKS:
        if name in by_name:
            out.append(by_name[name])
        elif name == "tactic-steps" and not tactics_given:
            out.append(CheckResult(name, "not-checked", "no tactic path given", NOT_CHECKED,
                                   required=False))
        elif name == "statement-type" and not policy.check_statement_type:
            out.append(CheckResult(name, "not-checked", "disabled by policy", NOT_CHECKED,
                                   required=False))
        else:
            why = (f"not run: {stopped.name} {stopped.status}" if stopped else "not run")
            out.append(CheckResult(name, "not-checked", why,
                                   stopped.reason if stopped and stopped.reason else NOT_CHECKED))
    return tuple(out)


def verdict_of(checks: Sequence[CheckResult], sub: Submission,
             axioms: tuple[str, ...] | None) -> Verdict:
    for check in checks:
        if check.status == "failed":
            return Verdict("refuted", evidence={"rejected_by": check.name,
                                                "detail": check.evidence[:2000]},
                           detail=f"proof rejected by {check.name}: {check.evidence[:500]}")
    for check in checks:
        if check.status == "not-checked" and check.required:
            return Verdict("unknown", reason=check.reason or NOT_CHECKED,
                           detail=f"{check.name}: {check.evidence[:500]}")
    return Verdict("verified", evidence={"source": sub.source, "header": sub.header,
                                         "axioms": list(axioms or ()),
                                         "checks": [c.name for c in checks
                                                    if c.status == "passed"]})
