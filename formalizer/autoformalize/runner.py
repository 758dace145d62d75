"""The batch job behind ``proofgraph formalize --input FILE.jsonl``: rows -> batches of
:func:`~formalizer.autoformalize.pipeline.formalize` calls -> one result line per row,
exactly once and resumable (a :class:`prover.records.runner.Job`; item key = 0-based line).

Rows are ``{"id"?, "text"}`` or FOLIO rows ``{"premises": [NL...], "conclusion"}`` (``id`` or
``example_id`` names them). A bad row is reported with its line number and recorded as a
rejected result; the other rows still run.

Hard limit: unless ``in_process``, the Z3/FOL checks of every row run in one killable worker
process kept for the whole run (the model stays here), each row's under ``row_timeout_s``
(:mod:`formalizer.autoformalize.isolation`). A row past it is an error of kind ``infra`` with
reason ``timeout`` (:meth:`~prover.records.job.Job.infra_failed`), tried again when the run
resumes; the other rows of its batch are decided as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formalizer.autoformalize.isolation import ROW_TIMEOUT_S
from formalizer.autoformalize.llm import Sampler
from formalizer.autoformalize.pipeline import FormalizeConfig, as_item, formalize
from formalizer.autoformalize.targets import make_target
from formalizer.autoformalize.targets.base import Target
from formalizer.inputs import InputError, decode_jsonl
from prover.policy.openai_client import PolicyRequestError
from prover.records.job import report_nothing
from prover.records.runner import Item, Job, Outcome, Rejection, RunSettings, Session, run_job
from prover.records.runs import file_digest


@dataclass
class RunOptions:
    """Outputs, batching and the hard limit of a formalize job (none of them names the run:
    a run may resume with another limit, or in process)."""

    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    batch_size: int = 16
    report: Callable[[str], None] = field(default=report_nothing)
    #: hard wall-clock limit of one row's checks (seconds) in the worker process
    row_timeout_s: float = ROW_TIMEOUT_S
    #: run the checks in this process instead (no worker start-up, no hard limit)
    in_process: bool = False

    def __post_init__(self) -> None:
        if not self.row_timeout_s > 0:
            raise ValueError("row_timeout_s must be > 0 seconds")


class FormalizeJob(Job):
    """Formalize every row of a JSONL file, ``batch_size`` rows per model call."""

    command = "formalize"
    commit_each_batch = True  # model batches are slow: commit each one
    pool_batch_size = 1
    fatal = (PolicyRequestError,)  # a dead model server ends the run (resumable), no row error

    def __init__(self, path: Path, sampler: Sampler, config: FormalizeConfig,
                 opts: RunOptions, lean_pool: Any | None = None,
                 target: Target | None = None) -> None:
        self.path = path
        self.sampler = sampler
        self.formalize_config = config
        self.batch_size = max(1, opts.batch_size)
        self.lean_pool = lean_pool
        self.row_timeout_s = None if opts.in_process else opts.row_timeout_s
        self._target: tuple[Target, Callable[[], None]] | None = (
            None if target is None else (target, _keep))
        self.source = str(path)
        settings = {"config": asdict(config), "sampler": sampler.describe(), "limit": None}
        self.settings = json.loads(json.dumps(settings, default=str))

    def identity(self) -> tuple[str, dict[str, Any]]:
        return file_digest(self.path), self.settings

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("--input", self.path)]

    def total(self) -> int | None:
        return sum(1 for _ in decode_jsonl(self.path))

    def read(self) -> Iterator[Item | Rejection]:
        for number, obj in decode_jsonl(self.path):
            problem = obj.message if isinstance(obj, InputError) else None
            if problem is None:
                try:
                    item = as_item(obj, number - 1)
                except ValueError as err:
                    problem = str(err)
            if problem is not None:
                yield Rejection(str(number - 1), number - 1, problem,
                                _row_id(obj, number - 1), number)
                continue
            yield Item(str(number - 1), number - 1, item, _row_id(obj, number - 1), number)

    def make_target(self) -> tuple[Target, Callable[[], None]]:
        """``(target, close)`` of the run: made once, on the first batch, and closed by
        :meth:`close` (one check worker for the whole run); a target given to the job is the
        caller's to close."""
        return make_target(self.formalize_config, self.lean_pool, self.row_timeout_s)

    def process(self, batch: list[Item]) -> list[Outcome]:
        if self._target is None:
            self._target = self.make_target()
        results = formalize([item.payload for item in batch], self.sampler,
                            self.formalize_config, target=self._target[0])
        outcomes = []
        for item, result in zip(batch, results, strict=True):
            if result.failure is not None:  # the row's checks were killed: tried on resume
                outcomes.append(self.infra_failed(item, result.failure["reason"],
                                                  result.failure["message"]))
            else:
                outcomes.append(Outcome({"line": item.seq, **result.to_dict()}))
        return outcomes

    def close(self) -> None:
        """End the check worker (or Lean pool) the run started."""
        if self._target is not None:
            target, self._target = self._target, None
            target[1]()

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        ok = [r for r in results if not r.get("error")]
        return {
            "run_id": session.run_id, "resumed": session.resumed, "rows": len(results),
            "rejected": len(results) - len(ok),
            "formalized": sum(1 for r in ok if r.get("chosen") is not None),
            "nothing_survived": sum(1 for r in ok if r.get("chosen") is None),
            "target": self.formalize_config.target, "model": self.settings["sampler"].get("spec"),
            "wall_s": round(session.wall_s, 3),
        }


def run_formalize(path: Path, sampler: Sampler, config: FormalizeConfig, opts: RunOptions,
                  *, lean_pool: Any | None = None, target: Target | None = None
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Formalize every row of ``path`` (resumable); returns ``(summary, results)``.
    ``target``: one made by :func:`~formalizer.autoformalize.targets.make_target` (e.g. started
    while the model loads), which the caller closes; None: the job makes and closes one."""
    job = FormalizeJob(path, sampler, config, opts, lean_pool, target)
    return run_job(job, RunSettings(out=opts.out, store=opts.store, fresh=opts.fresh,
                                    progress=opts.progress, limit=opts.limit,
                                    report=opts.report))


def _row_id(obj: Any, line: int) -> str:
    if isinstance(obj, dict):
        for key in ("id", "example_id"):
            value = obj.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
    return str(line)


def _keep() -> None:
    """The close of a target the caller gave: it is the caller's to close."""
