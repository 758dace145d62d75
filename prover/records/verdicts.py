"""Three-valued verdicts with evidence, and the provenance record every verdict carries.

A verdict is one of ``verified``, ``verified_approx``, ``refuted`` or ``unknown``; ``unknown``
always carries a typed :class:`UnknownReason` and is never counted as verified.
"""

from __future__ import annotations

import datetime as _dt
import platform
import socket
from dataclasses import asdict, dataclass, field
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


@cache
def package_version() -> str:
    """The installed ``proofgraph`` distribution's version (``unknown`` when not installed)."""
    try:
        return metadata.version("proofgraph")
    except metadata.PackageNotFoundError:
        return "unknown"


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
    host: str = field(default_factory=socket.gethostname)
    utc_time: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )
    python: str = field(default_factory=platform.python_version)
    proofgraph_version: str = field(default_factory=package_version)
    #: the policy that proposed the steps (model id, revision, sampling parameters, prompt
    #: hash), when a model took part; None for deterministic backends
    policy: dict[str, Any] | None = None
    #: the seed of the run's sampling, when it had one
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``policy`` and ``seed`` only when set, so records of
        deterministic runs keep their shape)."""
        out = asdict(self)
        for name in _OPTIONAL_PROVENANCE:
            if out[name] is None:
                del out[name]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


_OPTIONAL_PROVENANCE = ("policy", "seed")


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
