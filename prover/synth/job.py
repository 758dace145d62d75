"""A synth task as a job of the runner's protocol (:class:`prover.records.job.Job`).

:class:`SynthJob` is what names a synth run and lists its items, for the synth engine
(:func:`prover.synth.engine.run_synth`) and for :func:`prover.records.runner.run_job` alike:
``identity()`` is ``(sha256 of the input file, the task's config)`` and ``command`` is
``synth-<task>``, so the run id is the one synth runs always had; ``read()`` yields one
:class:`Item` per task item (key = the task's stable key, ``seq`` = input position) and raises
:class:`SynthInputError` on a non-string or repeated key; ``start(run_id)`` builds the picklable
item function (:class:`prover.synth.item.SynthItem`) the pools run; ``process(batch)`` runs it
in this process, one :class:`Outcome` per item whose result is :func:`result_of` the task's
output; ``summarize`` counts those results.

What the engine still does itself (the runner's driver cannot yet): commit into
:class:`prover.synth.runstate.SynthRunState` and the shards instead of a ``ResumableRun``,
commit a group on a timer while items run, and pass Ray its cluster-reaping folder and
shared-policy actor.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prover.records.job import Item, Job, Outcome, Session
from prover.records.runs import file_digest
from prover.synth.item import SynthItem
from prover.synth.rows import run_provenance
from prover.synth.task import SynthTask, TaskOutput


class SynthInputError(ValueError):
    """The task's item list is unusable (duplicate keys, unreadable file)."""


def result_of(key: str, output: TaskOutput) -> dict[str, Any]:
    """The runner's result row of one finished synth item: key, ok, failure reason and kind,
    and the finished rows as ``[hash, kind, canonical JSON]``."""
    return {"id": key, "ok": output.ok, "reason": output.reason if output.ok else
            (output.reason or "failed"), "kind": output.failure_kind,
            "rows": [list(row) for row in output.finished or []]}


def _kind(result: dict[str, Any]) -> str:
    """A failed result's kind: the task's, else the runner's (``infra`` for a pool failure;
    an exception in ``process`` counts as ``content``)."""
    kind = result.get("kind") or (result.get("error_detail") or {}).get("kind")
    return "infra" if kind == "infra" else "content"


class SynthJob(Job):
    """``task`` over the items of ``input_path`` as a runner job; see the module docstring."""

    batch_size = 1
    pool_batch_size = 1  # synth's time limit is per item

    def __init__(self, task: SynthTask, input_path: Path) -> None:
        self.task = task
        self.input_path = input_path
        self.source = str(input_path)
        self.command = f"synth-{task.name}"
        self.config: dict[str, Any] = json.loads(json.dumps(task.config(), default=str))
        self.item_fn: SynthItem | None = None

    def identity(self) -> tuple[str, dict[str, Any]]:
        return file_digest(self.input_path), self.config

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("input", self.input_path)]

    def start(self, run_id: str) -> None:
        """Build the item function; every row it finishes carries this run's provenance."""
        self.item_fn = SynthItem(self.task, run_provenance(run_id, self.task.name, self.config))

    def read(self) -> Iterator[Item]:
        """One item per task item, in input order; a non-string or repeated key raises
        :class:`SynthInputError` (keys name items across runs, so they must be unique)."""
        seen: set[str] = set()
        for seq, (key, payload) in enumerate(self.task.items()):
            if not isinstance(key, str):
                raise SynthInputError(f"task {self.task.name!r} gave a non-string item key "
                                      f"{key!r}")
            if key in seen:
                raise SynthInputError(f"task {self.task.name!r}: item key {key!r} occurs twice "
                                      "in the input; keys must be unique")
            seen.add(key)
            yield Item(key, seq, payload, key)

    def process(self, batch: list[Item]) -> list[Outcome]:
        if self.item_fn is None:
            raise RuntimeError("SynthJob.process before start()")
        outcomes = []
        for item in batch:
            output, detail = self.item_fn(item.key, item.payload)
            report = f"item {item.key}: {output.reason}: {detail.strip()}" if detail else None
            outcomes.append(Outcome(result_of(item.key, output), report=report))
        return outcomes

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        """Items, ok, failures by reason and kind, and rows by kind (duplicates counted)."""
        failed = [r for r in results if not r.get("ok")]
        return {"run_id": session.run_id, "task": self.task.name, "items": len(results),
                "ok": len(results) - len(failed), "failed": len(failed),
                "failed_by_reason": dict(Counter(str(r.get("reason")) for r in failed)),
                "failed_by_kind": dict(Counter(_kind(r) for r in failed)),
                "rows_by_kind": dict(Counter(row[1] for r in results
                                             for row in r.get("rows") or []))}
