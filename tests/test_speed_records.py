"""The cheaper row building of a check keeps every byte: node ids and canonical JSON equal the
standard library's text, a solution's layout gives the rows (and the ``DiGraph``) the
networkx build gave, and node rows cross the pipe as JSON text only."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from prover.records import graph as pg
from prover.records.graph_layout import solution_layout
from prover.records.prepared import prepare_item
from prover.records.store import Store
from prover.records.store_schema import canonical_json

TRICKY = ["", "x = 1", "  a\tb\n c ", 'q"uote\\', "é ü 😀", "\u2028\x00\x1f\x7f", "</>&"]


def reference_id(kind: str, text: str, backend: Any) -> str:
    """The node id as it was first defined."""
    payload = json.dumps([kind, " ".join(text.split()), backend], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("text", TRICKY)
def test_node_ids_are_the_defined_hash(text: str) -> None:
    for backend in ("z3", text, "b\u00e9", None, 7):
        assert pg.node_id("claim", text, backend) == reference_id("claim", text, backend)
    with pytest.raises(ValueError):
        pg.node_id("edge", text, "z3")


def test_canonical_json_is_the_standard_text() -> None:
    values: list[Any] = [None, True, 0, -1, 10**40, 1.5, -0.0, float("nan"), float("inf"),
                         *TRICKY, [1, (2, "b")], {"b": 1, "a": {"é": [None], "A": 2.5}, "": 0},
                         {1: "x", 2: "y"}]
    for value in [*values, values]:
        assert canonical_json(value) == json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(TypeError):
        canonical_json({"a": object()})
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular"):
        canonical_json(circular)
    assert canonical_json({"b": [1], "a": 2}) == '{"a":2,"b":[1]}'  # usable after errors


def solution(i: int) -> dict[str, Any]:
    """A checked solution with a definition used later, a repeated step and claim, a claim
    without a formal form and one whose definition names itself."""
    claims = [{"kind": "definition", "formal": "(= total 5)", "source": "total 5", "binds":
               "total", "verdict": "verified", "evidence": {"method": "exact"}},
              {"kind": "equation", "formal": f"(= (+ total {i}) {5 + i})", "source": "t",
               "verdict": "refuted", "reason": None},
              {"kind": "annotation", "formal": None, "source": "a note", "verdict": None},
              {"kind": "definition", "formal": "(= x x)", "source": "x", "binds": "x",
               "verdict": "unknown", "reason": "not-checked"}]
    steps = [{"index": 0, "text": f"step {i}", "verdict": "verified", "claims": claims},
             {"index": 1, "text": "again  (= x x)", "verdict": None,
              "claims": [claims[3], claims[1]]},
             {"index": 2, "text": f"step {i}", "verdict": "refuted", "claims": claims[:2]}]
    return {"problem": f"problem {i % 2}", "steps": steps, "provenance": {"backend": "be"}}


def test_layout_rows_are_the_digraph_rows() -> None:
    for i in range(4):
        layout = solution_layout(solution(i))
        graph, root = pg.solution_graph(solution(i))
        assert root == layout.root
        result = {"key": str(i), "run_id": "r", "n": i}
        from_layout = prepare_item("r", str(i), i, result, layout, layout.root)
        from_graph = prepare_item("r", str(i), i, result, graph, root)
        assert from_layout == from_graph
        assert any(etype == "entailment" for _, _, etype, _ in from_layout.edges)
        assert all(type(part) is str for row in from_layout.nodes for part in row)
        again = layout.to_graph()  # nodes, edges and both adjacency orders of the DiGraph
        assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
        assert list(again.edges(data=True)) == list(graph.edges(data=True))
        assert [list(again.pred[n]) for n in again] == [list(graph.pred[n]) for n in graph]


def test_group_merges_node_rows_from_json(tmp_path: Path) -> None:
    """The same node with other extras in two items of one group: last writer wins per key,
    as when the items are committed one by one."""
    def item(i: int, note: Any) -> Any:
        g = pg.new_graph()
        shared = pg.add_node(g, "claim", "x = 1", "b", note=note, **{f"k{i}": i})
        return prepare_item("r", str(i), i, {"key": str(i), "run_id": "r"}, g, shared)

    items = [item(0, [1.5, "é"]), item(1, {"z": None}), item(2, [1.5, "é"])]
    back = [pickle.loads(pickle.dumps(one)) for one in items]
    found = []
    for name, groups in (("one", [back]), ("each", [[one] for one in back])):
        with Store(tmp_path / f"{name}.db") as store:
            store.open_run("r", "c", {})
            for group in groups:
                store.commit_items("r", group)
            found.append(store.connection.execute("SELECT attrs_json FROM nodes").fetchall())
    assert found[0] == found[1] == [('{"k0":0,"k1":1,"k2":2,"note":[1.5,"é"]}',)]
