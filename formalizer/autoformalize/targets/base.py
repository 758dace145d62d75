"""What every formalization target (Lean 4, Z3, FOL) provides, and the candidate record.

A target turns a model completion into formal text (:meth:`Target.extract`), type-checks a
batch of candidates (:meth:`Target.typecheck`), decides whether two surviving candidates say
the same thing (:meth:`Target.equivalent`: ``True``/``False`` only when decided, with the
reason), computes faithfulness flags (:meth:`Target.flags`) and renders a candidate
deterministically for humans (:meth:`Target.render`). Checks never raise on bad model text:
every failure is recorded on the candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

CheckStatus = Literal["ok", "error", "skipped"]


@dataclass
class Item:
    """One statement to formalize: ``text`` (NL), optional NL ``premises`` (FOL target)."""

    id: str
    text: str
    premises: list[str] | None = None


@dataclass
class Candidate:
    """One sampled (or repaired) formalization of an item and everything checked about it.

    ``formal`` is the canonical formal text (None when nothing could be extracted); ``parsed``
    is the target's private parsed value (never serialised); ``check`` is
    ``{"status": ok|error|skipped, "error"|"reason": ...}``.
    """

    index: int
    raw: str
    logprob: float
    round: int = 0
    formal: str | None = None
    parsed: Any = None
    check: dict[str, Any] = field(default_factory=lambda: {"status": "error", "error": "unchecked"})
    cluster: int | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    repair_of: int | None = None
    repaired_error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the candidate passed its type check."""
        return self.check.get("status") == "ok"

    @property
    def survives(self) -> bool:
        """True when it goes on to clustering: type-checked, or the check was skipped (Lean
        absent) with formal text in hand."""
        return self.formal is not None and self.check.get("status") in ("ok", "skipped")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (no parsed objects; a non-finite logprob becomes None)."""
        out = {"index": self.index, "raw": self.raw,
               "logprob": self.logprob if math.isfinite(self.logprob) else None,
               "round": self.round, "formal": self.formal, "check": dict(self.check),
               "cluster": self.cluster, "flags": dict(self.flags)}
        if self.repair_of is not None:
            out.update(repair_of=self.repair_of, repaired_error=self.repaired_error)
        out.update(self.info)
        return out


@dataclass(frozen=True)
class Equivalence:
    """Outcome of comparing two candidates: ``same`` is True/False only when decided."""

    same: bool
    reason: str


class Target(Protocol):
    """One formal language: see the module docstring for the contract of each method."""

    name: str

    def prompt_name(self, item: Item) -> str: ...

    def prompt_values(self, item: Item) -> dict[str, str]: ...

    def extract(self, raw: str, item: Item) -> tuple[str | None, str | None]: ...

    def typecheck(self, item: Item, candidates: Sequence[Candidate]) -> None: ...

    def equivalent(self, a: Candidate, b: Candidate, timeout_ms: int) -> Equivalence: ...

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]: ...

    def render(self, candidate: Candidate) -> str: ...

    def describe(self) -> dict[str, Any]: ...


def strip_fences(text: str) -> str:
    """``text`` without a surrounding Markdown code fence (```lang ... ```)."""
    lines = text.strip().splitlines()
    if lines and lines[0].lstrip().startswith("```"):
        lines = lines[1:]
        if "```" in lines:
            lines = lines[: lines.index("```")]
    return "\n".join(line for line in lines if not line.strip().startswith("```")).strip()


def first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of an error message, cut to ``limit`` characters."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return text.strip()[:limit]
