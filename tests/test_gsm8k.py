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
