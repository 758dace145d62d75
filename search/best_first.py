"""Batched best-first proof search over the :class:`Environment` and :class:`Policy` protocols.

Each round pops up to ``batch_size`` best frontier nodes, asks the policy for candidates for
all of them in ONE call, applies every distinct candidate (in a thread pool when both the
config and the environment allow it) and records the results in a fixed order, so a
deterministic environment and policy give the same graph run to run. Budgets are separate:
per tactic (passed to ``env.apply``), wall time, expansions and depth; a proof found in the
round that exhausts a budget is kept. Only broken infrastructure raises: an exception from
``env.apply`` becomes a ``Crashed`` edge, while an exception from the policy propagates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from time import perf_counter
from typing import Any

from search.protocols import Candidate, Crashed, Environment, Policy, State
from search.tree import (
    FAILED,
    PROVED,
    STATUS_NAMES,
    Applied,
    EdgeRecord,
    NodeRecord,
    SearchTree,
)

STOP_REASONS = ("proved", "failed", "frontier_empty", "max_expansions", "wall_time")


MAX_TIMEOUT_S = 1e7
"""Longest accepted tactic or wall timeout (~116 days): larger ones overflow select() and waits."""


@dataclass(frozen=True)
class SearchConfig:
    """Search budgets and knobs; ``concurrency`` is capped by ``env.max_concurrency``.

    ``seed`` is recorded for provenance and for policies that sample: the search itself has no
    randomness (ties pop in insertion order), so a fixed environment, policy and seed give a
    fixed result.
    """

    batch_size: int = 8
    num_candidates: int = 8
    tactic_timeout_s: float = 5.0
    wall_timeout_s: float = 60.0
    max_expansions: int = 1000
    max_depth: int = 64
    length_normalize: bool = False
    seed: int = 0
    concurrency: int = 8

    def __post_init__(self) -> None:
        for name in ("batch_size", "num_candidates", "concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"SearchConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_expansions", "max_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"SearchConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("tactic_timeout_s", "wall_timeout_s"):
            value = getattr(self, name)
            if not 0 < value <= MAX_TIMEOUT_S:  # also NaN, inf: they reach select() and waits
                raise ValueError(f"SearchConfig.{name} must be > 0 and at most "
                                 f"{MAX_TIMEOUT_S:.0f} seconds, got {value}")


@dataclass
class SearchResult:
    """One search as plain data: ``status`` is the root's (proved|failed|open), ``proof`` the
    tactics of the shortest proof found, ``nodes[0]`` the root.

    ``counts['expansions']`` counts nodes handed to the policy; a node's ``expanded`` says all
    its candidates were applied (only the wall deadline can cut that short). ``times`` holds
    ``policy_s`` and ``env_s`` (wall time spent waiting on each) and ``search_s`` = ``wall_s``
    minus both: the search's own overhead.
    """

    status: str
    stop_reason: str
    proof: list[str] | None
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]
    counts: dict[str, int]
    times: dict[str, float]
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (non-finite logprobs become None; no proof distance is None)."""
        return {
            "status": self.status,
            "stop_reason": self.stop_reason,
            "proof": list(self.proof) if self.proof is not None else None,
            "nodes": [{
                "id": n.id, "kind": n.kind, "key": n.key, "text": n.text, "goals": list(n.goals),
                "status": n.status, "distance": n.distance, "logprob": _finite(n.logprob),
                "depth": n.depth, "expanded": n.expanded, "on_proof_path": n.on_proof_path,
            } for n in self.nodes],
            "edges": [{
                "id": e.id, "src": e.src, "dst": e.dst, "tactic": e.tactic,
                "logprob": _finite(e.logprob), "outcome": e.outcome, "detail": e.detail,
                "time_s": e.time_s, "on_proof_path": e.on_proof_path,
                "evidence": dict(e.evidence) if e.evidence else {},
            } for e in self.edges],
            "counts": dict(self.counts),
            "times": dict(self.times),
            "config": dict(self.config),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        """The inverse of :meth:`to_dict` (None logprobs read back as -inf)."""
        nodes = [NodeRecord(n["id"], n["kind"], n["key"], n["text"], tuple(n["goals"]),
                            n["status"], n["distance"], _unfinite(n["logprob"]), n["depth"],
                            n["expanded"], n["on_proof_path"]) for n in data["nodes"]]
        edges = [EdgeRecord(e["id"], e["src"], e["dst"], e["tactic"], _unfinite(e["logprob"]),
                            e["outcome"], e["detail"], e["time_s"], e["on_proof_path"],
                            dict(e["evidence"]) if e.get("evidence") else None)
                 for e in data["edges"]]
        proof = list(data["proof"]) if data.get("proof") is not None else None
        return cls(data["status"], data["stop_reason"], proof, nodes, edges,
                   dict(data["counts"]), dict(data["times"]), dict(data.get("config") or {}))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _unfinite(value: float | None) -> float:
    return -math.inf if value is None else value


def _apply(env: Environment, state: State, tactic: str, budget_s: float,
           deadline: float) -> Applied:
    """One ``env.apply`` timed; None if the wall deadline passed before it started; an
    exception becomes ``Crashed`` with its message."""
    start = perf_counter()
    if start >= deadline:
        return None
    try:
        outcome = env.apply(state, tactic, budget_s)
    except Exception as exc:  # broken backend: record it on the edge, search elsewhere
        outcome = Crashed(f"{type(exc).__name__}: {exc}")
    return outcome, perf_counter() - start


def _distinct(candidates: Sequence[Candidate], k: int) -> tuple[list[tuple[str, float]], int]:
    """The first ``k`` candidates with duplicate tactic texts merged (first position, best
    logprob; NaN reads as -inf), and how many duplicates were dropped."""
    best: dict[str, float] = {}
    head = candidates[:k]
    for cand in head:
        tactic, logprob = cand.tactic, float(cand.logprob)
        if logprob != logprob:
            logprob = -math.inf
        if tactic not in best or logprob > best[tactic]:
            best[tactic] = logprob
    return list(best.items()), len(head) - len(best)


def _apply_all(env: Environment, pool: ThreadPoolExecutor | None, states: list[State],
               plans: list[list[tuple[str, float]]], budget_s: float,
               deadline: float) -> list[Applied]:
    """Apply each state's planned tactics, in the pool if there is one; results in plan order."""
    if pool is None:
        return [_apply(env, state, tactic, budget_s, deadline)
                for state, plan in zip(states, plans, strict=True) for tactic, _ in plan]
    futures = [pool.submit(_apply, env, state, tactic, budget_s, deadline)
               for state, plan in zip(states, plans, strict=True) for tactic, _ in plan]
    return [future.result() for future in futures]


def _stop_reason(tree: SearchTree, expansions: int, config: SearchConfig,
                 deadline: float) -> str | None:
    """Why the search must stop before the next round, or None to go on; a proved (or failed)
    root wins over an exhausted budget, so a proof found in the last round is kept."""
    if tree.status[tree.root] == PROVED:
        return "proved"
    if tree.status[tree.root] == FAILED:
        return "failed"
    if expansions >= config.max_expansions:
        return "max_expansions"
    if perf_counter() >= deadline:
        return "wall_time"
    return None


def best_first_search(env: Environment, policy: Policy,
                      config: SearchConfig | None = None) -> SearchResult:
    """Search for a proof of ``env.initial_state()``; see the module docstring for the rules.

    Stops when the root is proved or failed, the frontier is empty, or the expansion or wall
    budget is exhausted (``stop_reason``). Raises only what ``env.initial_state`` or the policy
    raise, or ValueError when the policy returns a wrong number of candidate lists.
    """
    config = config or SearchConfig()
    t0 = perf_counter()
    deadline = t0 + config.wall_timeout_s
    tree = SearchTree(env.initial_state(), length_normalize=config.length_normalize,
                      max_depth=config.max_depth)
    workers = max(1, min(config.concurrency, int(getattr(env, "max_concurrency", 1) or 1)))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="search-apply") if workers > 1 else None
    k = config.num_candidates
    policy_s = env_s = 0.0
    expansions = env_calls = policy_calls = duplicate_tactics = 0
    try:
        while (stop := _stop_reason(tree, expansions, config, deadline)) is None:
            batch = tree.pop(min(config.batch_size, config.max_expansions - expansions))
            if not batch:
                stop = "frontier_empty"
                break
            states = tree.states(batch)
            started = perf_counter()
            proposals = policy.propose(states, k)
            policy_s += perf_counter() - started
            policy_calls += 1
            if len(proposals) != len(batch):
                raise ValueError(f"policy returned {len(proposals)} candidate lists "
                                 f"for {len(batch)} states")
            plans = []
            for candidates in proposals:
                distinct, dropped = _distinct(candidates, k)
                duplicate_tactics += dropped
                plans.append(distinct)
            started = perf_counter()
            applied = _apply_all(env, pool, states, plans, config.tactic_timeout_s, deadline)
            env_s += perf_counter() - started
            at = 0
            for node, distinct in zip(batch, plans, strict=True):
                env_calls += tree.expand(node, distinct, applied[at:at + len(distinct)])
                at += len(distinct)
            expansions += len(batch)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    proof = tree.proof_edges()
    nodes, edges = tree.records(proof)
    wall_s = perf_counter() - t0
    return SearchResult(
        status=STATUS_NAMES[tree.status[tree.root]],
        stop_reason=stop,
        proof=[tree.tactic[edge] for edge in proof] if proof is not None else None,
        nodes=nodes,
        edges=edges,
        counts={
            "nodes": len(nodes),
            "edges": len(edges),
            "expansions": expansions,
            "env_calls": env_calls,
            "policy_calls": policy_calls,
            "dedup_hits": tree.dedup_hits,
            "duplicate_tactics": duplicate_tactics,
            "max_depth_reached": tree.max_depth_reached,
        },
        times={
            "policy_s": policy_s,
            "env_s": env_s,
            "search_s": max(0.0, wall_s - policy_s - env_s),
            "wall_s": wall_s,
        },
        config=asdict(config),
    )
