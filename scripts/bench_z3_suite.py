"""Plain one-shot Z3 versus best-first search with the symbolic policy, on a theorem suite.

    python scripts/bench_z3_suite.py --data tests/data/z3_theorems.jsonl
    python scripts/bench_z3_suite.py --data tests/data/z3_divisibility.jsonl   # held out

For each row: (1) plain Z3, one unsat check of hypotheses ∧ ¬goal under ``--plain-timeout``;
(2) ``search.best_first.best_first_search`` over :class:`prover.z3.env.Z3Env` with
``SymbolicPolicy("z3")``, then the found proof replayed by ``check_proof`` in a fresh context
(only a re-checked proof counts). Prints one line per theorem and the totals (proved counts,
wall time) of both in one run. Rows labelled ``"holds": false`` are false statements: any
proof of one is counted and reported (it must stay 0). ``--json`` writes the per-theorem
records.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from prover.policy.symbolic import SymbolicPolicy
from prover.z3.env import Z3Env, check_proof, plain_z3
from prover.z3.theorem import load_theorems
from search.best_first import SearchConfig, best_first_search


def run_row(row: dict[str, Any], config: SearchConfig, plain_timeout: float) -> dict[str, Any]:
    """Both methods on one row, as a plain record."""
    t0 = time.perf_counter()
    plain = plain_z3(row, plain_timeout)
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = best_first_search(Z3Env(row), SymbolicPolicy("z3"), config)
    search_s = time.perf_counter() - t0
    verdict = check_proof(row, result.proof, budget_s=max(1.0, 4 * config.tactic_timeout_s)) \
        if result.proof else None
    return {
        "id": row["id"], "needs": row.get("needs", ""), "holds": row.get("holds", True),
        "plain": plain.label(), "plain_proved": plain.is_verified, "plain_s": plain_s,
        "search": result.status, "stop": result.stop_reason,
        "search_proved": bool(verdict and verdict.is_verified), "search_s": search_s,
        "recheck": verdict.label() if verdict else "-",
        "expansions": result.counts["expansions"], "proof": result.proof,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("tests/data/z3_theorems.jsonl"))
    parser.add_argument("--plain-timeout", type=float, default=5.0,
                        help="seconds for the one-shot Z3 check (default 5)")
    parser.add_argument("--tactic-timeout", type=float, default=0.5,
                        help="seconds per tactic in the search (default 0.5)")
    parser.add_argument("--expansions", type=int, default=40)
    parser.add_argument("--wall", type=float, default=60.0, help="search wall time per theorem")
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--only", nargs="*", default=None, help="theorem ids to run")
    parser.add_argument("--json", type=Path, default=None, help="write the records here")
    args = parser.parse_args(argv)

    rows = [r for r in load_theorems(args.data) if not args.only or r["id"] in args.only]
    config = SearchConfig(batch_size=1, num_candidates=args.candidates,
                          tactic_timeout_s=args.tactic_timeout, wall_timeout_s=args.wall,
                          max_expansions=args.expansions, concurrency=1)
    print(f"{'theorem':22} {'needs':18} {'plain z3':18} {'s':>6}  {'search':8} {'s':>6} "
          f"{'exp':>4}  proof")
    records = []
    for row in rows:
        rec = run_row(row, config, args.plain_timeout)
        records.append(rec)
        mark = "proved" if rec["search_proved"] else rec["search"]
        proof = "; ".join(rec["proof"]) if rec["search_proved"] else rec["stop"]
        print(f"{rec['id']:22} {rec['needs']:18} {rec['plain']:18} {rec['plain_s']:6.2f}  "
              f"{mark:8} {rec['search_s']:6.2f} {rec['expansions']:4}  {proof}", flush=True)
    n = len(records)
    plain_n = sum(r["plain_proved"] for r in records)
    search_n = sum(r["search_proved"] for r in records)
    print(f"\nplain z3: {plain_n}/{n} proved in {sum(r['plain_s'] for r in records):.1f} s "
          f"(timeout {args.plain_timeout} s each)")
    print(f"search:   {search_n}/{n} proved and re-checked in "
          f"{sum(r['search_s'] for r in records):.1f} s (tactic {args.tactic_timeout} s, "
          f"<= {args.expansions} expansions, {args.candidates} candidates)")
    only_search = [r["id"] for r in records if r["search_proved"] and not r["plain_proved"]]
    only_plain = [r["id"] for r in records if r["plain_proved"] and not r["search_proved"]]
    print(f"search only: {len(only_search)}   plain only: {len(only_plain)} {only_plain or ''}")
    false_rows = [r for r in records if r["holds"] is False]
    if false_rows:
        wrong = [r["id"] for r in false_rows if r["search_proved"] or r["plain_proved"]]
        print(f"false statements: {len(false_rows)}, proved: {len(wrong)} {wrong or ''}"
              " (must be 0)")
    if args.json:
        args.json.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
