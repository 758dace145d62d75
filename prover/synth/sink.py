"""Synth's sink for the job runner: group commits into the store's synth tables, then shards.

:class:`SynthSink` implements :class:`prover.records.job.Sink` for
:class:`prover.synth.job.SynthJob`: ``open`` opens (or resumes) the run in the store
(:class:`prover.synth.runstate.SynthRunState`: done keys, infra failures retried), refuses an
output folder whose manifest belongs to another run and reconciles the shards with the store;
``commit`` adds a finished item to the open group, which is committed in ONE transaction when
it holds ``group_items`` items or is ``group_s`` seconds old (``tick`` commits an old group
while a slow item runs), and every newly full shard is written after it; ``finish`` commits the
open group. The final shard and manifest (whose ``summary`` is the job's summary) are written by
:meth:`write_final` once the summary is known, and :meth:`close` closes the store. Only the
runner's process writes; ``commit_s`` is the time on this commit path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prover.records.runs import Progress, RunConflict
from prover.synth.runstate import Outcome, SynthRunState, config_diff
from prover.synth.shards import MANIFEST, ShardSet

if TYPE_CHECKING:
    from prover.synth.engine import SynthOptions


def check_manifest_owner(out: Path, run_id: str, config: dict[str, Any], fresh: bool) -> None:
    """Refuse an output folder whose manifest belongs to another run (unless ``fresh``)."""
    path = out / MANIFEST
    if fresh or not path.is_file():
        return
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        owner = manifest.get("run_id")
    except (OSError, ValueError, AttributeError):
        return  # not a manifest we can read: reconcile replaces it
    if owner not in (None, run_id):
        differs = config_diff(manifest.get("config"), config)
        raise RunConflict(f"{out} holds the output of synth run {owner} (differs in: "
                          f"{', '.join(differs) or 'input file'}); use another --out, or "
                          "--fresh to replace it")


class SynthSink:
    """One synth run's store tables and shards as the runner's sink; see the module docstring."""

    def __init__(self, opts: SynthOptions, run_id: str, task: str, config: dict[str, Any],
                 header: dict[str, Any]) -> None:
        self.opts = opts
        self.run_id = run_id
        self.task = task
        self.config = config
        self.header = header
        self.state: SynthRunState | None = None
        self.shards: ShardSet | None = None
        self.group: list[Outcome] = []
        self.opened = 0.0  # when the open group's first item arrived (monotonic)
        self.started = time.perf_counter()
        self.first: float | None = None  # when the first result arrived (start-up before)
        self.commit_s = 0.0
        self.new_rows = 0
        self.ok = 0
        self.failed = 0

    @property
    def resumed(self) -> bool:
        return self.state.resumed if self.state is not None else False

    def guard(self) -> None:
        """Nothing: :func:`prover.synth.engine.guard_paths` ran before the job was built."""

    def open(self) -> set[str]:
        """Open or resume the run; the keys of the items that are done."""
        opts = self.opts
        opts.out.mkdir(parents=True, exist_ok=True)
        self.state = SynthRunState(opts.store_path, self.run_id, self.task, self.config)
        done = self.state.open(fresh=opts.fresh, retry_failed=opts.retry_failed)
        check_manifest_owner(opts.out, self.run_id, self.config, opts.fresh)
        self.shards = ShardSet(opts.out, self.state, shard_rows=opts.shard_rows,
                               parquet=opts.parquet, header=self.header)
        self.shards.reconcile()
        self.started = time.perf_counter()
        return done

    def commit(self, key: str, seq: int, result: dict[str, Any], *, graph: Any = None,
               root: str | None = None, verdicts: Iterable[Any] = ()) -> None:
        """Add one finished item (a :func:`prover.synth.job.result_of` row) to the open group;
        the group is committed when full or old enough."""
        if self.first is None:
            self.first = time.perf_counter()
        if not self.group:
            self.opened = time.monotonic()
        ok = bool(result.get("ok"))
        self.ok, self.failed = self.ok + ok, self.failed + (not ok)
        self.group.append(Outcome(key, seq, ok, result.get("reason"), result.get("kind"),
                                  [(h, k, text) for h, k, text in result.get("rows") or []]))
        if len(self.group) >= self.opts.group_items or self._due():
            self.flush()

    def _due(self) -> bool:
        return bool(self.group) and time.monotonic() - self.opened >= self.opts.group_s

    def tick(self) -> None:
        """Time passed without a result: commit the open group if it is old enough."""
        if self._due():
            self.flush()

    def flush(self) -> None:
        """Commit the open group in one transaction, then write newly full shards."""
        if not self.group:
            return
        assert self.state is not None and self.shards is not None
        began = time.perf_counter()
        group, self.group = self.group, []
        self.new_rows += sum(self.state.commit(group))
        self.shards.flush()
        self.commit_s += time.perf_counter() - began

    def wall_s(self) -> float:
        return time.perf_counter() - self.started

    def progress_note(self) -> str:
        """The progress line's extra: items ok and failed, rows committed."""
        rows = self.state.row_count if self.state is not None else 0
        return f"ok {self.ok} failed {self.failed} rows {rows}"

    def finish(self, progress: Progress | None, *, finished: bool,
               stop_note: str | None = None) -> list[dict[str, Any]]:
        """Commit the open group and end the progress line. The results stay in the store
        (the summary reads its counts), so none are returned."""
        try:
            self.flush()
        finally:
            if progress is not None:
                progress.finish()
        return []

    def write_final(self, summary: dict[str, Any]) -> int:
        """Write the last shard and the final manifest carrying ``summary``; the shard count."""
        assert self.shards is not None
        self.shards.finish(summary)
        return len(self.shards.shards)

    def close(self, *, finished: bool) -> None:
        """Close the store (the run marked finished when ``finished``)."""
        if self.state is not None:
            self.state.close(finished=finished)
            self.state = None
