"""Bad input through the real CLI (``python -m proofgraph.cli`` in a subprocess).

Contract: exit 0 ok, 2 usage / unusable input file, 3 some rows rejected; never a Python
traceback, one clear line on stderr per problem; bad rows never stop the other rows; oversized
arithmetic is ``unknown`` with reason ``too-large`` and returns quickly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import proofgraph

CLI_TIMEOUT_S = 60  # generous: only "it finishes", never a tight timing
GOOD = {"id": "good", "problem": "", "steps": ["2 + 2 = 4", "3 * 3 = 10"]}
NOT_VERIFIED = {"refuted", "unknown", None}


def cli(tmp_path: Path, *args: object, timeout: float = CLI_TIMEOUT_S
        ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "proofgraph.cli", *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=timeout, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def write_lines(path: Path, rows: list[dict | str | bytes]) -> Path:
    with path.open("wb") as handle:
        for row in rows:
            if isinstance(row, dict):
                row = json.dumps(row, ensure_ascii=False)
            if isinstance(row, str):
                row = row.encode("utf-8")
            handle.write(row + b"\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def check_rows(tmp_path: Path, rows: list[dict | str | bytes], *extra: object
               ) -> tuple[subprocess.CompletedProcess[str], list[dict], dict]:
    """Run ``check --out --json`` on ``rows``; return (process, result rows, summary)."""
    src = write_lines(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    proc = cli(tmp_path, "check", src, "--out", out, "--json", *extra)
    summary = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc, read_jsonl(out) if out.exists() else [], summary


def all_claims(row: dict) -> list[dict]:
    return [c for step in row["steps"] for c in step["claims"]]


def assert_good_row(row: dict) -> None:
    assert row["id"] == "good"
    assert row["error"] is None
    assert [s["verdict"] for s in row["steps"]] == ["verified", "refuted"]
    assert row["first_error"] == 1


# --------------------------------------------------------------------------- malformed JSON
def test_malformed_json_lines_reported_with_line_numbers(tmp_path: Path) -> None:
    rows: list[dict | str | bytes] = [
        {"id": "a", "problem": "", "steps": ["1 + 1 = 2"]},
        "",
        'NOTJSON {"id": 3',
        GOOD,
        '{"id": "cut", "problem": "", "steps": ["1 + ',
        {"id": "z", "problem": "", "steps": ["5 - 5 = 0"]},
    ]
    proc, out, summary = check_rows(tmp_path, rows)
    assert proc.returncode == 3
    src = tmp_path / "in.jsonl"
    errs = stderr_lines(proc)
    assert len(errs) == 2, errs
    assert errs[0].startswith(f"{src}:3: malformed JSON")
    assert errs[1].startswith(f"{src}:5: malformed JSON")
    assert [r["key"] for r in out] == ["0", "2", "3", "4", "5"]
    assert [r["id"] for r in out] == ["a", "2", "good", "4", "z"]
    assert out[1]["error"].startswith("malformed JSON") and out[1]["steps"] == []
    assert out[3]["error"].startswith("malformed JSON")
    assert_good_row(out[2])
    assert out[4]["steps"][0]["verdict"] == "verified"
    assert (summary["solutions"], summary["rejected"]) == (3, 2)


def test_json_lines_that_are_not_objects(tmp_path: Path) -> None:
    lines = ["[1, 2, 3]", '"a string"', "42", "null", "true"]
    proc, out, summary = check_rows(tmp_path, [GOOD, *lines])
    assert proc.returncode == 3
    src = tmp_path / "in.jsonl"
    assert stderr_lines(proc) == [f"{src}:{n}: expected a JSON object per line"
                                  for n in range(2, 2 + len(lines))]
    assert_good_row(out[0])
    assert [r["error"] for r in out[1:]] == ["expected a JSON object per line"] * len(lines)
    assert (summary["solutions"], summary["rejected"]) == (1, len(lines))


@pytest.mark.parametrize("first", ['NOTJSON {"id": 1', "[1, 2, 3]"], ids=["not-json", "array"])
def test_bad_first_line_of_a_jsonl_file_is_still_a_bad_row(tmp_path: Path, first: str) -> None:
    """A .jsonl file whose FIRST line is broken must not silently become a text solution."""
    proc, out, summary = check_rows(tmp_path, [first, GOOD])
    assert proc.returncode == 3, proc.stdout
    (err,) = stderr_lines(proc)
    assert err.startswith(f"{tmp_path / 'in.jsonl'}:1: ")
    assert [r["key"] for r in out] == ["0", "1"]
    assert out[0]["error"]
    assert_good_row(out[1])
    assert (summary["solutions"], summary["rejected"]) == (1, 1)


def test_json_nested_too_deeply_is_a_rejected_row(tmp_path: Path) -> None:
    deep = '{"id": "deep", "problem": "", "steps": ' + "[" * 100_000 + "]" * 100_000 + "}"
    proc, out, summary = check_rows(tmp_path, [deep, GOOD])
    assert proc.returncode == 3
    (err,) = stderr_lines(proc)
    assert err.startswith(f"{tmp_path / 'in.jsonl'}:1: malformed JSON")
    assert "deep" in err
    assert_good_row(out[1])


# --------------------------------------------------------------------------- bad rows
BAD_ROWS = [
    ({"id": "empty", "problem": "", "steps": []}, "'steps' is empty"),
    ({"id": "str", "problem": "", "steps": "2 + 2 = 4"}, "'steps' must be a list"),
    ({"id": "int", "problem": "", "steps": ["2 + 2 = 4", 7]}, "steps[1] must be a string"),
    ({"id": "prob", "problem": 5, "steps": ["2 + 2 = 4"]}, "'problem' must be a string"),
    ({"id": "gsm", "question": "q", "answer": "#### 4"}, "no steps before '####'"),
    ({"id": "gsm-blank", "question": "q", "answer": "\n  \n#### 4"}, "no steps before '####'"),
    ({"id": "layout", "text": "no layout"}, "cannot tell the layout"),
]


def test_bad_rows_are_rejected_and_the_rest_runs(tmp_path: Path) -> None:
    rows: list[dict | str | bytes] = [GOOD]
    for row, _ in BAD_ROWS:
        rows += [row, GOOD]
    proc, out, summary = check_rows(tmp_path, rows)
    assert proc.returncode == 3
    errs = stderr_lines(proc)
    assert len(errs) == len(BAD_ROWS)
    src = tmp_path / "in.jsonl"
    assert len(out) == len(rows)
    for i, (row, message) in enumerate(BAD_ROWS):
        line0 = 1 + 2 * i
        assert errs[i].startswith(f"{src}:{line0 + 1}: "), errs[i]
        assert message in errs[i]
        result = out[line0]
        assert (result["key"], result["id"]) == (str(line0), row["id"])
        assert message in result["error"]
        assert result["steps"] == [] and result["first_error"] is None
        assert_good_row(out[line0 + 1])
    assert_good_row(out[0])
    assert (summary["solutions"], summary["rejected"]) == (len(BAD_ROWS) + 1, len(BAD_ROWS))


def test_empty_steps_list_in_python_api_raises() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        proofgraph.check_solution("p", [])


# --------------------------------------------------------------------------- encodings
def test_non_utf8_jsonl_lines_are_rejected_rows(tmp_path: Path) -> None:
    raws = [b"\xff\xfe", b"caf\xe9", b"\xc3", b"\xed\xa0\x80"]  # last: a UTF-16 surrogate
    rows: list[dict | str | bytes] = [{"id": "a", "problem": "", "steps": ["1 = 1"]}]
    for raw in raws:
        rows += [b'{"id": "bin", "problem": "", "steps": ["2 + 2 = 4 ' + raw + b'"]}', GOOD]
    proc, out, summary = check_rows(tmp_path, rows)
    assert proc.returncode == 3
    errs = stderr_lines(proc)
    assert len(errs) == len(raws)
    for i, raw in enumerate(raws):
        first_bad = next(b for b in raw if b >= 0x80)
        assert errs[i].startswith(f"{tmp_path / 'in.jsonl'}:{2 + 2 * i}: not valid UTF-8")
        assert f"byte 0x{first_bad:02x}" in errs[i]
        assert "UTF-8" in out[1 + 2 * i]["error"]
        assert_good_row(out[2 + 2 * i])
    assert [r["key"] for r in out] == [str(i) for i in range(len(rows))]
    assert summary["rejected"] == len(raws)


@pytest.mark.parametrize(("name", "fmt"), [("sol.txt", None), ("sol.dat", "text")])
def test_non_utf8_text_file_is_refused(tmp_path: Path, name: str, fmt: str | None) -> None:
    src = tmp_path / name
    src.write_bytes(b"2 + 2 = 4\n\xff\xfe 3 = 3\n")
    extra = ["--format", fmt] if fmt else []
    out = tmp_path / "out.jsonl"
    proc = cli(tmp_path, "check", src, "--out", out, *extra)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ")
    assert str(src) in err and "UTF-8" in err
    assert not out.exists() or read_jsonl(out) == []


def test_empty_text_file_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "blank.txt"
    src.write_text("\n   \n\n", encoding="utf-8")
    proc = cli(tmp_path, "check", src)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert str(src) in err and "no steps" in err


# --------------------------------------------------------------------------- too large
MILLION = 10**6


HUGE_STEPS = {
    "million-digit-prose": f"{'1' * MILLION} + 1 = {'1' * (MILLION - 1)}2",
    "million-digit-annotation": f"She has <<{'9' * MILLION}*2=5>> apples.",
    "million-digit-decimal": "0." + "0" * MILLION + "1 + 1 = 1",
    "tower-caret": "10^10^10 = 10^10^10",
    "tower-stars": "So 10**10**10 + 1 = 7 apples.",
    "power-of-big-exponent": "2^(10^10) = 4",
    "big-base-big-exponent": "(10^10)^(10^10) = 1",
    "negative-tower": "10^-10^10 = 0",
    "tower-annotation": "It is <<10^10^10=5>>5.",
}


def test_huge_numbers_are_unknown_too_large(tmp_path: Path) -> None:
    rows: list[dict | str | bytes] = [{"id": name, "problem": "", "steps": [step]}
                                      for name, step in HUGE_STEPS.items()]
    proc, out, summary = check_rows(tmp_path, [*rows, GOOD])  # bounded by CLI_TIMEOUT_S
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in out] == [*HUGE_STEPS, "good"]
    wrong = {}
    n_claims = 0
    for row in out[:-1]:
        claims = [(c["verdict"], c["reason"]) for c in all_claims(row)]
        n_claims += len(claims)
        if (not claims or set(claims) != {("unknown", "too-large")}
                or row["steps"][0]["verdict"] != "unknown" or row["first_error"] is not None):
            wrong[row["id"]] = claims
    assert wrong == {}
    assert_good_row(out[-1])
    assert summary["verdicts"]["unknown: too-large"] == n_claims


def test_scientific_notation_with_a_million_digit_value_is_too_large(tmp_path: Path) -> None:
    # 1e1000000 has 1,000,001 digits: must be unknown/too-large, not read as "1 = 1"
    proc, out, _ = check_rows(tmp_path, [{"id": "sci", "problem": "",
                                          "steps": ["1e1000000 = 1e1000000"]}])
    assert proc.returncode == 0
    claims = all_claims(out[0])
    assert claims
    assert [(c["verdict"], c["reason"]) for c in claims] == [("unknown", "too-large")], claims


def test_scientific_notation_is_not_misread(tmp_path: Path) -> None:
    # a correct step must never be refuted because the exponent was dropped ("2 = 2000")
    steps = ["2e3 = 2000", "1.5e2 = 150", "1E3 = 1000"]
    rows: list[dict | str | bytes] = [{"id": s, "problem": "", "steps": [s]} for s in steps]
    proc, out, _ = check_rows(tmp_path, rows)
    assert proc.returncode == 0
    refuted = {r["id"]: [c["formal"] for c in all_claims(r)] for r in out
               if r["first_error"] is not None}
    assert refuted == {}


NESTED_STEPS = {
    "balanced-prose": "(" * 10_000 + "1" + ")" * 10_000 + " = 1",
    "balanced-annotation": "<<" + "(" * 10_000 + "1" + ")" * 10_000 + "=1>>",
    "unbalanced": "(" * 10_000 + "1 = 1",
    "definition": "x = " + "(" * 10_000 + "2" + ")" * 10_000,
}


def test_ten_thousand_nested_parentheses(tmp_path: Path) -> None:
    rows: list[dict | str | bytes] = [{"id": name, "problem": "", "steps": [step]}
                                      for name, step in NESTED_STEPS.items()]
    proc, out, _ = check_rows(tmp_path, [*rows, GOOD])
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in out] == [*NESTED_STEPS, "good"]
    for row in out[:-1]:
        verdicts = [c["verdict"] for c in all_claims(row)]
        assert verdicts and set(verdicts) == {"unknown"}, (row["id"], verdicts)
        assert row["first_error"] is None
    assert_good_row(out[-1])


MEGABYTE_STEPS = {
    "expression": "1 + " * (1 << 18) + "1 = 5",
    "many-claims": "12 * 8 = 96. " * 80_000,
    "word": "a" * (1 << 20),
    "number": "7" * (1 << 20),
}


def test_one_megabyte_steps(tmp_path: Path) -> None:
    assert all(len(step) >= 1_000_000 for step in MEGABYTE_STEPS.values())
    rows: list[dict | str | bytes] = [{"id": name, "problem": "", "steps": [step]}
                                      for name, step in MEGABYTE_STEPS.items()]
    proc, out, _ = check_rows(tmp_path, [*rows, GOOD])  # bounded by CLI_TIMEOUT_S
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in out] == [*MEGABYTE_STEPS, "good"]
    for row in out[:-1]:
        assert row["error"] is None and row["first_error"] is None
        verdicts = [(c["verdict"], c["reason"]) for c in all_claims(row) if c["verdict"]]
        assert verdicts == [("unknown", "too-large")], (row["id"], verdicts)
    assert_good_row(out[-1])


# --------------------------------------------------------------------------- NaN / Infinity
def test_nan_and_infinity_in_json_reject_the_row(tmp_path: Path) -> None:
    constants = ["NaN", "Infinity", "-Infinity"]
    rows: list[dict | str | bytes] = []
    for constant in constants:
        rows += ['{"id": "n1", "problem": "", "steps": ["1 + 1 = 2"], "score": ' + constant + "}",
                 '{"id": "n2", "problem": "", "steps": [' + constant + "]}"]
    proc, out, summary = check_rows(tmp_path, [*rows, GOOD])
    assert proc.returncode == 3
    errs = stderr_lines(proc)
    assert len(errs) == len(rows)
    for number, err in enumerate(errs, start=1):
        constant = constants[(number - 1) // 2].lstrip("-")
        assert err.startswith(f"{tmp_path / 'in.jsonl'}:{number}: "), err
        assert constant in err and "not allowed" in err
    assert [bool(r["error"]) for r in out] == [True] * len(rows) + [False]
    assert all(r["steps"] == [] for r in out[:-1])
    assert_good_row(out[-1])
    assert (summary["solutions"], summary["rejected"]) == (1, len(rows))


def test_nan_and_inf_words_are_never_verified(tmp_path: Path) -> None:
    steps = ["nan = nan", "inf = inf", "inf + 1 = inf", "NaN + 1 = NaN", "x = nan", "x = x",
             "infinity - infinity = 0", "1/0 = inf", "0/0 = nan", "Infinity = Infinity",
             "float('nan') = float('nan')", "math.inf = math.inf", "-inf < inf",
             "The answer is NaN = NaN.", "Let inf = 5.", "inf + 1 = 6"]
    proc, out, summary = check_rows(tmp_path, [{"id": "nan", "problem": "", "steps": steps},
                                               GOOD])
    assert proc.returncode == 0
    row = out[0]
    assert row["error"] is None and len(row["steps"]) == len(steps)
    verdicts = [c["verdict"] for c in all_claims(row)]
    assert all(v in NOT_VERIFIED for v in verdicts), list(zip(steps, verdicts, strict=False))
    assert all(s["verdict"] not in ("verified", "verified_approx") for s in row["steps"])
    assert_good_row(out[1])


# --------------------------------------------------------------------------- files and usage
@pytest.mark.parametrize("command", ["check", "entail"])
def test_missing_input_file(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nope.jsonl"
    proc = cli(tmp_path, command, missing, "--out", tmp_path / "o.jsonl",
               "--store", tmp_path / "s.db")
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ")
    assert "nope.jsonl" in err
    assert proc.stdout == ""


def test_input_is_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    proc = cli(tmp_path, "check", folder)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ") and "folder.jsonl" in err


def test_unknown_format(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    out = tmp_path / "o.jsonl"
    proc = cli(tmp_path, "check", src, "--format", "xml", "--out", out)
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in stderr_lines(proc)[-1]
    assert "--format" in stderr_lines(proc)[-1]
    assert not out.exists()
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        proofgraph.check(src, fmt="xml")


@pytest.mark.parametrize("args", [["--limit", "0"], ["--timeout-ms", "-5"],
                                  ["--rlimit", "lots"]])
def test_bad_numeric_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    proc = cli(tmp_path, "check", src, *args)
    assert proc.returncode == 2
    assert args[0] in stderr_lines(proc)[-1]


def test_empty_input_file_is_not_an_error(tmp_path: Path) -> None:
    proc, out, summary = check_rows(tmp_path, [])
    assert proc.returncode == 0
    assert out == []
    assert (summary["solutions"], summary["steps"], summary["rejected"]) == (0, 0, 0)


# --------------------------------------------------------------------------- output / store paths
def test_out_file_with_a_non_object_json_line(tmp_path: Path) -> None:
    """An --out file holding e.g. ``42`` is not this run's output: refuse with one line."""
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    out = tmp_path / "out.jsonl"
    out.write_text("42\n", encoding="utf-8")
    proc = cli(tmp_path, "check", src, "--out", out)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ") and "out.jsonl" in err
    assert out.read_text(encoding="utf-8") == "42\n"


