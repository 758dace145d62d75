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
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from prover.lean.audit_parse import (
    Statement,
    StatementError,
    Submission,
    header_namespace,
    parse_statement,
    read_submission,
    render_tactics,
)
from prover.lean.lint import lint_tokens, tokenize
from prover.lean.pool import HeaderPool, LeanReplPool
from prover.lean.protocol import (
    Command,
    CommandResponse,
    ProofStep,
    Request,
    Response,
    errors,
    judge_command,
    judge_step,
    root_sorry,
)
from prover.lean.repl import (
    LeanRepl,
    LeanSetupError,
    LeanUnavailable,
    ReplError,
    ReplTimeout,
)
from prover.records.verdicts import UnknownReason, Verdict

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"})
NOT_CHECKED = UnknownReason.NOT_CHECKED
CHECKS = ("statement", "lint", "tactic-steps", "compile", "axioms", "statement-type")
CheckStatus = Literal["passed", "failed", "not-checked"]
Backend = LeanRepl | LeanReplPool | HeaderPool
"""What ``audit`` runs Lean on: one REPL process, or a pool it leases one from."""
_DEPENDS = re.compile(r"depends on axioms: \[(.*)\]", re.S)


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


class _Stop(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.evidence)
        self.result = result


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


def _infra(check: str, exc: Exception) -> CheckResult:
    reason = (UnknownReason.TIMEOUT if isinstance(exc, ReplTimeout) else
              NOT_CHECKED if isinstance(exc, LeanUnavailable)
              else UnknownReason.BACKEND_ERROR)
    return CheckResult(check, "not-checked", f"{type(exc).__name__}: {exc}", reason)


def _run(repl: LeanRepl, request: Request, timeout_s: float, check: str) -> Response:
    try:
        return repl.run(request, timeout_s)
    except ReplError as exc:
        raise _Stop(_infra(check, exc)) from None


def _header_env(repl: LeanRepl, header: str, timeout_s: float | None,
                check: str) -> int | None:
    """The header env (imports run under the config's header budget when timeout_s is None)."""
    try:
        return repl.header_env(header, timeout_s)
    except LeanSetupError as exc:
        raise _Stop(CheckResult(check, "not-checked", f"the header does not elaborate: {exc}",
                                UnknownReason.NOT_FORMALIZED)) from None
    except ReplError as exc:
        raise _Stop(_infra(check, exc)) from None


def _infos(response: Response) -> list[str]:
    if not isinstance(response, CommandResponse):
        return []
    return [m.data for m in response.messages if m.severity == "info"]


def parse_axioms(response: Response) -> tuple[str, ...] | None:
    """The axioms of a ``#print axioms`` answer (None when it has no such line)."""
    for text in _infos(response):
        if "does not depend on any axioms" in text:
            return ()
        if found := _DEPENDS.search(text):
            names, depth, current = [], 0, ""
            for ch in found.group(1):
                depth += {"«": 1, "»": -1}.get(ch, 0)
                if ch == "," and depth == 0:
                    names.append(current.strip())
                    current = ""
                else:
                    current += ch
            names.append(current.strip())
            return tuple(n for n in names if n)
    return None


def axioms_command(name: str) -> str:
    """The ``#print axioms`` request for the constant ``name`` (root-qualified, so names
    opened by the header cannot make it ambiguous)."""
    return f"#print axioms _root_.{name}"


def check_command(name: str) -> str:
    """The ``#check`` under ``pp.all`` that shows the constant's elaborated type."""
    return f"set_option pp.all true in\n#check @_root_.{name}"


def _bad_axioms(axioms: Sequence[str], name: str, namespace: str, sub: Submission,
                policy: AuditPolicy) -> list[str]:
    helpers = [f"{namespace}.{h}" if namespace else h for h in sub.helpers]
    own = {tokenize(n)[0].text for n in [name, *helpers]}
    native_ok = policy.allow_native_decide and sub.native

    def ok(axiom: str) -> bool:
        if axiom in ALLOWED_AXIOMS:
            return True
        if not native_ok:
            return False
        if axiom in NATIVE_AXIOMS:
            return True
        plain = axiom.replace("«", "").replace("»", "")
        return "._native." in plain and plain.split("._native.")[0] in own
    return [a for a in axioms if not ok(a)]


def _tactic_steps(repl: LeanRepl, head: str, env: int | None, tactics: Sequence[str],
                  timeout_s: float) -> CheckResult:
    name = "tactic-steps"
    if not tactics:
        return CheckResult(name, "failed", "empty tactic path")
    try:
        proof_state = root_sorry(_run(repl, Command(f"{head} := by sorry", env), timeout_s,
                                      name)).proof_state
    except ValueError as exc:
        return CheckResult(name, "not-checked", str(exc), UnknownReason.NOT_FORMALIZED)
    for i, tactic in enumerate(tactics, 1):
        response = _run(repl, ProofStep(tactic, proof_state), timeout_s, name)  # type: ignore[arg-type]
        verdict = judge_step(response)
        if verdict.kind == "rejected":
            return CheckResult(name, "failed", f"step {i} {tactic!r}: {verdict.reason}")
        if (verdict.kind == "completed") != (i == len(tactics)):
            return CheckResult(name, "failed", f"step {i} {tactic!r}: {verdict.kind}, but it "
                               f"is step {i} of {len(tactics)}")
        proof_state = response.proof_state  # type: ignore[union-attr]
    return CheckResult(name, "passed", f"{len(tactics)} steps, proofStatus Completed")


@contextmanager
def _leased(repl: Backend, header: str) -> Iterator[LeanRepl]:
    if isinstance(repl, HeaderPool):
        with repl.lease(header) as leased:
            yield leased
    elif isinstance(repl, LeanReplPool):
        with repl.lease(lambda r: int(("header", header) in r.cache)) as leased:
            yield leased
    else:
        if repl.exhausted:
            repl.restart()
        yield repl


