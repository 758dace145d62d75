"""The Lean REPL's JSON protocol as frozen typed values, and the ONE place that says what a
response means.

Wire facts (leanprover-community/repl, ``REPL/JSON.lean``): requests and responses are JSON
objects separated by a blank line; the wire uses camelCase, these models snake_case. Empty lists
are omitted on the wire. A response that is exactly ``{"message": ...}`` is a :class:`LeanError`
(unknown env / proof state, a tactic exception, unparsable JSON).

Verdict rules (the trust note, section 1 and 3; fixtures ``20240209``, ``invalid_tactic``,
``app_type_mismatch2``, ``self_proof_*``): a tactic step is acceptable only with no
``LeanError``, no message of severity ``error``, no new ``sorries`` and no "declaration uses
sorry" warning (both spellings); it *completes* the proof only when moreover
``proofStatus == "Completed"``. ``goals == []`` alone never means proved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

JSON = dict[str, Any]

SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
"""Both spellings: ``declaration uses 'sorry'`` (Lean <= v4.27.0, so the v4.20.0 REPL) and
``declaration uses `sorry` `` (v4.28.0-rc1 on, as in the v4.33.0-rc2 fixtures)."""

COMPLETED = "Completed"
OPEN_GOALS = "Incomplete: open goals remain"


def is_sorry_warning(text: str) -> bool:
    """True for either spelling of Lean's "declaration uses sorry" warning."""
    return SORRY_WARNING.search(text) is not None


