"""Misreadings found on ProcessBench's ``dev2`` part (2026-12-03), each fixed as a class.

Every class has the real text (tests/data/processbench_dev2_slices.json, Apache-2.0, see
SOURCE.processbench_dev2.md) and short spellings of the same notation, plus a real error in
that notation that must still be flagged:

* a case labelled by a relation whose left side is no single letter (``for log(10, y) = -2:``);
* subscripted function names (``f_1(x)^2`` is an application, never ``f_1 * x^2``);
* a ratio ``B : G = 1 : 4`` cut at its first colon (``G = 1/4`` is not what the text says);
* a quotient with a remainder (``-161 / 13 = -12 remainder -5`` is no exact division).
"""

from __future__ import annotations

import hashlib

from slice_checks import load_slices, run

from formalizer.extract import extract_claims
from formalizer.names import function_names
from prover.arith.ast import to_infix

SLICES = load_slices("processbench_dev2_slices.json")


def run_slice(name: str) -> dict:
    row = SLICES[name]
    return run(*row["steps"], problem=row["problem"])


def claims(result: dict) -> list[tuple[str, str, str | None]]:
    """(reading, formal, verdict) of every claim of the result."""
    return [(c["reading"], c["formal"], c["verdict"]) for s in result["steps"]
            for c in s["claims"]]


def test_slices_come_from_dev2() -> None:
    for row in SLICES.values():
        digest = hashlib.sha256(row["id"].encode()).digest()
        assert digest[0] % 2 == 1 and digest[1] % 2 == 0, row["id"]


# ---------------------------------------------------------------- case labels

def test_case_labelled_by_a_function_relation_is_a_case() -> None:
    result = run_slice("case_label_function")
    assert result["first_error"] is None  # labelled correct
    read = claims(result)
    assert ("case", "(= (log 10 y) (- 2))", "unknown") in read
    assert ("chain", "(= (^ 10 (- 2)) 0.01)", "verified") in read


def test_case_label_reading_needs_the_colon() -> None:
    found = [(c.reading, [to_infix(r) for r in c.relations])
             for c in extract_claims(r"First, for \(\log_{10} y = 2\): \( y = 100 \).", set())]
    assert found[0] == ("case", ["log(10, y) = 2"])
    # without a colon the relation after "for" is what the sentence asserts
    plain = extract_claims(r"This holds for \(\log_{10} 100 = 3\) as well.", set())
    assert [c.reading for c in plain] == ["equation"]


def test_wrong_arithmetic_inside_a_function_labelled_case_is_still_flagged() -> None:
    result = run(r"First, for \(\log_{10} y = 2\): \[ y = 10^2 = 1000. \]")
    assert ("chain", "(= (^ 10 2) 1000)", "refuted") in claims(result)
    assert result["first_error"] == 0


# ---------------------------------------------------------------- subscripted functions

def test_subscripted_functions_are_applications() -> None:
    row = SLICES["subscripted_function"]
    names = function_names([row["problem"], *row["steps"]])
    assert {"f_1", "f_2"} <= names
    result = run_slice("subscripted_function")
    assert result["first_error"] is None  # the label's first error is the next step
    formals = [f for _, f, _ in claims(result)]
    assert "(= (+ (^ (f_1 x) 2) (^ (f_2 x) 2)) (+ (^ (+ (* a x) b) 2) (^ (+ (* c x) d) 2)))" \
        in formals
    assert not any("(* f_1" in f for f in formals)


def test_a_subscripted_variable_before_a_bracket_stays_a_factor() -> None:
    assert function_names([r"x_1(x_1 + 1) = 6 and a_{2}(b + c) = 4"]) == frozenset()
    assert function_names([r"the polynomial P_{n} has", r"g_2(t) = t + 1"]) == {"P_n", "g_2"}
    # a sequence's terms are numbers: x_1(1 - x_2) is a product
    assert function_names([r"a sequence \(x_1, x_2, \ldots\) with \(x_1(1-x_2) = a\)",
                           r"the sequence \(S_1, S_2\) and \(x_1(t) = 2\)"]) == frozenset()


def test_wrong_value_of_a_subscripted_function_is_still_flagged() -> None:
    result = run(r"Let \( f_1(x) = 2x + 1 \).", r"Then \( f_1(3) = 2 \cdot 3 + 1 = 8 \).")
    assert ("chain", "(= (+ (* 2 3) 1) 8)", "refuted") in claims(result)


