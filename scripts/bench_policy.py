"""Benchmark batched vs per-node tactic generation, side by side in one run.

    python scripts/bench_policy.py                      # tiny random Llama built in code
    python scripts/bench_policy.py --model DIR --states 64 --k 8 --max-tokens 32

For one frontier of ``--states`` distinct states and ``k`` samples each, three backends run
the same work two ways (the 3x goal is for the two vLLM rows):
  * server -- a vLLM OpenAI-compatible server on 127.0.0.1 (started here, stopped at the
              end): batched = one concurrent request per state, all at once (OpenAIPolicy.
              propose); per-node = the same requests one at a time (propose_per_node);
  * engine -- in-process ``vllm.LLM``: one ``generate`` over all prompts vs one per prompt;
  * hf     -- ``transformers`` generate: one left-padded batch vs one call per state.
It prints wall seconds, samples/s (states * k / s), distinct candidates returned, and the
batched/per-node speed-up (goal: >= 3x). The tiny model's tactics are random characters:
the figures measure generation throughput, not proof quality. Machines are noisy: compare
ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # policy_fixtures: tiny models, the vLLM server

import policy_fixtures as pf  # noqa: E402

from search.protocols import Candidate, State  # noqa: E402

GOAL_SPEEDUP = 3.0
Propose = Callable[[Sequence[State], int], list[list[Candidate]]]


def frontier(count: int) -> list[State]:
    """``count`` distinct Lean-looking states."""
    return [State(f"n{i} m : ℕ\nh : n{i} ≤ m + {i}\n⊢ n{i} * {i + 1} ≤ (m + {i}) * {i + 1}")
            for i in range(count)]


def time_run(propose: Propose, states: Sequence[State], k: int) -> dict[str, float]:
    """Wall time of one ``propose`` and what it returned."""
    start = time.perf_counter()
    out = propose(states, k)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "samples_per_s": len(states) * k / seconds,
            "candidates": float(sum(len(c) for c in out))}


def per_node(propose: Propose) -> Propose:
    """``propose`` called once per state, sequentially."""
    return lambda states, k: [propose([s], k)[0] for s in states]


def compare(name: str, batched: Propose, single: Propose, states: Sequence[State],
            k: int, repeats: int) -> dict[str, Any]:
    """Warm up, then time the batched and the per-node way on the same frontier, alternating,
    ``repeats`` times each; the fastest run of each counts (the least disturbed by load)."""
    batched(states[:2], k)
    runs_a, runs_b = [], []
    for _ in range(repeats):
        runs_a.append(time_run(batched, states, k))
        runs_b.append(time_run(single, states, k))
    a = min(runs_a, key=lambda r: r["seconds"])
    b = min(runs_b, key=lambda r: r["seconds"])
    return {"backend": name, "batched": a, "per_node": b,
            "speedup": b["seconds"] / a["seconds"]}


def bench_server(model: Path, states: Sequence[State], k: int, max_tokens: int,
                 repeats: int, log: Path) -> dict[str, Any]:
    from prover.policy.openai_client import OpenAIPolicy

    start = time.perf_counter()
    with pf.vllm_server(model, log, ready_timeout_s=240.0) as server:
        ready = time.perf_counter() - start
        policy = OpenAIPolicy(server.base_url, server.model, max_tokens=max_tokens,
                              concurrency=len(states), timeout_s=300.0)
        result = compare("server", policy.propose, policy.propose_per_node, states, k,
                         repeats)
    result["startup_s"] = ready
    return result


def bench_engine(model: Path, states: Sequence[State], k: int, max_tokens: int,
                 repeats: int) -> dict[str, Any]:
    from prover.policy.vllm_engine import VLLMPolicy

    os.environ.update(pf.VLLM_CPU_ENV)
    start = time.perf_counter()
    with VLLMPolicy(model, max_tokens=max_tokens, **pf.VLLM_CPU_ENGINE_KWARGS) as policy:
        ready = time.perf_counter() - start
        result = compare("engine", policy.propose, per_node(policy.propose), states, k,
                         repeats)
    result["startup_s"] = ready
    return result


def bench_hf(model: Path, states: Sequence[State], k: int, max_tokens: int,
             repeats: int) -> dict[str, Any]:
    from prover.policy.hf import HFPolicy

    start = time.perf_counter()
    policy = HFPolicy(model, max_new_tokens=max_tokens)
    ready = time.perf_counter() - start
    result = compare("hf", policy.propose, per_node(policy.propose), states, k, repeats)
    result["startup_s"] = ready
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="checkpoint dir (default: a tiny Llama)")
    parser.add_argument("--states", type=int, default=32, help="frontier size")
    parser.add_argument("--k", type=int, default=8, help="samples per state")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2,
                        help="timed runs of each way (the fastest counts)")
    parser.add_argument("--backends", default="server,engine,hf",
                        help="comma-separated subset of server,engine,hf")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench_policy_"))
    model = args.model or pf.build_tiny_llama(work / "tiny_llama", seed=0)
    states = frontier(args.states)
    runners = {
        "server": lambda: bench_server(model, states, args.k, args.max_tokens, args.repeats,
                                       work / "server.log"),
        "engine": lambda: bench_engine(model, states, args.k, args.max_tokens, args.repeats),
        "hf": lambda: bench_hf(model, states, args.k, args.max_tokens, args.repeats),
    }
    results = [runners[name]() for name in backends]
    if args.json:
        print(json.dumps({"states": args.states, "k": args.k, "max_tokens": args.max_tokens,
                          "model": str(model), "results": results}, indent=2))
        return 0
    print(f"frontier: {args.states} states x k={args.k} samples, max_tokens={args.max_tokens}, "
          f"model={model}")
    print(f"{'backend':8} {'startup s':>9} {'batched s':>9} {'per-node s':>10} "
          f"{'batched samples/s':>17} {'per-node samples/s':>18} {'speedup':>8}  goal>=3x")
    for r in results:
        a, b = r["batched"], r["per_node"]
        verdict = "ok" if r["speedup"] >= GOAL_SPEEDUP else "MISSED"
        if r["backend"] == "hf":
            verdict = "(no goal)"
        print(f"{r['backend']:8} {r['startup_s']:9.1f} {a['seconds']:9.2f} {b['seconds']:10.2f} "
              f"{a['samples_per_s']:17.1f} {b['samples_per_s']:18.1f} {r['speedup']:7.1f}x  "
              f"{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
