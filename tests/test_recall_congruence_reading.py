"""What formalizer.latex reads since the recall patch of 2026-12-03 (floors, gcd/lcm, congruences),
on real ProcessBench development-half text (tests/data/processbench_recall_exact.json, Apache-2.0,
see SOURCE.processbench_recall_exact.md). Reading more must never add a flag the text does not
deserve: a congruence is only read when its modulus is an integer literal at the clause end."""

from __future__ import annotations

import json
from pathlib import Path

from formalizer.extract import extract_claims
from formalizer.latex import read_latex
from formalizer.stepcheck import Solution, StepChecker

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_recall_exact.json")
                    .read_text(encoding="utf-8"))


def run_slice(name: str) -> dict:
    row = SLICES[name]
    result, _ = StepChecker(solver_budget_s=5.0).check(
        Solution(row["id"], row["problem"], row["steps"]))
    return result


def test_floors_are_read_and_checked() -> None:
    text = read_latex(r"\[ \left\lfloor \frac{11}{2} \right\rfloor + \lfloor x \rfloor = 5 \]")
    assert "floor( \\frac{11}{2} )" in text and "floor( x )" in text
    result = run_slice("legendre_floors")
    formal = {c["formal"]: c["verdict"] for s in result["steps"] for c in s["claims"]}
    assert formal.get("(= (+ (+ (floor (/ 11 2)) (floor (/ 11 4))) (floor (/ 11 8))) "
                      "(+ (+ 5 2) 1))") == "verified", formal
    assert result["first_error"] is None


def test_a_mismatched_bracket_stays_unread() -> None:
    assert "floor" not in read_latex(r"\( \lfloor 3.5 \rceil = 4 \)")


def test_gcd_is_a_function() -> None:
    claims = extract_claims(r"so \(\gcd(12, 18) = 6\).", set())
    assert [c.error for c in claims] == [None]


def test_congruences_of_powers_flag_the_labelled_step() -> None:
    result = run_slice("congruence_powers")
    assert result["first_error"] == 0  # the slice is the labelled step (label 3) alone
    refuted = [c["formal"] for s in result["steps"] for c in s["claims"]
               if c["verdict"] == "refuted"]
    assert "(= (residue (- (^ 7 11) 7) 25) 0)" in refuted


def test_congruences_are_read_only_with_an_integer_modulus_at_the_clause_end() -> None:
    assert "residue" in read_latex(r"\(2^{11} \equiv 8 \pmod{10}\)")
    assert "residue" in read_latex(r"\(127 \equiv 7 \mod 10\)")
    assert "residue" not in read_latex(r"\(a \equiv b \pmod{n}\)")
    assert "residue" not in read_latex(r"\(x \equiv 3 \pmod{5} < 4\)")
    assert "residue" not in read_latex(r"\(\frac{1}{2} \equiv 4 \pmod{7}\)")
