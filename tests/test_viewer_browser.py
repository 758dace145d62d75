"""The viewer in a real headless Chromium (Debian's /usr/bin/chromium via playwright).

"Rendered nodes" means: ``#graph[data-node-count]`` equals the graph's node count, and for a
graph of at most ``EAGER_NODES`` nodes every node has a ``.node`` element at load; larger graphs
render layers lazily (fewer elements at load) and render any node that navigation selects.
Skips without Chromium/playwright, fails under CI. Screenshots go to the artifacts folder.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import browser_fixtures as bf
import networkx as nx
import pytest
from test_viewer import XSS, gauss, llm_row

from proofgraph.cli import main
from prover.records import graph as pg
from prover.report.dag import EAGER_NODES, item_payload, render_graph_page, search_sections
from prover.report.entail_html import CORE_MARK
from prover.report.html import render_step_report
from prover.report.viewer import render_target

browser = bf.browser
EXAMPLES = Path(__file__).parent.parent / "proofgraph" / "examples"


def _second_item() -> dict[str, Any]:
    g = pg.new_graph()
    root = pg.add_node(g, "statement", "⊢ (> (* x x) 4) " + XSS, "z3", status="open")
    goal = pg.add_node(g, "goal", XSS, "z3", status="failed", depth=0)
    pg.add_edge(g, root, goal, "contains")
    return item_payload(g, root, key="x", label="hostile " + XSS, status="open", sections=[])


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The DAG page (real gauss_sum item + a hostile one), a step report and an entail view."""
    tmp = tmp_path_factory.mktemp("viewer-pages")
    result, g, root = gauss()
    dag = render_graph_page([item_payload(g, root, key="0", label="gauss_sum", status="proved",
                                          sections=search_sections(result)), _second_item()],
                            title="gauss")
    out = {"dag": tmp / "dag.html"}
    out["dag"].write_text(dag, encoding="utf-8")
    db = tmp / "s.sqlite"
    assert main(["check", str(EXAMPLES / "steps_sample.jsonl"), "--store", str(db)]) == 0
    assert main(["entail", str(EXAMPLES / "entail_sample.jsonl"), "--store", str(db)]) == 3
    from prover.records.store import Store

    with Store(db) as s:
        runs = {r["command"]: r["run_id"] for r in s.runs()}
    for kind in ("check", "entail"):
        out[kind] = tmp / f"{kind}.html"
        out[kind].write_text(render_target(runs[kind], db).html, encoding="utf-8")
    return out


def _not_blank(page: Any, name: str) -> None:
    levels, variance = bf.png_levels(bf.save_screenshot(page, name))
    assert levels > 16 and variance > 10, (name, levels, variance)


def test_dag_nodes_path_click_network_screenshot(browser: Any, pages: dict[str, Path]) -> None:
    _, g, root = gauss()
    opened = bf.open_file(browser, pages["dag"])
    page = opened.page
    assert page.get_attribute("#graph", "data-node-count") == str(g.number_of_nodes())
    assert page.locator("#graph .node").count() == g.number_of_nodes() <= EAGER_NODES
    ids = page.eval_on_selector_all("#graph .node", "els => els.map(e => e.dataset.id)")
    assert set(ids) == set(g.nodes)
    path = set(page.eval_on_selector_all(".node.on-path", "els => els.map(e => e.dataset.id)"))
    expected = {n for n, d in g.nodes(data=True) if d.get("on_proof_path")} | {root}
    assert path == expected
    marks = page.eval_on_selector_all(".node", "els => els.map(e => [e.dataset.id, "
                                      "e.textContent.includes('★ proof path')])")
    assert all(marked == (nid in expected) for nid, marked in marks)
    failed = next(n for n, d in g.nodes(data=True) if d.get("status") == "failed")
    page.click(f'.node[data-id="{failed}"]')
    assert page.is_visible("#detail")
    assert page.inner_text("#d-body pre.goal") == g.nodes[failed]["text"]
    detail = page.inner_text("#d-body")
    edge = next(d for _, _, d in g.in_edges(failed, data=True))
    assert edge["tactic"] in detail and "logprob" in detail and edge["outcome"] in detail
    _not_blank(page, "dag-1280")
    assert opened.external_requests() == [] and opened.errors == []
    page.select_option("#item", "1")
    assert page.get_attribute("#graph", "data-node-count") == "2"
    assert page.locator("#graph .node").count() == 2
    assert page.locator("img").count() == 0
    assert XSS.split("\u2028")[0] in page.inner_text("#graph")
    page.close()


def test_dag_keyboard_search_collapse(browser: Any, pages: dict[str, Path]) -> None:
    _, g, root = gauss()
    page = bf.open_file(browser, pages["dag"]).page
    active = "() => document.activeElement.dataset.idx"
    page.keyboard.press("j")
    assert page.evaluate(active) == "0"
    page.keyboard.press("ArrowRight")
    assert page.evaluate(active) == "1"  # the root's only child: the initial goal
    page.keyboard.press("j")
    assert page.evaluate(active) == "2"
    page.keyboard.press("k")
    assert page.evaluate(active) == "1"
    page.keyboard.press("Enter")
    assert page.is_visible("#detail")
    page.keyboard.press("Escape")
    assert not page.is_visible("#detail")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("induction")
    page.wait_for_selector("#graph.searching .node.match")
    want = {v for u, v, d in g.edges(data=True) if "induction" in d.get("tactic", "")}
    want |= {n for n, d in g.nodes(data=True) if "induction" in d["text"].lower()}
    got = page.eval_on_selector_all(".node.match", "els => els.map(e => e.dataset.id)")
    assert set(got) == want and want
    page.keyboard.press("Escape")  # leaves the search box
    page.keyboard.press("Escape")  # no detail open: clears the search
    assert page.input_value("#search") == ""
    page.wait_for_selector("#graph:not(.searching)")
    assert page.locator(".node.match").count() == 0
    page.check("#collapse-failed")
    failed = [n for n, d in g.nodes(data=True) if d.get("status") == "failed"]
    assert not page.is_visible(f'.node[data-id="{failed[0]}"]')
    assert page.is_visible(f'.node[data-id="{root}"]')
    page.close()


