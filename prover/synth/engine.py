"""Running a synth task end to end: resumable run, executor, group commits, shards, summary.

The run's identity and items come from :class:`prover.synth.job.SynthJob` (the runner's job
protocol); this module drives them itself because the runner cannot yet commit into synth's
store tables and shards (see that module). ``run_synth`` refuses an input inside ``out`` or
equal to the store (:func:`guard_paths`), and is exactly-once under SIGKILL: the run id is
derived from the task, its config and the input file's digest; the store records finished items with their rows in groups (one
transaction per group, bounded by ``group_items`` and ``group_s``: a kill loses at most the
open group, which the restart recomputes); a restart with the same arguments skips committed
items, retries those that failed for an infrastructure reason (all failed ones with
``retry_failed``) and reconciles shards and manifest with the store. Only this process writes;
workers compute, including the rows' hashes and canonical JSON. ``commit_s`` in the summary is
the time spent on the commit path (store transaction, shard and manifest writes).

The summary's ``status``: ``failed`` when items were run and none succeeded, ``incomplete``
when some failed for an infrastructure reason (a rerun retries them), else ``complete``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from prover.records.files import OutputPathError, guard_outputs
from prover.records.job import report_nothing
from prover.records.runs import Progress, RunConflict, make_run_id
from prover.synth.executor import Done, LocalPool, PoolOptions
from prover.synth.item import SynthItem
from prover.synth.job import SynthInputError, SynthJob
from prover.synth.runstate import Outcome, SynthRunState, config_diff
from prover.synth.shards import MANIFEST, ShardSet
from prover.synth.task import SynthTask

__all__ = ["SynthInputError", "SynthOptions", "guard_paths", "run_status", "run_synth"]

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


def _scan(job: SynthJob, limit: int | None) -> list[str]:
    """The keys of the run's items in input order (the first ``limit``); duplicates raise."""
    return [item.key for item in islice(job.read(), limit)]


def _pending(job: SynthJob, count: int, done: set[str]) -> Iterator[tuple[int, str, dict]]:
    """``(seq, key, payload)`` of the first ``count`` items that are not committed yet."""
    for item in islice(job.read(), count):
        if item.key not in done:
            yield item.seq, item.key, item.payload


def _executor(fn: SynthItem, opts: SynthOptions) -> Any:
    pool = PoolOptions(workers=opts.n_workers, mem_gb=opts.worker_mem_gb,
                       item_timeout_s=opts.item_timeout_s)
    if opts.ray or opts.ray_address:
        from prover.synth.ray_exec import RayPool

        return RayPool(fn, pool, address=opts.ray_address, shared_policy=opts.shared_policy,
                       state_dir=opts.out)
    return LocalPool(fn, pool)


def run_status(counts: dict[str, Any]) -> str:
    """``failed`` (items but none ok), ``incomplete`` (infra failures left) or ``complete``."""
    if counts["items"] and not counts["ok"]:
        return "failed"
    if counts.get("failed_by_kind", {}).get("infra"):
        return "incomplete"
    return "complete"


def _check_manifest_owner(out: Path, run_id: str, config: dict[str, Any], fresh: bool) -> None:
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


def guard_paths(input_path: Path, opts: SynthOptions) -> None:
    """Refuse (:class:`OutputPathError`, one line) an input inside the output folder (synth
    writes, replaces and deletes files there) or an input that is the store."""
    source, out = input_path.expanduser().resolve(), opts.out.expanduser().resolve()
    if source == out or out in source.parents:
        raise OutputPathError(
            f"--out {opts.out} contains the input file {input_path}; synth writes and deletes "
            "files in its output folder: choose an --out folder that does not hold the input")
    guard_outputs([("--store", opts.store_path)], [("input", input_path)])


