"""The options every row job of the face shares (``check``, ``entail``): where it writes, how
its solver calls are bounded, how it scales and the hard limit per row.

Light on purpose (no step checker, no Z3): a worker of one job must not import another's
pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prover.records.job import report_nothing
from prover.records.runner import ROW_TIMEOUT_S, RunSettings

Reporter = Callable[[str], None]


def local_worker_cap() -> int:
    """Most worker processes a command starts on this machine (4 per core, at least 8): more
    only fight for the cores, and a typo such as ``--workers 100000`` must not fork-bomb it
    (every worker is started before the input is read)."""
    return max(8, 4 * (os.cpu_count() or 1))


#: most worker processes ``check`` and ``entail`` start when ``--workers`` is not given: the
#: parent commits every row, at about 0.7 ms of its CPU per GSM8K row against 2 ms per row in
#: a worker (scripts/bench_check_e2e.py), so it keeps up with about three workers
AUTO_WORKERS_MAX = 4
#: an input with fewer rows than this gets one worker by default: a second worker's start-up
#: (about 0.5 s of CPU) costs more than it saves on a small file
AUTO_WORKERS_MIN_ROWS = 200


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity call on this OS
        return max(1, os.cpu_count() or 1)


def default_workers(path: Path, *, in_process: bool, ray: bool, llm: bool,
                    fmt: str | None = None, limit: int | None = None) -> int:
    """Worker processes for a ``check`` or ``entail`` run without ``--workers``: one per
    usable core, at most :data:`AUTO_WORKERS_MAX`, for an input of at least
    :data:`AUTO_WORKERS_MIN_ROWS` rows (lines) and a ``limit`` (``--limit``) of no fewer; one
    in process, on Ray (``--workers`` sets the actors), with an LLM formalizer (its model loads
    where the rows run, once per worker) and for a ``check`` input (format ``fmt``) that is
    one plain-text solution whatever its lines."""
    if in_process or ray or llm or (limit is not None and limit < AUTO_WORKERS_MIN_ROWS):
        return 1
    cores = min(usable_cores(), AUTO_WORKERS_MAX)
    if cores == 1 or not _has_rows(path, AUTO_WORKERS_MIN_ROWS) or (
            fmt is not None and _text_input(path, fmt)):
        return 1
    return cores


def _text_input(path: Path, fmt: str) -> bool:
    """Whether ``check`` reads ``path`` as one plain-text solution (an unreadable file is
    reported by the run itself)."""
    from formalizer.inputs import BadInputFile, is_text_input

    try:
        return is_text_input(path, fmt)
    except BadInputFile:
        return False


def _has_rows(path: Path, rows: int) -> bool:
    """Whether ``path`` has at least ``rows`` non-blank lines (False for a path that cannot be
    read, whose error the run reports)."""
    try:
        return count_lines(path, at_most=rows) >= rows
    except OSError:
        return False


def check_workers(workers: int, ray: bool) -> str | None:
    """The usage error for ``--workers`` past :func:`local_worker_cap` without Ray, else None."""
    if ray or workers <= local_worker_cap():
        return None
    return (f"--workers {workers}: at most {local_worker_cap()} local worker processes on this "
            f"machine ({os.cpu_count()} cores); use --ray for more")



@dataclass
class RunOptions:
    """Where a job writes, how its solver calls are bounded and where its rows run. The
    solver bounds are in the run id; the rest is not (a run may resume in process or with
    other workers, and ``limit`` makes a trial of the same run)."""

    out: Path | None = None
    store: Path | None = None
    timeout_ms: int = 2000
    rlimit: int = 5_000_000
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    report: Reporter = field(default=report_nothing)
    workers: int = 1
    ray: bool = False
    #: process the rows here instead of in a killable worker process (no hard limit)
    in_process: bool = False
    #: hard wall-clock limit per row (seconds) in the worker; past it the worker's process
    #: group is killed, the row fails with reason ``timeout`` and the run goes on
    row_timeout_s: float = ROW_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.in_process and (self.workers > 1 or self.ray):
            raise ValueError("in_process cannot be combined with workers > 1 or ray")
        if not self.row_timeout_s > 0:
            raise ValueError("row_timeout_s must be > 0 seconds")

    def settings(self, outputs: Iterable[tuple[str, Path | None]] = (), *,
                 pool: bool = True) -> RunSettings:
        """The runner's view of these options. Unless ``in_process``, the rows run in a
        killable worker process (even with one worker; ``pool`` False keeps one-worker runs
        here, for a job whose rows need this process) under ``row_timeout_s`` each."""
        settings = RunSettings(out=self.out, store=self.store, fresh=self.fresh,
                               progress=self.progress, limit=self.limit, report=self.report,
                               outputs=list(outputs), workers=self.workers, ray=self.ray)
        if not self.in_process:
            settings.row_timeout_s = self.row_timeout_s
            settings.pool = pool
        return settings


def count_lines(path: Path, at_most: int | None = None) -> int:
    """Non-blank lines of a file (the progress total); reading stops at ``at_most`` of them."""
    found = 0
    with path.open("rb") as handle:
        for line in handle:
            found += bool(line.strip())
            if found == at_most:
                break
    return found
