"""Deterministic claim extraction from CoT prose and the step checker built on it."""

from __future__ import annotations

import pytest

from formalizer.extract import extract_claims
from formalizer.normalize import normalize_math
from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import to_infix


def claims(text: str) -> list[tuple[str, list[str]]]:
    return [(c.source, [to_infix(r) for r in c.relations]) for c in extract_claims(text)]


def check(*steps: str, problem: str = "") -> dict:
    result, _ = StepChecker().check(Solution("t", problem, list(steps)))
    return result


def verdicts(result: dict) -> list[tuple[str, str | None]]:
    return [(c["formal"], c["verdict"]) for s in result["steps"] for c in s["claims"]]


@pytest.mark.parametrize("text, expected", [
    ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.",
     [("annotation", ["48 / 2 = 24"]), ("equation", ["48 / 2 = 24"])]),
    ("So 8*3 = <<80*3=240>>240", [("annotation", ["80 * 3 = 240"]), ("equation", ["8 * 3 = 240"])]),
    ("she earned 0.2 x 50 = $<<0.2*50=10>>10.",
     [("annotation", ["0.2 * 50 = 10"]), ("equation", ["0.2 * 50 = 10"])]),
    ("He has 5 apples + 3 apples = 8 apples total", [("equation", ["5 + 3 = 8"])]),
    ("2 minutes/lily * 20 vines = 40 minutes", [("equation", ["2 * 20 = 40"])]),
    ("The total is 3 + 4 = 7 = 7.0", [("equation", ["3 + 4 = 7", "7 = 7.0"])]),
    (r"We get \(\frac{3}{4} \times 20 = 15\)", [("equation", ["3 / 4 * 20 = 15"])]),
    (r"so $2 \cdot 3 \div 6 = 1$", [("equation", ["2 * 3 / 6 = 1"])]),
    ("12 × 3 ÷ 4 − 1 = 8", [("equation", ["12 * 3 / 4 - 1 = 8"])]),
    ("It costs $1,000 - $250 = $750", [("equation", ["1000 - 250 = 750"])]),
    ("It costs $5.50 * 2 = $11.00", [("equation", ["5.50 * 2 = 11.00"])]),
    ("20% of 50 = 10", [("equation", ["20 / 100 * 50 = 10"])]),
    ("1/3 of 36 = 12", [("equation", ["1 / 3 * 36 = 12"])]),
    ("(4 + 5) * 2^3 = 72", [("equation", ["(4 + 5) * 2 ^ 3 = 72"])]),
    ("so 15 ≥ 12 and 3 ≠ 4", [("equation", ["15 ≥ 12"]), ("equation", ["3 ≠ 4"])]),
    ("75/55 ≈ 1.36", [("equation", ["75 / 55 ≈ 1.36"])]),
    ("75/55 = about 1.4", [("equation", ["75 / 55 ≈ 1.4"])]),
    ("2 - 1/2 = 1 1/2 cups", [("equation", ["2 - 1 / 2 = 1 + 1 / 2"])]),
    ("Marco gets 28 / 1/5 = 140 cups", [("equation", ["28 / (1 / 5) = 140"])]),
    ("Let x = 12. Then 2x + 3 = 27", [("equation", ["x = 12"]), ("equation", ["2 * x + 3 = 27"])]),
    ("In 2 hours she walks 6 km.", []),
    ("2.5 years = 30 months", [("equation", ["2.5 * 12 = 30"])]),  # the registry's factor
])
def test_extraction(text: str, expected: list[tuple[str, list[str]]]) -> None:
    assert claims(text) == expected


def test_unit_conversion_is_unknown_not_refuted() -> None:
    result = check("2.5 years = 30 miles")  # units the registry cannot relate
    claim = result["steps"][0]["claims"][0]
    assert (claim["verdict"], claim["reason"]) == ("unknown", "not-formalized")
    assert "cannot be related" in claim["detail"]


def test_prose_cut_by_words_is_never_a_wrong_claim() -> None:
    # the left operand runs through prose: "3 x the height of 12" must not become "12 = 36"
    result = check("The box is 3 x the height of 12 inches = <<3*12=36>>36 inches.")
    assert ("(= 12 36)", "refuted") not in verdicts(result)
    assert ("(= (* 3 12) 36)", "verified") in verdicts(result)


