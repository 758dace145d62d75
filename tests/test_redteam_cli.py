"""Red-team regressions for the CLI's trust contract.

Each test below failed before its fix, for the defect named in its comment. Contract: a false
theorem is never ``proved``; bad input (a store, an option, an environment variable) is one
``proofgraph: error:`` line with exit code 2, never a Python traceback; a limit never disarms
the safety net.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from proofgraph.cli import EXIT_USAGE, main

TRUE_ROW = {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))", "goal": "(> (* x x) 4)"}
GOOD = {"id": "good", "problem": "", "steps": ["2 + 2 = 4", "3 * 3 = 10"]}


def run_main(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``main(argv)`` as the console script runs it: argparse's SystemExit becomes its code.
    Any other exception escapes and fails the test, as a traceback would."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("proofgraph")]


# --------------------------------------------------------------------------- prove: NUL cheat
# DEFECT smt2-nul-cheat: parse_theorem handed the RAW smt2 text to Z3, whose C API stops at the
# first NUL. A NUL inside a comment (invisible to our S-expression reader) cut the text there,
# so the goal's assert and the probes were never parsed and the LAST hypothesis was taken as
# the goal: `prove` reported `false` (and `x < 0` from `x > 0`) as proved / verified, and
# `synth proofs` emitted them as re-checked proofs.
NUL_ROWS = [
    {"id": "nul-false", "smt2": "(assert true) (assert true) ; \u0000", "goal": "false"},
    {"id": "nul-neg", "smt2": "(declare-const x Int) (assert (> x 0)) (assert (> x 0)) "
                              "(assert (> x 0)) ; \u0000", "goal": "(< x 0)"},
]


@pytest.mark.parametrize("row", NUL_ROWS, ids=[r["id"] for r in NUL_ROWS])
def test_a_nul_in_an_smt2_comment_never_proves_a_false_goal(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, row: dict[str, Any]) -> None:
    from prover.z3.theorem import TheoremError, parse_theorem

    try:
        theorem = parse_theorem(row)
    except TheoremError:
        pass  # refusing the row is fine
    else:  # if it parses, the conclusion must be the goal that was given
        assert str(theorem.conclusion) in ("False", "x < 0"), theorem.conclusion
    code, out, _ = run_main(capsys, "prove", "--row", json.dumps(row), "--json",
                            "--wall-timeout", 10, "--max-expansions", 10,
                            "--out", tmp_path / "out.jsonl")
    (result,) = json.loads(out)["results"]
    assert result["status"] != "proved" and result["verdict"] != "verified", result
    assert code in (0, 3)


# --------------------------------------------------------------------------- corrupt stores
# DEFECT store-corrupt-json: a store whose stored JSON is damaged (items.result_json,
# runs.config_json) or whose meta schema_version is not a number made `runs`, `export`,
# `show` and a resuming `check --store` die with a JSONDecodeError / ValueError traceback
# (exit 1) instead of one `proofgraph: error:` line (exit 2).
@pytest.fixture
def stored_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, str]:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    db = tmp_path / "runs.sqlite"
    code, _, _ = run_main(capsys, "check", src, "--store", db, "--in-process", "--json")
    assert code == 0
    (run_id,) = [r[0] for r in sqlite3.connect(db).execute("SELECT run_id FROM runs")]
    return db, run_id


@pytest.mark.parametrize("damage", [
    "UPDATE items SET result_json='{not json'",
    "UPDATE runs SET config_json='[1'",
    "UPDATE meta SET value='abc' WHERE key='schema_version'",
], ids=["item-result", "run-config", "schema-version"])
def test_a_corrupt_store_is_one_error_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           stored_run: tuple[Path, str], damage: str) -> None:
    db, run_id = stored_run
    with sqlite3.connect(db) as conn:
        conn.execute(damage)
    conn.close()
    for argv in (["export", "--store", db, "--run", run_id, "--jsonl", tmp_path / "x.jsonl"],
                 ["show", run_id, "--store", db, "--html", tmp_path / "x.html"]):
        code, _, err = run_main(capsys, *argv)
        assert code == EXIT_USAGE, (argv[0], err)
        (line,) = error_lines(err)
        assert line.startswith("proofgraph: error: ") and "runs.sqlite" in line


# --------------------------------------------------------------------------- --repl-command
# DEFECT repl-command-quote: `--repl-command` / PROOFGRAPH_LEAN_REPL_CMD went through an
# unguarded shlex.split: an unclosed quote gave a `ValueError: No closing quotation` traceback
# in `doctor` and `audit` (exit 1), and in `prove --backend lean-repl` every row was rejected
# with the bare "No closing quotation" (exit 3) instead of one usage error (exit 2).
def test_an_unsplittable_repl_command_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = tmp_path / "proofs.jsonl"
    rows.write_text(json.dumps({"id": "t", "statement": "theorem t : 1 = 1",
                                "proof": "by rfl"}) + "\n", encoding="utf-8")
    lean_row = json.dumps({"id": "t", "statement": "theorem t : 1 = 1"})
    for argv in (["doctor", "--repl-command", '"unclosed'],
                 ["audit", rows, "--repl-command", '"unclosed', "--out", tmp_path / "a.jsonl"],
                 ["prove", "--backend", "lean-repl", "--row", lean_row,
                  "--repl-command", '"unclosed']):
        code, _, err = run_main(capsys, *argv)
        assert code == EXIT_USAGE, (argv[0], err)
        assert "repl-command" in err, err
    monkeypatch.setenv("PROOFGRAPH_LEAN_REPL_CMD", '"unclosed')
    code, _, err = run_main(capsys, "doctor")
    assert code == EXIT_USAGE and "PROOFGRAPH_LEAN_REPL_CMD" in err, err


# --------------------------------------------------------------------------- search timeouts
# DEFECT nonfinite-timeouts: `prove`/`eval` took `--wall-timeout inf` (or 1e12) without a
# word; it reached select() in the Z3 isolate and overflowed, so EVERY theorem became
# `unknown: backend-error (internal-error:OverflowError)` with exit 0, and `eval` reported
# pass@k = 0.0 for a benchmark it never ran.
@pytest.mark.parametrize("value", ["inf", "1e12"])
def test_an_unusable_wall_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                   value: str) -> None:
    code, out, err = run_main(capsys, "prove", "--row", json.dumps(TRUE_ROW), "--json",
                              "--wall-timeout", value)
    assert code == EXIT_USAGE, out
    (line,) = error_lines(err)
    assert "wall" in line


# --------------------------------------------------------------------------- Z3 watchdog
# DEFECT watchdog-huge-timeout: `--timeout-ms` is only checked to be positive; a value past
# threading.TIMEOUT_MAX (e.g. `entail --timeout-ms 9300000000000`) made the shared z3-watchdog
# thread die with an OverflowError traceback on stderr (one per Z3 call), leaving the calls of
# that process without their hard wall-clock guard.
def test_the_watchdog_thread_survives_a_far_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from prover.z3 import watchdog
    from prover.z3.entail import check_entailment

    crashes: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    result = check_entailment(["∀x (P(x) → Q(x))", "P(a)"], "Q(a)",
                              timeout_ms=9_300_000_000_000)
    assert result.answer == "True"
    time.sleep(0.2)  # the alarm thread reads the deadline after the call registered it
    thread = watchdog._ALARMS._thread
    assert crashes == [] and thread is not None and thread.is_alive(), crashes
