"""The red-team claims of issue 11: words and unusual notation that the reader does not read as
written must never produce a verdict (formalizer/lexical.py); the words it does read
(``times``, ``divided by``, ``half of``, ``mod``, ``dozen``) are read for real."""

from __future__ import annotations

import pytest

from formalizer.stepcheck import Solution, StepChecker


def verdicts(*steps: str) -> list[tuple[str, str | None, str | None]]:
    result, _ = StepChecker().check(Solution("t", "", list(steps)))
    return [(c["formal"], c["verdict"], c["reason"]) for s in result["steps"] for c in s["claims"]
            if c["verdict"] is not None]


@pytest.mark.parametrize("text", [
    "3 times 4 = 4", "12 divided by 4 = 4", "half of 10 = 10", "7 mod 3 = 3", "3 dozen = 3",
    "2_000 = 2", "0x10 = 0", "0b11 = 0", "5 — 3 = 3", "2\u200b0 + 1 = 1", "2\u2060000 = 2",
    "１０ = 1", "1\u041e + 1 = 2",  # fullwidth digits; a Cyrillic capital O glued to a digit
    "10% of 200 = 2000", "10% * 10% = 100", "3 = 3%", "sqrt(-4) = 0", "(-1)^0.5 = 0",
    "3 fois 4 = 4",  # an operator word in another language: a number one word away
    "5 more than 3 = 3",  # the left operand runs on through "more than"
    "the product of 3 and 4 = 4",
])
def test_false_claims_are_never_verified(text: str) -> None:
    found = verdicts(text)
    assert found, text
    assert all(verdict not in ("verified", "verified_approx") for _, verdict, _ in found), found


@pytest.mark.parametrize("text, formal", [
    ("3 times 4 = 12", "(= (* 3 4) 12)"),
    ("12 divided by 4 = 3", "(= (/ 12 4) 3)"),
    ("half of 10 = 5", "(= (* (/ 1 2) 10) 5)"),
    ("7 mod 3 = 1", "(= (- 7 (* 3 (to_int (/ 7 3)))) 1)"),
    ("3 dozen = 36", "(= (* 3 12) 36)"),
    ("twice 8 = 16", "(= (* 2 8) 16)"),
    ("20 percent of 50 = 10", "(= (* (/ 20 100) 50) 10)"),
])
def test_operator_words_are_read_for_real(text: str, formal: str) -> None:
    assert verdicts(text) == [(formal, "verified", None)]


@pytest.mark.parametrize("text", [
    "3 times 4 = 12", "half of 10 = 5", "7 mod 3 = 1", "8 = 5 more than 3",
    "the product of 3 and 4 = 12", "2 + 3 times 4 = 20",  # precedence between words: unread
    "1000 + 1000 = 2 thousand", "12 = 3 times 4 apples", "30 minutes = 1 hour 30 minutes",
])
def test_true_claims_are_never_refuted(text: str) -> None:
    assert all(verdict != "refuted" for _, verdict, _ in verdicts(text)), verdicts(text)


def test_unread_notation_is_unknown_not_formalized() -> None:
    for text in ("2_000 = 2", "0x10 = 0", "5 — 3 = 3", "2\u200b0 + 1 = 1", "3 fois 4 = 4"):
        assert [(v, r) for _, v, r in verdicts(text)] == [("unknown", "not-formalized")], text


def test_percent_of_a_quantity_in_prose_is_not_an_equation_chain() -> None:
    # the GSM8K-style example: 48 is 120% of the actual number, not 48 = 1.2
    assert [(v, r) for _, v, r in verdicts("48 = 100% + 20% = 120% of the actual number")] == [
        ("unknown", "not-formalized")]
    # a computed percentage with "%" as the label of its result stays verified (GSM8K row 55)
    found = verdicts("Therefore, (75/100)*100=75% of the flowers are not roses.")
    assert [v for _, v, _ in found] == ["verified"]


def test_even_roots_of_negative_numbers_are_not_real() -> None:
    for text in ("sqrt(-4) = 0", "(-1)^0.5 = 0", "sqrt(-4) = 2"):
        (_, verdict, reason), = verdicts(text)
        assert (verdict, reason) == ("unknown", "not-formalized"), text


def test_a_binding_to_an_undefined_value_binds_nothing() -> None:
    found = verdicts("Let x = 1/0.", "Let y = 1/0.", "So x = y.")
    assert [v for _, v, _ in found[:2]] == ["refuted", "refuted"]  # a zero denominator
    assert found[2] == ("(= x y)", "unknown", "division-by-zero")
    in_one_step = verdicts("Let x = 1/0. Let y = 1/0. So x = y.")
    assert in_one_step[2][1:] == ("unknown", "division-by-zero")
    # a later definition of the name is a fresh value again
    assert verdicts("Let x = 1/0.", "Let x = 2.", "So x + 1 = 3.")[-1][1] == "verified"
