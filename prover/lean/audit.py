"""The ONE trust audit every backend's proof goes through (lean-repl-and-trust.md, section 3):
``audit(statement, proof, repl, *, header, tactics, policy) -> AuditReport``.

The checklist, cheap to strong (each check ends ``passed``, ``failed`` or ``not-checked``
with its evidence; after a failure the rest are ``not-checked``):

1. ``statement``: the statement is a ``theorem``/``lemma`` (a leading docstring is fine); a
   proof given as a whole declaration must state it token for token (comments aside).
2. ``lint``: the proof on Lean TOKENS (:mod:`prover.lean.lint`): no sorry/admit, no new
   axioms or unsafe/compiled code, no metaprograms, no command inside the proof, only allowed
   commands before a whole declaration; ``native_decide`` only by policy.
3. ``tactic-steps`` (only when the search's tactic path is given): replayed in tactic mode,
   every step error- and sorry-free, the last one ``Completed``.
4. ``compile``: the harness-built source in a fresh env (the header's): no error, no sorry.
5. ``axioms``: ``#print axioms _root_.NAME`` lists only {propext, Classical.choice,
   Quot.sound}; with ``allow_native_decide`` and a ``native_decide`` in the proof itself
   also ``Lean.ofReduceBool``/``Lean.trustCompiler`` and ``NAME._native.*`` axioms.
6. ``statement-type``: ``#check @_root_.NAME`` under ``pp.all`` equals the same for the
   statement elaborated with ``:= sorry`` in the clean header env.

Verdict (about the PROOF): ``verified`` only when every required check passed; ``refuted``
when one failed; otherwise ``unknown`` with the reason of the first check not run
(``not-checked`` without Lean, ``timeout``, ``backend-error``, ``not-formalized``). Without a
REPL the text checks still run, so a cheat is refuted and nothing is ever verified.

This module runs the checklist and the text checks (1-2); checks 3-6 run in
:mod:`prover.lean.audit_lean`, the report types and the verdict rule live in
:mod:`prover.lean.audit_report`.
"""

from __future__ import annotations

from collections.abc import Sequence

from prover.lean.audit_lean import Backend, LeanRun, infra_result, lean_checks, leased
from prover.lean.audit_parse import (
    StatementError,
    Submission,
    parse_statement,
    read_submission,
    render_tactics,
)
from prover.lean.audit_report import (
    CHECKS,
    NOT_CHECKED,
    AuditPolicy,
    AuditReport,
    CheckResult,
    CheckStop,
    complete_checks,
    verdict_of,
)
from prover.lean.lint import lint_tokens, tokenize
from prover.lean.repl import ReplError
from prover.records.verdicts import UnknownReason


def lint_body(body: str, policy: AuditPolicy | None = None) -> list[str]:
    """Why ``body`` (a proof term or tactic block) is not acceptable (empty list: it is)."""
    policy = policy or AuditPolicy()
    if not body.strip():
        return ["empty proof"]
    if len(body) > policy.max_proof_chars:
        return [f"proof longer than {policy.max_proof_chars} characters"]
    try:
        return lint_tokens(tokenize(body), allow_native=policy.allow_native_decide)
    except ValueError as exc:
        return [f"cannot read the proof: {exc}"]


def render_proof(head: str, body: str) -> str:
    """``head := by body`` (one line) or the body's lines indented under ``:= by``."""
    return render_tactics(head, [body])


def audit(statement: str, proof: str | None, repl: Backend | None, *,
          header: str = "", tactics: Sequence[str] | None = None,
          policy: AuditPolicy | None = None,
          unavailable: UnknownReason = NOT_CHECKED) -> AuditReport:
    """Run the checklist on ``proof`` (the text after ``:=``, or a whole declaration/file)
    for ``statement`` after ``header``; with ``proof`` None the search's ``tactics`` are the
    proof (and are also replayed step by step). ``repl`` None: Lean is unavailable, the text
    checks run and the Lean ones are ``not-checked`` with reason ``unavailable``. Never
    raises for a bad proof or a broken backend: everything ends up in the report."""
    policy = policy or AuditPolicy()
    done: list[CheckResult] = []
    sub = Submission("term", header=header)
    run: LeanRun | None = None
    try:
        try:
            stmt = parse_statement(statement)
        except StatementError as exc:
            raise CheckStop(CheckResult("statement", "not-checked", str(exc),
                                        UnknownReason.NOT_FORMALIZED)) from None
        sub = read_submission(stmt, proof, tactics, header,
                              allow_native=policy.allow_native_decide,
                              max_chars=policy.max_proof_chars)
        if sub.statement_problems:
            raise CheckStop(CheckResult("statement", "failed", "; ".join(sub.statement_problems)))
        done.append(CheckResult("statement", "passed",
                                "; ".join([f"{stmt.kind} {stmt.name or ''}".strip(),
                                           f"proof form: {sub.form}", *sub.notes])))
        if sub.lint_problems:
            failed = CheckResult("lint", "failed", "; ".join(sub.lint_problems))
            if not policy.lean_after_lint_failure or not sub.source:
                raise CheckStop(failed)
            done.append(failed)
        else:
            done.append(CheckResult("lint", "passed", "no banned token, no command in the "
                                    "proof"))
        if repl is None:
            raise CheckStop(CheckResult("compile", "not-checked", "no Lean REPL configured",
                                        unavailable))
        run = LeanRun(stmt, sub, policy, tactics if proof is None else None, done)
        try:
            with leased(repl, sub.header) as process:
                lean_checks(process, run)
        except ReplError as exc:  # leasing or restarting a process failed
            ran = {c.name for c in done}
            first_unrun = next(c for c in CHECKS[3:] if c not in ran)
            raise CheckStop(infra_result(first_unrun, exc)) from None
    except CheckStop as stop:
        done.append(stop.result)
    except Exception as exc:  # a bug here must end as unknown for this proof, never verified
        ran = {c.name for c in done}
        done.append(CheckResult(next(c for c in CHECKS if c not in ran), "not-checked",
                                f"internal error in the audit: {type(exc).__name__}: {exc}",
                                UnknownReason.BACKEND_ERROR))
    tactics_given = proof is None and tactics is not None
    checks = complete_checks(done, tactics_given, policy)
    axioms = run.axioms if run is not None else None
    return AuditReport(statement, proof if proof is not None else "\n".join(tactics or ()),
                       sub.header, sub.source, checks, verdict_of(checks, sub, axioms), axioms,
                       sub.form)
