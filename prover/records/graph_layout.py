"""The proof graph of one step-checked solution as plain dicts (:class:`SolutionLayout`).

:func:`solution_layout` is the one place that decides the layout of a solution's proof graph
(see :func:`prover.records.graph.solution_graph`, which turns it into a ``networkx.DiGraph``).
A check that stores its rows needs no ``DiGraph``: :func:`prover.records.prepared.prepare_item`
takes the layout itself and writes the same rows, in the same order, as from the ``DiGraph``
built from it. The dicts mirror networkx's own: ``nodes`` maps a node id to its attribute dict
(``kind``, ``text``, ``backend``, then the extras) in insertion order, ``succ`` maps a source
to ``{target: edge attributes}`` (``etype`` first), each in insertion order; edges are listed
as a ``DiGraph`` lists them (sources in node order, targets in insertion order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from prover.records.graph_ids import node_id


@dataclass
class SolutionLayout:
    """Nodes and edges of one proof graph (see the module docstring); ``root`` is a node id."""

    nodes: dict[str, dict[str, Any]]
    succ: dict[str, dict[str, dict[str, Any]]]
    root: str
    #: every edge ``(source, target, attributes)`` in the order it was added
    added: list[tuple[str, str, dict[str, Any]]]

    def edges(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """``(source, target, attributes)`` in the order ``DiGraph.edges(data=True)`` gives."""
        succ = self.succ
        for src in self.nodes:
            out = succ.get(src)
            if out:
                for dst, data in out.items():
                    yield src, dst, data

    def to_graph(self) -> nx.DiGraph:
        """The same graph as a new ``DiGraph`` (attribute dicts copied): nodes, then edges in
        the order they were added, so successors and predecessors keep their order too."""
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes.items())  # networkx copies each attribute dict
        g.add_edges_from(self.added)
        return g


def solution_layout(solution: Mapping[str, Any], *, backend: str | None = None
                    ) -> SolutionLayout:
    """The proof graph of one step-checked solution dict (layout: see
    :func:`prover.records.graph.solution_graph`); ``backend`` defaults to the provenance's."""
    prov = solution.get("provenance") or {}
    be = backend or str(prov.get("backend") or "z3")
    nodes: dict[str, dict[str, Any]] = {}
    succ: dict[str, dict[str, dict[str, Any]]] = {}
    added: list[tuple[str, str, dict[str, Any]]] = []
    root = _put_node(nodes, "statement", str(solution.get("problem") or ""), be, {})
    bound: dict[str, str] = {}  # name -> definition claim node id
    for step in solution.get("steps") or []:
        sid = _put_node(nodes, "step", str(step.get("text", "")), be,
                        {"verdict": step.get("verdict")})
        _put_edge(succ, added, root, sid, "contains", {"index": step.get("index")})
        for ci, claim in enumerate(step.get("claims") or []):
            formal = claim.get("formal")
            cid = _put_node(nodes, "claim", str(formal or claim.get("source") or ""), be, {
                "claim_kind": claim.get("kind"), "formal": formal,
                "verdict": claim_verdict(claim), "binds": claim.get("binds")})
            etype = "formalization" if formal else "contains"
            _put_edge(succ, added, sid, cid, etype, {"source_text": claim.get("source"),
                                              "claim_index": ci})
            if formal and bound:
                for name in set(_IDENT.findall(formal)):
                    if name in bound and bound[name] != cid:
                        _put_edge(succ, added, bound[name], cid, "entailment", {"via": name})
            if claim.get("binds"):
                bound[str(claim["binds"])] = cid
    return SolutionLayout(nodes, succ, root, added)


def _put_node(nodes: dict[str, dict[str, Any]], kind: str, text: str, backend: str,
              attrs: dict[str, Any]) -> str:
    """Add the node or merge ``attrs`` into it (the first spelling of ``text`` stays), as
    ``DiGraph.add_node`` does."""
    nid = node_id(kind, text, backend)
    data = nodes.get(nid)
    if data is not None:
        data.update(attrs)
    else:
        nodes[nid] = {"kind": kind, "text": text, "backend": backend, **attrs}
    return nid


def _put_edge(succ: dict[str, dict[str, dict[str, Any]]],
              added: list[tuple[str, str, dict[str, Any]]], src: str, dst: str, etype: str,
              attrs: dict[str, Any]) -> None:
    """Add the edge (no self-loops); on a pair that has one, merge ``attrs`` when the etype is
    the same and keep the first edge otherwise."""
    if src == dst:
        return
    out = succ.get(src)
    if out is None:
        out = succ[src] = {}
    data = out.get(dst)
    if data is None:
        data = out[dst] = {"etype": etype, **attrs}
        added.append((src, dst, data))
    elif data.get("etype") == etype:
        data.update(attrs)


def claim_verdict(claim: Mapping[str, Any]) -> dict[str, Any] | None:
    """A claim's verdict as its graph node holds it (verdict, reason, tolerance, evidence), or
    None for a claim without one."""
    if claim.get("verdict") is None:
        return None
    out: dict[str, Any] = {"verdict": claim["verdict"]}
    for key in ("reason", "tolerance"):
        if claim.get(key) is not None:
            out[key] = claim[key]
    if claim.get("evidence"):
        out["evidence"] = claim["evidence"]
    return out


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
