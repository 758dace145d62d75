"""Autoformalizer mechanics on real statements from the shipped slices, driven by hand-written
model outputs (a scripted Sampler is the pipeline's input): type-check filter, repair with the
error message, equivalence clusters, ranking, faithfulness flags, FOL entailment vote, the Lean
path without Lean and against recorded REPL transcripts, prompts and provenance."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from formalizer.autoformalize import FormalizeConfig, formalize
from formalizer.autoformalize.pipeline import as_item
from formalizer.autoformalize.prompts import PROMPT_DIR, load_prompt
from formalizer.autoformalize.targets.lean import (
    LeanTarget,
    checked_type,
    judge_statement,
    statement_text,
)
from prover.lean.protocol import Command, parse_response

sys.path.insert(0, str(Path(__file__).parent))
import fake_lean_repl as fake  # noqa: E402

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


MINIF2F = {r["id"]: r for r in _rows("minif2f_informal_20.jsonl")}
Z3_ROWS = {r["id"]: r for r in _rows("z3_theorems.jsonl")}
FOLIO = _rows("folio_train_50.jsonl")


class ScriptedSampler:
    """Hand-written model outputs: ``first`` rows for formalize prompts (by statement),
    ``repairs`` answered in order for repair prompts, one fixed back-translation. Records every
    call so tests can check batching and the prompts' content."""

    def __init__(self, first: dict[str, list[tuple[str, float]]],
                 repairs: Sequence[tuple[str, float]] = (),
                 english: str = "a sentence") -> None:
        self.first = first
        self.repairs = list(repairs)
        self.english = english
        self.calls: list[tuple[list[str], int]] = []

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        self.calls.append((list(texts), n))
        out = []
        for text in texts:
            if "Failed attempt:" in text:
                out.append([self.repairs.pop(0)] if self.repairs else [("", -9.0)])
            elif text.rstrip().endswith("English:"):
                out.append([(self.english, -1.0)])
            else:
                key = next(k for k in self.first if k in text.rsplit("Statement:", 1)[-1]
                           or k in text.rsplit("Conclusion:", 1)[-1]
                           or k in text.rsplit("Sentence:", 1)[-1])
                out.append(self.first[key][:n])
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted", "spec": "test"}


# --------------------------------------------------------------------------- Z3
N_EVEN = "For every natural number n, n(n+1) is even."  # z3_theorems n_n1_even, in words
Z3_OUTPUTS = [
    ("(declare-const n Int)\n(assert (>= n 0))\nGOAL: (= (mod (* n (+ n 1)) 2) 0)", -1.0),
    ("(declare-const n Int)\n(assert (<= 0 n))\nGOAL: (= 0 (mod (+ (* n n) n) 2))", -2.0),
    ("```smt2\n(declare-const n Int)\n(assert (not (< n 0)))\n"
     "GOAL: (= (mod (* (+ n 1) n) 2) 0)\n```", -3.0),
    ("(declare-const n Real)\n(assert (>= n 0))\nGOAL: (= (mod (* n (+ n 1)) 2) 0)", -1.5),
    ("(declare-const n Int)\n(assert (>= n 0))\n(assert (< n 0))\n"
     "GOAL: (= (mod (* n (+ n 1)) 2) 0)", -0.5),
    ("(declare-const n Int)\n(assert (>= n 0))\nGOAL: (= (mod (* n (+ n 1)) 2) 1)", -0.4),
    ("The answer is 42.", -0.3),
]
Z3_REPAIRS = [("(declare-const n Int)\n(assert (>= n 0))\nGOAL: (= (mod (* n (+ n 1)) 2) 0)",
               -2.5), ("still no formula", -4.0)]