# ---------------------------------------------------------------- ratios

def test_a_ratio_cut_at_its_colon_is_not_read() -> None:
    result = run_slice("ratio_colon")
    assert result["first_error"] is None  # labelled correct
    read = claims(result)
    assert not any(f == "(= G (/ 1 4))" for _, f, _ in read)
    assert ("chain", "(= G (* 4 20))", "verified") in read
    for text in (r"\[B : G = 1 : 4\]", r"the ratio \(B:G = 1:4\) so"):
        found = extract_claims(text, set())
        assert found and all(c.error for c in found), text


def test_a_colon_after_a_case_label_still_reads_what_follows() -> None:
    found = extract_claims("for x = 3: y = 5", set())
    assert [[to_infix(r) for r in c.relations] for c in found] == [["x = 3"], ["y = 5"]]
    found = extract_claims("we get 7980 : 420 = 19", set())
    assert [[to_infix(r) for r in c.relations] for c in found] == [["7980 / 420 = 19"]]


# ---------------------------------------------------------------- remainders

def test_a_quotient_with_a_remainder_is_not_exact_division() -> None:
    result = run_slice("quotient_remainder")
    assert result["first_error"] is None  # labelled correct
    found = extract_claims(r"\[ -161 \div 13 = -12 \text{ remainder } -5 \]", set())
    assert [c.error is not None for c in found] == [True]
    found = extract_claims("so 17 / 5 = 3 R 2", set())
    assert [c.error is not None for c in found] == [True]


def test_remainder_by_integer_division_and_plain_division_errors_are_kept() -> None:
    assert ("equation", "(= (/ 13 6) 2)", "verified") in claims(
        run("13 / 6 = 2 with a remainder of 1"))
    assert ("equation", "(= (/ 17 5) 4)", "refuted") in claims(run("so 17 / 5 = 4 exactly"))


# ---------------------------------------------------------------- trials worked out

def test_an_equation_its_sentence_works_out_to_another_value_is_a_trial() -> None:
    result = run_slice("trial_worked_out")
    assert result["first_error"] is None  # labelled correct
    read = claims(result)
    assert ("hypothesis", "(= (+ 0 (* (- 15 1) 71)) 999)", "unknown") in read
    assert ("equation", "(= (* 14 71) 994)", "verified") in read


def test_a_worked_out_value_that_agrees_or_is_wrong_itself_is_still_checked() -> None:
    # the same value worked out: the claim is asserted and its error flagged
    read = claims(run("we get 3 * 4 + 1 = 14, which simplifies to 12 + 1 = 14."))
    assert ("equation", "(= (+ (* 3 4) 1) 14)", "refuted") in read
    # an equation in names solved onwards is asserted, never a trial
    found = extract_claims("we get 2x + 3 = 7, which simplifies to x = 2.", set())
    assert [c.reading for c in found] == ["equation", "equation"]
    # the worked-out value is itself a claim: wrong arithmetic there is flagged
    read = claims(run("we get 14 * 71 = 999, which simplifies to 994 = 995."))
    assert ("equation", "(= 994 995)", "refuted") in read


# ---------------------------------------------------------------- "using d = 71"

def test_a_value_taken_with_using_is_a_supposition() -> None:
    # the text rounds d = 999/14 down and goes on "using d = 71": a value chosen, not derived
    result = run_slice("using_value")
    read = claims(result)
    assert [r for r, f, _ in read if f == "(= d 71)"] == ["case", "case"]
    assert not any(f == "(= d 71)" and v == "refuted" for _, f, v in read)
    assert ("chain", "(= (+ 0 (* 14 71)) 994)", "verified") in read


def test_wrong_arithmetic_after_using_a_value_is_still_flagged() -> None:
    result = run(r"Using \(d = 71\), the last term is \[ a = 0 + 14 \cdot 71 = 995 \]")
    assert ("chain", "(= (+ 0 (* 14 71)) 995)", "refuted") in claims(result)


def test_a_negative_quotient_with_a_remainder_reads_either_convention() -> None:
    for text in ("-161 / 13 = -12 with a remainder of -5", "-161 / 13 = -13 with a remainder of 8"):
        assert [v for _, _, v in claims(run(text))] == ["verified"], text
    assert [v for _, _, v in claims(run("13 / 6 = 3 with a remainder of 1"))] == ["refuted"]


# ---------------------------------------------------------------- calculus notation

