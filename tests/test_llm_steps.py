"""LLM step formalization: the line language, the choice among samples, and the local vs grounded
Z3 check with dependencies and upstream errors, on real GSM8K train problems.

The model outputs here are hand-written raw text, exactly what a formalizer model would print
after the prompt; they go through the same parser and checker the CLI uses. The end-to-end
model tests (tiny random Llama through ``proofgraph check``) are in test_llm_steps_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formalizer.inputs import read_solutions
from formalizer.llm_steps import LLM_BACKEND, LLMStepFormalizer
from formalizer.llm_steps_check import LLMStepsChecker, first_error
from formalizer.llm_steps_lang import GIVEN_KINDS, STEP_KINDS, choose, parse_block, parse_line
from formalizer.stepcheck import BACKEND_NAME, Solution, StepChecker
from prover.records import graph as pg

DATA = Path(__file__).parent / "data"
GSM8K_ROWS = [json.loads(line) for line in
              (DATA / "gsm8k_train_300.jsonl").read_text(encoding="utf-8").splitlines()[:8]]
WENG = GSM8K_ROWS[1]["question"]


def check(givens: str, steps: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parse hand-written model outputs and check them."""
    return LLMStepsChecker().check(parse_block(givens, GIVEN_KINDS),
                                   [parse_block(text, STEP_KINDS) for text in steps])


JULIE_GIVENS = "GIVEN book = 120\nGIVEN yesterday = 12\nGIVEN today = 2 * yesterday\n"
# Julie's solution (GSM8K train line 4) with the second step's sum made wrong (36 -> 38).
JULIE_WRONG = [
    "CLAIM today = 24\nCLAIM 12 * 2 = 24\n",
    "DEF read = yesterday + today\nCLAIM read = 38\nCLAIM 12 + 24 = 38\n",
    "DEF remaining = book - read\nCLAIM remaining = 120 - 38\nCLAIM 120 - 38 = 82\n",
    "DEF tomorrow = remaining / 2\nCLAIM tomorrow = 41\nCLAIM 82 / 2 = 41\n",
]


# --- the line language -----------------------------------------------------------------------

def test_lines_parse_to_relations_and_bad_lines_keep_their_reason() -> None:
    line = parse_line("DEF per_minute = hourly_rate / 60", STEP_KINDS)
    assert (line.kind, line.name) == ("def", "per_minute")
    assert line.canonical() == "def per_minute (= per_minute (/ hourly_rate 60))"
    chain = parse_line("CLAIM 0.2 * 50 = 10 = earned", STEP_KINDS)
    assert chain.kind == "claim" and len(chain.relations) == 2
    assert parse_line("GIVEN minutes", GIVEN_KINDS).name == "minutes"
    assert parse_line("  claim 3 < 4", STEP_KINDS).kind == "claim"  # keyword case-insensitive
    bad = {text: parse_line(text, STEP_KINDS) for text in (
        "CLAIM 12/60 = $0.2", "GIVEN eggs = 16", "DEF 3 = x", "Weng earns 0.2 per minute",
        "NONE at all", "CLAIM 1 + (2", "DEF sqrt = 4", "CLAIM " + "(" * 60 + "1" + ")" * 60)}
    assert all(line.kind == "bad" and line.error for line in bad.values())
    assert "'$'" in (bad["CLAIM 12/60 = $0.2"].error or "")
    assert "not allowed" in (bad["GIVEN eggs = 16"].error or "")
    assert bad["CLAIM " + "(" * 60 + "1" + ")" * 60].too_large


def test_choice_is_majority_over_well_formed_samples_then_logprob() -> None:
    a = "DEF may = april / 2\nCLAIM may = 24"
    a_spaced = "DEF may = april/2\nCLAIM  may = 24\n"  # same reading, other spelling
    b = "CLAIM april / 2 = 24"
    choice = choose([(b, -1.0), (a, -5.0), ("garbage", -0.1), (a_spaced, -3.0)], STEP_KINDS,
                    {"april"})
    assert (choice.rule, choice.votes, choice.well_formed, choice.samples) == (
        "majority", 2, 3, 4)
    assert choice.text == a_spaced and choice.logprob == -3.0  # best logprob in the group
    # a name that is neither given nor defined makes a sample not well formed
    unbound = choose([("CLAIM june = 24", -0.5), ("DEF june = june + 1", -0.2), (b, -9.0)],
                     STEP_KINDS, {"april"})
    assert unbound.text == b and unbound.votes == 1
    partial = choose([("CLAIM 1 = 1\nnonsense", -2.0), ("junk\nmore junk", -0.1)], STEP_KINDS)
    assert (partial.rule, partial.text) == ("partial", "CLAIM 1 = 1\nnonsense")
    assert choose([], STEP_KINDS).rule == "empty"