def test_z3_filter_repair_clusters_flags_and_ranking() -> None:
    sampler = ScriptedSampler({N_EVEN: Z3_OUTPUTS}, Z3_REPAIRS, "n(n+1) is even for n >= 0.")
    result = formalize([{"id": "n_n1_even", "text": N_EVEN}], sampler,
                       FormalizeConfig("z3", k=7))[0]
    cands = result.candidates
    assert [c["check"]["status"] for c in cands[:7]] == ["ok", "ok", "ok", "error", "ok", "ok",
                                                         "error"]
    assert "Real term is used where an Int" in cands[3]["check"]["error"]
    assert cands[6]["check"]["stage"] == "extract"
    # repair: one round, each failed candidate sent back once with its own error message
    repair_prompts = sampler.calls[1][0]
    assert len(repair_prompts) == 2 and sampler.calls[1][1] == 1
    assert cands[3]["check"]["error"] in repair_prompts[0]
    assert "no 'GOAL: <term>' line" in repair_prompts[1]
    fixed, still_bad = cands[7], cands[8]
    assert (fixed["round"], fixed["repair_of"], fixed["check"]["status"]) == (1, 3, "ok")
    assert fixed["repaired_error"] == cands[3]["check"]["error"]
    assert still_bad["check"]["status"] == "error" and still_bad["repair_of"] == 6
    # flags
    assert cands[4]["flags"]["vacuous"]["value"] is True
    assert cands[5]["flags"]["negation_provable"]["value"] is True
    assert cands[5]["flags"]["vacuous"]["value"] is False
    assert cands[0]["flags"] == {"vacuous": {"value": False, "detail":
                                             "the hypotheses are satisfiable"},
                                 "negation_provable": {"value": False, "detail":
                                                       "the goal is consistent with the "
                                                       "hypotheses"}}
    # clusters: 3 spellings + the repaired one are one cluster; flagged ones rank after it
    top = next(c for c in result.clusters if c["rank"] == 0)
    assert sorted(top["members"]) == [0, 1, 2, 7] and top["size"] == 4
    assert top["mean_logprob"] == pytest.approx((-1.0 - 2.0 - 3.0 - 2.5) / 4)
    blocked = [c for c in result.clusters if c["blocked_by"]]
    assert {m for c in blocked for m in c["members"]} == {4, 5}
    assert all(c["rank"] > 0 for c in blocked)
    assert result.chosen is not None and result.chosen["index"] == 0
    assert result.chosen["rendered"] == (
        "Given n: Int; assuming n ≥ 0; prove ((n · (n + 1)) mod 2) = 0")
    assert result.chosen["backtranslation"]["text"] == "n(n+1) is even for n >= 0."
    assert result.chosen["row"] == {"smt2": "(declare-const n Int) (assert (>= n 0))",
                                    "goal": "(= (mod (* n (+ n 1)) 2) 0)"}
    # batched: one formalize call, one repair call, one back-translation call
    assert [n for _, n in sampler.calls] == [7, 1, 1]
    prov = result.provenance
    assert prov["repair_rounds_used"] == 1 and prov["z3_version"]
    assert {p["file"] for p in prov["prompts"]} == {"formalize_z3.txt", "repair_z3.txt",
                                                    "backtranslate_z3.txt"}
    assert all(len(p["sha256"]) == 64 for p in prov["prompts"])
    json.dumps(result.to_dict())  # plain JSON


def test_z3_equivalence_needs_aligned_symbols_and_is_not_mere_validity() -> None:
    stmt = MINIF2F["mathd_algebra_44"]["informal_stmt"]
    outputs = [
        ("(declare-const s Real)\n(declare-const t Real)\n(assert (= s (- 9 (* 2 t))))\n"
         "(assert (= t (+ (* 3 s) 1)))\nGOAL: (and (= s 1) (= t 4))", -1.0),
        ("(declare-const s Real)\n(declare-const t Real)\n(assert (= t (+ 1 (* 3 s))))\n"
         "(assert (= (+ s (* 2 t)) 9))\nGOAL: (and (= t 4) (= s 1))", -1.2),
        # valid too, but a different claim (only s): must not join the cluster
        ("(declare-const s Real)\n(declare-const t Real)\n(assert (= s (- 9 (* 2 t))))\n"
         "(assert (= t (+ (* 3 s) 1)))\nGOAL: (= s 1)", -0.9),
        # other symbol names: not comparable
        ("(declare-const x Real)\n(declare-const y Real)\n(assert (= x (- 9 (* 2 y))))\n"
         "(assert (= y (+ (* 3 x) 1)))\nGOAL: (and (= x 1) (= y 4))", -1.1),
    ]
    result = formalize([stmt], ScriptedSampler({stmt[:40]: outputs}),
                       FormalizeConfig("z3", k=4, backtranslate=False))[0]
    by_index = {c["index"]: c for c in result.candidates}
    assert by_index[0]["cluster"] == by_index[1]["cluster"]
    assert len({by_index[i]["cluster"] for i in range(4)}) == 3
    reasons = [cmp["reason"] for c in result.clusters for cmp in c["comparisons"]]
    assert any(r.startswith("different declared symbols") for r in reasons)
    assert any("goals differ" in r for r in reasons)
    assert result.chosen is not None and result.chosen["index"] == 0
    assert result.chosen["cluster_size"] == 2
    assert "backtranslation" not in result.chosen


