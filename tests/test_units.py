"""Quantities with units are read with pint's registry (formalizer/units.py): conversions are
verified or refuted through the registry's exact factors, and units it cannot relate leave the
claim unknown, never refuted. Texts marked GSM8K are GSM8K train solutions (MIT licence, see
tests/data/LICENSE.gsm8k) or the issue's misread examples."""

from __future__ import annotations

from fractions import Fraction

import pytest

from formalizer.stepcheck import Solution, StepChecker
from formalizer.units import Conversion, UnitsProblem, convert_pair, is_unit_word, unit_name


def claims(*steps: str) -> list[tuple[str, str | None, str | None]]:
    result, _ = StepChecker().check(Solution("t", "", list(steps)))
    return [(c["formal"], c["verdict"], c["reason"]) for s in result["steps"] for c in s["claims"]]


def test_unit_words_come_from_the_registry() -> None:
    assert unit_name("hours") == "hour" and unit_name("ft") == "foot"
    assert unit_name("lbs") == "pound" and unit_name("km") == "kilometer"
    assert unit_name("cents") == "cent" and unit_name("dollars") == "dollar"  # our definitions
    assert unit_name("dozen") == "dozen"
    # English words pint also defines (annum, cement bag, nano-day, ordinal suffixes): not units
    for word in ("a", "bag", "quarter", "nd", "th", "turn", "S", "apples", "in"):
        assert not is_unit_word(word), word


@pytest.mark.parametrize("left, right, factor", [
    ("1.25 hours", "75 minutes", Fraction(60)),
    ("12 inches", "1 foot", Fraction(1, 12)),
    ("0.50 dollars", "50 cents", Fraction(100)),
    ("1.5 years", "18 months", Fraction(12)),  # both calendar units: exact by definition
    ("4.5 pounds", "72 ounces", Fraction(16)),
    ("3 dozen", "36", Fraction(12)),  # a counting word against a plain number
])
def test_conversion_factors_are_the_registry_s(left: str, right: str, factor: Fraction) -> None:
    assert convert_pair(left, right) == Conversion(factor, Fraction(1))


@pytest.mark.parametrize("left, right", [
    (".4 liters * 1000 ml/liter", "400 ml"),  # units cancel: same unit on both sides
    ("80 minutes/day * 6 days/week", "480 minutes/week"),
    ("180 minutes / 60 minutes/hour", "3 hours"),
    ("5 apples + 3 apples", "8 apples"),  # not registry units: labels
])
def test_same_units_or_labels_are_compared_as_numbers(left: str, right: str) -> None:
    assert convert_pair(left, right) is None


def test_a_counting_word_is_a_label_first_and_its_count_as_a_fallback() -> None:
    assert convert_pair("3+2+2", "7 dozen") == Conversion(Fraction(1), Fraction(12), True)
    assert claims("She made 3+2+2 = 7 dozen appetizers")[0][:2] == (
        "(= (+ (+ 3 2) 2) 7)", "verified")  # GSM8K train row 798: a label
    assert claims("1000 + 1000 = 2 thousand")[0][:2] == (
        "(= (+ 1000 1000) (* 2 1000))", "verified")  # the count, where the label fails
    assert claims("1000 + 1000 = 3 thousand")[0][1] == "refuted"  # false both ways


@pytest.mark.parametrize("left, right, why", [
    ("100 miles", "1 hour", "cannot be related"),
    ("8 ounces", "1 cup", "cannot be related"),  # mass vs volume
    ("1 year", "365 days", "calendar"),  # pint's Julian year is 365.25 days: a convention
    ("2 hours * 60", "120 minutes", "no unit"),  # the 60 may be the conversion factor
    ("1 hour + 30 minutes", "90 minutes", "not a product"),
])
def test_what_cannot_be_related_is_a_problem_not_a_verdict(left: str, right: str,
                                                           why: str) -> None:
    problem = convert_pair(left, right)
    assert isinstance(problem, UnitsProblem) and why in problem.reason


def test_issue_unit_misreadings_are_verified() -> None:
    # the issue's examples (GSM8K-style prose): were refuted as 1.25 = 75 and 12 = 1
    assert claims("Movie C = 1.25 hours = 75 minutes")[-1] == ("(= (* 1.25 60) 75)", "verified",
                                                                None)
    assert claims("12*1=12 inches=1 foot") == [("(= (* 12 1) 12)", "verified", None),
                                               ("(= (* 12 (/ 1 12)) 1)", "verified", None)]
    assert claims("12 inches = 1 foot") == [("(= (* 12 (/ 1 12)) 1)", "verified", None)]
    # GSM8K train rows 6798 and 4048
    assert claims("Lena = 3.5 hours = 210 minutes") == [("(= (* 3.5 60) 210)", "verified", None)]
    assert claims("Woody = 1.5 years = 18 months") == [("(= (* 1.5 12) 18)", "verified", None)]


def test_wrong_conversions_are_refuted_with_the_registry_factor() -> None:
    assert claims("Movie C = 1.25 hours = 80 minutes")[-1][1] == "refuted"
    assert claims("12 inches = 2 feet")[0][1] == "refuted"
    assert claims("3 dozen = 3")[0][1] == "refuted"  # 36 is not 3


def test_dollars_and_cents() -> None:
    # GSM8K train rows 2429 and 7391: "$" is a dollar where the step also speaks of cents
    assert claims("So, Bea earned $2.50 - $2.24 = 26 cents more than Dawn.") == [
        ("(= (* (- 2.50 2.24) 100) 26)", "verified", None)]
    assert claims("Each dryer costs 25 x 4 = 100 cents = $1")[-1] == (
        "(= (* 100 0.01) 1)", "verified", None)
    assert claims("So $2.50 = 25 cents")[0][1] == "refuted"
    assert claims("It costs $5.50 * 2 = $11.00")[0][1] == "verified"  # one currency: as before


def test_units_the_registry_cannot_relate_are_unknown_never_refuted() -> None:
    for text in ("100 miles = 1 hour", "1 year = 365 days", "8 ounces = 1 cup",
                 "Mac runs 2 hours * 60 minutes = 120 minutes"):
        (formal, verdict, reason), = claims(text)
        assert (verdict, reason) == ("unknown", "not-formalized"), text


def test_counting_words_label_sums_of_counts() -> None:
    # GSM8K train row 242: "dozen" is a label on both sides, not a multiplier
    step = "Ann had 3 dozen oatmeal cookies - 2 dozen = <<3-2=1>>1 dozen oatmeal cookies left."
    assert {verdict for _, verdict, _ in claims(step)} == {"verified"}
