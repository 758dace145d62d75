"""The one job runner: every command (check, entail, prove, formalize, audit, eval) is a
:class:`~prover.records.job.Job` (the protocol, in :mod:`prover.records.job`) and this module
drives it.

The runner owns what every command shares: the run id (input digest + the job's settings;
``--limit`` is not a setting, so a trial with ``--limit`` and the full run are one run), resume
(keys already committed are skipped), input order, group commits to the job's sink (by default
:class:`prover.records.runs.ResumableRun`: the store and the ``--out`` file, its output-path
guard and locks; a job may bring its own, :meth:`Job.sink`), a group committed on a timer while
a slow batch runs (the pools report every ``job.group.max_s`` without a result and the sink's
``tick`` commits a group that old), progress, the executor (:class:`Serial` here, the local
worker pool or Ray through :class:`prover.records.executors.PoolExecutor`), one row's failure (any exception in
``process`` becomes that row's error; the run goes on), and SIGINT/SIGTERM (the run stops
within seconds, commits what is done and raises :class:`RunInterrupted` saying where it stopped
and how to resume).
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prover.records.executors import WORKER_MEM_GB
from prover.records.job import (
    Item,
    Job,
    Outcome,
    Rejection,
    Session,
    Sink,
    isolated,
    jsonl_rows,
    memory_rows,
    report_nothing,
)
from prover.records.runs import Progress, ResumableRun, make_run_id
from prover.records.signals import SignalGuard, Signalled, handle_signals, native_setup

__all__ = ["Item", "Job", "Outcome", "Rejection", "RunInterrupted", "RunSettings", "Serial",
           "Session", "Sink", "isolated", "jsonl_rows", "memory_rows", "run_job"]

Reporter = Callable[[str], None]
EXIT_SIGNAL_BASE = 128


class RunInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a run after committing what was done; ``message`` says where
    it stopped and how to resume, ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message

    @property
    def exit_code(self) -> int:
        return EXIT_SIGNAL_BASE + self.signum



ROW_TIMEOUT_S = 60.0
"""The default hard limit per row (seconds of wall time in the worker) of every command whose
rows run in a killable worker (check, entail, formalize). A row's Z3 work is bounded far below
it (``--solver-budget`` for check, each query's ``--timeout-ms`` and ``--rlimit``); this limit
is the kill path for what those cannot stop (a native hang that ignores its interrupt), so it
is generous: a loaded machine must not turn slow rows into timeouts."""


@dataclass
class RunSettings:
    """The options every command shares: outputs, resume, progress, limit, messages."""

    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    report: Reporter = field(default=report_nothing)
    #: further output files of the command, ``(flag, path)`` (e.g. ``--html``)
    outputs: Sequence[tuple[str, Path | None]] = ()
    #: handle SIGINT/SIGTERM (only possible in the main thread)
    handle_signals: bool = True
    #: worker processes (1: process here); more need a picklable job
    workers: int = 1
    #: memory cap per worker process (GiB) and time limit per batch on the pool (seconds)
    worker_mem_gb: float = WORKER_MEM_GB
    batch_timeout_s: float | None = 600.0
    #: run the batches on Ray actors (``workers`` of them; an existing cluster at
    #: ``ray_address``, else a local one)
    ray: bool = False
    ray_address: str | None = None
    #: run on the worker pool even with one worker (isolation, memory cap, time limit)
    pool: bool = False
    #: hard wall-clock limit per row on the pool (seconds; None: ``batch_timeout_s`` per
    #: batch): a pool batch may run ``row_timeout_s`` times its rows, then its worker's
    #: process group is killed and its rows fail with reason ``timeout``
    row_timeout_s: float | None = None
    #: Ray: serve the job's policy from one batching actor (None: for model policies only)
    shared_policy: bool | None = None
    #: Ray with a local cluster: the folder where the cluster is recorded, so the leftovers
    #: of a SIGKILLed run are reaped when it runs again (default: beside ``out``/``store``)
    ray_state_dir: Path | None = None

    def ray_record(self) -> tuple[Path, str] | None:
        """``(folder, file name)`` of the local Ray cluster's record (see
        :mod:`prover.synth.ray_local`), or None (an existing cluster, or no output to tie the
        record to: an in-memory run)."""
        if self.ray_address is not None:
            return None
        if self.ray_state_dir is not None:
            return self.ray_state_dir, ".ray-local.json"
        anchor = self.out if self.out is not None else self.store
        if anchor is None:
            return None
        return anchor.parent, f".{anchor.name}.ray-local.json"


def run_job(job: Job, settings: RunSettings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run (or resume) ``job``; returns ``(summary, results)`` over the first ``limit`` rows
    (all rows without a limit). Raises :class:`RunInterrupted` after committing what was done
    when SIGINT or SIGTERM arrives."""
    digest, config = job.identity()
    run_id = make_run_id(job.command, digest, config)
    run: Sink | None = job.sink(run_id, config, settings)
    if run is None:
        run = ResumableRun(run_id=run_id, command=job.command, config=config,
                           store_path=settings.store, out_path=settings.out,
                           fresh=settings.fresh, group=job.group, inputs=job.inputs(),
                           outputs=settings.outputs)
    run.guard()  # refuse an output that is an input or the store before anything starts
    try:
        job.start(run_id)  # models load here: a model that cannot load touches no output
        done = run.open()
    except BaseException:
        job.close()
        raise
    driver = _Driver(job, run, settings, done)
    if settings.workers > 1 or settings.ray or settings.pool:
        from prover.records.executors import PoolExecutor

        rows = max(1, job.batch_size)
        if settings.workers > 1:
            rows = max(rows, job.pool_batch_size)  # as :meth:`_Driver._batches` cuts them
        budget = settings.batch_timeout_s
        if settings.row_timeout_s is not None:
            budget = settings.row_timeout_s * rows
        elif job.item_budget_s is not None:
            budget = job.item_budget_s * max(job.batch_size, job.pool_batch_size) * 2 + 60
        driver.executor = PoolExecutor(settings.workers, run_id=run_id, batch_timeout_s=budget,
                                       mem_gb=settings.worker_mem_gb, ray=settings.ray,
                                       address=settings.ray_address,
                                       shared_policy=settings.shared_policy,
                                       record=settings.ray_record() if settings.ray else None)
    stopped: Signalled | None = None
    try:
        with handle_signals(settings.handle_signals) as guard:
            driver.guard = guard
            native_setup()
            try:
                driver.drive()
            except KeyboardInterrupt as exc:
                stopped = guard.stop(exc)
                if stopped is None:
                    raise
    finally:
        note = driver.stop_note(stopped) if stopped is not None else None
        try:
            results = run.finish(driver.progress, finished=driver.complete, stop_note=note)
        finally:
            job.close()
    if stopped is not None:
        assert note is not None
        raise RunInterrupted(stopped.signum, note)
    keys = driver.keys
    session = Session(run_id=run_id, resumed=run.resumed, new_items=driver.new_items,
                      wall_s=time.perf_counter() - driver.start, limit=settings.limit,
                      complete=driver.complete, stages=driver.stages, stats=driver.stats,
                      executor=driver.executor.describe())
    session.run_wall_s = driver.run_wall_s if settings.store is not None else None
    if settings.limit is not None:
        results = [r for r in results if str(r.get("key")) in keys]
    return job.summarize(results, session), results


