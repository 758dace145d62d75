"""Run (or resume) an evaluation into a folder, and read one back.

``DIR/attempts.jsonl`` (one row per attempt, the runner's output) and ``DIR/eval.sqlite`` (the
store: runs, every attempt's search graph and verdict) are written as attempts finish; at the
end ``DIR/results.jsonl`` (one row per theorem), ``DIR/summary.json`` and ``DIR/report.html``
are written atomically from every attempt of the run (earlier sessions included).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

from prover.eval.job import EvalJob, EvalOptions
from prover.eval.results import per_theorem
from prover.records.jsonl import atomic_write_text, dump_line
from prover.records.runner import RunSettings, run_job

ATTEMPTS = "attempts.jsonl"
STORE = "eval.sqlite"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"


def run_eval(path: Path, out_dir: Path, opts: EvalOptions) -> dict[str, Any]:
    """Evaluate every theorem of ``path`` (``opts.attempts`` searches each) into ``out_dir``;
    returns the summary (also written to ``DIR/summary.json``). Raises the runner's
    :class:`~prover.records.runner.RunInterrupted` on SIGINT/SIGTERM after saving what was
    done; a rerun of the same command resumes."""
    from prover.eval.report import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    job = make_job(path, opts)
    settings = RunSettings(out=out_dir / ATTEMPTS, store=out_dir / STORE, fresh=opts.fresh,
                           progress=opts.progress, limit=opts.limit, report=opts.report,
                           outputs=[("results", out_dir / RESULTS),
                                    ("summary", out_dir / SUMMARY),
                                    ("report", out_dir / REPORT)],
                           workers=opts.workers, ray=opts.ray, ray_address=opts.ray_address)
    summary, results = run_job(job, settings)
    theorems = per_theorem(results, opts.attempts)
    summary["benchmark"] = str(path)
    summary["budgets"] = job.config["search"]
    if opts.mode == "whole":
        summary["budgets"] = {**job.config["search"], "repair_rounds": opts.repair_rounds,
                              "max_new_tokens": opts.max_new_tokens}
    summary["provenance"] = {
        "run_id": summary["run_id"], "policy": job.policy_info,
        "backend_version": _backend_version(job), "host": platform.node(),
        "python": platform.python_version(), "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                  time.gmtime()),
        "store": str(out_dir / STORE)}
    atomic_write_text(out_dir / RESULTS, "".join(dump_line(t) + "\n" for t in theorems))
    atomic_write_text(out_dir / SUMMARY, json.dumps(summary, indent=2, default=str) + "\n")
    atomic_write_text(out_dir / REPORT, render_report(summary, theorems))
    return summary


def make_job(path: Path, opts: EvalOptions) -> EvalJob:
    """The job of ``opts.mode``: best-first searches, or whole proofs with repair."""
    if opts.mode == "whole":
        from prover.eval.whole_job import WholeEvalJob

        return WholeEvalJob(path, opts)
    return EvalJob(path, opts)


def _backend_version(job: EvalJob) -> str:
    try:
        return job.backend.version(job.prove_opts)
    except Exception as exc:  # provenance must not end the run: say what was not read
        return f"unknown ({type(exc).__name__}: {exc})"


def load_run(out_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(summary, per-theorem results)`` of a finished eval folder; raises
    FileNotFoundError naming the missing file."""
    summary_path, results_path = out_dir / SUMMARY, out_dir / RESULTS
    for needed in (summary_path, results_path):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed}: not found (is {out_dir} an eval --out folder "
                                    "of a finished run?)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in results_path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return summary, rows
