"""Reading competition-math solutions: notation, and which equations the text asserts.

Real text from ProcessBench (tests/data/processbench_slices.json, Apache-2.0, see
SOURCE.processbench.md) for each class of misreading found on the development half, plus short
spellings of the same notation. A flag must be a claim the text makes and gets wrong; what is
not read is ``unknown``, never a guess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formalizer.extract import extract_claims
from formalizer.names import function_names, integer_names
from formalizer.reading import claim_reading
from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import to_infix

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_slices.json").read_text(
    encoding="utf-8"))


def run(*steps: str, problem: str = "", budget_s: float | None = None) -> dict:
    result, _ = StepChecker().check(Solution("t", problem, list(steps)), budget_s=budget_s)
    return result


def run_slice(name: str) -> dict:
    row = SLICES[name]
    result, _ = StepChecker().check(Solution(row["id"], row["problem"], row["steps"]))
    return result


def claims(result: dict) -> list[dict]:
    return [c for s in result["steps"] for c in s["claims"]]


def refuted(result: dict) -> list[str]:
    return [c["formal"] for c in claims(result) if c["verdict"] == "refuted"]


def verdict_of(result: dict, formal: str) -> str | None:
    found = [c["verdict"] for c in claims(result) if c["formal"] == formal]
    assert found, (formal, [c["formal"] for c in claims(result)])
    return found[0]


def read(text: str, functions: frozenset[str] = frozenset()) -> list[tuple[str, list[str]]]:
    return [(c.reading, [to_infix(r) for r in c.relations]) for c in
            extract_claims(text, set(), functions)]


# ---------------------------------------------------------------- structure of the text

def test_displays_are_separate_claims() -> None:
    assert read(r"\[2x=5\] \[x=5/2\]") == [("equation", ["2 * x = 5"]),
                                           ("equation", ["x = 5 / 2"])]
    # two different equations of one letter in two displays are conditions, not a contradiction
    assert run_slice("two_displays")["first_error"] is None


def test_a_link_between_complete_expressions_survives_a_prose_end() -> None:
    result = run("3/4 of a skein of yarn * 364 yards = 364 / 4 = <<3/4*364=273>>273 yards")
    assert verdict_of(result, "(= (/ 364 4) 273)") == "refuted"
    assert result["first_error"] == 0


def test_a_fresh_name_defined_by_a_chain_is_a_definition_not_an_identity() -> None:
    # P_{1996} = P - 0.029P = 0.971P names a new quantity (it was refuted as an identity)
    result = run_slice("fresh_definition")
    assert result["first_error"] is None
    kinds = [c["kind"] for c in claims(result) if c["formal"].startswith("(= P_1996")]
    assert kinds and kinds[0] == "definition"


def test_a_derivation_chain_over_earlier_bindings_is_not_an_identity() -> None:
    # x_1 = a, then x_2 = 2x_1 + 1 = 2a + 1: the second link follows from the binding
    result = run_slice("derivation_chain")
    assert result["first_error"] is None
    assert verdict_of(result, "(= (+ (* 2 x_1) 1) (+ (* 2 a) 1))") == "verified"
    # a rewriting of fresh names is still checked as an identity
    wrong = run("Let P be the pages.", "P + 3 + P + 6 = 3P + 9 = 15")
    assert refuted(wrong)[0] == "(= (+ (+ (+ P 3) P) 6) (+ (* 3 P) 9))"


def test_inequality_chains_state_conditions() -> None:
    # "for every k with 2 <= k <= n-1": a condition, never refuted by a counter-model
    assert run_slice("inequality_conditions")["first_error"] is None
    assert run(r"\(k \leq 20 - a < k+1\)")["first_error"] is None


# ---------------------------------------------------------------- readings: assertion or not

@pytest.mark.parametrize("text, reading", [
    ("If G = 13, then the total is G + 1.", "hypothesis"),
    ("We can set x = 0 to simplify.", "hypothesis"),
    ("Suppose n = 4.", "hypothesis"),
    ("Third, for a = 3, the sum is fixed.", "case"),
    ("Case 2: x = 5.", "case"),
    ("So x = 7 or x = -2.", "alternative"),
    ("So x = 7, -2.", "alternative"),
    ("If x = 3 then 9 = 10, a contradiction.", "reductio"),
    ("So 2 + 2 = 4.", "equation"),
])
def test_each_claim_carries_its_reading(text: str, reading: str) -> None:
    assert extract_claims(text)[0].reading == reading
    assert claim_reading(text, 0, 0) in ("equation", reading) or reading == "equation"


def test_unasserted_claims_never_refute() -> None:
    assert run("x = 12", "If x = 13, then x + 1 = 14")["first_error"] is None
    assert run("So x = 7 or x = -2.", "Then x + 1 = 8")["first_error"] is None
    reductio = run("If x = 3 then 9 = 10, a contradiction.")
    assert reductio["first_error"] is None
    assert claims(reductio)[-1]["reason"] == "not-checked"
    # the same false equation asserted is an error
    assert run("So 9 = 10.")["first_error"] == 0


def test_case_steps_bind_for_their_step_only() -> None:
    # "For log_2 x = -2: x = 2^-2 = 1/4", then "For log_2 x = 6: x = 2^6 = 64"
    result = run_slice("case_steps")
    assert result["first_error"] is None
    assert verdict_of(result, "(= (^ 2 6) 64)") == "verified"


def test_trial_values_are_suppositions() -> None:
    assert run_slice("trial_values")["first_error"] is None


def test_a_letter_with_two_meanings_is_not_bound_across_the_change() -> None:
    # n = 5 (pentagon), n = 8 (octagon), then (n-2)*180 = 540 + 1080 about the unknown n
    result = run_slice("letter_reused")
    assert result["first_error"] is None
    # a value that contradicts what the solution derived is still an error
    assert run("200 + 200x = 228", "so x = 0.15")["first_error"] == 1


# ---------------------------------------------------------------- notation

def test_function_application_is_never_a_product() -> None:
    assert function_names(["Let f(x) = 2x + 1", "so f(2) = 5"]) == {"f"}
    assert read("f(f(x)) = 5", frozenset("f"))[0][1] == ["f(f(x)) = 5"]
    result = run(r"\(f(2008) = f(2) + 1004\)", problem="The function f satisfies f(x+2) = f(x)+2")
    claim = claims(result)[0]
    assert (claim["verdict"], claim["reason"]) == ("unknown", "not-formalized")
    assert verdict_of(run(r"\(f(3) + f(3) = 2f(3)\)", problem="function f"),
                      "(= (+ (f 3) (f 3)) (* 2 (f 3)))") == "verified"
    assert read(r"\(x(x+1) = 6\)")[0][1] == ["x * (x + 1) = 6"]  # x is no function


def test_named_functions_exact_only_when_exact() -> None:
    assert verdict_of(run(r"\(\log_2 8 = 3\)"), "(= (log 2 8) 3)") == "verified"
    assert verdict_of(run(r"\(\log_{2} 8 = 4\)"), "(= (log 2 8) 4)") == "refuted"
    assert claims(run(r"\(\sin 30^\circ = \frac12\)"))[0]["verdict"] == "verified"  # pi/6
    sin = claims(run(r"\(\sin 1 = \frac12\)"))[0]  # 1 radian: no exact value here
    assert (sin["verdict"], sin["reason"]) == ("unknown", "not-formalized")
    assert run(r"\(\sin^2 x + \cos^2 x = 1\)")["first_error"] is None


def test_factorial_binomial_and_not_equal() -> None:
    result = run_slice("factorial")  # P(5, 3) = 5!/(5-3)! = 5!/2! = ...
    assert verdict_of(result, "(= (/ (factorial 5) (factorial (- 5 3))) (/ (factorial 5) "
                              "(factorial 2)))") == "verified"
    assert verdict_of(run(r"\(5!=120\)"), "(= (factorial 5) 120)") == "verified"
    assert verdict_of(run(r"\(\binom{9}{2} = 36\)"), "(= (binom 9 2) 36)") == "verified"
    assert verdict_of(run("There are C(9, 2) = 36 ways to choose"), "(= (binom 9 2) 36)") == (
        "verified")


def test_pi_is_a_symbol() -> None:
    assert verdict_of(run(r"\(\pi \cdot 2^2 = 4\pi\)"), "(= (* pi (^ 2 2)) (* 4 pi))") == (
        "verified")
    assert run(r"\(\pi = 3.14\)")["first_error"] is None  # never bound, never refuted


def test_subscripts_are_names_and_commas_stay_inside() -> None:
    assert read(r"\(S_{14} = 7\)")[0][1] == ["S_14 = 7"]
    assert run_slice("subscript_comma")["first_error"] is None


def test_mixed_numbers_abs_degrees_and_truncation() -> None:
    assert verdict_of(run(r"\(3\frac45 = 3.8\)"), "(= (+ 3 (/ 4 5)) 3.8)") == "verified"
    assert verdict_of(run(r"\(|3 - 5| = 2\)"), "(= (abs (- 3 5)) 2)") == "verified"
    assert verdict_of(run(r"\(180^\circ - 60^\circ = 120^\circ\)"), "(= (- 180 60) 120)") == (
        "verified")
    # 37/11 = 3.3636...: "3.363..." is a truncation (not the rounding 3.364)
    assert claims(run(r"\(37/11 = 3.363...\)"))[0]["verdict"] == "verified_approx"
    assert claims(run(r"\(37/11 = 3.35...\)"))[0]["verdict"] == "refuted"


@pytest.mark.parametrize("text", [
    r"\(x = 3 \pm 2\)", r"\(17 \equiv 2 \pmod n\)", r"\(a:b:c = 2:3:4\)",
    r"\(\overline{ab} = 10a + b\)", r"\(1 + 2 + \cdots + 10 = 50\)",
])
def test_notation_not_read_is_unknown(text: str) -> None:
    result = run(text)
    assert result["first_error"] is None
    assert all(c["verdict"] in ("unknown", None) for c in claims(result))


def test_extraction_artefacts() -> None:
    assert read(r"\(\text{Step 6}: 3 = 4\)") != [("equation", ["6 = 4"])]
    assert run("From step 6 - 2 = 3 we see")["first_error"] is None  # "step 6" is a label
    assert read("Values:\n- 5 + 3 = 8")[0][1] == ["5 + 3 = 8"]  # a list dash, not a minus
    assert read(r"\(b^2 - 4ac = 2xy\)")[0][1] == ["b ^ 2 - 4 * a * c = 2 * x * y"]
    assert run_slice("glued_products")["first_error"] == 0  # 0^2 - 0 + 2 ≠ 2 is false
    assert run_slice("segment_names")["first_error"] is None  # AC is a name, not a unit
    assert run_slice("unit_power")["first_error"] is None  # 80 cm^3 is not 80^3
    assert run_slice("brackets")["first_error"] is None  # [2a + 2016] groups


def test_coverage_of_plain_numeric_claims() -> None:
    assert read("He read 10 (last night) + 45 = 55 pages")[0][1] == ["10 + 45 = 55"]
    assert read("we get -3 + 5 = 2")[0][1] == ["(-3) + 5 = 2"]
    assert read("a + b = 5")[0][1] == ["a + b = 5"]
    assert read("f(i, j) = 3", frozenset("f"))[0][1] == ["f(i, j) = 3"]


# ---------------------------------------------------------------- domains and limits

def test_integers_only_for_declared_names() -> None:
    assert integer_names(["Let n be a positive integer and x a real."]) == {"n"}
    # "integers" in the problem does not make every unknown an integer
    result = run("Let y be the length.", "2y = 7", problem="Find all integers n with n > y.")
    assert result["first_error"] is None
    assert run("Let n be the count.", "2n = 7", problem="n is a whole number.")[
        "first_error"] == 1


def test_complex_numbers_are_not_read_as_real() -> None:
    result = run(r"\(i^2 = -1\)", r"\((3 + 4i)(3 - 4i) = 25\)")
    assert result["first_error"] is None
    assert {c["reason"] for c in claims(result)} == {"not-formalized"}


def test_real_no_root_equation_is_a_condition() -> None:
    assert run_slice("no_real_root")["first_error"] is None
    assert run_slice("division_unknown")["first_error"] is None


def test_solution_budget() -> None:
    result = run("2 + 2 = 4", "3 + 3 = 7", budget_s=0.0)
    assert result["first_error"] is None
    assert {c["reason"] for c in claims(result)} == {"budget"}


def test_solver_budget_cuts_only_what_exact_evaluation_cannot_decide() -> None:
    checker = StepChecker(solver_budget_s=0.0)
    result, _ = checker.check(Solution("t", "", ["2 + 2 = 4", r"\(\sqrt{1+\sqrt{2}} \cdot \sqrt{1+\sqrt{2}} = 1+\sqrt{2}\)"]))
    verdicts = [(c["verdict"], c["reason"]) for c in claims(result)]
    assert verdicts == [("verified", None), ("unknown", "budget")]
