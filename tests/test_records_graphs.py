"""Graph building folded into prover.records.graph: the entail pipeline's proof graph."""

from __future__ import annotations

import json
from pathlib import Path

from prover.records import graph as pg

GOLDEN = Path(__file__).parent / "data" / "report_golden"


def test_entailment_graph_links_the_core_premises_to_the_conclusion() -> None:
    rows = [json.loads(line) for line in
            (GOLDEN / "entail_rows.jsonl").read_text(encoding="utf-8").splitlines()]
    built = 0
    for row in rows:
        graph, root, verdicts = pg.entailment_graph(row)
        if row.get("error"):
            assert (graph, root, verdicts) == (None, None, [])
            continue
        built += 1
        assert graph is not None and root == pg.node_id("claim", row["conclusion"], "z3-fol")
        assert graph.nodes[root]["answer"] == row["answer"]
        core = row["evidence"].get("core_indices")
        linked = sorted(d["premise_index"] for _, _, d in graph.in_edges(root, data=True))
        assert linked == (sorted(core) if core is not None else list(range(len(row["premises"]))))
        (nid, verdict, prov), = verdicts
        assert nid == root and verdict.kind == row["verdict"]["verdict"]
        assert prov.run_id == row["provenance"]["run_id"]
    assert built == 5