# --- local vs grounded ---------------------------------------------------------------------

def test_upstream_error_propagates_to_the_steps_that_use_it() -> None:
    record, steps = check(JULIE_GIVENS, JULIE_WRONG)
    assert record["consistent"] is True and record["names"] == ["book", "today", "yesterday"]
    assert [s["verdict_local"] for s in steps] == ["verified", "refuted", "verified", "verified"]
    assert [s["verdict_grounded"] for s in steps] == ["verified", "refuted", "refuted",
                                                      "refuted"]
    assert [s["upstream_error"] for s in steps] == [None, None, 1, 1]
    assert first_error(steps, "verdict_local") == 1
    assert first_error(steps, "verdict_grounded") == 1
    wrong_sum = steps[1]["claims"][0]
    assert wrong_sum["local"]["evidence"]["lhs"] == "36"
    assert wrong_sum["rebinds"] == "read@1"  # later steps (local view) use the stated 38
    remaining = steps[2]["claims"][0]
    assert remaining["local"]["premises"] == [1] and remaining["premises"] == [1]
    assert remaining["grounded"]["evidence"]["model"]["remaining"] == "84"
    tomorrow = steps[3]["claims"][0]
    assert tomorrow["local"]["verdict"] == "verified" and tomorrow["premises"] == [2]
    assert tomorrow["grounded"]["evidence"]["lhs"] == "42"
    # ground arithmetic is right in both views: 120 - 38 = 82 uses no premise
    assert steps[2]["claims"][1]["local"]["verdict"] == "verified"
    assert steps[2]["claims"][1]["grounded"]["verdict"] == "verified"


def test_a_step_that_recomputes_from_the_givens_is_grounded_but_not_locally_valid() -> None:
    steps_text = JULIE_WRONG[:2] + ["DEF remaining = book - read\nCLAIM remaining = 84\n"]
    _, steps = check(JULIE_GIVENS, steps_text)
    claim = steps[2]["claims"][0]
    assert claim["local"]["verdict"] == "refuted"  # the solution said 38 pages were read
    assert claim["local"]["evidence"]["model"]["read@1"] == "38"
    assert claim["grounded"]["verdict"] == "verified"
    assert 1 in claim["grounded"]["premises"]  # DEF read of step 1
    assert "book" in claim["grounded"]["givens_used"]
    assert steps[2]["upstream_error"] is None


def test_correct_solution_is_verified_in_both_views_with_dependencies() -> None:
    givens = "GIVEN cost = 100\nGIVEN has = cost / 2\nGIVEN parents = 15\n" \
             "GIVEN grandparents = 2 * parents\n"
    steps_text = [  # Betty, GSM8K train line 3, as the dataset solves it
        "CLAIM has = 50\nCLAIM 100 / 2 = 50",
        "CLAIM grandparents = 30\nCLAIM 15 * 2 = 30",
        "DEF needed = cost - has - grandparents - parents\nCLAIM needed = 5\n"
        "CLAIM 100 - 50 - 30 - 15 = 5",
    ]
    _, steps = check(givens, steps_text)
    assert all(s["verdict_local"] == s["verdict_grounded"] == "verified" for s in steps)
    assert all(s["upstream_error"] is None for s in steps)
    needed = steps[2]["claims"][0]["grounded"]
    used = set(needed["givens_used"])  # has/grandparents: the givens or the verified claims
    assert {"cost", "parents"} <= used
    assert "has" in used or 0 in needed["premises"]
    assert "grandparents" in used or 1 in needed["premises"]
    assert steps[2]["defs"] == [{"name": "needed", "formal":
                                 "(= needed (- (- (- cost has) grandparents) parents))"}]


def test_contradictory_givens_make_every_claim_vacuous_never_verified() -> None:
    givens = "GIVEN april = 48\nGIVEN may = april / 2\nGIVEN may = 30\n"  # Natalia, misread
    record, steps = check(givens, ["CLAIM may = 24\nCLAIM 48 / 2 = 24",
                                   "DEF total = april + may\nCLAIM total = 72"])
    assert record["consistent"] is False
    assert sorted(record["conflict"]) == ["april", "may", "may = 30"]
    for step in steps:
        for claim in step["claims"]:
            for view in ("local", "grounded"):
                assert claim[view]["verdict"] == "unknown"
                assert claim[view]["reason"] == "vacuous-premises"