def test_garbage_only_gives_no_choice_with_reason() -> None:
    stmt = Z3_ROWS["sq_mod3"]["description"]
    garbage = [("}}}{{ ((( GOAL", -5.0), ("", -1.0), ("\ufffd\x00", -2.0)]
    result = formalize([stmt], ScriptedSampler({stmt: garbage}),
                       FormalizeConfig("z3", k=3, repair_rounds=0))[0]
    assert result.chosen is None and result.clusters == []
    assert result.reason is not None and "no candidate survived" in result.reason
    assert result.summary["typechecked"] == 0


# --------------------------------------------------------------------------- FOL
def _folio(example_id: int) -> dict[str, Any]:
    return next(r for r in FOLIO if r["example_id"] == example_id)


def test_fol_translation_checks_vote_and_vacuity() -> None:
    row = _folio(FOLIO[0]["example_id"])  # story 406 (caffeine), label True
    prem = row["premises-FOL"]
    good = "\n".join(f"{i}. {p}" for i, p in enumerate(prem, 1))
    concl = "Jokes(rina) ⊕ Unaware(rina)"
    ascii_prem = [p.replace("∀x", "forall x").replace("→", "->").replace("¬", "~") for p in prem]
    outputs = [
        (f"{good}\nFOL conclusion: {concl}", -1.0),
        ("\n".join(f"{i}) {p}" for i, p in enumerate(ascii_prem, 1))
         + f"\nFOL conclusion: {concl}", -2.0),
        # contradictory premises: Inconsistent, flagged vacuous, never a True vote
        ("\n".join(f"{i}. {p}" for i, p in enumerate(
            [*prem[:-1], "Drinks(rina) ∧ ¬Drinks(rina)"], 1)) + f"\nFOL conclusion: {concl}",
         -0.5),
        (f"{good}\nFOL conclusion: Jokes(rina) ⊕", -0.2),  # syntax error
        (good.replace("Drinks(x) → Dependent(x)", "Drinks(x, rina) → Dependent(x)")
         + f"\nFOL conclusion: {concl}", -0.3),  # arity clash
    ]
    sampler = ScriptedSampler({row["conclusion"][:30]: outputs}, repairs=[("nope", -3.0)] * 2)
    item = {"id": str(row["example_id"]), "premises": row["premises"],
            "conclusion": row["conclusion"]}
    result = formalize([item], sampler, FormalizeConfig("fol", k=5))[0]
    cands = result.candidates
    assert [c["check"]["status"] for c in cands[:5]] == ["ok", "ok", "ok", "error", "error"]
    assert "conclusion" in cands[3]["check"]["error"]
    assert "different arities" in cands[4]["check"]["error"]
    assert cands[0]["entailment"]["answer"] == "True"
    assert cands[2]["entailment"]["answer"] == "Inconsistent"
    assert cands[2]["flags"]["vacuous"]["value"] is True
    assert cands[0]["cluster"] == cands[1]["cluster"] != cands[2]["cluster"]
    assert result.vote == {"counts": {"Inconsistent": 1, "True": 2}, "voters": 2,
                           "majority": "True", "share": 1.0,
                           "note": "Inconsistent and Unknown answers do not vote"}
    assert result.chosen is not None and result.chosen["index"] == 0
    assert result.chosen["rendered"].endswith("⊢ Jokes(rina) ⊕ Unaware(rina)")
    # the premises reach the prompt, numbered
    first_prompt = sampler.calls[0][0][0]
    assert "1. All people who regularly drink coffee" in first_prompt
    assert first_prompt.rstrip().endswith("FOL premises:")


