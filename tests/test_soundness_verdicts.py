"""Soundness red-team of ``proofgraph check``: text whose author meant a true thing (or reported
a false one without asserting it) must never be ``refuted``.

Each test failed before the fix of the defect named in its comment. Rows are our own text, run
through :meth:`formalizer.stepcheck.StepChecker.check` as ``proofgraph check`` does.
"""

from __future__ import annotations

from formalizer.stepcheck import Solution, StepChecker


def verdicts(steps: list[str]) -> list[list[tuple[str, str | None]]]:
    """(source, verdict kind) of every claim of every step."""
    result, _ = StepChecker(solver_budget_s=5.0).check(Solution("t", "", list(steps)))
    return [[(c["source"], c["verdict"]) for c in step["claims"]] for step in result["steps"]]


def refuted(steps: list[str]) -> list[str]:
    return [source for step in verdicts(steps) for source, kind in step if kind == "refuted"]


# Defect 1: a claim the text itself calls wrong ("... is
# wrong", "a common mistake is to write ...", "one might wrongly conclude that ...") was read as
# asserted and refuted; "is false" / "is incorrect" were already read as rejected.
def test_a_claim_the_text_calls_wrong_is_not_refuted() -> None:
    for text in ("Note that 5 + 3 = 9 is wrong; in fact 5 + 3 = 8.",
                 "A common mistake is to write 5 + 3 = 9.",
                 "One might wrongly conclude that 5 + 3 = 9.",
                 "5 + 3 = 9 is not correct, since 5 + 3 = 8."):
        assert refuted([text]) == [], text
    # a wrong claim next to the word "wrong" but asserted stays an error
    assert refuted(["He got the wrong change: 20 - 7 = 12."]) == ["20 - 7 = 12"]


# Defect 2: after "x = 3", a later step that supposes
# another value ("consider the second case where x = 7", "Suppose x = 7.") had its consequences
# refuted with the earlier value x = 3, although they are true of the supposed one.
def test_a_consequence_of_a_supposed_value_is_not_refuted() -> None:
    assert refuted(["x = 3", "x + 2 = 5", "Now consider the second case where x = 7",
                    "x + 2 = 9"]) == []
    assert refuted(["x = 3", "Suppose x = 7. Then x + 1 = 8."]) == []
    # false of every value the letter had: still an error
    assert refuted(["Let n = 4.", "If n = 5, then 2n = 10.", "So 2n = 9."]) == ["2 n = 9"]


# Defect 3: a side with a unit followed by a bare number
# ("2 weeks = 14" days, "2 dozen + 4 = 28") was compared as if the unit were a label and refuted.
def test_a_bare_number_after_a_unit_is_not_refuted() -> None:
    assert refuted(["2 weeks = 14"]) == []
    assert refuted(["He has 2 dozen and 4 more, 2 dozen + 4 = 28"]) == []
    # a unit on the result only is a label: a wrong product stays an error
    assert refuted(["He works 5 * 3 = 16 hours"]) == ["5 * 3 = 16"]
    assert refuted(["1 hour = 50 minutes"]) == ["1 = 50"]


# Defect 4: "≈" with a value rounded to the place of its
# trailing zeros ("1234 ≈ 1200", "2^10 ≈ 10^3") was held to 1% and refuted.
def test_an_approximation_rounded_to_its_trailing_zeros_is_not_refuted() -> None:
    assert refuted(["1234 rounded to the nearest hundred is 1200, so 1234 ≈ 1200"]) == []
    assert refuted(["2^10 = 1024, so 2^10 ≈ 10^3"]) == []
    # farther off than the rounded place allows: still an error
    assert refuted(["1234 ≈ 2000"]) == ["1234 ~= 2000"]


# Defect 5: two whole numbers glued by a hyphen, the smaller first ("pages 10-20", "2020-2021"),
# were read only as a subtraction, and the range's length or count stated after them refuted.
def test_a_glued_range_with_its_count_is_not_refuted() -> None:
    for text in ("She read pages 10-20 = 11 pages.", "In 2020-2021 = 1 year.",
                 "Ages 5-7 = 3 age groups", "$10-20=11$"):
        assert refuted([text]) == [], text
    # spaced, the larger first, a value neither the length nor the count: still subtractions
    assert refuted(["3 - 5 = 2"]) == ["3 - 5 = 2"]
    assert refuted(["He has 20-5 = 14 left."]) == ["20 - 5 = 14"]
    assert refuted(["x: 10-20 = 50"]) == ["10 - 20 = 50"]
    assert refuted(["So 2*10-20 = 10."]) == ["2 * 10 - 20 = 10"]
    assert verdicts(["10-20 = -10"]) == [[("10 - 20 = - 10", "verified")]]
