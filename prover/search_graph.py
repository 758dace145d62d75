"""A proof-search DAG (``SearchResult.to_dict()``) as a content-addressed proof graph.

Goal nodes are addressed by their normalised goal text and backend, so searches of different
runs merge; terminal outcomes (proved, failed, timeout, crashed) are addressed by their parent
goal, the tactic and the outcome, since they carry no goal of their own. Every edge is a
``tactic`` edge with its tactic text, logprob, outcome, detail, time and proof-path mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from prover import graph as pg


def search_graph(search: Mapping[str, Any], *, backend: str, statement: str,
                 provenance: Mapping[str, Any] | None = None) -> tuple[nx.DiGraph, str]:
    """Build the graph of one search; returns ``(graph, root_id)``.

    The root is a ``statement`` node holding the theorem text, with a ``contains`` edge to the
    initial goal; ``search`` is the plain-JSON form of a search result (nodes, edges, status).
    """
    g = pg.new_graph(status=search.get("status"), stop_reason=search.get("stop_reason"),
                     provenance=dict(provenance or {}))
    root = pg.add_node(g, "statement", statement, backend, status=search.get("status"))
    ids: dict[int, str] = {}
    by_id = {n["id"]: n for n in search.get("nodes", [])}
    for node in search.get("nodes", []):
        if node.get("text") is None:
            continue
        ids[node["id"]] = pg.add_node(
            g, "goal", node["text"], backend, status=node.get("status"),
            distance=_finite(node.get("distance")), logprob=node.get("logprob"),
            depth=node.get("depth"), expanded=node.get("expanded"),
            on_proof_path=bool(node.get("on_proof_path")))
    if search.get("nodes"):
        first = search["nodes"][0]["id"]
        if first in ids:
            pg.add_edge(g, root, ids[first], "contains")
    for edge in search.get("edges", []):
        src = ids.get(edge["src"])
        if src is None:
            continue
        dst = ids.get(edge.get("dst")) if edge.get("dst") is not None else None
        if dst is None:
            target = by_id.get(edge.get("dst"), {})
            label = f"{g.nodes[src]['text']} ▸ {edge['tactic']} ⇒ {edge['outcome']}"
            dst = pg.add_node(g, "goal", label, backend, status=target.get("status") or (
                "proved" if edge["outcome"] == "proved" else "failed"), terminal=True,
                on_proof_path=bool(edge.get("on_proof_path")))
        if g.has_edge(src, dst):
            continue
        pg.add_edge(g, src, dst, "tactic", tactic=edge["tactic"], logprob=edge.get("logprob"),
                    outcome=edge["outcome"], detail=edge.get("detail") or "",
                    time_s=edge.get("time_s"), on_proof_path=bool(edge.get("on_proof_path")))
    return g, root


def _finite(value: Any) -> float | None:
    """JSON has no infinity: an unreachable distance is stored as None."""
    if value is None:
        return None
    number = float(value)
    return number if number != float("inf") else None
