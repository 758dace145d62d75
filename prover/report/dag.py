"""The graph view: a proof graph (a search DAG, or any proof graph) as a layered offline page.

:func:`graph_payload` turns a ``networkx.DiGraph`` into plain JSON for ``assets/dag.js``: nodes
sorted by layer (BFS depth from the root, then from any other source), the proof path first in
each layer and failed nodes last, edges by node index with tactic, logprob, outcome, error text
and time. :func:`render_graph_page` embeds one payload per item (theorem) in its own JSON block,
parsed only when the item is picked, so a run of many theorems or a 10,000-node DAG opens fast;
the script renders layers lazily (see ``EAGER_NODES``).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from prover.records.results import OutcomeResult, ProofSearchResult, Record
from prover.report.limits import MAX_CHARS, MAX_NODES, MAX_ROWS, Omitted, clip, note_text
from prover.report.page import asset, document, esc, json_block

#: Graphs up to this many nodes get every node's DOM element at load (dag.js has the same
#: constant); larger ones render a layer only when it scrolls into view, 400 nodes at a time.
EAGER_NODES = 2000
_NODE_FIELDS = ("kind", "text", "status", "on_proof_path", "terminal")
_EDGE_FIELDS = ("etype", "tactic", "logprob", "outcome", "detail", "time_s", "on_proof_path")
Section = tuple[str, list[tuple[str, str]]]


def find_root(g: nx.DiGraph) -> str | None:
    """The graph's root: the first ``statement`` node without parents, else any source node."""
    sources = [n for n in g.nodes if g.in_degree(n) == 0]
    for n in sources:
        if g.nodes[n].get("kind") == "statement":
            return n
    return sources[0] if sources else (next(iter(g.nodes)) if len(g) else None)


def layer_of(g: nx.DiGraph, root: str | None) -> dict[str, int]:
    """BFS depth of every node: from ``root`` first, then from other sources, then the rest."""
    depth: dict[str, int] = {}
    starts = ([root] if root is not None and root in g else []) + [
        n for n in g.nodes if g.in_degree(n) == 0]
    starts += list(g.nodes)  # nodes only on cycles (never in search DAGs) start at depth 0
    for start in starts:
        if start in depth:
            continue
        depth[start] = 0
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in g.successors(u):
                if v not in depth:
                    depth[v] = depth[u] + 1
                    queue.append(v)
    return depth


def on_path(g: nx.DiGraph, root: str | None) -> set[str]:
    """Nodes marked ``on_proof_path``, plus the root when one of its children is on the path."""
    path = {n for n, d in g.nodes(data=True) if d.get("on_proof_path")}
    if root is not None and root in g and any(v in path for v in g.successors(root)):
        path.add(root)
    return path


def _status(d: Mapping[str, Any]) -> str:
    status = d.get("status")
    if isinstance(status, str) and status:
        return status
    verdict = d.get("verdict")
    if isinstance(verdict, Mapping):
        verdict = verdict.get("verdict")
    return str(verdict) if isinstance(verdict, str) and verdict else ""


