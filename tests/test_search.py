"""Best-first search over toy environments and table policies: order, batching, the DAG,
propagation, budgets, failures as values, determinism and a property test on random graphs."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import (
    Candidate,
    Crashed,
    Failed,
    Outcome,
    Progress,
    Proved,
    SearchConfig,
    SearchResult,
    State,
    Timeout,
    best_first_search,
)

QED, RAISE, TIMEOUT = "QED", "RAISE", "TIMEOUT"

# A graph maps a state to its (tactic, logprob, target) moves; a target is a state name, QED,
# RAISE (the backend raises), TIMEOUT, or anything starting with "FAIL" (a Failed outcome).
Graph = Mapping[str, Sequence[tuple[str, float, str]]]


class GraphEnv:
    """A toy environment reading its moves from a graph; records every call it gets."""

    def __init__(self, graph: Graph, root: str = "root", max_concurrency: int = 1,
                 sleep: float = 0.0, slow: Mapping[str, float] | None = None) -> None:
        self.moves = {state: {t: target for t, _, target in moves}
                      for state, moves in graph.items()}
        self.root = root
        self.max_concurrency = max_concurrency
        self.sleep = sleep
        self.slow = dict(slow or {})
        self.calls: list[tuple[str, str, float]] = []

    def initial_state(self) -> State:
        return State(self.root)

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        self.calls.append((state.key, tactic, budget_s))
        if self.sleep or tactic in self.slow:
            time.sleep(self.slow.get(tactic, self.sleep))
        target = self.moves.get(state.key, {}).get(tactic)
        if target is None:
            return Failed(f"unknown tactic {tactic!r}")
        if target == QED:
            return Proved({"closed_by": tactic})
        if target == TIMEOUT:
            return Timeout(budget_s)
        if target == RAISE:
            raise RuntimeError("backend died")
        if target.startswith("FAIL"):
            return Failed(target)
        return Progress(State(target))


class TablePolicy:
    """Proposes fixed candidates per state; records each batch (state keys) and ``k``."""

    def __init__(self, table: Mapping[str, Sequence[tuple[str, float]]]) -> None:
        self.table = table
        self.batches: list[list[str]] = []
        self.ks: list[int] = []

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        self.batches.append([s.key for s in states])
        self.ks.append(k)
        return [[Candidate(t, lp) for t, lp in self.table.get(s.key, ())][:k] for s in states]


def make(graph: Graph, **env_kwargs: Any) -> tuple[GraphEnv, TablePolicy]:
    """The environment and the policy proposing exactly the graph's moves."""
    table = {state: [(t, lp) for t, lp, _ in moves] for state, moves in graph.items()}
    return GraphEnv(graph, **env_kwargs), TablePolicy(table)


class ArithEnv:
    """Reach ``target`` from ``start``; a value above the target or below 0 is a dead end."""

    OPS = {"+1": lambda n: n + 1, "+3": lambda n: n + 3, "*2": lambda n: n * 2,
           "*3": lambda n: n * 3, "-1": lambda n: n - 1}

    def __init__(self, start: int, target: int, max_concurrency: int = 1,
                 jitter_s: float = 0.0) -> None:
        self.start, self.target = start, target
        self.max_concurrency = max_concurrency
        self.jitter_s = jitter_s

    def initial_state(self) -> State:
        return State(f"n = {self.start}")

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        if self.jitter_s:
            time.sleep(random.uniform(0, self.jitter_s))
        op = self.OPS.get(tactic)
        if op is None:
            return Failed(f"unknown tactic {tactic}")
        value = op(int(state.key.split("= ")[1]))
        if value == self.target:
            return Proved({"value": value})
        if not 0 <= value < self.target:
            return Failed(f"{value} is out of range")
        return Progress(State(f"n   =   {value}"))  # normalised to "n = value"


class ArithPolicy:
    """The same candidates for every state."""

    def __init__(self, candidates: Sequence[tuple[str, float]]) -> None:
        self.candidates = [Candidate(t, lp) for t, lp in candidates]

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        return [self.candidates[:k] for _ in states]


def replay(env: Any, proof: Sequence[str]) -> Outcome:
    """Apply ``proof`` from the initial state; every step but the last must make progress."""
    state = env.initial_state()
    outcome: Outcome = Failed("empty proof")
    for i, tactic in enumerate(proof):
        outcome = env.apply(state, tactic, 1.0)
        if i < len(proof) - 1:
            assert isinstance(outcome, Progress), (i, tactic, outcome)
            state = outcome.state
    return outcome


