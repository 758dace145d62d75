"""The one job runner (prover/records/runner.py), in process: keys, order, one row's failure,
--limit then the full run, output paths, locks, messages, progress, in-memory rows, the
hardened JSONL reader and the atomic write."""

from __future__ import annotations

import io
import json
import os
import pkgutil
import sqlite3
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

import proofgraph
from proofgraph.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, main
from prover.records.files import FileLock, LockedError, OutputPathError, guard_outputs
from prover.records.jsonl import InputError, atomic_write_text, read_jsonl
from prover.records.runner import Item, Job, Outcome, Rejection, RunSettings, Session, run_job
from prover.records.runs import Progress
from prover.records.store import Store, StoreLockedError

DATA = Path(__file__).parent / "data"
GSM8K = DATA / "gsm8k_train_300.jsonl"
SQUARE = {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))", "goal": "(> (* x x) 4)"}


def gsm_rows(path: Path, n: int) -> Path:
    path.write_text("\n".join(GSM8K.read_text(encoding="utf-8").splitlines()[:n]) + "\n",
                    encoding="utf-8")
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --------------------------------------------------------------------------- a toy job
class Squares(Job):
    """n -> n*n; raises for the rows listed in ``bad`` (a bug in one row)."""

    command = "squares"

    def __init__(self, rows: list[Any], bad: frozenset[int] = frozenset(),
                 batch_size: int = 1) -> None:
        self.rows = rows
        self.bad = bad
        self.batch_size = batch_size
        self.calls: list[list[str]] = []

    def identity(self) -> tuple[str, dict[str, Any]]:
        return json.dumps(self.rows), {}

    def total(self) -> int | None:
        return len(self.rows)

    def read(self):  # type: ignore[override]
        for i, row in enumerate(self.rows):
            if isinstance(row, int):
                yield Item(str(i), i, row, f"r{i}", i + 1)
            else:
                yield Rejection(str(i), i, "not a number", None, i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        self.calls.append([item.key for item in batch])
        out = []
        for item in batch:
            if item.payload in self.bad:
                raise ValueError("Exceeds the limit (4300 digits) for integer string "
                                 "conversion; use sys.set_int_max_str_digits() to increase it")
            out.append(Outcome({"id": item.row_id, "square": item.payload ** 2}))
        return out

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return {"rows": len(results), "errors": sum(1 for r in results if r.get("error")),
                "new": session.new_items, "complete": session.complete}


def test_keys_are_zero_based_positions_and_rejections_keep_input_order() -> None:
    summary, results = run_job(Squares([1, "x", 3]), RunSettings())
    assert [r["key"] for r in results] == ["0", "1", "2"]
    assert [r.get("square") for r in results] == [1, None, 9]
    assert results[1] == {"key": "1", "run_id": results[0]["run_id"], "id": "1", "line": 1,
                          "error": "not a number"}
    assert summary == {"rows": 3, "errors": 1, "new": 3, "complete": True}


@pytest.mark.parametrize("batch_size", [1, 4])
def test_one_rows_exception_is_that_rows_error_and_the_run_goes_on(batch_size: int) -> None:
    messages: list[str] = []
    job = Squares([1, 2, 3, 4, 5], bad=frozenset({3}), batch_size=batch_size)
    summary, results = run_job(job, RunSettings(report=messages.append))
    assert [r.get("square") for r in results] == [1, 4, None, 16, 25]
    bad = results[2]
    assert bad["id"] == "r2" and "internal error (ValueError)" in bad["error"]
    assert bad["error_detail"]["exception"] == "ValueError"
    assert "set_int_max_str_digits" not in bad["error"]  # Python's advice is not a message
    assert summary["errors"] == 1 and summary["complete"]
    (message,) = messages
    assert message.startswith("<rows>:3: row 'r2': internal error (ValueError)")
    assert "set_int_max_str_digits" not in message


def test_check_row_that_breaks_the_checker_is_an_error_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: a model value too long to print raised ValueError in one row and
    ended the run (and every rerun at the same row). Now it is that row's error."""
    from formalizer.stepcheck import StepChecker

    real = StepChecker.check

    def check(self: StepChecker, solution: Any) -> Any:
        if solution.line == 1:
            raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        return real(self, solution)

    monkeypatch.setattr(StepChecker, "check", check)  # in this process: --in-process
    src, out = gsm_rows(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl"
    code, stdout, err = cli(capsys, "check", src, "--out", out, "--json", "--in-process")
    assert code == EXIT_REJECTED
    rows = read_rows(out)
    assert [r["key"] for r in rows] == ["0", "1", "2"]
    assert rows[1]["error"].startswith("internal error (ValueError)")
    assert rows[0]["error"] is None and rows[2]["error"] is None
    assert json.loads(stdout)["rejected"] == 1
    assert [line.split(": ")[0] for line in err.splitlines()] == [f"{src}:2"]
    # the rerun does not stop at that row again: everything is done
    code, stdout, _ = cli(capsys, "check", src, "--out", out, "--json")
    assert code == EXIT_REJECTED and json.loads(stdout)["claims_checked_now"] == 0


# --------------------------------------------------------------------------- --limit
def test_limit_trial_then_the_full_run_continues(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src, out, db = gsm_rows(tmp_path / "in.jsonl", 6), tmp_path / "out.jsonl", tmp_path / "s.db"
    code, stdout, _ = cli(capsys, "check", src, "--out", out, "--store", db, "--limit", 2,
                          "--json")
    assert code == EXIT_OK
    trial = json.loads(stdout)
    assert trial["solutions"] == 2
    code, stdout, err = cli(capsys, "check", src, "--out", out, "--store", db, "--json")
    assert code == EXIT_OK, err
    full = json.loads(stdout)
    assert full["run_id"] == trial["run_id"] and full["resumed"] is True
    assert full["solutions"] == 6
    keys = [r["key"] for r in read_rows(out)]
    assert keys == [str(i) for i in range(6)]
    with Store(db) as store:
        (run,) = store.runs()
        assert run["status"] == "finished" and run["n_items"] == 6


def test_limit_alone_does_not_mark_the_run_finished(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    summary, results = run_job(Squares([1, 2, 3]), RunSettings(store=db, limit=2))
    assert [r["key"] for r in results] == ["0", "1"] and not summary["complete"]
    with Store(db) as store:
        assert store.runs()[0]["status"] != "finished"
    summary, results = run_job(Squares([1, 2, 3]), RunSettings(store=db, limit=3))
    assert summary["new"] == 1 and summary["complete"]


# --------------------------------------------------------------------------- output paths
@pytest.mark.parametrize("flags", [[], ["--fresh"]], ids=["plain", "fresh"])
@pytest.mark.parametrize("target", ["--out", "--html", "--store"])
def test_no_output_may_be_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    target: str, flags: list[str]) -> None:
    src = gsm_rows(tmp_path / "in.jsonl", 2)
    before = src.read_bytes()
    code, stdout, err = cli(capsys, "check", src, target, src, *flags)
    assert code == EXIT_USAGE
    assert err.startswith("proofgraph: error: ") and "input" in err
    assert src.read_bytes() == before


def test_outputs_are_compared_by_inode_not_by_spelling(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    src = gsm_rows(tmp_path / "in.jsonl", 2)
    before = src.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    for alias in (tmp_path / "link.jsonl", tmp_path / "hard.jsonl",
                  tmp_path / "sub" / ".." / "in.jsonl"):
        code, _, err = cli(capsys, "check", src, "--out", alias, "--fresh")
        assert code == EXIT_USAGE, alias
        assert src.read_bytes() == before


def test_output_may_not_be_the_store_or_another_output(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    src, db = gsm_rows(tmp_path / "in.jsonl", 2), tmp_path / "s.db"
    assert cli(capsys, "check", src, "--store", db)[0] == EXIT_OK
    before = db.read_bytes()
    for argv in (["--out", db], ["--html", db], ["--out", tmp_path / "o", "--html",
                                                 tmp_path / "o"]):
        code, _, err = cli(capsys, "check", src, "--store", db, *argv)
        assert code == EXIT_USAGE and "proofgraph: error:" in err
    assert db.read_bytes() == before


def test_export_and_show_refuse_to_overwrite_the_store(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    src, db = gsm_rows(tmp_path / "in.jsonl", 2), tmp_path / "s.db"
    code, stdout, _ = cli(capsys, "check", src, "--store", db, "--json")
    run_id = json.loads(stdout)["run_id"]
    before = db.read_bytes()
    for flag in ("--jsonl", "--graph", "--html"):
        code, _, err = cli(capsys, "export", "--store", db, "--run", run_id, flag, db)
        assert code == EXIT_USAGE and "--store" in err, flag
    code, _, err = cli(capsys, "show", run_id, "--store", db, "--html", db)
    assert code == EXIT_USAGE and "--store" in err
    assert db.read_bytes() == before


def test_all_commands_share_the_guard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    theorems = tmp_path / "t.jsonl"
    theorems.write_text(json.dumps(SQUARE) + "\n", encoding="utf-8")
    before = theorems.read_bytes()
    for argv in (["prove", theorems, "--out", theorems, "--fresh"],
                 ["entail", theorems, "--out", theorems, "--fresh"],
                 ["prove", theorems, "--store", theorems]):
        code, _, err = cli(capsys, *argv)
        assert code == EXIT_USAGE and "input" in err, argv
    assert theorems.read_bytes() == before


def test_guard_outputs_unit(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_text("x")
    guard_outputs([("--out", tmp_path / "b")], [("input", a)])
    with pytest.raises(OutputPathError, match="--out .* is the input file"):
        guard_outputs([("--out", tmp_path / "." / "a")], [("input", a)])


# --------------------------------------------------------------------------- other run / not ours
def test_out_with_lines_that_are_not_results_names_the_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """Was: 'holds results of another run (None)', and --fresh then emptied the file."""
    src = gsm_rows(tmp_path / "in.jsonl", 2)
    other = gsm_rows(tmp_path / "other.jsonl", 3)
    before = other.read_bytes()
    for flags in ([], ["--fresh"]):
        code, _, err = cli(capsys, "check", src, "--out", other, *flags)
        assert code == EXIT_USAGE
        assert f"{other}:1 is not a proofgraph result line" in err and "None" not in err
        assert "--fresh" not in err
    assert other.read_bytes() == before


# --------------------------------------------------------------------------- locks
def test_second_writer_on_the_same_out_or_store_is_refused(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    src, out, db = gsm_rows(tmp_path / "in.jsonl", 2), tmp_path / "o.jsonl", tmp_path / "s.db"
    for held, argv in ((out, ["--out", out]), (db, ["--store", db])):
        with FileLock(held, "test"):
            code, _, err = cli(capsys, "check", src, *argv)
            assert code == EXIT_USAGE
            (line,) = err.splitlines()
            assert "is in use: another proofgraph process is writing" in line
    assert cli(capsys, "check", src, "--out", out, "--store", db)[0] == EXIT_OK


def test_lock_is_released_after_a_run(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    run_job(Squares([1, 2]), RunSettings(out=out))
    with FileLock(out, "test"):
        pass
    with FileLock(out, "test"), pytest.raises(LockedError):
        FileLock(out, "again").acquire()


def test_locked_store_says_so(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreLockedError) as err:
            Store(db, busy_timeout_s=0.2)
        assert "locked by another process" in str(err.value)
        assert "not an SQLite store" not in str(err.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_read_only_commands_open_the_store_read_only(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """`runs`, `show` and `export` neither write nor upgrade a store (a v2 store stays v2)."""
    db = tmp_path / "v2.sqlite"
    db.write_bytes((DATA / "store_v2.db").read_bytes())
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = db.read_bytes()
    code, stdout, _ = cli(capsys, "runs", "--store", db, "--json")
    assert code == EXIT_OK and json.loads(stdout)["run_id"] == "check-ceb2bdd045a997ad"
    code, _, _ = cli(capsys, "export", "--store", db, "--run", "check-ceb2bdd045a997ad",
                     "--jsonl", tmp_path / "x.jsonl")
    assert code == EXIT_OK and len(read_rows(tmp_path / "x.jsonl")) == 2
    code, _, _ = cli(capsys, "show", "check-ceb2bdd045a997ad", "--store", db, "--html",
                     tmp_path / "x.html")
    assert code == EXIT_OK
    assert db.read_bytes() == before
    assert not (tmp_path / "v2.sqlite-wal").exists()


# --------------------------------------------------------------------------- in-memory rows
def test_api_prove_twice_and_no_submodule_shadows_the_api() -> None:
    """`proofgraph.prove(rows)` worked once; importing the submodule `proofgraph.prove` then
    replaced the function, and the second call raised TypeError."""
    first, _ = proofgraph.prove([SQUARE], wall_timeout_s=120)
    second, results = proofgraph.prove([SQUARE], wall_timeout_s=120)
    assert first["proved"] == second["proved"] == 1 and results[0]["verdict"] == "verified"
    submodules = {m.name for m in pkgutil.iter_modules(proofgraph.__path__)}
    assert not submodules & set(proofgraph.__all__)
    assert callable(proofgraph.prove)


def test_rows_in_memory_need_no_temporary_file(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a temporary file was made")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)
    code, stdout, err = cli(capsys, "prove", "--row", json.dumps(SQUARE), "--json",
                            "--wall-timeout", 120)
    assert code == EXIT_OK, err
    assert json.loads(stdout)["proved"] == 1
    summary, _ = proofgraph.prove([SQUARE], wall_timeout_s=120)
    assert summary["proved"] == 1


def test_bad_row_json_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "prove", "--row", '{"id": 1, "goal": NaN}')
    assert code == EXIT_USAGE and len(err.splitlines()) == 1 and "NaN" in err


# --------------------------------------------------------------------------- progress / html
def test_progress_without_a_terminal_prints_lines_with_budget_eta() -> None:
    stream = io.StringIO()
    meter = Progress(10, "prove", None, item_budget_s=60.0, interval_s=0.0, stream=stream)
    meter.update(0)
    meter.update(1)
    meter.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("prove: 0/10") and "at most 10m" in lines[0]
    assert lines[1].startswith("prove: 1/10") and "at most 9m" in lines[1]
    quiet = io.StringIO()
    off = Progress(10, "check", False, stream=quiet, interval_s=0.0)
    off.update(5)
    off.finish()
    assert quiet.getvalue() == ""


def test_check_html_of_a_resumed_run_shows_the_whole_runs_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, db = gsm_rows(tmp_path / "in.jsonl", 4), tmp_path / "s.db"
    html = tmp_path / "r.html"
    assert cli(capsys, "check", src, "--store", db, "--limit", 2)[0] == EXIT_OK
    code, stdout, _ = cli(capsys, "check", src, "--store", db, "--html", html, "--json")
    summary = json.loads(stdout)
    text = html.read_text(encoding="utf-8")
    assert summary["resumed"] and summary["claims_checked_now"] < summary["claims"]
    assert "claims_checked_now" not in text
    assert f"<th>claims</th><td>{summary['claims']}</td>" in text
    code, stdout, _ = cli(capsys, "check", src, "--store", db, "--html", html, "--json")
    assert json.loads(stdout)["claims_checked_now"] == 0
    text = html.read_text(encoding="utf-8")
    assert "<th>claims_per_s</th><td>0" not in text and "claims_per_s" in text


# --------------------------------------------------------------------------- reader / write
def test_the_hardened_reader(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n\n[1]\n{"b": NaN}\n' + b'{"c": "' + b"x" * 200 + b'"}\n'
                     + b'{"d": 2}\n{"e": \xff}\n')
    got = list(read_jsonl(path, max_line_bytes=100))
    assert [n for n, _ in got] == [1, 3, 4, 5, 6, 7]
    kinds = [obj if isinstance(obj, dict) else obj.message for _, obj in got]
    assert kinds[0] == {"a": 1} and kinds[4] == {"d": 2}
    assert "expected a JSON object" in kinds[1]
    assert "NaN" in kinds[2]
    assert "longer than 100 bytes" in kinds[3]
    assert "not valid UTF-8" in kinds[5]
    assert all(isinstance(obj, InputError) and obj.line == n for n, obj in got
               if not isinstance(obj, dict))


def test_atomic_write_gives_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "f.html"
        atomic_write_text(target, "hello")
    finally:
        os.umask(old)
    assert target.read_text() == "hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["f.html"]


# --------------------------------------------------------------------------- typed results
def test_typed_results_round_trip_every_written_row_exactly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prover.records.results import (
        ClaimResult,
        EntailmentResult,
        ProofSearchResult,
        SolutionResult,
    )

    src, out = gsm_rows(tmp_path / "in.jsonl", 30), tmp_path / "check.jsonl"
    src.write_text(src.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    assert cli(capsys, "check", src, "--out", out)[0] == EXIT_REJECTED
    fol = tmp_path / "fol.jsonl"
    fol.write_text("\n".join(json.dumps(r) for r in (
        {"id": "t", "premises": ["∀x (Cat(x) → Animal(x))", "Cat(tom)"],
         "conclusion": "Animal(tom)"},
        {"id": "syn", "premises": ["P(a)"], "conclusion": "P(a) ∧ ∧ Q(a)"})) + "\n",
        encoding="utf-8")
    assert cli(capsys, "entail", fol, "--out", tmp_path / "fol.out")[0] == EXIT_REJECTED
    theorems = tmp_path / "t.jsonl"
    theorems.write_text(json.dumps(SQUARE) + "\n", encoding="utf-8")
    assert cli(capsys, "prove", theorems, "--out", tmp_path / "t.out", "--wall-timeout",
               120)[0] == EXIT_OK
    for kind, path in ((SolutionResult, out), (EntailmentResult, tmp_path / "fol.out"),
                       (ProofSearchResult, tmp_path / "t.out")):
        for line in path.read_text(encoding="utf-8").splitlines():
            typed = kind.from_dict(json.loads(line))
            assert json.dumps(typed.to_dict(), ensure_ascii=False,
                              separators=(",", ":")) == line, kind.__name__
    rows = [SolutionResult.from_dict(json.loads(x)) for x in out.read_text().splitlines()]
    assert rows[-1].error and not rows[0].error
    assert all(isinstance(c, ClaimResult) for r in rows for c in r.claims())
    assert {c.label for r in rows for c in r.claims()} >= {"verified"}
    proof = ProofSearchResult.from_dict(json.loads((tmp_path / "t.out").read_text()))
    assert proof.verdict == "verified" and proof.proof
    made = ClaimResult(kind="annotation", source="1+1=2", formal="(= (+ 1 1) 2)",
                       verdict="verified")
    assert made.to_dict() == {"kind": "annotation", "source": "1+1=2",
                              "formal": "(= (+ 1 1) 2)", "verdict": "verified"}
    assert ClaimResult.from_dict(made.to_dict()) == made
