"""The search graph's bookkeeping: state nodes in a transposition table, outcome edges, the
frontier, status and distance propagation, and shortest-proof extraction.

A node is ``open``, ``proved`` or ``failed``. ``proved`` means some out-edge reaches a proved
node (``distance`` = edges to the nearest proof); ``failed`` means the node was fully expanded
and every out-edge (self-loops aside) reaches a failed node. Both are final, so propagation is
monotone and ends on any graph, cycles included; a cycle keeps its nodes open. Terminal
outcomes share two sentinel nodes, one proved (distance 0) and one failed; why a tactic
failed stays on its edge.

Nodes and edges are integer ids into parallel lists (no object per node or edge): the search
creates hundreds of thousands of them, and plain lists of numbers cost the allocator and the
garbage collector far less than as many small objects.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, cast

from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout

OPEN, PROVED, FAILED = 0, 1, 2
STATUS_NAMES = ("open", "proved", "failed")
INF = float("inf")
NONE = -1

_KINDS: dict[type, str] = {
    Progress: "progress", Proved: "proved", Failed: "failed", Timeout: "timeout",
    Crashed: "crashed",
}

Applied = tuple[Outcome, float] | None
"""What applying one candidate gave: (outcome, seconds), or None if it was never run."""


@dataclass(slots=True)
class NodeRecord:
    """A node as plain data: ``kind`` is "state", or "proved"/"failed" for the two sentinels
    (``key`` and ``text`` None; logprob and depth of the first edge reaching them);
    ``distance`` counts edges to the nearest proof, None when none is known."""

    id: int
    kind: str
    key: str | None
    text: str | None
    goals: tuple[str, ...]
    status: str
    distance: int | None
    logprob: float
    depth: int
    expanded: bool
    on_proof_path: bool


@dataclass(slots=True)
class EdgeRecord:
    """An edge as plain data: ``outcome`` is progress|proved|failed|timeout|crashed, ``detail``
    the backend's reason or message, ``evidence`` the certificate of a ``Proved`` outcome."""

    id: int
    src: int
    dst: int
    tactic: str
    logprob: float
    outcome: str
    detail: str
    time_s: float
    on_proof_path: bool
    evidence: dict[str, Any] | None = None