def formals(text: str) -> list[str]:
    return [to_infix(r) for c in extract_claims(text, set()) for r in c.relations]


def test_differentials_derivatives_and_inverses_are_not_products() -> None:
    step = SLICES["derivative"]["steps"][0]  # integration by parts: dv = 1/(x^2 + 1) dx
    assert not any("d * " in f for f in formals(step))
    assert "u = ln(x + 1)" in formals(step)
    assert formals(r"\(\frac{d}{dx}(x^3 + 2x) = 3x^2 + 2\)") == []
    assert formals(r"\(\frac{dy}{dx} = 3x^2\) and \(\frac{d^2y}{dx^2} = 6x\)") == []
    assert formals("so dy/dx = 3x^2 + 1 and d/dx(x^2) = 2x") == []
    assert formals(r"so \(f^{-1}(12) = 2\) and f^(-1)(3) = 1") == []
    result = run(*SLICES["inverse_function"]["steps"], problem=SLICES["inverse_function"]["problem"])
    assert result["first_error"] is None  # labelled correct
    assert not any("(^ f (- 1))" in f or "(^ g (- 1))" in f for _, f, _ in claims(result))


def test_a_letter_d_and_negative_powers_are_still_read() -> None:
    assert formals(r"\(\frac{d}{2} = 3\) and \(2d + 1 = 11\)") == ["d / 2 = 3", "2 * d + 1 = 11"]
    assert formals(r"\(x^{-1}(x + 1) = 2\)") == ["x ^ (-1) * (x + 1) = 2"]
    assert formals(r"\(\int_0^1 x\,dx = \frac12\) and \(d = 3\)") == ["d = 3"]


# ---------------------------------------------------------------- questions

def test_a_claim_the_text_asks_about_is_not_asserted() -> None:
    found = extract_claims(r"Is \(2 + 2 = 5\)? No. Does \(3^2 + 4^2 = 26\) hold? No.", set())
    assert [c.reading for c in found] == ["hypothesis", "hypothesis"]
    # a display followed by a question about it, or a question later on, asserts the display
    found = extract_claims(r"\[ 14 \cdot 71 = 995 \] Is this 999? We get 2 + 2 = 5. Why?", set())
    assert [c.reading for c in found] == ["equation", "equation"]
    assert ("equation", "(= (* 14 71) 995)", "refuted") in claims(
        run(r"\[ 14 \cdot 71 = 995 \] Is this 999?"))


# ---------------------------------------------------------------- congruences

def test_a_congruence_written_with_equals_is_not_read() -> None:
    for text in ("so 100 = 2 (mod 7) and", "17 = 2 mod 5, so", "100 = 2 modulo 7"):
        found = extract_claims(text, set())
        assert found and all(c.error for c in found), text
    # the remainder operator on the left, or on both sides, is read and checked
    assert [v for _, _, v in claims(run("17 mod 5 = 3"))] == ["refuted"]
    assert [v for _, _, v in claims(run("17 mod 5 = 12 mod 5"))] == ["verified"]


# ---------------------------------------------------------------- a step that is one case

def test_a_step_opening_with_its_case_label_scopes_the_whole_list() -> None:
    # shape of omnimath-96 (development half): each step is one case, a list under its label
    first = "First, for \\( k = 1 \\):\n- \\( 2k = 2 \\)\n- \\( k + 1 = 2 \\)"
    second = "Second, for \\( k = 2 \\):\n- \\( 2k = 4 \\)\n- \\( k + 1 = 3 \\)"
    result = run("Let \\( k = 1 \\).", first, second)
    assert result["first_error"] is None
    assert ("equation", "(= (* 2 k) 4)", "verified") in claims(result)
    wrong = run("Let \\( k = 1 \\).", first, "Second, for \\( k = 2 \\):\n- \\( 2k = 5 \\)")
    assert wrong["first_error"] == 2


def test_a_case_step_constrains_nothing_after_it() -> None:
    # shape of olympiadbench-366 (development half): cases of a constrained name end with the step
    steps = ("\\( t = 2 + 2k \\)", "First, for \\( k = 0 \\):\n- \\( t = 2 \\)\n- not positive",
             "Second, for \\( k = 1 \\), \\( t = 4 \\) (positive)", "So \\( t = 4 \\)")
    result = run(*steps)
    assert result["first_error"] is None
    assert [v for _, f, v in claims(result) if f == "(= t 4)"][-1] != "refuted"
