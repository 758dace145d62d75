"""The ``prove`` job: theorems -> environment + policy -> best-first search -> re-check -> graph.

Backends and policies are chosen from registries (name -> factory), never a chain of ifs.
Every theorem is one item of a run of :func:`prover.records.runner.run_job`; its search DAG,
proof path and provenance (backend, policy with model and sampling parameters, search
budgets) go to the store. Theorems come from a JSONL file or from rows in memory (the API,
``prove --row``), which need no temporary file.

Scale: ``concurrency`` K runs K theorem searches at once (threads, each with its own
environment: its own Z3 context) whose ``propose`` calls meet in ONE
:class:`~prover.policy.batching.BatchingPolicy` (an in-process model sees merged batches; an
OpenAI-compatible server gets K concurrent requests). Every search samples per state under
the search seed, so a theorem's search does not depend on K (K is not part of the run id: a
run may resume with another K). ``workers``/``ray``/``ray_address`` hand the runner's batches
to worker processes or Ray actors (:mod:`prover.records.executors`); the job pickles without
its queue and model (:class:`~prover.eval.model_job.ModelJob`), which each worker builds in
:meth:`ProveJob.start`; the parent builds none.

(This module is not called ``proofgraph.prove``: a submodule of that name would replace the
API function :func:`proofgraph.prove` the first time it is imported.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prover.backends import BACKENDS, replay
from prover.eval.model_job import ModelJob, policy_identity, run_config
from prover.policy.batching import BatchingPolicy
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
    Backend,
    ProveError,
    ProveOptions,
    prove_row,
    release,
)
from prover.records.jsonl import read_jsonl
from prover.records.results import ProofSearchResult
from prover.records.runner import (
    Item,
    Outcome,
    Rejection,
    RunSettings,
    Session,
    jsonl_rows,
    memory_rows,
    run_job,
)
from prover.records.runs import file_digest, rows_digest
from search.protocols import Policy

__all__ = ["BACKENDS", "POLICIES", "Backend", "ProveError", "ProveJob", "ProveOptions",
           "ScaleOptions", "describe_policy", "make_policy", "prove_row", "replay", "run_prove"]


def make_policy(spec: str, family: str, seed: int = 0) -> Policy:
    """:func:`prover.policy.registry.make_policy`, with a bad spec raised as :class:`ProveError`."""
    try:
        return _make_policy(spec, family, seed)
    except PolicySpecError as err:
        raise ProveError(str(err)) from err


@dataclass(frozen=True)
class ScaleOptions:
    """How many theorem searches run at once and where: ``concurrency`` searches in threads
    per process sharing one batched policy (``window_s``: how long the queue waits to merge
    calls, ``max_batch``: most states per model call); ``workers`` processes (``ray``: Ray
    actors, on the cluster at ``ray_address`` or a local one)."""

    concurrency: int = 1
    window_s: float = 0.01
    max_batch: int = 64
    workers: int = 1
    ray: bool = False
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.workers < 1 or self.max_batch < 1 or self.window_s < 0:
            raise ValueError("need concurrency, workers, max_batch >= 1 and window_s >= 0")


class ProveJob(ModelJob):
    """Prove every theorem of a JSONL file or of a list of rows (see the module docstring).
    The run is named from the options alone (:mod:`prover.eval.model_job`); the model is
    built by :meth:`start` only where it is called (never in a ``--workers``/``--ray``
    parent)."""

    command = "prove"
    commit_each_batch = True  # a theorem can take minutes: commit each one
    pool_batch_size = 1
    fatal = (ProveError, PolicyRequestError)  # a dead model server ends the run (resumable)
    LOCAL = ("batcher", "backend")

    def __init__(self, source: Path | Sequence[Any], opts: ProveOptions,
                 scale: ScaleOptions | None = None) -> None:
        if opts.backend not in BACKENDS:
            raise ProveError(f"unknown backend {opts.backend!r}; choose one of "
                             f"{', '.join(BACKENDS)}")
        self.opts = opts
        self.scale = scale or ScaleOptions()
        self.backend = self._backend()
        self.batch_size = 2 * self.scale.concurrency if self.scale.concurrency > 1 else 1
        self.pool_batch_size = self.batch_size
        self.path = source if isinstance(source, Path) else None
        self.rows = None if isinstance(source, Path) else list(source)
        self.source = str(self.path) if self.path is not None else "<rows>"
        identity = policy_identity(opts.policy, BACKENDS[opts.backend].family, opts.search.seed)
        self.config = run_config(opts.backend, identity, opts.search)
        #: the policy's provenance: the identity until a model is built in this process
        self.policy_info: dict[str, Any] = {
            **identity, "built": "in the worker processes" if self.remote else "not yet"}
        self.batcher: BatchingPolicy | None = None
        self.item_budget_s = opts.search.wall_timeout_s
        self.run_id = ""

    @property
    def remote(self) -> bool:
        """Whether the theorems run in worker processes or Ray actors."""
        return self.scale.workers > 1 or self.scale.ray

    def _backend(self) -> Backend:
        backend = BACKENDS[self.opts.backend]
        if self.scale.concurrency == 1:
            return backend
        from prover.eval.job import concurrent_env  # Z3 contexts freed from any thread

        return replace(backend, make_env=concurrent_env(backend.make_env))

    def _build_model(self) -> None:
        """The policy behind this process's batching queue, and its provenance."""
        policy = make_policy(self.opts.policy, BACKENDS[self.opts.backend].family,
                             self.opts.search.seed)
        self.batcher = BatchingPolicy(policy, window_s=self.scale.window_s,
                                      max_batch=self.scale.max_batch)
        self.policy_info = json.loads(json.dumps(describe_policy(policy, self.opts.policy),
                                                 default=str))

    def local_parts(self) -> None:
        self.backend = self._backend()

    def identity(self) -> tuple[str, dict[str, Any]]:
        digest = file_digest(self.path) if self.path is not None else rows_digest(self.rows or [])
        return digest, self.config

    def inputs(self) -> list[tuple[str, Path | None]]:
        return [("input", self.path)]

    def start(self, run_id: str) -> None:
        self.run_id = run_id
        if self.builds_model and self.batcher is None:  # never in a --workers/--ray parent
            self._build_model()
        if self.opts.backend == "z3":
            import prover.z3.env  # noqa: F401  (loads Z3 before the first theorem)
        elif (self.opts.backend == "lean-repl" and self.scale.concurrency > 1
              and self.builds_model):
            from prover.backends import _lean_pool

            _lean_pool(self.opts)  # one pool for all threads, made before them

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
        workers = min(self.scale.concurrency, len(batch))
        if workers <= 1:
            return [self._prove(item) for item in batch]
        with ThreadPoolExecutor(workers, thread_name_prefix="prove-search") as pool:
            return list(pool.map(self._prove, batch))

    def _prove(self, item: Item) -> Outcome:
        """One theorem's search through the shared queue; a bad row becomes its error."""
        assert self.batcher is not None
        where = f"{self.source}:{item.line}: "
        report = self.opts.report
        opts = replace(self.opts, report=lambda message: report(where + message))
        try:
            with self.batcher.session(self.opts.search.seed) as policy:
                result, graph, root, verdicts = prove_row(
                    item.payload, self.backend, policy, self.policy_info, opts, self.run_id)
        except ProveError:
            raise  # the run cannot go on (a backend that is not installed)
        except ValueError as err:  # a bad theorem row (TheoremError is a ValueError)
            return Outcome({"id": str(item.payload.get("id", item.seq)), "line": item.seq,
                            "error": str(err)}, report=str(err))
        result["line"] = item.seq
        return Outcome(result, graph, root, verdicts)

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        ok = [r for r in map(ProofSearchResult.from_dict, results) if not r.error]
        summary = {
            "run_id": session.run_id, "resumed": session.resumed, "theorems": len(results),
            "rejected": len(results) - len(ok),
            "proved": sum(1 for r in ok if r.verdict == "verified"),
            "search_proved_but_recheck_failed": sum(
                1 for r in ok if r.status == "proved" and r.verdict != "verified"),
            "policy": self.policy_info["spec"], "backend": self.opts.backend,
            "wall_s": round(session.wall_s, 3), "concurrency": self.scale.concurrency,
        }
        if self.scale.concurrency > 1 and self.batcher is not None:  # none on workers
            summary["batching"] = self.batcher.stats.to_dict()  # what the model saw
        return summary

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        release(self.opts)


def run_prove(source: Path | Sequence[Any], opts: ProveOptions,
              scale: ScaleOptions | None = None
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Prove every theorem of a JSONL file or of in-memory rows (resumable), ``scale``
    searches at once / on workers or Ray; returns (summary, results)."""
    scale = scale or ScaleOptions()
    job = ProveJob(source, opts, scale)
    settings = RunSettings(out=opts.out, store=opts.store, fresh=opts.fresh,
                           progress=opts.progress, limit=opts.limit, report=opts.report,
                           workers=scale.workers, ray=scale.ray,
                           ray_address=scale.ray_address)
    return run_job(job, settings)
