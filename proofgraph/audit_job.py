"""The ``audit`` job: rows ``{id, statement, header?, proof}`` -> the trust audit per row
(:func:`prover.lean.audit_rows.audit_row`) through the shared job runner (resumable
``--out``/``--store``, one bad row never ends a run), and the in-memory form for the API.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalizer.inputs import InputError, decode_jsonl
from prover.lean.audit_report import AuditPolicy
from prover.lean.audit_rows import CHECKER_VERSION, audit_row, result_graph
from prover.lean.pool import HeaderPool
from prover.lean.repl import ReplConfig
from prover.records.job import report_nothing
from prover.records.runner import Item, Job, Outcome, Rejection, RunSettings, Session, run_job
from prover.records.runs import file_digest

Reporter = Callable[[str], None]


@dataclass
class AuditOptions:
    """What the ``audit`` job reads and writes; every field that changes results is in the
    run id."""

    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    allow_native_decide: bool = False
    timeout_s: float = 120.0
    repl_command: str | None = None
    lean: bool = True
    report: Reporter = field(default=report_nothing)


def _backend(opts: AuditOptions) -> Any:
    """A header-keyed REPL pool, or None for text checks only."""
    if not opts.lean:
        return None
    return HeaderPool(ReplConfig.from_env(repl_command=opts.repl_command))


class AuditJob(Job):
    """The ``audit`` job for the shared runner: one row at a time through
    :func:`prover.lean.audit_rows.audit_row`, committed row by row (Lean is slow)."""

    command = "audit"
    commit_each_batch = True

    def __init__(self, path: Path, opts: AuditOptions) -> None:
        self.path, self.opts, self.source = path, opts, str(path)
        self.config = {"checker": CHECKER_VERSION, "allow_native_decide": opts.allow_native_decide,
                       "lean": opts.lean, "timeout_s": opts.timeout_s}
        self.item_budget_s = opts.timeout_s
        self.policy = AuditPolicy(allow_native_decide=opts.allow_native_decide,
                                  timeout_s=opts.timeout_s)
        self.run_id: str = ""
        self.backend: Any = None

    def identity(self) -> tuple[str, dict[str, Any]]:
        return file_digest(self.path), self.config

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("input", self.path)]

    def start(self, run_id: str) -> None:
        self.run_id, self.backend = run_id, _backend(self.opts)

    def total(self) -> int | None:
        with self.path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())

    def read(self) -> Iterator[Item | Rejection]:
        for number, obj in decode_jsonl(self.path):
            if isinstance(obj, InputError):
                yield Rejection(str(number - 1), number - 1, obj.message, obj.row_id, number)
            else:
                row_id = obj.get("id", number - 1) if isinstance(obj, Mapping) else number - 1
                yield Item(str(number - 1), number - 1, obj, str(row_id), number)

    def process(self, batch: list[Item]) -> list[Outcome]:
        outcomes = []
        for item in batch:
            result = audit_row(item.payload, self.backend, index=item.seq, policy=self.policy)
            result["line"] = item.seq
            row = item.payload if isinstance(item.payload, Mapping) else {}
            graph, root, verdicts = result_graph(result, str(row.get("statement", "")),
                                                 self.run_id, self.config)
            report = f"row {result['id']!r}: {result['error']}" if result.get("error") else None
            outcomes.append(Outcome(result, graph, root, verdicts, report))
        return outcomes

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return summarize(results, session.run_id, session.resumed, session.wall_s)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def run_audit(path: Path, opts: AuditOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Audit every row of ``path`` with the shared runner (resumable, one bad row never ends
    the run); returns (summary, all results in order)."""
    settings = RunSettings(out=opts.out, store=opts.store, fresh=opts.fresh,
                           progress=opts.progress, limit=opts.limit, report=opts.report)
    return run_job(AuditJob(path, opts), settings)


def summarize(results: Iterable[Mapping[str, Any]], run_id: str, resumed: bool,
              wall_s: float) -> dict[str, Any]:
    """Counts of verdicts (``unknown: REASON`` split by reason) and malformed rows."""
    verdicts: collections.Counter[str] = collections.Counter()
    rejected = rows = 0
    for result in results:
        rows += 1
        if result.get("error"):
            rejected += 1
            continue
        verdict = result["verdict"]
        verdicts[verdict if verdict != "unknown" else f"unknown: {result.get('reason')}"] += 1
    return {"run_id": run_id, "resumed": resumed, "rows": rows, "rejected": rejected,
            "verdicts": dict(sorted(verdicts.items())), "wall_s": round(wall_s, 3)}


def audit_rows(rows: Iterable[Mapping[str, Any]], *, allow_native_decide: bool = False,
               repl_command: str | None = None, lean: bool = True,
               timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """The Python face of ``proofgraph audit`` on in-memory rows (no files): one result dict
    per row, in order."""
    opts = AuditOptions(allow_native_decide=allow_native_decide, repl_command=repl_command,
                        lean=lean, timeout_s=timeout_s)
    policy = AuditPolicy(allow_native_decide=allow_native_decide, timeout_s=timeout_s)
    backend = _backend(opts)
    try:
        return [audit_row(row, backend, index=i, policy=policy) for i, row in enumerate(rows)]
    finally:
        if backend is not None:
            backend.close()
