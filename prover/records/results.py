"""Typed results: frozen dataclasses for what each pipeline writes per row (a checked claim, a
step, a solution, an entailment, a proof search), with ``from_dict``/``to_dict``.

``to_dict(from_dict(row)) == row`` exactly, key order included: keys a type does not name
(fields other pipelines add, such as the LLM views of a step) are kept in ``extra``, and the
row's key order is kept, so typing a result never changes what is written. Code that reads
results (summaries, reports) reads these fields instead of dict keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Record")
_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Record:
    """Base of the typed rows: named fields, ``extra`` for the rest, the original key order."""

    extra: Mapping[str, Any] = field(default_factory=dict, compare=True, repr=False)
    order: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: fields holding lists of typed records: name -> record type
    NESTED: ClassVar[dict[str, type[Record]]] = {}

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The named fields of this type, in declaration order (computed once per class)."""
        cached = _NAMES.get(cls)
        if cached is None:
            cached = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls)
                                         if f.name not in ("extra", "order"))
        return cached

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """The typed view of one written row (missing fields are None and stay missing)."""
        names = cls.names()
        values: dict[str, Any] = {}
        for name in data.keys() & names:
            value = data[name]
            nested = cls.NESTED.get(name)
            if nested is not None and isinstance(value, list):
                value = tuple(nested.from_dict(v) for v in value)
            values[name] = value
        extra = {k: v for k, v in data.items() if k not in names}
        return cls(extra=extra, order=tuple(data), **values)

    def to_dict(self) -> dict[str, Any]:
        """The row exactly as it was read (or, for a record built in code, its fields)."""
        names = self.names()
        order = self.order or tuple(n for n in names if getattr(self, n) is not None) + tuple(
            self.extra)
        out: dict[str, Any] = {}
        for key in order:
            if key in names:
                value = getattr(self, key)
                out[key] = ([v.to_dict() for v in value] if key in self.NESTED
                            and isinstance(value, tuple) else value)
            else:
                out[key] = self.extra[key]
        return out


@dataclass(frozen=True)
class ClaimResult(Record):
    """One checked claim of a step: what was read, its formal form and its verdict."""

    kind: str | None = None
    source: str | None = None
    formal: str | None = None
    verdict: str | None = None
    reason: str | None = None
    tolerance: str | None = None
    evidence: Mapping[str, Any] | None = None
    binds: str | None = None
    backend: str | None = None
    time_s: float | None = None

    @property
    def label(self) -> str | None:
        """``verified``, ``refuted``, … or ``unknown: REASON``; None when not decided."""
        if not self.verdict:
            return None
        return self.verdict if self.verdict != "unknown" else f"unknown: {self.reason}"


@dataclass(frozen=True)
class StepResult(Record):
    """One step of a solution and its claims."""

    index: int | None = None
    text: str | None = None
    verdict: str | None = None
    claims: tuple[ClaimResult, ...] | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"claims": ClaimResult}


@dataclass(frozen=True)
class SolutionResult(Record):
    """One step-checked solution (a ``check`` row), or a rejected row (``error`` set)."""

    key: str | None = None
    run_id: str | None = None
    id: str | None = None
    line: int | None = None
    problem: str | None = None
    final_answer: str | None = None
    steps: tuple[StepResult, ...] | None = None
    first_error: int | None = None
    error: str | None = None
    provenance: Mapping[str, Any] | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"steps": StepResult}

    def claims(self) -> list[ClaimResult]:
        """Every claim of every step, in order."""
        return [c for s in self.steps or () for c in s.claims or ()]


@dataclass(frozen=True)
class EntailmentResult(Record):
    """One ``entail`` row: premises ⊢ conclusion, the answer and its evidence."""

    key: str | None = None
    run_id: str | None = None
    id: str | None = None
    answer: str | None = None
    verdict: Mapping[str, Any] | None = None
    evidence: Mapping[str, Any] | None = None
    premises: list[str] | None = None
    conclusion: str | None = None
    line: int | None = None
    error: str | None = None
    error_detail: Mapping[str, Any] | None = None
    provenance: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProofSearchResult(Record):
    """One ``prove`` row: search status, the proof, the re-checked verdict, budgets spent."""

    key: str | None = None
    run_id: str | None = None
    id: str | None = None
    status: str | None = None
    stop_reason: str | None = None
    proof: list[str] | None = None
    verdict: str | None = None
    reason: str | None = None
    evidence: Mapping[str, Any] | None = None
    counts: Mapping[str, Any] | None = None
    times: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None
    provenance: Mapping[str, Any] | None = None
    error: str | None = None
    line: int | None = None
