"""Store rows built in the worker (:mod:`prover.records.prepared`) write what the parent wrote
before: the same bytes in every table, the same JSONL lines (key order kept), and an outcome
with rows crosses the pipe without its graph or result dict."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

from test_runner_hard_limit import gsm8k_head

from proofgraph.jobs import JobOptions, run_check
from prover.records import graph as pg
from prover.records.job import Outcome
from prover.records.prepared import prepare_item
from prover.records.runs import ResumableRun
from prover.records.store import ItemRecord, Store
from prover.records.verdicts import Provenance, Verdict

TABLES = {"items": "item_key, seq, status, result_json, error",
          "nodes": "node_id, kind, text, backend, attrs_json",
          "graphs": "item_key, root_node",
          "graph_nodes": "item_key, node_id, attrs_json",
          "edges": "item_key, src, dst, etype, attrs_json",
          "verdicts": "item_key, node_id, verdict_json, prov_id, wall_time_s, utc_time",
          "provenance": "prov_id, json"}


def table_rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but times of the run itself, in a fixed order."""
    conn = sqlite3.connect(db)
    try:
        return {t: sorted(conn.execute(f"SELECT {cols} FROM {t}").fetchall(), key=repr)
                for t, cols in TABLES.items()}
    finally:
        conn.close()


def item(i: int, extra: str) -> ItemRecord:
    """An item whose graph shares one node (with other attributes) with every other item."""
    g = pg.new_graph()
    shared = pg.add_node(g, "claim", "x = 1", "b", note=extra)
    own = pg.add_node(g, "step", f"step {i}", "b")
    pg.add_edge(g, own, shared, "contains", index=i)
    prov = Provenance(run_id="r", backend="b", backend_version="1", limits={"timeout_ms": 9},
                      formalizer="rules", formalizer_version="0", wall_time_s=0.1 * i,
                      host="h", utc_time="2026-01-01T00:00:00Z", python="3")
    result = {"key": str(i), "run_id": "r", "z": i, "a": [extra, {"y": 1, "b": 2}]}
    return ItemRecord(str(i), i, result, g, own, [(shared, Verdict("verified"), prov)])


def test_prepared_items_write_the_same_rows_as_records(tmp_path: Path) -> None:
    records = [item(i, extra) for i, extra in enumerate(["p", "q", "p", "é"])]
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with Store(a) as store:
        store.open_run("r", "c", {})
        store.commit_items("r", records[:2])
        store.commit_items("r", records[2:])
    with Store(b) as store:
        store.open_run("r", "c", {})
        prepared = [prepare_item("r", r.key, r.seq, r.result, r.graph, r.root, r.verdicts)
                    for r in records]
        store.commit_items("r", prepared[:2])
        store.commit_items("r", [records[2], prepared[3]])  # both kinds in one group
    assert table_rows(a) == table_rows(b)
    claims = [row for row in table_rows(b)["nodes"] if row[1] == "claim"]
    assert [json.loads(row[4]) for row in claims] == [{"note": "é"}]  # last writer wins


def test_outcome_with_rows_crosses_the_pipe_without_graph_or_result() -> None:
    rec = item(1, "p")
    prepared = prepare_item("r", rec.key, rec.seq, rec.result, rec.graph, rec.root,
                            rec.verdicts, line=True)
    outcome = Outcome(rec.result, rec.graph, rec.root, rec.verdicts, prepared=prepared)
    back = pickle.loads(pickle.dumps(outcome))
    assert back.result is None and back.graph is None and back.verdicts == ()
    assert back.prepared == prepared
    assert back.stored_result() == rec.result
    assert list(back.stored_result()) == list(rec.result)  # key order of the line
    plain = pickle.loads(pickle.dumps(Outcome(rec.result, rec.graph, rec.root)))
    assert plain.result == rec.result and plain.graph is not None


def test_rows_of_another_run_are_prepared_again(tmp_path: Path) -> None:
    rec = item(3, "p")
    stale = prepare_item("other", rec.key, rec.seq, rec.result, rec.graph, rec.root,
                         rec.verdicts)
    run = ResumableRun(run_id="r", command="c", config={}, store_path=tmp_path / "s.db",
                       out_path=tmp_path / "out.jsonl")
    run.open()
    run.commit(rec.key, rec.seq, None, prepared=stale)
    run.finish(None, finished=True)
    stored = table_rows(tmp_path / "s.db")
    assert [json.loads(r[3])["run_id"] for r in stored["items"]] == ["r"]
    assert len(stored["graph_nodes"]) == 2 and len(stored["verdicts"]) == 1
    line = json.loads((tmp_path / "out.jsonl").read_text())
    assert line["run_id"] == "r" and line["z"] == 3


def test_check_lines_and_store_match_with_and_without_worker_rows(tmp_path: Path) -> None:
    src = gsm8k_head(tmp_path, 12)
    # a worker (rows built there) and in process (rows built here), store and --out
    for name, in_process in (("pool", False), ("here", True)):
        run_check(src, JobOptions(in_process=in_process, store=tmp_path / f"{name}.db",
                                  out=tmp_path / f"{name}.jsonl"))
    run_check(src, JobOptions(in_process=True, out=tmp_path / "nostore.jsonl"))
    lines = (tmp_path / "nostore.jsonl").read_text(encoding="utf-8")
    assert lines.count("\n") == 12
    for name in ("pool", "here"):
        assert strip_times((tmp_path / f"{name}.jsonl").read_text(encoding="utf-8")) == \
            strip_times(lines)
    pool, here = table_rows(tmp_path / "pool.db"), table_rows(tmp_path / "here.db")
    for table in TABLES:
        assert len(pool[table]) == len(here[table]) > 0, table


def strip_times(text: str) -> list[list[str]]:
    """Each line's keys in order (timings differ between runs; the order must not)."""
    return [list(json.loads(line)) for line in text.splitlines()]


def test_rows_without_a_store_keep_the_results_key_order(tmp_path: Path) -> None:
    rec = item(4, "p")
    rows = prepare_item("r", rec.key, rec.seq, rec.result, rec.graph, rec.root, rec.verdicts)
    run = ResumableRun(run_id="r", command="c", config={})
    run.open()
    run.commit(rec.key, rec.seq, {"z": 4, "a": ["p"]}, prepared=rows)
    assert [list(r) for r in run.finish(None, finished=True)] == [
        ["key", "run_id", "z", "a"]]
