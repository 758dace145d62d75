"""Benchmark ``proofgraph eval``: many searches in flight on one batched model, and pass@k.

    python scripts/bench_eval.py [--theorems 39] [--ks 1 8] [--part throughput|passk|all]

(1) throughput: the tiny test model (random 2-layer Llama, built as tests/policy_fixtures.py
    does) as an in-process ``hf`` policy on the Z3 suite (tests/data/z3_theorems.jsonl), small
    budgets; for each K theorems in flight: tactics/s (environment calls per wall second),
    policy states/s, the mean batch the model saw, and the ratio K=max vs K=1 from this run.
(2) pass@k on the suite with the symbolic policy and with a sampling policy (the tiny model).
Every run goes to a fresh temp folder; figures are printed as one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from prover.eval.job import EvalOptions  # noqa: E402
from prover.eval.run import run_eval  # noqa: E402
from search.best_first import SearchConfig  # noqa: E402

SUITE = ROOT / "tests" / "data" / "z3_theorems.jsonl"


def _subset(tmp: Path, n: int) -> Path:
    rows = [line for line in SUITE.read_text().splitlines() if line.strip()][:n]
    path = tmp / "bench.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _run(bench: Path, out: Path, **kw: object) -> dict:
    began = time.perf_counter()
    summary = run_eval(bench, out, EvalOptions(progress=False, **kw))  # type: ignore[arg-type]
    summary["bench_wall_s"] = round(time.perf_counter() - began, 2)
    return summary


def throughput(tmp: Path, bench: Path, model: Path, ks: list[int], window_ms: float) -> None:
    search = SearchConfig(max_expansions=3, batch_size=2, num_candidates=4,
                          tactic_timeout_s=2, wall_timeout_s=300)
    rates = {}
    # warm-up (not measured): start max(ks) Z3 worker processes and torch's first generate,
    # one-time costs that would otherwise be charged to whichever run comes first or is larger
    _run(bench, tmp / "warm-up", policy=f"hf:{model}", search=search, attempts=1,
         concurrency=max(ks), max_new_tokens=8, limit=max(ks))
    for k in ks:
        s = _run(bench, tmp / f"hf-k{k}", policy=f"hf:{model}", search=search, attempts=1,
                 concurrency=k, max_new_tokens=8, window_s=window_ms / 1000, chunk=4 * k)
        b = s["batching"]
        rates[k] = s["env_calls"] / s["wall_s"]
        print(json.dumps({"part": "throughput", "K": k, "theorems": s["theorems"],
                          "wall_s": s["wall_s"], "env_calls": s["env_calls"],
                          "tactics_per_s": round(rates[k], 2),
                          "policy_states_per_s": round(b["states"] / s["wall_s"], 2),
                          "model_calls": b["model_calls"], "mean_batch": b["mean_batch"],
                          "max_batch_seen": b["max_batch_seen"], "model_s": b["model_s"],
                          "batch_sizes": b["batch_sizes"]}),
              flush=True)
    lo, hi = min(ks), max(ks)
    print(json.dumps({"part": "throughput", "ratio": f"K={hi} / K={lo}",
                      "tactics_per_s_ratio": round(rates[hi] / rates[lo], 2)}), flush=True)


def passk(tmp: Path, bench: Path, model: Path, attempts: int, k: int) -> None:
    sym = SearchConfig(max_expansions=60, tactic_timeout_s=3, wall_timeout_s=60)
    s = _run(bench, tmp / "sym", search=sym, attempts=2, concurrency=k)
    print(json.dumps({"part": "passk", "policy": "symbolic", "theorems": s["theorems"],
                      "solved": s["solved"], "pass_at_k": s["pass_at_k"],
                      "wall_s": s["wall_s"]}), flush=True)
    hf = SearchConfig(max_expansions=3, batch_size=2, num_candidates=4, tactic_timeout_s=2,
                      wall_timeout_s=300)
    s = _run(bench, tmp / "hf", policy=f"hf:{model}", search=hf, attempts=attempts,
             concurrency=k, max_new_tokens=8)
    print(json.dumps({"part": "passk", "policy": "hf tiny random model (sampling)",
                      "theorems": s["theorems"], "solved": s["solved"],
                      "pass_at_k": s["pass_at_k"], "wall_s": s["wall_s"],
                      "mean_batch": s["batching"]["mean_batch"]}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--theorems", type=int, default=39)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--attempts", type=int, default=4)
    parser.add_argument("--window-ms", type=float, default=200.0)
    parser.add_argument("--part", choices=("throughput", "passk", "all"), default="all")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads (1: no oversubscription beside the Z3 "
                             "workers on a small machine; 0 keeps torch's default)")
    args = parser.parse_args()
    if args.torch_threads > 0:
        import torch

        torch.set_num_threads(args.torch_threads)
    import policy_fixtures as pf

    with tempfile.TemporaryDirectory(prefix="bench-eval-") as name:
        tmp = Path(name)
        model = pf.build_tiny_llama(tmp / "llama")
        bench = _subset(tmp, args.theorems)
        if args.part in ("throughput", "all"):
            throughput(tmp, bench, model, args.ks, args.window_ms)
        if args.part in ("passk", "all"):
            passk(tmp, bench, model, args.attempts, max(args.ks))


if __name__ == "__main__":
    main()
