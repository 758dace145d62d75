"""The final checker of each backend applied to one whole proof, with the errors a repair
prompt needs.

- Lean (``lean-repl``): the ONE trust audit (:func:`prover.lean.audit.audit`) on the extracted
  code, in the job's per-header REPL pool: lint, compile in the header's env, ``#print
  axioms`` whitelist, statement-type check. A cheat (sorry, a new axiom, ``native_decide``)
  is ``refuted`` by it, never verified.
- Z3: the script's tactics replayed from the theorem in a fresh context
  (:func:`prover.z3.env.check_proof`); the theorem's own preflight (contradictory hypotheses,
  a counter-model) overrides a proof, as in search mode.
A checker never raises for a bad proof; a broken backend gives ``unknown`` with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prover.records.verdicts import UnknownReason, Verdict, unknown
from prover.wholeproof.extract import script_lines

MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class Checked:
    """A checker's verdict, the error text for the repair prompt ('' when verified), the
    checker's name and its per-check details."""

    verdict: Verdict
    errors: str
    checker: str
    details: list[dict[str, Any]] = field(default_factory=list)


def lean_check(row: Mapping[str, Any], code: str, pool: Any) -> Checked:
    """Audit ``code`` (a whole declaration or file from the model) for the row's statement
    after the row's header, in ``pool`` (a HeaderPool; None: Lean unavailable, so at best
    ``unknown``)."""
    from prover.lean.audit import audit
    from prover.lean.header import detach_docstrings

    header, statement, _ = detach_docstrings(str(row.get("header", "")),
                                             str(row.get("statement", "")))
    report = audit(statement, code, pool, header=header)
    details = [c.to_dict() for c in report.checks]
    if report.proved:
        return Checked(report.verdict, "", "lean-audit", details)
    failed = [c for c in report.checks if c.status == "failed"]
    if failed:
        errors = "\n".join(f"{c.name}: {c.evidence}" for c in failed)
    else:
        stopped = next((c for c in report.checks if c.status == "not-checked" and c.required),
                       None)
        errors = f"{stopped.name}: {stopped.evidence}" if stopped else report.verdict.detail
    return Checked(report.verdict, errors[:MAX_ERROR_CHARS], "lean-audit", details)


def z3_preflight(row: Mapping[str, Any]) -> Checked | None:
    """The theorem's own verdict before any proof (contradictory hypotheses: ``unknown:
    vacuous-premises``; a counter-model: ``refuted``), or None. Raises
    :class:`~prover.z3.theorem.TheoremError` (a ValueError) for a row that is not a theorem."""
    from prover.z3.env import Z3Env

    env = Z3Env(row)
    env.initial_state()  # runs the preflight once
    pre = env.preflight_verdict
    if pre is None:
        return None
    return Checked(pre, f"the theorem itself: {pre.label()}: {pre.detail}", "z3-preflight")


def z3_check(row: Mapping[str, Any], code: str, budget_s: float) -> Checked:
    """Replay the script ``code`` on the Z3 row in a fresh context (call
    :func:`z3_preflight` once per theorem first)."""
    from prover.z3.env import check_proof

    tactics = script_lines(code)
    if not tactics:
        verdict = Verdict("refuted", evidence={"reason": "empty script"},
                          detail="the script has no tactic")
        return Checked(verdict, "the script has no tactic", "z3-replay")
    verdict = check_proof(row, tactics, budget_s=budget_s)
    return Checked(verdict, "" if verdict.kind == "verified" else _z3_errors(verdict, tactics),
                   "z3-replay")


def _z3_errors(verdict: Verdict, tactics: list[str]) -> str:
    ev = verdict.evidence or {}
    if "tactic" in ev:
        text = f"tactic {ev.get('step', 0) + 1} `{ev['tactic']}` failed: {ev.get('reason', '')}"
    elif "extra" in ev:
        text = (f"every goal was closed by tactic {ev.get('step', 0) + 1}; remove the "
                f"tactics after it: {ev['extra']}")
    elif "open_goals" in ev or verdict.kind == "refuted":
        text = f"goals remain after the last tactic. {verdict.detail}"
    else:
        text = f"{verdict.label()}: {verdict.detail}"
    return text[:MAX_ERROR_CHARS]


def no_proof(failure: str) -> Checked:
    """The checker's answer to an answer without a proof (a typed extraction failure):
    ``unknown: budget`` (the model spent its answer without writing a proof)."""
    messages = {"no-code-block": "the answer has no code block with the proof",
                "empty-code-block": "the answer's code block is empty",
                "empty-proof": "the completion wrote no proof"}
    text = messages.get(failure, failure)
    return Checked(unknown(UnknownReason.BUDGET, f"no proof: {text}"), text, "extract")