def _jsonable(value: Any) -> Any:
    """Attribute values as JSON (non-finite floats become their text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def graph_payload(g: nx.DiGraph, root: str | None = None,
                  max_nodes: int | None = MAX_NODES) -> dict[str, Any]:
    """Plain-JSON layered form of ``g``: ``nodes`` (sorted by layer), ``edges``, ``layers``.

    ``layers[d] == [start, end)`` is the slice of ``nodes`` at depth ``d``; a node's ``path`` is
    true on the proof path; ``failed`` is true for status ``failed`` (failed branches, dimmed).
    At most ``max_nodes`` nodes are kept (the shallowest, proof path first in each layer) with
    the edges between them; ``omitted`` then counts the nodes and edges left out. Texts are
    clipped (:func:`prover.report.limits.clip`).
    """
    root = root if root is not None and root in g else find_root(g)
    depth = layer_of(g, root)
    path = on_path(g, root)
    order = {n: i for i, n in enumerate(g.nodes)}

    def failed(n: str) -> bool:
        return _status(g.nodes[n]) == "failed" and n not in path

    nodes_sorted = sorted(g.nodes, key=lambda n: (depth[n], n not in path, failed(n), order[n]))
    total = len(nodes_sorted)
    if max_nodes is not None and total > max_nodes:
        nodes_sorted = nodes_sorted[:max(max_nodes, 1)]
    index = {n: i for i, n in enumerate(nodes_sorted)}
    nodes = []
    for n in nodes_sorted:
        d = g.nodes[n]
        nodes.append({"id": n, "kind": d.get("kind") or "", "text": clip(d.get("text") or "",
                                                                          2 * MAX_CHARS),
                      "status": _status(d), "depth": depth[n], "path": n in path,
                      "failed": failed(n), "terminal": bool(d.get("terminal")),
                      "attrs": _jsonable({k: v for k, v in d.items() if k not in _NODE_FIELDS})})
    edges = []
    for u, v, d in g.edges(data=True):
        if u not in index or v not in index:
            continue
        edge = {"s": index[u], "t": index[v], "path": bool(d.get("on_proof_path"))}
        edge.update({k: _jsonable(d[k]) for k in _EDGE_FIELDS[:-1] if d.get(k) is not None})
        rest = {k: x for k, x in d.items() if k not in _EDGE_FIELDS}
        if rest:
            edge["attrs"] = _jsonable(rest)
        edges.append(edge)
    layers: list[list[int]] = []
    for i, n in enumerate(nodes_sorted):
        if depth[n] == len(layers):
            layers.append([i, i + 1])
        else:
            layers[-1][1] = i + 1
    out: dict[str, Any] = {"root": index.get(root) if root is not None else None,
                           "nodes": nodes, "edges": edges, "layers": layers}
    if len(nodes) < total:
        out["omitted"] = {"nodes": total - len(nodes),
                          "edges": g.number_of_edges() - len(edges), "total_nodes": total}
    return out


def _flat(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def section(name: str, data: Mapping[str, Any] | None, *, expand: bool = True) -> Section | None:
    """One provenance section; nested mappings are spread as ``key.sub`` rows when ``expand``."""
    rows: list[tuple[str, str]] = []
    for key, value in (data or {}).items():
        if expand and isinstance(value, Mapping) and value:
            rows.extend((f"{key}.{k}", _flat(v)) for k, v in value.items())
        elif value is not None and value != "":
            rows.append((str(key), _flat(value)))
    return (name, rows) if rows else None


def search_sections(result: ProofSearchResult | Mapping[str, Any],
                    run: Mapping[str, Any] | None = None,
                    graph_attrs: Mapping[str, Any] | None = None) -> list[Section]:
    """Provenance of one proof search: theorem outcome, backend, policy, limits, times, run
    (a ``prove`` row given as a dict is parsed here)."""
    if not isinstance(result, ProofSearchResult):
        result = ProofSearchResult.from_dict(result)
    prov = dict(result.provenance or (graph_attrs or {}).get("provenance") or {})
    limits = prov.pop("limits", None)
    policy = {**{k: prov.pop(k) for k in ("formalizer", "formalizer_version") if k in prov},
              **(result.policy or {})}
    outcome = {"id": result.id, "status": result.status, "verdict": result.verdict,
               "stop_reason": result.stop_reason, "detail": result.detail,
               "reason": result.reason, "error": result.error}
    if result.proof:
        outcome["proof"] = " ; ".join(map(str, result.proof))
    backend = {k: prov.pop(k) for k in ("backend", "backend_version") if k in prov}
    times = {**(result.times or {}),
             **{k: prov.pop(k) for k in ("wall_time_s", "utc_time") if k in prov}}
    if run:
        times.update({"run created": run.get("created_utc"),
                      "run finished": run.get("finished_utc")})
    found = [section("outcome", outcome), section("backend", backend),
             section("policy and sampling", policy), section("limits and seed", limits),
             section("times", times), section("counts", result.counts),
             section("run", {**prov, **({"command": run.get("command")} if run else {})}),
             section("graph", {k: v for k, v in (graph_attrs or {}).items()
                               if k != "provenance"})]
    return [s for s in found if s is not None]


def item_payload(g: nx.DiGraph, root: str | None, *, key: str, label: str, status: str,
                 sections: Sequence[Section], verdict: str | None = None,
                 max_nodes: int | None = MAX_NODES) -> dict[str, Any]:
    """One pickable item of the graph page: its graph payload (at most ``max_nodes`` nodes),
    label, search status, verdict (e.g. ``verified``, ``unknown: budget``) and provenance."""
    payload = graph_payload(g, root, max_nodes)
    payload.update({"key": key, "label": label, "status": status,
                    "provenance": [[name, [list(r) for r in rows]] for name, rows in sections]})
    if verdict:
        payload["verdict"] = verdict
    return payload


def verdict_word(result: ProofSearchResult | OutcomeResult | Mapping[str, Any]) -> str:
    """A result row's verdict as one word: ``verified``, ``refuted``, ``unknown: REASON``,
    ``rejected`` (a row with an error), or its status when it has no verdict (a dict is read as
    an :class:`OutcomeResult`)."""
    if not isinstance(result, (ProofSearchResult, OutcomeResult)):
        result = OutcomeResult.from_dict(result.to_dict() if isinstance(result, Record)
                                         else result)
    if result.error:
        return "rejected"
    verdict = result.verdict
    if isinstance(verdict, Mapping):
        verdict, reason = verdict.get("verdict"), verdict.get("reason")
    else:
        reason = result.reason
    if isinstance(verdict, str) and verdict:
        return f"{verdict}: {reason}" if verdict == "unknown" and reason else verdict
    answer = result.answer if isinstance(result, OutcomeResult) else None
    return str(result.status or answer or "")


def _overview_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """The table of every item (theorem) with its verdict and search status, graph or not."""
    body = "".join(f"<tr><td>{esc(label)}</td><td><strong>{esc(verdict or '–')}</strong></td>"
                   f"<td class=\"meta\">{esc(status)}</td></tr>" for label, verdict, status in rows)
    return ('<details class="overview" open><summary>Verdicts of all items '
            f"({len(rows)})</summary><table class=\"verdicts\"><thead><tr><th>item</th>"
            f"<th>verdict</th><th>search</th></tr></thead><tbody>{body}</tbody></table>"
            "</details>")


def render_graph_page(items: Sequence[Mapping[str, Any]], *, title: str,
                      overview: Sequence[tuple[str, str, str]] | None = None,
                      omitted: Omitted | None = None, hint: str | None = None) -> str:
    """The offline graph page for ``items`` (from :func:`item_payload`); safe for any text.
    ``overview`` rows ``(label, verdict, status)`` list every item (also those without a
    graph); items whose graph was capped, and ``omitted`` items, get a visible note naming
    ``hint`` (where everything is)."""
    omitted = (Omitted(dict(omitted.counts), list(omitted.details)) if omitted is not None
               else Omitted())
    if overview and len(overview) > MAX_ROWS:
        omitted.add("rows of the verdict table", len(overview) - MAX_ROWS,
                    f"verdict table: first {MAX_ROWS:,} of {len(overview):,} items")
        overview = overview[:MAX_ROWS]
    for it in items:
        cut = it.get("omitted")
        if cut:
            omitted.add("graph nodes", cut["nodes"], f"{it['label']}: {len(it['nodes']):,} of "
                                                     f"{cut['total_nodes']:,} nodes shown")
    note = (f'<p class="note" id="capped" role="note">⚠ {esc(note_text(omitted, hint))}</p>'
            if omitted else "")
    table = _overview_html(overview) if overview and len(overview) > 1 else ""
    meta = {"title": title, "eager_nodes": EAGER_NODES,
            "items": [{"key": it["key"], "label": it["label"], "status": it["status"],
                       "verdict": it.get("verdict"), "n_nodes": len(it["nodes"])}
                      for it in items]}
    options = "".join(
        f'<option value="{i}">{esc(it["label"])} — {esc(it.get("verdict") or it["status"] or "?")} '
        f'({len(it["nodes"])} nodes)</option>' for i, it in enumerate(items))
    picker_cls = "" if len(items) > 1 else " single"
    blocks = json_block("pg-meta", meta) + "".join(
        json_block(f"pg-item-{i}", it) for i, it in enumerate(items))
    body = f"""<header class="bar" role="search">
