"""End-to-end synth runs of the ``proofs`` task on the local pool: rows, labels, dedup, shards,
Parquet, manifest, resume, shard reconciliation, config conflicts and CLI errors."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from proofgraph.cli import main
from proofgraph.synth_api import SynthError, synth
from prover.records.runs import RunConflict
from prover.synth.rows import content_hash
from prover.synth.shards import MANIFEST, ShardConflict, read_parquet_rows, run_tag, temp_path
from prover.synth.verify import load_rows, verify_output

sys.path.insert(0, str(Path(__file__).parent))
from synth_helpers import FAST, PROOF_OPTS, fast_theorems  # noqa: E402


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """One finished run: the 7 fast theorems plus 2 verbatim duplicate lines, 2 workers."""
    base = tmp_path_factory.mktemp("synth")
    inp = fast_theorems(base / "thms.jsonl", duplicate_lines=2)
    out = base / "out"
    summary = synth("proofs", inp, out, workers=2, shard_rows=7, **PROOF_OPTS)
    return inp, out, summary


def test_summary_and_rows(finished: tuple[Path, Path, dict]) -> None:
    _, out, summary = finished
    assert summary["items"] == summary["items_total"] == len(FAST) + 2
    assert summary["ok"] == len(FAST) + 2 and summary["failed"] == 0
    rows = load_rows(out)
    proofs = [r for r in rows if r["kind"] == "proof"]
    assert sorted(r["theorem"] for r in proofs) == sorted(FAST)  # duplicates dropped
    assert all(r["verdict"]["verdict"] == "verified" and r["tactics"] for r in proofs)
    assert summary["duplicates_dropped"] > 0
    assert summary["rows_by_kind"]["proof"] == len(FAST)
    transitions = [r for r in rows if r["kind"] == "transition"]
    assert {r["outcome"] for r in transitions} >= {"progress", "proved", "error"}
    for row in transitions:
        assert row["label"] in ("positive", "negative")
        assert (row["next_state"] is not None) == (row["outcome"] == "progress")
        assert (row["error"] is not None) == (row["outcome"] in ("error", "timeout"))
        if row["on_proof_path"]:
            assert row["label"] == "positive"
        if row["outcome"] == "error":
            assert row["label"] == "negative"
    for proof in proofs:  # the proof path's transitions spell the proof's tactics
        path = [r["tactic"] for r in transitions
                if r["theorem"] == proof["theorem"] and r["on_proof_path"]]
        assert sorted(path) == sorted(proof["tactics"])
    for row in rows:
        assert row["hash"] == content_hash(row) and row["run_id"] == summary["run_id"]
        run = row["provenance"]["run"]
        assert run["task"] == "proofs" and run["code_version"].startswith("proofgraph")
        assert run["task_config"]["search"]["max_expansions"] == 4 and run["host"]
        assert row["provenance"]["backend"] == "z3" and row["item"]


def test_shards_manifest_and_parquet(finished: tuple[Path, Path, dict]) -> None:
    _, out, summary = finished
    report = verify_output(out)
    assert report["problems"] == [] and report["status"] == "complete"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["summary"]["rows"] == summary["rows"] == report["rows"]
    assert [s["rows"] for s in manifest["shards"][:-1]] == [7] * (len(manifest["shards"]) - 1)
    shard = manifest["shards"][0]
    import pyarrow.parquet as pq

    table = pq.read_table(out / shard["files"]["parquet"]["path"])
    assert table.column_names == ["kind", "task", "item", "run_id", "hash", "row"]
    assert table.num_rows == 7
    jsonl = [json.loads(x) for x in (out / shard["files"]["jsonl"]["path"]).read_text()
             .splitlines()]
    assert read_parquet_rows(out / shard["files"]["parquet"]["path"]) == jsonl
    assert table.column("hash").to_pylist() == [r["hash"] for r in jsonl]


def test_rerun_is_a_noop_and_repairs_shards(finished: tuple[Path, Path, dict]) -> None:
    inp, out, summary = finished
    shards = sorted((out / "shards").glob("*.jsonl"))
    before = {p.name: p.read_bytes() for p in shards}
    shards[0].write_bytes(shards[0].read_bytes()[:50])  # torn
    shards[1].unlink()  # missing
    # The user's files in the shard folder, even ones named like ours, are not the run's.
    users = {"rows-00099.jsonl": "{}\n", "notes.txt": "mine\n", ".rows-00003.jsonl.x.tmp": "x"}
    for name, text in users.items():
        (out / "shards" / name).write_text(text)
    ours = temp_path(out / "shards" / "rows-00003.jsonl", run_tag(summary["run_id"]))
    ours.write_text("half")  # a killed write of this run
    again = synth("proofs", inp, out, workers=1, shard_rows=7, **PROOF_OPTS)
    assert again["resumed"] and again["items_this_session"] == 0
    assert again["rows"] == summary["rows"] and again["run_id"] == summary["run_id"]
    report = verify_output(out)
    assert report["problems"] == [] and report["foreign"] == sorted(users)
    assert {name: (out / "shards" / name).read_text() for name in users} == users
    assert not ours.exists()
    assert {p.name: p.read_bytes() for p in sorted((out / "shards").glob("rows-0000*.jsonl"))} \
        == before
    fresh = synth("proofs", inp, out, workers=1, shard_rows=7, fresh=True, **PROOF_OPTS)
    assert fresh["rows"] == summary["rows"] and not fresh["resumed"]
    assert {name: (out / "shards" / name).read_text() for name in users} == users


def test_a_foreign_file_in_the_way_is_never_overwritten(tmp_path: Path) -> None:
    inp = fast_theorems(tmp_path / "thms.jsonl")
    out = tmp_path / "out"
    (out / "shards").mkdir(parents=True)
    (out / "shards" / "rows-00000.jsonl").write_text("precious\n")
    with pytest.raises(ShardConflict, match="not a file of this run"):
        synth("proofs", inp, out, workers=1, shard_rows=5, parquet=False, **PROOF_OPTS)
    assert (out / "shards" / "rows-00000.jsonl").read_text() == "precious\n"


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    inp = fast_theorems(tmp_path / "thms.jsonl")
    old = os.umask(0o022)
    try:
        synth("proofs", inp, tmp_path / "a", workers=1, shard_rows=5, **PROOF_OPTS)
        os.umask(0o027)
        synth("proofs", inp, tmp_path / "b", workers=1, shard_rows=5, **PROOF_OPTS)
    finally:
        os.umask(old)
    for folder, mode in (("a", 0o644), ("b", 0o640)):
        files = [tmp_path / folder / MANIFEST, *(tmp_path / folder / "shards").iterdir()]
        assert len(files) > 3
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == \
            {p.name: mode for p in files}


def test_changed_config_conflicts_unless_fresh(finished: tuple[Path, Path, dict],
                                               tmp_path: Path) -> None:
    inp, out, _ = finished
    copy = tmp_path / "out"
    import shutil

    shutil.copytree(out, copy)
    with pytest.raises(RunConflict, match="max_expansions"):
        synth("proofs", inp, copy, workers=1, shard_rows=7, **{**PROOF_OPTS,
                                                               "max_expansions": 3})
    assert main(["synth", "proofs", str(inp), "--out", str(copy), "--max-expansions", "3",
                 "--workers", "1", "--limit", "1"]) == 2
    fresh = synth("proofs", inp, copy, workers=1, shard_rows=7, limit=1, fresh=True,
                  **{**PROOF_OPTS, "max_expansions": 3})
    assert fresh["items"] == 1 and not fresh["resumed"]
    assert verify_output(copy)["problems"] == []


def test_cli_errors_and_failed_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["synth", "proofs", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "x.jsonl").write_text("{}\n", encoding="utf-8")
    assert main(["synth", "proofs", str(tmp_path / "x.jsonl"), "--out", str(out),
                 "--backend", "coq"]) == 2
    assert "unknown backend" in capsys.readouterr().err
    with pytest.raises(SynthError, match="unknown synth task"):
        synth("poems", tmp_path, out)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "smt2": "(declare-const x Int)", "goal": "(= x x)"}\n'
                   "not json\n"
                   '{"id": "broken", "smt2": "(assert", "goal": "(= x x)"}\n', encoding="utf-8")
    code = main(["synth", "proofs", str(bad), "--out", str(out), "--workers", "1", "--json",
                 "--max-expansions", "2", "--no-parquet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 3 and summary["ok"] == 1
    assert summary["failed_by_reason"] == {"bad-input": 1, "bad-theorem": 1}
    assert verify_output(out)["problems"] == []


def test_duplicate_keys_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prover.synth.engine import SynthInputError, SynthOptions, run_synth

    class Twice:
        name = "twice"

        def items(self):  # type: ignore[no-untyped-def]
            yield "a", {}
            yield "a", {}

        def config(self) -> dict:
            return {}

        def run(self, payload: dict):  # type: ignore[no-untyped-def]
            raise AssertionError("never reached")

    inp = tmp_path / "in.txt"
    inp.write_text("x", encoding="utf-8")
    with pytest.raises(SynthInputError, match="'a' occurs twice"):
        run_synth(Twice(), inp, SynthOptions(out=tmp_path / "o", workers=1, parquet=False))


def test_datasets_loads_shards(finished: tuple[Path, Path, dict]) -> None:
    datasets = pytest.importorskip("datasets")
    _, out, summary = finished
    files = sorted(str(p) for p in (out / "shards").glob("*.parquet"))
    parquet = datasets.load_dataset("parquet", data_files=files, split="train")
    assert parquet.num_rows == summary["rows"]
    jsonl = datasets.load_dataset("json", data_files=sorted(
        str(p) for p in (out / "shards").glob("*.jsonl")), split="train")
    assert jsonl.num_rows == summary["rows"]
