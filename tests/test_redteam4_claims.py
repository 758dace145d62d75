"""Red-team 4 of ``proofgraph check`` on competition-math notation: text whose author wrote a
true thing must never be ``refuted``, and a real error next to the same notation stays refuted.

Each ``test_*_not_refuted`` failed before the fix named in its comment. Rows are our own text,
run through :meth:`formalizer.stepcheck.StepChecker.check` as ``proofgraph check`` does.
"""

from __future__ import annotations

import pytest

from formalizer.names import function_names
from tests.slice_checks import claim_verdicts as verdicts
from tests.slice_checks import refuted_claims as refuted


# R1 (formalizer/names.function_names): a function applied to two different whole numbers
# (a recurrence, a number-theoretic function) was read as products T·2, T·3 of one unknown T,
# so T(3) = 2T(2) + 1 contradicted T(2) = 3 and was refuted.
@pytest.mark.parametrize("steps", [
    [r"We know $f(2) = 4$. Then $f(3) = f(2) + 5 = 9$."],
    [r"$T(2) = 3$, so $T(3) = 2T(2) + 1 = 7$."],
    [r"$f(1) = 1$, and $f(2) = f(1) + 3 = 4$."],
    [r"$\tau(6) = 4$ and $\tau(12) = \tau(6) + 2 = 6$."],
    ["tau(6) = 4 and tau(12) = tau(6) + 2 = 6."],
    [r"$d(6) = 4$", r"$d(12) = d(6) + 2 = 6$"],
])
def test_a_function_at_two_values_is_not_refuted(steps: list[str]) -> None:
    assert refuted(steps) == []


def test_function_names_at_values() -> None:
    assert function_names(["T(2) = 3", "T(3) = 7"]) == {"T"}
    assert function_names([r"\tau(6) = 4, \tau(12) = 6"]) == {"tau"}
    assert function_names(["p(1) = 0 and p(2) = 3"]) == {"p"}
    # one value only: T(2) stands for one unknown either way; a coefficient stays a factor
    assert function_names(["T(2) = 3"]) == frozenset()
    assert function_names(["a(-1)^3 + b(-1)^2 + c(-1) + d = -1, a(2)^3 + b(2)^2 = 4"]) == frozenset()
    assert function_names([r"(57 - 8i)(-6 + 5i) = 57(-6) - 8i(-6), i(2)"]) == frozenset()
    assert function_names([r"\pi(3)^2 = 9\pi and \pi(2)^2 = 4\pi"]) == frozenset()


def test_products_with_a_coefficient_still_checked() -> None:
    assert refuted(["x = 2", "So 3(4) + x(1) = 15."]) == ["3 ( 4 ) + x ( 1 ) = 15"]


# R2 (formalizer/normalize.normalize_math): "n!!" (a double factorial, 5!! = 15) was read as
# (n!)! and "4!! = 8" refuted with 4!! = 24!.
def test_a_double_factorial_is_not_refuted() -> None:
    for text in (r"$4!! = 8$", r"$5!! = 15$", r"$6!! = 6 \cdot 4 \cdot 2 = 48$", "7!! = 105"):
        assert refuted([text]) == [], text
    assert refuted([r"$6!! = 6 \cdot 4 \cdot 2 = 46$"]) == ["6 * 4 * 2 = 46"]


# R3 (formalizer/extract.prose_claims, _bang_read): an exclamation mark after a result ("So
# 2 + 2 = 4! Now ...") was read as a factorial and the claim refuted (4 != 24).
def test_an_exclamation_mark_is_not_a_refuted_factorial() -> None:
    for text in ("So 2 + 2 = 4!", "Great, that gives 3 + 4 = 7! Now we continue.",
                 "I get 12 * 2 = 24!", "We get 3! = 6! Nice."):
        assert refuted([text]) == [], text
    # wrong under both readings, or a factorial that holds: as before
    assert refuted(["So 2 + 2 = 5!"]) == ["2 + 2 = 5 !"]
    assert ("6 * 5 ! = 6 !", "verified") in verdicts(["So 6 * 5! = 6!"])
    assert ("5 ! = 120", "verified") in verdicts(["The number of ways is 5! = 120."])