class _Driver:
    """The loop of one session: read, skip done keys, batch, process, commit in order."""

    def __init__(self, job: Job, run: Sink, settings: RunSettings,
                 done: set[str]) -> None:
        self.job = job
        self.run = run
        self.settings = settings
        self.done = done
        self.keys: set[str] = set()
        self.new_items = 0
        self.complete = False
        self.start = time.perf_counter()
        self.run_wall_s = 0.0
        self.stages = {"read": 0.0, "commit": 0.0}
        self.guard: SignalGuard | None = None
        self.last_key: str | None = None
        self.cut = False
        self.seen = 0
        self.skipped = 0
        self.stats: dict[str, float] = {}
        self.accepts_prepared = bool(getattr(run, "accepts_prepared", False))
        self.executor: Any = Serial()
        total = job.total()
        if settings.limit is not None:
            total = settings.limit if total is None else min(total, settings.limit)
        self.total = total or 0
        self.progress = Progress(self.total, job.command, settings.progress,
                                 item_budget_s=job.item_budget_s, workers=settings.workers,
                                 initial=len(done) if settings.limit is None else 0)

    def drive(self) -> None:
        """Feed batches to the executor and commit what comes back, rejections in between,
        all in input order."""
        pending: deque[Rejection | list[Item]] = deque()  # read, not committed, in order
        executor = self.executor
        tick = getattr(self.run, "tick", None)
        for entry in executor.run(self.job, self._batches(pending),
                                  tick_s=self.job.group.max_s or None):
            if self.guard is not None:
                self.guard.reinstate()  # a library the batch started may have replaced them
            if entry is None:  # time passed without a result: commit a group that is due
                if tick is not None:
                    with self.guard.deferred() if self.guard is not None else _nothing():
                        tick()
                continue
            batch, outcomes = entry
            while pending and isinstance(pending[0], Rejection):
                self._reject(pending.popleft())  # type: ignore[arg-type]
            assert pending and pending[0] is batch
            pending.popleft()
            self._commit_batch(batch, outcomes)
        while pending:
            entry = pending.popleft()
            assert isinstance(entry, Rejection)
            self._reject(entry)
        with self.guard.deferred() if self.guard is not None else _nothing():
            self.run.flush()
        self.run_wall_s = self.run.wall_s()
        self.complete = not self.cut

    def _batches(self, pending: deque[Rejection | list[Item]]) -> Iterator[list[Item]]:
        """The batches to process (rows not done yet, ``batch_size`` at a time); rejections
        go to ``pending`` in input order, and so does every batch before it is handed out."""
        batch: list[Item] = []
        seen = 0
        limit = self.settings.limit
        size = max(1, self.job.batch_size)
        if self.executor.workers > 1:
            size = max(size, self.job.pool_batch_size)
        source = iter(self.job.read())
        while True:
            began = time.perf_counter()
            entry = next(source, None)
            self.stages["read"] += time.perf_counter() - began
            if entry is None:
                break
            if limit is not None and seen >= limit:
                self.cut = True  # more rows than the limit: the run is not complete
                break
            seen += 1
            self.seen = seen
            self.keys.add(entry.key)
            if entry.key in self.done:
                self.skipped += 1
                self.progress.update(self.seen_done())
                continue
            if isinstance(entry, Rejection):
                if batch:
                    pending.append(batch)
                    yield batch
                    batch = []
                pending.append(entry)
                continue
            batch.append(entry)
            if len(batch) >= size:
                pending.append(batch)
                yield batch
                batch = []
        if batch:
            pending.append(batch)
            yield batch

    def _reject(self, entry: Rejection) -> None:
        where = f"{self.job.source}:{entry.line}" if entry.line else self.job.source
        self.settings.report(f"{where}: {entry.message}")
        self._commit(entry.key, entry.seq, Outcome(self.job.rejected(entry)))

    def _commit_batch(self, batch: list[Item], outcomes: list[Outcome]) -> None:
        for item, outcome in zip(batch, outcomes, strict=True):
            if outcome.report:
                where = f"{self.job.source}:{item.line}" if item.line else self.job.source
                self.settings.report(f"{where}: {outcome.report}")
            for name, value in outcome.stats.items():
                self.stats[name] = self.stats.get(name, 0.0) + value
            self._commit(item.key, item.seq, outcome)
        if self.job.commit_each_batch:
            with self.guard.deferred() if self.guard is not None else _nothing():
                self.run.flush()
        note = getattr(self.run, "progress_note", None)  # a sink's own counts, if it has any
        self.progress.update(self.seen_done(), note() if note is not None else "")

    def seen_done(self) -> int:
        """Rows of this run's range that are done (earlier sessions and this one)."""
        return self.skipped + self.new_items

    def _commit(self, key: str, seq: int, outcome: Outcome) -> None:
        began = time.perf_counter()
        assert self.guard is not None
        with self.guard.deferred():  # a signal waits until the commit is whole
            if outcome.prepared is not None and self.accepts_prepared:
                self.run.commit(key, seq, outcome.result, prepared=outcome.prepared)
            elif outcome.result is None:  # rows without a result for a sink that needs one
                raise TypeError(f"{self.job.command}: an outcome came as store rows only, but "
                                f"its sink {type(self.run).__name__} does not take them")
            else:
                self.run.commit(key, seq, outcome.result, graph=outcome.graph,
                                root=outcome.root, verdicts=outcome.verdicts)
        self.stages["commit"] += time.perf_counter() - began
        self.new_items += 1
        self.last_key = key

    def stop_note(self, sig: Signalled) -> str:
        name = signal.Signals(sig.signum).name
        done = self.skipped + self.new_items
        of = f" of {self.total}" if self.total else ""
        last = f", the last one key {self.last_key}" if self.last_key is not None else ""
        return (f"stopped by {name}: {done}{of} rows done and saved ({self.new_items} this "
                f"session{last}); run the same command again to resume")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class Serial:
    """Process each batch in this process, one after the other (the executor unless
    ``RunSettings.pool``, ``workers`` > 1 or ``ray``). It has no hard time limit: a native hang
    that ignores its interrupt stops the run, so ``check`` and ``entail`` run their rows on one
    killable pool worker by default (:func:`proofgraph.jobs.check_settings`,
    :func:`proofgraph.entail_job.entail_settings`) and come here only with
    ``--in-process`` (tests, library calls that want no process start)."""

    workers = 1

    def describe(self) -> dict[str, Any]:
        """What ran the batches, for :attr:`Session.executor`."""
        return {"name": "serial", "workers": 1}

    def run(self, job: Job, batches: Iterable[list[Item]], tick_s: float | None = None
            ) -> Iterator[tuple[list[Item], list[Outcome]] | None]:
        """Each batch's outcomes, in order (never a tick: nothing runs in the background)."""
        for batch in batches:
            native_setup()
            yield batch, isolated(job, batch)
