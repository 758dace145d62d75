"""The ``check`` and ``entail`` jobs: input file -> resumable run -> JSONL / store / HTML.

Shared by the CLI and the Python API. Bad rows never stop a job: each becomes a result with an
``error`` field and is counted as rejected.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalizer.inputs import InputError, decode_jsonl, read_solutions
from formalizer.stepcheck import BACKEND_NAME, Solution, StepChecker
from prover import graph as pg
from prover.arith.check import Limits
from prover.report.html import render_step_report
from prover.runs import Progress, ResumableRun, file_digest, make_run_id
from prover.verdicts import Provenance, Verdict

Reporter = Callable[[str], None]


@dataclass
class JobOptions:
    """Where a job writes and how it checks; every field that changes results is in the run id."""

    out: Path | None = None
    store: Path | None = None
    html: Path | None = None
    fmt: str = "auto"
    timeout_ms: int = 2000
    rlimit: int = 5_000_000
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    report: Reporter = field(default=lambda message: None)
    formalizer: str = "rules"
    llm_samples: int = 4
    llm_max_new_tokens: int = 256
    llm_chunk: int = 16


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _claims_of(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in result.get("steps") or []:
        yield from step.get("claims") or []


def summarize_check(results: list[dict[str, Any]], wall_s: float, new_claims: int,
                    run: ResumableRun) -> dict[str, Any]:
    """The ``--json`` summary of a check run (all its results, including resumed ones)."""
    verdicts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    claims = steps = first_errors = rejected = 0
    for result in results:
        if result.get("error"):
            rejected += 1
            continue
        steps += len(result.get("steps") or [])
        first_errors += result.get("first_error") is not None
        for claim in _claims_of(result):
            kinds[claim["kind"]] += 1
            if claim.get("verdict"):
                claims += 1
                verdicts[claim["verdict"] if claim["verdict"] != "unknown"
                         else f"unknown: {claim.get('reason')}"] += 1
    summary = {
        "run_id": run.run_id, "resumed": run.resumed, "solutions": len(results) - rejected,
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


def run_check(path: Path, opts: JobOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Step-check every solution of ``path``; returns (summary, all results in input order).

    With ``opts.formalizer`` ``llm:<spec>`` the rows are also formalized by the model, in
    chunks of ``opts.llm_chunk`` rows (one batched model call per step position), and checked
    locally and grounded (:mod:`formalizer.llm_steps`); a bad spec raises before any output.
    """
    from formalizer.llm_steps import model_spec

    config: dict[str, Any] = {"format": opts.fmt, "timeout_ms": opts.timeout_ms,
                              "rlimit": opts.rlimit, "limit": opts.limit,
                              "checker": "arith-extract/1"}
    if model_spec(opts.formalizer) is not None:
        config.update(formalizer=opts.formalizer, llm_samples=opts.llm_samples,
                      llm_max_new_tokens=opts.llm_max_new_tokens)
    run_id = make_run_id("check", file_digest(path), config)
    llm = _llm_formalizer(opts, run_id)
    run = ResumableRun(run_id=run_id, command="check", config=config, store_path=opts.store,
                       out_path=opts.out, fresh=opts.fresh)
    done = run.open()
    checker = StepChecker(Limits(opts.timeout_ms, opts.rlimit), run_id=run_id)
    total = _count_lines(path) if opts.limit is None else opts.limit
    progress = Progress(total, "check", opts.progress)
    start = time.perf_counter()
    counts = {"claims": 0, "seen": 0}
    chunk: list[tuple[Solution, int]] = []
    chunk_size = max(1, opts.llm_chunk) if llm is not None else 1
    finished = False

    def flush() -> None:
        if not chunk:
            return
        forms = llm.formalize([item for item, _ in chunk]) if llm is not None else []
        for position, (item, seen) in enumerate(chunk):
            result, verdicts = checker.check(item)
            graph, root = pg.solution_graph(result, backend=BACKEND_NAME)
            rows = [(pg.node_id("claim", text, BACKEND_NAME), v, p) for text, v, p in verdicts]
            counts["claims"] += len(rows)
            if llm is not None:
                from formalizer.llm_steps import add_to_graph

                rows += llm.annotate(result, forms[position])
                add_to_graph(graph, result, BACKEND_NAME)
            run.commit(str(item.line), item.line, result, graph=graph, root=root, verdicts=rows)
            rate = counts["claims"] / max(time.perf_counter() - start, 1e-9)
            progress.update(seen, f"{rate:.0f} claims/s")
        chunk.clear()

    try:
        for item in read_solutions(path, opts.fmt):
            if opts.limit is not None and counts["seen"] >= opts.limit:
                break
            counts["seen"] += 1
            if isinstance(item, InputError):
                key = str(item.line - 1)
                if key not in done:
                    flush()  # keep the results in input order
                    opts.report(f"{path}:{item.line}: {item.message}")
                    run.commit(key, item.line - 1, _rejected(item))
                progress.update(counts["seen"])
                continue
            if str(item.line) in done:
                progress.update(counts["seen"])
                continue
            chunk.append((item, counts["seen"]))
            if len(chunk) >= chunk_size:
                flush()
        flush()
        finished = True
    finally:
        results = run.finish(progress, finished=finished)
    summary = summarize_check(results, time.perf_counter() - start, counts["claims"], run)
    if opts.html is not None:
        opts.html.write_text(render_step_report(results, title=f"proofgraph check: {path.name}",
                                                summary=summary), encoding="utf-8")
    return summary, results


