"""The trust checklist (lean-repl-and-trust.md, section 3) as one call:
``audit(statement, proof, repl) -> AuditReport``.

Checks, cheap to strong; the first one that fails or cannot finish stops the rest:

1. ``statement``: the statement is ``theorem|lemma|example ...``; a proof submitted as a whole
   declaration must repeat the statement text before ``:=`` verbatim (whitespace aside).
2. ``proof-body-lint``: the model supplies a tactic body only. It must not de-indent out of the
   ``by`` block, and must contain none of the banned tokens (:data:`BANNED_WORDS`,
   :data:`BANNED_PATTERNS`; ``native_decide`` by policy). A heuristic fast reject, never enough.
3. ``tactic-steps`` (when the search's tactic path is given): replay it in tactic mode from
   ``<statement> := by sorry``: every step error- and sorry-free, the last ``Completed``.
4. ``compile``: ``<statement> := by <body>`` built by the harness, elaborated in a fresh env (the
   header env): no error, no sorry, no "declaration uses sorry" warning.
5. ``axioms``: ``#print axioms NAME`` in the result env must succeed and list only
   {propext, Classical.choice, Quot.sound} (plus native-computation axioms by policy).
6. ``statement-type``: ``#check @NAME`` under ``pp.all`` is the same in the result env and in a
   clean env holding ``<statement> := sorry``, so local instances or notation cannot change it.

Verdict (about the PROOF, not the theorem): ``verified`` only when every check passed;
``refuted`` when a check rejected the proof (the theorem may still be true); ``unknown`` when
a check could not finish: ``timeout``, ``backend-error``, ``not-formalized`` (statement or
anonymous ``example``), and "not-checked" when Lean is unavailable.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

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
    sorry_command,
    split_declaration,
    statement_head,
)
from prover.lean.repl import (
    LeanRepl,
    LeanReplPool,
    LeanSetupError,
    LeanUnavailable,
    ReplError,
    ReplTimeout,
)
from prover.verdicts import UnknownReason, Verdict

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"})
NOT_CHECKED = UnknownReason.__members__.get("NOT_CHECKED", UnknownReason.BACKEND_ERROR)
"""``unknown: not-checked`` once prover.verdicts has it; until then ``backend-error``."""

BANNED_NAMES = (
    "sorryAx", "lcProof", "ofReduceBool", "trustCompiler", "unsafeCast", "unsafeBaseIO",
    "unsafeIO", "unsafeEIO", "modifyEnv", "addDecl", "addAndCompile",
)
"""Constants rejected also as the last part of a dotted name (``Lean.ofReduceBool``)."""

BANNED_WORDS = (
    # sorry and friends
    "sorry", "admit",
    # new axioms, unsafe or compiled code
    "axiom", "opaque", "unsafe", "partial", "implemented_by", "extern", "csimp", "initialize",
    "builtin_initialize", "native_decide",
    # metaprogramming and environment hacking
    "run_cmd", "run_tac", "run_elab", "run_meta", "elab", "elab_rules", "macro", "macro_rules",
    "syntax", "declare_syntax_cat", "notation", "infix", "infixl", "infixr", "prefix",
    "postfix",
    # commands that must not appear inside a proof body
    "theorem", "lemma", "def", "instance", "abbrev", "example", "structure", "class",
    "inductive", "mutual", "namespace", "section", "universe", "variable", "import", "export",
    "open", "local", "scoped", "attribute", "set_option", "noncomputable", "private",
    "protected",
)
"""Whole identifiers rejected in a proof body (``Nat.add_def`` does not match ``def``)."""

BANNED_PATTERNS = (
    (r"(?<![\w#])#[A-Za-z_]", "a `#` command (#eval, #exit, #print ...)"),
    (r"@\[", "an attribute `@[...]`"),
    (r"\+\s*native\b", "`decide +native`"),
    (r"\bnative\s*:=\s*true", "`native := true`"),
    (r"\t", "a tab character"),
)
_NATIVE = frozenset({"native_decide", "`decide +native`", "`native := true`"})
_WORD = re.compile(r"(?<![\w.'!?])(" + "|".join(map(re.escape, BANNED_WORDS)) + r")(?![\w'!?])"
                   r"|(?<![\w'!?])(" + "|".join(map(re.escape, BANNED_NAMES)) + r")(?![\w'!?])")
_DECL = re.compile(r"^\s*(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec)\s+)*"
                   r"(theorem|lemma|example)(?![\w'!?])\s*([^\s:({\[⦃]*)")
_DEPENDS = re.compile(r"depends on axioms: \[(.*)\]", re.S)

CheckStatus = Literal["passed", "failed", "unknown", "skipped"]


@dataclass(frozen=True)
class AuditPolicy:
    """Knobs: ``allow_native_decide`` (source token and its axioms), the body size limit, the
    wall clock per Lean request, the ``statement-type`` check, and a fresh REPL process."""

    allow_native_decide: bool = False
    max_body_chars: int = 65536
    timeout_s: float = 120.0
    check_statement_type: bool = True
    fresh_process: bool = False


@dataclass(frozen=True)
class CheckResult:
    """One check: ``unknown`` carries the typed reason it could not finish."""

    name: str
    status: CheckStatus
    detail: str = ""
    reason: UnknownReason | None = None


@dataclass(frozen=True)
class AuditReport:
    """Every check in order, the axioms Lean reported, the exact Lean text checked, and the
    final verdict (``proved`` iff ``verified``)."""

    statement: str
    body: str
    source: str
    checks: tuple[CheckResult, ...]
    verdict: Verdict
    axioms: tuple[str, ...] | None = None

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
        """Plain JSON."""
        checks = [{**asdict(c), "reason": c.reason.value if c.reason else None}
                  for c in self.checks]
        return {"statement": self.statement, "body": self.body, "source": self.source,
                "checks": checks, "axioms": list(self.axioms) if self.axioms is not None
                else None, "verdict": self.verdict.to_dict()}


CHECKS = ("statement", "proof-body-lint", "tactic-steps", "compile", "axioms", "statement-type")


class _Stop(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.detail)
        self.result = result


def _normal(text: str) -> str:
    return " ".join(text.split())


def render_proof(head: str, body: str) -> str:
    """``head := by body`` on one line for a one-line body, else the body indented by two."""
    lines = body.split("\n")
    if len(lines) == 1:
        return f"{head} := by {body}"
    return f"{head} := by\n" + "\n".join(f"  {line}" if line.strip() else "" for line in lines)


def lint_body(body: str, policy: AuditPolicy | None = None) -> list[str]:
    """Why ``body`` is not an acceptable proof body (empty list: acceptable)."""
    policy = policy or AuditPolicy()
    problems: list[str] = []
    if not body.strip():
        return ["empty proof"]
    if len(body) > policy.max_body_chars:
        return [f"proof body longer than {policy.max_body_chars} characters"]
    first = next(line for line in body.split("\n") if line.strip())
    if first[: len(first) - len(first.lstrip())]:
        problems.append("the body de-indents below its first line (it would leave the `by` "
                        "block)")
    for word in dict.fromkeys(m.group(1) or m.group(2)
                              for m in _WORD.finditer(body.replace("«", " "))):
        if not (policy.allow_native_decide and word in _NATIVE):
            problems.append(f"banned token `{word}`")
    for pattern, label in BANNED_PATTERNS:
        if re.search(pattern, body) and not (policy.allow_native_decide and label in _NATIVE):
            problems.append(f"banned: {label}")
    return problems


def _body_of(head: str, proof: str) -> str:
    """The tactic body of ``proof``: itself, or what follows ``:=`` in a whole declaration
    whose statement must equal ``head``. Raises _Stop when that statement differs."""
    text = proof.strip("\n")
    if not _DECL.match(text):
        return textwrap.dedent(text)
    submitted, rest = split_declaration(text)
    if _normal(submitted) != _normal(head):
        raise _Stop(CheckResult("statement", "failed", f"statement changed: submitted "
                                f"{_normal(submitted)!r}, expected {_normal(head)!r}"))
    rest = (rest or "").strip("\n")
    stripped = rest.strip()
    if re.match(r"by(?!\S)", stripped):
        rest = rest[rest.index("by") + 2:]
    else:
        rest = "exact " + stripped
    first, *others = rest.strip("\n").split("\n")
    others_text = textwrap.dedent("\n".join(others))
    if not first.strip():
        return others_text
    return first.strip() + ("\n" + others_text if others else "")


def _infra(check: str, exc: Exception) -> CheckResult:
    """A check that could not finish because of the backend, with the typed reason."""
    reason = (UnknownReason.TIMEOUT if isinstance(exc, ReplTimeout) else
              NOT_CHECKED if isinstance(exc, LeanUnavailable) else UnknownReason.BACKEND_ERROR)
    return CheckResult(check, "unknown", str(exc), reason)


def _run(repl: LeanRepl, request: Request, timeout_s: float, check: str) -> Response:
    try:
        return repl.run(request, timeout_s)
    except ReplError as exc:
        raise _Stop(_infra(check, exc)) from None


def _header_env(repl: LeanRepl, header: str, timeout_s: float, check: str) -> int | None:
    try:
        return repl.header_env(header, timeout_s)
    except (ReplError, LeanSetupError) as exc:
        raise _Stop(_infra(check, exc)) from None


def _tactic_steps(repl: LeanRepl, statement: str, header: str, tactics: Sequence[str],
                  timeout_s: float) -> CheckResult:
    name = "tactic-steps"
    if not tactics:
        return CheckResult(name, "failed", "empty tactic path")
    env = _header_env(repl, header, timeout_s, name)
    try:
        proof_state = root_sorry(_run(repl, Command(sorry_command(statement), env), timeout_s,
                                      name)).proof_state
    except ValueError as exc:
        return CheckResult(name, "unknown", str(exc), UnknownReason.NOT_FORMALIZED)
    for i, tactic in enumerate(tactics, 1):
        response = _run(repl, ProofStep(tactic, proof_state), timeout_s, name)  # type: ignore[arg-type]
        verdict = judge_step(response)
        if verdict.kind == "rejected":
            return CheckResult(name, "failed", f"step {i} {tactic!r}: {verdict.reason}")
        if (verdict.kind == "completed") != (i == len(tactics)):
            return CheckResult(name, "failed", f"step {i} {tactic!r}: {verdict.kind}, but it is "
                               f"step {i} of {len(tactics)}")
        proof_state = response.proof_state  # type: ignore[union-attr]
    return CheckResult(name, "passed", f"{len(tactics)} steps, proofStatus Completed")


def _infos(response: Response) -> list[str]:
    if not isinstance(response, CommandResponse):
        return []
    return [m.data for m in response.messages if m.severity == "info"]


def _axioms(response: Response) -> tuple[str, ...] | None:
    for text in _infos(response):
        if "does not depend on any axioms" in text:
            return ()
        if found := _DEPENDS.search(text):
            return tuple(a.strip() for a in found.group(1).split(",") if a.strip())
    return None


@contextmanager
def _leased(repl: LeanRepl | LeanReplPool, header: str) -> Iterator[LeanRepl]:
    if isinstance(repl, LeanReplPool):
        with repl.lease(lambda r: int(("header", header) in r.cache)) as leased:
            yield leased
    else:
        if repl.exhausted:
            repl.restart()
        yield repl


def _lean_checks(repl: LeanRepl, statement: str, head: str, name: str | None, header: str,
                 source: str, tactics: Sequence[str] | None, policy: AuditPolicy,
                 done: list[CheckResult]) -> tuple[str, ...] | None:
    """Checks 3-6, appended to ``done``; returns the axioms read. Raises _Stop."""
    t = policy.timeout_s
    if policy.fresh_process:
        repl.restart()
    if tactics is None:
        done.append(CheckResult("tactic-steps", "skipped", "no tactic path given"))
    else:
        done.append(_tactic_steps(repl, statement, header, tactics, t))
        if done[-1].status != "passed":
            return None
    env = _header_env(repl, header, t, "compile")
    result = _run(repl, Command(source, env), t, "compile")
    verdict = judge_command(result)
    if not verdict.ok:
        raise _Stop(CheckResult("compile", "failed", verdict.reason))
    done.append(CheckResult("compile", "passed", f"env {result.env}"))  # type: ignore[union-attr]
    user_env = result.env  # type: ignore[union-attr]
    if name is None:
        raise _Stop(CheckResult("axioms", "unknown", "an anonymous `example` has no constant to "
                                "audit: state it as `theorem NAME`", UnknownReason.NOT_FORMALIZED))
    printed = _run(repl, Command(f"#print axioms {name}", user_env), t, "axioms")
    axioms = _axioms(printed)
    if errors(printed) or axioms is None:
        detail = (errors(printed) or ["no `depends on axioms` line"])[0]
        raise _Stop(CheckResult("axioms", "failed", f"#print axioms {name}: {detail}"))
    allowed = ALLOWED_AXIOMS | (NATIVE_AXIOMS if policy.allow_native_decide else frozenset())
    bad = [a for a in axioms if a not in allowed
           and not (policy.allow_native_decide and "_native" in a)]
    if bad:
        raise _Stop(CheckResult("axioms", "failed", f"axioms outside the whitelist: {bad}"))
    done.append(CheckResult("axioms", "passed", ", ".join(axioms) or "no axioms"))
    if not policy.check_statement_type:
        done.append(CheckResult("statement-type", "skipped", "disabled by policy"))
        return axioms
    check = "statement-type"
    reference = _run(repl, Command(f"{head} := sorry", env), t, check)
    if errors(reference):
        raise _Stop(CheckResult(check, "failed", "the statement does not elaborate in a clean "
                                f"env: {errors(reference)[0]}"))
    probe = f"set_option pp.all true in\n#check @{name}"
    want = _infos(_run(repl, Command(probe, reference.env), t, check))  # type: ignore[union-attr]
    got_response = _run(repl, Command(probe, user_env), t, check)
    got = _infos(got_response)
    if errors(got_response) or not want or want != got:
        raise _Stop(CheckResult(check, "failed", f"the elaborated statement differs from the "
                                f"reference: {got} vs {want} {errors(got_response)}"))
    done.append(CheckResult(check, "passed", got[0][:200]))
    return axioms


def audit(statement: str, proof: str | None, repl: LeanRepl | LeanReplPool | None, *,
          header: str = "", tactics: Sequence[str] | None = None,
          policy: AuditPolicy | None = None) -> AuditReport:
    """Run the checklist on ``proof`` (a tactic body, or a whole declaration) for
    ``statement`` after ``header``; ``tactics`` is the search's tactic path, also used as the
    body when ``proof`` is None. ``repl`` None means Lean is unavailable. Never raises for a
    bad proof or a broken backend: everything ends up in the report."""
    policy = policy or AuditPolicy()
    proof = "\n".join(tactics or ()) if proof is None else proof
    done: list[CheckResult] = []
    body = source = ""
    axioms: tuple[str, ...] | None = None
    try:
        try:
            head = statement_head(statement)
        except ValueError as exc:
            raise _Stop(CheckResult("statement", "unknown", str(exc),
                                    UnknownReason.NOT_FORMALIZED)) from None
        decl = _DECL.match(head)
        if decl is None:
            raise _Stop(CheckResult("statement", "unknown", "not a `theorem`, `lemma` or "
                                    "`example` statement", UnknownReason.NOT_FORMALIZED))
        name = (decl.group(2) or None) if decl.group(1) != "example" else None
        body = _body_of(head, proof)
        done.append(CheckResult("statement", "passed", head))
        problems = lint_body(body, policy)
        if problems:
            raise _Stop(CheckResult("proof-body-lint", "failed", "; ".join(problems)))
        done.append(CheckResult("proof-body-lint", "passed"))
        source = render_proof(head, body)
        if repl is None:
            raise _Stop(CheckResult("tactic-steps" if tactics is not None else "compile",
                                    "unknown", "Lean is unavailable", NOT_CHECKED))
        try:
            with _leased(repl, header) as leased:
                axioms = _lean_checks(leased, statement, head, name, header, source, tactics,
                                      policy, done)
        except ReplError as exc:  # leasing or restarting a process failed
            ran = {c.name for c in done}
            raise _Stop(_infra(next(c for c in CHECKS if c not in ran), exc)) from None
    except _Stop as stop:
        done.append(stop.result)
    return AuditReport(statement, body, source, tuple(done), _verdict(done, source, axioms),
                       axioms)


def _verdict(done: Sequence[CheckResult], source: str,
             axioms: tuple[str, ...] | None) -> Verdict:
    for check in done:
        if check.status == "failed":
            return Verdict("refuted", evidence={"rejected_by": check.name, "detail": check.detail},
                           detail=f"proof rejected by {check.name}: {check.detail}")
    for check in done:
        if check.status == "unknown":
            assert check.reason is not None
            return Verdict("unknown", reason=check.reason, detail=f"{check.name}: {check.detail}")
    passed = {c.name for c in done if c.status == "passed"}
    if {"statement", "proof-body-lint", "compile", "axioms"} <= passed:
        return Verdict("verified", evidence={"source": source, "axioms": list(axioms or ()),
                                             "checks": [c.name for c in done]})
    return Verdict("unknown", reason=UnknownReason.BACKEND_ERROR, detail="audit incomplete")


