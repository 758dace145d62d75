"""The ``check`` job: input file -> :func:`prover.records.runner.run_job` ->
JSONL / store / HTML.

Shared by the CLI and the Python API. Each job only says how to read its rows and how to
process a batch; resume, order, group commits, locks, the output-path guard, progress,
signals and one row's failure are the runner's. Bad rows never stop a job: each becomes a
result with an ``error`` field and is counted as rejected.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from formalizer.inputs import InputError, read_solutions
from formalizer.stepcheck import BACKEND_NAME, Solution, StepChecker
from proofgraph.run_options import RunOptions, count_lines
from prover.arith.check import Limits
from prover.records import graph as pg
from prover.records.graph_layout import solution_layout
from prover.records.job import FileInputJob
from prover.records.jsonl import atomic_write_text
from prover.records.prepared import prepare_item
from prover.records.runner import (
    Item,
    Outcome,
    Rejection,
    RunSettings,
    Session,
    run_job,
)
from prover.report.html import render_step_report


@dataclass
class JobOptions(RunOptions):
    """A check run's options: :class:`proofgraph.run_options.RunOptions` and how the steps are
    read and checked; every field that changes results is in the run id (``limit`` is not: a
    trial with ``--limit`` and the full run are the same run)."""

    html: Path | None = None
    fmt: str = "auto"
    formalizer: str = "rules"
    llm_samples: int = 4
    llm_max_new_tokens: int = 256
    llm_chunk: int = 16
    solver_budget_s: float | None = None  # Z3 seconds per solution (None: the default)


def warm_up() -> None:
    """What a check worker started ahead does while it waits for its job
    (:func:`prover.synth.executor.prestarted`): check one small solution with a throw-away
    checker, so that the lazy set-up of the first check is done before the first row."""
    checker = StepChecker(Limits(2000, 5_000_000), run_id="warm-up")
    checker.check(Solution("warm-up", "Ann has 3 pens and buys 4 more.",
                           ["3 + 4 = <<3+4=7>>7", "She has 7 pens."]))


def summarize_check(results: list[dict[str, Any]], wall_s: float, new_claims: int,
                    run_id: str, resumed: bool) -> dict[str, Any]:
    """The ``--json`` summary of a check run (all its results, including resumed ones).

    It counts what the typed rows (:mod:`prover.records.results`) give (``error``, ``steps``,
    ``first_error``, each claim's ``kind`` and ``ClaimResult.label``) straight from the result
    dicts: it runs once over every row of the run after the last row is done, where typing
    each row first cost about a third of a millisecond per row (seconds on a large file)."""
    verdicts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    claims = steps = first_errors = rejected = 0
    for row in results:
        if row.get("error"):
            rejected += 1
            continue
        row_steps = row.get("steps") or ()
        steps += len(row_steps)
        first_errors += row.get("first_error") is not None
        for step in row_steps:
            for claim in step.get("claims") or ():
                kinds[str(claim.get("kind"))] += 1
                verdict = claim.get("verdict")
                if verdict:  # ClaimResult.label: the verdict, "unknown: REASON"
                    claims += 1
                    verdicts[verdict if verdict != "unknown"
                             else f"unknown: {claim.get('reason')}"] += 1
    summary = {
        "run_id": run_id, "resumed": resumed, "solutions": len(results) - rejected,
        "rejected": rejected, "steps": steps, "claims": claims,
        "verdicts": dict(sorted(verdicts.items())), "claim_kinds": dict(sorted(kinds.items())),
        "first_errors": first_errors, "claims_checked_now": new_claims,
        "claims_per_s": round(new_claims / wall_s, 1) if wall_s > 0 else None,
        "wall_s": round(wall_s, 3),
    }
    llm = _llm_summary([r for r in results if not r.get("error")])
    if llm:
        summary["llm"] = llm
    return summary


def _llm_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over the LLM fields (empty when no row has them): claims, local and grounded
    verdicts, first errors by view, steps with an upstream error."""
    views: dict[str, collections.Counter[str]] = {"local": collections.Counter(),
                                                  "grounded": collections.Counter()}
    claims = upstream = 0
    for result in results:
        for step in result.get("steps") or []:
            llm = step.get("llm")
            if llm is None:
                continue
            upstream += llm.get("upstream_error") is not None
            for claim in llm.get("claims", []):
                claims += 1
                for view, counter in views.items():
                    verdict = claim[view]
                    counter[verdict["verdict"] if verdict["verdict"] != "unknown"
                            else f"unknown: {verdict.get('reason')}"] += 1
    if not any("givens" in r for r in results):
        return {}
    return {"claims": claims,
            "verdicts_local": dict(sorted(views["local"].items())),
            "verdicts_grounded": dict(sorted(views["grounded"].items())),
            "first_errors_local": sum(r.get("first_error_local") is not None for r in results),
            "first_errors_grounded": sum(r.get("first_error_grounded") is not None
                                         for r in results),
            "steps_with_upstream_error": upstream}


class CheckJob(FileInputJob):
    """Step-check every solution of a file (rules extractor, optionally an LLM formalizer)."""

    command = "check"

    def __init__(self, path: Path, opts: JobOptions) -> None:
        super().__init__(path, {"format": opts.fmt, "timeout_ms": opts.timeout_ms,
                                "rlimit": opts.rlimit, "limit": None,
                                "checker": "arith-extract/1"})
        self.opts = opts
        # ``limit`` stays None in the config so run ids match runs recorded before a limit
        # stopped naming a run.
        if opts.solver_budget_s is not None:  # in the run id only when set (old ids hold)
            self.config["solver_budget_s"] = opts.solver_budget_s
        self.uses_llm = opts.formalizer != "rules"  # the LLM modules load only for an LLM
        if self.uses_llm:
            from formalizer.llm_steps import LLMFormalizerError, model_spec

            model_spec(opts.formalizer)  # a bad spec raises here, before any output
            # the model server or model failed: end the run (resumable)
            self.fatal = (LLMFormalizerError,)
            self.config.update(formalizer=opts.formalizer, llm_samples=opts.llm_samples,
                               llm_max_new_tokens=opts.llm_max_new_tokens)
            self.batch_size = max(1, opts.llm_chunk)
        if not self.uses_llm and not opts.ray:
            # one row per worker message: its hard limit is the row's own, and a killed row
            # takes no innocent rows with it (costs ~0.4 ms of the parent's CPU per row)
            self.pool_batch_size = 1
            # ~0.2 s of rows queued per worker: it keeps checking while the parent commits a
            # group (one store transaction every second), instead of idling through it
            self.pool_prefetch = 32
        self.checker: StepChecker | None = None
        self.llm: Any = None
        self.run_wall_s: float | None = None

    def start(self, run_id: str) -> None:
        """Load the LLM formalizer (a model that cannot load fails here, before any output);
        the step checker is built on first use, so a parent whose rows run in a worker never
        builds one."""
        super().start(run_id)
        if self.uses_llm:
            from formalizer.llm_steps import make_formalizer

            self.llm = make_formalizer(self.opts.formalizer, limits=self._limits(),
                                       run_id=run_id, samples=self.opts.llm_samples,
                                       max_new_tokens=self.opts.llm_max_new_tokens)

    def _limits(self) -> Limits:
        return Limits(self.opts.timeout_ms, self.opts.rlimit)

    def _checker(self) -> StepChecker:
        if self.checker is None:
            limits, run_id = self._limits(), self.run_id
            self.checker = StepChecker(limits, run_id=run_id) \
                if self.opts.solver_budget_s is None \
                else StepChecker(limits, run_id=run_id, solver_budget_s=self.opts.solver_budget_s)
        return self.checker

    def total(self) -> int | None:
        return count_lines(self.path) if self.path.is_file() else None

    def read(self) -> Iterator[Item | Rejection]:
        for entry in read_solutions(self.path, self.opts.fmt):
            if isinstance(entry, InputError):
                yield Rejection(str(entry.line - 1), entry.line - 1, entry.message,
                                entry.row_id, entry.line)
            else:
                yield Item(str(entry.line), entry.line, entry, entry.id, entry.line + 1)

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        return {"id": rejection.row_id if rejection.row_id is not None else rejection.key,
                "line": rejection.seq, "error": rejection.message, "steps": [],
                "first_error": None}

    def process(self, batch: list[Item]) -> list[Outcome]:
        checker = self._checker()
        solutions: list[Solution] = [item.payload for item in batch]
        forms = self.llm.formalize(solutions) if self.llm is not None else []
        outcomes = []
        for position, solution in enumerate(solutions):
            began = time.perf_counter()
            result, verdicts = checker.check(solution)
            mid = time.perf_counter()
            layout = solution_layout(result, backend=BACKEND_NAME)
            root = layout.root
            # the rules path keeps the layout (the store's rows come from it, and nothing
            # else reads an outcome's graph); the LLM path adds its claims to a DiGraph
            graph: nx.DiGraph | None = None
            rows = [(pg.node_id("claim", text, BACKEND_NAME), v, p) for text, v, p in verdicts]
            claims = len(rows)
            if self.llm is not None:
                from formalizer.llm_steps import LLM_BACKEND

                rows += self.llm.annotate(result, forms[position])
                graph = layout.to_graph()
                pg.add_llm_claims(graph, result, BACKEND_NAME, LLM_BACKEND)
            done = time.perf_counter()
            stats = {"claims": float(claims), "check_s": mid - began, "graph_s": done - mid}
            prepared = None
            if self.opts.store is not None:  # the store's rows, built here (in the worker)
                item = batch[position]
                prepared = prepare_item(
                    self.run_id, item.key, item.seq,
                    {"key": item.key, "run_id": self.run_id, **result},
                    layout if graph is None else graph, root, rows,
                    line=self.opts.out is not None)
                stats["prepare_s"] = time.perf_counter() - done
            outcomes.append(Outcome(result, graph, root, rows, stats=stats, prepared=prepared))
        return outcomes

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        session.stages.update(check=session.stats.get("check_s", 0.0),
                              graph=session.stats.get("graph_s", 0.0),
                              prepare=session.stats.get("prepare_s", 0.0))
        self.run_wall_s = session.run_wall_s
        return summarize_check(results, session.wall_s, int(session.stats.get("claims", 0)),
                               session.run_id, session.resumed)

    def __getstate__(self) -> dict[str, Any]:
        """What a pool worker gets: settings only (it builds its own checker and model)."""
        state = dict(self.__dict__)
        state.update(checker=None, llm=None, opts=replace(self.opts, report=_quiet))
        return state


def check_settings(job: CheckJob, opts: JobOptions) -> RunSettings:
    """The runner settings of a check: by default the rows run in a killable worker process
    (even with one worker) under a hard wall-clock limit of ``opts.row_timeout_s`` per row, so
    a hang that nothing in process can stop fails its row with reason ``timeout`` and the run
    goes on; ``opts.in_process`` checks them here instead (no start-up, no hard limit). The
    LLM formalizer runs where its model was loaded (here, unless ``--workers``/``--ray``), so
    that a model failure ends the run as it should."""
    return opts.settings([("--html", opts.html)], pool=not job.uses_llm)


def run_check(path: Path, opts: JobOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Step-check every solution of ``path``; returns (summary, all results in input order).

    With ``opts.formalizer`` ``llm:<spec>`` the rows are also formalized by the model, in
    chunks of ``opts.llm_chunk`` rows (one batched model call per step position), and checked
    locally and grounded (:mod:`formalizer.llm_steps`); a bad spec raises before any output.
    ``opts.html`` gets the step report with the whole run's figures.
    """
    job = CheckJob(path, opts)  # a bad --formalizer spec raises here, before any output
    summary, results = run_job(job, check_settings(job, opts))
    if opts.html is not None:
        atomic_write_text(opts.html, render_step_report(
            results, title=f"proofgraph check: {path.name}",
            summary=whole_run_figures(summary, job.run_wall_s)))
    return summary, results


def whole_run_figures(summary: dict[str, Any], run_wall_s: float | None) -> dict[str, Any]:
    """The summary as a report shows it: the run's figures over all its sessions (wall time
    and claims/s from the store's record of every session; without a store, this session's
    figures are labelled as such)."""
    out = {k: v for k, v in summary.items()
           if k not in ("claims_checked_now", "claims_per_s", "wall_s")}
    if run_wall_s:
        out["wall_s"] = round(run_wall_s, 3)
        out["claims_per_s"] = round(summary["claims"] / run_wall_s, 1)
    else:
        out["wall_s_this_session"] = summary.get("wall_s")
        out["claims_checked_this_session"] = summary.get("claims_checked_now")
    return out


def _quiet(message: str) -> None:
    """The reporter of a pool worker's copy of a job (the runner reports in the parent)."""
