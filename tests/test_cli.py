"""The ``proofgraph`` command line and the thin Python API: formats, outputs, summary fields,
exit codes, export / runs on a stored run.

Most tests call ``proofgraph.cli.main([...])`` in-process (an exception escaping ``main`` fails
the test, like a traceback would); a couple go through a real subprocess for the console entry.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import proofgraph
from proofgraph.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, build_parser, main
from prover.records import graph as pg
from prover.records.store import Store

DATA = Path(__file__).parent / "data"
GSM8K = DATA / "gsm8k_train_300.jsonl"
VERDICTS = {"verified", "verified_approx", "refuted", "unknown"}
STEP_VERDICTS = VERDICTS | {"no_claims"}
CLAIM_KEYS = {"kind", "source", "formal", "verdict", "reason", "tolerance", "evidence"}

# The shipped example rows, with hand-checked outcomes.
STEPS_ROWS = [
    {"id": "calc-error", "problem": "12 rows of 8 trees, 30 sold. How many are left?",
     "steps": ["There are 12 * 8 = 96 trees.", "After selling, 96 - 30 = 56 trees are left.",
               "So the answer is 56."]},
    {"id": "annotation-vs-prose", "problem": "80 cookies a tray, 3 trays.",
     "steps": ["She bakes 8*3 = <<80*3=240>>240 cookies."]},
    {"id": "algebra", "problem": "Twice a number plus 3 is 15. What is the number?",
     "steps": ["Let x be the number.", "Then 2x + 3 = 15.", "So 2x = 12 and x = 6."]},
    {"id": "rounded", "problem": "75 km in 55 minutes: km per minute?",
     "steps": ["75/55 = 1.4 km per minute, rounded.",
               "That is \\(\\frac{75}{55} \\approx 1.36\\)."]},
    {"id": "percent", "problem": "A $1,000 bike is 20% off. What does it cost?",
     "steps": ["The discount is 20% of $1,000 = $200.", "The bike costs $1,000 - 20% = $800."]},
    {"id": "division-by-zero", "problem": "Share 5 apples among 0 children.",
     "steps": ["Each child gets 5/0 = 0 apples."]},
]
EXPECTED_FIRST_ERROR = {"calc-error": 1, "annotation-vs-prose": 0, "algebra": None,
                        "rounded": None, "percent": None, "division-by-zero": 0}

ENTAIL_ROWS = [
    {"id": "t", "premises": ["∀x (Cat(x) → Animal(x))", "Cat(tom)"], "conclusion": "Animal(tom)"},
    {"id": "f", "premises": ["∀x (Cat(x) → ¬Dog(x))", "Cat(tom)"], "conclusion": "Dog(tom)"},
    {"id": "u", "premises": ["Cat(tom)"], "conclusion": "Dog(tom)"},
    {"id": "inc", "premises": ["Cat(tom)", "¬Cat(tom)"], "conclusion": "Dog(tom)"},
    {"id": "ops", "premises": ["∃x (Cat(x) ⊕ Dog(x))", "Cat(a) ↔ Dog(b)", "Cat(a) ∨ Cat(b)"],
     "conclusion": "Cat(a) ∧ ¬Cat(b) → Dog(b)"},
    {"id": "syn", "premises": ["∀x (Cat(x) → )"], "conclusion": "Dog(tom)"},
]
EXPECTED_ANSWERS = {"t": "True", "f": "False", "u": "Uncertain", "inc": "Inconsistent",
                    "ops": "True"}


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False))
                         + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_main(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def claims(result: dict) -> list[dict]:
    return [c for step in result["steps"] for c in step["claims"]]


@pytest.fixture
def steps_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "steps.jsonl", STEPS_ROWS)


@pytest.fixture
def gsm8k_small(tmp_path: Path) -> Path:
    lines = GSM8K.read_text(encoding="utf-8").splitlines()[:3]
    return write_jsonl(tmp_path / "gsm.jsonl", lines)


# --------------------------------------------------------------------------- help / parser
def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("check", "entail", "export", "runs"):
        assert command in out


def test_check_parser_has_contract_options() -> None:
    args = build_parser().parse_args(
        ["check", "in.jsonl", "--format", "gsm8k", "--out", "o.jsonl", "--html", "r.html",
         "--store", "s.db", "--json", "--timeout-ms", "100", "--rlimit", "7", "--limit", "3",
         "--fresh"])
    assert (args.fmt, args.timeout_ms, args.rlimit, args.limit) == ("gsm8k", 100, 7, 3)
    assert args.json and args.fresh
    assert str(args.out) == "o.jsonl" and str(args.store) == "s.db" and str(args.html) == "r.html"


def test_console_script_runs_the_check(steps_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "proofgraph.cli", "check", str(steps_file),
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["solutions"] == 6 and summary["first_errors"] == 3


# --------------------------------------------------------------------------- check: steps
def test_check_json_summary_fields(capsys: pytest.CaptureFixture[str], steps_file: Path) -> None:
    code, out, err = run_main(capsys, "check", steps_file, "--json")
    assert code == EXIT_OK
    assert err == ""
    summary = json.loads(out)
    assert summary["solutions"] == 6
    assert summary["rejected"] == 0
    assert summary["steps"] == 12
    assert summary["claims"] == 11
    assert summary["verdicts"] == {"refuted": 3, "verified": 6, "verified_approx": 2}
    assert summary["first_errors"] == 3
    assert isinstance(summary["claims_per_s"], (int, float)) and summary["claims_per_s"] > 0
    assert summary["resumed"] is False
    assert summary["run_id"].startswith("check-")


def test_check_plain_summary_is_a_table(capsys: pytest.CaptureFixture[str],
                                        steps_file: Path) -> None:
    code, out, _ = run_main(capsys, "check", steps_file)
    assert code == EXIT_OK
    assert out.splitlines()[0].startswith("proofgraph check")
    assert re.search(r"^  solutions +6$", out, re.M)
    assert re.search(r"^  first errors +3$", out, re.M)
    assert "{" not in out


def test_check_out_rows_have_the_result_shape(capsys: pytest.CaptureFixture[str],
                                              steps_file: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    code, _, _ = run_main(capsys, "check", steps_file, "--out", out_path)
    assert code == EXIT_OK
    rows = read_jsonl(out_path)
    assert [r["id"] for r in rows] == [r["id"] for r in STEPS_ROWS]
    assert [r["key"] for r in rows] == [str(i) for i in range(len(STEPS_ROWS))]
    for row, source in zip(rows, STEPS_ROWS, strict=True):
        assert row["first_error"] == EXPECTED_FIRST_ERROR[row["id"]], row["id"]
        assert row["error"] is None
        assert [s["text"] for s in row["steps"]] == source["steps"]
        assert [s["index"] for s in row["steps"]] == list(range(len(source["steps"])))
        for step in row["steps"]:
            assert step["verdict"] in STEP_VERDICTS
            for claim in step["claims"]:
                assert CLAIM_KEYS <= set(claim)
                assert claim["verdict"] in VERDICTS | {None}
                if claim["verdict"] == "unknown":
                    assert claim["reason"]
        prov = row["provenance"]
        assert prov["run_id"] == row["run_id"]
        assert prov["backend"].startswith("proofgraph-arith")
        assert prov["formalizer"] == "arith-extract"
        assert prov["limits"]["timeout_ms"] == 2000
        for key in ("backend_version", "wall_time_s", "utc_time", "python"):
            assert key in prov
    by_id = {r["id"]: r for r in rows}
    wrong = by_id["calc-error"]["steps"][1]
    assert wrong["verdict"] == "refuted"
    assert wrong["claims"][0]["formal"] == "(= (- 96 30) 56)"
    assert wrong["claims"][0]["evidence"] == {"lhs": "66", "rhs": "56"}
    assert by_id["calc-error"]["steps"][2]["verdict"] == "no_claims"
    kinds = {c["kind"]: c["verdict"] for c in claims(by_id["annotation-vs-prose"])}
    assert kinds == {"annotation": "verified", "equation": "refuted"}
    approx = claims(by_id["rounded"])
    assert [c["verdict"] for c in approx] == ["verified_approx", "verified_approx"]
    assert all(c["tolerance"] for c in approx)
    algebra = claims(by_id["algebra"])
    assert algebra[0]["kind"] == "constraint" and algebra[0]["verdict"] is None
    assert [c["verdict"] for c in algebra[1:]] == ["verified", "verified"]
    assert by_id["division-by-zero"]["steps"][0]["verdict"] == "refuted"


def test_check_html_report_is_offline(capsys: pytest.CaptureFixture[str], steps_file: Path,
                                      tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    code, _, _ = run_main(capsys, "check", steps_file, "--html", html)
    assert code == EXIT_OK
    text = html.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    for row in STEPS_ROWS:
        assert row["id"] in text
    assert "96 - 30 = 56" in text
    assert "http://" not in text and "https://" not in text


def test_check_limit_processes_first_rows(capsys: pytest.CaptureFixture[str], steps_file: Path,
                                          tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    code, out, _ = run_main(capsys, "check", steps_file, "--limit", 2, "--out", out_path,
                            "--json")
    assert code == EXIT_OK
    assert json.loads(out)["solutions"] == 2
    assert [r["id"] for r in read_jsonl(out_path)] == ["calc-error", "annotation-vs-prose"]


def test_check_limits_are_recorded_in_provenance(capsys: pytest.CaptureFixture[str],
                                                 steps_file: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    code, _, _ = run_main(capsys, "check", steps_file, "--timeout-ms", 1234, "--rlimit",
                          999_999, "--out", out_path)
    assert code == EXIT_OK
    limits = read_jsonl(out_path)[0]["provenance"]["limits"]
    assert limits["timeout_ms"] == 1234 and limits["rlimit"] == 999_999


def test_rerun_of_finished_run_resumes_without_duplicates(
        capsys: pytest.CaptureFixture[str], steps_file: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "out.jsonl"
    assert run_main(capsys, "check", steps_file, "--out", out_path)[0] == EXIT_OK
    first = out_path.read_bytes()
    code, out, _ = run_main(capsys, "check", steps_file, "--out", out_path, "--json")
    assert code == EXIT_OK
    summary = json.loads(out)
    assert summary["resumed"] is True
    assert summary["claims_checked_now"] == 0
    assert summary["solutions"] == 6 and summary["claims"] == 11
    assert out_path.read_bytes() == first


# --------------------------------------------------------------------------- check: gsm8k / text
@pytest.mark.parametrize("fmt", ["auto", "gsm8k"])
def test_check_gsm8k_rows(capsys: pytest.CaptureFixture[str], gsm8k_small: Path, tmp_path: Path,
                          fmt: str) -> None:
    out_path = tmp_path / "out.jsonl"
    code, out, _ = run_main(capsys, "check", gsm8k_small, "--format", fmt, "--out", out_path,
                            "--json")
    assert code == EXIT_OK
    rows = read_jsonl(out_path)
    assert [r["id"] for r in rows] == ["0", "1", "2"]
    first = rows[0]
    assert first["final_answer"] == "72"
    assert [s["text"] for s in first["steps"]] == [
        "Natalia sold 48/2 = <<48/2=24>>24 clips in May.",
        "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May."]
    assert first["problem"].startswith("Natalia sold clips to 48")
    assert {c["kind"] for c in claims(first)} == {"annotation", "equation"}
    assert all(c["verdict"] == "verified" for c in claims(first))
    assert all(r["first_error"] is None for r in rows)
    summary = json.loads(out)
    assert summary["solutions"] == 3 and summary["steps"] == 7


def test_check_gsm8k_ids_are_line_numbers_and_explicit_ids_win(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "gsm.jsonl", [
        {"question": "q0", "answer": "2 + 2 = <<2+2=4>>4\n#### 4"},
        "",
        {"question": "q2", "answer": "Then 3 * 4 = <<3*4=13>>13 boxes.\n5 - 1 = 4\n#### 13"},
        {"id": "mine", "question": "q3", "answer": "10 / 2 = 5\n#### 5"},
    ])
    out_path = tmp_path / "out.jsonl"
    code, _, _ = run_main(capsys, "check", src, "--format", "gsm8k", "--out", out_path)
    assert code == EXIT_OK
    rows = read_jsonl(out_path)
    assert [r["id"] for r in rows] == ["0", "2", "mine"]
    assert [r["line"] for r in rows] == [0, 2, 3]
    wrong = rows[1]
    assert wrong["final_answer"] == "13"
    assert len(wrong["steps"]) == 2
    assert wrong["first_error"] == 0
    assert wrong["steps"][0]["verdict"] == "refuted"
    assert wrong["steps"][1]["verdict"] == "verified"


def test_check_text_format_one_solution_per_file(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    src = tmp_path / "sol.txt"
    src.write_text("2 + 3 = 5\n\n   \n5 * 4 = 21\nSo the answer is 21.\n", encoding="utf-8")
    out_path = tmp_path / "out.jsonl"
    code, out, _ = run_main(capsys, "check", src, "--out", out_path, "--json")
    assert code == EXIT_OK
    rows = read_jsonl(out_path)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == "sol"
    assert [s["text"] for s in row["steps"]] == ["2 + 3 = 5", "5 * 4 = 21",
                                                 "So the answer is 21."]
    assert [s["verdict"] for s in row["steps"]] == ["verified", "refuted", "no_claims"]
    assert row["first_error"] == 1
    summary = json.loads(out)
    assert (summary["solutions"], summary["steps"], summary["first_errors"]) == (1, 3, 1)


def test_check_text_format_forced_on_any_name(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    src = tmp_path / "solution.jsonl"  # a misleading suffix: --format text wins
    src.write_text("{not json} 1 + 1 = 2\n7 - 2 = 5\n", encoding="utf-8")
    out_path = tmp_path / "out.jsonl"
    code, _, _ = run_main(capsys, "check", src, "--format", "text", "--out", out_path)
    assert code == EXIT_OK
    (row,) = read_jsonl(out_path)
    assert row["id"] == "solution"
    assert len(row["steps"]) == 2
    assert row["steps"][1]["verdict"] == "verified"


def test_check_wrong_explicit_format_rejects_rows(capsys: pytest.CaptureFixture[str],
                                                  steps_file: Path) -> None:
    code, out, err = run_main(capsys, "check", steps_file, "--format", "gsm8k", "--json")
    assert code == EXIT_REJECTED
    summary = json.loads(out)
    assert summary["rejected"] == 6 and summary["solutions"] == 0
    assert f"{steps_file}:1:" in err and f"{steps_file}:6:" in err


# --------------------------------------------------------------------------- store / runs / export
def test_store_runs_and_export(capsys: pytest.CaptureFixture[str], steps_file: Path,
                               tmp_path: Path) -> None:
    db, out_path = tmp_path / "runs.db", tmp_path / "out.jsonl"
    code, out, _ = run_main(capsys, "check", steps_file, "--store", db, "--out", out_path,
                            "--json")
    assert code == EXIT_OK
    run_id = json.loads(out)["run_id"]

    code, out, _ = run_main(capsys, "runs", "--store", db, "--json")
    assert code == EXIT_OK
    (listed,) = [json.loads(line) for line in out.splitlines()]
    assert listed["run_id"] == run_id
    assert listed["command"] == "check"
    assert listed["status"] == "finished"
    assert listed["n_items"] == 6

    jsonl, graphml, html = tmp_path / "x.jsonl", tmp_path / "g.graphml", tmp_path / "r.html"
    code, out, _ = run_main(capsys, "export", "--store", db, "--run", run_id, "--jsonl", jsonl,
                            "--graph", graphml, "--html", html, "--json")
    assert code == EXIT_OK
    assert json.loads(out) == {"run_id": run_id, "rows": 6}
    assert read_jsonl(jsonl) == read_jsonl(out_path)

    g = nx.read_graphml(graphml)
    with Store(db) as store:
        merged = store.run_graph(run_id)
        assert len(list(store.item_results(run_id))) == 6
    assert g.number_of_nodes() == merged.number_of_nodes() > 0
    assert g.number_of_edges() == merged.number_of_edges() > 0
    texts = {d.get("text") for _, d in g.nodes(data=True)}
    assert "After selling, 96 - 30 = 56 trees are left." in texts
    assert pg.graphs_equal(pg.read_graphml(graphml), merged)

    page = html.read_text(encoding="utf-8")
    assert "calc-error" in page and run_id in page
    assert "http://" not in page and "https://" not in page


def test_export_graph_as_json(capsys: pytest.CaptureFixture[str], steps_file: Path,
                              tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    code, out, _ = run_main(capsys, "check", steps_file, "--store", db, "--json")
    run_id = json.loads(out)["run_id"]
    target = tmp_path / "g.json"
    assert run_main(capsys, "export", "--store", db, "--run", run_id, "--graph", target)[0] == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["nodes"] and data["edges"]


def test_export_unknown_run_and_missing_store(capsys: pytest.CaptureFixture[str],
                                              steps_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    _, out, _ = run_main(capsys, "check", steps_file, "--store", db, "--json")
    run_id = json.loads(out)["run_id"]
    code, out, err = run_main(capsys, "export", "--store", db, "--run", "nope", "--jsonl",
                              tmp_path / "x.jsonl")
    assert code == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1
    assert "'nope'" in err and run_id in err
    assert not (tmp_path / "x.jsonl").exists()
    for argv in (["runs", "--store", tmp_path / "none.db"],
                 ["export", "--store", tmp_path / "none.db", "--run", run_id, "--jsonl",
                  tmp_path / "x.jsonl"]):
        code, _, err = run_main(capsys, *argv)
        assert code == EXIT_USAGE
        assert err.strip().splitlines() == [f"proofgraph: error: {tmp_path / 'none.db'}: "
                                            "no such store"]
        assert not (tmp_path / "none.db").exists()


def test_two_runs_in_one_store(capsys: pytest.CaptureFixture[str], steps_file: Path,
                               gsm8k_small: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = {json.loads(run_main(capsys, "check", f, "--store", db, "--json")[1])["run_id"]
           for f in (steps_file, gsm8k_small)}
    assert len(ids) == 2
    _, out, _ = run_main(capsys, "runs", "--store", db, "--json")
    runs = {r["run_id"]: r["n_items"] for r in map(json.loads, out.splitlines())}
    assert set(runs) == ids and sorted(runs.values()) == [3, 6]


# --------------------------------------------------------------------------- entail
def test_entail_cli_answers_and_syntax_error(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "fol.jsonl", ENTAIL_ROWS)
    out_path = tmp_path / "out.jsonl"
    code, out, err = run_main(capsys, "entail", src, "--out", out_path, "--json")
    assert code == EXIT_REJECTED
    rows = read_jsonl(out_path)
    assert [r["id"] for r in rows] == [r["id"] for r in ENTAIL_ROWS]
    answers = {r["id"]: r.get("answer") for r in rows if not r.get("error")}
    assert answers == EXPECTED_ANSWERS
    bad = rows[-1]
    assert bad["error"]
    assert bad["error_detail"]["kind"] == "syntax"
    assert bad["error_detail"]["position"] == 13
    assert "formula" in bad["error_detail"]["expected"]
    assert len(err.strip().splitlines()) == 1
    assert f"{src}:6:" in err and "'syn'" in err and "13" in err and "expected" in err
    summary = json.loads(out)
    assert summary["rows"] == 6 and summary["rejected"] == 1
    assert summary["answers"] == {"False": 1, "Inconsistent": 1, "True": 2, "Uncertain": 1}


def test_entail_cli_store_and_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "fol.jsonl", ENTAIL_ROWS[:3])
    db = tmp_path / "e.db"
    code, out, _ = run_main(capsys, "entail", src, "--store", db, "--json")
    assert code == EXIT_OK
    run_id = json.loads(out)["run_id"]
    assert run_id.startswith("entail-")
    _, out, _ = run_main(capsys, "runs", "--store", db, "--json")
    (run,) = map(json.loads, out.splitlines())
    assert (run["run_id"], run["command"], run["n_items"]) == (run_id, "entail", 3)


# --------------------------------------------------------------------------- Python API
def test_api_check_solution() -> None:
    result = proofgraph.check_solution("", ["48/2 = 24", "48 + 24 = 70"])
    assert result["first_error"] == 1
    assert [s["verdict"] for s in result["steps"]] == ["verified", "refuted"]
    assert result["steps"][1]["claims"][0]["evidence"] == {"lhs": "72", "rhs": "70"}
    assert "provenance" in result
    with pytest.raises(ValueError):
        proofgraph.check_solution("", [])


def test_api_check_matches_cli(capsys: pytest.CaptureFixture[str], steps_file: Path,
                               tmp_path: Path) -> None:
    summary, results = proofgraph.check(steps_file, out=tmp_path / "api.jsonl")
    _, out, _ = run_main(capsys, "check", steps_file, "--json")
    cli = json.loads(out)
    for key in ("solutions", "steps", "claims", "verdicts", "first_errors", "rejected",
                "run_id"):
        assert summary[key] == cli[key], key
    assert [r["first_error"] for r in results] == [EXPECTED_FIRST_ERROR[r["id"]]
                                                   for r in STEPS_ROWS]
    assert len(read_jsonl(tmp_path / "api.jsonl")) == 6


def test_api_entail_and_entail_file(tmp_path: Path) -> None:
    assert proofgraph.entail(["∀x (Cat(x) → Animal(x))", "Cat(tom)"], "Animal(tom)")[
        "answer"] == "True"
    assert proofgraph.entail(["Cat(tom)"], "¬Cat(tom)")["answer"] == "False"
    with pytest.raises(ValueError):
        proofgraph.entail(["∀x (Cat(x) → )"], "Dog(tom)")
    src = write_jsonl(tmp_path / "fol.jsonl", ENTAIL_ROWS)
    summary, results = proofgraph.entail_file(src)
    assert summary["rows"] == 6 and summary["rejected"] == 1
    assert {r["id"]: r.get("answer") for r in results if not r.get("error")} == EXPECTED_ANSWERS


def test_progress_goes_to_stderr_only(capsys: pytest.CaptureFixture[str], steps_file: Path
                                      ) -> None:
    code, out, err = run_main(capsys, "check", steps_file, "--json", "--progress")
    assert code == EXIT_OK
    assert json.loads(out)["solutions"] == 6
    assert "check: 6/6" in err


def test_example_command_prints_an_existing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "example")
    assert code == EXIT_OK
    path = Path(out.strip())
    assert path.is_file() and path.suffix == ".jsonl"
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert "question" in first and "answer" in first
