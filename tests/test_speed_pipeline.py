"""The speed changes of the check pipeline change no output: the summary counted straight from
the result dicts equals the one counted from the typed rows, and rows queued deep on a pool
worker (``CheckJob.pool_prefetch``) give the same results, in input order, as in process."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from test_runner_hard_limit import gsm8k_head, normalized

from proofgraph.jobs import CheckJob, JobOptions, run_check, summarize_check
from prover.records.executors import LOCAL_PREFETCH, PoolExecutor
from prover.records.results import SolutionResult


def typed_counts(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The counts of :func:`summarize_check` as they were computed before: from the typed rows."""
    verdicts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    claims = steps = first_errors = rejected = 0
    for row in results:
        result = SolutionResult.from_dict(row)
        if result.error:
            rejected += 1
            continue
        steps += len(result.steps or ())
        first_errors += result.first_error is not None
        for claim in result.claims():
            kinds[str(claim.kind)] += 1
            if claim.label is not None:
                claims += 1
                verdicts[claim.label] += 1
    return {"solutions": len(results) - rejected, "rejected": rejected, "steps": steps,
            "claims": claims, "verdicts": dict(sorted(verdicts.items())),
            "claim_kinds": dict(sorted(kinds.items())), "first_errors": first_errors}


def head(rows: int, tmp_path: Path) -> Path:
    return gsm8k_head(tmp_path, rows)


def test_summary_from_dicts_counts_as_the_typed_rows(tmp_path: Path) -> None:
    _, results = run_check(head(25, tmp_path), JobOptions(in_process=True))
    # rows a real run rarely has: rejected, no steps, undecided and unknown claims, no kind
    results = [*results,
               {"id": "bad", "line": 99, "error": "not JSON", "steps": [], "first_error": None},
               {"id": "empty", "line": 100, "steps": None, "first_error": None},
               {"id": "odd", "line": 101, "first_error": 0, "steps": [
                   {"index": 0, "claims": [
                       {"kind": "arith", "verdict": "unknown", "reason": "nonlinear"},
                       {"kind": "arith", "verdict": None},
                       {"verdict": "refuted"},
                       {"kind": "unit", "verdict": "", "reason": "x"}]},
                   {"index": 1, "claims": None},
                   {"index": 2}]}]
    summary = summarize_check(results, 2.0, 7, "run", False)
    expected = typed_counts(results)
    assert {k: summary[k] for k in expected} == expected
    assert expected["claims"] > 25 and expected["rejected"] == 1  # the rows are not trivial
    assert "unknown: nonlinear" in summary["verdicts"]


def test_check_queues_rows_ahead_on_the_local_pool(tmp_path: Path) -> None:
    path = head(3, tmp_path)
    job = CheckJob(path, JobOptions())
    assert job.pool_batch_size == 1 and job.pool_prefetch > LOCAL_PREFETCH
    pool = PoolExecutor(1, run_id="r")._pool(job)
    assert pool.opts.prefetch == job.pool_prefetch
    # batches of many rows (Ray) keep the shallow queue: a lost batch retries fewer rows
    assert CheckJob(path, JobOptions(ray=True)).pool_prefetch == LOCAL_PREFETCH


def test_deep_queue_gives_the_in_process_results(tmp_path: Path) -> None:
    path = head(45, tmp_path)  # more rows than the queue holds
    _, pooled = run_check(path, JobOptions(store=tmp_path / "pool.sqlite"))
    _, local = run_check(path, JobOptions(store=tmp_path / "local.sqlite", in_process=True))
    assert len(pooled) == 45
    assert [r["key"] for r in pooled] == [r["key"] for r in local]
    assert normalized(pooled) == normalized(local)
