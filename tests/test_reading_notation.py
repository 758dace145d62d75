"""Competition notation read (not left ``unknown``) since the reading round of 2026-12-03.

Each class has real text from the ProcessBench development half
(tests/data/processbench_reading_slices.json, Apache-2.0, see SOURCE.processbench_reading.md)
and short spellings of the same notation: ``\\implies`` chains, Greek letters and angles as
names, ``\\sin^2 x``, list dashes, value lists, the letter ``a`` inside a formula, repeating
decimals, whole-operand brackets (the integer part, not read), and cases opened inside a
sentence. Reading more must never add a flag the text does not deserve.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formalizer.extract import extract_claims
from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import to_infix

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_reading_slices.json")
                    .read_text(encoding="utf-8"))


def read(text: str) -> list[tuple[str, list[str], str | None]]:
    return [(c.reading, [to_infix(r) for r in c.relations], c.error)
            for c in extract_claims(text, set())]


def formulas(text: str) -> list[str]:
    return [f for _, fs, _ in read(text) for f in fs]


def run(*steps: str, problem: str = "") -> dict:
    result, _ = StepChecker(solver_budget_s=5.0).check(Solution("t", problem, list(steps)))
    return result


def run_slice(name: str) -> dict:
    row = SLICES[name]
    result, _ = StepChecker(solver_budget_s=5.0).check(
        Solution(row["id"], row["problem"], row["steps"]))
    return result


def verdicts(result: dict) -> dict[str, str | None]:
    return {c["formal"]: c["verdict"] for s in result["steps"] for c in s["claims"]}


def test_slices_come_from_the_development_half() -> None:
    import hashlib

    for row in SLICES.values():
        assert hashlib.sha256(row["id"].encode()).digest()[0] % 2 == 0, row["id"]


# ---------------------------------------------------------------- \implies

def test_implies_chain_is_a_run_of_derived_equations() -> None:
    step = SLICES["implies_chain"]["steps"][1]
    found = formulas(step)
    assert "7 * a + 60 = 12" in found and "7 * a = -48" in found
    assert "a = -(48 / 7)" in found
    assert read(r"\[ 2x = 4 \Rightarrow x = 2 \]") == [
        ("equation", ["2 * x = 4"], None), ("equation", ["x = 2"], None)]


def test_implies_chain_slice_is_checked_and_not_flagged() -> None:
    result = run_slice("implies_chain")
    assert result["first_error"] is None  # labelled correct
    assert "verified" in verdicts(result).values()


def test_a_wrong_derivation_after_implies_is_flagged() -> None:
    result = run(r"We have \[ 2x + 3 = 11 \implies 2x = 8 \implies x = 5 \]")
    assert verdicts(result)["(= x 5)"] == "refuted"


# ---------------------------------------------------------------- names

def test_greek_letters_and_trig_powers_are_read() -> None:
    step = SLICES["trig_power_greek"]["steps"][0]
    assert "sin(theta) ^ 2 + sin(theta) - 1 = 0" in formulas(step)
    assert "Delta = u ^ 2 + v ^ 2 - 2 * u * v - 16" in formulas(SLICES["greek_name"]["steps"][0])
    assert "Delta = (u - v) ^ 2 - 16" in formulas(SLICES["greek_name"]["steps"][0])
    assert formulas(r"so \( 2\theta = 60 \) and \( \theta_1 + 2 = 5 \)") == [
        "2 * theta = 60", "theta_1 + 2 = 5"]
    # an inverse function is not a power: not read
    assert all(error for _, _, error in read(r"\( \sin^{-1} x = 2 \)"))


def test_angles_are_names() -> None:
    assert formulas(r"\( \angle ABC = 45^\circ \) and \(\angle B + \angle D = 270^\circ\)") == [
        "angle_ABC = 45", "angle_B + angle_D = 270"]


def test_letter_a_inside_a_formula_is_a_name() -> None:
    assert "5 / 9 < a / b" in formulas(SLICES["letter_a_fraction"]["steps"][0])
    assert formulas(SLICES["log_base_letter"]["steps"][0])[:1] == ["log(a, c) = T"]
    # "(a)" as a list label is never a factor of what follows
    assert not any("a *" in f or "* a" in f for f in formulas("(a) x = 3 and (a) 3 + 4 = 7"))


# ---------------------------------------------------------------- layout

def test_list_dashes_are_not_minus_signs() -> None:
    assert "7 - 4 = 3" in formulas(SLICES["list_dash_inline"]["steps"][0])
    assert "x_2 ^ 2 - x_1 ^ 2 = 731" in formulas(SLICES["list_dash_display"]["steps"][0])
    result = run_slice("list_dash_inline")
    assert verdicts(result)["(= (- 7 4) 3)"] == "verified"
    assert result["first_error"] is None


def test_a_list_of_values_is_read_one_by_one() -> None:
    found = formulas(SLICES["value_list"]["steps"][0])
    assert found.count("b = 2") >= 2 and "d = 0" in found
    # a thousands group split by ", " still stops the reader
    assert all(error for _, _, error in read("so 14, 400 = 14400"))


# ---------------------------------------------------------------- values

def test_repeating_decimal_is_its_exact_fraction() -> None:
    result = run_slice("repeating_decimal")
    assert "refuted" not in verdicts(result).values()
    assert verdicts(result)["(= (/ 1 7) (/ 1 7))"] == "verified"
    assert run(r"So \( 0.\overline{3} = \frac{3}{10} \)")["first_error"] == 0  # 1/3 is not 3/10
    assert run(r"So \( 0.1\overline{6} = \frac{1}{6} \)")["first_error"] is None


def test_whole_operand_brackets_are_not_grouping() -> None:
    result = run_slice("floor_brackets")  # [22.8] = 22: the integer part
    assert result["first_error"] is None
    assert all(error for _, _, error in read(r"\[ \left[ 22.8 \right] = 22 \]"))
    assert formulas(r"\[ 2[3 + 4] = 14 \]") == ["2 * (3 + 4) = 14"]


# ---------------------------------------------------------------- cases inside a sentence

@pytest.mark.parametrize("opening", ["Setting each factor to zero: First, for \\( u = 0 \\):",
                                     "The roots: if \\( u = 0 \\):"])
def test_a_case_opened_mid_sentence_scopes_its_bindings(opening: str) -> None:
    result = run(opening + r" \[ \log_{10}(x) = 0 \implies x = 10^0 = 1 \]",
                 r"Second, for \( u = 2 \): \[ \log_{10}(x) = 2 \implies x = 10^2 = 100 \]")
    assert result["first_error"] is None
    # arithmetic inside a case is still asserted
    for wrong in (r" \[ 10^2 = 1000 \]", r" \[ x = 10^2 = 1000 \]"):
        assert run(opening + wrong)["first_error"] == 0, wrong


def test_a_step_opening_with_its_case_keeps_its_chains_asserted() -> None:
    # omnimath-117 (dev), step 11: the chain's arithmetic is wrong in its case
    result = run(r"For \( x = 40 \): \[ x^2 + x + 41 = 40^2 + 40 + 41 = 1601 + 40 = 1601 \]")
    assert result["first_error"] == 0


# ---------------------------------------------------------------- ± and nested fractions

def test_plus_minus_links_between_two_valued_sides() -> None:
    assert formulas(r"\[ \frac{4 \pm \sqrt{16 - 12}}{2} = \frac{4 \pm 2}{2} \]") == [
        "(4 + (16 - 12) ^ 0.5) / 2 = (4 + 2) / 2", "(4 - (16 - 12) ^ 0.5) / 2 = (4 - 2) / 2"]
    # crossed pairing: the same two values
    assert run(r"\[ \pm(3 - 5) = \pm(5 - 3) \]")["first_error"] is None
    # two different pairs of values: false
    assert run(r"\[ \frac{4 \pm \sqrt{16 - 12}}{2} = \frac{4 \pm 3}{2} \]")["first_error"] == 0
    # irrational values are compared exactly in Q(√a)
    assert run(r"\( \frac{1 \pm \sqrt{13}}{6} = \frac{1 \pm \sqrt{13}}{6} \)")["first_error"] is None
    assert run(r"\( \frac{1 \pm \sqrt{13}}{6} = \frac{1 \pm \sqrt{12}}{6} \)")["first_error"] == 0


def test_plus_minus_that_is_not_read_stays_unknown() -> None:
    for text in ("x = 3 ± 1", "5 ± 2 = 7", r"\( 1 \pm 2 \pm 3 = 1 \pm 2 \pm 3 \)"):
        assert all(error for _, _, error in read(text)), text
    step = SLICES["plus_minus_formula"]["steps"][0]  # k = (1 ± sqrt(8041))/2: two values
    result = run(step)
    assert "refuted" not in verdicts(result).values()
    assert any(c["verdict"] == "unknown" and "±" in c["source"]
               for s in result["steps"] for c in s["claims"])


def test_nested_fractions_and_roots_are_read() -> None:
    assert formulas(r"\( \frac{x^{2}}{2} = \frac{\sqrt{4}}{1} \)") == ["x ^ 2 / 2 = 4 ^ 0.5 / 1"]
    assert run(r"So \( \frac{1 + \sqrt{9}}{2} = 2 \)")["first_error"] is None
    assert run(r"So \( \frac{1 + \sqrt{9}}{2} = 3 \)")["first_error"] == 0


def test_roots_of_unity_are_not_read_as_real_names() -> None:
    # omnimath-197 (dev), step 2: omega^3 = 1 for a complex omega; over the reals a false flag
    step = (r"\[ (1 + \omega)^3 = 1^3 + 3(1)^2\omega + 3(1)\omega^2 + \omega^3 = 1 + 3\omega + "
            r"3\omega^2 + 1 = 2 + 3\omega + 3\omega^2 = 2 + 3(\omega + \omega^2) = 2 - 3 = -1. \]")
    assert run(step)["first_error"] is None
    assert not formulas(r"\( \omega^3 = 1 \)") and read(r"\( \omega^3 = 1 \)")
