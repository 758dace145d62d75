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

With synth's options (``SynthJob(task, path, options)``, as :func:`prover.synth.engine.run_synth`
builds it) the job brings its own sink (:class:`prover.synth.sink.SynthSink`: group commits into
the store's synth tables, dedup, shards, manifest) and summarizes from the store; a pool's
failure (``timeout``, ``worker-died``) is a failed item of kind ``infra`` with that reason, and
the job can hand its policy to a shared Ray actor (``policy_service`` / ``with_policy``).
Without options it writes the runner's ordinary result rows (store / ``--out`` file).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prover.records.job import Item, Job, Outcome, Session
from prover.records.runs import GroupPolicy, file_digest
from prover.synth.item import SynthItem
from prover.synth.rows import run_provenance
from prover.synth.task import SynthTask, TaskOutput

if TYPE_CHECKING:
    from prover.synth.engine import SynthOptions
    from prover.synth.sink import SynthSink


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


def run_status(counts: dict[str, Any]) -> str:
    """``failed`` (items but none ok), ``incomplete`` (infra failures left) or ``complete``."""
    if counts["items"] and not counts["ok"]:
        return "failed"
    if counts.get("failed_by_kind", {}).get("infra"):
        return "incomplete"
    return "complete"


class SynthJob(Job):
    """``task`` over the items of ``input_path`` as a runner job; see the module docstring."""

    batch_size = 1
    pool_batch_size = 1  # synth's time limit is per item

    def __init__(self, task: SynthTask, input_path: Path,
                 options: SynthOptions | None = None) -> None:
        self.task = task
        self.input_path = input_path
        self.source = str(input_path)
        self.command = f"synth-{task.name}"
        self.config: dict[str, Any] = json.loads(json.dumps(task.config(), default=str))
        self.item_fn: SynthItem | None = None
        self.options = options
        self.synth_sink: SynthSink | None = None
        self._keys: list[str] | None = None
        if options is not None:
            self.group = GroupPolicy(options.group_items, options.group_s)

    def __getstate__(self) -> dict[str, Any]:
        """What a worker gets: no options (their reporter may be a closure) and no sink (it
        holds the store); workers only compute."""
        return {**self.__dict__, "options": None, "synth_sink": None, "_keys": None}

    def keys(self) -> list[str]:
        """The keys of the run's items in input order (the first ``options.limit``); a
        non-string or repeated key raises :class:`SynthInputError` before anything runs."""
        if self._keys is None:
            limit = self.options.limit if self.options is not None else None
            self._keys = [item.key for item in islice(self.read(), limit)]
        return self._keys

    def total(self) -> int | None:
        return len(self.keys())

    def sink(self, run_id: str, config: dict[str, Any], settings: Any) -> SynthSink | None:
        """With synth's options: the store tables, shards and manifest under ``out``."""
        if self.options is None:
            return None
        from prover.synth.sink import SynthSink

        header = {"run_id": run_id, "task": self.task.name, "config": config,
                  "input": {"path": str(self.input_path),
                            "sha256": file_digest(self.input_path)}}
        self.synth_sink = SynthSink(self.options, run_id, self.task.name, config, header)
        return self.synth_sink

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

    def failed(self, item: Item, err: Exception) -> dict[str, Any]:
        """A bug outside the task (the task's own exceptions are caught by
        :func:`prover.synth.item.run_item`): a failed item of kind ``content``."""
        return result_of(item.key, TaskOutput([], ok=False, kind="content",
                                              reason=f"exception: {type(err).__name__}"))

    def infra_failed(self, item: Item, reason: str | None, message: str) -> Outcome:
        """The pool failed the item (``timeout``, ``worker-died``): kind ``infra``, kept by
        reason, retried when the run resumes."""
        reason = reason or "failed"
        output = TaskOutput([], ok=False, reason=reason, kind="infra")
        said = message if message.startswith(reason) else f"{reason}: {message}"
        return Outcome(result_of(item.key, output), report=f"item {item.key}: {said}")

    # -- a shared policy (Ray): the item function's, see prover.synth.item.SynthItem
    def policy_service(self) -> tuple[str, str, int] | None:
        """The task's shared-policy spec, if it has one."""
        spec = getattr(self.task, "policy_service", None)
        return spec() if spec is not None else None

    def with_policy(self, policy: Any) -> SynthJob:
        """This job over a copy of the task that asks ``policy``."""
        job = SynthJob.__new__(SynthJob)
        job.__dict__.update(self.__getstate__())
        job.task = self.task.with_policy(policy)  # type: ignore[attr-defined]
        job.item_fn = None
        return job

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        """Items, ok, failures by reason and kind, and rows by kind: from the store with
        synth's sink (the summary synth always printed), else from ``results`` (duplicates
        counted)."""
        if self.synth_sink is not None:
            return self._store_summary(self.synth_sink, session)
        failed = [r for r in results if not r.get("ok")]
        return {"run_id": session.run_id, "task": self.task.name, "items": len(results),
                "ok": len(results) - len(failed), "failed": len(failed),
                "failed_by_reason": dict(Counter(str(r.get("reason")) for r in failed)),
                "failed_by_kind": dict(Counter(_kind(r) for r in failed)),
                "rows_by_kind": dict(Counter(row[1] for r in results
                                             for row in r.get("rows") or []))}

    def _store_summary(self, sink: SynthSink, session: Session) -> dict[str, Any]:
        assert sink.state is not None and self.options is not None
        counts = sink.state.counts()
        wall, new = session.wall_s, session.new_items
        start = sink.started
        info = session.executor
        summary: dict[str, Any] = {
            "run_id": session.run_id, "task": self.task.name, "resumed": sink.resumed,
            "status": run_status(counts), **counts, "items_total": len(self.keys()),
            "items_retried": sink.state.retrying, "items_this_session": new,
            "rows_this_session": sink.new_rows, "wall_s": round(wall, 3),
            "items_per_s": round(new / wall, 3) if wall > 0 else None,
            "rows_per_s": round(sink.new_rows / wall, 2) if wall > 0 else None,
            "startup_s": round((sink.first or start) - start, 3),
            "commit_s": round(sink.commit_s, 3),
            "commit_share": round(sink.commit_s / wall, 4) if wall > 0 else None,
            "out": str(self.options.out), "store": str(self.options.store_path),
            "executor": f"{info.get('name', 'local')}:{info.get('workers', 1)}"}
        if info.get("policy_stats"):
            summary["policy_service"] = info["policy_stats"]
        if info.get("reaped"):
            summary["ray_leftovers_killed"] = info["reaped"]
        return summary
