"""The one job runner: every command (check, entail, prove, formalize; synth and audit next) is
a :class:`Job` and this module runs it.

A job says what its items are and how to process them: ``read() -> Item | Rejection``,
``process(batch) -> Outcome per item``, ``summarize(results, session)``. The runner owns the
rest, the same for every command: the run id (input digest + the job's settings; ``--limit``
is not a setting, so a trial with ``--limit`` and the full run are one run), resume (keys
already committed are skipped), input order, group commits to the store and the ``--out`` file
(:class:`prover.runs.ResumableRun`), the output-path guard and the locks, progress, one row's
failure (any exception in ``process`` becomes that row's error; the run goes on), and
SIGINT/SIGTERM (the run stops within seconds, commits what is done and raises
:class:`RunInterrupted` saying where it stopped and how to resume).

Keys are the 0-based position of the row in its source (line index of a JSONL file, index of
an in-memory list); messages cite 1-based line numbers (``file:N``) as editors do.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from prover.records.jsonl import InputError, read_jsonl
from prover.records.signals import SignalGuard, Signalled, handle_signals, native_setup
from prover.runs import GroupPolicy, Progress, ResumableRun, make_run_id
from prover.verdicts import Provenance, Verdict

Reporter = Callable[[str], None]
EXIT_SIGNAL_BASE = 128


@dataclass(frozen=True)
class Item:
    """One input row to process: its key, input position, payload and id for messages."""

    key: str
    seq: int
    payload: Any
    row_id: str
    line: int | None = None  # 1-based source line, for messages


@dataclass(frozen=True)
class Rejection:
    """One input row that could not be read; ``message`` says why."""

    key: str
    seq: int
    message: str
    row_id: str | None = None
    line: int | None = None


def jsonl_rows(path: Path) -> Iterator[Item | Rejection]:
    """The rows of a JSONL file as items (key = 0-based line, ``row_id`` = the row's ``id`` or
    that key) and rejections (unreadable lines), through the one hardened reader."""
    for number, obj in read_jsonl(path):
        if isinstance(obj, InputError):
            yield Rejection(str(number - 1), number - 1, obj.message, None, number)
        else:
            yield Item(str(number - 1), number - 1, obj, str(obj.get("id", number - 1)), number)


def memory_rows(rows: Sequence[Any]) -> Iterator[Item | Rejection]:
    """In-memory rows (the API, ``--row``) as items: key = 0-based index; a row that is not a
    mapping is a rejection."""
    for index, row in enumerate(rows):
        if isinstance(row, dict):
            yield Item(str(index), index, row, str(row.get("id", index)), index + 1)
        else:
            yield Rejection(str(index), index, "expected a JSON object per row", None, index + 1)


@dataclass
class Outcome:
    """What processing one item gave: its result row, graph, root, verdicts, and an optional
    one-line message for the user (a row-level problem worth reporting)."""

    result: dict[str, Any]
    graph: nx.DiGraph | None = None
    root: str | None = None
    verdicts: Sequence[tuple[str, Verdict, Provenance]] = ()
    report: str | None = None
    #: numbers the job sums over the session (e.g. ``claims``, seconds per stage): they
    #: travel with the outcome, so they count wherever the batch ran
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class Session:
    """What the runner knows about this session of a run, for the job's summary."""

    run_id: str
    resumed: bool
    new_items: int = 0
    wall_s: float = 0.0
    #: wall time of every session of the run (None without a store, which keeps it)
    run_wall_s: float | None = None
    limit: int | None = None
    complete: bool = False
    stages: dict[str, float] = field(default_factory=dict)
    #: the sums of :attr:`Outcome.stats` over this session
    stats: dict[str, float] = field(default_factory=dict)


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


class Job:
    """Base of every job. Subclasses set ``command`` and implement :meth:`identity`,
    :meth:`read`, :meth:`process` and :meth:`summarize`; the rest has defaults."""

    command: str = "job"
    #: items handed to one :meth:`process` call (a model batch); 1 for per-row work
    batch_size: int = 1
    #: items per batch sent to a pool worker (fewer round trips for cheap items)
    pool_batch_size: int = 32
    #: how finished items are grouped into store transactions
    group: GroupPolicy = GroupPolicy()
    #: per-item time budget (seconds), for the progress ETA's upper bound
    item_budget_s: float | None = None
    #: where the rows come from, for messages (a path, or "<rows>")
    source: str = "<rows>"
    #: commit after every processed batch (slow items: a kill loses at most one batch)
    commit_each_batch: bool = False
    #: exceptions that end the whole run (a backend that is not installed), not one row
    fatal: tuple[type[BaseException], ...] = ()

    def identity(self) -> tuple[str, dict[str, Any]]:
        """``(input digest, settings)``: what names the run (not ``--limit``)."""
        raise NotImplementedError

    def inputs(self) -> list[tuple[str, Path | None]]:
        """The files this job reads, as ``(flag, path)``: no output may be one of them."""
        return []

    def start(self, run_id: str) -> None:
        """Called once the run id is known, before any item (load models, build checkers)."""

    def total(self) -> int | None:
        """How many rows the input has (for progress), or None when unknown."""
        return None

    def read(self) -> Iterable[Item | Rejection]:
        """Every row of the input, in order."""
        raise NotImplementedError

    def process(self, batch: list[Item]) -> list[Outcome]:
        """One outcome per item of ``batch``, in order."""
        raise NotImplementedError

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        """The result row of a row that could not be read."""
        return {"id": rejection.row_id if rejection.row_id is not None else rejection.key,
                "line": rejection.seq, "error": rejection.message}

    def failed(self, item: Item, err: Exception) -> dict[str, Any]:
        """The result row of an item whose processing raised ``err`` (a bug or an input that
        broke a backend): a clear error, with the details kept for a bug report."""
        return {"id": item.row_id, "line": item.seq,
                "error": f"internal error ({type(err).__name__}) while processing this row; "
                         "the other rows are unaffected",
                "error_detail": {"kind": "internal", "exception": type(err).__name__,
                                 "message": str(err)[:500], "where": _where(err)}}

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        """The run's summary from every result of the run (this session's and earlier ones)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what :meth:`start` or :meth:`process` opened (always called)."""