@pytest.mark.parametrize("kind", ["dag", "check", "entail"])
def test_narrow_window_has_no_horizontal_overflow(browser: Any, pages: dict[str, Path],
                                                  kind: str) -> None:
    opened = bf.open_file(browser, pages[kind], width=400, height=800)
    page = opened.page
    if kind == "dag":
        page.click("#graph .node.on-path >> nth=1")
        assert page.is_visible("#detail")
    else:
        page.click("#expand")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    _not_blank(page, f"{kind}-400")
    assert opened.external_requests() == [] and opened.errors == []
    page.close()


def test_step_report_in_the_browser(browser: Any, pages: dict[str, Path]) -> None:
    opened = bf.open_file(browser, pages["check"])
    page = opened.page
    page.click("#expand")
    first = page.locator("tr.first-error").first
    assert first.is_visible() and "⚑ first error" in first.inner_text()
    text = page.inner_text("main")
    assert "✘ refuted" in text and "✔ verified" in text
    assert "left side = 66, right side = 56" in text
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.classList.contains('focusable')")
    _not_blank(page, "check-1280")
    assert opened.external_requests() == [] and opened.errors == []
    page.close()


def test_llm_local_grounded_and_premise_links(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "llm.html"
    path.write_text(render_step_report([llm_row()], title="llm", summary={}), encoding="utf-8")
    page = bf.open_file(browser, path).page
    page.click("#expand")
    cells = page.inner_text("table.steps")
    assert "local:" in cells and "grounded:" in cells and "? unknown: not-formalized" in cells
    assert page.is_visible("text=⚑ first grounded error")
    page.click('a.premise[href="#s0-step-0"]')
    assert page.evaluate("location.hash") == "#s0-step-0"
    assert page.evaluate("document.querySelector(':target').id") == "s0-step-0"
    assert page.locator("img").count() == 0
    page.close()


def test_entailment_core_in_the_browser(browser: Any, pages: dict[str, Path]) -> None:
    opened = bf.open_file(browser, pages["entail"])
    page = opened.page
    page.click("#expand")
    core = page.locator("ol.premises > li.core")
    assert core.count() >= 2
    for i in range(core.count()):
        assert CORE_MARK in core.nth(i).inner_text()
    colour = page.evaluate("getComputedStyle(document.querySelector('li.core')).backgroundColor")
    plain = page.evaluate("getComputedStyle(document.querySelector("
                          "'ol.premises > li:not(.core)')).backgroundColor")
    assert colour != plain
    assert page.is_visible("text=conclusion false") and "✔ True" in page.inner_text("main")
    _not_blank(page, "entail-1280")
    assert opened.external_requests() == [] and opened.errors == []
    page.close()


def _bench_module() -> Any:
    path = Path(__file__).parent.parent / "scripts" / "bench_viewer.py"
    spec = importlib.util.spec_from_file_location("bench_viewer", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ten_thousand_nodes_open_lazily(browser: Any, tmp_path: Path) -> None:
    g, root = _bench_module().synthetic_search_graph(10_000)
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == 10_000
    item = item_payload(g, root, key="big", label="big", status="proved", sections=[])
    path = tmp_path / "big.html"
    path.write_text(render_graph_page([item], title="big"), encoding="utf-8")
    start = time.perf_counter()
    opened = bf.open_file(browser, path)
    load_s = time.perf_counter() - start
    page = opened.page
    assert page.get_attribute("#graph", "data-node-count") == "10000"
    at_load = page.locator("#graph .node").count()
    assert 0 < at_load < 10_000
    deepest = item["nodes"][-1]
    page.fill("#search", deepest["text"].split("\n")[-1])
    page.press("#search", "Enter")
    page.wait_for_selector(f'.node[data-id="{deepest["id"]}"]')
    assert page.inner_text("#d-body pre.goal") == deepest["text"]
    assert opened.external_requests() == [] and opened.errors == []
    bf.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (bf.ARTIFACTS / "load_10k.json").write_text(json.dumps(
        {"nodes": 10_000, "load_s": round(load_s, 3), "dom_nodes_at_load": at_load}))
    _not_blank(page, "dag-10k")
    page.close()


def test_dag_cards_show_hypotheses_and_the_verdict(browser: Any, tmp_path: Path) -> None:
    result, g, root = gauss()
    item = item_payload(g, root, key="0", label="gauss_sum", status="proved",
                        sections=search_sections(result), verdict="unknown: budget")
    path = tmp_path / "v.html"
    path.write_text(render_graph_page([item], title="v"), encoding="utf-8")
    opened = bf.open_file(browser, path)
    page = opened.page
    hyps = [n for n, d in g.nodes(data=True) if d.get("kind") == "goal"
            and str(d.get("text", "")).startswith("h0: (>= n 0)\n⊢")]
    assert hyps
    card = page.inner_text(f'.node[data-id="{hyps[0]}"] .txt')
    assert card.splitlines()[0] == "h0: (>= n 0)" and card.splitlines()[1].startswith("⊢")
    summary = page.inner_text("#summary")
    assert "? unknown: budget" in summary and "search: proved" in summary
    assert "✔ proved" not in summary
    assert opened.external_requests() == [] and opened.errors == []
    page.close()