def run_synth(task: SynthTask, input_path: Path, opts: SynthOptions) -> dict[str, Any]:
    """Run (or resume) ``task`` over its items into ``opts.out``; returns the summary, which is
    also the ``summary`` of the final manifest. Raises :class:`OutputPathError` before touching
    anything when the input is inside ``opts.out`` or is the store."""
    guard_paths(input_path, opts)
    job = SynthJob(task, input_path)
    digest, config = job.identity()
    run_id = make_run_id(job.command, digest, config)
    if opts.shard_rows < 1:
        raise ValueError("shard_rows must be >= 1")
    if opts.group_items < 1 or not opts.group_s > 0:
        raise ValueError("group_items must be >= 1 and group_s > 0")
    opts.out.mkdir(parents=True, exist_ok=True)
    state = SynthRunState(opts.store_path, run_id, task.name, config)
    finished = False
    try:
        done = state.open(fresh=opts.fresh, retry_failed=opts.retry_failed)
        _check_manifest_owner(opts.out, run_id, config, opts.fresh)
        header = {"run_id": run_id, "task": task.name, "config": config,
                  "input": {"path": str(input_path), "sha256": digest}}
        shards = ShardSet(opts.out, state, shard_rows=opts.shard_rows, parquet=opts.parquet,
                          header=header)
        shards.reconcile()
        keys = _scan(job, opts.limit)
        done_here = len(done.intersection(keys))
        job.start(run_id)
        assert job.item_fn is not None
        executor = _executor(job.item_fn, opts)
        summary = _drive(job, state, shards, executor, keys, done, done_here, opts)
        summary["executor"] = (f"{'ray' if opts.ray or opts.ray_address else 'local'}:"
                               f"{opts.n_workers}")
        if getattr(executor, "policy_stats", None):
            summary["policy_service"] = executor.policy_stats
        if getattr(executor, "reaped", None):
            summary["ray_leftovers_killed"] = len(executor.reaped)
        shards.finish(summary)
        summary["shards"] = len(shards.shards)
        finished = True
        return summary
    finally:
        state.close(finished=finished)


def _drive(job: SynthJob, state: SynthRunState, shards: ShardSet, executor: Any,
           keys: list[str], done: set[str], done_here: int,
           opts: SynthOptions) -> dict[str, Any]:
    """Feed pending items to the executor and commit the results in groups."""
    task = job.task
    progress = Progress(len(keys), f"synth {task.name}", opts.progress, initial=done_here)
    start = time.perf_counter()
    commit_s = 0.0
    new_items = new_rows = ok = failed = 0
    group: list[Outcome] = []
    opened = 0.0
    first: float | None = None  # when the first result arrived (start-up: workers, Ray)

    def commit() -> None:
        nonlocal commit_s, new_rows, group
        began = time.perf_counter()
        new_rows += sum(state.commit(group))
        shards.flush()
        group = []
        commit_s += time.perf_counter() - began

    results = executor.run(_pending(job, len(keys), done), tick_s=opts.group_s)
    try:
        for item in results:
            if item is not None:
                if first is None:
                    first = time.perf_counter()
                if not group:
                    opened = time.monotonic()
                group.append(_outcome(item, opts.report))
                new_items += 1
                ok, failed = ok + item.output.ok, failed + (not item.output.ok)
                progress.update(done_here + new_items,
                                f"ok {ok} failed {failed} rows {state.row_count}")
            if group and (len(group) >= opts.group_items
                          or time.monotonic() - opened >= opts.group_s):
                commit()
        if group:
            commit()
    finally:
        if group:  # stopped early (Ctrl-C, an executor error): keep what is done
            try:
                commit()
            except Exception as err:  # the store itself failed: the rerun redoes the group
                opts.report(f"could not commit the last {len(group)} items: {err}")
        results.close()
        progress.finish()
    wall = time.perf_counter() - start
    counts = state.counts()
    return {"run_id": state.run_id, "task": task.name, "resumed": state.resumed,
            "status": run_status(counts), **counts, "items_total": len(keys),
            "items_retried": state.retrying, "items_this_session": new_items,
            "rows_this_session": new_rows, "wall_s": round(wall, 3),
            "items_per_s": round(new_items / wall, 3) if wall > 0 else None,
            "rows_per_s": round(new_rows / wall, 2) if wall > 0 else None,
            "startup_s": round((first or start) - start, 3),
            "commit_s": round(commit_s, 3),
            "commit_share": round(commit_s / wall, 4) if wall > 0 else None,
            "out": str(opts.out), "store": str(opts.store_path)}


def _outcome(item: Done, report: Reporter) -> Outcome:
    """What to commit for one finished item (a failure's diagnostic goes to ``report``)."""
    output = item.output
    if item.detail:
        report(f"item {item.key}: {output.reason}: {item.detail.strip()}")
    reason = output.reason if output.ok else (output.reason or "failed")
    return Outcome(item.key, item.seq, output.ok, reason, output.failure_kind,
                   list(output.finished or []))
