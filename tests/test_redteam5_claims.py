"""Red-team 5 of ``proofgraph check`` on model-written GSM8K / MATH-style solutions: a claim the
author wrote correctly must never be ``refuted``, and a real error next to the same notation
stays refuted.

Each ``test_*_not_refuted`` failed before the fix named in its comment. Rows are our own text,
run through :meth:`formalizer.stepcheck.StepChecker.check` as ``proofgraph check`` does.
"""

from __future__ import annotations

from functools import partial

import pytest

from tests.slice_checks import claim_verdicts, refuted_claims

verdicts = partial(claim_verdicts, field="formal")
refuted = partial(refuted_claims, field="formal")


# S1 (formalizer/extract._running_totals): a running total written as one chain ("4 * 5 =
# 20 + 10 = 30", "100 - 20 = 80 - 15 = 65") was read as the equation 4 * 5 = 20 + 10 and
# refuted (20 against 30). The link whose right side starts with the left side's exact value
# and goes on with an operator is unknown; the links after it are still checked.
@pytest.mark.parametrize("step", [
    "Total: 5 + 3 = 8 + 2 = 10.",
    "The total is 4 * 5 = 20 + 10 = 30 dollars.",
    r"$20 \div 4 = 5 \times 3 = 15$",
    "He has 100 - 20 = 80 - 15 = 65 dollars left.",
    "The remaining amount is $50 - $20 = $30 - $10 = $20.",
])
def test_a_running_total_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []
    assert ("", "unknown") in verdicts([step])


def test_a_running_total_with_an_error_stays_refuted() -> None:
    # the carried value is wrong, or the link after it is wrong
    assert refuted(["Total: 5 + 3 = 9 + 2 = 11."]) == ["(= (+ 5 3) (+ 9 2))"]
    assert refuted(["Total: 5 + 3 = 8 + 2 = 11."]) == ["(= (+ 8 2) 11)"]
    assert refuted(["He has 100 - 20 = 80 - 15 = 60 dollars left."]) == ["(= (- 80 15) 60)"]
    # a left side without a rational value is never carried forward
    assert refuted([r"So $2\sqrt{7} = 5 + 1 = 6$."]) == ["(= (* 2 (^ 7 0.5)) (+ 5 1))"]
    # a fraction after "=" is a value, never a total carried on ("(10*11*21)/6 = 385/6" is
    # wrong: 2310/6 = 385); found by ProcessBench dev2 olympiadbench-914
    assert refuted([r"$S_{10} = \frac{10 \cdot 11 \cdot 21}{6} = 385/6 = 64.17$"]) == [
        "(= (/ (* (* 10 11) 21) 6) (/ 385 6))"]
    # two sides only: no total follows, the equation is as written
    assert refuted(["So 5 + 3 = 8 + 2."]) == ["(= (+ 5 3) (+ 8 2))"]
    # a chain that holds is verified link by link, as before
    assert verdicts(["Then 2 + 2 = 4 + 0 = 4."]) == [
        ("(= (+ 2 2) (+ 4 0))", "verified"), ("(= (+ 4 0) 4)", "verified")]


