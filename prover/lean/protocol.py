"""The Lean REPL's JSON protocol as frozen typed values: requests, responses, and the typing of
a wire object (:func:`request_from_wire`, :func:`parse_response`).

Wire facts (leanprover-community/repl, ``REPL/JSON.lean``): requests and responses are JSON
objects separated by a blank line; the wire uses camelCase, these models snake_case. Empty lists
are omitted on the wire. A response that is exactly ``{"message": ...}`` is a :class:`LeanError`
(unknown env / proof state, a tactic exception, unparsable JSON). What a response MEANS (an
acceptable step, a completed proof) is decided in :mod:`prover.lean.judge` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

JSON = dict[str, Any]


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


__all__ = ["JSON", "Command", "CommandResponse", "FileCommand", "LeanError", "Message",
           "PickleEnvironment", "PickleProofState", "Pos", "ProofStep", "ProofStepResponse",
           "Request", "Response", "Sorry", "TacticInfo", "UnpickleEnvironment",
           "UnpickleProofState", "parse_response", "request_from_wire"]
