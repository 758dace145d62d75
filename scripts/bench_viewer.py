"""Measure how fast the graph viewer opens a large search DAG in headless Chromium.

Builds a search-shaped proof graph of ``--nodes`` nodes with :mod:`prover.records.graph` (goals with
hypotheses, 8 tactics per expanded goal, failed/timeout terminals, merged states, one proof
path), renders it with ``proofgraph show``'s renderer, opens it ``--repeat`` times and prints
JSON: file size, time to the page's ``load`` event, time to the first rendered layer
(``performance`` mark ``pg-rendered``), DOM nodes at load, and the time to search for and open a
node in the deepest layer (which forces that layer to render).

    python scripts/bench_viewer.py --nodes 10000 --chromium /usr/bin/chromium
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

from prover.records import graph as pg
from prover.report.dag import item_payload, render_graph_page, search_sections

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
_TACTICS = ["z3", "simplify", "induction n", "unfold f", "solve-eqs", "nlsat",
            "cases (> n 0)", "have (>= (f n) 0)"]


def synthetic_search_graph(n_nodes: int, seed: int = 0) -> tuple[nx.DiGraph, str]:
    """A search-shaped DAG of exactly ``n_nodes`` nodes and its root (deterministic per seed)."""
    rng = random.Random(seed)
    g = pg.new_graph(status="proved")
    root = pg.add_node(g, "statement", "(declare-fun f (Int) Int) ⊢ (>= (f n) 0)", "z3",
                       status="proved")
    first = pg.add_node(g, "goal", "h0: (>= n 0)\n⊢ (>= (f n) 0)", "z3", status="proved",
                        depth=0, on_proof_path=True, expanded=True, logprob=0.0)
    pg.add_edge(g, root, first, "contains")
    frontier, path_node, depth, counter = [first], first, 0, 0
    while len(g) < n_nodes and frontier:
        depth += 1
        nxt: list[str] = []
        path_child = None
        for parent in frontier:
            for k, tactic in enumerate(_TACTICS):
                if len(g) >= n_nodes:
                    break
                counter += 1
                roll = rng.random()
                lp = round(-0.1 * k - rng.random(), 3)
                if nxt and roll < 0.1:  # a transposition: an already seen state
                    dst, outcome = rng.choice(nxt), "progress"
                elif roll < 0.45:
                    outcome = "failed" if roll < 0.35 else "timeout"
                    dst = pg.add_node(g, "goal", f"{g.nodes[parent]['text']} ▸ {tactic} ⇒ "
                                      f"{outcome} #{counter}", "z3", status="failed",
                                      terminal=True)
                else:
                    outcome = "progress"
                    dst = pg.add_node(g, "goal", f"h0: (>= n 0)\nh1: (= (f {counter}) {depth})"
                                      f"\n⊢ (>= (f (+ n {counter})) {k})", "z3", status="open",
                                      depth=depth, expanded=False, logprob=lp)
                    nxt.append(dst)
                on_path = parent == path_node and path_child is None and outcome == "progress"
                if on_path:
                    path_child = dst
                    g.nodes[dst].update(on_proof_path=True, status="proved")
                if not g.has_edge(parent, dst):
                    pg.add_edge(g, parent, dst, "tactic", tactic=tactic, logprob=lp,
                                outcome=outcome, detail="" if outcome == "progress" else
                                f"{tactic}: {outcome} after {rng.random():.2f} s",
                                time_s=round(rng.random() / 10, 4), on_proof_path=on_path)
        frontier, path_node = nxt, path_child or path_node
    return g, root


def bench(n_nodes: int, chromium: str, repeat: int) -> dict[str, object]:
    """Render, open and time the page; returns the measurements (milliseconds)."""
    from playwright.sync_api import sync_playwright

    g, root = synthetic_search_graph(n_nodes)
    start = time.perf_counter()
    item = item_payload(g, root, key="bench", label="bench", status="proved",
                        sections=search_sections({"id": "bench", "status": "proved"}))
    html = render_graph_page([item], title="bench")
    render_ms = (time.perf_counter() - start) * 1000
    deepest = max(item["nodes"], key=lambda n: n["depth"])
    out: dict[str, object] = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
                              "layers": len(item["layers"]), "html_bytes": len(html.encode()),
                              "python_render_ms": round(render_ms)}
    loads, marks, opens, dom = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "bench.html"
        path.write_text(html, encoding="utf-8")
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                t0 = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                loads.append((time.perf_counter() - t0) * 1000)
                marks.append(page.evaluate(
                    "performance.getEntriesByName('pg-rendered')[0].startTime"))
                dom.append(page.locator(".node").count())
                t1 = time.perf_counter()
                page.fill("#search", deepest["text"].split("\n")[-1][:60])
                page.press("#search", "Enter")
                page.wait_for_selector(f'.node[data-id="{deepest["id"]}"]')
                page.wait_for_selector("#detail:not([hidden])")
                opens.append((time.perf_counter() - t1) * 1000)
                page.close()
        finally:
            browser.close()
    out.update({"load_ms_median": round(statistics.median(loads)),
                "load_ms_max": round(max(loads)),
                "first_render_mark_ms_median": round(statistics.median(marks)),
                "dom_nodes_at_load": dom[0],
                "search_open_deepest_ms_median": round(statistics.median(opens))})
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry; prints one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}", file=sys.stderr)
        return 2
    print(json.dumps(bench(args.nodes, args.chromium, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