# S2 (formalizer/operands.prose_argument): the lone number after "<noun> on" or "<noun> for"
# ("the sales tax on $80 = ...", "a 20% discount on $45 = $9", "shipping for 3 items = $4.50")
# was compared as the noun's value (80 = 0.08 * 80 refuted), as "<noun> of" was before
# red-team 4. It is what the quantity named in prose is on or for: unknown; the links after it
# are still checked.
@pytest.mark.parametrize("step", [
    "The sales tax on $80 = 0.08 × 80 = $6.40.",
    "Her commission on $2,000 = 5% × 2,000 = $100.",
    "A 15% tip on $40 = 0.15 × 40 = $6.",
    "A 20% discount on $45 = $9, so she pays $36.",
    "Interest on $1,000 = $50.",
    "Shipping for 3 items = $4.50.",
])
def test_an_operand_after_on_or_for_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_links_after_an_on_or_for_operand_are_still_checked() -> None:
    assert refuted(["The sales tax on $80 = 0.08 × 80 = $6.50."]) == ["(= (* 0.08 80) 6.50)"]
    assert refuted(["A 15% tip on $40 = 0.15 × 40 = $7."]) == ["(= (* 0.15 40) 7)"]
    assert ("(= (* 0.08 80) 6.40)", "verified") in verdicts(
        ["The sales tax on $80 = 0.08 × 80 = $6.40."])
    # a count with its label, then the computation: read as before
    assert verdicts(["The cost for 5 people = 5 × $12 = $60."]) == [
        ("(= (* 5 12) 60)", "verified")]
    assert refuted(["The cost for 5 people = 5 × $12 = $65."]) == ["(= (* 5 12) 65)"]
    # after "on" or "for", a first link that holds stays verified
    assert verdicts(["The sale was for 20% = 0.2 off."]) == [("(= (/ 20 100) 0.2)", "verified")]


# S3 (formalizer/lexical._across_stop): "in" right between two lone numbers writes a ratio
# ("the odds are 1 in 4 = 25%", "3 in 10 = 30% of voters"); the reader stopped at "in" and
# compared 4 = 25%, refuted. The operand goes on across "in": unknown, as "18 out of 20 = 90%"
# already is.
@pytest.mark.parametrize("step", [
    "The odds are 1 in 4 = 25%.",
    "The chance of rain is 3 in 10 = 30%.",
    "So 1 in 5 = 0.2 of the boxes.",
])
def test_n_in_m_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []
    assert [kind for _, kind in verdicts([step])] == ["unknown"]


def test_in_before_an_expression_still_checked() -> None:
    assert verdicts(["The odds are 1 in 4 = 25%."]) == [("", "unknown")]
    # "in" before a computation that is not a lone number: the computation is the claim
    assert refuted(["He ran 3 in 2 + 2 = 5 hours."]) == ["(= (+ 2 2) 5)"]
    assert refuted(["In 2 + 3 = 6 hours he rested."]) == ["(= (+ 2 3) 6)"]


# S4 (formalizer/operands._count_against_number): a count of named things set against a
# dollar amount ("1 ticket = $5", "12 eggs = $3"): the "$" is gone before tokens are read, so
# the two numbers were compared (1 = 5, refuted). A count with its label against a bare number
# is unknown; the same label on both sides ("3 apples = 6 apples") is still compared. (The
# helper's first fix spelled every "$" of such a step as dollars: on GSM8K gold it made 30
# correct claims unknown and one wrong refute, so it was not taken.)
@pytest.mark.parametrize("step", [
    "1 ticket = $5, so 4 tickets = $20.",
    "So 8 tokens = $2.",
    "3 apples = $6",
    "12 eggs = $3, so 1 egg = $3/12 = $0.25.",
    "1,000 tickets = $5,000, so 1 ticket = $5,000/1,000 = $5.",
])
def test_a_count_against_a_dollar_amount_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_arithmetic_next_to_a_price_is_still_checked() -> None:
    assert refuted(["12 eggs = $3, so 1 egg = $3/12 = $0.20."]) == ["(= (/ 3 12) 0.20)"]
    assert refuted(["1 ticket = $5, so 4 tickets cost 4 x $5 = $25."]) == ["(= (* 4 5) 25)"]
    assert refuted(["She has 3 apples = 6 apples."]) == ["(= 3 6)"]
    assert refuted(["So $3 + $4 = $8."]) == ["(= (+ 3 4) 8)"]
    # the money a count sold for ("$560 / $80 = 7 weeks") is read as before
    assert verdicts(["It will take her $560 / $80 = 7 weeks."]) == [
        ("(= (/ 560 80) 7)", "verified")]
    assert ("(= (/ 120 3) 40)", "verified") in verdicts(
        ["At $3 a dozen, Krista sold $120 / $3 = <<120/3=40>>40 dozen eggs."])