def test_fol_lone_statement_negation_flag_and_count_mismatch() -> None:
    sentence = FOLIO[0]["premises"][0]
    outputs = [("FOL: ∀x (Drinks(x) → Dependent(x))", -1.0),
               ("∀x (Drinks(x) ∧ ¬Drinks(x))", -0.5),
               ("∀x (Drinks(x) -> Dependent(x))", -2.0)]
    result = formalize([sentence], ScriptedSampler({sentence: outputs}),
                       FormalizeConfig("fol", k=3, backtranslate=False))[0]
    cands = result.candidates
    assert cands[1]["flags"]["negation_provable"]["value"] is True  # unsatisfiable formula
    assert cands[0]["flags"]["negation_provable"]["value"] is False
    assert cands[0]["cluster"] == cands[2]["cluster"]
    assert result.chosen is not None and result.chosen["index"] == 0
    contradiction = [("∃x (Drinks(x) ∧ ¬Drinks(x))", -0.1)]
    flagged = formalize([sentence], ScriptedSampler({sentence: contradiction}),
                        FormalizeConfig("fol", k=1, backtranslate=False))[0]
    assert flagged.candidates[0]["flags"]["negation_provable"]["value"] is True
    assert flagged.chosen is not None and "warning" in flagged.chosen
    row = _folio(FOLIO[0]["example_id"])
    short = [("1. ∀x (Drinks(x) → Dependent(x))\nFOL conclusion: Jokes(rina)", -1.0)]
    bad = formalize([{"id": "r", "premises": row["premises"], "conclusion": row["conclusion"]}],
                    ScriptedSampler({row["conclusion"][:30]: short}),
                    FormalizeConfig("fol", k=1, repair_rounds=0))[0]
    assert "expected 5 numbered premise formulas, got 1" in bad.candidates[0]["check"]["error"]
    assert bad.chosen is None


# --------------------------------------------------------------------------- Lean
def _lean_outputs(row: dict[str, Any]) -> list[tuple[str, float]]:
    formal = row["formal_statement"]
    return [(formal, -1.0), ("```lean\n" + formal.replace(":= sorry", ":= by\n  nlinarith")
                             + "\n```", -2.0),
            ("  ".join(formal.split(" ")), -1.5), ("I think the answer is 5", -0.1)]


