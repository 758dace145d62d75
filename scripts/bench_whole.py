"""Benchmark ``proofgraph eval --mode whole``: K theorems in flight, one batched model call per round.

    python scripts/bench_whole.py [--theorems 39] [--ks 1 8] [--attempts 2] [--part model|check|all]

(1) model: the tiny test model (random 2-layer Llama, built as tests/policy_fixtures.py does) as
    an in-process ``hf`` policy on the Z3 suite (tests/data/z3_theorems.jsonl) with one repair
    round; it writes no proof, so this measures the model side: completions/s and the mean batch
    (rows per ``generate``) for each K, and the ratio K=max vs K=1 from this run.
(2) check: a deterministic policy answering each theorem's known-good script (the suite's
    ``proof`` field), so every proof is replayed by Z3: proofs checked per second for each K
    (the checks of a round run K at a time) and the ratio.
Every run goes to a fresh temp folder; figures are printed as one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from prover.eval.job import EvalOptions  # noqa: E402
from prover.eval.run import run_eval  # noqa: E402
from prover.policy import registry  # noqa: E402
from search.best_first import SearchConfig  # noqa: E402

SUITE = ROOT / "tests" / "data" / "z3_theorems.jsonl"


class KnownGood:
    """Answers each Z3 theorem's known-good script (matched by its goal in the prompt)."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        self.rows = rows

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        out = []
        for text in texts:
            row = next(r for r in self.rows if r["goal"] in text and r["smt2"] in text)
            out.append([("```z3\n" + "\n".join(row["proof"]) + "\n```", 0.0)] * n)
        return out


def _subset(tmp: Path, n: int) -> tuple[Path, list[dict[str, Any]]]:
    rows = [json.loads(line) for line in SUITE.read_text().splitlines() if line.strip()][:n]
    path = tmp / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def _run(bench: Path, out: Path, **kw: Any) -> dict[str, Any]:
    began = time.perf_counter()
    search = SearchConfig(tactic_timeout_s=5, wall_timeout_s=600)
    summary = run_eval(bench, out, EvalOptions(progress=False, mode="whole", search=search,
                                               **kw))
    summary["bench_wall_s"] = round(time.perf_counter() - began, 2)
    return summary


def model_side(tmp: Path, bench: Path, model: Path, ks: list[int], attempts: int,
               tokens: int) -> None:
    rates = {}
    _run(bench, tmp / "warm-up", policy=f"hf:{model}", attempts=1, concurrency=max(ks),
         max_new_tokens=tokens, limit=max(ks))  # torch's first generate, not measured
    for k in ks:
        s = _run(bench, tmp / f"hf-k{k}", policy=f"hf:{model}", attempts=attempts,
                 concurrency=k, repair_rounds=1, max_new_tokens=tokens, temperature=1.0)
        b = s["batching"]
        rates[k] = b["rows"] / s["wall_s"]
        print(json.dumps({"part": "model", "K": k, "theorems": s["theorems"],
                          "attempts": attempts, "wall_s": s["wall_s"], "completions": b["rows"],
                          "completions_per_s": round(rates[k], 2),
                          "model_calls": b["model_calls"], "mean_batch": b["mean_batch"],
                          "model_s": b["model_s"], "max_new_tokens": tokens}))
    lo, hi = min(ks), max(ks)
    print(json.dumps({"part": "model", "ratio": f"K={hi} vs K={lo}",
                      "completions_per_s_ratio": round(rates[hi] / rates[lo], 2)}))


def check_side(tmp: Path, bench: Path, rows: list[dict[str, Any]], ks: list[int],
               attempts: int) -> None:
    rates = {}
    registry.POLICIES["known-good"] = lambda *args: KnownGood(rows)
    for k in ks:
        s = _run(bench, tmp / f"kg-k{k}", policy="known-good", attempts=attempts,
                 concurrency=k)
        b = s["batching"]
        rates[k] = b["proofs_checked"] / s["wall_s"]
        print(json.dumps({"part": "check", "K": k, "theorems": s["theorems"],
                          "solved": s["solved"], "pass_at_k": s["pass_at_k"],
                          "wall_s": s["wall_s"], "proofs_checked": b["proofs_checked"],
                          "proofs_per_s": round(rates[k], 2), "model_calls": b["model_calls"],
                          "mean_batch": b["mean_batch"], "check_s": b["check_s"]}))
    lo, hi = min(ks), max(ks)
    print(json.dumps({"part": "check", "ratio": f"K={hi} vs K={lo}",
                      "proofs_per_s_ratio": round(rates[hi] / rates[lo], 2)}))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--theorems", type=int, default=39)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--attempts", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--part", choices=("model", "check", "all"), default="all")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-whole-") as name:
        tmp = Path(name)
        bench, rows = _subset(tmp, args.theorems)
        if args.part in ("model", "all"):
            from policy_fixtures import build_tiny_llama

            model = build_tiny_llama(tmp / "tiny")
            model_side(tmp, bench, model, args.ks, args.attempts, args.max_new_tokens)
        if args.part in ("check", "all"):
            check_side(tmp, bench, rows, args.ks, args.attempts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
