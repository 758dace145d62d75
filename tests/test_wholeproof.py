"""Whole-proof mode (``eval --mode whole``): the extractor, the prompt format files, and runs on
our Z3 theorem rows (tests/data/z3_theorems.jsonl) with (a) a deterministic policy whose
proofs are the rows' known-good scripts, wrong on the first try for one row so the repair
round is exercised, and (b) a real tiny transformers model (random weights: it writes no
proof, and every attempt and round must still be recorded).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from proofgraph.cli import main
from prover.policy import registry
from prover.wholeproof.extract import extract_block, extract_continuation, script_lines
from prover.wholeproof.prompts import (
    FORMATS_DIR,
    fill,
    initial_turns,
    load_format,
    render,
    row_values,
)

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
ROWS = {json.loads(line)["id"]: json.loads(line) for line in DATA.read_text().splitlines()
        if line.strip()}
IDS = ("gauss_sum", "sq_mod3", "abs_nonneg")


def _bench(tmp: Path, ids: Sequence[str] = IDS) -> Path:
    path = tmp / "bench.jsonl"
    path.write_text("".join(json.dumps(ROWS[i]) + "\n" for i in ids))
    return path


# --------------------------------------------------------------------------- extraction
def test_the_last_lean4_block_is_the_proof() -> None:
    answer = ("Plan: use omega.\n```lean4\ntheorem t : 1 = 1 := by\n  sorry\n```\nNow the proof:"
              "\n```lean4\ntheorem t : 1 = 1 := by\n  rfl\n```\nDone.")
    got = extract_block(answer)
    assert got.proof == "theorem t : 1 = 1 := by\n  rfl" and got.failure is None
    assert "blocks=2" in got.notes


def test_unterminated_block_and_think_tags() -> None:
    cut = extract_block("reasoning\n```lean4\ntheorem t : 1 = 1 := by\n  rf")
    assert cut.proof == "theorem t : 1 = 1 := by\n  rf" and "unterminated-block" in cut.notes
    thought = extract_block("<think>\n```lean4\ndraft\n```\n</think>\n```lean4\nfinal\n```")
    assert thought.proof == "final"
    other = extract_block("```python\nprint(1)\n```\n```lean\nexact h\n```")
    assert other.proof == "exact h"


@pytest.mark.parametrize(("answer", "failure"), [
    ("no code at all", "no-code-block"), ("```lean4\n\n```", "empty-code-block"),
    ("inline ```lean4 x``` only", "no-code-block"), ("", "no-code-block"),
    ("```python\nx = 1\n```", "no-code-block"),
])
def test_no_usable_block_is_a_typed_failure(answer: str, failure: str) -> None:
    got = extract_block(answer)
    assert got.proof is None and got.failure == failure
    assert got.to_dict()["ok"] is False


def test_continuation_and_z3_scripts() -> None:
    got = extract_continuation("theorem t : 1 = 1 := by\n", "  rfl\n```\n\nextra text")
    assert got.proof == "theorem t : 1 = 1 := by\n  rfl" and not got.notes
    assert extract_continuation("x := by\n", "   \n```").failure == "empty-proof"
    assert script_lines("; comment\ninduction n\n\n  z3  \n-- note\nz3\n") == \
        ["induction n", "z3", "z3"]


# --------------------------------------------------------------------------- formats
def test_every_format_file_loads_with_its_hash_and_renders() -> None:
    names = sorted(p.stem for p in FORMATS_DIR.glob("*.prompt"))
    assert {"deepseek-prover-v1.5", "deepseek-prover-v1.5-cot", "deepseek-prover-v2",
            "deepseek-prover-v2-cot", "goedel-prover-v2", "kimina-prover",
            "z3-script"} <= set(names)
    lean = {"id": "t", "statement": "theorem t {n : ℕ} (h : 0 < n) : n ≠ 0 := by sorry",
            "header": "import Mathlib"}
    hashes = set()
    for name in names:
        fmt = load_format(name)
        hashes.add(fmt.sha256)
        row = ROWS["gauss_sum"] if fmt.family == "z3" else lean
        values = row_values(row, fmt)
        text, how = render(initial_turns(fmt, values), fmt, None)
        assert "{code}" not in text and "{goal}" not in text
        if fmt.family == "lean":
            assert "theorem t {n : ℕ} (h : 0 < n) : n ≠ 0 := by" in text  # braces kept
            assert "import Mathlib" in text and text.count("sorry") <= 1
            assert how == ("completion" if fmt.style == "completion" else "plain-chat")
            assert fmt.cot == name.endswith(("-cot", "goedel-prover-v2", "kimina-prover"))
        else:
            assert ROWS["gauss_sum"]["goal"] in text and "induction" not in json.dumps(
                values)  # the row's own proof never reaches the prompt
    assert len(hashes) == len(names)
    assert fill("{errors} {x} {proof}", {"errors": "{proof}", "proof": "P"}) == "{proof} {x} P"


# --------------------------------------------------------------------------- Z3, scripted
class ScriptedZ3:
    """A deterministic policy: the row's known-good script, except that the first answer for
    gauss_sum stops one tactic short (goals remain); a prompt carrying that error gets the good
    script. Records every prompt and call size."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.calls: list[int] = []

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        self.calls.append(len(texts) * n)
        out = []
        for text in texts:
            self.prompts.append(text)
            row = next(r for r in ROWS.values() if r["goal"] in text and r["smt2"] in text)
            script = row["proof"]
            if row["id"] == "gauss_sum" and "goals remain" not in text:
                script = script[:-1]
            out.append([("Here is the proof.\n```z3\n" + "\n".join(script) + "\n```\n", -1.0)]
                       * n)
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted-z3"}


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedZ3:
    policy = ScriptedZ3()
    monkeypatch.setitem(registry.POLICIES, "scripted", lambda *args: policy)
    return policy


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["eval", str(_bench(tmp_path)), "--mode", "whole", "--out",
                 str(tmp_path / "run"), "--json", "--no-progress", "--tactic-timeout", "3",
                 *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_z3_known_good_scripts_are_verified_and_repaired(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], scripted: ScriptedZ3) -> None:
    summary = _run(tmp_path, capsys, "--policy", "scripted", "--attempts", "2",
                   "--concurrency", "3", "--repair-rounds", "1")
    assert summary["mode"] == "whole" and summary["solved"] == 3
    assert summary["pass_at_k"] == {"1": 1.0, "2": 1.0}
    assert summary["solved_after_repair"] == 2  # gauss_sum, both attempts
    # round 1: all 6 attempts in ONE call; round 2: the two gauss_sum repairs in one call
    assert summary["batching"]["model_calls"] == 2 and summary["batching"]["rows"] == 8
    assert scripted.calls == [6, 2]  # sample(3 distinct prompts, n=2), then (1 prompt, n=2)
    repairs = [p for p in scripted.prompts if "does not prove the theorem" in p]
    assert repairs and all("goals remain after the last tactic" in p for p in repairs)
    attempts = [json.loads(x) for x in (tmp_path / "run" / "attempts.jsonl").read_text()
                .splitlines()]
    assert sorted((a["theorem"], a["attempt"]) for a in attempts) == sorted(
        (i, a) for i in IDS for a in (0, 1))
    for a in attempts:
        assert a["verdict"] == "verified" and a["proof"] == ROWS[a["theorem"]]["proof"]
        assert len(a["rounds"]) == (2 if a["theorem"] == "gauss_sum" else 1)
        assert a["rounds"][0]["extract"]["ok"] is True
        assert a["provenance"]["policy"]["prompt_sha256"] == load_format("z3-script").sha256
    gauss = next(a for a in attempts if a["theorem"] == "gauss_sum")
    assert gauss["rounds"][0]["verdict"] == "refuted"
    assert "goals remain" in gauss["rounds"][0]["errors"]
    # every attempt's graph is in the store: statement -> round 1 -> repair
    with sqlite3.connect(tmp_path / "run" / "eval.sqlite") as db:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
        assert "edges" in tables
        kinds = [json.loads(r[0]).get("kind") for r in db.execute("select attrs_json from edges")
                 if "kind" in r[0]]
    assert kinds.count("repair") >= 1 and kinds.count("whole-proof") >= 3
    # a rerun resumes: nothing redone, same figures
    again = _run(tmp_path, capsys, "--policy", "scripted", "--attempts", "2",
                 "--repair-rounds", "1")
    assert again["attempts_this_session"] == 0 and again["pass_at_k"] == summary["pass_at_k"]


