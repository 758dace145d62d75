"""The ``entail`` job: rows ``{id, premises, conclusion}`` -> :func:`prover.z3.entail.entail_row`
-> JSONL / store, through :func:`prover.records.runner.run_job`.

Shared by the CLI and the Python API (:func:`proofgraph.entail_file`). Like ``check``, the rows
run by default in a killable worker process (even with one worker), one row per worker message,
under a hard wall-clock limit of ``row_timeout_s`` each: Z3's own timeout and rlimit bound every
query, but a native hang that ignores Z3's interrupt (nonlinear or exponent terms) is stopped
only by killing the worker's process group. Such a row becomes an error of kind ``infra`` with
reason ``timeout`` (tried again when the run resumes) and the run goes on. ``in_process`` runs
the rows here instead (no worker start-up, no hard limit).

This module imports neither the step checker nor ``proofgraph.jobs``, so that an entail worker
starts with the FOL parser and Z3 only.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from proofgraph.run_options import RunOptions, count_lines
from prover.records import graph as pg
from prover.records.job import FileInputJob, report_nothing
from prover.records.results import EntailmentResult
from prover.records.runner import (
    Item,
    Outcome,
    Rejection,
    RunSettings,
    Session,
    jsonl_rows,
    run_job,
)

__all__ = ["EntailJob", "EntailOptions", "entail_settings", "run_entail",
           "warm_up"]


@dataclass
class EntailOptions(RunOptions):
    """An entail run's options: :class:`proofgraph.run_options.RunOptions` as they are
    (``timeout_ms`` and ``rlimit`` are in the run id)."""


def warm_up() -> None:
    """What an entail worker started ahead does while it waits for its job
    (:func:`prover.synth.executor.prestarted`): decide one small row, so that Z3, the parser and
    the encoder are loaded before the first row."""
    from prover.z3.entail import check_entailment

    check_entailment(["∀x (Cat(x) → Animal(x))", "Cat(tom)"], "Animal(tom)", run_id="warm-up")


def _entail_error(result: dict[str, Any]) -> dict[str, Any]:
    """Move a structured error to ``error_detail`` and keep its message in ``error``."""
    if isinstance(result.get("error"), dict):
        result["error_detail"] = result.pop("error")
        result["error"] = result["error_detail"].get("message", "rejected")
    return result


class EntailJob(FileInputJob):
    """Decide every entailment row ``{id, premises, conclusion}`` of a file."""

    command = "entail"
    #: one row per worker message: its hard limit is the row's own, and a killed row takes no
    #: innocent rows with it
    pool_batch_size = 1

    def __init__(self, path: Path, opts: EntailOptions) -> None:
        super().__init__(path, {"timeout_ms": opts.timeout_ms, "rlimit": opts.rlimit,
                                "limit": None, "checker": "fol-z3/1"})
        self.opts = opts

    def __getstate__(self) -> dict[str, Any]:
        """What a pool worker gets: the settings, without the caller's reporter (often a
        closure; the runner reports in the parent)."""
        return {**self.__dict__, "opts": replace(self.opts, report=report_nothing)}

    def total(self) -> int | None:
        return count_lines(self.path) if self.path.is_file() else None

    def read(self) -> Iterator[Item | Rejection]:
        return jsonl_rows(self.path)

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        return _entail_error({"id": rejection.key, "line": rejection.seq,
                              "error": {"kind": "bad-row", "message": rejection.message}})

    def process(self, batch: list[Item]) -> list[Outcome]:
        from prover.z3.entail import entail_row

        outcomes = []
        for item in batch:
            obj = item.payload
            result = entail_row(obj, timeout_ms=self.opts.timeout_ms, rlimit=self.opts.rlimit,
                                run_id=self.run_id)
            report = None
            if not result.get("error"):
                result["premises"], result["conclusion"] = obj["premises"], obj["conclusion"]
            if result.get("error"):
                err = result["error"]
                where = f"{err['formula']}: " if err.get("formula") else ""
                report = f"row {result.get('id')!r}: {where}{err.get('message', err)}"
            result["line"] = item.seq
            result = _entail_error(result)
            graph, root, verdicts = pg.entailment_graph(result)
            outcomes.append(Outcome(result, graph, root, verdicts, report))
        return outcomes

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        typed = [EntailmentResult.from_dict(r) for r in results]
        answers = collections.Counter(r.answer or "rejected" for r in typed if not r.error)
        return {"run_id": session.run_id, "resumed": session.resumed, "rows": len(results),
                "rejected": sum(1 for r in typed if r.error),
                "answers": dict(sorted(answers.items())), "wall_s": round(session.wall_s, 3)}


def entail_settings(opts: EntailOptions) -> RunSettings:
    """The runner settings of an entail run: by default its rows run in a killable worker
    process (even with one worker) under a hard wall-clock limit of ``opts.row_timeout_s`` per
    row; ``opts.in_process`` decides them here instead (no start-up, no hard limit)."""
    return opts.settings()


def run_entail(path: Path, opts: EntailOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decide every entailment row of ``path``; returns (summary, all results in input
    order). A row stopped by its hard limit is an error with ``error_detail`` ``{kind: infra,
    reason: timeout}``; the same call again (with ``out`` or ``store``) decides only such
    rows and those not done yet."""
    return run_job(EntailJob(path, opts), entail_settings(opts))
