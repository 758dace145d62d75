"""Tests for the offline viewer (prover.report.dag/viewer/entail_html) and `proofgraph show`.

No browser here (see test_viewer_browser.py): the layered payload of a real search DAG, escaping
of hostile goal text in the JSON blocks, the hash-based CSP, the absence of any external URL,
the LLM step-report fields, the entailment view and the CLI's targets and errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from proofgraph.cli import EXIT_OK, EXIT_USAGE, main
from prover.records import graph as pg
from prover.records.store import Store
from prover.report.dag import graph_payload, item_payload, layer_of, render_graph_page
from prover.report.entail_html import CORE_MARK, render_entail_report
from prover.report.html import render_step_report
from prover.report.viewer import ViewerError, render_target

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "proofgraph" / "examples"
XSS = '</script><img onerror="alert(1)"><script>alert(2)</script>\u2028 & <!--'


def gauss() -> tuple[dict[str, Any], nx.DiGraph, str]:
    """The stored real search item: (result row, graph, root)."""
    data = json.loads((DATA / "viewer_search_gauss_sum.json").read_text(encoding="utf-8"))
    return data["result"], pg.from_json(data["graph"]), data["root"]


class Tags(HTMLParser):
    """Start tags with attributes, and the text of every <script>/<style> element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))
            self.blocks.append((tag, dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, attrs, text = self.blocks[-1]
            self.blocks[-1] = (tag, attrs, text + data)


def parse(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    return p


def check_offline_and_csp(page: str) -> None:
    """No external reference anywhere, and a CSP allowing exactly the inline code by hash."""
    low = page.lower()
    for needle in ("http://", "https://", "//cdn", "<link", " src=", "url(", "@import",
                   "<iframe", "<img", "unsafe-inline", "unsafe-eval", "eval("):
        assert needle not in low, needle
    p = parse(page)
    policy = [a.get("content") or "" for t, a in p.tags
              if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(policy) == 1 and policy[0].startswith("default-src 'none'")
    code = [(t, text) for t, a, text in p.blocks if a.get("type") != "application/json"]
    assert code, "the page has its inline CSS/JS"
    for tag, text in code:
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        directive = "script-src" if tag == "script" else "style-src"
        allowed = re.search(rf"{directive} ([^;]+)", policy[0])
        assert allowed and f"'sha256-{digest}'" in allowed.group(1).split(), tag
    for tag, attrs in p.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert (attrs.get("href") or "#").startswith("#"), attrs


def json_blocks(page: str) -> dict[str, Any]:
    p = parse(page)
    return {a["id"]: json.loads(text) for t, a, text in p.blocks
            if t == "script" and a.get("type") == "application/json"}


def test_payload_of_a_real_search_dag() -> None:
    result, g, root = gauss()
    payload = graph_payload(g, root)
    nodes = payload["nodes"]
    assert len(nodes) == g.number_of_nodes() == 97
    assert len(payload["edges"]) == g.number_of_edges()
    assert {n["id"] for n in nodes} == set(g.nodes)
    assert nodes[payload["root"]]["id"] == root and nodes[payload["root"]]["depth"] == 0
    # layers: contiguous slices covering every node, depth = BFS distance from the root
    flat = [i for start, end in payload["layers"] for i in range(start, end)]
    assert flat == list(range(len(nodes)))
    depth = nx.single_source_shortest_path_length(g, root)
    for d, (start, end) in enumerate(payload["layers"]):
        assert all(nodes[i]["depth"] == d == depth[nodes[i]["id"]] for i in range(start, end))
        in_layer = nodes[start:end]
        keys = [(not n["path"], n["failed"]) for n in in_layer]
        assert keys == sorted(keys), "path first, failed last within a layer"
    marked = {n for n, d in g.nodes(data=True) if d.get("on_proof_path")}
    assert {n["id"] for n in nodes if n["path"]} == marked | {root}
    assert len(marked) == 4 and result["proof"] == ["induction n", "z3", "z3"]
    assert {n["id"] for n in nodes if n["failed"]} == {
        n for n, d in g.nodes(data=True) if d.get("status") == "failed"}
    path_tactics = [e["tactic"] for e in payload["edges"] if e["path"]]
    assert sorted(path_tactics) == ["induction n", "z3", "z3"]
    by_pair = {(nodes[e["s"]]["id"], nodes[e["t"]]["id"]): e for e in payload["edges"]}
    for u, v, d in g.edges(data=True):
        e = by_pair[(u, v)]
        assert e["etype"] == d["etype"] and e.get("logprob") == d.get("logprob")
        assert e.get("detail", "") == d.get("detail", "") or not d.get("detail")


def test_layers_of_a_graph_with_two_sources_and_a_cycle() -> None:
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("x", "c"), ("p", "q"), ("q", "p")])
    depth = layer_of(g, "a")
    assert depth == {"a": 0, "b": 1, "c": 2, "x": 0, "p": 0, "q": 1}


def test_hostile_goal_text_stays_data() -> None:
    g = pg.new_graph()
    root = pg.add_node(g, "statement", "T " + XSS, "z3")
    goal = pg.add_node(g, "goal", XSS, "z3", status="failed", note=XSS)
    pg.add_edge(g, root, goal, "tactic", tactic=XSS, logprob=-1.0, outcome="failed",
                detail=XSS)
    item = item_payload(g, root, key=XSS, label=XSS, status=XSS,
                        sections=[("run", [("note", XSS)])])
    page = render_graph_page([item], title="t " + XSS)
    check_offline_and_csp(page)
    p = parse(page)
    assert [t for t, _ in p.tags].count("script") == 2 + 1  # meta + item blocks, one script
    assert "<img" not in page and "</script><img" not in page
    assert page.count("<script") == page.count("</script>")
    blocks = json_blocks(page)
    assert blocks["pg-item-0"]["nodes"][1]["text"] == XSS
    assert blocks["pg-item-0"]["edges"][0]["detail"] == XSS
    assert blocks["pg-meta"]["items"][0]["label"] == XSS


def llm_row() -> dict[str, Any]:
    """A checked row with the LLM fields (layout of formalizer/llm_steps.py), hostile text too."""
    verdict = {"verdict": "refuted", "reason": None, "detail": "counter-model",
               "evidence": {"lhs": "66", "rhs": "56", "model": {"x": "3/2"}},
               "premises": [0], "givens_used": ["trees"]}
    row = {
        "id": "llm-row", "problem": "12 rows of 8 trees " + XSS, "first_error": 1,
        "first_error_grounded": 2,
        "givens": {"facts": [{"label": "trees", "formal": "(= trees 96)", "text": "96 trees"}]},
        "steps": [
            {"index": 0, "text": "12 * 8 = 96", "verdict": "verified", "claims": [],
             "llm": {"lines": ["DEF t = (* 12 8)"], "defs": [{"name": "t", "formal": "(= t 96)"}],
                     "claims": [], "verdict_local": "verified", "verdict_grounded": "verified",
                     "upstream_error": None}},
            {"index": 1, "text": "96 - 30 = 56", "verdict": "refuted", "claims": [],
             "llm": {"lines": ["CLAIM (= (- t 30) 56)"], "upstream_error": None,
                     "verdict_local": "refuted", "verdict_grounded": "refuted",
                     "claims": [{"source": "CLAIM (= (- t 30) 56)", "kind": "claim",
                                 "formal": "(= (- t 30) 56)", "local": verdict,
                                 "grounded": verdict, "premises": [0],
                                 "givens_used": ["trees"]}]}},
            {"index": 2, "text": "56 / 2 = 28", "verdict": "verified", "claims": [],
             "llm": {"lines": [XSS], "upstream_error": 1, "verdict_local": "verified",
                     "verdict_grounded": "unknown",
                     "claims": [{"source": XSS, "kind": "claim", "formal": "(= (/ s 2) 28)",
                                 "local": {"verdict": "verified", "evidence": {}},
                                 "grounded": {"verdict": "unknown", "reason": "not-formalized",
                                              "detail": "rests on step 1"},
                                 "premises": [1], "givens_used": []}]}}],
    }
    return row


def test_step_report_with_llm_fields() -> None:
    page = render_step_report([llm_row()], title="r", summary={})
    check_offline_and_csp(page)
    assert XSS not in page
    for text in ("LLM claims (local / grounded)", "<b>local:</b>", "<b>grounded:</b>",
                 "✘ refuted", "? unknown: not-formalized", "⚑ first error",
                 "⚑ first grounded error", "first grounded error at step 2",
                 "counter-model: x = 3/2", "left side = 66, right side = 56",
                 "givens used: trees", "rests on the error in", "(= trees 96)"):
        assert text in page, text
    ids = {a.get("id") for _, a in parse(page).tags}
    links = re.findall(r'class="premise" href="#([^"]+)"', page)
    assert links == ["s0-step-0", "s0-step-1", "s0-step-1"] and set(links) <= ids


def test_entailment_view_marks_the_core_and_the_counter_model(tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    assert main(["entail", str(EXAMPLES / "entail_sample.jsonl"), "--out", str(out)]) in (0, 3)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    page = render_entail_report(rows, title="e", summary={"rows": len(rows)})
    check_offline_and_csp(page)
    cards = re.split(r'<details class="sol', page)[1:]
    assert len(cards) == len(rows)
    for card, row in zip(cards, rows, strict=True):
        core = (row.get("evidence") or {}).get("core_indices") or []
        marked = re.findall(r'<li id="e\d+-p(\d+)" class="focusable core"', card)
        assert [int(i) for i in marked] == sorted(core)
        assert card.count(CORE_MARK) == len(core) + (row.get("answer") in ("True", "False"))
        if row.get("answer") == "Uncertain":
            assert "conclusion false" in card and "Jokes holds for" in card
        assert f"{row['answer']}</span>" in card if row.get("answer") else "rejected:" in card


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a prove run (the stored real item), a check run and an entail run."""
    db = tmp_path_factory.mktemp("viewer") / "s.sqlite"
    result, g, root = gauss()
    with Store(db) as s:
        s.open_run("prove-t", "prove", {"t": 1})
        s.commit_item("prove-t", "0", 0, result, g, root, [])
        s.commit_item("prove-t", "1", 1, {"id": "broken", "error": "bad row"}, None, None, [])
        s.finish_run("prove-t")
    assert main(["check", str(EXAMPLES / "steps_sample.jsonl"), "--store", str(db)]) == 0
    assert main(["entail", str(EXAMPLES / "entail_sample.jsonl"), "--store", str(db)]) == 3
    return db


def _show(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main(["show", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_every_kind_of_target(store: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with Store(store) as s:
        runs = {r["command"]: r["run_id"] for r in s.runs()}
    html = tmp_path / "v.html"
    code, out, _ = _show(capsys, "prove-t", "--store", store, "--html", html, "--json")
    assert code == EXIT_OK and json.loads(out) == {"html": str(html), "view": "graph",
                                                   "items": 1, "nodes": 97}
    page = html.read_text(encoding="utf-8")
    check_offline_and_csp(page)
    item = json_blocks(page)["pg-item-0"]
    sections = dict((name, dict(rows)) for name, rows in item["provenance"])
    assert sections["backend"]["backend_version"] == "z3 5.4.1"
    assert sections["limits and seed"]["search.seed"] == "0"
    assert sections["policy and sampling"]["spec"] == "symbolic"
    assert sections["outcome"]["proof"] == "induction n ; z3 ; z3"
    assert "times" in sections and "counts" in sections
    for target, kind in ((runs["check"], "steps"), (runs["entail"], "entail"),
                         ("prove-t:gauss_sum", "graph"), (f"{runs['check']}:0", "steps")):
        code, out, _ = _show(capsys, target, "--store", store, "--html", html, "--json")
        assert code == EXIT_OK and json.loads(out)["view"] == kind, target
        check_offline_and_csp(html.read_text(encoding="utf-8"))
    graph_file = tmp_path / "g.json"
    _, g, _ = gauss()
    graph_file.write_text(json.dumps(pg.to_json(g)), encoding="utf-8")
    code, out, _ = _show(capsys, graph_file, "--html", html, "--json")
    assert code == EXIT_OK and json.loads(out)["nodes"] == 97
    code, out, _ = _show(capsys, graph_file, "--html", html)
    assert code == EXIT_OK and out.strip() == f"wrote {html} (graph view: 1 item, 97 nodes)"


def test_show_errors(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    html = tmp_path / "v.html"
    code, _, err = _show(capsys, "nope", "--store", store, "--html", html)
    assert code == EXIT_USAGE and "prove-t (prove, 2 items)" in err and "check-" in err
    code, _, err = _show(capsys, "prove-t:missing", "--store", store, "--html", html)
    assert code == EXIT_USAGE and "no item 'missing'" in err and "0 (gauss_sum)" in err
    code, _, err = _show(capsys, "prove-t:1", "--store", store, "--html", html)
    assert code == EXIT_USAGE and "no graph stored" in err
    code, _, err = _show(capsys, "run-x", "--html", html)
    assert code == EXIT_USAGE and "--store" in err
    code, _, err = _show(capsys, "run-x", "--store", tmp_path / "none.sqlite", "--html", html)
    assert code == EXIT_USAGE and "no such store" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = _show(capsys, bad, "--html", html)
    assert code == EXIT_USAGE and "not a graph JSON file" in err
    bad.write_text('{"nodes": [{"no_id": 1}], "edges": []}', encoding="utf-8")
    code, _, err = _show(capsys, bad, "--html", html)
    assert code == EXIT_USAGE and "not a proof graph" in err
    assert not html.exists()
    with pytest.raises(ViewerError):
        render_target("nope", store)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = _show(capsys, "prove-t", "--store", store, "--html", html, "--open")
    assert code == EXIT_OK and html.is_file() and f"open {html.resolve()}" in err


def test_graph_file_with_search_provenance(tmp_path: Path) -> None:
    result, g, root = gauss()
    g.graph.update(status="proved", provenance=result["provenance"])
    path = tmp_path / "g.json"
    path.write_text(json.dumps(pg.to_json(g)), encoding="utf-8")
    view = render_target(str(path))
    assert (view.kind, view.items, view.nodes) == ("graph", 1, 97)
    item = json_blocks(view.html)["pg-item-0"]
    sections = dict((name, dict(rows)) for name, rows in item["provenance"])
    assert sections["backend"] == {"backend": "z3", "backend_version": "z3 5.4.1"}
    assert item["status"] == "proved" and item["nodes"][item["root"]]["id"] == root


# --------------------------------------------------------------------------- prove runs
THEOREMS = [
    {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))", "goal": "(> (* x x) 4)"},
    {"id": "open_one", "smt2": "(declare-const x Int) (declare-const y Int) (assert (> y 0))",
     "goal": "(> (* x x) (+ y 4))"},
]


@pytest.fixture(scope="module")
def prove_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with a real prove run of two theorems: one proved, one not."""
    folder = tmp_path_factory.mktemp("prove")
    src = folder / "t.jsonl"
    src.write_text("".join(json.dumps(t) + "\n" for t in THEOREMS), encoding="utf-8")
    db = folder / "p.sqlite"
    assert main(["prove", str(src), "--store", str(db), "--max-expansions", "10",
                 "--wall-timeout", "20", "--candidates", "2"]) == 0
    with Store(db) as s:
        (run,) = s.runs()
        verdicts = {r["id"]: r["verdict"] for _, r in s.item_results(run["run_id"])}
    assert verdicts["sq"] == "verified" and verdicts["open_one"] != "verified"
    return db, run["run_id"]


def test_prove_run_view_shows_each_theorems_verdict(prove_store: tuple[Path, str],
                                                    tmp_path: Path) -> None:
    db, run_id = prove_store
    view = render_target(run_id, db)
    blocks = json_blocks(view.html)
    picked = {blocks[f"pg-item-{i}"]["label"]: blocks[f"pg-item-{i}"]["verdict"]
              for i in range(view.items)}
    assert picked["sq"] == "verified" and picked["open_one"].startswith(("unknown", "refuted"))
    table = view.html.split('<table class="verdicts">', 1)[1].split("</table>", 1)[0]
    assert "<td>sq</td><td><strong>verified</strong>" in table
    assert f"<td>open_one</td><td><strong>{picked['open_one']}</strong>" in table
    assert re.search(r"<option[^>]*>open_one — (unknown|refuted)", view.html)
    html = tmp_path / "x.html"
    assert main(["export", "--store", str(db), "--run", run_id, "--html", str(html)]) == 0
    assert "<td>sq</td><td><strong>verified</strong>" in html.read_text(encoding="utf-8")
    check_offline_and_csp(html.read_text(encoding="utf-8"))


def test_merged_graph_of_several_theorems_is_not_headed_proved(
        prove_store: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = prove_store
    graph = tmp_path / "merged.json"
    assert main(["export", "--store", str(db), "--run", run_id, "--graph", str(graph)]) == 0
    view = render_target(str(graph))
    item = json_blocks(view.html)["pg-item-0"]
    assert item["status"] == "partial" and item["status"] != "proved"
    assert item["label"].endswith("1 of 2 theorems proved")
    assert dict(item["provenance"])["merged graph"] == [["theorems", "2"], ["proved", "1"],
                                                       ["not proved", "1"]]


def test_search_dag_nodes_keep_their_hypotheses(prove_store: tuple[Path, str]) -> None:
    db, run_id = prove_store
    view = render_target(f"{run_id}:sq", db)
    item = json_blocks(view.html)["pg-item-0"]
    goals = [n["text"] for n in item["nodes"] if n["kind"] == "goal"]
    assert any(re.search(r"^h0: \(> x 2\)$", t, re.M) and "⊢" in t for t in goals)


def test_huge_graph_is_capped_with_a_note() -> None:
    from prover.report.limits import MAX_NODES

    g = pg.new_graph(status="open")
    root = pg.add_node(g, "statement", "⊢ big", "z3", status="open")
    prev = root
    for i in range(MAX_NODES + 500):
        node = pg.add_node(g, "goal", f"h0: (> x {i})\n⊢ (> x {i + 1})", "z3", status="open")
        pg.add_edge(g, prev, node, "tactic", tactic="z3", outcome="progress")
        prev = node
    item = item_payload(g, root, key="big", label="big", status="open", sections=[])
    assert len(item["nodes"]) == MAX_NODES
    assert item["omitted"] == {"nodes": 501, "edges": 501, "total_nodes": MAX_NODES + 501}
    assert all(e["s"] < MAX_NODES and e["t"] < MAX_NODES for e in item["edges"])
    assert item["layers"][-1][1] == MAX_NODES
    page = render_graph_page([item], title="big", hint="`proofgraph export --graph F.json`")
    note = re.search(r'<p class="note" id="capped" role="note">(.*?)</p>', page)
    assert note and "501 graph nodes are not embedded" in note.group(1)
    assert "proofgraph export --graph F.json" in note.group(1)
    check_offline_and_csp(page)


def test_long_node_text_is_clipped() -> None:
    g = pg.new_graph()
    root = pg.add_node(g, "statement", "x" * 50_000, "z3")
    item = item_payload(g, root, key="k", label="k", status="", sections=[])
    assert len(item["nodes"][0]["text"]) < 5_000 and "characters not shown" in item["nodes"][0]["text"]
