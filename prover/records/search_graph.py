"""A proof-search DAG (``SearchResult.to_dict()``) as a content-addressed proof graph.

Goal nodes are addressed by their normalised goal text and backend, so searches of different
runs merge; terminal outcomes (proved, failed, timeout, crashed) are addressed by their parent
goal, the tactic and the outcome, since they carry no goal of their own. Every edge is a
``tactic`` edge with its tactic text, logprob, outcome, detail, time and proof-path mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from prover.records import graph as pg


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


def rounds_graph(rounds: Sequence[Mapping[str, Any]], *, proved: bool, backend: str,
                 statement: str, provenance: Mapping[str, Any]
                 ) -> tuple[nx.DiGraph, str, list[str]]:
    """A whole-proof attempt as a proof graph: the ``statement`` root, one ``step`` node per
    round's proof (or the completion that held none), and ``tactic`` edges root -> round 1 ->
    round 2 ... marked ``whole-proof`` or ``repair`` with the checker's errors. Returns
    ``(graph, root, step ids)`` with one step id per round, in order."""
    status = "proved" if proved else "failed"
    g = pg.new_graph(status=status, mode="whole", provenance=dict(provenance))
    root = pg.add_node(g, "statement", statement, backend, status=status)
    previous, steps = root, []
    for record in rounds:
        proof = record["proof"]
        text = proof if proof is not None else (
            f"[no proof: {record['extract'].get('failure')}] {record['completion'][-500:]}")
        outcome = record["verdict"] if proof is not None else "no-proof"
        node = pg.add_node(g, "step", text, backend, status=outcome, round=record["round"],
                           checker=record["checker"], errors=record["errors"][:2000],
                           completion=record["completion"],
                           extract=record["extract"], checks=record["checks"])
        pg.add_edge(g, previous, node, "tactic", tactic=proof or "", logprob=record["logprob"],
                    outcome=outcome, detail=record["errors"][:2000], time_s=record["check_s"],
                    round=record["round"],
                    kind="whole-proof" if record["round"] == 1 else "repair",
                    on_proof_path=proved)
        steps.append(node)
        previous = node
    return g, root, steps
