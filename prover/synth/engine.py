"""Running a synth task end to end: ``run_synth`` = the job runner over :class:`SynthJob`.

A synth run is a job of the one job runner (:func:`prover.records.runner.run_job`): its items,
run id and item function come from :class:`prover.synth.job.SynthJob`, and its outputs from
synth's sink (:class:`prover.synth.sink.SynthSink`); the runner drives it (resume, order,
executor, group commits on count and on a timer, progress, SIGINT/SIGTERM). What is synth's
own lives here: the options, the path guard and the final shard and manifest.

``run_synth`` refuses an input inside ``out`` or equal to the store (:func:`guard_paths`) and
a task whose item keys are not unique (before anything is written), and is exactly-once under
SIGKILL: the run id is derived from the task, its config and the input file's digest; the
store records finished items with their rows in groups (one transaction per group, bounded by
``group_items`` and ``group_s``: a kill loses at most the open group and the results waiting
behind a slower earlier item, which the restart recomputes); a restart with the same
arguments skips committed items, retries those that failed for an infrastructure reason (all
failed ones with ``retry_failed``) and reconciles shards and manifest with the store. Only
this process writes; workers compute, including the rows' hashes and canonical JSON.
``commit_s`` in the summary is the time spent on the commit path (store transaction, shard
and manifest writes). Items are committed in input order.

The summary's ``status``: ``failed`` when items were run and none succeeded, ``incomplete``
when some failed for an infrastructure reason (a rerun retries them), else ``complete``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prover.records.files import OutputPathError, guard_outputs
from prover.records.job import report_nothing
from prover.records.runner import RunSettings, run_job
from prover.synth.job import SynthInputError, SynthJob, run_status
from prover.synth.task import SynthTask

__all__ = ["TASK_MODULES", "SynthInputError", "SynthOptions", "early_workers", "guard_paths",
           "run_status", "run_synth"]

Reporter = Callable[[str], None]


@dataclass
class SynthOptions:
    """Where a synth run writes and how it executes; only the task's config names the run."""

    out: Path
    store: Path | None = None  # default: OUT/synth.sqlite
    workers: int | None = None  # default: os.cpu_count()
    ray: bool = False
    ray_address: str | None = None
    shared_policy: bool | None = None  # Ray: serve the policy from one actor (None: LLMs only)
    shard_rows: int = 10_000
    limit: int | None = None
    fresh: bool = False
    retry_failed: bool = False  # also retry items that failed for a content reason
    progress: bool | None = None
    parquet: bool = True
    worker_mem_gb: float = 8.0
    item_timeout_s: float | None = 600.0
    group_items: int = 64  # group commit: at most this many items per transaction
    group_s: float = 1.0  # ... and an open group is committed after this many seconds
    report: Reporter = field(default=report_nothing)

    @property
    def store_path(self) -> Path:
        return self.store if self.store is not None else self.out / "synth.sqlite"

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


def guard_paths(input_path: Path, opts: SynthOptions) -> None:
    """Refuse (:class:`OutputPathError`, one line) an input inside the output folder (synth
    writes, replaces and deletes files there) or an input that is the store."""
    source, out = input_path.expanduser().resolve(), opts.out.expanduser().resolve()
    if source == out or out in source.parents:
        raise OutputPathError(
            f"--out {opts.out} contains the input file {input_path}; synth writes and deletes "
            "files in its output folder: choose an --out folder that does not hold the input")
    guard_outputs([("--store", opts.store_path)], [("input", input_path)])


#: the module of each built-in task (what a worker started ahead imports and warms up)
TASK_MODULES = {"steps": "formalizer.synth_steps", "proofs": "prover.synth.proofs",
                "mutate": "prover.synth.mutate"}


def early_workers(opts: SynthOptions, module: str | None) -> AbstractContextManager[None]:
    """Start the local pool's workers now (:func:`prover.synth.executor.prestarted`, importing
    and warming ``module``) so that their start-up overlaps the set-up before the pool
    starts; nothing on Ray (its actors start with the cluster)."""
    if opts.ray or opts.ray_address is not None:
        return nullcontext()
    from prover.synth.executor import prestarted

    return prestarted(opts.n_workers, opts.worker_mem_gb, [module] if module else [])


def run_synth(task: SynthTask, input_path: Path, opts: SynthOptions) -> dict[str, Any]:
    """Run (or resume) ``task`` over its items into ``opts.out``; returns the summary, which is
    also the ``summary`` of the final manifest. Raises :class:`OutputPathError` before touching
    anything when the input is inside ``opts.out`` or is the store, :class:`SynthInputError`
    when item keys repeat, and :class:`prover.records.runner.RunInterrupted` after committing
    what was done when SIGINT or SIGTERM arrives."""
    with early_workers(opts, type(task).__module__):
        return _run_synth(task, input_path, opts)


def _run_synth(task: SynthTask, input_path: Path, opts: SynthOptions) -> dict[str, Any]:
    guard_paths(input_path, opts)
    if opts.shard_rows < 1:
        raise ValueError("shard_rows must be >= 1")
    if opts.group_items < 1 or not opts.group_s > 0:
        raise ValueError("group_items must be >= 1 and group_s > 0")
    job = SynthJob(task, input_path, opts)
    job.keys()  # unusable keys stop the run before anything is written
    ray = opts.ray or opts.ray_address is not None
    settings = RunSettings(progress=opts.progress, limit=opts.limit, report=opts.report,
                           workers=opts.n_workers, pool=True, worker_mem_gb=opts.worker_mem_gb,
                           batch_timeout_s=opts.item_timeout_s, ray=ray,
                           ray_address=opts.ray_address, shared_policy=opts.shared_policy,
                           ray_state_dir=opts.out)
    finished = False
    try:
        summary, _ = run_job(job, settings)
        sink = job.synth_sink
        assert sink is not None
        shards = sink.write_final(summary)  # the manifest's summary: without the shard count
        summary["shards"] = shards
        finished = True
        return summary
    finally:
        if job.synth_sink is not None:
            job.synth_sink.close(finished=finished)
