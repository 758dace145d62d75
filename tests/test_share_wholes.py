"""A share (a proper fraction or a percentage under 100%) written against the part it gives or
next to the whole it is of: the text leaves the whole out of the equation, so the equation as
written is never the author's claim. It is ``unknown``, never ``refuted``; a real error next
to the same notation stays refuted.

Each ``*_not_refuted`` test failed before its fix (formalizer/operands.py). Rows run through
:meth:`formalizer.stepcheck.StepChecker.check` as ``proofgraph check`` does.
"""

from __future__ import annotations

from functools import partial

import pytest

from tests.slice_checks import claim_verdicts, refuted_claims

verdicts = partial(claim_verdicts, field="formal")
refuted = partial(refuted_claims, field="formal")


# _share_of_whole: a plain share (a percentage under 100%, or a proper fraction in lowest terms
# with a denominator of at most 12) set equal to a whole number ("1/3 = 10 are red", "25% =
# 10"): no reading makes that an equation of numbers (1/3 < 1 <= 10); the whole is named
# elsewhere in the text ("Of the 30 apples"). Before, a label word had to follow the count
# ("= 10 pupils"), so "1/3 = 10 are red" was refuted.
@pytest.mark.parametrize("step", [
    "Of the 30 apples, 1/3 = 10 are red.",
    "Of the 30 apples, 1/3 = 10.",
    "Of the 40 pupils, 25% = 10 walk to school.",
    "That leaves 2/5 = 12 of them.",
])
def test_a_share_set_equal_to_a_count_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []
    assert ("", "unknown") in verdicts([step])


def test_a_share_against_a_value_below_one_or_a_true_one_is_compared() -> None:
    # a share against a number that is not a whole count is an equation of numbers
    assert refuted(["So 20% = 0.3 here."]) == ["(= (/ 20 100) 0.3)"]
    assert refuted(["Here 2/3 = 0.6 of the cake."]) == ["(= (/ 2 3) 0.6)"]
    # a percentage of 100% or more may equal a whole number: compared as written
    assert verdicts(["That is 200% = 2 times as much."]) == [("(= (/ 200 100) 2)", "verified")]
    assert refuted(["So 300% = 2."]) == ["(= (/ 300 100) 2)"]
    # a division worked out (not in lowest terms, or a large denominator) is compared: an
    # inverted division is a real error (the labelled GSM8K mutants "2/4 = 8", "20/30 = 600",
    # "8/1000 = 8000" stayed refuted only with this)
    assert refuted(["So 4/12 = 3."]) == ["(= (/ 4 12) 3)"]
    assert refuted(["He gets 2/4 = 8."]) == ["(= (/ 2 4) 8)"]
    assert refuted(["It is 8/1000 = 8000."]) == ["(= (/ 8 1000) 8000)"]
    assert refuted(["So 20/30 = 600."]) == ["(= (/ 20 30) 600)"]
    # the links after a share's link are still checked
    assert refuted(["Of the 30 apples, 1/3 = 10 are red and 10 + 5 = 16 are green."]) == [
        "(= (+ 10 5) 16)"]


# shares_of_wholes: a link whose right side is "<share> of <number>" that fails as written
# (3/3 - 2/3 = 1/3 * 150) and holds for the share alone (3/3 - 2/3 = 1/3): the number may name
# the whole the share is of. GSM8K train row 2158 ("The housewife has 3/3 - 2/3 = 1/3 of $150
# left.") was refuted.
@pytest.mark.parametrize("step", [
    "The housewife has 3/3 - 2/3 = 1/3 of $150 left.",
    "Left: 1 - 0.75 = 25% of 80 dollars.",
    "She has 1 - 2/3 = 1/3 of 90 = 30 left.",
])
def test_a_share_next_to_its_whole_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []
    assert ("", "unknown") in verdicts([step])


def test_a_share_of_a_whole_with_a_real_error_stays_refuted() -> None:
    # fails for the share alone as well
    assert refuted(["So 3 - 2 = 1/2 of 4."]) == ["(= (- 3 2) (* (/ 1 2) 4))"]
    assert refuted(["Left: 1 - 0.75 = 20% of 80."]) == ["(= (- 1 0.75) (* (/ 20 100) 80))"]
    # the share's link is set aside; the wrong link after it is still refuted
    assert refuted(["She has 1 - 2/3 = 1/3 of 90 = 31 left."]) == ["(= (* (/ 1 3) 90) 31)"]
    # the share of the whole as a value, where it holds, is verified as before
    assert verdicts(["So 150 - 100 = 50 = 1/3 of 150 left."]) == [
        ("(= (- 150 100) 50)", "verified"), ("(= 50 (* (/ 1 3) 150))", "verified")]
    assert verdicts(["She spent 2/3 of 150 = 100 dollars."]) == [
        ("(= (* (/ 2 3) 150) 100)", "verified")]
