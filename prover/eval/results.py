"""From attempt rows to per-theorem results and the run's summary (pass@k, solved, budgets).

An attempt counts as a success only when its verdict is ``verified`` (the backend's re-check
passed); a search that reports a proof whose re-check fails is a failure and is counted
apart. Rejected rows (unreadable lines) and attempts that ended in an error are kept in the
per-theorem results with their messages, never as successes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prover.eval.passk import coverage, ks_for, mean_pass_at_k, pass_at_k


def solved(attempt: dict[str, Any]) -> bool:
    """Whether one attempt row is a success (verified by the backend's re-check)."""
    return not attempt.get("error") and attempt.get("verdict") == "verified"


def per_theorem(results: list[dict[str, Any]], attempts: int) -> list[dict[str, Any]]:
    """One row per theorem (input order): its attempts, successes, pass@k and first proof."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    order: list[int] = []
    for row in results:
        line = row.get("theorem_line")
        if line is None:
            line = int(str(row.get("key", "0")).split(":")[0])
        if line not in groups:
            order.append(line)
        groups[line].append(row)
    out = []
    for line in order:
        rows = sorted(groups[line], key=lambda r: r.get("attempt", -1))
        done = [r for r in rows if "attempt" in r]
        if not done:  # a rejected input line
            out.append({"id": rows[0].get("id"), "line": line, "attempts": 0, "successes": 0,
                        "solved": False, "error": rows[0].get("error"), "attempt_rows": []})
            continue
        n = len(done)
        c = sum(solved(r) for r in done)
        first = next((r for r in done if solved(r)), None)
        out.append({
            "id": done[0].get("theorem"), "line": line, "attempts": n, "successes": c,
            "solved": c > 0, "expected_attempts": attempts,
            "pass_at_k": {str(k): round(pass_at_k(n, c, k), 6) for k in ks_for(n)},
            "proof": first.get("proof") if first else None,
            "error": next((r.get("error") for r in done if r.get("error")), None),
            "attempt_rows": [{
                "key": r.get("key"), "attempt": r.get("attempt"), "seed": r.get("seed"),
                "verdict": r.get("verdict"), "reason": r.get("reason"),
                "status": r.get("status"), "stop_reason": r.get("stop_reason"),
                "proof": r.get("proof"), "error": r.get("error"),
                "expansions": (r.get("counts") or {}).get("expansions"),
                "env_calls": (r.get("counts") or {}).get("env_calls"),
                "wall_s": round((r.get("times") or {}).get("wall_s", 0.0), 3),
            } for r in done],
        })
    return out


def summarize(results: list[dict[str, Any]], attempts: int) -> dict[str, Any]:
    """The run's figures: theorems, solved, pass@k for k = 1, 2, 4, ... N, the coverage curve
    and the counts of errors and of proofs the re-check refused."""
    theorems = per_theorem(results, attempts)
    readable = [t for t in theorems if t["attempts"] > 0]
    counts = [(t["attempts"], t["successes"]) for t in readable]
    passk = {}
    for k in ks_for(attempts):
        value = mean_pass_at_k(counts, k)
        if value is not None:
            passk[str(k)] = round(value, 6)
    return {
        "theorems": len(theorems),
        "rejected": len(theorems) - len(readable),
        "solved": sum(t["solved"] for t in readable),
        "attempts": attempts,
        "attempts_done": sum(t["attempts"] for t in readable),
        "pass_at_k": passk,
        "coverage": [[k, round(v, 6)] for k, v in coverage(counts, attempts)],
        "attempt_errors": sum(1 for r in results if "attempt" in r and r.get("error")),
        "proved_but_recheck_failed": sum(
            1 for r in results if r.get("status") == "proved" and not solved(r)),
        "expansions": sum((r.get("counts") or {}).get("expansions", 0) for r in results),
        "env_calls": sum((r.get("counts") or {}).get("env_calls", 0) for r in results),
    }