@dataclass
class _Run:
    stmt: Statement
    sub: Submission
    policy: AuditPolicy
    tactics: Sequence[str] | None
    done: list[CheckResult] = field(default_factory=list)
    axioms: tuple[str, ...] | None = None


def _lean_checks(repl: LeanRepl, run: _Run) -> None:
    """Checks 3-6, appended to ``run.done``. Raises _Stop."""
    t, stmt, sub, done = run.policy.timeout_s, run.stmt, run.sub, run.done
    if run.policy.fresh_process:
        repl.restart()
    env = _header_env(repl, sub.header, None, "tactic-steps" if run.tactics else "compile")
    if run.tactics is not None:
        done.append(_tactic_steps(repl, stmt.head, env, run.tactics, t))
        if done[-1].status != "passed":
            return
    result = _run(repl, Command(sub.source, env), t, "compile")
    judged = judge_command(result)
    if not judged.ok:
        raise _Stop(CheckResult("compile", "failed", judged.reason))
    user_env = result.env  # type: ignore[union-attr]
    done.append(CheckResult("compile", "passed", f"no error, no sorry (env {user_env})"))
    if stmt.name is None:
        raise _Stop(CheckResult("axioms", "not-checked", "an anonymous `example` has no "
                                "constant to audit: state it as `theorem NAME`",
                                UnknownReason.NOT_FORMALIZED))
    namespace = header_namespace(sub.header)
    name = f"{namespace}.{stmt.name}" if namespace else stmt.name
    printed = _run(repl, Command(axioms_command(name), user_env), t, "axioms")
    axioms = parse_axioms(printed)
    if errors(printed) or axioms is None:
        detail = (errors(printed) or ["no `depends on axioms` line"])[0]
        raise _Stop(CheckResult("axioms", "failed", f"{axioms_command(name)}: {detail}"))
    run.axioms = axioms
    bad = _bad_axioms(axioms, name, namespace, sub, run.policy)
    if bad:
        raise _Stop(CheckResult("axioms", "failed", f"axioms outside the whitelist: {bad}"))
    done.append(CheckResult("axioms", "passed", ", ".join(axioms) or "no axioms"))
    check = "statement-type"
    if not run.policy.check_statement_type:
        done.append(CheckResult(check, "not-checked", "disabled by policy", NOT_CHECKED,
                                required=False))
        return
    reference = _run(repl, Command(f"{stmt.head} := sorry", env), t, check)
    if errors(reference):
        raise _Stop(CheckResult(check, "not-checked", "the statement does not elaborate in the "
                                f"header: {errors(reference)[0]}", UnknownReason.NOT_FORMALIZED))
    probe = check_command(name)
    want = _infos(_run(repl, Command(probe, reference.env), t, check))  # type: ignore[union-attr]
    got_response = _run(repl, Command(probe, user_env), t, check)
    got = _infos(got_response)
    if errors(got_response) or not want or want != got:
        raise _Stop(CheckResult(check, "failed", f"the elaborated statement differs from the "
                                f"reference: {got} vs {want} {errors(got_response)}"))
    done.append(CheckResult(check, "passed", got[0][:300]))


def _complete(done: list[CheckResult], tactics_given: bool,
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
    run: _Run | None = None
    try:
        try:
            stmt = parse_statement(statement)
        except StatementError as exc:
            raise _Stop(CheckResult("statement", "not-checked", str(exc),
                                    UnknownReason.NOT_FORMALIZED)) from None
        sub = read_submission(stmt, proof, tactics, header,
                              allow_native=policy.allow_native_decide,
                              max_chars=policy.max_proof_chars)
        if sub.statement_problems:
            raise _Stop(CheckResult("statement", "failed", "; ".join(sub.statement_problems)))
        done.append(CheckResult("statement", "passed",
                                "; ".join([f"{stmt.kind} {stmt.name or ''}".strip(),
                                           f"proof form: {sub.form}", *sub.notes])))
        if sub.lint_problems:
            failed = CheckResult("lint", "failed", "; ".join(sub.lint_problems))
            if not policy.lean_after_lint_failure or not sub.source:
                raise _Stop(failed)
            done.append(failed)
        else:
            done.append(CheckResult("lint", "passed", "no banned token, no command in the "
                                    "proof"))
        if repl is None:
            raise _Stop(CheckResult("compile", "not-checked", "no Lean REPL configured",
                                    unavailable))
        run = _Run(stmt, sub, policy, tactics if proof is None else None, done)
        try:
            with _leased(repl, sub.header) as leased:
                _lean_checks(leased, run)
        except ReplError as exc:  # leasing or restarting a process failed
            ran = {c.name for c in done}
            raise _Stop(_infra(next(c for c in CHECKS[3:] if c not in ran), exc)) from None
    except _Stop as stop:
        done.append(stop.result)
    except Exception as exc:  # a bug here must end as unknown for this proof, never verified
        ran = {c.name for c in done}
        done.append(CheckResult(next(c for c in CHECKS if c not in ran), "not-checked",
                                f"internal error in the audit: {type(exc).__name__}: {exc}",
                                UnknownReason.BACKEND_ERROR))
    tactics_given = proof is None and tactics is not None
    checks = _complete(done, tactics_given, policy)
    axioms = run.axioms if run is not None else None
    return AuditReport(statement, proof if proof is not None else "\n".join(tactics or ()),
                       sub.header, sub.source, checks, _verdict(checks, sub, axioms), axioms,
                       sub.form)


def _verdict(checks: Sequence[CheckResult], sub: Submission,
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
