"""The ``prove`` job: theorems -> environment + policy -> best-first search -> re-check -> graph.

Backends and policies are chosen from registries (name -> factory), never a chain of ifs.
Every theorem is one item of a run of :func:`prover.records.runner.run_job`; its search DAG,
proof path and provenance (backend, policy with model and sampling parameters, search
budgets) go to the store. Theorems come from a JSONL file or from rows in memory (the API,
``prove --row``), which need no temporary file.

(This module is not called ``proofgraph.prove``: a submodule of that name would replace the
API function :func:`proofgraph.prove` the first time it is imported.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prover.policy.openai_client import PolicyRequestError
from prover.policy.registry import (
    POLICIES,
    PolicySpecError,
    describe_policy,
)
from prover.policy.registry import (
    make_policy as _make_policy,
)
from prover.proving import (
    BACKENDS,
    Backend,
    ProveError,
    ProveOptions,
    prove_row,
    release,
    replay,
)
from prover.records.jsonl import read_jsonl
from prover.records.results import ProofSearchResult
from prover.records.runner import (
    Item,
    Job,
    Outcome,
    Rejection,
    RunSettings,
    Session,
    jsonl_rows,
    memory_rows,
    run_job,
)
from prover.runs import file_digest, rows_digest
from search.protocols import Policy

__all__ = ["BACKENDS", "POLICIES", "Backend", "ProveError", "ProveJob", "ProveOptions",
           "describe_policy", "make_policy", "prove_row", "replay", "run_prove"]


def make_policy(spec: str, family: str, seed: int = 0) -> Policy:
    """:func:`prover.policy.registry.make_policy`, with a bad spec raised as :class:`ProveError`."""
    try:
        return _make_policy(spec, family, seed)
    except PolicySpecError as err:
        raise ProveError(str(err)) from err


class ProveJob(Job):
    """Prove every theorem of a JSONL file or of a list of rows."""

    command = "prove"
    commit_each_batch = True  # a theorem can take minutes: commit each one
    pool_batch_size = 1
    fatal = (ProveError, PolicyRequestError)  # a dead model server ends the run (resumable)

    def __init__(self, source: Path | Sequence[Any], opts: ProveOptions) -> None:
        backend = BACKENDS.get(opts.backend)
        if backend is None:
            raise ProveError(f"unknown backend {opts.backend!r}; choose one of "
                             f"{', '.join(BACKENDS)}")
        self.backend = backend
        self.opts = opts
        self.path = source if isinstance(source, Path) else None
        self.rows = None if isinstance(source, Path) else list(source)
        self.source = str(self.path) if self.path is not None else "<rows>"
        self.policy = make_policy(opts.policy, backend.family, opts.search.seed)
        self.policy_info = describe_policy(self.policy, opts.policy)
        config = {"backend": opts.backend, "policy": self.policy_info,
                  "search": asdict(opts.search), "limit": None}
        self.config = json.loads(json.dumps(config, default=str))
        self.item_budget_s = opts.search.wall_timeout_s
        self.run_id = ""

    def identity(self) -> tuple[str, dict[str, Any]]:
        digest = file_digest(self.path) if self.path is not None else rows_digest(self.rows or [])
        return digest, self.config

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("input", self.path)]

    def start(self, run_id: str) -> None:
        self.run_id = run_id
        if self.opts.backend == "z3":
            import prover.z3.env  # noqa: F401  (loads Z3 before the first theorem)

    def total(self) -> int | None:
        if self.rows is not None:
            return len(self.rows)
        return sum(1 for _ in read_jsonl(self.path)) if self.path is not None else None

    def read(self) -> Iterator[Item | Rejection]:
        if self.rows is not None:
            return memory_rows(self.rows)
        assert self.path is not None
        return jsonl_rows(self.path)

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        return {"id": rejection.key, "line": rejection.seq, "error": rejection.message}

    def process(self, batch: list[Item]) -> list[Outcome]:
        outcomes = []
        report = self.opts.report
        for item in batch:
            where = f"{self.source}:{item.line}: "
            self.opts.report = lambda message, where=where: report(where + message)
            try:
                result, graph, root, verdicts = prove_row(
                    item.payload, self.backend, self.policy, self.policy_info, self.opts,
                    self.run_id)
            except ProveError:
                raise
            except ValueError as err:  # a bad theorem row (TheoremError is a ValueError)
                outcomes.append(Outcome({"id": str(item.payload.get("id", item.seq)),
                                         "line": item.seq, "error": str(err)},
                                        report=str(err)))
                continue
            finally:
                self.opts.report = report
            result["line"] = item.seq
            outcomes.append(Outcome(result, graph, root, verdicts))
        return outcomes

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        ok = [r for r in map(ProofSearchResult.from_dict, results) if not r.error]
        return {
            "run_id": session.run_id, "resumed": session.resumed, "theorems": len(results),
            "rejected": len(results) - len(ok),
            "proved": sum(1 for r in ok if r.verdict == "verified"),
            "search_proved_but_recheck_failed": sum(
                1 for r in ok if r.status == "proved" and r.verdict != "verified"),
            "policy": self.policy_info["spec"], "backend": self.opts.backend,
            "wall_s": round(session.wall_s, 3),
        }

    def close(self) -> None:
        release(self.opts)


def run_prove(source: Path | Sequence[Any], opts: ProveOptions
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Prove every theorem of a JSONL file or of in-memory rows (resumable); returns
    (summary, results)."""
    job = ProveJob(source, opts)
    settings = RunSettings(out=opts.out, store=opts.store, fresh=opts.fresh,
                           progress=opts.progress, limit=opts.limit, report=opts.report)
    return run_job(job, settings)