def test_unparsable_line_is_not_formalized_and_the_rest_is_checked() -> None:
    givens = "GIVEN hourly_rate = 12\nGIVEN minutes = 50\n"  # Weng, GSM8K train line 2
    record, steps = check(givens, [
        "DEF per_minute = hourly_rate / 60\nCLAIM 12/60 = $0.2\nCLAIM per_minute = 0.2",
        "DEF earned = per_minute * minutes\nCLAIM earned = 10\nCLAIM weekly = 7 * earned\n"
        "DEF total = total + earned",
    ])
    first = steps[0]["claims"]
    assert [c["kind"] for c in first] == ["unparsed", "claim"]
    assert first[0]["local"]["reason"] == first[0]["grounded"]["reason"] == "not-formalized"
    assert first[1]["local"]["verdict"] == "verified"
    assert steps[0]["verdict_local"] == "unknown"  # one line could not be checked
    second = steps[1]["claims"]
    assert second[0]["grounded"]["verdict"] == "verified"
    assert second[1]["local"]["reason"] == "not-formalized"
    assert "weekly" in second[1]["local"]["detail"]
    assert second[2]["kind"] == "def" and second[2]["local"]["reason"] == "not-formalized"
    assert record["consistent"] is True and steps[1]["defs"] == [
        {"name": "earned", "formal": "(= earned (* per_minute minutes))"}]


def test_a_definition_never_overrides_a_given() -> None:
    givens = "GIVEN april = 48\nGIVEN may = april / 2\n"  # Natalia
    _, steps = check(givens, ["DEF may = april * 2\nCLAIM may = 96", "CLAIM may = 24"])
    redefinition, stated = steps[0]["claims"]
    assert redefinition["kind"] == "redefinition"
    assert redefinition["local"]["verdict"] == redefinition["grounded"]["verdict"] == "refuted"
    assert redefinition["rebinds"] == "may@0"
    assert (stated["local"]["verdict"], stated["grounded"]["verdict"]) == ("verified", "refuted")
    later = steps[1]["claims"][0]  # "may = 24" is right, though step 0 said otherwise
    assert (later["local"]["verdict"], later["grounded"]["verdict"]) == ("refuted", "verified")


# --- the formalizer: prompts, batching, row layout -----------------------------------------

class ScriptedModel:
    """A stand-in for the model (not the component under test): answers a givens prompt with
    the hand-written outputs whose key is in its problem, a step prompt with those whose key is
    in the step to formalize, and records every call."""

    def __init__(self, outputs: dict[str, list[tuple[str, float]]]) -> None:
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def sample(self, texts: list[str], n: int) -> list[list[tuple[str, float]]]:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            marker = "\nProblem: " if text.endswith("Givens:\n") else "\nStep "
            tail = text[text.rindex(marker):]
            rows.append(next((v for k, v in self.outputs.items() if k in tail), [("", 0.0)])[:n])
        return rows

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted"}


