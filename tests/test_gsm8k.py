"""The step checker on 300 real GSM8K train solutions (tests/data, MIT licence).

Gold calculator annotations are never refuted; every deliberately mutated annotation is
refuted at its step with the two values as evidence; a prose number that disagrees with its
annotation is caught; and the only prose claims refuted in the slice are the five genuine
errors of the data set listed below (each was read by hand).
"""

from __future__ import annotations

import json
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest

from formalizer.inputs import split_gsm8k_answer
from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import format_number

DATA = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"
ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>(\S*)")

# (row, step, formal form): genuine mistakes in GSM8K's prose, read by hand
GENUINE_PROSE_ERRORS = {
    (167, 4, "(= (* 192 100) 1920)"),  # 192*100 is 19200
    (168, 1, "(= (* 6 2.5) 18.00)"),  # prose says 6*2.5, annotation 6*3
    (198, 5, "(= (/ 6 3) 0.5)"),  # 6/3 is 2
    (224, 0, "(= (+ 4080 (/ 4080 2)) (+ 4000 2040))"),  # 4000 is a typo for 4080
    (224, 0, "(= (+ 4000 2040) 6120)"),
}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def results(rows: list[dict]) -> list[dict]:
    checker = StepChecker()
    out = []
    for i, row in enumerate(rows):
        steps, final = split_gsm8k_answer(row["answer"])
        out.append(checker.check(Solution(str(i), row["question"], steps, final, i))[0])
    return out


def _claims(result: dict, kind: str | None = None):
    for step in result["steps"]:
        for claim in step["claims"]:
            if kind is None or claim["kind"] == kind:
                yield step["index"], claim


def test_every_gold_annotation_is_verified(results: list[dict]) -> None:
    annotations = [c for r in results for _, c in _claims(r, "annotation")]
    assert len(annotations) == 1012
    assert {c["verdict"] for c in annotations} == {"verified"}


def test_prose_refutations_are_exactly_the_known_data_errors(results: list[dict]) -> None:
    refuted = {(int(r["id"]), i, c["formal"]) for r in results for i, c in _claims(r)
               if c["verdict"] == "refuted"}
    assert refuted == GENUINE_PROSE_ERRORS
    prose = [c for r in results for _, c in _claims(r, "equation")]
    verified = sum(c["verdict"] == "verified" for c in prose)
    assert verified / len(prose) > 0.95  # coverage of visible equations


def _mutate(step: str, rng: random.Random) -> tuple[str, str, str] | None:
    """Change one annotation's result (inside and after it); return (step, old, new)."""
    matches = [m for m in ANNOTATION.finditer(step) if re.fullmatch(r"\d+(\.\d+)?", m.group(2))]
    if not matches:
        return None
    m = rng.choice(matches)
    old = Fraction(m.group(2))
    new = format_number(old + rng.choice([1, 2, 10]))
    visible = m.group(3).replace(m.group(2), new, 1)
    mutated = step[:m.start()] + f"<<{m.group(1)}={new}>>{visible}" + step[m.end():]
    return mutated, format_number(old), new


def test_each_mutated_annotation_is_refuted_at_its_step(rows: list[dict],
                                                         results: list[dict]) -> None:
    rng = random.Random(7)
    checker = StepChecker()
    mutated_count = 0
    for i, row in enumerate(rows):
        steps, final = split_gsm8k_answer(row["answer"])
        index = rng.randrange(len(steps))
        change = _mutate(steps[index], rng)
        if change is None:
            continue
        steps[index], old, new = change
        result, _ = checker.check(Solution(str(i), row["question"], steps, final, i))
        mutated_count += 1
        step = result["steps"][index]
        assert step["verdict"] == "refuted", (i, steps[index])
        annotation = [c for c in step["claims"] if c["kind"] == "annotation"
                      and c["verdict"] == "refuted"]
        assert annotation, (i, steps[index])
        assert Fraction(annotation[0]["evidence"]["lhs"].split(" ")[0]) == Fraction(old)
        assert annotation[0]["evidence"]["rhs"] == new
        earlier = results[i]["first_error"]
        expected = index if earlier is None else min(earlier, index)
        assert result["first_error"] == expected
    assert mutated_count > 200


def test_prose_that_disagrees_with_its_annotation_is_caught(rows: list[dict]) -> None:
    checker = StepChecker()
    caught = 0
    for i, row in enumerate(rows[:100]):
        steps, _ = split_gsm8k_answer(row["answer"])
        for text in steps:
            m = re.search(r"<<[^<>]*=(\d+)>>(\d+)\b", text)
            if not m or m.group(1) != m.group(2):
                continue
            wrong = str(int(m.group(2)) + 3)
            mutated = text[:m.start(2)] + wrong + text[m.end(2):]
            result, _ = checker.check(Solution(str(i), row["question"], [mutated]))
            claims = result["steps"][0]["claims"]
            assert all(c["verdict"] == "verified" for c in claims if c["kind"] == "annotation")
            if any(c["kind"] == "equation" and c["verdict"] == "refuted" for c in claims):
                caught += 1
            break
    assert caught >= 60