# --------------------------------------------------------------------------- wire mapping
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Wire:
    """snake_case fields <-> camelCase wire keys. ``_NESTED`` names fields holding wire
    values (one or a tuple of them); ``_ALWAYS`` fields are sent even when empty or false."""

    __slots__ = ()
    _NESTED: ClassVar[dict[str, Any]] = {}
    _ALWAYS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Any:
        """The value for a wire object (unknown keys ignored). Raises TypeError when a
        required key is missing."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            key = _camel(f.name)
            if key not in data:
                continue
            value, nested = data[key], cls._NESTED.get(f.name)
            if isinstance(value, list):
                value = tuple(nested.from_wire(v) if nested else v for v in value)
            elif nested is not None and value is not None:
                value = nested.from_wire(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    def to_wire(self) -> JSON:
        """The wire object (empty lists, None and False omitted, as the REPL does)."""
        out: JSON = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name not in self._ALWAYS and (value is None or value is False or value == ()):
                continue
            if isinstance(value, tuple):
                value = [v.to_wire() if isinstance(v, _Wire) else v for v in value]
            elif isinstance(value, _Wire):
                value = value.to_wire()
            out[_camel(f.name)] = value
        return out


# --------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class Pos(_Wire):
    """A source position: ``line`` 1-based (0 in tactic mode), ``column`` 0-based codepoints."""

    line: int
    column: int
    _ALWAYS = frozenset({"line", "column"})


@dataclass(frozen=True, slots=True)
class Message(_Wire):
    """A Lean message: ``severity`` is error|warning|info|trace. The v4.20 REPL always sends
    ``pos`` and ``endPos`` (``null`` when Lean has no end position, e.g. a parse error)."""

    severity: str
    data: str
    pos: Pos | None = None
    end_pos: Pos | None = None
    _NESTED = {"pos": Pos, "end_pos": Pos}
    _ALWAYS = frozenset({"severity", "data", "pos", "end_pos"})


@dataclass(frozen=True, slots=True)
class Sorry(_Wire):
    """A syntactic ``sorry`` and the proof state it opened (no ``pos`` inside tactic mode)."""

    goal: str
    proof_state: int | None = None
    pos: Pos | None = None
    end_pos: Pos | None = None
    _NESTED = {"pos": Pos, "end_pos": Pos}
    _ALWAYS = frozenset({"goal"})


@dataclass(frozen=True, slots=True)
class TacticInfo(_Wire):
    """One entry of ``tactics`` (``allTactics: true``); ``goals`` is ONE pretty string."""

    tactic: str
    goals: str
    proof_state: int
    pos: Pos | None = None
    end_pos: Pos | None = None
    used_constants: tuple[str, ...] = ()
    _NESTED = {"pos": Pos, "end_pos": Pos}
    _ALWAYS = frozenset({"tactic", "goals", "proof_state", "used_constants"})


# --------------------------------------------------------------------------- requests
@dataclass(frozen=True, slots=True)
class Command(_Wire):
    """``{"cmd", "env"?, "allTactics"?, "rootGoals"?, "infotree"?}``; no ``env`` = fresh
    environment (the only place ``import`` is allowed)."""

    cmd: str
    env: int | None = None
    all_tactics: bool = False
    root_goals: bool = False
    infotree: str | None = None
    _ALWAYS = frozenset({"cmd"})


@dataclass(frozen=True, slots=True)
class FileCommand(_Wire):
    """``{"path", "allTactics"?, "rootGoals"?, "infotree"?}``: the REPL reads the file and runs
    it as a command in a FRESH environment. There is no ``env`` field: the v4.20 REPL's
    ``structure File extends CommandOptions where path`` has none and ``processFile`` forces
    ``env := none`` (repl @16054ca, ``REPL/JSON.lean``, ``REPL/Main.lean``)."""

    path: str
    all_tactics: bool = False
    root_goals: bool = False
    infotree: str | None = None
    _ALWAYS = frozenset({"path"})


@dataclass(frozen=True, slots=True)
class ProofStep(_Wire):
    """``{"tactic", "proofState"}``: ONE tactic (a block needs parentheses)."""

    tactic: str
    proof_state: int
    _ALWAYS = frozenset({"tactic", "proof_state"})


@dataclass(frozen=True, slots=True)
class PickleEnvironment(_Wire):
    pickle_to: str
    env: int
    _ALWAYS = frozenset({"pickle_to", "env"})


@dataclass(frozen=True, slots=True)
class UnpickleEnvironment(_Wire):
    unpickle_env_from: str
    _ALWAYS = frozenset({"unpickle_env_from"})


@dataclass(frozen=True, slots=True)
class PickleProofState(_Wire):
    pickle_to: str
    proof_state: int
    _ALWAYS = frozenset({"pickle_to", "proof_state"})


@dataclass(frozen=True, slots=True)
class UnpickleProofState(_Wire):
    unpickle_proof_state_from: str
    env: int | None = None
    _ALWAYS = frozenset({"unpickle_proof_state_from"})


Request = (Command | FileCommand | ProofStep | PickleEnvironment | UnpickleEnvironment
           | PickleProofState | UnpickleProofState)
_STEP_REQUESTS = (ProofStep, PickleProofState, UnpickleProofState)
_REQUEST_SHAPES: tuple[tuple[type[_Wire], frozenset[str]], ...] = (
    (ProofStep, frozenset({"tactic", "proofState"})),
    (PickleEnvironment, frozenset({"pickleTo", "env"})),
    (UnpickleEnvironment, frozenset({"unpickleEnvFrom"})),
    (PickleProofState, frozenset({"pickleTo", "proofState"})),
    (UnpickleProofState, frozenset({"unpickleProofStateFrom"})),
    (Command, frozenset({"cmd"})),
    (FileCommand, frozenset({"path"})),
)


def request_from_wire(data: Mapping[str, Any]) -> Request:
    """The typed request for a wire object, tried in the REPL's own order (ProofStep,
    PickleEnvironment, UnpickleEnvironment, PickleProofState, UnpickleProofState, Command, File).
    Raises ValueError when no shape fits."""
    for cls, keys in _REQUEST_SHAPES:
        if keys <= data.keys():
            return cls.from_wire(data)  # type: ignore[no-any-return]
    raise ValueError(f"not a Lean REPL request: {sorted(data)}")


# --------------------------------------------------------------------------- responses
@dataclass(frozen=True, slots=True)
class LeanError(_Wire):
    """``{"message": ...}``: the REPL refused the request (a value, not an exception)."""

    message: str
    _ALWAYS = frozenset({"message"})


@dataclass(frozen=True, slots=True)
class CommandResponse(_Wire):
    """Answer to a command, file or (un)pickled environment; ``infotree`` stays raw JSON."""

    env: int
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    tactics: tuple[TacticInfo, ...] = ()
    infotree: tuple[Any, ...] = ()
    _NESTED = {"messages": Message, "sorries": Sorry, "tactics": TacticInfo}
    _ALWAYS = frozenset({"env"})


@dataclass(frozen=True, slots=True)
class ProofStepResponse(_Wire):
    """Answer to a tactic or (un)pickled proof state; ``proof_status`` is None before REPL
    PR #63 (2025-04), and then a closed goal list can never be trusted."""

    proof_state: int
    goals: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    traces: tuple[str, ...] = ()
    proof_status: str | None = None
    _NESTED = {"messages": Message, "sorries": Sorry}
    _ALWAYS = frozenset({"proof_state", "goals"})


Response = CommandResponse | ProofStepResponse | LeanError