def test_formalizer_batches_per_step_position_and_annotates_rows(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    julie = dict(GSM8K_ROWS[3])
    julie["answer"] = julie["answer"].replace("12 + 24 = <<12+24=36>>36", "12 + 24 = 38")
    path.write_text(json.dumps(GSM8K_ROWS[0]) + "\n" + json.dumps(julie) + "\n")
    solutions = [s for s in read_solutions(path) if isinstance(s, Solution)]
    model = ScriptedModel({
        "Natalia sold clips": [("GIVEN april = 48\nGIVEN may = april / 2", -1.0)],
        "Julie is reading": [(JULIE_GIVENS, -1.0)],
        "48/2 =": [("CLAIM may = 24", -0.5), ("CLAIM may = 25", -0.1), ("CLAIM may = 24", -2.0)],
        "48+24": [("DEF total = april + may\nCLAIM total = 72", -1.0)],
        "12 x 2": [(JULIE_WRONG[0], -1.0)], "12 + 24 = 38": [(JULIE_WRONG[1], -1.0)],
        "120 - 36": [(JULIE_WRONG[2], -1.0)], "84/2": [(JULIE_WRONG[3], -1.0)],
    })
    formalizer = LLMStepFormalizer(model, spec="scripted:test", samples=3)  # type: ignore[arg-type]
    forms = formalizer.formalize(solutions)
    assert [len(call) for call in model.calls] == [2, 2, 2, 1, 1]  # givens, steps 1..4
    assert "DEF read = yesterday + today" in model.calls[3][0]  # earlier choice in the prompt
    assert forms[0].steps[0].votes == 2 and forms[0].steps[0].text == "CLAIM may = 24"
    results = []
    for solution, form in zip(solutions, forms, strict=True):
        result, _ = StepChecker().check(solution)
        rules_claims = [step["claims"] for step in result["steps"]]
        verdicts = formalizer.annotate(result, form)
        assert [step["claims"] for step in result["steps"]] == rules_claims
        assert verdicts and all(v.kind in {"verified", "refuted", "unknown"} for _, v, _ in verdicts)
        graph, _ = pg.solution_graph(result, backend=BACKEND_NAME)
        pg.add_llm_claims(graph, result, BACKEND_NAME, LLM_BACKEND)
        assert any(d.get("backend") == "proofgraph-llm-steps" for _, d in graph.nodes(data=True))
        results.append(result)
    natalia, wrong = results
    assert natalia["first_error"] is None and natalia["first_error_grounded"] is None
    assert natalia["steps"][0]["llm"]["choice"] == {"rule": "majority", "votes": 2,
                                                    "well_formed": 3, "samples": 3}
    assert natalia["givens"]["facts"][1] == {"label": "may", "formal": "(= may (/ april 2))",
                                             "text": "may = april / 2"}
    assert wrong["first_error_rules"] == 1  # the rules see "12 + 24 = 38" too
    assert (wrong["first_error_local"], wrong["first_error_grounded"]) == (1, 1)
    assert [s["llm"]["upstream_error"] for s in wrong["steps"]] == [None, None, 1, 1]
    prov = wrong["provenance"]
    assert prov["formalizer"] == "llm:scripted:test"
    assert {p["file"] for p in prov["llm"]["prompts"]} == {"step_givens.txt", "step_claims.txt"}
    assert all(len(p["sha256"]) == 64 for p in prov["llm"]["prompts"])
    json.dumps(results)  # the whole row stays JSON


def test_prompts_render_every_slot() -> None:
    from formalizer.autoformalize.prompts import load_prompt

    givens, steps = load_prompt("step_givens.txt"), load_prompt("step_claims.txt")
    assert givens.slots == {"problem"}
    assert steps.slots == {"problem", "givens", "earlier", "number", "step"}
    text = steps.render({"problem": WENG, "givens": "GIVEN minutes = 50", "earlier": "(none)",
                         "number": "1", "step": "Weng earns 12/60 = $0.2 per minute."})
    assert text.endswith("Step 1: Weng earns 12/60 = $0.2 per minute.\nFormal:\n")
    assert "%%" not in text


def test_few_shot_outputs_in_the_prompts_parse() -> None:
    """Every GIVEN/DEF/CLAIM line the prompts teach is valid in the language it teaches (the
    instruction lines, which end in a parenthesised explanation, excepted)."""
    from formalizer.autoformalize.prompts import load_prompt

    for name, kinds in (("step_givens.txt", GIVEN_KINDS), ("step_claims.txt", STEP_KINDS)):
        template = load_prompt(name).template
        taught = [line for line in template.splitlines()
                  if line.split(" ", 1)[0] in {"GIVEN", "DEF", "CLAIM"} and "   (" not in line]
        assert len(taught) >= 10
        for line in taught:
            allowed = GIVEN_KINDS if line.startswith("GIVEN") else kinds
            assert parse_line(line, allowed).kind != "bad", line


def test_a_claim_on_a_rejected_definition_is_unknown_and_first_error_stays_put() -> None:
    # Weng (GSM8K train line 2): step 1's DEF uses a name nothing defines, so it is rejected;
    # the CLAIM on that name in the same output had no constraint at all and was refuted from
    # an arbitrary counter-model, moving first_error onto this correct step
    givens = "GIVEN hourly_rate = 12\nGIVEN minutes = 50\n"
    _, steps = check(givens, [
        "DEF per_minute = hourly_rate / 60\nCLAIM per_minute = 0.2",
        "DEF earned = per_minute * minutes_worked\nCLAIM earned = 10",
        "CLAIM 0.2 * 50 = 11",  # a genuinely wrong step
    ])
    rejected, claim = steps[1]["claims"]
    assert rejected["local"]["reason"] == "not-formalized" and steps[1]["defs"] == []
    for view in ("local", "grounded"):
        assert claim[view]["verdict"] == "unknown", claim[view]
        assert claim[view]["reason"] == "not-formalized"
    assert first_error(steps, "verdict_local") == first_error(steps, "verdict_grounded") == 2


def test_an_unconstrained_given_makes_a_claim_unknown_never_false() -> None:
    _, steps = check("GIVEN speed\nGIVEN hours = 3\n", [
        "CLAIM speed = 40",  # nothing states the speed: no counter-model can refute this
        "CLAIM hours * 2 = 7",  # a constrained name: refuted as before
    ])
    free, wrong = steps[0]["claims"][0], steps[1]["claims"][0]
    assert (free["local"]["verdict"], free["local"]["reason"]) == ("unknown", "not-formalized")
    assert "speed" in free["local"]["detail"]
    assert wrong["local"]["verdict"] == wrong["grounded"]["verdict"] == "refuted"
    assert first_error(steps, "verdict_local") == 1
