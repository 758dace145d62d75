"""The batch job behind ``proofgraph formalize --input FILE.jsonl``: rows -> batches of
:func:`~formalizer.autoformalize.pipeline.formalize` calls -> one result line per row,
exactly once and resumable (:class:`prover.runs.ResumableRun`, item key = 0-based line).

Rows are ``{"id"?, "text"}`` or FOLIO rows ``{"premises": [NL...], "conclusion"}`` (``id`` or
``example_id`` names them). A bad row is reported with its line number and recorded as a
rejected result; the other rows still run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formalizer.autoformalize.llm import Sampler
from formalizer.autoformalize.pipeline import FormalizeConfig, as_item, formalize
from formalizer.inputs import InputError, decode_jsonl
from prover.runs import Progress, ResumableRun, file_digest, make_run_id


@dataclass
class RunOptions:
    """Outputs and batching of a formalize job."""

    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    batch_size: int = 16
    report: Callable[[str], None] = field(default=lambda message: None)


def run_formalize(path: Path, sampler: Sampler, config: FormalizeConfig, opts: RunOptions,
                  *, lean_pool: Any | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Formalize every row of ``path`` (resumable); returns ``(summary, results)``."""
    start = time.perf_counter()
    settings = {"config": asdict(config), "sampler": sampler.describe(), "limit": opts.limit}
    settings = json.loads(json.dumps(settings, default=str))
    run_id = make_run_id("formalize", file_digest(path), settings)
    run = ResumableRun(run_id=run_id, command="formalize", config=settings,
                       store_path=opts.store, out_path=opts.out, fresh=opts.fresh)
    done = run.open()
    rows = list(decode_jsonl(path))
    rows = rows[: opts.limit] if opts.limit else rows
    progress = Progress(len(rows), "formalize", opts.progress)
    todo: list[tuple[int, Any]] = []
    finished = False
    try:
        for seen, (number, obj) in enumerate(rows, start=1):
            key = str(number - 1)
            if key in done:
                continue
            problem = obj.message if isinstance(obj, InputError) else None
            if problem is None:
                try:
                    item = as_item(obj, number - 1)
                except ValueError as err:
                    problem = str(err)
            if problem is not None:
                opts.report(f"{path}:{number}: {problem}")
                run.commit(key, number - 1, {"id": _row_id(obj, number - 1), "line": number - 1,
                                             "error": problem})
                continue
            todo.append((number - 1, item))
            if len(todo) >= opts.batch_size:
                _flush(todo, sampler, config, run, lean_pool)
                progress.update(seen)
        _flush(todo, sampler, config, run, lean_pool)
        progress.update(len(rows))
        finished = True
    finally:
        results = run.finish(progress, finished=finished)
    ok = [r for r in results if not r.get("error")]
    summary = {
        "run_id": run_id, "resumed": run.resumed, "rows": len(results),
        "rejected": len(results) - len(ok),
        "formalized": sum(1 for r in ok if r.get("chosen") is not None),
        "nothing_survived": sum(1 for r in ok if r.get("chosen") is None),
        "target": config.target, "model": settings["sampler"].get("spec"),
        "wall_s": round(time.perf_counter() - start, 3),
    }
    return summary, results


def _flush(todo: list[tuple[int, Any]], sampler: Sampler, config: FormalizeConfig,
           run: ResumableRun, lean_pool: Any | None) -> None:
    if not todo:
        return
    results = formalize([item for _, item in todo], sampler, config, lean_pool=lean_pool)
    for (line, _), result in zip(todo, results, strict=True):
        run.commit(str(line), line, {"line": line, **result.to_dict()})
    todo.clear()


def _row_id(obj: Any, line: int) -> str:
    if isinstance(obj, dict):
        for key in ("id", "example_id"):
            value = obj.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
    return str(line)
