"""proofgraph: formal verification for LLM reasoning (the thin public face).

>>> from proofgraph import check_solution, entail
>>> check_solution("", ["48/2 = 24", "48 + 24 = 70"])["first_error"]
1
>>> entail(["∀x (Cat(x) → Animal(x))", "Cat(tom)"], "Animal(tom)")["answer"]
'True'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prover.records.verdicts import package_version

__version__ = package_version()
__all__ = ["audit", "check", "check_solution", "entail", "entail_file", "eval_bench", "formalize",
           "prove", "show", "synth", "__version__"]


def check_solution(problem: str, steps: list[str], *, solution_id: str = "0",
                   timeout_ms: int = 2000, rlimit: int = 5_000_000) -> dict[str, Any]:
    """Step-check one CoT solution; returns the result dict (steps, claims, verdicts,
    ``first_error``, provenance) exactly as ``proofgraph check`` writes it."""
    from formalizer.stepcheck import Solution, StepChecker
    from prover.arith.check import Limits

    if not steps or not all(isinstance(s, str) for s in steps):
        raise ValueError("steps must be a non-empty list of strings")
    result, _ = StepChecker(Limits(timeout_ms, rlimit)).check(
        Solution(solution_id, problem, list(steps)))
    return result


def check(path: str | Path, *, out: str | Path | None = None, store: str | Path | None = None,
          html: str | Path | None = None, fmt: str = "auto", timeout_ms: int = 2000,
          rlimit: int = 5_000_000, formalizer: str = "rules",
          llm_samples: int = 4, in_process: bool = False, row_timeout_s: float | None = None,
          workers: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Step-check every solution of a file (resumable like the CLI); returns (summary, results).
    ``formalizer="llm:hf:PATH"`` (or ``llm:openai:URL#MODEL``) adds the LLM step formalization
    with local and grounded checks, as ``check --formalizer``. Rows run in killable workers
    (``workers``, default as the CLI's: :func:`proofgraph.run_options.default_workers`) under
    ``row_timeout_s`` each (default: the CLI's ``--row-timeout``) unless ``in_process``."""
    from dataclasses import replace

    from proofgraph.jobs import JobOptions, run_check
    from proofgraph.run_options import default_workers

    if workers is None:
        workers = default_workers(Path(path), in_process=in_process, ray=False,
                                  llm=formalizer != "rules", fmt=fmt)
    opts = JobOptions(out=_path(out), store=_path(store), html=_path(html), fmt=fmt,
                      timeout_ms=timeout_ms, rlimit=rlimit, progress=False,
                      formalizer=formalizer, llm_samples=llm_samples, in_process=in_process,
                      workers=workers)
    if row_timeout_s is not None:
        opts = replace(opts, row_timeout_s=row_timeout_s)
    return run_check(Path(path), opts)


def entail(premises: list[str], conclusion: str, *, timeout_ms: int = 2000,
           rlimit: int = 5_000_000) -> dict[str, Any]:
    """premises ⊢ conclusion in first-order logic: answer True / False / Uncertain /
    Inconsistent / Unknown with evidence. Raises ValueError on a syntax error."""
    from prover.z3.entail import check_entailment

    return check_entailment(list(premises), conclusion, timeout_ms=timeout_ms,
                            rlimit=rlimit).to_dict()


