"""Two reading rules that could verify what they should not (review of 2026-12-03).

1. ``%`` read as a unit label (formalizer/readings.py): faithful only where the text treats the
   number as a percentage (the computation scales by 100, a side is itself a percentage, or the
   step speaks of percentages outside the claim); a plain sum suddenly followed by ``%`` is
   ``unknown`` with the reason, never verified by the guess.
2. ``$`` before a digit read as currency (formalizer/latex.py): decided per ``$`` on its own
   span, so prose inside a math span's ``\\text{...}`` switches nothing on elsewhere, and the
   remaining ``$`` delimiters are never re-paired.
"""

from __future__ import annotations

import pytest

from formalizer.latex import STOP, read_latex
from formalizer.stepcheck import Solution, StepChecker

CHECKER = StepChecker()
LABEL = "% as a unit label (75% meaning the number 75)"


def claims(text: str) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
    """(formal, verdict, reason, detail, reading) of every decided or unknown claim."""
    result, _ = CHECKER.check(Solution("t", "", [text]))
    return [(c["formal"], c["verdict"], c["reason"], c.get("detail"),
             (c.get("evidence") or {}).get("reading"))
            for s in result["steps"] for c in s["claims"] if c["verdict"] is not None]


# ------------------------------------------------------------------------------ 1. "%"
@pytest.mark.parametrize("text", [
    r"\(-0 + 798 = 798\%\)",  # the review's case: a plain sum, then "%"
    "-0 + 798 = 798%", "50 - 20 = 30%", "3 + 4 = 7%", r"So $12 + 5 = 17\%$ here.",
])
def test_a_plain_sum_followed_by_percent_is_unknown_not_verified(text: str) -> None:
    (formal, verdict, reason, detail, reading), = claims(text)
    assert "(/ " in formal and " 100)" in formal  # the claim as written: "%" is /100
    assert (verdict, reason, reading) == ("unknown", "not-formalized", None), text
    assert detail is not None and "label is not supported" in detail


@pytest.mark.parametrize("text, formal, verdict", [
    ("Therefore, (75/100)*100=75% of the flowers are not roses.",  # scales by 100
     "(= (* (/ 75 100) 100) (/ 75 100))", "verified"),
    (r"The share is \(\frac{3}{4} \times 100 = 75\%\).",
     "(= (* (/ 3 4) 100) (/ 75 100))", "verified"),
    ("(150-100)/100*100 = 50%", "(= (* (/ (- 150 100) 100) 100) (/ 50 100))", "verified"),
    ("The percentage of boys is 100 - 40 = 60%", "(= (- 100 40) (/ 60 100))", "verified"),
    ("Since 40% are girls, 100 - 40 = 60% are boys.", "(= (- 100 40) (/ 60 100))", "verified"),
    # 100 as the whole: its complement, its share (GSM8K train rows 330 and 590)
    ("Laura expects 100 - 5 = 95% to show up.", "(= (- 100 5) (/ 95 100))", "verified"),
    ("we divide 100/4 = 25%.", "(= (/ 100 4) (/ 25 100))", "verified"),
])
def test_a_genuine_percentage_label_stays_verified(text: str, formal: str, verdict: str) -> None:
    assert claims(text) == [(formal, verdict, None, None, LABEL)]


def test_a_percentage_on_each_side_is_read_as_written() -> None:
    # 1/3 = 33.333% as a rounded percentage (half a unit of its last digit): no label needed
    assert claims("$9 / $27 * 100% = 33.333%") == [
        ("(= (* (/ 9 27) (/ 100 100)) (/ 33.333 100))", "verified_approx", None, None, None)]


@pytest.mark.parametrize("text", [
    "(3/4)*100 = 70%", "The percentage of boys is 100 - 40 = 50%",
])
def test_a_false_percentage_is_refuted_under_either_reading(text: str) -> None:
    assert [v for _, v, _, _, _ in claims(text)] == ["refuted"]


# ------------------------------------------------------------------------------ 2. "$"
def test_prose_in_a_math_text_group_does_not_turn_other_dollars_into_currency() -> None:
    # the base read every "$" before a digit as currency once "\text{ ways in all}" (prose)
    # sat in one span: "$n$ we have 3 + 4 = 8, and $" was re-paired into a math span, its
    # words split into products and the false claim was lost
    text = r"There are $7 \text{ ways in all}$; for $n$ we have 3 + 4 = 8, and $a = 1$."
    found = claims(text)
    assert ("(= (+ 3 4) 8)", "refuted", None, None, None) in found
    read = read_latex(text)
    assert "we have 3 + 4 = 8" in read and f"{STOP}a = 1{STOP}" in read


def test_a_text_group_inside_a_digit_span_keeps_the_span_math() -> None:
    read = read_latex(r"So $12 \text{ cookies per box}$ and then $2 + 3 = 5$, and $4 = 4$.")
    assert f"{STOP}2 + 3 = 5{STOP}" in read and f"{STOP}4 = 4{STOP}" in read
    assert "$" not in read


@pytest.mark.parametrize("text, formal", [
    # a "$" whose closing "$" is followed by a digit opens no math (pandoc's rule)
    (r"Each box costs $2 \times $4 = $8 in all, where \(x = 1\).", "(= (* 2 4) 8)"),
    (r"So he pays $3 + $5 = $8 in total and \(y = 2\).", "(= (+ 3 5) 8)"),
])
def test_currency_signs_between_amounts_are_read_as_currency(text: str, formal: str) -> None:
    assert (formal, "verified", None, None, None) in claims(text)


def test_a_currency_span_through_prose_is_still_currency() -> None:
    read = read_latex(r"Tom earns $4 daily and spends $3 weekly, so \(7 \cdot 4 = 28\).")
    assert read.startswith("Tom earns 4 daily and spends")
    assert f"{STOP}7 \\cdot 4 = 28{STOP}" in read
    assert ("(= (* 7 4) 28)", "verified", None, None, None) in claims(
        r"Tom earns $4 daily and spends $3 weekly, so \(7 \cdot 4 = 28\).")


def test_inline_math_before_digits_stays_math() -> None:
    read = read_latex(r"We get $3 + 4 = 7$ and $2x = 6$, so $x = 3$.")
    for part in ("3 + 4 = 7", "2x = 6", "x = 3"):
        assert f"{STOP}{part}{STOP}" in read, read
