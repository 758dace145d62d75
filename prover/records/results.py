"""Typed results: frozen dataclasses for what each pipeline writes per row (a checked claim, a
step, a solution, an entailment, a proof search), with ``from_dict``/``to_dict``.

``to_dict(from_dict(row)) == row`` exactly, key order included: keys a type does not name
(fields other pipelines add, such as the LLM views of a step) are kept in ``extra``, and the
row's key order is kept, so typing a result never changes what is written. Code that reads
results (summaries, reports) reads these fields instead of dict keys: the report parses each
stored row once, into the type of the view that renders it, and renders the types.
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
    #: fields holding a list of typed records: name -> record type (an element that is not a
    #: mapping is kept as it is, so a malformed row still round-trips)
    NESTED: ClassVar[dict[str, type[Record]]] = {}
    #: fields holding one typed record (when the value is a mapping): name -> record type
    ONE: ClassVar[dict[str, type[Record]]] = {}

    def has(self, name: str) -> bool:
        """Whether the row had the key ``name`` (a field built in code: whether it is set);
        the report uses it where a missing key and an explicit null differ."""
        if self.order:
            return name in self.order
        return name in self.extra or getattr(self, name, None) is not None

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
        """The typed view of one written row (missing fields are None and stay missing).

        Built without the generated ``__init__`` (these frozen records have no
        ``__post_init__``): the instance gets the same attributes, in the same order, as
        ``cls(extra=..., order=..., **fields)`` would give it, at a fraction of the cost, which
        matters when a summary or a report types every row of a run.
        """
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = _Plan(cls)
        state = dict(plan.defaults)
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key not in plan.named:
                extra[key] = value
                continue
            nested = plan.nested.get(key)
            if nested is not None:
                if isinstance(value, list):
                    value = tuple(nested.from_dict(v) if isinstance(v, Mapping) else v
                                  for v in value)
            else:
                one = plan.one.get(key)
                if one is not None and isinstance(value, Mapping):
                    value = one.from_dict(value)
            state[key] = value
        state["extra"] = extra
        state["order"] = tuple(data)
        record = object.__new__(cls)
        record.__dict__.update(state)
        return record

    def to_dict(self) -> dict[str, Any]:
        """The row exactly as it was read (or, for a record built in code, its fields)."""
        names = self.names()
        order = self.order or tuple(n for n in names if getattr(self, n) is not None) + tuple(
            self.extra)
        out: dict[str, Any] = {}
        for key in order:
            if key in names:
                value = getattr(self, key)
                if key in self.NESTED and isinstance(value, tuple):
                    value = [v.to_dict() if isinstance(v, Record) else v for v in value]
                elif isinstance(value, Record):
                    value = value.to_dict()
                out[key] = value
            else:
                out[key] = self.extra[key]
        return out


class _Plan:
    """How :meth:`Record.from_dict` fills one record type (computed once per type): every
    attribute in ``__init__`` order with its default, the named fields, the nested types."""

    def __init__(self, cls: type[Record]) -> None:
        if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
            raise TypeError(f"{cls.__name__}: from_dict builds records without __init__")
        defaults: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in ("extra", "order"):
                defaults[f.name] = None  # always set by from_dict
            elif f.default is not dataclasses.MISSING and f.default is None:
                defaults[f.name] = None
            else:
                raise TypeError(f"{cls.__name__}.{f.name}: a typed-row field defaults to None")
        self.defaults = defaults
        self.named = frozenset(cls.names())
        self.nested = dict(cls.NESTED)
        self.one = dict(cls.ONE)


_PLANS: dict[type, _Plan] = {}


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
class CheckVerdict(Record):
    """One verdict of an LLM claim in one mode (``local`` or ``grounded``) with its evidence."""

    verdict: str | None = None
    reason: str | None = None
    tolerance: str | None = None
    evidence: Mapping[str, Any] | None = None
    detail: str | None = None
    premises: list[Any] | None = None
    givens_used: list[Any] | None = None


@dataclass(frozen=True)
class LlmClaim(Record):
    """One line of a step's LLM formalization, checked locally and grounded."""

    source: str | None = None
    kind: str | None = None
    formal: str | None = None
    local: CheckVerdict | None = None
    grounded: CheckVerdict | None = None
    premises: list[Any] | None = None
    givens_used: list[Any] | None = None
    rebinds: str | None = None
    time_s: float | None = None
    ONE: ClassVar[dict[str, type[Record]]] = {"local": CheckVerdict, "grounded": CheckVerdict}


@dataclass(frozen=True)
class GivenFact(Record):
    """One formalized given of the problem (``givens.facts[i]``)."""

    label: str | None = None
    formal: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class GivenError(Record):
    """One given the model's line did not formalize (``givens.errors[i]``)."""

    source: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Givens(Record):
    """The problem's givens as the LLM formalized them (``check --formalizer llm:...``); a
    plain ``{name: expr}`` map (older rows) keeps every pair in ``extra``."""

    facts: tuple[GivenFact, ...] | None = None
    errors: tuple[GivenError, ...] | None = None
    consistent: bool | None = None
    conflict: list[Any] | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"facts": GivenFact, "errors": GivenError}


@dataclass(frozen=True)
class LlmDef(Record):
    """One ``DEF`` line of a step: a name and its formal value."""

    name: str | None = None
    formal: str | None = None


@dataclass(frozen=True)
class LlmStep(Record):
    """A step's LLM view (``steps[i].llm``, layout in :mod:`formalizer.llm_steps`)."""

    lines: list[Any] | None = None
    defs: tuple[LlmDef, ...] | None = None
    claims: tuple[LlmClaim, ...] | None = None
    verdict_local: str | None = None
    verdict_grounded: str | None = None
    upstream_error: int | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"claims": LlmClaim, "defs": LlmDef}


@dataclass(frozen=True)
class StepResult(Record):
    """One step of a solution, its claims and (``check --formalizer llm:...``) its LLM view."""

    index: int | None = None
    text: str | None = None
    verdict: str | None = None
    claims: tuple[ClaimResult, ...] | None = None
    llm: LlmStep | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"claims": ClaimResult}
    ONE: ClassVar[dict[str, type[Record]]] = {"llm": LlmStep}


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
    first_error_grounded: int | None = None
    givens: Givens | None = None
    NESTED: ClassVar[dict[str, type[Record]]] = {"steps": StepResult}
    ONE: ClassVar[dict[str, type[Record]]] = {"givens": Givens}

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
    reason: str | None = None
    implicit_premises: list[Any] | None = None
    inconsistent: bool | None = None


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
    detail: str | None = None


@dataclass(frozen=True)
class OutcomeResult(Record):
    """A row of a pipeline without a type of its own (audit, eval, formalize, synth): the
    outcome fields every row shares; the rest stays in ``extra``."""

    key: str | None = None
    run_id: str | None = None
    id: str | None = None
    status: str | None = None
    verdict: Any = None
    reason: str | None = None
    answer: str | None = None
    error: Any = None
    line: int | None = None
    provenance: Mapping[str, Any] | None = None

