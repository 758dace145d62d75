"""``eval --mode whole --backend lean-repl`` against the stand-in REPL (tests/fake_lean_repl.py in
simulator mode, real pipes, real processes) answering with recorded replies, and the REAL audit:

- ``demo``: the proof is accepted (answers of the cheat corpus's ``plain-tactic`` control);
- ``nested``: round 1's proof has an error (``unsolved goals``, the corpus's
  ``nested-by-unsolved`` answer); the repair prompt carries that error text and the round-2
  proof is accepted (its answers SYNTHETIC, in the same recorded shapes);
- ``exploit_theorem``: native_decide, then a new axiom, then sorry: each refuted by the audit;
- ``ex``: ``by exact ex``, refuted with the REAL v4.20 REPL answer (``self_proof_exact_check``:
  "fail to show termination"), which the repair prompt carries.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fake_lean_repl import DATA_V420, argv, recorded

from proofgraph.cli import main
from prover.policy import registry

CASES = Path(__file__).parent / "data" / "lean-cheats" / "cases.jsonl"
DEMO = "theorem demo (a b : Nat) : a + b = b + a"
NESTED = "theorem nested (a : Nat) (h : a = 1) : a + 1 = 2"
NATIVE = "theorem exploit_theorem : (List.range 100).length = 100"
EX = "theorem ex : False"
NESTED_FIXED = f"{NESTED} := by\n  omega"


def _case(name: str) -> list[list[Any]]:
    for line in CASES.read_text().splitlines():
        case = json.loads(line)
        if case["id"] == name:
            return case["transcript"]
    raise KeyError(name)


def _info(text: str, line: int = 1) -> dict[str, Any]:
    return {"severity": "info", "pos": {"line": line, "column": 0},
            "endPos": {"line": line, "column": 6}, "data": text}


def _simulator(tmp: Path) -> Path:
    """cmd text -> answer; env ids are numbered by the stand-in like the REPL does."""
    match = [[req["cmd"], resp] for req, resp in _case("plain-tactic")]
    match += [[req["cmd"], resp] for req, resp in _case("nested-by-unsolved")]
    real = recorded("self_proof_exact_check", DATA_V420)[0]
    match.append([real[0]["cmd"], real[1]])
    pp = "nested : ∀ (a : Nat), @Eq.{1} Nat a 1 → @Eq.{1} Nat (a + 1) 2"  # SYNTHETIC
    sorry = {"sorries": [{"proofState": 0, "pos": {"line": 1, "column": 52},
                          "goal": "⊢ a + 1 = 2", "endPos": {"line": 1, "column": 57}}],
             "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8},
                           "endPos": {"line": 1, "column": 14},
                           "data": "declaration uses 'sorry'"}], "env": 0}
    match += [[NESTED_FIXED, {"messages": [_info("Goals accomplished!")], "env": 0}],
              ["#print axioms _root_.nested",
               {"messages": [_info("'nested' depends on axioms: [propext]")], "env": 0}],
              [f"{NESTED} := sorry", sorry],
              ["set_option pp.all true in\n#check @_root_.nested",
               {"messages": [_info(pp, 2)], "env": 0}]]
    path = tmp / "sim.json"
    path.write_text(json.dumps({"match": match}, ensure_ascii=False))
    return path


class ScriptedLean:
    """A deterministic chat model: the answer depends on the theorem (first user turn) and
    on the round (how many user turns the conversation has)."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        out = []
        for text in texts:
            self.prompts.append(text)
            round_no = text.count("\n\nUser: ") + text.startswith("User: ")
            out.append([(self.answer(text, round_no), -2.0)] * n)
        return out

    @staticmethod
    def answer(text: str, round_no: int) -> str:
        plan = "Proof plan: we reason step by step.\n```lean4\ntheorem draft : True := by\n  sorry\n```\n"
        if DEMO in text:
            code = f"{DEMO} := by omega"
        elif NESTED in text:
            code = NESTED_FIXED if round_no >= 2 else \
                f"{NESTED} := by\n  have h2 : a = 1 := by\n    skip\n  omega"
        elif NATIVE in text:
            code = [f"{NATIVE} := by\n  native_decide",
                    f"axiom cheat : (List.range 100).length = 100\n\n{NATIVE} := cheat",
                    f"{NATIVE} := by\n  sorry"][min(round_no, 3) - 1]
        elif EX in text:
            code = f"{EX} := by exact ex"
        else:
            return "I cannot prove this."
        return f"{plan}Final proof:\n```lean4\n{code}\n```"

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted-lean"}


def test_whole_proofs_are_audited_repaired_and_cheats_refuted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    policy = ScriptedLean()
    monkeypatch.setitem(registry.POLICIES, "scripted", lambda *args: policy)
    rows = [{"id": "demo", "statement": DEMO, "header": ""},
            {"id": "nested", "statement": NESTED, "header": ""},
            {"id": "native", "statement": NATIVE, "header": ""},
            {"id": "ex", "statement": EX, "header": ""}]
    bench = tmp_path / "lean.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    code = main(["eval", str(bench), "--backend", "lean-repl", "--mode", "whole",
                 "--policy", "scripted", "--prompt-format", "goedel-prover-v2",
                 "--repair-rounds", "2", "--concurrency", "2", "--lean-processes", "2",
                 "--repl-command", shlex.join(argv(_simulator(tmp_path))), "--out", str(out),
                 "--json", "--no-progress"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["solved"] == 2 and summary["solved_after_repair"] == 1
    assert summary["pass_at_k"] == {"1": 0.5}
    got = {r["theorem"]: r for r in map(json.loads, (out / "attempts.jsonl").read_text()
                                        .splitlines())}
    demo, nested, native, ex = got["demo"], got["nested"], got["native"], got["ex"]
    assert demo["verdict"] == "verified" and len(demo["rounds"]) == 1
    assert demo["proof"] == f"{DEMO} := by omega"  # the LAST block, not the draft
    assert [c["status"] for c in demo["rounds"][0]["checks"]][:2] == ["passed", "passed"]
    # repaired in round 2, and the repair prompt carried the error text
    assert [r["verdict"] for r in nested["rounds"]] == ["refuted", "verified"]
    assert "unsolved goals" in nested["rounds"][0]["errors"]
    repair_prompts = [p for p in policy.prompts if NESTED in p and "Lean 4 reported" in p]
    assert len(repair_prompts) == 1 and "unsolved goals\na : Nat" in repair_prompts[0]
    assert nested["stop_reason"] == "verified-in-round-2" and nested["proof"] == NESTED_FIXED
    # every cheat refuted by the audit, never verified
    assert [r["verdict"] for r in native["rounds"]] == ["refuted"] * 3
    assert native["verdict"] == "refuted" and native["proof"] is None
    assert "native_decide" in native["rounds"][0]["errors"]
    assert "axiom" in native["rounds"][1]["errors"] and "sorry" in native["rounds"][2]["errors"]
    assert native["stop_reason"] == "repair-rounds-exhausted"
    # the real recorded answer's error reaches the next prompt
    assert [r["verdict"] for r in ex["rounds"]] == ["refuted"] * 3
    assert "fail to show termination" in ex["rounds"][0]["errors"]
    assert any(EX in p and "fail to show termination" in p for p in policy.prompts)
    html = (out / "report.html").read_text()
    assert "nested" in html and "<svg" in html
