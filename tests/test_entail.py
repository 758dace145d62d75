"""Entailment tests: hand-formalized FOLIO conclusions, inconsistency, errors, arithmetic."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import pytest
import z3

from prover.fol.parser import parse_formula
from prover.fol.syntax import FolSortError, FolSyntaxError, to_text, well_definedness
from prover.records.verdicts import UnknownReason, Verdict
from prover.z3.entail import EntailmentResult, check_entailment, entail_row

DATA = Path(__file__).parent / "data" / "folio_train_50.jsonl"
GOLD = {"True": "True", "False": "False", "Unknown": "Uncertain"}


def folio() -> dict[int, dict]:
    with DATA.open(encoding="utf-8") as fh:
        return {row["example_id"]: row for row in map(json.loads, fh)}


# FOLIO v0.0 has no conclusion FOL, so these are written by hand with the row's own predicate
# names; each is a literal reading of the English conclusion ("either ... or" is ⊕, as in the
# premises). Comments give the reading and why the gold label follows from the premise FOL.
# Left out on purpose: 554, 1175, 1176 (the gold label needs facts the premise FOL lacks, e.g.
# that HigherRank is asymmetric) and 521 (no faithful reading of "the project Sam is doing").
HAND_WRITTEN = [
    # True: if Rina does not joke she drinks, so is dependent; premise 4 then makes her a
    # student, and premise 3 makes a student unaware
    (1131, "Jokes(rina) ∨ Unaware(rina)"),
    # False: "either drinks coffee or is unaware" -- Rina is exactly one of them in no model
    (1133, "Drinks(rina) ⊕ Unaware(rina)"),
    # Sea eel: the premises force Animal, hence Breathe and ¬Paper, but not Eel
    (1341, "Eel(seaEel)"),  # Unknown
    (1342, "Paper(seaEel)"),  # False
    (1343, "Breathe(seaEel) ∨ Paper(seaEel)"),  # True
    # True: both La Liga, MorePoints(realMadrid, barcelona) -> HigherRank
    (553, "HigherRank(realMadrid, barcelona)"),
    # Tom is a citizen, so uses 98199 (True / its negation False); Daniel's citizenship is open
    (250, "Usezipcode(tom, number98199)"),
    (251, "¬Usezipcode(tom, number98199)"),
    (253, "Citizenof(daniel, lawtonPark)"),  # Unknown
    # legislator ∧ steals -> suspended: "was suspended" True, "was not suspended" False
    (262, "Suspended(tiffanyTAlston)"),
    (263, "¬Suspended(tiffanyTAlston)"),
    # ¬Good(tiktok) -> ¬Instagram -> Youtube -> App -> Software -> Program
    (1390, "Program(tiktok)"),  # True
    (1392, "¬(Youtube(tiktok) ∧ Program(tiktok))"),  # False: it is both
    (1393, "Youtube(tiktok) ⊕ Program(tiktok)"),  # False: both, so not exactly one
    # Susan: Yale would make her go on a diet and not, so Harvard -> diligent, young, diet
    (926, "CollegeStudent(susan)"),  # Unknown
    (927, "GoOnDiet(susan) ∧ Diligent(susan)"),  # True
    (928, "¬GoOnDiet(susan) ∧ Diligent(susan)"),  # False
    # Amy: a gold medal would make her a laureate, scientist and not good at sports -> contradiction
    (918, "Athlete(amy)"),  # Unknown: good at sports does not make an athlete
    (919, "¬(Scientist(amy) ∨ OlympicGoldMedalWinner(amy))"),  # True ("neither ... nor")
    (920, "¬OlympicGoldMedalWinner(amy) → NobelLaureate(amy)"),  # False
    # L-2021: AOC ↔ LG; library -> AOC, type-c -> ¬AOC, library ⊕ type-c; so library ↔ LG
    (1178, "Library(l-2021)"),  # Unknown
    (1179, "Library(l-2021) ⊕ LG(l-2021)"),  # False: library iff LG
    (1180, "TypeC(l-2021) ⊕ LG(l-2021)"),  # True
    # Unknown: "All television stars have good business sense" -- nothing links them
    (713, "∀x (TelevisionStar(x) → GoodBusinessSense(x))"),
]


@pytest.mark.parametrize(
    ("example_id", "conclusion"), HAND_WRITTEN, ids=[str(e) for e, _ in HAND_WRITTEN]
)
def test_folio_hand_written_conclusions_match_gold(example_id: int, conclusion: str) -> None:
    row = folio()[example_id]
    result = check_entailment(row["premises-FOL"], conclusion)
    assert result.answer == GOLD[row["label"]]
    if result.answer == "True":
        assert result.verdict.is_verified and result.evidence["core_indices"]
    else:
        assert not result.verdict.is_verified


def test_hand_written_cases_cover_all_gold_labels() -> None:
    labels = [folio()[e]["label"] for e, _ in HAND_WRITTEN]
    assert {lab: labels.count(lab) >= 4 for lab in GOLD} == {lab: True for lab in GOLD}


def test_true_core_names_the_premises_used() -> None:
    row = folio()[262]  # legislator ∧ steals → suspended; 2 facts about Tiffany
    result = check_entailment(row["premises-FOL"], "Suspended(tiffanyTAlston)")
    assert result.evidence["core_indices"] == [0, 1, 2]
    assert result.evidence["core"][0] == {
        "kind": "premise",
        "index": 0,
        "text": row["premises-FOL"][0],
    }


def test_uncertain_gives_two_readable_counter_models() -> None:
    row = folio()[253]  # Daniel uses the zip code, but need not be a citizen of Lawton Park
    result = check_entailment(row["premises-FOL"], "Citizenof(daniel, lawtonPark)")
    assert result.answer == "Uncertain" and result.verdict.kind == "refuted"
    for key, holds in (("conclusion_true", True), ("conclusion_false", False)):
        m = result.evidence["models"][key]
        assert m["universe_size"] == len(m["universe"]) >= 1
        pair = [m["constants"]["daniel"], m["constants"]["lawtonPark"]]
        assert (pair in m["predicates"]["Citizenof"]) is holds
        # premise 2 (Citizenof(tom, lawtonPark)) holds in both models
        assert [m["constants"]["tom"], m["constants"]["lawtonPark"]] in m["predicates"]["Citizenof"]


# ---------------------------------------------------------------- inconsistency


@pytest.mark.parametrize(
    ("premises", "core"),
    [
        (["P(a)", "¬P(a)"], [0, 1]),
        (["Q(b)", "P(a)", "R(c)", "¬P(a)"], [1, 3]),
        (["∀x P(x)", "∃x ¬P(x)"], [0, 1]),
        (["∀x (Drinks(x) → Dependent(x))", "Drinks(rina)", "¬Dependent(rina)"], [0, 1, 2]),
        # a real FOLIO premise (story 7): x = y makes it Larger(x, x) ↔ ¬Larger(x, x)
        (["∀x ∀y (Larger(x, y) ↔ ¬Larger(y, x))", "Larger(a, b)"], [0]),
    ],
)
def test_inconsistent_premises_are_flagged_never_true(premises: list[str], core: list[int]) -> None:
    for conclusion in ("P(a)", "¬P(a)", "Anything(z)"):
        result = check_entailment(premises, conclusion)
        assert result.answer == "Inconsistent" and result.inconsistent
        assert result.evidence["core_indices"] == core
        assert [c["text"] for c in result.evidence["core"]] == [premises[i] for i in core]
        assert result.verdict.kind == "unknown" and not result.verdict.is_verified
        assert result.verdict.reason is UnknownReason.VACUOUS


# ---------------------------------------------------------------- errors and rows


@pytest.mark.parametrize(
    ("premises", "conclusion", "formula", "position", "expected"),
    [
        (["P(a)", "(Q(a) ∧ R(a)"], "P(a)", "premise 1", 12, "')'"),
        (["P(a) →"], "P(a)", "premise 0", 6, "a formula"),
        (["P(a)"], "P(a) § Q(a)", "conclusion", 5, "an operator or end of input"),
        (["P(a)"], "", "conclusion", 0, "a formula"),
    ],
)
def test_syntax_errors_name_formula_position_expected(
    premises: list[str], conclusion: str, formula: str, position: int, expected: str
) -> None:
    with pytest.raises(FolSyntaxError) as info:
        check_entailment(premises, conclusion)
    assert (info.value.formula, info.value.position, info.value.expected) == (
        formula,
        position,
        expected,
    )
    row = entail_row({"id": "r", "premises": premises, "conclusion": conclusion})
    assert row["id"] == "r" and "answer" not in row
    err = row["error"]
    assert (err["kind"], err["formula"], err["position"], err["expected"]) == (
        "syntax",
        formula,
        position,
        expected,
    )
    assert err["message"] == str(info.value)


def test_sort_error_names_the_name() -> None:
    with pytest.raises(FolSortError) as info:
        check_entailment(["P(a)", "a > 3"], "P(a)")
    assert info.value.name == "a" and info.value.formula == "premise 1"
    row = entail_row({"id": "s", "premises": ["∀x (P(x) → x > 0)"], "conclusion": "P(b)"})
    assert row["error"]["kind"] == "sort" and row["error"]["name"] == "x"


def test_entail_row_keeps_going_over_a_batch() -> None:
    batch = [
        {"id": "ok1", "premises": ["P(a)"], "conclusion": "P(a)"},
        {"id": "bad-syntax", "premises": ["P(a"], "conclusion": "P(a)"},
        {"id": "missing", "premises": ["P(a)"]},
        {"id": "not-str", "premises": ["P(a)", 3], "conclusion": "P(a)"},
        {"id": 7, "premises": [], "conclusion": "P(a)"},
        ["not", "a", "dict"],
        {"id": "ok2", "premises": ["P(a)"], "conclusion": "¬P(a)"},
    ]
    out = [entail_row(r) for r in batch]
    assert [o.get("answer") for o in out] == ["True", None, None, None, None, None, "False"]
    kinds = [o["error"]["kind"] for o in out if "error" in o]
    assert kinds == ["syntax", "bad-row", "bad-row", "bad-row", "bad-row"]
    assert (
        "'conclusion'" in out[2]["error"]["message"] and "'premises'" in out[3]["error"]["message"]
    )
    assert out[4]["id"] == 7 and out[5]["id"] is None
    json.dumps(out)  # plain JSON throughout


# ---------------------------------------------------------------- arithmetic


def test_arithmetic_true_and_false() -> None:
    assert check_entailment(["x = 3", "y = x * 2"], "y > 5").answer == "True"
    assert check_entailment(["x = 3", "y = x * 2"], "y > 6").answer == "False"
    # exact decimals: 0.1 + 0.2 is exactly 0.3 (no float drift), 1/0.2 is exactly 5
    assert check_entailment([], "0.1 + 0.2 = 0.3").answer == "True"
    assert check_entailment(["y = 0.2"], "1 / y = 5").answer == "True"
    assert check_entailment(["x ≥ 1", "x ≤ 1"], "x = 1").answer == "True"


def test_division_by_zero_premise_is_inconsistent_through_its_guard() -> None:
    result = check_entailment(["1/y = 5", "y = 0"], "y = 1")
    assert result.answer == "Inconsistent"
    assert result.implicit_premises == ("y ≠ 0",)
    assert {"kind": "guard", "text": "y ≠ 0", "from": "premise 0"} in result.evidence["core"]
    assert result.evidence["core_indices"] == [1]


@pytest.mark.parametrize(("premises", "conclusion"), [
    (["y = 0"], "1/y = 5"),
    (["y = 0"], "¬(1/y = 5)"),  # the negation too: neither is refuted
    (["x = 3", "y = 0"], "(x/y = 1) ∨ ¬(x/y = 1)"),  # a tautology where defined
    (["y ≥ 0"], "1/y > 0"),  # true wherever defined; the only counter-model is y = 0
])
def test_a_conclusion_undefined_where_it_fails_is_unknown_never_refuted(
        premises: list[str], conclusion: str) -> None:
    """Without the guard Z3 may pick 1/0 = 5, and both "1/y = 5" and its negation look
    possible; with it as a plain conjunct, both were refuted ("the premises entail the negation
    of the conclusion", which is false). A conclusion that fails only where it divides by zero
    is undecided, with that reason."""
    result = check_entailment(premises, conclusion)
    assert result.answer == "Unknown", result.to_dict()
    assert result.reason == UnknownReason.DIVISION_BY_ZERO
    assert result.verdict.kind == "unknown" and "divides by zero" in result.verdict.detail


@pytest.mark.parametrize(("premises", "conclusion", "answer"), [
    (["y = 2"], "1/y = 5", "False"),  # defined, and false
    (["y = 2"], "1/y = 1/2", "True"),
    (["y ≥ 0"], "1/y < 1", "Uncertain"),  # a counter-model where it is defined: y = 1/2
])
def test_a_conclusion_defined_where_it_fails_is_decided(premises: list[str], conclusion: str,
                                                        answer: str) -> None:
    result = check_entailment(premises, conclusion)
    assert result.answer == answer, result.to_dict()
    if answer == "Uncertain":
        point = result.evidence["models"]["conclusion_false"]
        assert point, result.evidence


@pytest.mark.parametrize(
    ("formula", "guard"),
    [
        ("1/y = 5", "y ≠ 0"),
        ("x/3 = 1", None),  # nonzero literal: nothing to guard
        ("y = 0 ∨ 1/y = 5", "y = 0 ∨ y ≠ 0"),  # left to right: only where y = 0 fails
        ("∀x (x > 0 → 1/x > 0)", "∀x (x > 0 → x ≠ 0)"),
        ("¬(a/(b - 1) = 2)", "b - 1 ≠ 0"),
    ],
)
def test_well_definedness_guards(formula: str, guard: str | None) -> None:
    wd = well_definedness(parse_formula(formula))
    assert (None if wd is None else to_text(wd)) == guard


def test_guards_under_quantifiers() -> None:
    # the guard ∀x (x > 0 → x ≠ 0) is valid, so the quantified division causes no trouble
    result = check_entailment(["∀x (x > 0 → x * (1/x) = 1)"], "a > 0 → a * (1/a) = 1")
    assert result.answer == "True"
    assert result.evidence["conclusion_guard"] == "a > 0 → a ≠ 0"
    # "x * (1/x) = 1 for every x" is ill-defined at x = 0: flagged, with the guard as the core
    result = check_entailment(["∀x (x * (1/x) = 1)"], "P(a)")
    assert result.answer == "Inconsistent"
    assert result.evidence["core"] == [{"kind": "guard", "text": "∀x (x ≠ 0)", "from": "premise 0"}]


def test_uncertain_arithmetic_counter_model_has_exact_fractions() -> None:
    result = check_entailment(["x > 1", "y = x / 3"], "y > 1")
    assert result.answer == "Uncertain" and result.verdict.kind == "refuted"
    for key, holds in (("conclusion_true", True), ("conclusion_false", False)):
        reals = {k: Fraction(v) for k, v in result.evidence["models"][key]["reals"].items()}
        assert reals["x"] > 1 and reals["y"] == reals["x"] / 3
        assert (reals["y"] > 1) is holds
    assert result.implicit_premises == ()  # dividing by the literal 3 needs no guard


def test_entity_equality_and_numeral_arguments() -> None:
    assert check_entailment(["a = b", "P(a)"], "P(b)").answer == "True"
    # FOLIO's EstablishedIn(x, 2000): a numeral argument is an entity named 2000
    prem = ["∀x (District(x) → EstablishedIn(x, 2000))", "District(moscow)"]
    assert check_entailment(prem, "EstablishedIn(moscow, 2000)").answer == "True"
    assert check_entailment(prem, "EstablishedIn(moscow, 2001)").answer == "Uncertain"


def test_one_name_with_two_arities() -> None:
    result = check_entailment(["P(a, b)", "P(a)"], "P(b)")
    assert result.answer == "Uncertain"
    assert set(result.evidence["models"]["conclusion_false"]["predicates"]) == {"P/1", "P/2"}


# ---------------------------------------------------------------- unknown, limits, JSON


def test_budget_exhaustion_is_unknown_not_uncertain() -> None:
    prem = ["a*a*a + b*b*b = c*c*c", "a > 0", "b > 0", "c > 0", "a*b*c > 1000"]
    result = check_entailment(prem, "a > c", rlimit=2000)
    assert result.answer == "Unknown" and result.reason is not None
    assert result.reason.value == "budget"
    assert result.verdict.kind == "unknown" and not result.verdict.is_verified
    assert result.to_dict()["reason"] == "budget"


def test_timeout_is_unknown_with_reason_timeout() -> None:
    # needs an infinite model: every element has a strictly R-larger one, R transitive
    prem = ["∀x ∃y (R(x, y) ∧ ¬R(y, x))", "∀x ∀y ∀z (R(x, y) ∧ R(y, z) → R(x, z))"]
    start = time.perf_counter()
    result = check_entailment(prem, "∃x R(x, x)", timeout_ms=150)
    assert time.perf_counter() - start < 10  # three queries of 150 ms each, generously
    assert result.answer == "Unknown" and result.reason is not None
    assert result.reason.value == "timeout"
    assert result.evidence["query"] == "premises"


def test_to_dict_is_plain_json_with_provenance() -> None:
    result = check_entailment(["P(a)"], "P(a)", timeout_ms=1234, rlimit=999_999, run_id="t1")
    assert isinstance(result, EntailmentResult)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["answer"] == "True" and d["inconsistent"] is False and d["reason"] is None
    assert d["verdict"] == {"verdict": "verified", "detail": "the premises entail the conclusion"}
    assert Verdict.from_dict(d["verdict"]).is_verified
    prov = d["provenance"]
    assert prov["run_id"] == "t1" and prov["backend"] == "z3"
    assert prov["backend_version"] == z3.get_version_string()
    assert prov["limits"] == {"timeout_ms": 1234, "rlimit": 999_999}
    assert (prov["formalizer"], prov["formalizer_version"]) == ("fol-parser", "1")
    assert prov["wall_time_s"] >= 0


def test_threads_with_separate_contexts_agree() -> None:
    cases = [
        (["P(a)"], "P(a)", "True"),
        (["P(a)"], "¬P(a)", "False"),
        (["P(a)"], "Q(a)", "Uncertain"),
        (["x = 2"], "x * x = 4", "True"),
        (["P(a)", "¬P(a)"], "P(a)", "Inconsistent"),
    ] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda c: check_entailment(c[0], c[1]).answer, cases))
    assert answers == [c[2] for c in cases]


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        check_entailment(["P(a)"], "P(a)", timeout_ms=0)
    with pytest.raises(ValueError):
        check_entailment(["P(a)"], "P(a)", rlimit=-1)
    with pytest.raises(TypeError):
        check_entailment("P(a)", "P(a)")  # type: ignore[arg-type]
