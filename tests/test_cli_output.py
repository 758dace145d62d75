"""What a user sees: ``--version``, the version in provenance, the human run tables and the
list of what failed, colour only on a terminal, the runs table, export without an output,
and Python's int-digit-limit message never shown."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import proofgraph
from proofgraph.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, fail, main
from proofgraph.render import clean_message, failures, render_run, runs_table, use_color
from prover.records.verdicts import Provenance, package_version

ANSI = re.compile(r"\033\[")
STEPS = [
    {"id": "calc-error", "problem": "12 rows of 8 trees, 30 sold.",
     "steps": ["There are 12 * 8 = 96 trees.", "After selling, 96 - 30 = 56 trees are left."]},
    {"id": "fine", "problem": "p", "steps": ["2 + 2 = 4"]},
]
THEOREMS = [
    {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))", "goal": "(> (* x x) 4)"},
    {"id": "open", "smt2": "(declare-const x Int)", "goal": "(> (* x x) 4)"},
]
DIGITS_HINT = "set_int_max_str_digits"


def write(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --------------------------------------------------------------------------- version
def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"proofgraph {proofgraph.__version__} ")
    assert proofgraph.__version__ == package_version() != "unknown"


def test_version_of_the_console_script() -> None:
    proc = subprocess.run([sys.executable, "-m", "proofgraph.cli", "--version"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("proofgraph ")


def test_every_provenance_record_has_the_version(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    record = Provenance(run_id="r", backend="b", backend_version="1", limits={},
                        formalizer="f", formalizer_version="1", wall_time_s=0.0)
    assert record.to_dict()["proofgraph_version"] == proofgraph.__version__
    out = tmp_path / "o.jsonl"
    assert run(capsys, "check", write(tmp_path / "s.jsonl", STEPS), "--out", out)[0] == EXIT_OK
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(r["provenance"]["proofgraph_version"] == proofgraph.__version__ for r in rows)
    pout = tmp_path / "p.jsonl"
    run(capsys, "prove", write(tmp_path / "t.jsonl", THEOREMS[:1]), "--out", pout,
        "--max-expansions", "20")
    (row,) = [json.loads(line) for line in pout.read_text(encoding="utf-8").splitlines()]
    assert row["provenance"]["proofgraph_version"] == proofgraph.__version__


# --------------------------------------------------------------------------- human output
def test_check_human_output_is_a_table_and_lists_what_failed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = write(tmp_path / "s.jsonl", [*STEPS, "not json"])
    code, out, _ = run(capsys, "check", src)
    assert code == EXIT_REJECTED
    assert "{" not in out and "'" not in out  # no dict repr
    assert re.search(r"^  solutions +2$", out, re.M)
    assert re.search(r"^  verdicts +.*refuted 1", out, re.M)
    failed = out.split("what failed (2 of 3):", 1)[1]
    assert "calc-error (line 1): first error at step 1" in failed
    assert "refuted 96 - 30 = 56" in failed and "left side = 66, right side = 56" in failed
    assert "(line 3): rejected: malformed JSON" in failed
    assert "fine" not in failed
    assert not ANSI.search(out)  # captured stdout is no terminal


def test_prove_human_output_lists_unproved_theorems(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    src = write(tmp_path / "t.jsonl", THEOREMS)
    code, out, _ = run(capsys, "prove", src, "--max-expansions", "20", "--wall-timeout", "20")
    assert code == EXIT_OK
    assert re.search(r"^  theorems +2$", out, re.M)
    failed = out.split("what failed", 1)[1]
    assert "open (line 2):" in failed and "sq" not in failed
    assert "unknown" in failed or "refuted" in failed


def test_entail_human_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = write(tmp_path / "e.jsonl", [
        {"id": "t", "premises": ["Cat(tom)"], "conclusion": "Cat(tom)"},
        {"id": "inc", "premises": ["Cat(tom)", "¬Cat(tom)"], "conclusion": "Dog(tom)"}])
    code, out, _ = run(capsys, "entail", src)
    assert code == EXIT_OK
    assert re.search(r"^  answers +Inconsistent 1 · True 1$", out, re.M)
    assert "inc (line 2): Inconsistent" in out


def test_failure_list_is_capped_with_a_pointer() -> None:
    rows = [{"id": str(i), "line": i, "error": "bad"} for i in range(50)]
    text = render_run("check", {"run_id": "check-x", "rejected": 50}, rows, limit=5)
    assert text.count("rejected: bad") == 5
    assert "… and 45 more" in text and "proofgraph export --store DB --run check-x" in text


def test_render_tolerates_unknown_and_missing_keys() -> None:
    summary = {"run_id": "r", "brand_new": {"a": 1}, "nested": {"x": {"y": 2}}, "flag": True}
    text = render_run("something", summary, [{"weird": object()}])
    assert "brand new" in text and "nested.x" in text and "nothing failed" in text
    assert failures("prove", [{"id": "a"}]) == ["a: not proved — unknown: no verdict"]


def test_colour_only_on_a_terminal_and_never_with_no_color(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color(Tty())
    rows = [{"id": "a", "verdict": "refuted", "evidence": {"model": {"x": "3"}}}]
    coloured = render_run("prove", {"run_id": "r"}, rows, color=True)
    plain = render_run("prove", {"run_id": "r"}, rows, color=False)
    assert ANSI.search(coloured) and not ANSI.search(plain)
    assert re.sub(r"\033\[\d+m", "", coloured) == plain  # colour adds codes, never words
    assert "refuted" in plain and "counter-model x = 3" in plain


# --------------------------------------------------------------------------- runs, export
def test_runs_table_with_counts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    run(capsys, "check", write(tmp_path / "s.jsonl", [*STEPS, "not json"]), "--store", db)
    code, out, _ = run(capsys, "runs", "--store", db)
    assert code == EXIT_OK
    head, row = out.splitlines()
    assert head.split()[:5] == ["RUN", "COMMAND", "STATUS", "ITEMS", "REJECTED"]
    cells = row.split()
    assert cells[1:5] == ["check", "finished", "3", "1"]
    assert cells[5:9] == ["2", "0", "1", "0"]  # verified, approx, refuted, unknown claims
    assert "{" not in out
    assert runs_table([]) == "no runs in this store"


def test_export_without_an_output_is_an_error(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    _, out, _ = run(capsys, "check", write(tmp_path / "s.jsonl", STEPS), "--store", db, "--json")
    run_id = json.loads(out)["run_id"]
    code, out, err = run(capsys, "export", "--store", db, "--run", run_id)
    assert code == EXIT_USAGE and out == ""
    assert err.strip().splitlines() == [
        "proofgraph: error: export needs an output: --jsonl F.jsonl, --graph F.json|F.graphml "
        "and/or --html F.html"]
    code, out, _ = run(capsys, "export", "--store", db, "--run", run_id, "--jsonl",
                       tmp_path / "x.jsonl")
    assert code == EXIT_OK and out.strip() == f"exported 2 rows of run {run_id} to " \
                                              f"{tmp_path / 'x.jsonl'}"


# --------------------------------------------------------------------------- digit limit
def test_python_digit_limit_message_is_never_shown(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    big = "9" * 5000
    src = tmp_path / "e.jsonl"
    src.write_text('{"id": "a", "premises": ["P(a)"], "conclusion": "P(a)", "n": ' + big + "}\n",
                   encoding="utf-8")
    out_path = tmp_path / "o.jsonl"
    code, out, err = run(capsys, "entail", src, "--out", out_path)
    assert code == EXIT_REJECTED
    assert DIGITS_HINT not in err + out + out_path.read_text(encoding="utf-8")
    assert "5000 digits" in err
    row = json.dumps({"id": "a", "smt2": "(declare-const x Int)", "goal": "true", "n": 0})
    code, _, err = run(capsys, "prove", "--row", row.replace("0}", big + "}"))
    assert code == EXIT_USAGE and DIGITS_HINT not in err and "5000 digits" in err
    python_text = ("Exceeds the limit (4300 digits) for integer string conversion: value has "
                   "5000 digits; use sys.set_int_max_str_digits() to increase the limit")
    assert fail(f"x: {python_text}") == EXIT_USAGE
    err = capsys.readouterr().err
    assert DIGITS_HINT not in err and "5000 digits, at most 4300" in err
    assert DIGITS_HINT not in clean_message(python_text)
