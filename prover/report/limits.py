"""Caps on what one HTML report embeds, so a huge run still gives a page a browser opens.

A report embeds at most :data:`MAX_ROWS` rows (solutions, entailments), :data:`MAX_STEPS`
steps in all (:data:`MAX_STEPS_PER_ROW` per row), :data:`MAX_NODES` graph nodes per item
(:data:`MAX_TOTAL_NODES` per page) and :data:`MAX_CHARS` characters per text. Whatever is left
out is counted in an :class:`Omitted` and named on the page in a visible note, with the command
that gives everything (:func:`note_text`): the data itself is never lost, only not embedded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 2_000
MAX_STEPS = 20_000
MAX_STEPS_PER_ROW = 2_000
MAX_NODES = 20_000
MAX_TOTAL_NODES = 200_000
MAX_CHARS = 2_000
#: Every item of a graph page keeps at least this many nodes, whatever the page budget.
MIN_NODES_PER_ITEM = 50
DEFAULT_HINT = ("the run's --out file, or `proofgraph export --store DB --run RUN_ID --jsonl "
                "F.jsonl --graph F.json`")


def clip(value: Any, limit: int = MAX_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters with a marker saying how many were cut
    (counted in the :func:`collecting` record of the page being rendered, if any)."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    record = _CURRENT.get()
    if record is not None:
        record.add("characters of long texts", len(text) - limit)
    return f"{text[:limit]}… [+{len(text) - limit:,} characters not shown]"


@dataclass
class Omitted:
    """What a report left out: counts by kind (``rows``, ``steps``, ``nodes``, ...)."""

    counts: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int, detail: str | None = None) -> None:
        """Count ``n`` more left-out ``kind``; ``detail`` names where (one line)."""
        if n <= 0:
            return
        self.counts[kind] = self.counts.get(kind, 0) + n
        if detail and len(self.details) < 20:
            self.details.append(detail)

    def __bool__(self) -> bool:
        return bool(self.counts)


_CURRENT: ContextVar[Omitted | None] = ContextVar("proofgraph_report_omitted", default=None)


@contextmanager
def collecting(omitted: Omitted) -> Iterator[Omitted]:
    """While rendering one page: :func:`clip` counts the characters it cuts into ``omitted``."""
    token = _CURRENT.set(omitted)
    try:
        yield omitted
    finally:
        _CURRENT.reset(token)


def note_text(omitted: Omitted, hint: str | None) -> str:
    """The page's note: what was left out, and where to get all of it (plain text)."""
    parts = "; ".join(f"{n:,} {kind} are not embedded" for kind, n in omitted.counts.items())
    where = "; ".join(omitted.details)
    return (f"This report is capped: {parts}"
            + (f" ({where}{'; …' if len(omitted.details) >= 20 else ''})" if where else "")
            + f". Everything is in {hint or DEFAULT_HINT}.")
