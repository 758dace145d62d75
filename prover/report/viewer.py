"""``proofgraph show``: find what an id names and render it as one offline HTML page.

A target is a run id of a store (``prove`` and other graph runs -> the search DAG of each item
with an item picker; ``check`` -> the step report; ``entail`` -> the entailment view), an item
``RUN:KEY`` (``KEY`` is the item key or the row's ``id``) or a graph JSON file written by
:func:`prover.records.graph.to_json` (-> the DAG view). Anything else raises :class:`ViewerError`
with a message naming what is known.

Stored rows are parsed once here, into the type of the view that renders them
(:class:`SolutionResult`, :class:`EntailmentResult`, or the command's type for graph runs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from prover.records import graph as pg
from prover.records.results import (
    EntailmentResult,
    OutcomeResult,
    ProofSearchResult,
    SolutionResult,
)
from prover.records.store import Store
from prover.report.dag import (
    find_root,
    item_payload,
    render_graph_page,
    search_sections,
    section,
    verdict_word,
)
from prover.report.entail_html import render_entail_report
from prover.report.html import render_step_report
from prover.report.limits import (
    MAX_NODES,
    MAX_TOTAL_NODES,
    MIN_NODES_PER_ITEM,
    Omitted,
    collecting,
)


class ViewerError(ValueError):
    """The target cannot be shown; the message says why and what exists."""


@dataclass(frozen=True)
class View:
    """A rendered page: ``kind`` is ``graph``, ``steps`` or ``entail``; ``items`` its count."""

    kind: str
    items: int
    nodes: int
    html: str


def render_target(target: str, store_path: Path | None = None) -> View:
    """Render ``target`` (run id, ``RUN:KEY`` or graph JSON path); raises :class:`ViewerError`."""
    path = Path(target)
    if path.is_file() and (store_path is None or not _is_store_item(target, store_path)):
        return _graph_file(path)
    if store_path is None:
        raise ViewerError(f"{target!r} is not a file; give --store to show a run or RUN:KEY")
    if not store_path.is_file():
        raise ViewerError(f"{store_path}: no such store")
    with Store(store_path, readonly=True) as store:
        runs = {r["run_id"]: r for r in store.runs()}
        if target in runs:
            return _run_view(store, runs[target], None)
        run_id, sep, key = target.partition(":")
        if sep and run_id in runs:
            return _run_view(store, runs[run_id], key)
        known = ", ".join(f"{r} ({runs[r]['command']}, {runs[r]['n_items']} items)"
                          for r in runs) or "none"
        raise ViewerError(f"{target!r} is neither a run, a RUN:KEY item nor a graph file; "
                          f"runs in {store_path}: {known}")


def _is_store_item(target: str, store_path: Path) -> bool:
    """A file that shares its name with a run id loses to the run only when it is no JSON."""
    return not target.lower().endswith(".json") and store_path.is_file()


def _graph_file(path: Path) -> View:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ViewerError(f"{path}: not a graph JSON file ({err})") from None
    nodes, edges = (data.get("nodes"), data.get("edges")) if isinstance(data, Mapping) else (0, 0)
    if not (isinstance(nodes, list) and isinstance(edges, list)
            and all(isinstance(n, Mapping) and "id" in n for n in nodes)
            and all(isinstance(e, Mapping) and "source" in e and "target" in e for e in edges)):
        raise ViewerError(f"{path}: not a proof graph (expected prover.records.graph.to_json output "
                          "with 'nodes' and 'edges')")
    try:
        g = pg.from_json(data)
    except (KeyError, TypeError, ValueError, nx.NetworkXError) as err:
        raise ViewerError(f"{path}: not a proof graph ({type(err).__name__}: {err})") from None
    root = find_root(g)
    statements = [n for n in g.nodes if g.in_degree(n) == 0
                  and g.nodes[n].get("kind") == "statement"]
    label = path.name
    if len(statements) > 1:  # a merged graph (export --graph): never headed by one theorem
        statuses = [str(g.nodes[n].get("status") or "") for n in statements]
        proved = statuses.count("proved")
        status = "proved" if proved == len(statuses) else "partial"
        label = f"{path.name}: {proved} of {len(statuses)} theorems proved"
        sections = [s for s in (section("merged graph", {
            "theorems": len(statuses), "proved": proved,
            "not proved": len(statuses) - proved}),) if s]
    else:
        sections = search_sections({}, None, g.graph) if g.graph else []
        status = str(g.graph.get("status") or (g.nodes[root].get("status") if root else "")
                     or "")
    omitted = Omitted()
    with collecting(omitted):
        item = item_payload(g, root, key=path.name, label=label, status=status,
                            sections=sections)
    hint = "the graph file itself (all nodes are in it)"
    page = render_graph_page([item], title=f"proofgraph graph {path.name}", omitted=omitted,
                             hint=hint)
    return View("graph", 1, len(item["nodes"]), page)


def _pick(rows: list[tuple[str, dict[str, Any]]], run_id: str,
          key: str | None) -> list[tuple[str, dict[str, Any]]]:
    if key is None:
        return rows
    chosen = [r for r in rows if r[0] == key] or [r for r in rows if str(r[1].get("id")) == key]
    if not chosen:
        sample = ", ".join(f"{k} ({r.get('id')})" for k, r in rows[:20])
        raise ViewerError(f"run {run_id!r} has no item {key!r}; items (key (id)): "
                          f"{sample or 'none'}{' …' if len(rows) > 20 else ''}")
    return chosen[:1]


def _run_view(store: Store, run: Mapping[str, Any], key: str | None) -> View:
    run_id, command = run["run_id"], run["command"]
    rows = _pick(list(store.item_results(run_id)), run_id, key)
    where = run_id if key is None else f"{run_id}:{rows[0][0]}"
    summary = {"run_id": run_id, "command": command, "rows": len(rows),
               "status": run.get("status"), "created": run.get("created_utc"),
               "finished": run.get("finished_utc")}
    results = [r for _, r in rows]  # plain dicts until the view is chosen, then typed once
    hint = (f"`proofgraph export --store {store.path} --run {run_id} --jsonl F.jsonl "
            "--graph F.json`" if getattr(store, "path", None) else None)
    has_graphs = any(store.graph_root(run_id, k) is not None for k, _ in rows)
    if command == "check" or (command != "entail" and not has_graphs
                              and all("steps" in r for r in results)):
        page = render_step_report([SolutionResult.from_dict(r) for r in results],
                                  title=f"proofgraph check {where}", summary=summary, hint=hint)
        return View("steps", len(results), 0, page)
    if command == "entail":
        page = render_entail_report([EntailmentResult.from_dict(r) for r in results],
                                    title=f"proofgraph entail {where}", summary=summary,
                                    hint=hint)
        return View("entail", len(results), 0, page)
    items = []
    overview = []
    budget = MAX_TOTAL_NODES
    omitted = Omitted()
    with collecting(omitted):
        _graph_items(store, run, rows, items, overview, budget)
    if not items:
        raise ViewerError(f"{where}: no graph stored for {'this item' if key else 'any item'} "
                          f"of this {command} run (rejected rows have none)")
    page = render_graph_page(items, title=f"proofgraph {command} {where}", overview=overview,
                             omitted=omitted, hint=hint)
    return View("graph", len(items), sum(len(i["nodes"]) for i in items), page)


def _graph_items(store: Store, run: Mapping[str, Any], rows: list[tuple[str, dict[str, Any]]],
                 items: list[dict[str, Any]], overview: list[tuple[str, str, str]],
                 budget: int) -> None:
    """Append the graph item of each row to ``items`` (at most ``budget`` nodes in all, each
    item at least ``MIN_NODES_PER_ITEM``) and every row's verdict to ``overview``."""
    run_id, command = run["run_id"], run["command"]
    for item_key, row in rows:
        result = (ProofSearchResult.from_dict(row) if command == "prove"
                  else OutcomeResult.from_dict(row))
        status = str(result.status or result.verdict or "")
        label = str(result.id or item_key)
        overview.append((label, verdict_word(result), status))
        try:
            g = store.load_graph(run_id, item_key)
        except KeyError:
            continue
        sections = (search_sections(result, run) if command == "prove"
                    else [s for s in (section("result", _scalars(row)),
                                      section("provenance", result.provenance)) if s])
        cap = max(MIN_NODES_PER_ITEM, min(MAX_NODES, budget))
        items.append(item_payload(g, store.graph_root(run_id, item_key), key=item_key,
                                  label=label, status=status, sections=sections,
                                  verdict=verdict_word(result) if command == "prove" else None,
                                  max_nodes=cap))
        budget -= len(items[-1]["nodes"])


def _scalars(result: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