def node(result: SearchResult, key: str) -> Any:
    return next(n for n in result.nodes if n.key == key)


def check_invariants(result: SearchResult) -> None:
    """Status and distance agree with the edges on every state node."""
    by_id = {n.id: n for n in result.nodes}
    out: dict[int, list[Any]] = defaultdict(list)
    for e in result.edges:
        out[e.src].append(e)
    assert result.nodes[0].depth == 0 and result.nodes[0].kind == "state"
    for n in result.nodes:
        if n.kind != "state":
            continue
        kids = [by_id[e.dst] for e in out[n.id] if e.dst != n.id]
        proved = [k.distance for k in kids if k.status == "proved" and k.distance is not None]
        if n.status == "proved":
            assert n.distance == 1 + min(proved)
        else:
            assert not proved and n.distance is None
        if n.status == "failed":
            assert n.expanded and all(k.status == "failed" for k in kids)
        if n.status == "open" and n.expanded:
            assert any(k.status == "open" for k in kids)


def comparable(result: SearchResult) -> dict[str, Any]:
    """The result without its timings."""
    data = result.to_dict()
    data.pop("times")
    for e in data["edges"]:
        e.pop("time_s")
    data["config"].pop("concurrency")
    return data


# -- order and batching ----------------------------------------------------------------------

TREE: Graph = {
    "root": [("a", -0.5, "A"), ("b", -0.1, "B"), ("c", -2.0, "C")],
    "A": [("a1", -0.1, "A1")],
    "B": [("b1", -1.0, "B1")],
    "C": [],
    "A1": [("x", -0.1, "FAIL no")],
    "B1": [],
}


def test_best_first_expands_in_cumulative_logprob_order() -> None:
    env, policy = make(TREE)
    result = best_first_search(env, policy, SearchConfig(batch_size=1))
    assert policy.batches == [["root"], ["B"], ["A"], ["A1"], ["B1"], ["C"]]
    assert (result.status, result.stop_reason, result.proof) == ("failed", "failed", None)
    assert all(n.status == "failed" for n in result.nodes)
    assert node(result, "A1").logprob == pytest.approx(-0.6)
    assert node(result, "A1").depth == result.counts["max_depth_reached"] == 2
    check_invariants(result)


def test_length_normalisation_changes_the_order() -> None:
    graph: Graph = {"root": [("a", -1.0, "A"), ("b", -0.6, "B")], "B": [("b1", -0.9, "B1")],
                    "A": [], "B1": []}
    plain_env, plain = make(graph)
    best_first_search(plain_env, plain, SearchConfig(batch_size=1, max_expansions=3))
    norm_env, norm = make(graph)
    best_first_search(norm_env, norm,
                      SearchConfig(batch_size=1, max_expansions=3, length_normalize=True))
    assert plain.batches == [["root"], ["B"], ["A"]]  # -1.0 beats -1.5
    assert norm.batches == [["root"], ["B"], ["B1"]]  # -1.5 / 2 beats -1.0 / 1


def test_one_policy_call_per_round_with_up_to_b_states() -> None:
    graph: dict[str, list[tuple[str, float, str]]] = {
        "root": [(f"t{i}", -0.1 * i, f"C{i}") for i in range(5)]}
    for i in range(5):
        graph[f"C{i}"] = [(f"u{j}", -0.1 * j, f"C{i}.{j}") for j in range(2)]
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig(batch_size=3, num_candidates=4))
    sizes = [len(batch) for batch in policy.batches]
    assert sizes == [1, 3, 3, 3, 3]  # root, then its 4 children (k = 4) and their 8 children
    assert result.counts["policy_calls"] == len(policy.batches) == 5
    assert result.counts["expansions"] == sum(sizes) == 13
    assert set(policy.ks) == {4}
    assert policy.batches[1] == ["C0", "C1", "C2"]  # the best three, in priority order
    assert result.counts["env_calls"] == len(env.calls) == 4 + 4 * 2  # k = 4 caps the root
    assert result.stop_reason == "failed"


# -- the DAG, propagation and proofs ---------------------------------------------------------