def test_normalize_leaves_prose_alone() -> None:
    assert normalize_math("Weng earns $12 an hour") == "Weng earns 12 an hour"
    assert normalize_math(r"\frac{1}{2}") == "((1)/(2))"


def test_definitions_bind_names_for_later_steps() -> None:
    result = check("Let A = (3 + 5) * 2", "Then A / 4 = 4", "and A + 1 = 18")
    assert result["steps"][0]["claims"][0]["kind"] == "definition"
    assert result["steps"][0]["claims"][0]["binds"] == "A"
    assert verdicts(result)[1:] == [("(= (/ A 4) 4)", "verified"), ("(= (+ A 1) 18)", "refuted")]
    assert result["first_error"] == 2


def test_algebra_uses_z3_with_the_stated_equation() -> None:
    result = check("Let x be the number of apples.", "Then 2x + 3 = 15.", "So 2x = 12 and x = 6.",
                   "Hence x = 7.")
    assert verdicts(result) == [
        ("(= (+ (* 2 x) 3) 15)", None),  # a constraint the solution states
        ("(= (* 2 x) 12)", "verified"), ("(= x 6)", "verified"), ("(= x 7)", "refuted")]
    refuted = result["steps"][3]["claims"][0]
    assert refuted["evidence"]["model"] == {"x": "6"}
    assert result["first_error"] == 3


def test_rewriting_inside_a_chain_must_be_an_identity() -> None:
    result = check("Let P be the pages.", "P + 3 + P + 6 = 3P + 9 = 15")
    assert verdicts(result)[0] == ("(= (+ (+ (+ P 3) P) 6) (+ (* 3 P) 9))", "refuted")


def test_hypothetical_steps_start_fresh_unknowns() -> None:
    result = check("If 200 + 200x = 228 then x = .14", "If 100 + 100x = 120 then x = .2")
    assert verdicts(result) == [
        ("(= (+ 200 (* 200 x)) 228)", None), ("(= x 0.14)", "verified"),
        ("(= (+ 100 (* 100 x)) 120)", None), ("(= x 0.2)", "verified")]
    # two conditions on one letter that contradict: the letter may be reused (another case or
    # meaning, as competition text does all the time), so never a flag; what follows from
    # contradictory conditions is unknown (vacuous premises), never verified or refuted
    flat = check("200 + 200x = 228", "100 + 100x = 120", "so x = 0.2")
    assert flat["first_error"] is None
    assert verdicts(flat)[1:] == [("(= (+ 100 (* 100 x)) 120)", None), ("(= x 0.2)", "unknown")]
    # a stated value that contradicts what the solution derived is an error
    wrong = check("200 + 200x = 228", "so x = 0.15")
    assert verdicts(wrong)[1] == ("(= x 0.15)", "refuted")


def test_percent_label_and_remainder_readings_are_named() -> None:
    result = check("So (75/100)*100 = 75% of the flowers", "13 / 6 = 2 full cycles, remainder 1")
    first, second = (s["claims"][0] for s in result["steps"])
    assert first["verdict"] == "verified" and "% as a unit label" in first["evidence"]["reading"]
    assert second["verdict"] == "verified" and "integer division" in second["evidence"]["reading"]
    assert check("13 / 6 = 2")["steps"][0]["claims"][0]["verdict"] == "refuted"


def test_step_verdicts_and_no_claims() -> None:
    result = check("She is happy.", "2 + 2 = 4", "10/3 = 3.33", "5 * 5 = 24")
    assert [s["verdict"] for s in result["steps"]] == [
        "no_claims", "verified", "verified_approx", "refuted"]
    assert result["first_error"] == 3
    assert result["provenance"]["backend_version"].startswith("python fractions + z3")
    assert result["provenance"]["limits"]["timeout_ms"] == 2000


def test_integer_semantics_follow_the_problem_text() -> None:
    over_integers = check("Let n be the count.", "2n = 7", problem="n is a whole number.")
    claim = over_integers["steps"][1]["claims"][0]
    assert claim["verdict"] == "refuted"  # no whole number n has 2n = 7
    over_reals = check("Let n be the count.", "2n = 7", "n = 3.5")
    assert verdicts(over_reals) == [("(= (* 2 n) 7)", None), ("(= n 3.5)", "verified")]
