"""Tests for prover.records.store: schema, resumable runs, atomic idempotent commits, SIGKILL recovery."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest

from prover.records.graph import add_edge, add_node, graphs_equal, new_graph
from prover.records.store import (
    SCHEMA_VERSION,
    ConfigMismatchError,
    ItemRecord,
    SchemaVersionError,
    Store,
    provenance_id,
)
from prover.records.verdicts import Provenance, UnknownReason, Verdict, unknown

REPO = Path(__file__).resolve().parents[1]


def _prov(wall: float = 0.01, utc: str = "2025-01-01T00:00:00+00:00", **kw: object) -> Provenance:
    base: dict[str, object] = dict(run_id="r1", backend="z3", backend_version="4.13",
                                   limits={"timeout_ms": 1000}, formalizer="rules",
                                   formalizer_version="0.1", wall_time_s=wall, host="h",
                                   utc_time=utc, python="3.11.0")
    base.update(kw)
    return Provenance(**base)  # type: ignore[arg-type]


def _item_graph(i: int) -> tuple[nx.DiGraph, str, list[str]]:
    g = new_graph()
    root = add_node(g, "statement", f"Problem {i}", "z3")
    step = add_node(g, "step", f"Step of {i}: {i}+1={i + 1}", "z3", verdict="verified")
    claim = add_node(g, "claim", f"(= (+ {i} 1) {i + 1})", "z3", formal=f"(= (+ {i} 1) {i + 1})",
                     verdict={"verdict": "verified"})
    shared = add_node(g, "claim", "(= 1 1)", "z3", formal="(= 1 1)")
    add_edge(g, root, step, "contains", index=0)
    add_edge(g, step, claim, "formalization", source_text=f"{i}+1={i + 1}")
    add_edge(g, step, shared, "contains")
    add_edge(g, shared, claim, "entailment")
    return g, root, [claim, shared]


def _count(db: Path, sql: str, *args: object) -> int:
    con = sqlite3.connect(str(db))
    try:
        return int(con.execute(sql, args).fetchone()[0])
    finally:
        con.close()


def test_pragmas_and_schema(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store(db) as s:
        c = s._conn
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert c.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert s.integrity_check() == "ok"
    with Store(db, synchronous="FULL") as s:
        assert s._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert _count(db, "SELECT value FROM meta WHERE key='schema_version'") == SCHEMA_VERSION


def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store(db).close()
    con = sqlite3.connect(str(db))
    con.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="999.*upgrade"):
        Store(db)


def test_open_run_resume_and_config_mismatch(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as s:
        assert s.open_run("r1", "proofgraph check x.jsonl", {"timeout_ms": 1000, "a": [1]}) is False
        assert s.open_run("r1", "proofgraph check x.jsonl", {"a": [1], "timeout_ms": 1000}) is True
        with pytest.raises(ConfigMismatchError, match="timeout_ms"):
            s.open_run("r1", "proofgraph check x.jsonl", {"timeout_ms": 5, "a": [1]})
        s.finish_run("r1")
        (run,) = s.runs()
        assert run["run_id"] == "r1" and run["status"] == "finished" and run["finished_utc"]
        assert run["config"] == {"a": [1], "timeout_ms": 1000} and run["n_items"] == 0
        assert s.open_run("r1", "again", {"a": [1], "timeout_ms": 1000}) is True
        assert s.runs()[0]["status"] == "running" and s.runs()[0]["finished_utc"] is None
        with pytest.raises(KeyError):
            s.commit_item("nope", "k", 0, {}, None, None, [])


def test_commit_round_trip_and_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    g, root, (claim, shared) = _item_graph(7)
    verdicts = [(claim, Verdict("verified"), _prov(0.5)),
                (shared, unknown(UnknownReason.TIMEOUT, "slow"), _prov(0.7, "2025-02-02T00:00:00+00:00"))]
    with Store(db) as s:
        s.open_run("r1", "cmd", {})
        for _ in range(3):
            s.commit_item("r1", "item-7", 7, {"answer": "8", "n": [1, 2]}, g, root, verdicts)
        assert s.done_keys("r1") == {"item-7"}
        assert list(s.item_results("r1")) == [("item-7", {"answer": "8", "n": [1, 2]})]
        assert graphs_equal(s.load_graph("r1", "item-7"), g)
        assert s.graph_root("r1", "item-7") == root
        assert s.item_verdicts("r1", "item-7") == verdicts
        assert s.verdict_counts("r1") == {"verified": 1, "verified_approx": 0, "refuted": 0,
                                          "unknown": 1}
    for table, n in [("items", 1), ("graphs", 1), ("graph_nodes", 4), ("edges", 4),
                     ("nodes", 4), ("verdicts", 2), ("provenance", 1)]:
        assert _count(db, f"SELECT count(*) FROM {table}") == n, table
    # Re-commit with a smaller graph and no verdicts replaces the item completely.
    small = new_graph()
    r = add_node(small, "statement", "Problem 7", "z3")
    with Store(db) as s:
        s.commit_item("r1", "item-7", 7, {"answer": "9"}, small, r, [])
        assert graphs_equal(s.load_graph("r1", "item-7"), small)
        assert s.verdict_counts("r1")["verified"] == 0
    assert _count(db, "SELECT count(*) FROM edges") == 0
    assert _count(db, "SELECT count(*) FROM graph_nodes") == 1


def test_failed_commit_leaves_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as s:
        s.open_run("r1", "cmd", {})
        g, root, _ = _item_graph(1)
        g.add_node("raw-node-without-kind")
        with pytest.raises(ValueError, match="lacks"):
            s.commit_item("r1", "k", 0, {"x": 1}, g, root, [])
        with pytest.raises(ValueError, match="root"):
            s.commit_item("r1", "k", 0, {"x": 1}, new_graph(), "missing", [])
        assert s.done_keys("r1") == set()
        assert s._conn.execute("SELECT count(*) FROM nodes").fetchone()[0] == 0


def test_provenance_dedup_ignores_time_only(tmp_path: Path) -> None:
    a, b = _prov(0.1, "2025-01-01T00:00:00+00:00"), _prov(9.0, "2026-01-01T00:00:00+00:00")
    assert provenance_id(a)[0] == provenance_id(b)[0]
    assert provenance_id(a)[0] != provenance_id(_prov(limits={"timeout_ms": 5}))[0]
    db = tmp_path / "s.db"
    with Store(db) as s:
        s.open_run("r1", "cmd", {})
        s.commit_item("r1", "a", 0, {}, None, None,
                      [("n1", Verdict("verified"), a), ("n2", Verdict("refuted",
                        evidence={"lhs": "240", "rhs": "24"}), b)])
        s.commit_item("r1", "b", 1, {}, None, None,
                      [("n1", Verdict("verified_approx", tolerance="0.05"),
                        _prov(limits={"timeout_ms": 5}))])
        got = s.item_verdicts("r1", "a")
        assert got[1][2].wall_time_s == 9.0 and got[1][2].utc_time.startswith("2026")
        assert got[1][1].evidence == {"lhs": "240", "rhs": "24"}
        assert s.verdict_counts("r1") == {"verified": 1, "verified_approx": 1, "refuted": 1,
                                          "unknown": 0}
    assert _count(db, "SELECT count(*) FROM provenance") == 2
    assert _count(db, "SELECT count(*) FROM verdicts") == 3


def test_run_graph_order_errors_and_two_connections(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store(db) as s1, Store(db) as s2:
        s1.open_run("r1", "cmd", {})
        for i in (2, 0, 1):
            g, root, _ = _item_graph(i)
            (s1 if i % 2 else s2).commit_item("r1", f"k{i}", i, {"i": i}, g, root, [])
        s2.commit_item("r1", "bad", 3, {"error": "row rejected"}, None, None, [])
        assert [k for k, _ in s1.item_results("r1")] == ["k0", "k1", "k2", "bad"]
        assert s1.done_keys("r1") == {"k0", "k1", "k2", "bad"}
        assert s1.done_keys("r1", retry_errors=True) == {"k0", "k1", "k2"}
        rg = s2.run_graph("r1")
        # 3 statements + 3 steps + 3 specific claims + 1 shared claim.
        assert rg.number_of_nodes() == 10 and rg.number_of_edges() == 12
        with pytest.raises(KeyError):
            s1.load_graph("r1", "bad")


_WORKER = textwrap.dedent(
    """
    import sys, time
    from prover.records.graph import add_edge, add_node, new_graph
    from prover.records.store import Store
    from prover.records.verdicts import Provenance, Verdict

    db, n, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with Store(db) as s:
        s.open_run("kill", "worker", {"n": n})
        done = s.done_keys("kill")
        for i in range(n):
            key = f"item-{i}"
            if key in done:
                continue
            g = new_graph()
            root = add_node(g, "statement", f"P{i}", "z3")
            prev = root
            ids = []
            for j in range(6):
                c = add_node(g, "claim", f"(= {i} {j})", "z3", pad="x" * 200)
                add_edge(g, prev, c, "contains" if j == 0 else "entailment", j=j)
                prev = c
                ids.append(c)
            prov = Provenance(run_id="kill", backend="z3", backend_version="4", limits={},
                              formalizer="f", formalizer_version="1", wall_time_s=time.time())
            vs = [(c, Verdict("verified"), prov) for c in ids[:3]]
            s.commit_item("kill", key, i, {"i": i}, g, root, vs)
            print(key, flush=True)
            time.sleep(delay)
        s.finish_run("kill")
    """
)

N_ITEMS = 60


def _check_complete_items(db: Path, keys: set[str]) -> None:
    """Every committed item has all its rows; nothing exists for uncommitted items."""
    per_item = {"graphs": 1, "graph_nodes": 7, "edges": 6, "verdicts": 3}
    con = sqlite3.connect(str(db))
    try:
        for table, n in per_item.items():
            rows = dict(con.execute(
                f"SELECT item_key, count(*) FROM {table} WHERE run_id='kill' GROUP BY item_key"
            ).fetchall())
            assert set(rows) == keys, table
            assert all(v == n for v in rows.values()), (table, rows)
    finally:
        con.close()


@pytest.mark.parametrize("kill_after", [3, 12, 25])
def test_sigkill_then_resume(tmp_path: Path, kill_after: int) -> None:
    db = tmp_path / "kill.db"
    script = tmp_path / "worker.py"
    script.write_text(_WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, str(script), str(db), str(N_ITEMS), "0.01"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    printed = []
    try:
        while len(printed) < kill_after:
            line = proc.stdout.readline()
            assert line, "worker ended early"
            printed.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    with Store(db) as s:
        assert s.integrity_check() == "ok"
        done = s.done_keys("kill")
        assert set(printed) <= done
        assert done == {f"item-{i}" for i in range(len(done))}  # committed in order, no gaps
        assert kill_after <= len(done) < N_ITEMS
        assert s.runs()[0]["status"] == "running"
    _check_complete_items(db, done)

    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    resumed = rerun.stdout.split()
    assert set(resumed) == {f"item-{i}" for i in range(len(done), N_ITEMS)}

    all_keys = {f"item-{i}" for i in range(N_ITEMS)}
    _check_complete_items(db, all_keys)
    assert _count(db, "SELECT count(*) FROM items") == N_ITEMS
    assert _count(db, "SELECT count(DISTINCT item_key) FROM items") == N_ITEMS
    assert _count(db, "SELECT count(*) FROM verdicts") == 3 * N_ITEMS
    assert _count(db, "SELECT count(*) FROM graphs") == N_ITEMS
    assert _count(db, "SELECT count(*) FROM provenance") == 1  # wall time is not hashed
    with Store(db) as s:
        assert s.integrity_check() == "ok"
        assert [r["i"] for _, r in s.item_results("kill")] == list(range(N_ITEMS))
        assert s.runs()[0]["status"] == "finished"


# --------------------------------------------------------------------------- group commit
_GROUP_WORKER = textwrap.dedent(
    """
    import sys
    from prover.records.graph import add_edge, add_node, new_graph
    from prover.records.runs import GroupPolicy, ResumableRun
    from prover.records.verdicts import Provenance, Verdict

    db, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run = ResumableRun(run_id="grp", command="worker", config={"n": n}, store_path=__import__(
        "pathlib").Path(db), out_path=__import__("pathlib").Path(out),
        group=GroupPolicy(max_items=10, max_s=3600.0))
    done = run.open()
    for i in range(n):
        key = str(i)
        if key in done:
            continue
        g = new_graph()
        root = add_node(g, "statement", f"P{i}", "z3")
        c = add_node(g, "claim", f"(= {i} {i})", "z3")
        add_edge(g, root, c, "contains")
        prov = Provenance(run_id="grp", backend="z3", backend_version="4", limits={},
                          formalizer="f", formalizer_version="1", wall_time_s=0.001 * i)
        run.commit(key, i, {"i": i}, graph=g, root=root, verdicts=[(c, Verdict("verified"), prov)])
        print("queued", i, "committed", run.committed, flush=True)
        if i == 14 and len(sys.argv) > 4:
            sys.stdin.readline()  # wait here (group 2 open with items 10..14) to be killed
    run.close(finished=True)
    """
)


def test_sigkill_inside_an_open_group_loses_only_that_group(tmp_path: Path) -> None:
    """Items 0..9 are one committed group; 10..14 sit in the open group when SIGKILL comes:
    the store and the JSONL hold exactly 0..9, and the rerun commits 10.. exactly once."""
    db, out = tmp_path / "g.db", tmp_path / "g.jsonl"
    script = tmp_path / "group_worker.py"
    script.write_text(_GROUP_WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, str(script), str(db), str(out), "30"]
    proc = subprocess.Popen([*cmd, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    seen = []
    try:
        while len(seen) < 15:
            line = proc.stdout.readline()
            assert line, "worker ended early"
            seen.append(line.split())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert seen[9][-1] == "10" and seen[14][-1] == "10"  # one group of 10 committed, 5 open
    with Store(db) as s:
        assert s.integrity_check() == "ok"
        assert s.done_keys("grp") == {str(i) for i in range(10)}
    assert [json.loads(x)["key"] for x in out.read_text().splitlines()] == [
        str(i) for i in range(10)]

    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert [ln.split()[1] for ln in rerun.stdout.splitlines()] == [str(i) for i in range(10, 30)]
    with Store(db) as s:
        assert [k for k, _ in s.item_results("grp")] == [str(i) for i in range(30)]
        assert s.runs()[0]["status"] == "finished"
    assert _count(db, "SELECT count(*) FROM items") == 30
    assert _count(db, "SELECT count(*) FROM verdicts") == 30
    assert _count(db, "SELECT count(*) FROM provenance") == 1  # once per run, not per claim
    assert [json.loads(x)["key"] for x in out.read_text().splitlines()] == [
        str(i) for i in range(30)]


def test_group_commit_is_one_transaction_and_matches_single_commits(tmp_path: Path) -> None:
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    records = []
    for i in range(5):
        g, root, ids = _item_graph(i)
        records.append(ItemRecord(f"k{i}", i, {"i": i}, g, root,
                                  [(ids[0], Verdict("verified"), _prov(wall=i))]))
    with Store(one) as s:
        s.open_run("r", "c", {})
        for rec in records:
            s.commit_item("r", rec.key, rec.seq, rec.result, rec.graph, rec.root, rec.verdicts)
    with Store(many) as s:
        s.open_run("r", "c", {})
        s.commit_items("r", records)
        bad = [*records[:2], ItemRecord("k9", 9, {}, None, "nope")]
        with pytest.raises(ValueError):
            s.commit_items("r", bad)  # all or nothing
    for table in ("items", "nodes", "graph_nodes", "edges", "verdicts", "provenance"):
        assert _count(one, f"SELECT count(*) FROM {table}") == _count(
            many, f"SELECT count(*) FROM {table}"), table
    with Store(one) as a, Store(many) as b:
        assert [r for _, r in a.item_results("r")] == [r for _, r in b.item_results("r")]
        assert graphs_equal(a.run_graph("r"), b.run_graph("r"))
        assert a.item_verdicts("r", "k3") == b.item_verdicts("r", "k3")


# --------------------------------------------------------------------------- schema v2 -> v3
def test_v2_store_is_upgraded_in_place_and_resumes(tmp_path: Path) -> None:
    """tests/data/store_v2.db was written by the v2 code (commit 627259e)."""
    data = Path(__file__).parent / "data"
    db = tmp_path / "v2.sqlite"
    db.write_bytes((data / "store_v2.db").read_bytes())
    assert _count(db, "SELECT value FROM meta WHERE key='schema_version'") == 2
    with Store(db) as s:
        (run,) = s.runs()
        assert run["run_id"] == "check-ceb2bdd045a997ad" and run["n_items"] == 2
        assert run["wall_s"] == 0 and run["stop_note"] is None
        assert len(s.item_verdicts(run["run_id"], "0")) == 2
        assert s.integrity_check() == "ok"
    assert _count(db, "SELECT value FROM meta WHERE key='schema_version'") == SCHEMA_VERSION == 3
    src = tmp_path / "in.jsonl"
    src.write_bytes((data / "store_v2_input.jsonl").read_bytes())
    proc = subprocess.run([sys.executable, "-m", "proofgraph.cli", "check", str(src), "--store",
                           str(db), "--json", "--no-progress"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["run_id"] == "check-ceb2bdd045a997ad" and summary["resumed"] is True
    assert summary["claims_checked_now"] == 0 and summary["solutions"] == 2
    with Store(db) as s:
        (run,) = s.runs()
        assert run["status"] == "finished" and run["wall_s"] > 0


def test_provenance_policy_and_seed_are_fields_and_round_trip(tmp_path: Path) -> None:
    """The policy was stuffed into ``formalizer_version`` as JSON; now it has its own field."""
    policy = {"spec": "hf:/models/tiny", "revision": "abc", "temperature": 0.8, "top_p": 0.95}
    prov = _prov(policy=policy, seed=7)
    assert prov.to_dict()["policy"] == policy and prov.to_dict()["seed"] == 7
    assert "policy" not in _prov().to_dict() and "seed" not in _prov().to_dict()
    with Store(tmp_path / "s.db") as s:
        s.open_run("r1", "cmd", {})
        s.commit_item("r1", "a", 0, {}, None, None, [("n", Verdict("verified"), prov),
                                                      ("m", Verdict("verified"), _prov())])
        (_, _, got), (_, _, plain) = s.item_verdicts("r1", "a")
    assert got == prov and got.policy == policy and got.seed == 7
    assert plain.policy is None and provenance_id(plain) != provenance_id(got)