def test_the_real_mismatch_in_gsm8k_train() -> None:
    # GSM8K train row 3002: the prose multiplies 8*3 while the annotation computes 80*3
    step = ("Every tray needs 80 cookies and she's making 3 trays so 8*3 = <<80*3=240>>240")
    result, _ = StepChecker().check(Solution("3002", "", [step]))
    claims = {c["kind"]: c for c in result["steps"][0]["claims"]}
    assert claims["annotation"]["verdict"] == "verified"
    assert claims["equation"]["verdict"] == "refuted"
    assert claims["equation"]["evidence"] == {"lhs": "24", "rhs": "240"}
    assert result["first_error"] == 0


# --- word-problem misreadings of issue 11, on real GSM8K train text ---------------------------

WORDS = Path(__file__).parent / "data" / "gsm8k_train_words.jsonl"


def _check_words() -> dict[str, dict]:
    from formalizer.inputs import read_solutions

    checker = StepChecker()
    return {s.id: checker.check(s)[0] for s in read_solutions(WORDS) if isinstance(s, Solution)}


def _formal_verdicts(result: dict) -> list[tuple[str, str | None]]:
    return [(c["formal"], c["verdict"]) for s in result["steps"] for c in s["claims"]]


def test_correct_word_problem_solutions_with_units_are_never_flagged() -> None:
    """Units, percent labels, clock times, dozens, word operators: none is a flag."""
    results = _check_words()
    assert len(results) == 14
    flagged = {rid: [c for c in _formal_verdicts(r) if c[1] == "refuted"]
               for rid, r in results.items() if r["first_error"] is not None}
    assert flagged == {}
    verified = {rid: {f for f, v in _formal_verdicts(r) if v == "verified"}
                for rid, r in results.items()}
    assert "(= (* 3.5 60) 210)" in verified["train-6798"]  # Lena = 3.5 hours = 210 minutes
    assert "(= (* 1.5 12) 18)" in verified["train-4048"]  # Woody = 1.5 years = 18 months
    assert "(= (* 4.5 16) 72)" in verified["train-4272"]  # 4.5 pounds = 72 ounces
    assert "(= (* 100 0.01) 1)" in verified["train-7391"]  # 100 cents = $1
    assert "(= (* (- 2.50 2.24) 100) 26)" in verified["train-2429"]  # $2.50 - $2.24 = 26 cents
    assert "(= (* (/ 1 2) 22) 11)" in verified["train-4106"]  # half of 22 = 11
    assert "(= (+ (+ 3 2) 2) 7)" in verified["train-798"]  # 3+2+2 = 7 dozen: a label


def test_clock_times_and_split_numbers_are_unknown_not_refuted() -> None:
    results = _check_words()
    clock = [c for c in results["train-657"]["steps"][-1]["claims"]]
    assert {c["verdict"] for c in clock} == {"unknown"}  # 0900-0130 = 0730 is clock arithmetic
    split = [c for c in results["train-6498"]["steps"][-1]["claims"]
             if c["kind"] == "equation"]  # "14, 400 / 80 = 180": 14,400 with a space
    assert split and {c["verdict"] for c in split} == {"unknown"}


@pytest.mark.parametrize("text, expected", [
    # the issue's word-problem misreadings (GSM8K-style model text quoted in issue 11)
    ("Movie C = 1.25 hours = 75 minutes", ("(= (* 1.25 60) 75)", "verified")),
    ("12*1=12 inches=1 foot", ("(= (* 12 (/ 1 12)) 1)", "verified")),
    ("48 = 100% + 20% = 120% of the actual number", ("", "unknown")),
])
def test_issue_word_problem_misreadings(text: str, expected: tuple[str, str]) -> None:
    result, _ = StepChecker().check(Solution("issue", "", [text]))
    assert _formal_verdicts(result)[-1] == expected
    assert result["first_error"] is None


def test_row_501_link_between_numbers_is_checked_when_the_chain_starts_in_prose() -> None:
    # issue 11, GSM8K row 501: the prose chain is wrong (364 / 4 is 91) while the annotation is
    # right; its far left end is prose, but the numeric link must still be read and refuted
    step = "3/4 of a skein of yarn * 364 yards = 364 / 4 = <<3/4*364=273>>273 yards"
    result, _ = StepChecker().check(Solution("501", "", [step]))
    found = _formal_verdicts(result)
    assert ("(= (* (/ 3 4) 364) 273)", "verified") in found  # the annotation
    assert ("(= (/ 364 4) 273)", "refuted") in found
    assert result["first_error"] == 0
