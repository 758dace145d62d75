"""``synth``: the Python API of ``proofgraph synth`` (proofs, steps, mutate) over the executor.

Tasks are built from a registry (name -> factory taking the input path and the task options);
run options (out, workers, ray, shards, resume) go to :class:`prover.synth.engine.SynthOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import fields
from pathlib import Path
from typing import Any

from prover.synth.engine import TASK_MODULES, SynthOptions, early_workers, run_synth
from prover.synth.task import SynthTask


class SynthError(ValueError):
    """Unusable synth arguments: unknown task or option, bad value, missing input."""


def _proofs(path: Path, opts: dict[str, Any]) -> SynthTask:
    from prover.synth.proofs import ProofsTask
    from search.best_first import SearchConfig

    search_keys = {f.name for f in fields(SearchConfig)}
    search = SearchConfig(**{k: opts.pop(k) for k in list(opts) if k in search_keys})
    return ProofsTask(path, search=search, **opts)


def _steps(path: Path, opts: dict[str, Any]) -> SynthTask:
    from formalizer.synth_steps import StepsTask

    return StepsTask(path, **opts)


def _mutate(path: Path, opts: dict[str, Any]) -> SynthTask:
    from prover.synth.mutate import MutateTask

    return MutateTask(path, **opts)


TASKS: dict[str, Callable[[Path, dict[str, Any]], SynthTask]] = {
    "proofs": _proofs, "steps": _steps, "mutate": _mutate,
}
"""Task name -> factory(input path, task options); options are the task constructor's
keyword arguments (for ``proofs`` also the fields of :class:`search.best_first.SearchConfig`)."""


def make_task(task_name: str, input: str | Path, options: dict[str, Any]) -> SynthTask:
    """Build a task, with unknown names, options or values raised as :class:`SynthError`."""
    factory = TASKS.get(task_name)
    if factory is None:
        raise SynthError(f"unknown synth task {task_name!r}; choose one of {', '.join(TASKS)}")
    path = Path(input)
    if not path.is_file():
        raise SynthError(f"{path}: no such file")
    try:
        return factory(path, dict(options))
    except TypeError as err:
        raise SynthError(f"synth {task_name}: {err}") from err
    except ValueError as err:
        raise SynthError(f"synth {task_name}: {err}") from err


def synth(task_name: str, input: str | Path, out: str | Path, **options: Any) -> dict[str, Any]:
    """Run (or resume) synth task ``task_name`` over ``input`` into the folder ``out``; returns
    the summary (items, ok, failed by reason, rows per kind, duplicates dropped, wall time,
    shards). ``options`` mixes run options (the fields of
    :class:`~prover.synth.engine.SynthOptions`: ``workers``, ``ray``, ``shard_rows``, ``limit``,
    ``fresh``...) and task options (``backend``, ``policy``, ``max_expansions``...)."""
    run_keys = {f.name for f in fields(SynthOptions)} - {"out"}
    run_opts = {k: options.pop(k) for k in list(options) if k in run_keys}
    try:
        opts = SynthOptions(out=Path(out), **run_opts)
    except TypeError as err:
        make_task(task_name, input, options)  # an unknown task or bad input is said first
        raise SynthError(f"synth: {err}") from err
    early = TASK_MODULES.get(task_name) if Path(input).is_file() else None
    with early_workers(opts, early) if early else nullcontext():
        task = make_task(task_name, input, options)  # the workers start meanwhile
        return run_synth(task, Path(input), opts)