def test_transpositions_share_one_node_and_propagate_to_every_parent() -> None:
    graph: Graph = {"root": [("left", -0.1, "A"), ("right", -0.2, "B")],
                    "A": [("x", -0.1, "C")], "B": [("y", -0.1, "C  ")],  # same normalised key
                    "C": [("qed", -0.1, QED)]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig())
    assert result.counts["dedup_hits"] == 1
    assert sum(1 for e in result.edges if e.dst == node(result, "C").id) == 2
    assert sum(batch.count("C") for batch in policy.batches) == 1  # never re-expanded
    assert [n.key for n in result.nodes if n.kind == "state"] == ["root", "A", "B", "C"]
    assert (node(result, "A").status, node(result, "A").distance) == ("proved", 2)
    assert (node(result, "B").status, node(result, "B").distance) == ("proved", 2)
    assert node(result, "root").distance == 3
    assert result.proof == ["left", "x", "qed"]
    assert replay(env, result.proof) == Proved({"closed_by": "qed"})
    check_invariants(result)


def test_the_shorter_of_two_proofs_is_returned() -> None:
    # The long route is preferred by the policy and listed first; both proofs appear in round 2.
    graph: Graph = {"root": [("long", -0.1, "A"), ("short", -0.2, "B")],
                    "A": [("to_b", -0.1, "B")], "B": [("qed", -0.1, QED)]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig())
    assert result.proof == ["short", "qed"]
    assert node(result, "A").distance == 2 and node(result, "root").distance == 2
    on_path = [(e.tactic, e.outcome) for e in result.edges if e.on_proof_path]
    assert on_path == [("short", "progress"), ("qed", "proved")]
    assert {n.kind for n in result.nodes if n.on_proof_path} == {"state", "proved"}
    assert [n.key for n in result.nodes if n.on_proof_path and n.kind == "state"] == ["root", "B"]
    proved_edge = next(e for e in result.edges if e.outcome == "proved")
    assert proved_edge.evidence == {"closed_by": "qed"}
    check_invariants(result)


def test_a_trap_branch_with_high_logprob_fails_and_the_search_moves_on() -> None:
    graph: Graph = {"root": [("trap", -0.01, "T1"), ("real", -3.0, "R1")],
                    "T1": [("deeper", -0.01, "T2")],
                    "T2": [("hopeless", -0.01, "FAIL: no progress"), ("worse", -0.02, TIMEOUT)],
                    "R1": [("qed", -0.5, QED)]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig(batch_size=1))
    assert policy.batches == [["root"], ["T1"], ["T2"], ["R1"]]
    assert [node(result, k).status for k in ("T1", "T2")] == ["failed", "failed"]
    assert result.proof == ["real", "qed"] and result.status == "proved"
    details = {e.tactic: (e.outcome, e.detail) for e in result.edges}
    assert details["hopeless"] == ("failed", "FAIL: no progress")
    assert details["worse"][0] == "timeout"
    check_invariants(result)


def test_arithmetic_puzzle_proof_replays() -> None:
    env = ArithEnv(1, 37)
    policy = ArithPolicy([("*2", -0.3), ("+1", -1.2)])
    result = best_first_search(env, policy, SearchConfig(batch_size=4))
    assert result.status == "proved" and result.proof is not None
    assert replay(env, result.proof) == Proved({"value": 37})
    assert result.counts["dedup_hits"] > 0  # 1 + 1 and 1 * 2 meet at 2, and so on
    check_invariants(result)


def test_a_better_path_to_a_queued_node_raises_its_priority() -> None:
    graph: Graph = {"root": [("a", -0.1, "A"), ("x", -5.0, "X"), ("y", -1.0, "Y")],
                    "A": [("to_x", -0.1, "X")]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig(batch_size=1))
    assert policy.batches == [["root"], ["A"], ["X"], ["Y"]]
    assert (node(result, "X").logprob, node(result, "X").depth) == (pytest.approx(-0.2), 2)


def test_a_node_popped_in_the_same_round_is_never_requeued() -> None:
    graph: Graph = {"root": [("a", -0.1, "A"), ("x", -1.0, "X")],
                    "A": [("to_x", -0.1, "X")], "X": [("next", -0.1, "Z")]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig(batch_size=2))
    assert policy.batches == [["root"], ["A", "X"], ["Z"]]
    assert node(result, "X").logprob == pytest.approx(-1.0)
    assert (result.status, result.counts["dedup_hits"]) == ("failed", 1)