<h1>{esc(title)}</h1>
<label class="picker{picker_cls}">Theorem <select id="item">{options}</select></label>
<input type="search" id="search" placeholder="Search goals, tactics… (press /)" aria-label="Search nodes">
<span id="match-count" class="meta" aria-live="polite"></span>
<label><input type="checkbox" id="collapse-failed"> collapse failed branches</label>
<span class="keys">keys: / search · j/k or ↓/↑ next/previous · →/← child/parent · Enter open · n next match · Esc close</span>
</header>
<ul id="results" class="results" hidden></ul>
<div class="layout">
<main id="main">
{note}{table}
<div id="summary" class="summary"></div>
<details id="prov" class="prov-panel"><summary>Provenance</summary><div id="prov-body"></div></details>
<div id="graph" class="graph" data-node-count="0"></div>
<noscript><p>This view lays the graph out with JavaScript; the data is in the page's JSON blocks.</p></noscript>
</main>
<aside id="detail" class="detail" hidden aria-label="Node details">
<div class="dhead"><h2 id="d-title">Node</h2><button type="button" id="d-close">✕ Close (Esc)</button></div>
<div id="d-body"></div>
</aside>
</div>"""
    return document(title, body, styles=[asset("viewer.css")], scripts=[asset("dag.js")],
                    data_blocks=blocks, body_class="dag")
