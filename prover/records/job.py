"""The job protocol of the one job runner (:mod:`prover.records.runner` drives it).

A job says what its items are and how to process them: ``read() -> Item | Rejection``,
``process(batch) -> Outcome per item``, ``summarize(results, session)``; :func:`isolated` is how
every executor calls ``process`` so that one row's exception becomes that row's error. Where
results go is a :class:`Sink`: by default :class:`prover.records.runs.ResumableRun` (the store
and the ``--out`` file); a job with outputs of its own (synth: deduplicated rows, shards and a
manifest) returns its sink from :meth:`Job.sink`. Keys are
the 0-based position of the row in its source (line index of a JSONL file, index of an
in-memory list); messages cite 1-based line numbers (``file:N``) as editors do.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx

from prover.records.jsonl import InputError, read_jsonl
from prover.records.prepared import PreparedItem
from prover.records.runs import GroupPolicy, file_digest
from prover.records.verdicts import Provenance, Verdict

if TYPE_CHECKING:
    from prover.records.runs import Progress


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
    one-line message for the user (a row-level problem worth reporting).

    ``prepared``: the same item as ready-to-store rows (:func:`prover.records.prepared.
    prepare_item`, built where the item was processed), for a job whose results go to the
    default sink (:class:`prover.records.runs.ResumableRun`). An outcome with rows crosses a
    process boundary as its rows alone (no result dict, graph or verdicts): the sink needs
    nothing else, and :meth:`stored_result` gives the result back."""

    result: dict[str, Any]
    graph: nx.DiGraph | None = None
    root: str | None = None
    verdicts: Sequence[tuple[str, Verdict, Provenance]] = ()
    report: str | None = None
    #: numbers the job sums over the session (e.g. ``claims``, seconds per stage): they
    #: travel with the outcome, so they count wherever the batch ran
    stats: dict[str, float] = field(default_factory=dict)
    prepared: PreparedItem | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.prepared is not None:
            state.update(result=None, graph=None, verdicts=())
        return state

    def stored_result(self) -> dict[str, Any]:
        """The result row (decoded from the prepared rows when it came without one)."""
        if self.result is None and self.prepared is not None:
            return self.prepared.result()
        return self.result


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
    #: what ran the batches: ``name`` (serial, local, ray), ``workers`` and, on Ray,
    #: ``policy_stats`` (a shared policy actor's) and ``reaped`` (leftover pids killed)
    executor: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where a run's results go and what it remembers between sessions (the interface of
    :class:`prover.records.runs.ResumableRun`, the default). The runner calls ``guard``
    (refuse outputs that are inputs, before anything starts), ``open`` (the keys already
    done), ``commit`` per finished item in input order (durable once its group is flushed),
    ``tick`` when time passes without a result (commit a group that is old enough), ``flush``,
    ``wall_s`` and finally ``finish`` (commit what is open, return the run's results). A sink
    whose ``accepts_prepared`` is true takes an item as its ready-to-store rows
    (``commit(..., prepared=...)``; ``result`` may then be None): the runner passes them only
    to such a sink."""

    run_id: str
    resumed: bool

    def guard(self) -> None: ...

    def open(self) -> set[str]: ...

    def commit(self, key: str, seq: int, result: dict[str, Any], *,
               graph: nx.DiGraph | None = None, root: str | None = None,
               verdicts: Iterable[tuple[str, Verdict, Provenance]] = (),
               prepared: PreparedItem | None = None) -> None: ...

    def flush(self) -> None: ...

    def wall_s(self) -> float: ...

    def finish(self, progress: Progress | None, *, finished: bool,
               stop_note: str | None = None) -> list[dict[str, Any]]: ...



class Job:
    """Base of every job. Subclasses set ``command`` and implement :meth:`identity`,
    :meth:`read`, :meth:`process` and :meth:`summarize`; the rest has defaults."""

    command: str = "job"
    #: items handed to one :meth:`process` call (a model batch); 1 for per-row work
    batch_size: int = 1
    #: items per batch sent to a pool worker (fewer round trips for cheap items)
    pool_batch_size: int = 32
    #: batches queued ahead per local pool worker: enough that a worker keeps working while
    #: the runner commits a group (a store transaction); queued batches of a lost worker go
    #: to another one, so the depth changes no result
    pool_prefetch: int = 2
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

    def sink(self, run_id: str, config: dict[str, Any], settings: Any) -> Sink | None:
        """Where the results go (see :class:`Sink`); None: the store and ``--out`` file of
        ``settings`` (:class:`prover.records.runner.RunSettings`)."""
        return None

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

    def infra_failed(self, item: Item, reason: str | None, message: str) -> Outcome:
        """The outcome of an item whose batch the pool failed (``reason``: ``timeout``,
        ``worker-died`` or another pool failure; ``message`` says what happened): an error of
        kind ``infra``, which the resumed run tries again."""
        row = self.failed(item, RuntimeError(message))
        return Outcome({**row, "error": f"{message}; the other rows are unaffected (tried "
                                         "again when the run resumes)",
                        "error_detail": {"kind": "infra", "reason": reason or "failed",
                                         "message": message}},
                       report=f"row {item.row_id!r}: {message}")

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        """The run's summary from every result of the run (this session's and earlier ones)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what :meth:`start` or :meth:`process` opened (always called)."""



class FileInputJob(Job):
    """A job over one input file: the file's digest and ``config`` name the run, the file is
    the one input no output may be, and :meth:`start` keeps the run id (``run_id``) for the
    rows the job processes (``check``, ``entail``, ``eval``)."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.source = str(path)
        self.config = config
        self.run_id = ""

    def identity(self) -> tuple[str, dict[str, Any]]:
        return file_digest(self.path), self.config

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("input", self.path)]

    def start(self, run_id: str) -> None:
        self.run_id = run_id


def report_nothing(message: str) -> None:
    """The default reporter: drops the message (a named function, so options that hold it
    can be sent to worker processes)."""


def report_to_stderr(message: str) -> None:
    """A job's reporter inside a worker process (the caller's reporter is often a closure,
    which cannot be sent to a worker): the message goes to the worker's stderr."""
    print(message, file=sys.stderr)


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