def test_lean_without_lean_is_skipped_and_clustered_by_text(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `lake`
    row = MINIF2F["mathd_algebra_419"]
    sampler = ScriptedSampler({row["informal_stmt"][:40]: _lean_outputs(row)},
                              repairs=[("theorem t (a b : ℝ) (h₀ : a = -1) (h₁ : b = 5) : "
                                        "-a - b^2 + 3 * (a * b) = -39 := by sorry", -3.0)])
    result = formalize([row["informal_stmt"]], sampler, FormalizeConfig("lean", k=4))[0]
    cands = result.candidates
    assert [c["check"]["status"] for c in cands] == ["skipped", "skipped", "skipped", "error",
                                                     "skipped"]
    assert all("lean not available" in c["check"]["reason"] for c in cands
               if c["check"]["status"] == "skipped")
    assert cands[1]["formal"].endswith(":= by sorry") and "nlinarith" not in cands[1]["formal"]
    assert cands[4]["round"] == 1  # the layout error was repaired (not a type error)
    assert cands[0]["cluster"] == cands[1]["cluster"] == cands[2]["cluster"]
    assert result.summary["clustering"] == "normalised text identity"
    assert result.chosen is not None and "not type-checked" in result.chosen["warning"]
    assert result.provenance["lean_available"] is False
    assert result.chosen["flags"]["vacuous"]["value"] is None


def test_lean_statement_rules_on_recorded_repl_responses() -> None:
    def response(name: str, index: int = 0) -> Any:
        request, data = fake.recorded(name)[index]
        return parse_response(Command(request["cmd"], request.get("env")), data)

    assert judge_statement(response("by_cases")) == (True, "")
    ok, message = judge_statement(response("have_by_sorry"))
    assert not ok and message.startswith("unsolved goals") and "(line 1" in message
    ok, message = judge_statement(response("infotree"))  # a linter warning is not allowed
    assert not ok and message.startswith("warning: Variable name `h`")
    ok, message = judge_statement(response("calc"))
    assert not ok and message == "expected exactly one sorry, found 2"
    assert checked_type(response("dup_msg", 1), "f") == "Nat"
    assert checked_type(response("dup_msg", 2), "g") is None  # the #check failed
    assert statement_text("lemma foo (x : Int) : x = x := by\n  rfl") == \
        "theorem foo (x : Int) : x = x := by sorry"
    assert statement_text("example : 1 = 1 := rfl") == \
        "theorem formal_statement : 1 = 1 := by sorry"


def test_lean_typecheck_through_the_real_client_on_a_transcript() -> None:
    from prover.lean.pool import LeanReplPool
    from prover.lean.repl import ReplConfig

    config = ReplConfig(command=fake.argv(fake.transcript("by_cases")), cwd=None,
                        memory_limit_mb=None, command_timeout_s=20)
    raw = "```lean\nlemma foo (x : Int) : x = x := by\n  simp\n```"
    with LeanReplPool(config) as pool:
        target = LeanTarget(pool, header="", timeout_s=20)
        result = formalize(["Every integer equals itself."],
                           ScriptedSampler({"Every integer": [(raw, -1.0)]}),
                           FormalizeConfig("lean", k=1, backtranslate=False, lean_header=""),
                           lean_pool=pool)[0]
    cand = result.candidates[0]
    assert cand["check"]["status"] == "ok" and cand["formal"] == \
        "theorem foo (x : Int) : x = x := by sorry"
    # the transcript has no #check: the pp.all probe fails cleanly and is recorded
    assert cand["pp_all_type"] is None and cand["pp_all_error"]
    assert result.chosen is not None and result.provenance["lean_available"] is True
    assert target.describe()["lean_available"] is True


@pytest.mark.lean
def test_lean_live_typecheck_and_pp_all_clusters() -> None:
    import shutil

    if shutil.which("lake") is None:
        pytest.skip("needs a live Lean 4 toolchain (`lake` on PATH; scripts/setup_lean.sh)")
    row = MINIF2F["mathd_algebra_419"]
    outputs = _lean_outputs(row) + [(row["formal_statement"].replace("= -39", "= -38"), -2.5),
                                    ("theorem bad (a : ℝ) : a = undefined_name := by sorry", -0.2)]
    result = formalize([row["informal_stmt"]], ScriptedSampler({row["informal_stmt"][:40]:
                                                                outputs}),
                       FormalizeConfig("lean", k=6, repair_rounds=0, backtranslate=False))[0]
    cands = result.candidates
    assert result.provenance["lean_available"] is True
    assert [c["check"]["status"] for c in cands] == ["ok", "ok", "ok", "error", "ok", "error"]
    assert "undefined_name" in cands[5]["check"]["error"]
    assert cands[0]["pp_all_type"] and cands[0]["cluster"] == cands[1]["cluster"]
    assert cands[4]["cluster"] != cands[0]["cluster"]


# --------------------------------------------------------------------------- prompts, items
def test_prompt_files_are_stripped_hashed_and_rendered_in_one_pass() -> None:
    names = sorted(p.name for p in PROMPT_DIR.glob("*.txt")
                   if not p.name.startswith("step_"))
    assert {"formalize_lean.txt", "formalize_z3.txt", "formalize_fol.txt",
            "repair_z3.txt", "backtranslate_fol.txt"} <= set(names)
    for name in names:
        prompt = load_prompt(name)
        assert "%%" not in prompt.template and len(prompt.sha256) == 64
        assert (PROMPT_DIR / name).read_text(encoding="utf-8").startswith("%%")
    repair = load_prompt("repair_lean.txt")
    text = repair.render({"statement": "uses {error} literally", "candidate": "theorem t : {x}",
                          "error": "unknown identifier"})
    assert "uses {error} literally" in text and "theorem t : {x}" in text
    with pytest.raises(KeyError, match="error"):
        repair.render({"statement": "s", "candidate": "c"})


def test_items_and_config_reject_bad_input_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="'premises' must be a list of strings"):
        as_item({"id": "x", "text": "t", "premises": "p"}, 0)
    with pytest.raises(ValueError, match="'text'"):
        as_item({"id": "x"}, 3)
    with pytest.raises(ValueError, match="empty statement"):
        as_item("  ", 0)
    with pytest.raises(ValueError, match="target must be one of"):
        FormalizeConfig("coq")
    assert as_item({"example_id": 7, "premises": ["a"], "conclusion": "b"}, 0).id == "7"
