"""The contract between a synthetic-data task and the executor that runs it.

A task lists its items (stable keys, input order) and turns one item into rows. ``run`` must be
a pure function of the item and the task's configuration: the executor may call it in another
process or on another Ray node, may call it again after a crash, and keeps only the output of
the call whose item commit succeeded. Task objects are therefore picklable and open heavy
resources (models, solvers) lazily inside ``run``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class TaskOutput:
    """The result of one item: its rows (plain JSON dicts, each with a ``kind``), whether the
    item succeeded, and a short failure reason (summed by reason in the run summary)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    reason: str | None = None
    hashes: list[str] | None = None  # set by the executor's worker (content hash per row)


@runtime_checkable
class SynthTask(Protocol):
    """A synthetic-data job: ``items()`` then ``run(payload)`` per item."""

    name: str

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(key, payload)`` per item in input order; keys are unique and stable across runs."""
        ...

    def config(self) -> dict[str, Any]:
        """Everything that changes the rows (JSON-able); part of the run id, so a changed
        configuration starts a new run instead of mixing rows."""
        ...

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        """Rows for one item; raises only for bugs (bad items give ``ok=False`` and a reason)."""
        ...


@runtime_checkable
class SharedPolicyTask(Protocol):
    """Optional: a task whose searches ask a policy that an executor may serve from one shared
    process (Ray's policy actor batches the calls of every environment actor)."""

    def policy_service(self) -> tuple[str, str, int] | None:
        """``(policy spec, backend family, seed)`` to build the shared policy, or None."""
        ...

    def with_policy(self, policy: Any) -> SynthTask:
        """A copy of the task whose searches ask ``policy`` (a picklable proxy)."""
        ...
