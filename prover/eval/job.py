"""The ``eval`` job: every (theorem, attempt) of a benchmark is one item of the job runner.

Attempt ``a`` of the theorem on line ``i`` has key ``"i:a"`` and searches under the recorded
seed :func:`~prover.policy.batching.attempt_seed` (base seed, theorem id, a), so a rerun after
kill -9 skips committed attempts and redoes only unfinished ones, each exactly once in the
store and the output. Inside one runner batch (``chunk`` items), ``concurrency`` searches run in
threads; each owns its environment (its own Z3 context, with concurrent reference-count
decrements enabled, since Python may free its objects from another thread) and all share ONE
:class:`~prover.policy.batching.BatchingPolicy`. ``concurrency`` is not part of the run id:
it does not change results, so a run may resume with another K.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prover.backends import BACKENDS
from prover.eval.model_job import ModelJob, policy_identity, run_config
from prover.policy.batching import BatchingPolicy, attempt_seed
from prover.policy.openai_client import PolicyRequestError
from prover.policy.prompts import PromptTemplate
from prover.policy.registry import PolicySpecError, describe_policy, make_policy
from prover.proving import Backend, ProveError, ProveOptions, prove_row, release
from prover.records.job import FileInputJob, report_nothing
from prover.records.jsonl import InputError, read_jsonl
from prover.records.runner import Item, Outcome, Rejection, Session
from search.best_first import SearchConfig

Reporter = Any


@dataclass
class EvalOptions:
    """What to evaluate with, and where; budgets are in ``search`` (its ``seed`` is the base
    seed of the attempts). ``chunk`` items go to one runner batch (default ``2 * concurrency``):
    a kill loses at most that many unfinished attempts, which the rerun redoes."""

    backend: str = "z3"
    policy: str = "symbolic"
    search: SearchConfig = field(default_factory=SearchConfig)
    attempts: int = 1
    concurrency: int = 1
    chunk: int | None = None
    window_s: float = 0.01
    max_batch: int = 64
    temperature: float | None = None
    max_new_tokens: int | None = None
    repl_command: str | None = None
    lean_processes: int | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    report: Reporter = field(default=report_nothing)
    mode: str = "search"  # "search" | "whole" (prover/eval/whole_job.py)
    repair_rounds: int = 0  # whole mode: rounds of repair after the first proof
    prompt_format: str | None = None  # whole mode: a format name or .prompt file (None: default)
    workers: int = 1  # runner processes (each builds its own model and queue)
    ray: bool = False  # runner batches as Ray tasks (local cluster, or ray_address)
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.concurrency < 1 or self.workers < 1:
            raise ValueError("need attempts >= 1, concurrency >= 1 and workers >= 1")
        if self.mode not in ("search", "whole"):
            raise ValueError(f"mode must be 'search' or 'whole', not {self.mode!r}")
        if self.repair_rounds < 0:
            raise ValueError("need repair_rounds >= 0")
        if self.mode == "search" and (self.repair_rounds or self.prompt_format):
            raise ValueError("--repair-rounds and --prompt-format need --mode whole")


def concurrent_env(make_env: Any) -> Any:
    """``make_env`` whose Z3 context accepts reference-count decrements from any thread."""
    def wrapped(row: Mapping[str, Any], opts: ProveOptions) -> Any:
        env = make_env(row, opts)
        theorem = getattr(env, "theorem", None)
        ctx = getattr(theorem, "ctx", None)
        if ctx is not None:
            from prover.z3.gateway import allow_concurrent_dec_ref

            allow_concurrent_dec_ref(ctx)
        return env

    return wrapped


class EvalJob(ModelJob, FileInputJob):
    """Every attempt of every theorem of a JSONL benchmark (see the module docstring). The
    model is built by :meth:`start` in the process that calls it (never in the parent of a
    ``--workers``/``--ray`` run); the run's identity comes from the options alone
    (:mod:`prover.eval.model_job`). Subclasses (whole mode) change the hooks ``_backend``,
    ``_batch_size``, ``_prompt``, ``_config_extra``, ``_item_budget`` and ``_build_model``."""

    command = "eval"
    commit_each_batch = True
    pool_batch_size = 1
    fatal = (ProveError, PolicyRequestError)
    LOCAL = ("batcher", "backend", "_lock")

    def __init__(self, path: Path, opts: EvalOptions) -> None:
        if opts.backend not in BACKENDS:
            raise ProveError(f"unknown backend {opts.backend!r}; choose one of "
                             f"{', '.join(BACKENDS)}")
        self.opts = opts
        self.backend: Backend = self._backend()
        self.batch_size = self._batch_size()
        identity = policy_identity(opts.policy, BACKENDS[opts.backend].family, opts.search.seed,
                                   temperature=opts.temperature, max_tokens=opts.max_new_tokens,
                                   prompt=self._prompt())
        FileInputJob.__init__(self, path, run_config(opts.backend, identity, opts.search,
                                                     attempts=opts.attempts,
                                                     **self._config_extra()))
        #: the policy's provenance: the identity until a model is built in this process
        self.policy_info: dict[str, Any] = self._declared_info(identity)
        self.prove_opts = ProveOptions(backend=opts.backend, policy=opts.policy,
                                       search=opts.search, repl_command=opts.repl_command,
                                       lean_processes=opts.lean_processes)
        self.item_budget_s = self._item_budget()
        self.batcher: BatchingPolicy | None = None
        self._lock = threading.Lock()
        self.seen_stats: dict[str, Any] = {}

    # ------------------------------------------------------------------ hooks
    def _backend(self) -> Backend:
        """The backend, its Z3 contexts freed from any thread (searches run in threads)."""
        backend = BACKENDS[self.opts.backend]
        return replace(backend, make_env=concurrent_env(backend.make_env))

    def _batch_size(self) -> int:
        return max(1, self.opts.chunk or 2 * self.opts.concurrency)

    def _prompt(self) -> PromptTemplate | None:
        """The policy-side prompt template the job sets (None: the policy's default)."""
        return None

    def _config_extra(self) -> dict[str, Any]:
        """Settings of this job's mode that name the run, besides the shared ones."""
        return {}

    def _item_budget(self) -> float | None:
        return self.opts.search.wall_timeout_s

    def _declared_info(self, identity: dict[str, Any]) -> dict[str, Any]:
        """The policy provenance of a process that does not build the model."""
        return {**identity, "built": "in the worker processes" if self.remote else "not yet"}

    def _build_model(self) -> None:
        """The model policy behind this process's one batching queue, and its provenance."""
        try:
            inner = make_policy(self.opts.policy, BACKENDS[self.opts.backend].family,
                                self.opts.search.seed, temperature=self.opts.temperature,
                                max_tokens=self.opts.max_new_tokens)
        except PolicySpecError as err:
            raise ProveError(str(err)) from err
        self.batcher = BatchingPolicy(inner, window_s=self.opts.window_s,
                                      max_batch=self.opts.max_batch)
        self.policy_info = describe_policy(self.batcher, self.opts.policy)

    @property
    def model_built(self) -> bool:
        return self.batcher is not None

    def local_parts(self) -> None:
        self._lock = threading.Lock()
        self.backend = self._backend()

    @property
    def remote(self) -> bool:
        """Whether the attempts run in worker processes (their queues are not this one)."""
        return self.opts.workers > 1 or self.opts.ray

    def start(self, run_id: str) -> None:
        FileInputJob.start(self, run_id)
        if self.builds_model and not self.model_built:  # never in a --workers/--ray parent
            self._build_model()
        if self.opts.backend == "z3":
            import prover.z3.env  # noqa: F401  (loads Z3 before the first theorem)
        elif self.opts.backend == "lean-repl" and self.builds_model:
            from prover.backends import _lean_pool  # one pool for all threads, made before them

            _lean_pool(self.prove_opts)

    def total(self) -> int | None:
        return sum(1 for _ in read_jsonl(self.path)) * self.opts.attempts

    def read(self) -> Iterator[Item | Rejection]:
        n = self.opts.attempts
        for number, obj in read_jsonl(self.path):
            line = number - 1
            if isinstance(obj, InputError):
                yield Rejection(f"{line}", line * n, obj.message, None, number)
                continue
            theorem = str(obj.get("id", line))
            for attempt in range(n):
                payload = {"row": obj, "theorem": theorem, "attempt": attempt,
                           "seed": attempt_seed(self.opts.search.seed, theorem, attempt)}
                yield Item(f"{line}:{attempt}", line * n + attempt, payload, theorem, number)

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        return {"id": rejection.key, "theorem_line": rejection.seq // self.opts.attempts,
                "error": rejection.message}

    def process(self, batch: list[Item]) -> list[Outcome]:
        workers = min(self.opts.concurrency, len(batch))
        if workers <= 1:
            return [self._attempt(item) for item in batch]
        with ThreadPoolExecutor(workers, thread_name_prefix="eval-search") as pool:
            return list(pool.map(self._attempt, batch))

    def _attempt(self, item: Item) -> Outcome:
        """One search of one theorem under its recorded seed; a bad row becomes its error."""
        payload = item.payload
        seed = payload["seed"]
        opts = replace(self.prove_opts, search=replace(self.opts.search, seed=seed),
                       resources=self.prove_opts.resources)
        base = {"theorem": payload["theorem"], "attempt": payload["attempt"], "seed": seed,
                "theorem_line": item.line - 1 if item.line else None}
        assert self.batcher is not None, "start() builds the queue"
        try:
            with self.batcher.session(seed) as policy:
                result, graph, root, verdicts = prove_row(
                    payload["row"], self.backend, policy, self.policy_info, opts, self.run_id)
        except (ProveError, PolicyRequestError):
            raise
        except ValueError as err:  # not a theorem row of this backend
            return Outcome({"id": payload["theorem"], **base, "error": str(err)},
                           report=str(err) if payload["attempt"] == 0 else None)
        except Exception as err:  # one attempt's internal failure: its row's error
            return Outcome({**self.failed(item, err), **base})
        result.update(base)
        result["provenance"]["seed"] = seed
        verdicts = [(node, verdict, replace(prov, seed=seed)) for node, verdict, prov in verdicts]
        stats = {"env_calls": float(result.get("counts", {}).get("env_calls", 0)),
                 "expansions": float(result.get("counts", {}).get("expansions", 0)),
                 "search_s": float(result.get("times", {}).get("wall_s", 0.0))}
        return Outcome(result, graph, root, verdicts, stats=stats)

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        from prover.eval.results import summarize

        summary = summarize(results, self.opts.attempts)
        summary.update(run_id=session.run_id, resumed=session.resumed,
                       complete=session.complete, backend=self.opts.backend,
                       policy=self.opts.policy, concurrency=self.opts.concurrency,
                       wall_s=round(session.wall_s, 3),
                       run_wall_s=round(session.run_wall_s, 3)
                       if session.run_wall_s is not None else None,
                       attempts_this_session=session.new_items,
                       workers=self.opts.workers, ray=self.opts.ray)
        if self.batcher is not None:  # what this process's model saw (none on workers)
            summary["batching"] = {**self.batcher.stats.to_dict(),
                                   **self.policy_info["batching"]}
        calls = session.stats.get("env_calls", 0.0)
        summary["tactics_per_s"] = round(calls / session.wall_s, 2) if session.wall_s else None
        return summary

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()  # closes the model policy too
        release(self.prove_opts)