def test_without_repair_the_first_wrong_script_stays_refuted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], scripted: ScriptedZ3) -> None:
    summary = _run(tmp_path, capsys, "--policy", "scripted")
    assert summary["solved"] == 2 and summary["pass_at_k"]["1"] == pytest.approx(2 / 3)
    rows = [json.loads(x) for x in (tmp_path / "run" / "results.jsonl").read_text()
            .splitlines()]
    gauss = next(r for r in rows if r["id"] == "gauss_sum")
    assert gauss["solved"] is False and gauss["attempt_rows"][0]["verdict"] == "refuted"


def test_symbolic_policy_cannot_write_whole_proofs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", str(_bench(tmp_path)), "--mode", "whole", "--out",
                 str(tmp_path / "run"), "--no-progress"])
    assert code != 0 and "whole proofs" in capsys.readouterr().err
    assert main(["eval", str(_bench(tmp_path)), "--repair-rounds", "2", "--out",
                 str(tmp_path / "r2"), "--no-progress"]) != 0


# --------------------------------------------------------------------------- a real tiny model
def test_tiny_llama_runs_end_to_end_and_records_every_attempt(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from policy_fixtures import build_tiny_llama, require

    require("transformers", "the hf policy needs transformers")
    require("torch", "the hf policy needs torch")
    model = build_tiny_llama(tmp_path / "tiny")
    summary = _run(tmp_path, capsys, "--policy", f"hf:{model}", "--attempts", "2",
                   "--concurrency", "3", "--repair-rounds", "1", "--max-new-tokens", "6",
                   "--temperature", "1.0")
    assert summary["attempts_done"] == 6 and summary["solved"] == 0
    assert summary["batching"]["model_calls"] == 2  # round 1 and the repair round
    assert summary["batching"]["rows"] == 12 and summary["batching"]["deterministic"] is True
    attempts = [json.loads(x) for x in (tmp_path / "run" / "attempts.jsonl").read_text()
                .splitlines()]
    assert len(attempts) == 6
    for a in attempts:
        assert [r["round"] for r in a["rounds"]] == [1, 2]
        assert a["rounds"][0]["extract"] == {"ok": False, "failure": "no-code-block"}
        assert a["verdict"] == "unknown" and a["stop_reason"] == "repair-rounds-exhausted"
        assert a["rounds"][0]["prompt_sha256"] != a["rounds"][1]["prompt_sha256"]
    # per-row seeds: the same attempt's completion does not depend on K
    first = {(a["theorem"], a["attempt"]): a["rounds"][0]["completion"] for a in attempts}
    (tmp_path / "run").rename(tmp_path / "k3")
    _run(tmp_path, capsys, "--policy", f"hf:{model}", "--attempts", "2", "--concurrency",
         "1", "--repair-rounds", "1", "--max-new-tokens", "6", "--temperature", "1.0")
    again = [json.loads(x) for x in (tmp_path / "run" / "attempts.jsonl").read_text()
             .splitlines()]
    assert {(a["theorem"], a["attempt"]): a["rounds"][0]["completion"] for a in again} == first