def test_cycles_terminate_and_propagate() -> None:
    looping: Graph = {"root": [("skip", -0.1, "root"), ("fwd", -0.2, "A")],
                      "A": [("back", -0.1, "root"), ("dead", -0.1, "FAIL")]}
    env, policy = make(looping)
    result = best_first_search(env, policy, SearchConfig())
    assert (result.status, result.stop_reason) == ("open", "frontier_empty")
    assert result.counts["dedup_hits"] == 2
    check_invariants(result)

    closing: Graph = {**looping, "A": [("back", -0.1, "root"), ("win", -0.1, QED)]}
    env, policy = make(closing)
    result = best_first_search(env, policy, SearchConfig())
    assert result.proof == ["fwd", "win"]
    assert node(result, "A").distance == 1 and node(result, "root").distance == 2
    check_invariants(result)

    self_loop_only: Graph = {"root": [("skip", -0.1, "root"), ("bad", -0.2, "FAIL")]}
    env, policy = make(self_loop_only)
    result = best_first_search(env, policy, SearchConfig())
    assert (result.status, result.stop_reason) == ("failed", "failed")


def test_duplicate_candidates_are_applied_once_with_their_best_logprob() -> None:
    env = GraphEnv({"root": [("t", 0.0, "FAIL"), ("u", 0.0, "FAIL")]})
    policy = TablePolicy({"root": [("t", -1.0), ("t", -0.5), ("u", -2.0)]})
    result = best_first_search(env, policy, SearchConfig())
    assert [c[1] for c in env.calls] == ["t", "u"]
    assert result.counts["duplicate_tactics"] == 1
    assert [(e.tactic, e.logprob) for e in result.edges] == [("t", -0.5), ("u", -2.0)]


# -- budgets ---------------------------------------------------------------------------------

CHAIN: Graph = {**{f"s{i}": [("step", -0.1, f"s{i + 1}")] for i in range(9)},
                "s9": [("qed", -0.1, QED)]}


def test_max_depth_is_respected() -> None:
    env, policy = make(CHAIN, root="s0")
    result = best_first_search(env, policy, SearchConfig(max_depth=9))
    assert (result.status, result.stop_reason) == ("open", "frontier_empty")
    assert result.counts["max_depth_reached"] == 9
    assert not node(result, "s9").expanded
    assert all(len(batch) == 1 and batch[0] != "s9" for batch in policy.batches)

    env, policy = make(CHAIN, root="s0")
    result = best_first_search(env, policy, SearchConfig(max_depth=10))
    assert result.status == "proved" and result.proof == ["step"] * 9 + ["qed"]


def test_a_proof_found_on_the_last_allowed_expansion_is_kept() -> None:
    env, policy = make(CHAIN, root="s0")
    result = best_first_search(env, policy, SearchConfig(max_expansions=10))
    assert (result.status, result.stop_reason) == ("proved", "proved")
    assert result.counts["expansions"] == 10
    assert replay(env, result.proof or []) == Proved({"closed_by": "qed"})

    env, policy = make(CHAIN, root="s0")
    result = best_first_search(env, policy, SearchConfig(max_expansions=9))
    assert (result.status, result.stop_reason, result.proof) == ("open", "max_expansions", None)


def test_a_proof_found_as_the_wall_time_runs_out_is_kept() -> None:
    env, policy = make({"root": [("qed", -0.1, QED)]}, sleep=0.4)
    result = best_first_search(env, policy, SearchConfig(wall_timeout_s=0.2))
    assert result.times["wall_s"] > 0.2
    assert (result.status, result.stop_reason, result.proof) == ("proved", "proved", ["qed"])


def test_wall_time_stops_the_round_and_leaves_nodes_unexpanded() -> None:
    graph: Graph = {"root": [(f"t{i}", -0.1, f"C{i}") for i in range(8)]}
    env, policy = make(graph, sleep=0.1)
    result = best_first_search(env, policy, SearchConfig(wall_timeout_s=0.2, concurrency=1))
    assert (result.status, result.stop_reason) == ("open", "wall_time")
    assert 1 <= result.counts["env_calls"] == len(env.calls) < 8
    assert not node(result, "root").expanded  # not every candidate ran, so it cannot fail