# S5 (formalizer/operands._share_of_whole): a lone percentage that names a quantity in prose
# ("a 20% tip = $9.12") or that is set against a whole count of named things ("25% = 10
# students") is a share of a whole the text names elsewhere; it was compared as the number
# 0.2 (0.2 = 9.12, refuted). A failing first link of that shape is unknown; the links after it
# are checked, and a percentage against a bare number is compared as written.
@pytest.mark.parametrize("step", [
    "The bill is $45.60. A 20% tip = $9.12. Total = $54.72.",
    "Out of 40 students, 25% = 10 students like math.",
    "He got 90% = 18 questions right.",
    "The jacket is $80, and the 15% discount = $12.",
])
def test_a_percentage_share_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_a_percentage_share_still_checks_what_follows() -> None:
    assert verdicts(["Out of 40 students, 25% = 10 students like math."]) == [("", "unknown")]
    assert refuted(["A 20% tip = 0.2 × 45.60 = $9.50."]) == ["(= (* 0.2 45.60) 9.50)"]
    assert ("(= (* 0.2 45.60) 9.12)", "verified") in verdicts(["A 20% tip = 0.2 × 45.60 = $9.12."])
    assert refuted(["So 20% = 0.3."]) == ["(= (/ 20 100) 0.3)"]
    assert refuted(["Then 20% * 50 = 12 students."]) == ["(= (* (/ 20 100) 50) 12)"]
    assert verdicts(["So 20% = 0.2 and 25% = 1/4."]) == [
        ("(= (/ 20 100) 0.2)", "verified"), ("(= (/ 25 100) (/ 1 4))", "verified")]


# S6 (formalizer/unit_runs.lexical_reading): a chain whose last link converts into a unit the
# registry never reads (single letters: "m", "g", "L"): "4 × 50 = 200 cm = 2 m" compared
# 200 = 2 and refuted it. Two lone quantities ("150 cm = 1.5 m") were already unknown
# (regions.shape); in a chain that last link is now unknown too, and the links before it are
# read as written.
@pytest.mark.parametrize("step", [
    "It is 4 × 50 = 200 cm = 2 m long.",
    "He walks 2 × 3 = 6 km = 6000 m.",
    "The ribbon is 3 × 50 = 150 cm = 1.5 m.",
    "The drawing is 4 × 50 = 200 cm = 2 m wide.",
])
def test_a_chain_ending_in_an_unread_unit_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []
    assert ("", "unknown") in verdicts([step])


def test_links_before_an_unread_unit_are_still_checked() -> None:
    assert refuted(["It is 4 × 50 = 210 cm = 2.1 m long."]) == ["(= (* 4 50) 210)"]
    assert ("(= (* 4 50) 200)", "verified") in verdicts(["It is 4 × 50 = 200 cm = 2 m long."])
    # a unit the registry reads is still converted and checked
    assert refuted(["It takes 2 × 30 = 60 minutes = 2 hour."]) == ["(= (* 60 (/ 1 60)) 2)"]


def test_links_before_an_unread_unit_keep_their_relation() -> None:
    # found in review: the links before the unread unit were re-joined with "=", so a true
    # "4 * 50 < 250" was checked (and refuted) as "4 * 50 = 250"
    assert ("(< (* 4 50) 250)", "verified") in verdicts(["It is 4 * 50 < 250 cm = 2.5 m long."])
    assert refuted(["It is 4 * 50 < 150 cm = 1.5 m long."]) == ["(< (* 4 50) 150)"]


