"""Tests for prover.records.graph: content addressing, typed nodes/edges, merge, JSON and GraphML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.records.graph import (
    add_edge,
    add_node,
    from_json,
    graphs_equal,
    merge,
    new_graph,
    node_id,
    read_graphml,
    solution_graph,
    to_json,
    write_graphml,
)


def _sample() -> tuple[nx.DiGraph, str, str, str]:
    g = new_graph(run="r1", meta={"seed": 3})
    s = add_node(g, "statement", "Natalia sold clips to 48 friends.", "z3")
    st_ = add_node(g, "step", "Natalia sold 48/2 = <<48/2=24>>24 clips in May.", "z3",
                   verdict="verified", index=0)
    c = add_node(g, "claim", "(= (/ 48 2) 24)", "z3", formal="(= (/ 48 2) 24)",
                 verdict={"verdict": "verified"}, tags=["a", "b"], none_attr=None,
                 ratio=0.25, big=2**70, flag=True)
    add_edge(g, s, st_, "contains", index=0)
    add_edge(g, st_, c, "formalization", source_text="48/2=24")
    g1 = add_node(g, "goal", "⊢ 1 + 1 = 2", "lean")
    g2 = add_node(g, "goal", "no goals", "lean")
    add_edge(g, g1, g2, "tactic", tactic="norm_num", logprob=-0.125, outcome="proved",
             time_s=0.5)
    return g, s, st_, c


def test_node_id_is_stable_and_whitespace_normalised() -> None:
    a = node_id("step", "  x =  1\n+ 2 ", "z3")
    assert a == node_id("step", "x = 1 + 2", "z3")
    assert len(a) == 64 and all(ch in "0123456789abcdef" for ch in a)
    assert a != node_id("claim", "x = 1 + 2", "z3")
    assert a != node_id("step", "x = 1 + 2", "lean")
    assert a != node_id("step", "x = 1 + 3", "z3")
    # Same id in a fresh interpreter (no hash randomisation involved).
    code = "from prover.records.graph import node_id; print(node_id('step', 'x = 1 + 2', 'z3'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == a


def test_unknown_kind_and_etype_rejected() -> None:
    g = new_graph()
    with pytest.raises(ValueError, match="node kind"):
        add_node(g, "lemma", "x", "z3")
    with pytest.raises(ValueError, match="node kind"):
        node_id("bogus", "x", "z3")
    a = add_node(g, "goal", "a", "z3")
    b = add_node(g, "goal", "b", "z3")
    with pytest.raises(ValueError, match="edge type"):
        add_edge(g, a, b, "uses")
    with pytest.raises(ValueError, match="not a node"):
        add_edge(g, a, "missing", "tactic")
    with pytest.raises(TypeError, match="JSON"):
        add_node(g, "goal", "c", "z3", bad={1, 2})


def test_add_node_idempotent_merges_attrs() -> None:
    g = new_graph()
    a = add_node(g, "claim", "x = 1", "z3", formal="(= x 1)")
    b = add_node(g, "claim", "x  =  1", "z3", verdict={"verdict": "verified"})
    assert a == b and g.number_of_nodes() == 1
    assert g.nodes[a] == {"kind": "claim", "text": "x = 1", "backend": "z3",
                          "formal": "(= x 1)", "verdict": {"verdict": "verified"}}


def test_add_edge_merges_same_etype_and_refuses_other_etype() -> None:
    g = new_graph()
    a = add_node(g, "step", "s", "z3")
    b = add_node(g, "claim", "c", "z3")
    add_edge(g, a, b, "contains", source_text="x")
    add_edge(g, a, b, "contains", claim_index=0)
    assert g.edges[a, b] == {"etype": "contains", "source_text": "x", "claim_index": 0}
    with pytest.raises(ValueError, match="already has etype"):
        add_edge(g, a, b, "formalization")
    with pytest.raises(ValueError, match="reserved"):
        add_edge(g, a, b, "contains", source="x")
    with pytest.raises(ValueError, match="reserved"):
        add_node(g, "goal", "z", "z3", id="mine")


def test_merge_unions_and_later_wins() -> None:
    g1, s, st_, c = _sample()
    g2 = new_graph()
    s2 = add_node(g2, "statement", "Natalia   sold clips to 48 friends.", "z3", solved=True)
    other = add_node(g2, "step", "Another step.", "z3")
    add_edge(g2, s2, other, "contains", index=1)
    add_node(g2, "claim", "(= (/ 48 2) 24)", "z3", verdict={"verdict": "refuted"})
    m = merge([g1, g2])
    assert s2 == s
    assert m.number_of_nodes() == g1.number_of_nodes() + 1
    assert m.number_of_edges() == g1.number_of_edges() + 1
    assert m.nodes[s]["solved"] is True
    assert m.nodes[c]["verdict"] == {"verdict": "refuted"}
    assert m.nodes[c]["formal"] == "(= (/ 48 2) 24)"
    g3 = new_graph()
    add_node(g3, "statement", "Natalia sold clips to 48 friends.", "z3")
    add_node(g3, "step", "Natalia sold 48/2 = <<48/2=24>>24 clips in May.", "z3")
    add_edge(g3, s, st_, "entailment")
    with pytest.raises(ValueError, match="conflicting"):
        merge([g1, g3])


def test_json_round_trip_exact() -> None:
    g, *_ = _sample()
    d = to_json(g)
    wire = json.loads(json.dumps(d))
    h = from_json(wire)
    assert isinstance(h, nx.DiGraph) and h.is_directed()
    assert graphs_equal(g, h)
    assert graphs_equal(g, from_json(d))


def test_graphml_round_trip_exact(tmp_path: Path) -> None:
    g, *_ = _sample()
    weird = add_node(g, "step", "line1\r\nline2 \x0b <b>&amp;</b>", "z3", score=1)
    add_node(g, "step", "plain", "z3", score=1.5)  # mixed int/float column -> JSON
    p = tmp_path / "g.graphml"
    write_graphml(g, p)
    raw = p.read_text(encoding="utf-8")
    assert "graphml" in raw and "norm_num" in raw
    h = read_graphml(p)
    assert graphs_equal(g, h)
    assert h.nodes[weird]["score"] == 1 and isinstance(h.nodes[weird]["score"], int)
    # networkx itself can read the file (scalar attributes only).
    assert nx.read_graphml(p).number_of_nodes() == g.number_of_nodes()


_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(max_size=30), min_size=1, max_size=5),
       values=st.lists(_json_values, min_size=1, max_size=5))
def test_graphml_round_trip_property(tmp_path_factory: pytest.TempPathFactory,
                                     texts: list[str], values: list[object]) -> None:
    g = new_graph(note="hypothesis")
    ids = [add_node(g, "goal", t, "z3", val=values[i % len(values)]) for i, t in enumerate(texts)]
    for a, b in zip(ids, ids[1:], strict=False):
        if a != b and not g.has_edge(a, b) and not g.has_edge(b, a):
            add_edge(g, a, b, "tactic", tactic=texts[0], extra=values[0])
    p = tmp_path_factory.mktemp("gml") / "g.graphml"
    write_graphml(g, p)
    assert graphs_equal(g, read_graphml(p))
    assert graphs_equal(g, from_json(json.loads(json.dumps(to_json(g)))))


def test_solution_graph_layout() -> None:
    sol = {
        "id": "12", "line": 12, "problem": "A problem.", "final_answer": "48",
        "steps": [
            {"index": 0, "text": "Let x = 24.", "verdict": "verified", "claims": [
                {"kind": "definition", "source": "x = 24", "formal": "(= x 24)",
                 "verdict": None, "binds": "x", "evidence": {}}]},
            {"index": 1, "text": "So 2x = 48.", "verdict": "refuted", "claims": [
                {"kind": "equation", "source": "2x = 48", "formal": "(= (* 2 x) 48)",
                 "verdict": "refuted", "evidence": {"lhs": "48", "rhs": "49"}},
                {"kind": "comparison", "source": "it is big", "formal": None,
                 "verdict": "unknown", "reason": "not-formalized"}]},
        ],
        "first_error": 1, "provenance": {"backend": "z3"}, "error": None,
    }
    g, root = solution_graph(sol)
    assert g.nodes[root]["kind"] == "statement" and g.nodes[root]["text"] == "A problem."
    steps = list(g.successors(root))
    assert len(steps) == 2 and {g.edges[root, s]["index"] for s in steps} == {0, 1}
    d = node_id("claim", "(= x 24)", "z3")
    e = node_id("claim", "(= (* 2 x) 48)", "z3")
    u = node_id("claim", "it is big", "z3")
    assert g.edges[d, e]["etype"] == "entailment"
    assert g.nodes[e]["verdict"] == {"verdict": "refuted", "evidence": {"lhs": "48", "rhs": "49"}}
    assert g.nodes[d]["verdict"] is None
    step1 = node_id("step", "So 2x = 48.", "z3")
    assert g.edges[step1, e]["etype"] == "formalization"
    assert g.edges[step1, u]["etype"] == "contains"
    assert g.nodes[u]["verdict"] == {"verdict": "unknown", "reason": "not-formalized"}
    rejected, r = solution_graph({"id": "9", "problem": "bad", "error": "no steps"})
    assert list(rejected.nodes) == [r]
