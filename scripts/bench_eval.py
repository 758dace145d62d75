"""Benchmark ``proofgraph eval``: many searches in flight on one batched model, and pass@k.

    python scripts/bench_eval.py [--theorems 39] [--ks 1 8] [--part throughput|vllm|passk|ray|all]

(1) throughput: the tiny test model (random 2-layer Llama, built as tests/policy_fixtures.py
    does) as an in-process ``hf`` policy on the Z3 suite (tests/data/z3_theorems.jsonl), small
    budgets; for each K theorems in flight: tactics/s (environment calls per wall second),
    policy states/s, the mean batch the model saw, and the ratio K=max vs K=1 from this run.
    The whole benchmark is one runner batch (``--chunk 0``), so K searches stay in flight until
    the last theorems (a chunk boundary drains the pool to one search).
(2) vllm: the same against a vLLM CPU server (``vllm.entrypoints.openai.api_server``, the tiny
    model) through the ``openai`` policy: K searches put K concurrent requests on the server,
    which batches them continuously ("mean_batch" is then states per request).
(3) pass@k on the suite with the symbolic policy and with a sampling policy (the tiny model).
(4) ray: the suite with the symbolic policy as Ray tasks on a local cluster, 1 worker vs 2
    (each attempt one task, same budgets): theorems/s and the ratio, in this run.
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


def _rows(bench: Path) -> int:
    return sum(1 for line in bench.read_text().splitlines() if line.strip())


def _run(bench: Path, out: Path, **kw: object) -> dict:
    began = time.perf_counter()
    summary = run_eval(bench, out, EvalOptions(progress=False, **kw))  # type: ignore[arg-type]
    summary["bench_wall_s"] = round(time.perf_counter() - began, 2)
    return summary


def throughput(tmp: Path, bench: Path, policy: str, ks: list[int], window_ms: float,
               chunk: int, part: str = "throughput") -> None:
    search = SearchConfig(max_expansions=3, batch_size=2, num_candidates=4,
                          tactic_timeout_s=2, wall_timeout_s=300)
    rates = {}
    # warm-up (not measured): start max(ks) Z3 worker processes and the model's first call,
    # one-time costs that would otherwise be charged to whichever run comes first or is larger
    _run(bench, tmp / f"{part}-warm-up", policy=policy, search=search, attempts=1,
         concurrency=max(ks), max_new_tokens=8, limit=max(ks))
    for k in ks:
        s = _run(bench, tmp / f"{part}-k{k}", policy=policy, search=search, attempts=1,
                 concurrency=k, max_new_tokens=8, window_s=window_ms / 1000,
                 chunk=chunk or _rows(bench))
        b = s["batching"]
        rates[k] = s["env_calls"] / s["wall_s"]
        print(json.dumps({"part": part, "policy": policy.split(":")[0], "K": k,
                          "theorems": s["theorems"],
                          "wall_s": s["wall_s"], "env_calls": s["env_calls"],
                          "tactics_per_s": round(rates[k], 2),
                          "policy_states_per_s": round(b["states"] / s["wall_s"], 2),
                          "model_calls": b["model_calls"], "mean_batch": b["mean_batch"],
                          "max_batch_seen": b["max_batch_seen"], "model_s": b["model_s"],
                          "batch_sizes": b["batch_sizes"]}),
              flush=True)
    lo, hi = min(ks), max(ks)
    print(json.dumps({"part": part, "ratio": f"K={hi} / K={lo}",
                      "tactics_per_s_ratio": round(rates[hi] / rates[lo], 2)}), flush=True)


def vllm_server(tmp: Path, bench: Path, model: Path, ks: list[int], window_ms: float,
                chunk: int) -> None:
    import policy_fixtures as pf

    server = pf.VLLMServer(model, tmp / "vllm.log")  # pf's CPU flags: chunked prefill off
    began = time.perf_counter()
    server.start(ready_timeout_s=900)
    print(json.dumps({"part": "vllm", "server_start_s": round(time.perf_counter() - began, 1)}),
          flush=True)
    try:
        throughput(tmp, bench, f"openai:{server.base_url}#{server.model}", ks, window_ms,
                   chunk, part="vllm")
    finally:
        server.stop()


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


def ray_workers(tmp: Path, bench: Path) -> None:
    """The suite on Ray with 1 and then 2 workers (the symbolic policy: CPU-bound Z3 work)."""
    search = SearchConfig(max_expansions=60, tactic_timeout_s=3, wall_timeout_s=60)
    rates = {}
    for workers in (1, 2):
        s = _run(bench, tmp / f"ray-{workers}", search=search, attempts=1, chunk=1,
                 workers=workers, ray=True)
        rates[workers] = s["theorems"] / s["bench_wall_s"]
        print(json.dumps({"part": "ray", "workers": workers, "theorems": s["theorems"],
                          "solved": s["solved"], "wall_s": s["bench_wall_s"],
                          "theorems_per_s": round(rates[workers], 3)}), flush=True)
    print(json.dumps({"part": "ray", "ratio": "2 workers / 1 worker",
                      "theorems_per_s_ratio": round(rates[2] / rates[1], 2)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--theorems", type=int, default=39)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--attempts", type=int, default=4)
    parser.add_argument("--window-ms", type=float, default=1000.0,
                        help="how long the policy queue waits to merge calls (ms)")
    parser.add_argument("--chunk", type=int, default=0,
                        help="attempts per runner batch (0: the whole benchmark in one)")
    parser.add_argument("--part", choices=("throughput", "vllm", "passk", "ray", "all"),
                        default="all")
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
            throughput(tmp, bench, f"hf:{model}", args.ks, args.window_ms, args.chunk)
        if args.part in ("vllm", "all"):
            vllm_server(tmp, bench, model, args.ks, args.window_ms, args.chunk)
        if args.part in ("passk", "all"):
            passk(tmp, bench, model, args.attempts, max(args.ks))
        if args.part in ("ray", "all"):
            ray_workers(tmp, bench)


if __name__ == "__main__":
    main()
