"""Three-valued verdicts with evidence, and the provenance record every verdict carries.

A verdict is one of ``verified``, ``verified_approx``, ``refuted`` or ``unknown``; ``unknown``
always carries a typed :class:`UnknownReason` and is never counted as verified.
"""

from __future__ import annotations

import copy
import datetime as _dt
import platform
import socket
import time
from dataclasses import dataclass, field, fields
from enum import Enum
from functools import cache
from importlib import metadata
from typing import Any, Literal

VerdictKind = Literal["verified", "verified_approx", "refuted", "unknown"]
VERDICT_KINDS: tuple[VerdictKind, ...] = ("verified", "verified_approx", "refuted", "unknown")


class UnknownReason(str, Enum):
    """Why a check ended without a verdict; the value is the wire spelling."""

    NOT_FORMALIZED = "not-formalized"
    TIMEOUT = "timeout"
    UNDECIDABLE = "undecidable-fragment"
    BUDGET = "budget"
    BACKEND_ERROR = "backend-error"
    TOO_LARGE = "too-large"
    DIVISION_BY_ZERO = "division-by-zero"
    VACUOUS = "vacuous-premises"
    NOT_CHECKED = "not-checked"
    NOT_AUDITED = "not-audited"
    RECHECK_FAILED = "recheck-failed"


@cache
def package_version() -> str:
    """The installed ``proofgraph`` distribution's version (``unknown`` when not installed)."""
    try:
        return metadata.version("proofgraph")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def _host_name() -> str:
    """This machine's host name, asked once per process (it was asked per verdict)."""
    return socket.gethostname()


@dataclass(frozen=True)
class Provenance:
    """Where a verdict came from: enough to reproduce it (run, backend, limits, formalizer, time)."""

    run_id: str
    backend: str
    backend_version: str
    limits: dict[str, Any]
    formalizer: str
    formalizer_version: str
    wall_time_s: float
    host: str = field(default_factory=lambda: _host_name())
    utc_time: str = field(default_factory=lambda: utc_now_seconds())
    python: str = field(default_factory=lambda: _python_version())
    proofgraph_version: str = field(default_factory=package_version)
    #: the policy that proposed the steps (model id, revision, sampling parameters, prompt
    #: hash), when a model took part; None for deterministic backends
    policy: dict[str, Any] | None = None
    #: the seed of the run's sampling, when it had one
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``policy`` and ``seed`` only when set, so records of
        deterministic runs keep their shape)."""
        out: dict[str, Any] = {}
        for name in _PROVENANCE_FIELDS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL_PROVENANCE:
                continue
            out[name] = _plain_copy(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


_OPTIONAL_PROVENANCE = ("policy", "seed")
_PROVENANCE_FIELDS = tuple(f.name for f in fields(Provenance))


def _plain_copy(value: Any) -> Any:
    """A copy of a JSON-like value, as ``dataclasses.asdict`` copies field values (new dicts,
    lists and tuples all the way down; scalars as they are) without its per-field overhead."""
    if isinstance(value, dict):
        return type(value)((k, _plain_copy(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_plain_copy(v) for v in value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return copy.deepcopy(value)


_UTC_SECOND: list[Any] = [None, ""]  # [the last whole second seen, its ISO text]


def utc_now_seconds() -> str:
    """The current UTC time as ISO 8601 to the second (``2026-12-03T08:26:18+00:00``); the text
    is formatted once per second, not once per verdict."""
    second = int(time.time())
    if second != _UTC_SECOND[0]:
        _UTC_SECOND[1] = _dt.datetime.fromtimestamp(second, _dt.timezone.utc).isoformat(
            timespec="seconds")
        _UTC_SECOND[0] = second
    return str(_UTC_SECOND[1])


@cache
def _python_version() -> str:
    """The running Python's version (constant for a process, so read once)."""
    return platform.python_version()


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    ``evidence`` is plain JSON (numbers as strings of exact values where they are not integers):
    the two sides for a refuted equation, a counter-model, or the unsat core. ``tolerance`` is
    set only for ``verified_approx`` and says which absolute tolerance was used.
    """

    kind: VerdictKind
    reason: UnknownReason | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    tolerance: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in VERDICT_KINDS:
            raise ValueError(f"unknown verdict kind {self.kind!r}")
        if self.kind == "unknown" and self.reason is None:
            raise ValueError("an unknown verdict needs a reason")
        if self.kind != "unknown" and self.reason is not None:
            raise ValueError("only unknown verdicts carry a reason")
        if self.kind == "verified_approx" and not self.tolerance:
            raise ValueError("verified_approx needs the tolerance it used")

    @property
    def is_verified(self) -> bool:
        """True only for ``verified`` and ``verified_approx``; never for ``unknown``."""
        return self.kind in ("verified", "verified_approx")

    def label(self) -> str:
        """Short human label, e.g. ``unknown: too-large``."""
        return f"unknown: {self.reason.value}" if self.reason else self.kind

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (reason as its wire spelling)."""
        out: dict[str, Any] = {"verdict": self.kind}
        if self.reason is not None:
            out["reason"] = self.reason.value
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
        if self.evidence:
            out["evidence"] = self.evidence
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict`."""
        reason = data.get("reason")
        return cls(
            kind=data["verdict"],
            reason=UnknownReason(reason) if reason else None,
            evidence=dict(data.get("evidence", {})),
            tolerance=data.get("tolerance"),
            detail=data.get("detail", ""),
        )


def unknown(reason: UnknownReason, detail: str = "") -> Verdict:
    """Shorthand for an ``unknown`` verdict with a typed reason."""
    return Verdict("unknown", reason=reason, detail=detail)