# R4 (prover/arith/premises._literal): a rounded percentage after "=" had no tolerance, while
# the same rounded decimal had one: "1/3 = 33.3%" refuted, "1/3 = 0.333" verified_approx.
def test_a_rounded_percentage_is_not_refuted() -> None:
    for text in ("The probability is 1/3 = 33.3%.", r"$\frac{1}{6} = 16.67\%$",
                 "So 50/120 = 41.7%.", "2/3 = 66.67%"):
        assert [kind for _, kind in verdicts([text])] == ["verified_approx"], text
    for text in ("2/3 = 60%", "1/3 = 34%", "2/3 = 66.6%"):
        assert len(refuted([text])) == 1, text
    # a fraction written over 100 is not a rounded value
    assert refuted(["3/8 = 37/100"]) == ["(3/8) = (37/100)"]


# R5 (formalizer/extract._prose_argument, formalizer/lexical.OPERATOR_WORDS): the operand after
# "<noun> of", after an ordinal or after a function word in prose was compared as the value
# ("The square of 5 = 25" -> 5 = 25; "The 10th triangular number = 55" -> 10 = 55).
@pytest.mark.parametrize("text", [
    "The square of 5 = 25.", "The sum of the digits of 123 = 6.", "The price of 2 apples = $4.",
    "The units digit of 3^4 = 1.", "The 10th triangular number = 55.", "The 3rd term = 9",
    "The absolute value of -3 = 3.", "sqrt 16 = 4", "log 100 = 2", "sin 30 = 0.5",
    "Angle A = 30 degrees, so sin A = 1/2.",
])
def test_an_operand_named_in_prose_is_not_refuted(text: str) -> None:
    assert refuted([text]) == []


def test_an_argument_in_prose_does_not_rebind() -> None:
    assert refuted(["We know x = 3 and the square of x = 9, so 2x = 6."]) == []
    assert refuted(["x = 4, so sqrt x = 2.", "Then x^2 = 16."]) == []


def test_links_after_a_prose_operand_are_still_checked() -> None:
    assert ("3 * 5 = 15", "verified") in verdicts(["The cost of 3 shirts = 3 * 5 = 15."])
    assert refuted(["The cost of 3 shirts = 3 * 5 = 16."]) == ["3 * 5 = 16"]
    assert refuted(["The 5th term = 2^5 = 30."]) == ["2 ^ 5 = 30"]
    assert refuted(["The total cost of 3 * 5 = 16 dollars."]) == ["3 * 5 = 16"]
    assert refuted(["The value of x = 5, so 2x = 11."]) == ["2 x = 11"]
    assert refuted(["2 + 2 = 5"]) == ["2 + 2 = 5"]


# R6 (formalizer/step_scope.literal): a letter given a new value as a fraction ("common ratio
# r = 1/4" after "r = 1/2"; "slope m = -1/2" after "m = 2") was refuted, while the same reuse
# with a whole or decimal value is read as a new meaning.
@pytest.mark.parametrize("steps", [
    ["The first series has common ratio r = 1/2.", "The second series has common ratio r = 1/4."],
    [r"The squares form a series with common ratio \( r = \frac{1}{2} \).",
     r"The circles form a series with first term \( C_1 = \frac{\pi}{4} \) and common ratio "
     r"\( r = \frac{1}{4} \)."],
    ["Here m = 2 is the slope of line 1.", "Line 2 has slope m = -1/2."],
])
def test_a_letter_reused_with_a_fraction_is_not_refuted(steps: list[str]) -> None:
    assert refuted(steps) == []


def test_a_fraction_as_a_stated_value_is_checked_like_a_whole_number() -> None:
    assert refuted(["Since 4x = 1, x = 1/3."]) == ["x = (1/3)"]
    assert refuted(["Since 4x = 1, x = 3."]) == ["x = 3"]


