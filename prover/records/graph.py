"""Proof graphs: content-addressed ``networkx.DiGraph`` objects with typed nodes and edges.

Node ids are ``sha256(kind, whitespace-normalised text, backend)`` so the same statement, step,
claim or goal gets the same id in every run and process, and graphs from different runs merge.
A ``DiGraph`` holds at most one edge per ordered pair; adding a second edge of a *different*
``etype`` on the same pair is an error rather than a silent overwrite.

Attribute values must be JSON-able (they are stored in SQLite and exported as JSON/GraphML).
Merging is last-writer-wins per attribute key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

# re-exported: the ids and the solution layout live in their own modules
from prover.records.graph_ids import NODE_KINDS as NODE_KINDS
from prover.records.graph_ids import node_id as node_id
from prover.records.graph_ids import normalize_text as normalize_text
from prover.records.graph_layout import solution_layout
from prover.records.verdicts import Provenance, Verdict

EDGE_TYPES: frozenset[str] = frozenset({"contains", "entailment", "formalization", "tactic"})
CORE_NODE_ATTRS: tuple[str, ...] = ("kind", "text", "backend")
#: Attribute names that would collide with the node-link JSON layout.
_RESERVED_NODE_ATTRS = frozenset({"id"})
_RESERVED_EDGE_ATTRS = frozenset({"source", "target", "etype"})
_GRAPHML_META = "proofgraph_graphml"
# Characters that XML cannot carry verbatim (or that parsers normalise, like \r).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def new_graph(**graph_attrs: Any) -> nx.DiGraph:
    """An empty proof graph, optionally with JSON-able graph-level attributes."""
    _check_jsonable(graph_attrs)
    return nx.DiGraph(**graph_attrs)


def add_node(g: nx.DiGraph, kind: str, text: str, backend: str, **attrs: Any) -> str:
    """Add (or merge into) the node for ``(kind, text, backend)`` and return its id.

    Idempotent: the same content again returns the same id and updates the extra attributes;
    the stored ``text`` stays the first spelling seen.
    """
    nid = node_id(kind, text, backend)
    bad = _RESERVED_NODE_ATTRS.intersection(attrs)
    if bad:
        raise ValueError(f"reserved node attribute name(s): {sorted(bad)}")
    _check_jsonable(attrs)
    if nid in g:
        g.nodes[nid].update(attrs)
    else:
        g.add_node(nid, kind=kind, text=text, backend=backend, **attrs)
    return nid


def add_edge(g: nx.DiGraph, src: str, dst: str, etype: str, **attrs: Any) -> None:
    """Add a typed edge between two existing nodes; re-adding the same etype merges attributes.

    Raises ``ValueError`` for an unknown etype, a missing endpoint, or an existing edge of
    another etype on the same pair.
    """
    _check_etype(etype)
    for end in (src, dst):
        if end not in g:
            raise ValueError(f"edge endpoint {end!r} is not a node of the graph")
    bad = _RESERVED_EDGE_ATTRS.intersection(attrs)
    if bad:
        raise ValueError(f"reserved edge attribute name(s): {sorted(bad)}")
    _check_jsonable(attrs)
    if g.has_edge(src, dst):
        data = g.edges[src, dst]
        if data.get("etype") != etype:
            raise ValueError(
                f"edge {src[:12]}->{dst[:12]} already has etype {data.get('etype')!r}, "
                f"cannot also be {etype!r} (one edge per ordered pair)"
            )
        data.update(attrs)
    else:
        g.add_edge(src, dst, etype=etype, **attrs)


def merge(graphs: Iterable[nx.DiGraph]) -> nx.DiGraph:
    """Union of proof graphs: shared ids merge, later graphs win per attribute key."""
    out = nx.DiGraph()
    for g in graphs:
        out.graph.update(g.graph)
        for n, data in g.nodes(data=True):
            if n in out:
                out.nodes[n].update(data)
            else:
                out.add_node(n, **data)
        for u, v, data in g.edges(data=True):
            if out.has_edge(u, v):
                old = out.edges[u, v].get("etype")
                if old != data.get("etype"):
                    raise ValueError(f"conflicting etypes {old!r}/{data.get('etype')!r} on {u}->{v}")
                out.edges[u, v].update(data)
            else:
                out.add_edge(u, v, **data)
    return out


def to_json(g: nx.DiGraph) -> dict[str, Any]:
    """Node-link JSON dict (``nodes``/``edges`` lists); ``from_json`` restores the same graph."""
    return nx.node_link_data(g, edges="edges")


def from_json(d: Mapping[str, Any]) -> nx.DiGraph:
    """Inverse of :func:`to_json`; always returns a ``DiGraph``."""
    return nx.node_link_graph(dict(d), directed=True, multigraph=False, edges="edges")


def graphs_equal(a: nx.DiGraph, b: nx.DiGraph) -> bool:
    """True when both graphs have the same nodes, edges and all attributes (graph-level too)."""
    return (
        a.graph == b.graph
        and dict(a.nodes(data=True)) == dict(b.nodes(data=True))
        and {(u, v): d for u, v, d in a.edges(data=True)}
        == {(u, v): d for u, v, d in b.edges(data=True)}
    )


def write_graphml(g: nx.DiGraph, path: str | Path) -> None:
    """Write GraphML; attributes GraphML cannot hold verbatim are JSON-encoded and listed.

    Per attribute name: all-str (XML-safe), all-bool, all-int or all-float columns stay typed;
    anything else (dict, list, None, mixed types, unsafe characters) becomes JSON text, and the
    encoded names go in a graph attribute so :func:`read_graphml` can decode them exactly.
    """
    h = nx.DiGraph()
    node_json = _json_columns(d for _, d in g.nodes(data=True))
    edge_json = _json_columns(d for _, _, d in g.edges(data=True))
    meta = {"version": 1, "node_json": sorted(node_json), "edge_json": sorted(edge_json),
            "graph": g.graph}
    h.graph[_GRAPHML_META] = json.dumps(meta, ensure_ascii=True, sort_keys=True)
    for n, d in g.nodes(data=True):
        h.add_node(n, **_encode(d, node_json))
    for u, v, d in g.edges(data=True):
        h.add_edge(u, v, **_encode(d, edge_json))
    nx.write_graphml(h, str(path))


def read_graphml(path: str | Path) -> nx.DiGraph:
    """Read a file written by :func:`write_graphml` back into the identical ``DiGraph``."""
    h = nx.read_graphml(str(path))
    meta = json.loads(h.graph.get(_GRAPHML_META, "{}"))
    node_json = set(meta.get("node_json", ()))
    edge_json = set(meta.get("edge_json", ()))
    g = nx.DiGraph(**meta.get("graph", {}))
    for n, d in h.nodes(data=True):
        g.add_node(n, **_decode(d, node_json))
    for u, v, d in h.edges(data=True):
        g.add_edge(u, v, **_decode(d, edge_json))
    return g


def solution_graph(solution: Mapping[str, Any], *, backend: str | None = None) -> tuple[nx.DiGraph, str]:
    """Build the proof graph of one step-checked solution dict; returns ``(graph, root_id)``.

    Layout: statement -contains-> step (attr ``index``); step -formalization-> claim when the
    claim has a formal form (node text = formal form) else step -contains-> claim (node text =
    source); definition claim -entailment-> later claims whose formal form uses the bound name.
    Context-dependent data (``source_text``, step ``index``) sit on edges, verdicts on nodes.
    """
    layout = solution_layout(solution, backend=backend)
    return layout.to_graph(), layout.root


def entailment_graph(result: Mapping[str, Any], *, backend: str = "z3-fol"
                     ) -> tuple[nx.DiGraph | None, str | None, list[tuple[str, Verdict, Provenance]]]:
    """Build the proof graph of one ``entail`` result row; returns ``(graph, conclusion id,
    [(conclusion id, verdict, provenance)])``, or ``(None, None, [])`` for a rejected row.

    Layout: premise ``statement`` -entailment-> conclusion ``claim`` (attr ``premise_index``)
    for the premises in the unsat core (every premise when there is no core); the answer sits
    on the conclusion node, the verdict with its evidence goes to the store's verdict rows.
    """
    if result.get("error") or "verdict" not in result:
        return None, None, []
    graph = new_graph()
    conclusion = add_node(graph, "claim", result["conclusion"], backend, answer=result["answer"])
    used = result.get("evidence", {}).get("core_indices")
    for index, text in enumerate(result["premises"]):
        node = add_node(graph, "statement", text, backend)
        if used is None or index in used:
            add_edge(graph, node, conclusion, "entailment", premise_index=index)
    verdict = Verdict.from_dict({**result["verdict"], "evidence": result.get("evidence", {})})
    return graph, conclusion, [(conclusion, verdict, Provenance.from_dict(result["provenance"]))]


def _add_edge_once(g: nx.DiGraph, src: str, dst: str, etype: str, **attrs: Any) -> None:
    """Like :func:`add_edge` but keeps the first edge when the pair already has another etype."""
    if src == dst:
        return
    if g.has_edge(src, dst) and g.edges[src, dst].get("etype") != etype:
        return
    add_edge(g, src, dst, etype, **attrs)


def _check_etype(etype: str) -> None:
    if etype not in EDGE_TYPES:
        raise ValueError(f"unknown edge type {etype!r}; expected one of {sorted(EDGE_TYPES)}")


def _check_jsonable(attrs: Mapping[str, Any]) -> None:
    """Raise TypeError unless every value is JSON-able; plain scalars are accepted without
    encoding them (most attributes), anything else is tried with the JSON encoder."""
    rest = {k: v for k, v in attrs.items() if type(v) not in _SCALARS}
    if not rest:
        return
    try:
        json.dumps(rest, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"attribute values must be JSON-able: {exc}") from exc


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar_type(v: Any) -> type | None:
    if isinstance(v, bool):
        return bool
    if isinstance(v, int):
        return int
    if isinstance(v, float):
        return float
    if isinstance(v, str) and not _XML_UNSAFE.search(v):
        return str
    return None


def _json_columns(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """Attribute names whose values are not one single GraphML-safe scalar type."""
    types: dict[str, set[type | None]] = {}
    for d in rows:
        for k, v in d.items():
            types.setdefault(k, set()).add(_scalar_type(v))
    return {k for k, ts in types.items() if len(ts) != 1 or None in ts}


def _encode(d: Mapping[str, Any], json_cols: set[str]) -> dict[str, Any]:
    return {k: json.dumps(v, ensure_ascii=True) if k in json_cols else v for k, v in d.items()}


def _decode(d: Mapping[str, Any], json_cols: set[str]) -> dict[str, Any]:
    return {k: json.loads(v) if k in json_cols else v for k, v in d.items()}


def add_llm_claims(graph: nx.DiGraph, result: Mapping[str, Any], step_backend: str,
                   llm_backend: str) -> None:
    """Add the LLM claims of ``result`` to its proof graph: step -formalization-> claim and
    claim -entailment-> claim for the earlier steps each claim used (local premises)."""
    nodes: list[list[str]] = []
    for step in result.get("steps") or []:
        sid = node_id("step", str(step.get("text", "")), step_backend)
        ids: list[str] = []
        for claim in (step.get("llm") or {}).get("claims", []):
            if not claim["formal"] or sid not in graph:
                continue
            cid = add_node(graph, "claim", claim["formal"], llm_backend,
                              claim_kind=f"llm-{claim['kind']}",
                              verdict={k: claim["grounded"][k] for k in ("verdict", "reason")},
                              verdict_local={k: claim["local"][k] for k in ("verdict", "reason")})
            if not graph.has_edge(sid, cid):
                add_edge(graph, sid, cid, "formalization", source_text=claim["source"])
            for dep in claim["premises"]:
                for src in nodes[dep] if dep < len(nodes) else []:
                    if src != cid and not graph.has_edge(src, cid) and not graph.has_edge(cid, src):
                        add_edge(graph, src, cid, "entailment", via="llm-premise")
            ids.append(cid)
        nodes.append(ids)


def claim_graph(text: str, backend: str, **attrs: Any) -> tuple[nx.DiGraph, str]:
    """A one-node proof graph: the claim ``text`` checked as a whole (an audited statement);
    returns ``(graph, node id)``."""
    graph = new_graph()
    return graph, add_node(graph, "claim", text, backend, **attrs)