def entail_file(path: str | Path, *, out: str | Path | None = None,
                store: str | Path | None = None, timeout_ms: int = 2000,
                rlimit: int = 5_000_000, in_process: bool = False,
                row_timeout_s: float | None = None, workers: int | None = None
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decide every row of an entailment JSONL file (resumable like the CLI); returns
    (summary, results). Rows run in killable workers (``workers``, default as the CLI's) under
    ``row_timeout_s`` each (default: the CLI's ``--row-timeout``; a row past it is an error
    with reason ``timeout``, tried again on resume) unless ``in_process``."""
    from dataclasses import replace

    from proofgraph.entail_job import EntailOptions, run_entail
    from proofgraph.run_options import default_workers

    if workers is None:
        workers = default_workers(Path(path), in_process=in_process, ray=False, llm=False)
    opts = EntailOptions(out=_path(out), store=_path(store), timeout_ms=timeout_ms,
                         rlimit=rlimit, progress=False, in_process=in_process,
                         workers=workers)
    if row_timeout_s is not None:
        opts = replace(opts, row_timeout_s=row_timeout_s)
    return run_entail(Path(path), opts)


def prove(theorems: str | Path | list[dict[str, Any]], *, backend: str = "z3",
          policy: str = "symbolic", out: str | Path | None = None,
          store: str | Path | None = None, **search: Any) -> tuple[dict[str, Any],
                                                                   list[dict[str, Any]]]:
    """Prove theorems (a JSONL path or a list of rows) like ``proofgraph prove``; ``search``
    takes SearchConfig fields (batch_size, num_candidates, tactic_timeout_s, wall_timeout_s,
    max_expansions, max_depth, length_normalize, seed). Returns (summary, results)."""
    from proofgraph.prove_job import ProveOptions, run_prove
    from search.best_first import SearchConfig

    opts = ProveOptions(backend=backend, policy=policy, search=SearchConfig(**search),
                        out=_path(out), store=_path(store), progress=False)
    if isinstance(theorems, list):
        return run_prove(theorems, opts)  # rows in memory: no temporary file
    return run_prove(Path(theorems), opts)


def formalize(statements: str | list[Any], *, target: str, model: str, k: int = 8,
              repair_rounds: int = 1, seed: int = 0, max_new_tokens: int = 256,
              temperature: float = 0.8, in_process: bool = False,
              row_timeout_s: float | None = None, **config: Any) -> list[dict[str, Any]]:
    """Formalize NL statements (a string, or rows ``{id, text}`` / FOLIO ``{premises,
    conclusion}``) into ``target`` (lean, z3, fol) with the model ``model`` (``hf:PATH``,
    ``openai:URL#MODEL``, ``vllm:PATH``), as ``proofgraph formalize --json``: one dict per
    statement with candidates and their checks, clusters, flags, the chosen one, provenance.
    As in the CLI, the Z3/FOL checks of each statement run in a killable worker under
    ``row_timeout_s`` (default: the CLI's ``--row-timeout``) unless ``in_process``.
    ``config`` takes the other FormalizeConfig fields (equiv_timeout_ms, backtranslate, ...)."""
    from formalizer.autoformalize import FormalizeConfig, make_sampler
    from formalizer.autoformalize import formalize as run
    from proofgraph.run_options import ROW_TIMEOUT_S

    cfg = FormalizeConfig(target=target, k=k, repair_rounds=repair_rounds, **config)
    sampler = make_sampler(model, max_new_tokens=max_new_tokens, temperature=temperature,
                           seed=seed)
    items = [statements] if isinstance(statements, str) else list(statements)
    limit = None if in_process else (ROW_TIMEOUT_S if row_timeout_s is None else row_timeout_s)
    return [result.to_dict() for result in run(items, sampler, cfg, row_timeout_s=limit)]


def show(target: str, html: str | Path, *, store: str | Path | None = None) -> dict[str, Any]:
    """Write the offline HTML view of ``target`` (a run id of ``store``, ``RUN:KEY``, or a graph
    JSON file) to ``html``, as ``proofgraph show``; returns ``{kind, items, nodes, html}``."""
    from prover.report.viewer import render_target

    view = render_target(target, _path(store))
    Path(html).write_text(view.html, encoding="utf-8")
    return {"kind": view.kind, "items": view.items, "nodes": view.nodes, "html": str(html)}


def synth(task: str, input: str | Path, out: str | Path, **options: Any) -> dict[str, Any]:
    """Generate synthetic data like ``proofgraph synth TASK INPUT --out OUT`` (tasks ``proofs``,
    ``steps``, ``mutate``; resumable, sharded JSONL + Parquet, manifest); returns the summary."""
    from proofgraph.synth_api import synth as run

    return run(task, input, out, **options)


def audit(rows: str | Path | list[dict[str, Any]], *, allow_native_decide: bool = False,
          repl_command: str | None = None, lean: bool = True, out: str | Path | None = None,
          store: str | Path | None = None, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Audit Lean proofs like ``proofgraph audit``: rows ``{id, statement, header?, proof}``
    (a list, or a JSONL path, resumable with ``out``/``store``) -> one result per row with
    ``verdict`` (verified | refuted | unknown + ``reason``) and every check with its evidence.
    ``lean=False`` (or no usable REPL) runs the text checks only: never verified then."""
    from proofgraph.audit_job import AuditOptions, audit_rows, run_audit

    if isinstance(rows, (str, Path)):
        opts = AuditOptions(out=_path(out), store=_path(store), progress=False,
                            allow_native_decide=allow_native_decide, timeout_s=timeout_s,
                            repl_command=repl_command, lean=lean)
        return run_audit(Path(rows), opts)[1]
    return audit_rows(rows, allow_native_decide=allow_native_decide,
                      repl_command=repl_command, lean=lean, timeout_s=timeout_s)


def eval_bench(bench: str | Path, out: str | Path, *, backend: str = "z3",
               policy: str = "symbolic", attempts: int = 1, concurrency: int = 1,
               **search: Any) -> dict[str, Any]:
    """Evaluate a prover like ``proofgraph eval BENCH --out OUT``: ``attempts`` searches per
    theorem (recorded seeds), ``concurrency`` at once on one batched policy, resumable; writes
    results.jsonl, summary.json and report.html to ``out``; returns the summary (``solved``,
    ``pass_at_k``, ...). ``search`` holds :class:`search.SearchConfig` fields (budgets, seed)."""
    from prover.eval.job import EvalOptions
    from prover.eval.run import run_eval
    from search.best_first import SearchConfig

    opts = EvalOptions(backend=backend, policy=policy, search=SearchConfig(**search),
                       attempts=attempts, concurrency=concurrency, progress=False)
    return run_eval(Path(bench), Path(out), opts)


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None
