"""Suppositions end with their sentence; values offered as roots are alternatives (issue 11).

Real text from the ProcessBench development half (tests/data/processbench_reading_slices.json,
Apache-2.0, see SOURCE.processbench_reading.md): olympiadbench-544 (``it must satisfy the condition
d = 0. ... we have d != 0``), omnimath-266 (``If r <= n and s > n, then x_r = 1 ... If r, s <= n
..., then x_r x_s = 1``) and olympiadbench-742 (``x = 3 and x = 5 are roots``), each a flag on a
correct step before. Checked through :meth:`formalizer.stepcheck.StepChecker.check`, which calls
the sentence hook of :class:`formalizer.step_scope.Scope` (``at_claim`` before each claim,
``end_sentence`` at the end of each step). Also: a range's endpoint (olympiadbench-622, ``the area
up to x = 5``) binds nothing, and a product written after ``/`` (olympiadbench-993, ``4√3/6√3``)
is ambiguous, so unread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from formalizer.extract import extract_claims
from formalizer.stepcheck import Solution, StepChecker

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_reading_slices.json")
                    .read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Seen:
    """One checked claim as the checker wrote it."""

    formal: str
    kind: str | None  # verdict kind, None for a binding or constraint
    reading: str


def check_steps(problem: str, steps: list[str]) -> list[list[Seen]]:
    """The checked claims of every step, through :meth:`StepChecker.check` itself."""
    result, _ = StepChecker(solver_budget_s=5.0).check(Solution("t", problem, list(steps)))
    return [[Seen(c["formal"], c["verdict"], c["reading"]) for c in step["claims"]]
            for step in result["steps"]]


def refuted(claims: list[Seen]) -> list[str]:
    return [c.formal for c in claims if c.kind == "refuted"]


def test_sentence_index_and_condition_are_read() -> None:
    claims = extract_claims("If r <= n, then x = 1 and y = 2. Next, y = 3.")
    assert [(c.text, c.sentence, c.conditional) for c in claims] == [
        ("r <= n", 0, True), ("x = 1", 0, True), ("y = 2", 0, True), ("y = 3", 1, False)]
    listed = extract_claims("Then:\n- If r <= n, then x = 1.\n- If r > n, then x = -1")
    assert [c.sentence for c in listed] == [1, 1, 2, 2]
    assert all(c.conditional for c in listed)


def test_a_condition_ends_with_its_sentence_real_text() -> None:
    row = SLICES["supposition_sentence"]  # olympiadbench-544, correct
    (claims,) = check_steps(row["problem"], row["steps"])
    assert refuted(claims) == []
    assert any(c.formal == "(distinct d 0)" for c in claims)


def test_if_then_bindings_end_with_their_case_real_text() -> None:
    row = SLICES["if_then_cases"]  # omnimath-266 step 3: correct (first error at step 5)
    (claims,) = check_steps(row["problem"], row["steps"])
    assert refuted(claims) == []


def test_a_wrong_consequence_inside_its_case_is_still_refuted() -> None:
    steps = ["If x = 3, then 2x = 7. If x = 4, then 2x = 8."]
    (claims,) = check_steps("", steps)
    assert refuted(claims) == ["(= (* 2 x) 7)"]


def test_an_assertion_after_the_case_sees_the_earlier_value() -> None:
    steps = ["x = 12.", "If x = 5, then x + 1 = 6. So x + 1 = 13.", "Thus x + 2 = 15."]
    first, second, third = check_steps("", steps)
    assert refuted(second) == []
    assert [c.kind for c in second if c.formal == "(= (+ x 1) 13)"] == ["verified"]
    assert refuted(third) == ["(= (+ x 2) 15)"]  # x is 12 again: a real error stays an error


def test_named_values_called_roots_are_alternatives_real_text() -> None:
    row = SLICES["roots_named_values"]  # olympiadbench-742, correct
    steps = check_steps(row["problem"], row["steps"])
    assert [refuted(claims) for claims in steps] == [[]] * len(steps)
    readings = [(c.formal, c.reading) for c in steps[-1]]
    assert readings == [("(= x 3)", "alternative"), ("(= x 5)", "alternative")]


def test_one_letter_two_values_in_one_sentence() -> None:
    for text in ("So x = 3 and x = 5 are the two roots.", "We get x = 3 and x = 5.",
                 "The solutions are x = 1 and x = 2.", "x = 7 or x = -2"):
        assert {c.reading for c in extract_claims(text)} == {"alternative"}, text
    # different letters, or one value derived from the other, are asserted
    assert {c.reading for c in extract_claims("Thus x = 2 and y = 3.")} == {"equation"}
    assert {c.reading for c in extract_claims("x = 6/2, so x = 4.")} == {"equation"}


# ------------------------------------------------ false flags of the dev half, by class

def no_flag(name: str) -> list[list[Seen]]:
    row = SLICES[name]
    steps = check_steps(row["problem"], row["steps"])
    assert [refuted(claims) for claims in steps] == [[]] * len(steps), row["id"]
    return steps


def test_a_run_cut_before_a_bracketed_factor_is_not_a_claim_real_text() -> None:
    steps = no_flag("cut_product")  # olympiadbench-566: S = 49^2 (1 + 2^2 + ... + 49^2)
    assert not any(c.formal == "(= S (^ 49 2))" for c in steps[3])
    cut = extract_claims(r"\[ S = 4 (1 + 9) \]")
    assert [(c.relations, c.error is not None) for c in cut] == [((), True)]
    # the links before the cut stay claims; a parenthesis of words stays a label
    assert [str(c.text) for c in extract_claims("a = b + 1 = 4 (1 + 9)") if not c.error] == [
        "a = b + 1"]
    assert [c.text for c in extract_claims("3 + 9 = 12 (5 minutes each)")] == ["3 + 9 = 12"]
    assert [c.text for c in extract_claims("x = 5 (1)")] == ["x = 5"]  # an equation label


def test_a_number_glued_to_inline_math_is_a_product_real_text() -> None:
    (claims,) = no_flag("number_glued_to_inline_math")  # olympiadbench-719: 70 ≤ 24\( K \)
    assert not any(c.formal == "(<= 70 24)" for c in claims)
    assert [c.error is not None for c in extract_claims(r"so 70 ≤ 24\(K\) holds")] == [True]


def test_values_listed_as_solutions_are_alternatives_real_text() -> None:
    (claims,) = no_flag("listed_solutions")  # olympiadbench-943: two solutions:\n- a = 3 ...
    assert [c.reading for c in claims if c.formal in ("(= a 3)", "(= a (- 3))")] == [
        "alternative", "alternative"]
    (claims,) = no_flag("possible_values_list")  # olympiadbench-689: First, n = 0 and ...
    assert [c.reading for c in claims if c.formal in ("(= n 0)", "(= n 4)")] == [
        "alternative", "alternative"]


def test_setting_a_value_is_a_supposition_real_text() -> None:
    (claims,) = no_flag("setting_a_value")  # omnimath-697: Setting n = -1 yields ...
    assert {c.reading for c in claims if c.formal in ("(= n (- 1))", "(= n (- 4))")} == {
        "hypothesis"}
    first, second = no_flag("set_intercepts")  # omnimath-981: Set x = 0, then ... Set y = 0
    assert any(c.formal == "(= 0 (+ (* 2 x) 2))" for c in first)
    # a wrong consequence of the set value is still an error
    (claims,) = check_steps("", ["Set x = 0, then y = 2(0) + 2 = 3."])
    assert refuted(claims) == ["(= (+ (* 2 0) 2) 3)"]


def test_a_fact_reference_keeps_its_step_scope() -> None:
    # "from", "where", "given that" refer to a fact: not a supposition, so what the sentence
    # derives from it still holds in the next sentence
    claims = extract_claims("From x = 5, we get y = 10. So y + 1 = 11.")
    assert [c.conditional for c in claims] == [False, False, False]
    steps = check_steps("", ["From x = 5, we get y = 2x. So y + 1 = 12."])
    assert refuted(steps[0]) == ["(= (+ y 1) 12)"]


def test_a_value_called_a_root_binds_nothing() -> None:
    # olympiadbench-737: "So, n = 2 is a root." must not bind n for a later case "n - 2 = 1"
    assert [c.reading for c in extract_claims("So, n = 2 is a root.")] == ["alternative"]
    steps = check_steps("", ["For n = 2: 8 - 8 = 0. So, n = 2 is a root.",
                             "First, n - 2 = 1 gives n = 3."])
    assert [refuted(s) for s in steps] == [[], []]


def test_a_range_endpoint_binds_nothing_real_text() -> None:
    # olympiadbench-622 step 4 (correct): "the area up to x = 5 ... the interval 4 <= x < 5"
    step = (r"Since the area up to \( x = 5 \) exceeds \( 20\sqrt{7} \), we look closer at the "
            r"interval \( 4 \leq x < 5 \). The total area up to \( x = 4 \) is "
            r"\( 1 + 4 + 9 + 16 = 30 \).")
    (claims,) = check_steps("", [step])
    assert refuted(claims) == []
    assert [c.reading for c in claims if c.formal in ("(= x 5)", "(= x 4)")] == [
        "endpoint", "endpoint"]
    assert [c.kind for c in claims if c.formal == "(= (+ 1 4 9 16) 30)" or
            c.formal == "(= (+ (+ (+ 1 4) 9) 16) 30)"] == ["verified"]
    # a value that is not a range's end still binds
    (claims,) = check_steps("", ["So x = 5, and then 2x = 11."])
    assert refuted(claims) == ["(= (* 2 x) 11)"]


def test_a_product_after_a_division_is_ambiguous() -> None:
    # olympiadbench-993 writes 4√3/6√3 for 4√3/(6√3); by precedence it is (4√3/6)·√3
    (claims,) = check_steps("", [r"\( 4\sqrt{3}/6\sqrt{3} = 2/3 \)"])
    assert [(c.kind, c.formal) for c in claims] == [("unknown", "")]
    (claims,) = check_steps("", [r"\( \frac{4\sqrt{3}}{6\sqrt{3}} = \frac{2}{3} \)"])
    assert [c.kind for c in claims] == ["verified"]
    (claims,) = check_steps("", ["1/2 * 6 = 4"])  # an explicit product stays read
    assert [c.kind for c in claims] == ["refuted"]