def _llm_formalizer(opts: JobOptions, run_id: str) -> Any:
    """The LLM step formalizer of ``opts.formalizer`` or None for ``rules`` (loads the model)."""
    from formalizer.llm_steps import make_formalizer

    return make_formalizer(opts.formalizer, limits=Limits(opts.timeout_ms, opts.rlimit),
                           run_id=run_id, samples=opts.llm_samples,
                           max_new_tokens=opts.llm_max_new_tokens)


def _rejected(item: InputError) -> dict[str, Any]:
    return {"id": item.row_id if item.row_id is not None else str(item.line - 1),
            "line": item.line - 1, "error": item.message, "steps": [], "first_error": None}


def entailment_graph(result: dict[str, Any]) -> tuple[Any, str | None, list]:
    """Proof graph of one entailment result: premises -entailment-> conclusion for the premises
    in the unsat core (all premises when there is no core), the verdict on the conclusion."""
    if result.get("error") or "verdict" not in result:
        return None, None, []
    graph = pg.new_graph()
    conclusion = pg.add_node(graph, "claim", result["conclusion"], "z3-fol",
                             answer=result["answer"])
    used = result.get("evidence", {}).get("core_indices")
    for index, text in enumerate(result["premises"]):
        node = pg.add_node(graph, "statement", text, "z3-fol")
        if used is None or index in used:
            pg.add_edge(graph, node, conclusion, "entailment", premise_index=index)
    verdict = Verdict.from_dict({**result["verdict"], "evidence": result.get("evidence", {})})
    return graph, conclusion, [(conclusion, verdict, Provenance.from_dict(result["provenance"]))]


def run_entail(path: Path, opts: JobOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decide every entailment row of ``path``; returns (summary, all results)."""
    from prover.z3.entail import entail_row

    config = {"timeout_ms": opts.timeout_ms, "rlimit": opts.rlimit, "limit": opts.limit,
              "checker": "fol-z3/1"}
    run_id = make_run_id("entail", file_digest(path), config)
    run = ResumableRun(run_id=run_id, command="entail", config=config, store_path=opts.store,
                       out_path=opts.out, fresh=opts.fresh)
    done = run.open()
    progress = Progress(_count_lines(path), "entail", opts.progress)
    start = time.perf_counter()
    seen = 0
    finished = False
    try:
        for number, obj in decode_jsonl(path):
            if opts.limit is not None and seen >= opts.limit:
                break
            seen += 1
            key = str(number - 1)
            if key in done:
                continue
            if isinstance(obj, InputError):
                opts.report(f"{path}:{number}: {obj.message}")
                result: dict[str, Any] = {"id": str(number - 1), "error": {
                    "kind": "bad-row", "message": obj.message}}
            else:
                result = entail_row(obj, timeout_ms=opts.timeout_ms, rlimit=opts.rlimit,
                                    run_id=run_id)
                if not result.get("error"):
                    result["premises"], result["conclusion"] = obj["premises"], obj["conclusion"]
                if result.get("error"):
                    err = result["error"]
                    where = f"{err['formula']}: " if err.get("formula") else ""
                    opts.report(f"{path}:{number}: row {result.get('id')!r}: {where}"
                                f"{err.get('message', err)}")
            result["line"] = number - 1
            if isinstance(result.get("error"), dict):
                result["error_detail"] = result.pop("error")
                result["error"] = result["error_detail"].get("message", "rejected")
            graph, root, verdicts = entailment_graph(result)
            run.commit(key, number - 1, result, graph=graph, root=root, verdicts=verdicts)
            progress.update(seen)
        finished = True
    finally:
        results = run.finish(progress, finished=finished)
    answers = collections.Counter(r.get("answer", "rejected") for r in results
                                  if not r.get("error"))
    summary = {"run_id": run_id, "resumed": run.resumed, "rows": len(results),
               "rejected": sum(1 for r in results if r.get("error")),
               "answers": dict(sorted(answers.items())),
               "wall_s": round(time.perf_counter() - start, 3)}
    return summary, results
