"""The ``eval --mode whole`` job: whole-proof generation with repair (:mod:`prover.wholeproof`).

Items are the same ``(theorem, attempt)`` pairs with the same recorded seeds as search mode
(:class:`~prover.eval.job.EvalJob`), so resume, pass@k and the report work unchanged. A runner
batch holds ``concurrency`` theorems x ``attempts`` attempts (``chunk`` theorems when given):
all of them are sampled in ONE batched model call per round, and checked ``concurrency`` at a
time by the backend's final checker (z3: replay; lean-repl: the trust audit). The prompt
format file's SHA-256, the repair rounds and the policy are in the run's identity and in every
attempt's provenance.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prover.backends import BACKENDS
from prover.eval.job import EvalJob, EvalOptions
from prover.policy.batching import CallStats
from prover.policy.openai_client import PolicyRequestError
from prover.policy.prompts import PromptTemplate
from prover.policy.registry import PolicySpecError, describe_policy, make_policy
from prover.proving import Backend, ProveError, release
from prover.records.runner import Item, Outcome, Session
from prover.records.verdicts import Provenance, UnknownReason, Verdict
from prover.wholeproof import check as checks
from prover.wholeproof.prompts import DEFAULT_FORMAT, FormatError, load_format, row_values
from prover.wholeproof.rounds import (
    Checker,
    Task,
    attempt_graph,
    final_verdict,
    run_rounds,
    stop_reason,
)
from prover.wholeproof.sampling import WHOLE_TEMPLATE, deterministic, kind_of, tokenizer_of

WHOLE_BACKENDS = ("z3", "lean-repl")


class WholeEvalJob(EvalJob):
    """Every attempt of every theorem, each a whole proof plus repairs (module docstring).
    The shared set-up is :class:`EvalJob`'s; this class fills in its hooks."""

    LOCAL = ("batcher", "backend", "_lock", "policy", "tokenizer")

    def __init__(self, path: Path, opts: EvalOptions) -> None:
        if opts.backend not in WHOLE_BACKENDS:
            raise ProveError(f"--mode whole supports the backends {', '.join(WHOLE_BACKENDS)}, "
                             f"not {opts.backend!r}")
        family = BACKENDS[opts.backend].family
        try:
            self.fmt = load_format(opts.prompt_format or DEFAULT_FORMAT[family])
        except FormatError as err:
            raise ProveError(str(err)) from err
        if self.fmt.family != family:
            raise ProveError(f"prompt format {self.fmt.name!r} is for {self.fmt.family} rows, "
                             f"not {opts.backend}")
        self.policy: Any = None  # whole mode batches each round itself (one call per round)
        self.tokenizer: Any = None
        self.stats = CallStats(unit="rows", checks=True)
        self._version: str | None = None
        super().__init__(path, opts)

    # ------------------------------------------------------------------ EvalJob's hooks
    def _backend(self) -> Backend:
        return BACKENDS[self.opts.backend]  # checks run in threads, but build no Z3 goals there

    def _batch_size(self) -> int:
        return max(1, (self.opts.chunk or self.opts.concurrency) * self.opts.attempts)

    def _prompt(self) -> PromptTemplate:
        return WHOLE_TEMPLATE  # the prompt files render the prompt; the policy passes it on

    def _config_extra(self) -> dict[str, Any]:
        return {"mode": "whole", "repair_rounds": self.opts.repair_rounds,
                "prompt_sha256": self.fmt.sha256}

    def _item_budget(self) -> float | None:
        return self.opts.search.wall_timeout_s * (self.opts.repair_rounds + 1)

    def _declared_info(self, identity: dict[str, Any]) -> dict[str, Any]:
        return {**super()._declared_info(identity), **self._mode_info()}

    def _mode_info(self) -> dict[str, Any]:
        return {**self.fmt.describe(), "mode": "whole",
                "repair_rounds": self.opts.repair_rounds}

    def _build_model(self) -> None:
        """The model policy, with the identity template, and its provenance."""
        try:
            policy = make_policy(self.opts.policy, self.backend.family, self.opts.search.seed,
                                 prompt=WHOLE_TEMPLATE, temperature=self.opts.temperature,
                                 max_tokens=self.opts.max_new_tokens)
            kind = kind_of(policy)
        except (PolicySpecError, ValueError) as err:
            raise ProveError(str(err)) from err
        self.policy = policy
        self.tokenizer = tokenizer_of(policy)
        info = {**describe_policy(policy, self.opts.policy), **self._mode_info(),
                "batching": {"adapter": kind, "merged": True,
                             "deterministic": deterministic(policy),
                             "seeding": "per row: f(attempt seed, round)"}}
        self.policy_info = json.loads(json.dumps(info, default=str))

    @property
    def model_built(self) -> bool:
        return self.policy is not None

    # ------------------------------------------------------------------ processing
    def _checker(self) -> Checker:
        if self.opts.backend == "z3":
            budget = max(self.opts.search.tactic_timeout_s, 1.0) * 2
            return lambda row, code: checks.z3_check(row, code, budget)
        from prover.backends import _lean_pool

        pool = _lean_pool(self.prove_opts)
        return lambda row, code: checks.lean_check(row, code, pool)

    def process(self, batch: list[Item]) -> list[Outcome]:
        tasks: list[Task | None] = []
        bad: dict[int, Outcome] = {}
        for i, item in enumerate(batch):
            p = item.payload
            try:
                tasks.append(Task(p["row"], p["seed"], row_values(p["row"], self.fmt)))
            except ValueError as err:  # not a theorem row of this backend
                tasks.append(None)
                bad[i] = self._bad_row(item, err)
        if self.opts.backend == "z3":
            self._preflight(batch, tasks, bad)
        real = [t for t in tasks if t is not None]
        try:
            run_rounds(real, self.policy, self.fmt, self._checker(),
                       repair_rounds=self.opts.repair_rounds,
                       check_workers=self.opts.concurrency, tokenizer=self.tokenizer,
                       stats=self.stats)
        except (ProveError, PolicyRequestError):
            raise
        except BaseException as exc:
            unavailable = self.backend.unavailable()
            if unavailable and isinstance(exc, unavailable):
                raise ProveError(f"{self.opts.backend} backend unavailable: {exc}") from exc
            raise
        return [bad[i] if t is None else self._outcome(item, t)
                for i, (item, t) in enumerate(zip(batch, tasks, strict=True))]

    def _bad_row(self, item: Item, err: Exception) -> Outcome:
        """The outcome of an attempt whose row is not a theorem row (a ValueError) or broke
        the backend (anything else: an internal error row)."""
        p = item.payload
        base = self._base(item)
        if isinstance(err, ValueError):
            return Outcome({"id": p["theorem"], **base, "error": str(err)},
                           report=str(err) if p["attempt"] == 0 else None)
        return Outcome({**self.failed(item, err), **base})

    def _preflight(self, batch: list[Item], tasks: list[Task | None],
                   bad: dict[int, Outcome]) -> None:
        """Each distinct theorem's Z3 preflight, ``concurrency`` at a time; its verdict (if
        any) ends the theorem's attempts before any sampling; a bad row is its rows' error."""
        theorems: dict[str, Any] = {}
        for item, task in zip(batch, tasks, strict=True):
            if task is not None:
                theorems.setdefault(item.payload["theorem"], task.row)

        def one(row: Any) -> Any:
            try:
                return checks.z3_preflight(row)
            except Exception as err:  # noqa: BLE001 - returned, turned into that row's error
                return err

        names = list(theorems)
        workers = max(1, min(self.opts.concurrency, len(names)))
        with ThreadPoolExecutor(workers, thread_name_prefix="whole-preflight") as pool:
            found = dict(zip(names, pool.map(one, [theorems[n] for n in names]), strict=True))
        for i, (item, task) in enumerate(zip(batch, tasks, strict=True)):
            if task is None:
                continue
            got = found[item.payload["theorem"]]
            if isinstance(got, Exception):
                tasks[i] = None
                bad[i] = self._bad_row(item, got)
            else:
                task.final = got

    def _base(self, item: Item) -> dict[str, Any]:
        p = item.payload
        return {"theorem": p["theorem"], "attempt": p["attempt"], "seed": p["seed"],
                "theorem_line": item.line - 1 if item.line else None, "mode": "whole"}

    def _outcome(self, item: Item, task: Task) -> Outcome:
        verdict = final_verdict(task)
        proved = verdict.kind == "verified"
        last = task.rounds[-1]["proof"] if task.rounds else None
        proof: Any = last
        if self.opts.backend == "z3" and last is not None:
            proof = checks.script_lines(last)
        prov = Provenance(
            run_id=self.run_id, backend=self.opts.backend, backend_version=self._backend_version(),
            limits={"repair_rounds": self.opts.repair_rounds,
                    "max_new_tokens": self.opts.max_new_tokens,
                    "tactic_timeout_s": self.opts.search.tactic_timeout_s},
            formalizer=f"policy:{self.opts.policy}",
            formalizer_version=json.dumps(self.policy_info, sort_keys=True, default=str),
            wall_time_s=round(task.model_s + task.check_s, 6), policy=self.policy_info,
            seed=task.seed)
        statement = task.values.get("statement", "")
        graph, root, steps = attempt_graph(task, backend=self.opts.backend, statement=statement,
                                           provenance={**prov.to_dict()})
        verdicts = [(root, verdict, prov)]
        seen = {root}
        for node, record in zip(steps, task.rounds, strict=True):
            if node not in seen and task.final is not None:
                seen.add(node)
                verdicts.append((node, _round_verdict(record), prov))
        result = {
            "id": item.payload["theorem"], **self._base(item),
            "status": "proved" if proved else "failed",
            "stop_reason": stop_reason(task, self.opts.repair_rounds),
            "proof": proof if proved else None, "last_proof": None if proved else proof,
            **verdict.to_dict(), "rounds": task.rounds,
            "counts": {"rounds": len(task.rounds),
                       "proofs_checked": sum(r["proof"] is not None for r in task.rounds),
                       "env_calls": sum(r["proof"] is not None for r in task.rounds)},
            "times": {"wall_s": round(task.model_s + task.check_s, 4),
                      "model_s": round(task.model_s, 4), "check_s": round(task.check_s, 4)},
            "policy": self.policy_info, "provenance": prov.to_dict(), "error": None}
        stats = {"proofs_checked": float(result["counts"]["proofs_checked"]),
                 "rounds": float(len(task.rounds))}
        return Outcome(result, graph, root, verdicts, stats=stats)

    def _backend_version(self) -> str:
        if self._version is None:
            try:
                self._version = self.backend.version(self.prove_opts)
            except Exception as exc:  # provenance must not end the run: say what was not read
                self._version = f"unknown ({type(exc).__name__}: {exc})"
        return self._version

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        from prover.eval.results import summarize

        summary = summarize(results, self.opts.attempts)
        rounds = [len(r.get("rounds") or []) for r in results if "attempt" in r]
        repaired = sum(1 for r in results if r.get("verdict") == "verified"
                       and len(r.get("rounds") or []) > 1)
        summary.update(run_id=session.run_id, resumed=session.resumed,
                       complete=session.complete, backend=self.opts.backend,
                       policy=self.opts.policy, mode="whole",
                       repair_rounds=self.opts.repair_rounds, prompt_format=self.fmt.name,
                       prompt_sha256=self.fmt.sha256, concurrency=self.opts.concurrency,
                       wall_s=round(session.wall_s, 3),
                       run_wall_s=round(session.run_wall_s, 3)
                       if session.run_wall_s is not None else None,
                       attempts_this_session=session.new_items,
                       solved_after_repair=repaired,
                       mean_rounds=round(sum(rounds) / len(rounds), 3) if rounds else None)
        if self.model_built:  # what this process's model saw (none on workers)
            summary["batching"] = {**self.stats.to_dict(), **self.policy_info["batching"]}
        checked = session.stats.get("proofs_checked", 0.0)
        summary["proofs_per_s"] = round(checked / session.wall_s, 3) if session.wall_s else None
        summary["tactics_per_s"] = None
        return summary

    def close(self) -> None:
        release(self.prove_opts)
        closer = getattr(self.policy, "close", None) if self.policy is not None else None
        if callable(closer):
            closer()


def _round_verdict(record: dict[str, Any]) -> Verdict:
    """The verdict of one round's proof, from its record."""
    reason = record.get("reason")
    return Verdict(record["verdict"], reason=UnknownReason(reason) if reason else None,
                   detail=(record.get("errors") or record.get("detail") or "")[:500])