# S7 (formalizer/unit_runs.lexical_reading, _scale_correspondence): in a step about a scale (a
# map, a drawing, a model), "1 inch = 50 miles" states the scale; the registry converted it as
# a unit conversion (1/63360 mile against 50) and refuted it. Two lone quantities in a step
# with a scale word, whose right side is larger than the left converted, are unknown. A
# conversion that falls short ("3 feet = 30 inches" on a map) and any conversion outside such
# a step are still checked.
@pytest.mark.parametrize("step", [
    "On the map, 1 inch = 50 miles, so 3 inches = 150 miles.",
    "The scale is 1 cm = 5 km. So 4 cm = 20 km.",
    "The model car is 1 inch = 2 feet, so 5 inches = 10 feet.",
])
def test_a_scale_is_not_a_refuted_conversion(step: str) -> None:
    assert refuted([step]) == []


def test_conversions_stay_checked_next_to_a_scale() -> None:
    assert refuted(["On the map 1 cm = 2 km, so 7 cm = 7 × 2 = 15 km."]) == ["(= (* 7 2) 15)"]
    assert refuted(["The map is 3 feet = 30 inches wide."]) == ["(= (* 3 12) 30)"]
    assert verdicts(["The map is 3 feet = 36 inches wide."]) == [("(= (* 3 12) 36)", "verified")]
    assert refuted(["So 1 mile = 5000 feet."]) == ["(= (* 1 5280) 5000)"]
    assert refuted(["1 inch = 50 miles"]) == ["(= (* 1 (/ 1 63360)) 50)"]
    assert verdicts(["On the map, 1 inch = 50 miles."]) == [("", "unknown")]


# S8 (formalizer/operands.prose_argument): the lone number after "at" is a price or a rate
# ("3 shirts at $12 = $36", "7 at $2 each = $14", "7 lemons/yr at $1.5 = $10.5/yr"); it was
# compared as the total (12 = 36, refuted). A failing first link of that shape is unknown;
# the links after it are checked, and a quantity in units after "at" is converted as before.
@pytest.mark.parametrize("step", [
    "She bought 3 shirts at $12 = $36.",
    "He sold 7 at $2 each = $14.",
    "It yields 7 lemons/yr at $1.5 = $10.5/yr.",
])
def test_a_price_after_at_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_links_after_a_price_at_are_still_checked() -> None:
    assert verdicts(["She bought 3 shirts at $12 = $36."]) == [("", "unknown")]
    assert refuted(["She bought 3 shirts at $12 = 3 × 12 = $38."]) == ["(= (* 3 12) 38)"]
    assert refuted(["They meet at 3 + 2 = 6 pm."]) == ["(= (+ 3 2) 6)"]
    assert verdicts(["He drives at 60 mph = 1 mile per minute."]) == [
        ("(= (* 60 (/ 1 60)) 1)", "verified")]


# S9 (formalizer/operands.prose_argument, _DETERMINERS): a number after "of" and determiners
# ("25% of the remaining 16 = 4", "half of the remaining 16 = 8", "1/4 of her 20 = 5") is what
# the part is taken of; the reader cut the run at the determiner and compared 16 = 4, refuted.
# "of" right before the number was already read (red-team 4, R5); with determiners between, a
# failing first link is unknown and the links after it are checked.
@pytest.mark.parametrize("step", [
    "25% of the remaining 16 = 4 in jazz.",
    "Half of the remaining 16 = 8 go home.",
    "She gave away 1/4 of her 20 = 5 stickers.",
])
def test_a_number_after_of_and_determiners_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_links_after_of_and_determiners_are_still_checked() -> None:
    assert refuted(["Half of the remaining 16 = 16/2 = 9."]) == ["(= (/ 16 2) 9)"]
    assert ("(= (/ 16 2) 8)", "verified") in verdicts(["Half of the remaining 16 = 16/2 = 8."])
    assert verdicts(["Half of the remaining 16 = 8 go home."]) == [("", "unknown")]


