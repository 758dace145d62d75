"""Benchmark the best-first search's own cost, side by side in one run.

    python scripts/bench_search.py [--expansions 20000] [--sleep-ms 10] [--repeat 3] [--profile]

(1) bookkeeping: a zero-latency environment (every tactic yields a fresh state, so the graph
    grows) and a zero-latency policy; prints expansions/s end to end and for the search's own
    time alone (wall - policy - env). Goal: >= 20,000 expansions/s.
(2) overhead share: the same search against an environment that sleeps ``--sleep-ms`` per
    tactic, at concurrency 1 and 4; prints the search's share of wall time (goal <= 1%) and the
    concurrent speed-up. Machines are noisy: (1) is the best and the median of ``--repeat``
    runs; compare figures within one run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import time
from collections.abc import Sequence

from search import (
    Candidate,
    Outcome,
    Progress,
    SearchConfig,
    SearchResult,
    State,
    best_first_search,
)


class FreshStateEnv:
    """Tactic ``t{i}`` on goal ``n`` gives the fresh goal ``n * width + i + 1`` (a tree that
    never closes)."""

    def __init__(self, width: int, sleep_s: float = 0.0, concurrency: int = 1) -> None:
        self.width = width
        self.sleep_s = sleep_s
        self.max_concurrency = concurrency

    def initial_state(self) -> State:
        return State("⊢ goal 0", ("goal 0",), handle=0)

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        if self.sleep_s:
            time.sleep(self.sleep_s)
        n = state.handle * self.width + int(tactic[1:]) + 1
        return Progress(State(f"⊢ goal {n}", handle=n))


class FixedPolicy:
    """The same ``k`` candidates with decreasing logprobs for every state (no latency)."""

    def __init__(self, width: int) -> None:
        self.candidates = [Candidate(f"t{i}", -0.25 * (i + 1)) for i in range(width)]

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        row = self.candidates[:k]
        return [row] * len(states)


def run(expansions: int, width: int, sleep_s: float, concurrency: int) -> SearchResult:
    """One search with no proof to find, stopped by the expansion budget."""
    env = FreshStateEnv(width, sleep_s, concurrency)
    config = SearchConfig(batch_size=8, num_candidates=width, max_expansions=expansions,
                          wall_timeout_s=3600.0, max_depth=10_000, concurrency=concurrency)
    return best_first_search(env, FixedPolicy(width), config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expansions", type=int, default=20_000)
    parser.add_argument("--width", type=int, default=8, help="candidates per state (k)")
    parser.add_argument("--sleep-ms", type=float, default=10.0)
    parser.add_argument("--slow-expansions", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3, help="zero-latency runs (best, median)")
    parser.add_argument("--profile", action="store_true", help="cProfile the zero-latency run")
    args = parser.parse_args()

    run(500, args.width, 0.0, 1)  # warm-up
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(args.expansions, args.width, 0.0, 1)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

    runs = []
    for _ in range(args.repeat):
        gc.collect()
        result = run(args.expansions, args.width, 0.0, 1)
        runs.append((result.times, result.counts))
        del result
    runs.sort(key=lambda run_: run_[0]["search_s"])
    (t, c), (mt, mc) = runs[0], runs[len(runs) // 2]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          f"(figures drop when other processes compete for the CPU)")
    print(f"(1) zero-latency env and policy, B=8 k={args.width}, concurrency 1, "
          f"best of {args.repeat} (median in brackets)")
    print(f"    expansions {c['expansions']}, nodes {c['nodes']}, env calls {c['env_calls']}, "
          f"max depth {c['max_depth_reached']}")
    print(f"    wall {t['wall_s']:.3f} s = search {t['search_s']:.3f} + env {t['env_s']:.3f} "
          f"+ policy {t['policy_s']:.3f}")
    for label, key in (("end to end ", "wall_s"), ("search only", "search_s")):
        print(f"    expansions/s {label}  {c['expansions'] / t[key]:>8,.0f}"
              f"   ({mc['expansions'] / mt[key]:,.0f})")
    print("    (goal: search only >= 20,000 expansions/s)")

    print(f"(2) env sleeping {args.sleep_ms:g} ms per tactic, {args.slow_expansions} expansions,"
          f" B=8 k={args.width}")
    print(f"    {'concurrency':>11} {'wall s':>8} {'env s':>8} {'search s':>9} {'share':>8} "
          f"{'speed-up':>8}")
    base = None
    for concurrency in (1, 4):
        slow = run(args.slow_expansions, args.width, args.sleep_ms / 1000, concurrency)
        t = slow.times
        base = base or t["wall_s"]
        print(f"    {concurrency:>11} {t['wall_s']:>8.3f} {t['env_s']:>8.3f} "
              f"{t['search_s']:>9.4f} {100 * t['search_s'] / t['wall_s']:>7.3f}% "
              f"{base / t['wall_s']:>7.2f}x")
    print("    (goal: search share <= 1%)")


if __name__ == "__main__":
    main()