def parse_response(request: Request, data: Mapping[str, Any]) -> Response:
    """Type a wire response by the request that produced it. Raises ValueError (KeyError,
    TypeError inside) when the object has neither the error nor the expected shape."""
    try:
        if set(data) == {"message"}:
            return LeanError(str(data["message"]))
        if isinstance(request, _STEP_REQUESTS):
            return ProofStepResponse.from_wire(data)
        return CommandResponse.from_wire(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed REPL response {dict(data)!r}: {exc}") from exc


# --------------------------------------------------------------------------- meaning
def errors(response: Response) -> list[str]:
    """Every error text of a response: the LeanError message or error-severity messages."""
    if isinstance(response, LeanError):
        return [response.message]
    return [m.data for m in response.messages if m.severity == "error"]


def sorry_warnings(response: Response) -> list[str]:
    """Messages that are the "declaration uses sorry" warning, either spelling."""
    if isinstance(response, LeanError):
        return []
    return [m.data for m in response.messages if is_sorry_warning(m.data)]


StepKind = Literal["progress", "completed", "rejected"]


@dataclass(frozen=True, slots=True)
class StepJudgement:
    """What one tactic step means: ``progress`` (goals remain, nothing wrong), ``completed``
    (kernel-checked, proofStatus Completed) or ``rejected`` with the ``reason``."""

    kind: StepKind
    reason: str = ""
    goals: tuple[str, ...] = ()


def judge_step(response: Response) -> StepJudgement:
    """Apply the step rules from the module docstring to a tactic-mode response."""
    if isinstance(response, CommandResponse):
        return StepJudgement("rejected", "a command response is not a tactic step")
    if isinstance(response, LeanError):
        return StepJudgement("rejected", response.message)
    errs = errors(response)
    if errs:
        return StepJudgement("rejected", errs[0])
    if response.sorries:
        return StepJudgement("rejected", "the tactic introduced `sorry`")
    if sorry_warnings(response):
        return StepJudgement("rejected", "declaration uses sorry")
    status = response.proof_status
    if not response.goals:
        if status == COMPLETED:
            return StepJudgement("completed", COMPLETED)
        if status is None:
            return StepJudgement("rejected", "goals closed but the REPL sent no proofStatus "
                                 "(REPL before PR #63): the kernel check cannot be confirmed")
        return StepJudgement("rejected", f"goals closed but proofStatus is {status!r}")
    if status is None or status == OPEN_GOALS:
        return StepJudgement("progress", status or "", response.goals)
    return StepJudgement("rejected", f"proofStatus {status!r} with goals remaining")


MAX_ERRORS_SHOWN = 8
"""Most error messages one command judgement quotes (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class CommandJudgement:
    """A command checked as a whole proof: ``ok`` iff no error, no sorry, no sorry warning."""

    ok: bool
    reason: str = ""


def judge_command(response: Response) -> CommandJudgement:
    """Whole-proof rule for a command response (checklist step 3)."""
    if isinstance(response, ProofStepResponse):
        return CommandJudgement(False, "a tactic response is not a command result")
    errs = errors(response)
    if errs:  # every error, in Lean's order: a repair prompt needs all of them, not the first
        shown = errs[:MAX_ERRORS_SHOWN]
        more = len(errs) - len(shown)
        return CommandJudgement(False, "\n".join(shown) + (f"\n(and {more} more errors)"
                                                            if more else ""))
    if response.sorries:
        return CommandJudgement(False, "the proof contains `sorry`")
    if sorry_warnings(response):
        return CommandJudgement(False, "declaration uses sorry")
    return CommandJudgement(True)


def root_sorry(response: Response) -> Sorry:
    """The single proof state opened by ``<statement> := by sorry``. Raises ValueError when the
    command failed or did not open exactly one sorry with a proof state."""
    if isinstance(response, ProofStepResponse):
        raise ValueError("a tactic response does not open a theorem")
    errs = errors(response)
    if errs:
        raise ValueError(f"the statement does not elaborate: {errs[0]}")
    assert isinstance(response, CommandResponse)
    if len(response.sorries) != 1 or response.sorries[0].proof_state is None:
        raise ValueError(f"expected exactly one sorry in the statement command, got "
                         f"{len(response.sorries)}")
    return response.sorries[0]


# --------------------------------------------------------------------------- Lean source text
_OPENERS, _CLOSERS = "([{⟨⦃", ")]}⟩⦄"


def split_declaration(text: str) -> tuple[str, str | None]:
    """``(head, rest)`` around the first ``:=`` outside brackets, comments and strings
    (``rest`` is None when there is none): the statement text of ``theorem X : T := proof``."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        if text.startswith(("--", "/-"), i):
            i = comment_end(text, i)
            continue
        char = text[i]
        if char == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(":=", i):
            return text[:i].rstrip(), text[i + 2:]
        i += 1
    return text.rstrip(), None


def statement_head(statement: str) -> str:
    """The statement without any ``:= ...`` part (``theorem X (a : Nat) : a = a``)."""
    head = split_declaration(statement)[0].strip()
    if not head:
        raise ValueError("empty theorem statement")
    return head


def sorry_command(statement: str) -> str:
    """``<head> := by sorry``: the command whose single sorry is the theorem's root goal."""
    return f"{statement_head(statement)} := by sorry"


# Header and docstring text helpers live in prover.lean.header; re-exported for old callers.
from prover.lean.header import comment_end, detach_docstrings, split_header  # noqa: E402

__all__ = ["COMPLETED", "OPEN_GOALS", "SORRY_WARNING", "Command", "CommandJudgement",
           "CommandResponse", "FileCommand", "LeanError", "Message", "PickleEnvironment",
           "PickleProofState", "Pos", "ProofStep", "ProofStepResponse", "Request", "Response",
           "Sorry", "StepJudgement", "TacticInfo", "UnpickleEnvironment", "UnpickleProofState",
           "detach_docstrings", "errors", "is_sorry_warning", "judge_command", "judge_step",
           "parse_response", "request_from_wire", "root_sorry", "sorry_command",
           "sorry_warnings", "split_declaration", "split_header", "statement_head"]