@dataclass
class RunSettings:
    """The options every command shares: outputs, resume, progress, limit, messages."""

    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    report: Reporter = field(default=lambda message: None)
    #: further output files of the command, ``(flag, path)`` (e.g. ``--html``)
    outputs: Sequence[tuple[str, Path | None]] = ()
    #: handle SIGINT/SIGTERM (only possible in the main thread)
    handle_signals: bool = True
    #: worker processes (1: process here); more need a picklable job
    workers: int = 1
    #: memory cap per worker process (GiB) and time limit per batch on the pool (seconds)
    worker_mem_gb: float = 8.0
    batch_timeout_s: float | None = 600.0
    #: run the batches on Ray actors (``workers`` of them; an existing cluster at
    #: ``ray_address``, else a local one)
    ray: bool = False
    ray_address: str | None = None


def run_job(job: Job, settings: RunSettings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run (or resume) ``job``; returns ``(summary, results)`` over the first ``limit`` rows
    (all rows without a limit). Raises :class:`RunInterrupted` after committing what was done
    when SIGINT or SIGTERM arrives."""
    digest, config = job.identity()
    run_id = make_run_id(job.command, digest, config)
    run = ResumableRun(run_id=run_id, command=job.command, config=config,
                       store_path=settings.store, out_path=settings.out, fresh=settings.fresh,
                       group=job.group, inputs=job.inputs(), outputs=settings.outputs)
    run.guard()  # refuse an output that is an input or the store before anything starts
    try:
        job.start(run_id)  # models load here: a model that cannot load touches no output
        done = run.open()
    except BaseException:
        job.close()
        raise
    driver = _Driver(job, run, settings, done)
    if settings.workers > 1 or settings.ray:
        from prover.records.executors import LocalPool, RayExecutor

        budget = settings.batch_timeout_s
        if job.item_budget_s is not None:
            budget = job.item_budget_s * max(job.batch_size, job.pool_batch_size) * 2 + 60
        driver.executor = (
            RayExecutor(settings.workers, run_id=run_id, batch_timeout_s=budget,
                        address=settings.ray_address) if settings.ray
            else LocalPool(settings.workers, run_id=run_id, mem_gb=settings.worker_mem_gb,
                           batch_timeout_s=budget))
    stopped: Signalled | None = None
    try:
        with handle_signals(settings.handle_signals) as guard:
            driver.guard = guard
            native_setup()
            try:
                driver.drive()
            except Signalled as sig:
                stopped = sig
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
                      complete=driver.complete, stages=driver.stages, stats=driver.stats)
    session.run_wall_s = driver.run_wall_s if settings.store is not None else None
    if settings.limit is not None:
        results = [r for r in results if str(r.get("key")) in keys]
    return job.summarize(results, session), results


class _Driver:
    """The loop of one session: read, skip done keys, batch, process, commit in order."""

    def __init__(self, job: Job, run: ResumableRun, settings: RunSettings,
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
        for batch, outcomes in executor.run(self.job, self._batches(pending)):
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
        self.progress.update(self.seen_done())

    def seen_done(self) -> int:
        """Rows of this run's range that are done (earlier sessions and this one)."""
        return self.skipped + self.new_items

    def _commit(self, key: str, seq: int, outcome: Outcome) -> None:
        began = time.perf_counter()
        assert self.guard is not None
        with self.guard.deferred():  # a signal waits until the commit is whole
            self.run.commit(key, seq, outcome.result, graph=outcome.graph, root=outcome.root,
                            verdicts=outcome.verdicts)
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
    """Process each batch in this process, one after the other (the default executor)."""

    workers = 1

    def run(self, job: Job, batches: Iterable[list[Item]]
            ) -> Iterator[tuple[list[Item], list[Outcome]]]:
        for batch in batches:
            native_setup()
            yield batch, isolated(job, batch)


def isolated(job: Job, batch: list[Item]) -> list[Outcome]:
    """``job.process(batch)``; when it raises, each item is processed alone so only the
    items that fail become errors (their result says what went wrong)."""
    try:
        outcomes = job.process(list(batch))
    except job.fatal:
        raise  # the job cannot go on at all (e.g. its backend is not installed)
    except Exception as err:
        return _split(job, batch, err)
    if len(outcomes) != len(batch):
        return _split(job, batch, RuntimeError(
            f"{job.command}: process gave {len(outcomes)} outcomes for {len(batch)} items"))
    return outcomes


def _split(job: Job, batch: list[Item], err: Exception) -> list[Outcome]:
    if len(batch) == 1:
        return [Outcome(job.failed(batch[0], err),
                        report=f"row {batch[0].row_id!r}: internal error "
                               f"({type(err).__name__}); recorded as this row's error, "
                               "the run goes on")]
    return [one for item in batch for one in isolated(job, [item])]


def _where(err: BaseException) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"
