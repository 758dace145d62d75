"""The Lean 4 target: a candidate is a theorem statement, checked as ``<head> := by sorry``.

Type check (with a REPL pool): the command runs in the header's environment and passes iff
Lean reports no error, exactly one ``sorry`` and no warning other than "declaration uses
sorry" (either spelling). The elaborated type is then read with ``set_option pp.all true in
#check @NAME``; two candidates are equivalent iff those types are identical (binder names
included). Without Lean (no ``lake``, or the REPL/header cannot start) every check is
``skipped`` with the reason, and the pipeline clusters by normalised text only; nothing is
ever claimed type-checked. Vacuity/disproof flags need a proof search on the negation and are
reported as not checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from formalizer.autoformalize.targets.base import (
    Candidate,
    Equivalence,
    Item,
    first_line,
    strip_fences,
)
from prover.lean.declaration import split_declaration
from prover.lean.judge import errors, is_sorry_warning
from prover.lean.protocol import Command, CommandResponse, LeanError, Response
from prover.lean.repl import LeanSetupError, ReplError

_DECL = re.compile(r"^\s*(theorem|lemma|example)\b", re.MULTILINE)
_NAME = re.compile(r"^theorem\s+([^\s(:{\[⦃]+)")
DEFAULT_NAME = "formal_statement"
NOT_CHECKED = {"value": None, "detail": "not checked for Lean (needs a proof search on the "
               "negation or the hypotheses)"}


def statement_text(raw: str) -> str:
    """``theorem NAME ... := by sorry`` from a completion (``lemma``/``example`` become a
    ``theorem``; any proof is replaced by ``sorry``); raises ValueError when there is none."""
    body = strip_fences(raw)
    match = _DECL.search(body)
    if match is None:
        raise ValueError("no `theorem`/`lemma`/`example` declaration")
    head, _ = split_declaration(body[match.start():])
    head = " ".join(head.split())
    keyword, _, rest = head.partition(" ")
    if keyword == "example":
        rest = f"{DEFAULT_NAME} {rest}"
    if not rest.strip() or ":" not in rest:
        raise ValueError("the declaration has no statement (`: <type>`)")
    return f"theorem {rest} := by sorry"


def theorem_name(statement: str) -> str:
    """The declared name of ``theorem NAME ...``."""
    match = _NAME.match(statement)
    if match is None:
        raise ValueError("no theorem name")
    return match.group(1)


def judge_statement(response: Response) -> tuple[bool, str]:
    """``(ok, message)`` for the response to ``<statement> := by sorry``: ok iff no error, one
    sorry and only the sorry warning; else the first problem, with its line and column."""
    if isinstance(response, LeanError):
        return False, response.message
    if not isinstance(response, CommandResponse):
        return False, "not a command response"
    errs = [m for m in response.messages if m.severity == "error"]
    if errs:
        where = f" (line {errs[0].pos.line}, column {errs[0].pos.column})" if errs[0].pos else ""
        return False, first_line(errs[0].data, 400) + where
    others = [m.data for m in response.messages
              if m.severity == "warning" and not is_sorry_warning(m.data)]
    if others:
        return False, "warning: " + first_line(others[0])
    if len(response.sorries) != 1:
        return False, f"expected exactly one sorry, found {len(response.sorries)}"
    return True, ""


def checked_type(response: Response, name: str) -> str | None:
    """The type printed by ``#check @NAME`` (the info message ``NAME : TYPE``), else None."""
    if isinstance(response, LeanError) or errors(response):
        return None
    for message in getattr(response, "messages", ()):
        if message.severity == "info":
            text = message.data
            prefix = f"@{name} : " if text.startswith("@") else f"{name} : "
            return " ".join(text[len(prefix):].split()) if text.startswith(prefix) else \
                " ".join(text.split())
    return None


class LeanTarget:
    """See the module docstring; ``pool`` None means Lean is unavailable (``unavailable``
    says why)."""

    name = "lean"
    repair_prompt = "repair_lean.txt"
    backtranslate_prompt = "backtranslate_lean.txt"

    def __init__(self, pool: Any | None, header: str, *, unavailable: str = "lean not available",
                 timeout_s: float = 60.0) -> None:
        self.pool = pool
        self.header = header
        self.unavailable = unavailable
        self.timeout_s = timeout_s

    def prompt_name(self, item: Item) -> str:
        return "formalize_lean.txt"

    def prompt_values(self, item: Item) -> dict[str, str]:
        return {"statement": item.text.strip()}

    def extract(self, raw: str, item: Item) -> tuple[str | None, str | None]:
        try:
            return statement_text(raw), None
        except ValueError as exc:
            return None, f"layout: {exc}"

    def typecheck(self, item: Item, candidates: Sequence[Candidate]) -> None:
        """Check in the REPL, or mark ``skipped`` with the reason Lean is unavailable."""
        todo = [c for c in candidates if c.formal is not None]
        if not todo:
            return
        if self.pool is None:
            for cand in todo:
                cand.check = {"status": "skipped", "reason": self.unavailable}
            return
        try:
            with self.pool.lease() as repl:
                env = repl.header_env(self.header)
                for cand in todo:
                    self._check_one(repl, env, cand)
        except (LeanSetupError, ReplError) as exc:
            self.pool, self.unavailable = None, f"lean not available: {first_line(str(exc))}"
            for cand in todo:
                if cand.check.get("status") != "ok":
                    cand.check = {"status": "skipped", "reason": self.unavailable}

    def _check_one(self, repl: Any, env: int | None, cand: Candidate) -> None:
        assert cand.formal is not None
        try:
            response = repl.run(Command(cand.formal, env), self.timeout_s)
        except ReplError as exc:
            cand.check = {"status": "error", "error": f"lean: {first_line(str(exc))}",
                          "stage": "lean-infrastructure"}
            return
        ok, message = judge_statement(response)
        if not ok:
            cand.check = {"status": "error", "error": message}
            return
        cand.check = {"status": "ok", "checker": "lean repl (header env, sorry only)"}
        probe = f"set_option pp.all true in\n#check @{theorem_name(cand.formal)}"
        try:
            typed = checked_type(repl.run(Command(probe, response.env), self.timeout_s),
                                 theorem_name(cand.formal))
        except ReplError as exc:
            typed = None
            cand.info["pp_all_error"] = first_line(str(exc))
        cand.info["pp_all_type"] = typed

    def equivalent(self, a: Candidate, b: Candidate, timeout_ms: int) -> Equivalence:
        """Identical ``pp.all`` elaborated types."""
        ta, tb = a.info.get("pp_all_type"), b.info.get("pp_all_type")
        if ta is None or tb is None:
            return Equivalence(False, "elaborated type unavailable (pp.all #check failed)")
        if ta == tb:
            return Equivalence(True, "identical elaborated type under pp.all")
        return Equivalence(False, "elaborated types differ under pp.all")

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        return {"vacuous": dict(NOT_CHECKED), "negation_provable": dict(NOT_CHECKED)}

    def render(self, candidate: Candidate) -> str:
        return " ".join((candidate.formal or "").split())

    def describe(self) -> dict[str, Any]:
        return {"target": "lean", "lean_available": self.pool is not None,
                "lean_unavailable_reason": None if self.pool is not None else self.unavailable,
                "lean_header": self.header}
