"""One finished item as ready-to-store rows, built where the item was processed.

A pool worker that checked a row can also turn its result, graph and verdicts into the rows
the store keeps (canonical JSON text, node / graph-node / edge / verdict / provenance tuples):
:func:`prepare_item`. The parent's group commit then only merges node attributes and runs
``executemany`` (:meth:`prover.records.store_writer.StoreWriter.commit_items`), and no
networkx graph crosses the pipe. The parent prepares the items that arrive without rows the
same way, so both paths write the same bytes.

Provenance is stored once per content (its volatile fields removed); its id is the sha256 of
its canonical JSON, memoised per process by a cheap key of its fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from prover.records.graph import CORE_NODE_ATTRS
from prover.records.graph_layout import SolutionLayout
from prover.records.jsonl import dump_line
from prover.records.store_schema import canonical_json
from prover.records.verdicts import Provenance, Verdict

#: Provenance fields that vary per call; kept on the verdict row, not hashed.
VOLATILE_PROVENANCE_FIELDS: tuple[str, ...] = ("wall_time_s", "utc_time")
#: distinct provenances memoised per process before the memo starts over
_MEMO_MAX = 4096

NodeRow = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class PreparedItem:
    """The store rows of one item (every row without its ``run_id`` / ``item_key`` columns).

    ``result_json`` is the canonical JSON of the stored result (``key`` and ``run_id``
    included); ``line`` is the same result as its JSONL line (:func:`prover.records.jsonl.dump_line`, key order
    kept), or None when the run writes no JSONL file. ``nodes`` are ``(node_id, kind, text,
    backend, canonical JSON of the extra attributes)`` (the JSON alone: a dict per node would
    cost the parent more to unpickle than anything else in the rows); ``graph_nodes`` ``(node_id,
    attrs_json)``; ``edges`` ``(src, dst, etype, attrs_json)``; ``verdicts`` ``(node_id,
    verdict_json, prov_id, wall_time_s, utc_time)``; ``provenance`` ``(prov_id, json)``."""

    run_id: str
    key: str
    seq: int
    result_json: str
    line: str | None
    error: str | None
    has_graph: bool
    root: str | None
    nodes: tuple[NodeRow, ...]
    graph_nodes: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str, str, str], ...]
    verdicts: tuple[tuple[str, str, str, float, str], ...]
    provenance: tuple[tuple[str, str], ...]

    def result(self) -> dict[str, Any]:
        """The stored result as a dict (from the JSONL line when there is one, so its key
        order is the one the line has)."""
        loaded: dict[str, Any] = json.loads(self.line if self.line is not None
                                            else self.result_json)
        return loaded


def prepare_item(run_id: str, key: str, seq: int, result: dict[str, Any],
                 graph: nx.DiGraph | SolutionLayout | None = None, root: str | None = None,
                 verdicts: Sequence[tuple[str, Verdict, Provenance]] = (), *,
                 line: bool = False) -> PreparedItem:
    """The store rows of one item whose stored ``result`` is final (``key`` and ``run_id``
    already in it); ``line``: also its JSONL line. ``graph`` may be a
    :class:`~prover.records.graph_layout.SolutionLayout` (the rows are those of its
    ``DiGraph``, made without building one). Raises ValueError for a root that is not a
    node of the graph, a node without the core attributes or an edge without an etype (the
    checks the store makes)."""
    if root is not None and (graph is None or root not in (
            graph.nodes if isinstance(graph, SolutionLayout) else graph)):
        raise ValueError(f"root {root!r} is not a node of the item graph")
    err = result.get("error")
    nodes: list[NodeRow] = []
    graph_nodes: list[tuple[str, str]] = []
    edges: list[tuple[str, str, str, str]] = []
    if isinstance(graph, SolutionLayout):  # built by us: every node and edge is whole
        _layout_rows(graph, nodes, graph_nodes, edges)
    elif graph is not None:
        core = _CORE
        for n, d in graph.nodes(data=True):
            if not core.issubset(d):
                missing = [k for k in CORE_NODE_ATTRS if k not in d]
                raise ValueError(f"node {n!r} lacks {missing}; build graphs with graph.add_node")
            extras = {k: v for k, v in d.items() if k not in core}
            nodes.append((n, d["kind"], d["text"], d["backend"], canonical_json(extras)))
            graph_nodes.append((n, canonical_json(d)))
        for u, v, d in graph.edges(data=True):
            etype = d.get("etype")
            if etype is None:
                raise ValueError(f"edge {u!r}->{v!r} lacks an etype; use graph.add_edge")
            attrs = {k: val for k, val in d.items() if k != "etype"}
            edges.append((u, v, etype, canonical_json(attrs)))
    verdict_rows = []
    provenance: dict[str, str] = {}
    for nid, verdict, prov in verdicts:
        pid, pjson = provenance_row(prov)
        provenance.setdefault(pid, pjson)
        verdict_rows.append((nid, canonical_json(verdict.to_dict()), pid, prov.wall_time_s,
                             prov.utc_time))
    return PreparedItem(
        run_id=run_id, key=key, seq=int(seq), result_json=canonical_json(result),
        line=dump_line(result) if line else None,
        error=err if isinstance(err, str) and err else None, has_graph=graph is not None,
        root=root, nodes=tuple(nodes), graph_nodes=tuple(graph_nodes), edges=tuple(edges),
        verdicts=tuple(verdict_rows), provenance=tuple(provenance.items()))


def _layout_rows(layout: SolutionLayout, nodes: list[NodeRow],
                 graph_nodes: list[tuple[str, str]],
                 edges: list[tuple[str, str, str, str]]) -> None:
    """The node, graph-node and edge rows of a layout, in the order (and with the text) of
    the rows of the ``DiGraph`` built from it."""
    core = _CORE
    for n, d in layout.nodes.items():
        extras = {k: v for k, v in d.items() if k not in core}
        nodes.append((n, d["kind"], d["text"], d["backend"], canonical_json(extras)))
        graph_nodes.append((n, canonical_json(d)))
    for u, v, d in layout.edges():
        attrs = d.copy()
        etype = attrs.pop("etype")
        edges.append((u, v, etype, canonical_json(attrs)))


def provenance_id(prov: Provenance | dict[str, Any]) -> tuple[str, str]:
    """``(sha256 hex, canonical json)`` of a provenance with its volatile fields removed."""
    data = prov.to_dict() if isinstance(prov, Provenance) else dict(prov)
    for key in VOLATILE_PROVENANCE_FIELDS:
        data.pop(key, None)
    text = canonical_json(data)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def provenance_row(prov: Provenance) -> tuple[str, str]:
    """:func:`provenance_id` of ``prov``, hashed once per distinct provenance per process
    (not once per claim)."""
    memo_key = _provenance_key(prov)
    got = _PROV_MEMO.get(memo_key)
    if got is None:
        if len(_PROV_MEMO) >= _MEMO_MAX:
            _PROV_MEMO.clear()
        got = _PROV_MEMO[memo_key] = provenance_id(prov)
    return got


def _provenance_key(prov: Provenance) -> tuple[Any, ...]:
    """A cheap identity of a provenance's non-volatile content (memo key, not stored): the
    field values, with each non-scalar (limits, policy) as its type and ``repr``, instead of
    ``to_dict`` + canonical JSON + sha256 per claim. Equal content in another key order only
    misses the memo (the stored id is the canonical hash either way)."""
    return tuple(v if type(v) in _KEY_SCALARS else (type(v), repr(v))
                 for k, v in prov.__dict__.items() if k not in _VOLATILE)


_CORE = frozenset(CORE_NODE_ATTRS)
_KEY_SCALARS = frozenset({str, int, float, bool, type(None)})
_VOLATILE = frozenset(VOLATILE_PROVENANCE_FIELDS)
_PROV_MEMO: dict[tuple[Any, ...], tuple[str, str]] = {}