def test_a_partly_expanded_node_never_fails() -> None:
    # Round 2 pops P and Q; P's first tactic outlasts the wall time, so P's second one never
    # runs; Q has no candidates and fails, which must not fail P (nor, through it, the root).
    graph: Graph = {"root": [("p", -0.1, "P"), ("q", -0.2, "Q")],
                    "P": [("to_q", -0.1, "Q"), ("more", -0.2, "X")], "Q": []}
    env, policy = make(graph, slow={"to_q": 0.4})
    result = best_first_search(env, policy, SearchConfig(wall_timeout_s=0.3))
    assert policy.batches == [["root"], ["P", "Q"]]
    assert (result.status, result.stop_reason) == ("open", "wall_time")
    assert (node(result, "Q").status, node(result, "P").status) == ("failed", "open")
    assert not node(result, "P").expanded and "more" not in [c[1] for c in env.calls]


def test_the_per_tactic_budget_is_passed_to_the_environment() -> None:
    env, policy = make({"root": [("slow", -0.1, TIMEOUT)]})
    result = best_first_search(env, policy, SearchConfig(tactic_timeout_s=2.5))
    assert env.calls == [("root", "slow", 2.5)]
    assert (result.edges[0].outcome, result.edges[0].detail) == ("timeout", "timeout after 2.5 s")
    assert (result.status, result.stop_reason) == ("failed", "failed")


# -- failures ------------------------------------------------------------------------------


def test_an_environment_exception_becomes_a_crashed_edge() -> None:
    graph: Graph = {"root": [("boom", -0.1, RAISE), ("step", -0.2, "A")],
                    "A": [("qed", -0.1, QED)]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig())
    crashed = next(e for e in result.edges if e.tactic == "boom")
    assert (crashed.outcome, crashed.detail) == ("crashed", "RuntimeError: backend died")
    assert result.proof == ["step", "qed"]


def test_crashed_outcomes_and_non_outcomes_fail_the_node() -> None:
    class Odd(GraphEnv):
        def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
            return Crashed("segfault") if tactic == "a" else "nonsense"  # type: ignore[return-value]

    result = best_first_search(Odd({}), TablePolicy({"root": [("a", 0.0), ("b", 0.0)]}))
    assert [(e.outcome, e.detail) for e in result.edges] == [
        ("crashed", "segfault"), ("crashed", "environment returned 'nonsense'")]
    assert result.status == "failed"


def test_policy_errors_propagate() -> None:
    class Broken:
        def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
            raise ConnectionError("policy server down")

    env, _ = make(CHAIN, root="s0", max_concurrency=4)
    with pytest.raises(ConnectionError):
        best_first_search(env, Broken(), SearchConfig(concurrency=4))

    class Short:
        def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
            return []

    with pytest.raises(ValueError, match="0 candidate lists for 1 states"):
        best_first_search(env, Short())


def test_config_is_validated() -> None:
    for bad in ({"batch_size": 0}, {"num_candidates": 0}, {"concurrency": 0},
                {"max_depth": -1}, {"tactic_timeout_s": 0.0}, {"wall_timeout_s": -1.0}):
        with pytest.raises(ValueError):
            SearchConfig(**bad)


# -- concurrency and determinism ---------------------------------------------------------------


def test_concurrent_applies_really_overlap() -> None:
    barrier = threading.Barrier(2, timeout=10)

    class Rendezvous(GraphEnv):
        def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
            barrier.wait()  # raises BrokenBarrierError unless two calls run at once
            return super().apply(state, tactic, budget_s)

    graph: Graph = {"root": [("a", -0.1, "FAIL"), ("b", -0.2, QED)]}
    result = best_first_search(Rendezvous(graph, max_concurrency=2), make(graph)[1],
                               SearchConfig(concurrency=8))
    assert [e.outcome for e in result.edges] == ["failed", "proved"]


def test_concurrency_is_capped_by_the_environment() -> None:
    threads: set[int] = set()

    class Recording(GraphEnv):
        def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
            threads.add(threading.get_ident())
            return super().apply(state, tactic, budget_s)

    graph: Graph = {"root": [(f"t{i}", -0.1, "FAIL") for i in range(6)]}
    best_first_search(Recording(graph, max_concurrency=1), make(graph)[1],
                      SearchConfig(concurrency=4))
    assert threads == {threading.get_ident()}