def test_out_file_with_unrelated_content_is_not_destroyed(tmp_path: Path) -> None:
    """A complete, non-JSON line cannot be a torn line of ours: it is someone else's file."""
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    out = tmp_path / "notes.txt"
    out.write_text("my notes\nsecond line\n", encoding="utf-8")
    proc = cli(tmp_path, "check", src, "--out", out)
    assert proc.returncode == 2
    assert out.read_text(encoding="utf-8") == "my notes\nsecond line\n"


@pytest.mark.parametrize("command", [["check", "IN"], ["runs"]], ids=["check", "runs"])
def test_store_that_is_not_a_database(tmp_path: Path, command: list[str]) -> None:
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    db = tmp_path / "not-a.db"
    db.write_text("hello, I am a text file\n", encoding="utf-8")
    argv = [src if a == "IN" else a for a in command]
    proc = cli(tmp_path, *argv, "--store", db)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ") and "not-a.db" in err
    assert db.read_text(encoding="utf-8") == "hello, I am a text file\n"


def test_store_that_is_a_directory(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", [GOOD])
    folder = tmp_path / "store.db"
    folder.mkdir()
    proc = cli(tmp_path, "check", src, "--store", folder)
    assert proc.returncode == 2
    (err,) = stderr_lines(proc)
    assert err.startswith("proofgraph: error: ") and "store.db" in err


# --------------------------------------------------------------------------- entail
def test_entail_bad_rows(tmp_path: Path) -> None:
    rows: list[dict | str | bytes] = [
        {"id": "ok", "premises": ["∀x (P(x) → Q(x))", "P(a)"], "conclusion": "Q(a)"},
        "{broken",
        '{"id": "nan", "premises": [], "conclusion": "P(a)", "w": NaN}',
        {"id": "syn", "premises": ["P(a)"], "conclusion": "P(a) ∧ ∧ Q(a)"},
        {"id": 7, "premises": "P(a)", "conclusion": "P(a)"},
        b'{"id": "bin", "premises": ["P(\xff)"], "conclusion": "P(a)"}',
        {"id": "ok2", "premises": ["P(a) ⊕ Q(a)", "P(a)"], "conclusion": "¬Q(a)"},
    ]
    src = write_lines(tmp_path / "fol.jsonl", rows)
    out = tmp_path / "out.jsonl"
    proc = cli(tmp_path, "entail", src, "--out", out, "--json")
    assert proc.returncode == 3
    errs = stderr_lines(proc)
    assert [e.split(": ", 1)[0] for e in errs] == [f"{src}:{n}" for n in (2, 3, 4, 5, 6)]
    assert "malformed JSON" in errs[0]
    assert "NaN" in errs[1]
    syntax = errs[2]
    assert "'syn'" in syntax and "expected" in syntax
    results = read_jsonl(out)
    assert [r.get("answer") for r in results] == ["True", None, None, None, None, None, "True"]
    detail = results[3]["error_detail"]
    assert detail["kind"] == "syntax"
    assert isinstance(detail["position"], int) and detail["position"] > 0
    assert str(detail["position"]) in syntax
    assert detail["expected"]
    summary = json.loads(proc.stdout)
    assert (summary["rows"], summary["rejected"]) == (7, 5)