# S10 (formalizer/operands._share_of_whole, _share_end): S5 for a proper fraction: "10 liters
# with 2/3 water = 20/3 liters", "15 L with 3/5 water = 9 L", "30 pupils; 1/3 = 10 pupils"
# compared the fraction itself (3/5 = 9, refuted).
@pytest.mark.parametrize("step", [
    "Orange drink: 10 liters with 2/3 water = 20/3 liters water.",
    "Pineapple: 15 L with 3/5 water = 9 L.",
    "There are 30 pupils; 1/3 = 10 pupils walk.",
])
def test_a_fraction_share_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_a_fraction_share_still_checks_what_follows() -> None:
    assert refuted(["Then 2/3 water = 2/3 × 10 = 7 liters."]) == ["(= (* (/ 2 3) 10) 7)"]
    assert refuted(["So 2/3 = 0.6."]) == ["(= (/ 2 3) 0.6)"]
    assert refuted(["So 1/3 * 30 = 11 students."]) == ["(= (* (/ 1 3) 30) 11)"]
    assert verdicts(["Pineapple: 15 L with 3/5 water = 9 L."]) == [("", "unknown")]


# S11 (formalizer/operands._named_by_a_label): a capitalised noun and a whole number name a
# quantity ("Box 1 = 12", "Round 2 = 15 points", "Team 1 = 5 players"); the number was compared
# as the value (1 = 12, refuted). A failing first link of that shape is unknown; the links after
# it are checked, and a word that ends a clause ("has", "total") is no label.
@pytest.mark.parametrize("step", [
    "Box 1 = 12, Box 2 = 2 × 12 = 24.",
    "Round 2 = 15 points.",
    "Team 1 = 5 players and Team 2 = 5 + 2 = 7 players.",
])
def test_a_labelled_index_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_links_after_a_labelled_index_are_still_checked() -> None:
    assert verdicts(["Round 2 = 15 points."]) == [("", "unknown")]
    assert refuted(["Room 4 = 4 + 4 = 9 chairs."]) == ["(= (+ 4 4) 9)"]
    assert refuted(["He has 8 = 9 apples."]) == ["(= 8 9)"]
    assert refuted(["So total 12 = 13."]) == ["(= 12 13)"]
    # a verb or a lower-case word before the number is no label: its value is compared
    assert refuted(["It costs 10 = 12 dollars."]) == ["(= 10 12)"]
    assert refuted(["after round 2 = 15 points"]) == ["(= 2 15)"]


# S12 (formalizer/readings._range_count): a glued range right after a word ("ages 6-8 = 4
# kids", "items 1-10 = 25 dollars") states what the named range holds; only a range whose
# stated number is its length or count was unknown (red-team 4), so "6-8 = 4" was refuted as
# a subtraction. A glued range after a noun is now unknown whatever the count; after a word
# that ends a clause ("so 6-8 = 4") it is a subtraction as before.
@pytest.mark.parametrize("step", [
    "Ages 3-5 = 3 kids, ages 6-8 = 4 kids: 3 + 4 = 7.",
    "Items 1-10 = 25 dollars.",
])
def test_a_named_range_is_not_refuted(step: str) -> None:
    assert refuted([step]) == []


def test_a_subtraction_without_a_named_range_stays_refuted() -> None:
    assert [kind for _, kind in verdicts(["Items 1-10 = 25 dollars."])] == ["unknown"]
    assert refuted(["So 6-8 = 4."]) == ["(= (- 6 8) 4)"]
    assert refuted(["Ages 3-5 = 3 kids: 3 + 4 = 8."]) == ["(= (+ 3 4) 8)"]
    assert ("(= (- 6 8) (- 2))", "verified") in verdicts(["x = 6-8 = -2"])
    # a verb is no range's name, and a calculator annotation computes the subtraction (a
    # GSM8K operator mutant, '+' made '-': found by the labelled GSM8K dev2 half)
    assert refuted(["He contributed 6-18 = 24 inches."]) == ["(= (- 6 18) 24)"]
    assert refuted(["The days contributed 6-18=<<6-18=24>>24 inches."]) == [
        "(= (- 6 18) 24)", "(= (- 6 18) 24)"]