class SearchTree:
    """Nodes keyed by :attr:`State.key` (a DAG, possibly with cycles) and a max-priority frontier.

    Priority is the cumulative logprob from the root, divided by depth when ``length_normalize``;
    ties pop in insertion order. Nodes at depth ``max_depth`` or deeper are never queued. A
    node's ``logprob``/``depth`` are those of its best-priority path known before it is popped.
    """

    def __init__(self, root: State, *, length_normalize: bool, max_depth: int) -> None:
        self.length_normalize = length_normalize
        self.max_depth = max_depth
        self.table: dict[str, int] = {}
        self.frontier: list[tuple[float, int, int]] = []
        self.tick = itertools.count(1).__next__
        self.dedup_hits = 0
        self.max_depth_reached = 0
        # per node; ``entry`` is the tick of its live frontier entry, 0 if none, -1 once popped
        self.state: list[State | None] = []
        self.status: list[int] = []
        self.distance: list[float] = []
        self.logprob: list[float] = []
        self.depth: list[int] = []
        self.entry: list[int] = []
        self.in_head: list[int] = []  # the last edge into the node, chained by ``in_next``
        # per popped node: its out-edge id range, its live count, whether it was fully expanded
        self.out: dict[int, range] = {}
        self.live: dict[int, int] = {}  # out-edges (self-loops aside) to nodes not failed
        self.complete: set[int] = set()
        # per edge
        self.src: list[int] = []
        self.dst: list[int] = []
        self.tactic: list[str] = []
        self.edge_logprob: list[float] = []
        self.outcome: list[str] = []
        self.time_s: list[float] = []
        self.in_next: list[int] = []
        self.detail: dict[int, str] = {}  # sparse: non-empty details only
        self.evidence: dict[int, dict[str, Any]] = {}
        self.proved_id = NONE
        self.failed_id = NONE
        self.root = self._node(root, OPEN, INF, 0.0, 0)

    # -- nodes and the frontier ---------------------------------------------------------

    def priority(self, logprob: float, depth: int) -> float:
        """The frontier priority of a path with this cumulative logprob and depth."""
        return logprob / depth if self.length_normalize and depth > 0 else logprob

    def _node(self, state: State | None, status: int, distance: float, logprob: float,
              depth: int) -> int:
        """A new node (a state, or a sentinel when ``state`` is None), queued if expandable."""
        node = len(self.status)
        self.state.append(state)
        self.status.append(status)
        self.distance.append(distance)
        self.logprob.append(logprob)
        self.depth.append(depth)
        self.in_head.append(NONE)
        self.entry.append(0)
        if state is not None:
            self.table[state.key] = node
            self.max_depth_reached = max(self.max_depth_reached, depth)
            if depth < self.max_depth:
                self._queue(node, self.priority(logprob, depth))
        return node

    def _queue(self, node: int, priority: float) -> None:
        tick = self.tick()
        self.entry[node] = tick
        heapq.heappush(self.frontier, (-priority, tick, node))

    def _improve(self, node: int, logprob: float, depth: int) -> None:
        """A transposition: re-queue a not-yet-popped node if this path has a strictly better
        priority within ``max_depth``."""
        if self.entry[node] == -1 or depth >= self.max_depth:
            return
        priority = self.priority(logprob, depth)
        if priority > self.priority(self.logprob[node], self.depth[node]):
            self.logprob[node], self.depth[node] = logprob, depth
            self._queue(node, priority)

    def pop(self, limit: int) -> list[int]:
        """Up to ``limit`` best queued nodes, best first; stale frontier entries are dropped."""
        batch: list[int] = []
        frontier, entry = self.frontier, self.entry
        while frontier and len(batch) < limit:
            _, tick, node = heapq.heappop(frontier)
            if entry[node] == tick:
                entry[node] = -1
                batch.append(node)
        return batch

    def states(self, nodes: Sequence[int]) -> list[State]:
        """The states of popped nodes (sentinels are never queued, so never popped)."""
        return cast("list[State]", [self.state[node] for node in nodes])

    # -- expansion -----------------------------------------------------------------------

    def expand(self, node: int, candidates: Sequence[tuple[str, float]],
               applied: Sequence[Applied]) -> int:
        """Record ``node``'s candidates (tactic, logprob) and what applying each gave as edges,
        then settle its status and propagate; returns how many candidates were applied.

        Only a node whose every candidate was applied may fail. A state seen before becomes an
        edge to its node (a dedup hit). This is the hot loop: new state nodes are made inline.
        """
        status, distance, in_head, table = self.status, self.distance, self.in_head, self.table
        add_state, add_status, add_distance = (self.state.append, self.status.append,
                                               self.distance.append)
        add_logprob, add_depth, add_head, add_entry = (self.logprob.append, self.depth.append,
                                                       in_head.append, self.entry.append)
        add_src, add_dst, add_tactic, add_lp = (self.src.append, self.dst.append,
                                                self.tactic.append, self.edge_logprob.append)
        add_outcome, add_time, add_next = (self.outcome.append, self.time_s.append,
                                           self.in_next.append)
        frontier, tick, normalize = self.frontier, self.tick, self.length_normalize
        cum0 = self.logprob[node]
        depth = self.depth[node] + 1
        queue = depth < self.max_depth
        first = edge = len(self.dst)
        known = len(table)
        best = INF
        alive = 0
        for (tactic, logprob), result in zip(candidates, applied, strict=True):
            if result is None:
                continue
            outcome, seconds = result
            if type(outcome) is Progress:
                kind = "progress"
                state = outcome.state
                dst = table.get(state.key, NONE)
                if dst == NONE:  # a new state node, as in ``_node``
                    dst = len(status)
                    cum = cum0 + logprob
                    table[state.key] = dst
                    add_state(state)
                    add_status(OPEN)
                    add_distance(INF)
                    add_logprob(cum)
                    add_depth(depth)
                    add_head(NONE)
                    if queue:
                        t = tick()
                        add_entry(t)
                        heapq.heappush(frontier, (-(cum / depth if normalize else cum), t, dst))
                    else:
                        add_entry(0)
                else:
                    self.dedup_hits += 1
                    self._improve(dst, cum0 + logprob, depth)
            elif type(outcome) is Proved:
                kind = "proved"
                if self.proved_id == NONE:
                    self.proved_id = self._node(None, PROVED, 0.0, cum0 + logprob, depth)
                dst = self.proved_id
                if outcome.evidence:
                    self.evidence[edge] = dict(outcome.evidence)
            else:
                kind = _KINDS.get(type(outcome), "")
                if kind == "failed":
                    detail = outcome.reason  # type: ignore[union-attr]
                elif kind == "timeout":
                    detail = f"timeout after {outcome.budget_s:g} s"  # type: ignore[union-attr]
                elif kind == "crashed":
                    detail = outcome.message  # type: ignore[union-attr]
                else:
                    kind, detail = "crashed", f"environment returned {outcome!r}"[:2000]
                if detail:
                    self.detail[edge] = detail
                if self.failed_id == NONE:
                    self.failed_id = self._node(None, FAILED, INF, cum0 + logprob, depth)
                dst = self.failed_id
            add_src(node)
            add_dst(dst)
            add_tactic(tactic)
            add_lp(logprob)
            add_outcome(kind)
            add_time(seconds)
            add_next(in_head[dst])
            in_head[dst] = edge
            edge += 1
            if dst != node:
                if status[dst] == OPEN:
                    alive += 1
                elif status[dst] == PROVED and distance[dst] + 1 < best:
                    best = distance[dst] + 1
        if len(table) > known and depth > self.max_depth_reached:
            self.max_depth_reached = depth
        self.out[node] = range(first, edge)
        self.live[node] = alive
        complete = edge - first == len(candidates)
        if complete:
            self.complete.add(node)
        if best < INF:
            distance[node] = best
            status[node] = PROVED
            self._propagate_proved(node)
        elif complete and alive == 0:
            status[node] = FAILED
            self._propagate_failed(node)
        return edge - first

    def _propagate_proved(self, start: int) -> None:
        """Relax ``distance`` of ancestors (shortest path; each update strictly decreases)."""
        distance, status, src, in_head, in_next = (self.distance, self.status, self.src,
                                                   self.in_head, self.in_next)
        stack = [start]
        while stack:
            node = stack.pop()
            through = distance[node] + 1
            edge = in_head[node]
            while edge != NONE:
                parent = src[edge]
                if through < distance[parent]:
                    distance[parent] = through
                    status[parent] = PROVED
                    stack.append(parent)
                edge = in_next[edge]

    def _propagate_failed(self, start: int) -> None:
        """Fail each expanded ancestor whose last live out-edge just failed (each node once)."""
        status, live, complete, src, in_head, in_next = (self.status, self.live, self.complete,
                                                         self.src, self.in_head, self.in_next)
        stack = [start]
        while stack:
            node = stack.pop()
            edge = in_head[node]
            while edge != NONE:
                parent = src[edge]
                if parent != node:
                    live[parent] -= 1
                    if live[parent] == 0 and parent in complete and status[parent] == OPEN:
                        status[parent] = FAILED
                        stack.append(parent)
                edge = in_next[edge]

    # -- results -----------------------------------------------------------------------------

    def proof_edges(self) -> list[int] | None:
        """Edge ids of the shortest known proof from the root (first minimal edge on ties)."""
        if self.status[self.root] != PROVED:
            return None
        path: list[int] = []
        node = self.root
        while self.distance[node] > 0:
            edge = min(self.out[node], key=lambda e: self.distance[self.dst[e]])
            path.append(edge)
            node = self.dst[edge]
        return path

    def records(self, proof: list[int] | None) -> tuple[list[NodeRecord], list[EdgeRecord]]:
        """Every node and edge as plain records, marking the ones on ``proof``.

        Built column by column (C-level ``map``), with the cyclic garbage collector paused:
        they are hundreds of thousands of new objects, none of them garbage.
        """
        n, m = len(self.status), len(self.dst)
        states: list[Any] = list(self.state)
        kinds = ["state"] * n
        for sentinel, kind in ((self.proved_id, "proved"), (self.failed_id, "failed")):
            if sentinel != NONE:
                states[sentinel], kinds[sentinel] = _NO_STATE, kind
        expanded = [False] * n
        for node in self.complete:
            expanded[node] = True
        node_on_path, edge_on_path = [False] * n, [False] * m
        if proof:
            node_on_path[self.root] = True
            for edge in proof:
                edge_on_path[edge] = node_on_path[self.dst[edge]] = True
        details: list[str] = [""] * m
        evidence: list[dict[str, Any] | None] = [None] * m
        for edge, detail in self.detail.items():
            details[edge] = detail
        for edge, certificate in self.evidence.items():
            evidence[edge] = certificate
        with _gc_paused():
            nodes = list(map(
                NodeRecord, range(n), kinds, map(_KEY, states), map(_TEXT, states),
                map(_GOALS, states), map(STATUS_NAMES.__getitem__, self.status),
                [None if d == INF else int(d) for d in self.distance], self.logprob,
                self.depth, expanded, node_on_path))
            edges = list(map(
                EdgeRecord, range(m), self.src, self.dst, self.tactic, self.edge_logprob,
                self.outcome, details, self.time_s, edge_on_path, evidence))
        return nodes, edges


_NO_STATE = SimpleNamespace(key=None, text=None, goals=())
_KEY, _TEXT, _GOALS = attrgetter("key"), attrgetter("text"), attrgetter("goals")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Disable automatic garbage collection inside the block (restored even on error)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