# R7 (formalizer/lexical._starts_a_relation): "x = 3 and 2x = 6" in plain text left "x = 3"
# unread (a number one word away), so "2x = 6" was checked against an earlier x = 5.
def test_a_value_then_and_then_a_relation_binds() -> None:
    assert refuted(["x = 5", "Now x = 3 and 2x = 6."]) == []
    assert ("5 a = 10", "verified") in verdicts(["Let a = 2 and 5a = 10."])
    assert refuted(["Let a = 2 and 5a = 11."]) == ["5 a = 11"]
    # a list of values stays unread
    assert ("x = 3", "unknown") in verdicts(["The answers are x = 3 and 4."])


# R8 (formalizer/reading._REJECTED_BEFORE/_REJECTED_AFTER): a root the text throws out ("we
# discard y = -1", "Discarding y = -1, we get y = 3", "x = -3 is rejected") was read as
# asserted: refuted itself, or bound and then the kept root refuted against it.
QUADRATIC = ["$y^2 - 2y - 3 = 0$", "So $y = 3$ or $y = -1$."]


@pytest.mark.parametrize("step", [
    "Since $y > 0$, we discard $y = -1$ and keep $y = 3$.",
    "We reject $y = -1$ since y must be positive, so $y = 3$.",
    "Discarding $y = -1$, we get $y = 3$.",
    "Since y > 0, $y = -1$ is rejected and $y = 3$.",
    "Ruling out the negative root $y = -1$, we have $y = 3$.",
    "We exclude $y = -1$, which leaves $y = 3$.",
])
def test_a_discarded_root_is_not_refuted(step: str) -> None:
    assert refuted([*QUADRATIC, step]) == []


def test_a_kept_root_that_is_wrong_stays_refuted() -> None:
    assert refuted([*QUADRATIC, "Since $y > 0$, we discard $y = -1$ and keep $y = 4$."]) == [
        "y = 4"]
    assert refuted(["To eliminate y, we add: 2 + 3 = 6."]) == ["2 + 3 = 6"]


# R9 (formalizer/readings.reread): digits written side by side ("the two-digit number xy = 25"
# with x = 2, y = 5) were read as the product x*y = 10 and refuted.
def test_digits_side_by_side_are_not_refuted() -> None:
    assert refuted([r"Digits $a = 4$, $b = 5$: the number is $ab = 45$."]) == []
    assert refuted([r"$x = 2$, $y = 5$, so the two-digit number $xy = 25$."]) == []
    # a product that is neither the digits nor the product stays refuted
    assert refuted([r"$a = 4$, $b = 5$, so $ab = 46$."]) == ["a * b = 46"]
    assert ("a * b = 20", "verified") in verdicts([r"$a = 4$, $b = 5$, so $ab = 20$."])


# A set described by "such that"/"for which" and then a copula ("the number of n such that
# n!! divides 2012!! is 2011 - 1 + 1 = 1006"): the ground computation after the copula is
# asserted, so its error is refuted (the reading layer took it for a supposition). A claim with
# names there, and a set condition without a copula, stay supposed.
def test_a_count_stated_after_a_set_condition_is_checked() -> None:
    text = ("The number of integers n such that n!! divides 2012!! is "
            "$2011 - 1 + 1 = 1006$.")
    assert refuted([text]) == ["2011 - 1 + 1 = 1006"]
    assert refuted(["The number of values for which this works is 7 + 3 = 11."]) == [
        "7 + 3 = 11"]
    assert refuted(["The number of values for which this works is 7 + 3 = 10."]) == []


@pytest.mark.parametrize("steps", [
    ["x = 5", "We need x such that the total is x + 3 = 10."],
    ["Find n such that 2 + 2 = 5 would hold."],
    ["x = 2", "Pick the integers where x is 3x = 12."],
    ["If 2 + 2 = 5 then anything follows."],
])
def test_a_set_condition_still_supposes(steps: list[str]) -> None:
    assert refuted(steps) == []
