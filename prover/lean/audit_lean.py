"""Checks 3-6 of the trust audit, run in a Lean REPL: ``tactic-steps`` (the search's tactic path
replayed step by step), ``compile`` (the harness-built source in the header's env), ``axioms``
(``#print axioms`` against :data:`ALLOWED_AXIOMS`, plus the native-code axioms only by policy)
and ``statement-type`` (``#check`` under ``pp.all`` against the statement elaborated with
``:= sorry``).

:func:`lean_checks` appends each passed check to ``run.done`` and raises
:class:`~prover.lean.audit_report.CheckStop` with the first failed or not-run one; a REPL
timeout, a missing Lean or a broken process becomes ``not-checked`` with its typed reason
(:func:`infra_result`), never a pass. :func:`leased` gives one REPL process from whatever
:data:`Backend` the caller holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from prover.lean.audit_parse import Statement, Submission, header_namespace
from prover.lean.audit_report import NOT_CHECKED, AuditPolicy, CheckResult, CheckStop
from prover.lean.judge import errors, judge_command, judge_step, root_sorry
from prover.lean.lint import tokenize
from prover.lean.pool import HeaderPool, LeanReplPool
from prover.lean.protocol import Command, CommandResponse, ProofStep, Request, Response
from prover.lean.repl import (
    LeanRepl,
    LeanSetupError,
    LeanUnavailable,
    ReplError,
    ReplTimeout,
)
from prover.records.verdicts import UnknownReason

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"})
Backend = LeanRepl | LeanReplPool | HeaderPool
"""What ``audit`` runs Lean on: one REPL process, or a pool it leases one from."""
_DEPENDS = re.compile(r"depends on axioms: \[(.*)\]", re.S)


def infra_result(check: str, exc: Exception) -> CheckResult:
    reason = (UnknownReason.TIMEOUT if isinstance(exc, ReplTimeout) else
              NOT_CHECKED if isinstance(exc, LeanUnavailable)
              else UnknownReason.BACKEND_ERROR)
    return CheckResult(check, "not-checked", f"{type(exc).__name__}: {exc}", reason)


def _run(repl: LeanRepl, request: Request, timeout_s: float, check: str) -> Response:
    try:
        return repl.run(request, timeout_s)
    except ReplError as exc:
        raise CheckStop(infra_result(check, exc)) from None


def _header_env(repl: LeanRepl, header: str, timeout_s: float | None,
                check: str) -> int | None:
    """The header env (imports run under the config's header budget when timeout_s is None)."""
    try:
        return repl.header_env(header, timeout_s)
    except LeanSetupError as exc:
        raise CheckStop(CheckResult(check, "not-checked",
                                    f"the header does not elaborate: {exc}",
                                    UnknownReason.NOT_FORMALIZED)) from None
    except ReplError as exc:
        raise CheckStop(infra_result(check, exc)) from None


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
def leased(repl: Backend, header: str) -> Iterator[LeanRepl]:
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
class LeanRun:
    stmt: Statement
    sub: Submission
    policy: AuditPolicy
    tactics: Sequence[str] | None
    done: list[CheckResult] = field(default_factory=list)
    axioms: tuple[str, ...] | None = None


def lean_checks(repl: LeanRepl, run: LeanRun) -> None:
    """Checks 3-6, appended to ``run.done``. Raises CheckStop."""
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
        raise CheckStop(CheckResult("compile", "failed", judged.reason))
    user_env = result.env  # type: ignore[union-attr]
    done.append(CheckResult("compile", "passed", f"no error, no sorry (env {user_env})"))
    if stmt.name is None:
        raise CheckStop(CheckResult("axioms", "not-checked", "an anonymous `example` has no "
                                    "constant to audit: state it as `theorem NAME`",
                                    UnknownReason.NOT_FORMALIZED))
    namespace = header_namespace(sub.header)
    name = f"{namespace}.{stmt.name}" if namespace else stmt.name
    printed = _run(repl, Command(axioms_command(name), user_env), t, "axioms")
    axioms = parse_axioms(printed)
    if errors(printed) or axioms is None:
        detail = (errors(printed) or ["no `depends on axioms` line"])[0]
        raise CheckStop(CheckResult("axioms", "failed", f"{axioms_command(name)}: {detail}"))
    run.axioms = axioms
    bad = _bad_axioms(axioms, name, namespace, sub, run.policy)
    if bad:
        raise CheckStop(CheckResult("axioms", "failed", f"axioms outside the whitelist: {bad}"))
    done.append(CheckResult("axioms", "passed", ", ".join(axioms) or "no axioms"))
    check = "statement-type"
    if not run.policy.check_statement_type:
        done.append(CheckResult(check, "not-checked", "disabled by policy", NOT_CHECKED,
                                required=False))
        return
    reference = _run(repl, Command(f"{stmt.head} := sorry", env), t, check)
    if errors(reference):
        raise CheckStop(CheckResult(check, "not-checked", "the statement does not elaborate "
                                    f"in the header: {errors(reference)[0]}",
                                    UnknownReason.NOT_FORMALIZED))
    probe = check_command(name)
    want = _infos(_run(repl, Command(probe, reference.env), t, check))  # type: ignore[union-attr]
    got_response = _run(repl, Command(probe, user_env), t, check)
    got = _infos(got_response)
    if errors(got_response) or not want or want != got:
        raise CheckStop(CheckResult(check, "failed", "the elaborated statement differs from "
                                    f"the reference: {got} vs {want} {errors(got_response)}"))
    done.append(CheckResult(check, "passed", got[0][:300]))