def test_results_are_identical_run_to_run_and_across_concurrency() -> None:
    policy = ArithPolicy([("+3", -0.7), ("*2", -0.4), ("+1", -1.1), ("*3", -0.9), ("-1", -2.0)])
    config = SearchConfig(batch_size=4, num_candidates=5, max_expansions=60)
    first = best_first_search(ArithEnv(2, 97), policy, config)
    second = best_first_search(ArithEnv(2, 97), policy, config)
    jittery = [best_first_search(ArithEnv(2, 97, max_concurrency=4, jitter_s=0.002), policy,
                                 SearchConfig(batch_size=4, num_candidates=5, max_expansions=60,
                                              concurrency=4)) for _ in range(2)]
    assert comparable(first) == comparable(second) == comparable(jittery[0])
    assert comparable(jittery[0]) == comparable(jittery[1])
    assert first.counts["dedup_hits"] > 0 and first.counts["nodes"] > 20


# -- plain data ----------------------------------------------------------------------------


def test_result_is_plain_json_and_round_trips() -> None:
    graph: Graph = {"root": [("neg", float("-inf"), "A"), ("ok", -0.2, "B")],
                    "B": [("qed", -0.1, QED)]}
    env, policy = make(graph)
    result = best_first_search(env, policy, SearchConfig(seed=7))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert SearchResult.from_dict(data).to_dict() == data
    assert data["config"]["seed"] == 7 and data["nodes"][0]["text"] == "root"
    assert set(data["counts"]) >= {"nodes", "expansions", "env_calls", "policy_calls",
                                   "dedup_hits", "max_depth_reached"}
    times = data["times"]
    assert times["search_s"] == pytest.approx(
        times["wall_s"] - times["policy_s"] - times["env_s"], abs=1e-6)
    sentinel = next(n for n in data["nodes"] if n["kind"] == "proved")
    assert (sentinel["key"], sentinel["text"], sentinel["distance"]) == (None, None, 0)


# -- property: random small graphs ------------------------------------------------------------

STATES = 8
TARGETS = st.sampled_from([*(f"S{i}" for i in range(STATES)), QED, "FAIL", TIMEOUT, RAISE])
MOVE = st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.floats(-4.0, 0.0), TARGETS)
GRAPHS = st.tuples(st.lists(MOVE, min_size=2, max_size=4),  # the root's moves
                   st.lists(st.lists(MOVE, max_size=4), min_size=STATES - 1,
                            max_size=STATES - 1)).map(lambda rm: [rm[0], *rm[1]])


def provable(env: GraphEnv) -> bool:
    """Whether some path of moves from the root reaches QED (breadth-first search)."""
    seen, todo = {env.root}, deque([env.root])
    while todo:
        for target in env.moves.get(todo.popleft(), {}).values():
            if target == QED:
                return True
            if target.startswith("S") and target not in seen:
                seen.add(target)
                todo.append(target)
    return False


@settings(max_examples=150, deadline=None)
@given(GRAPHS, st.integers(1, 4), st.booleans())
def test_property_random_graphs(moves: list[list[tuple[str, float, str]]], batch: int,
                                normalize: bool) -> None:
    graph = {f"S{i}": m for i, m in enumerate(moves)}
    env = GraphEnv(graph, root="S0")
    policy = TablePolicy({s: [(t, lp) for t, lp, _ in m] for s, m in graph.items()})
    result = best_first_search(env, policy, SearchConfig(batch_size=batch, num_candidates=4,
                                                         length_normalize=normalize))
    check_invariants(result)
    assert result.stop_reason in {"proved", "failed", "frontier_empty"}
    assert (result.status == "proved") == provable(env)
    if result.proof is not None:
        assert isinstance(replay(GraphEnv(graph, root="S0"), result.proof), Proved)
    keys = [n.key for n in result.nodes if n.kind == "state"]
    assert len(keys) == len(set(keys))
    expanded = [k for batch_keys in policy.batches for k in batch_keys]
    assert len(expanded) == len(set(expanded))  # no node is expanded twice
    again = best_first_search(GraphEnv(graph, root="S0"), policy, SearchConfig(
        batch_size=batch, num_candidates=4, length_normalize=normalize))
    assert comparable(again) == comparable(result)
