"""Function applications and exact values read since the recall round of 2026-12-03.

Real text from the ProcessBench development half (tests/data/processbench_recall_slices.json,
Apache-2.0, see SOURCE.processbench_recall.md) and short spellings: trigonometric functions of
degrees are read as the radians they are (``\\sin 30^\\circ`` = ``sin(30·pi/180)``) and get exact
values in Q(√2, √3); an application's ground arguments are evaluated (``S(1981 + 2019)`` is
``S(4000)``); sized delimiters ``\\left( ... \\right)`` are the delimiters. Reading more must never
add a flag the text does not deserve.
"""

from __future__ import annotations

import hashlib

from slice_checks import load_slices, run

from formalizer.extract import extract_claims
from formalizer.latex import read_latex
from prover.arith.ast import to_infix
from prover.arith.atoms import atomize, canonical
from prover.arith.check import ArithChecker
from prover.arith.parse import parse_chain

SLICES = load_slices("processbench_recall_slices.json")


def run_slice(name: str) -> dict:
    row = SLICES[name]
    return run(*row["steps"], problem=row["problem"], solution_id=row["id"])


def verdicts(result: dict) -> dict[str, str | None]:
    return {c["formal"]: c["verdict"] for s in result["steps"] for c in s["claims"]}


def formulas(text: str) -> list[str]:
    return [to_infix(r) for c in extract_claims(text, set()) for r in c.relations]


def test_slices_come_from_the_development_half() -> None:
    for row in SLICES.values():
        assert hashlib.sha256(row["id"].encode()).digest()[0] % 2 == 0, row["id"]


# ---------------------------------------------------------------- degrees and exact values

def test_degrees_are_radians_in_a_trigonometric_argument() -> None:
    assert "sin(30*pi/180)" in read_latex(r"\(\sin 30^\circ = \frac12\)")
    assert "cos(45*pi/180)" in read_latex(r"\(\cos(45^{\circ}) = 1\)")
    assert "cos(45*pi/180- 30*pi/180)" in read_latex(r"\(\cos(45^\circ - 30^\circ) = 1\)")
    assert "(sin(60*pi/180))^2" in read_latex(r"\(\sin^2 60^\circ = \frac34\)")
    assert "sin(x/30 )" in read_latex(r"\(\sin(x/30^\circ) = 1\)")  # a quotient: not converted
    # an angle outside a function keeps its degrees as a plain number
    assert formulas(r"\(\angle A = 180^\circ - 50^\circ - 60^\circ = 70^\circ\)")[-1] == (
        "180 - 50 - 60 = 70")


def test_known_values_in_degrees_real_text() -> None:
    result = run_slice("trig_degrees_exact")  # olympiadbench-64, step 2 (label: step 3)
    assert result["first_error"] is None
    v = verdicts(result)
    assert v["(= (sin (/ (* 45 pi) 180)) (/ (^ 2 0.5) 2))"] == "verified"
    assert v["(= (cos (/ (* 30 pi) 180)) (/ (^ 3 0.5) 2))"] == "verified"
    # cos 15° = cos(45° - 30°): the same exact value on both sides
    assert v["(= (cos (/ (* 15 pi) 180)) (cos (- (/ (* 45 pi) 180) (/ (* 30 pi) 180))))"] == (
        "verified")
    result = run_slice("cos_degrees_value")  # olympiadbench-313: cos(60°) = 0.5
    assert verdicts(result)["(= (cos (/ (* 60 pi) 180)) 0.5)"] == "verified"


def test_wrong_values_in_degrees_are_refuted() -> None:
    assert run(r"Then \(\cos 30^\circ = \frac{1}{2}\).")["first_error"] == 0
    assert run(r"\(\sin(2 \cdot 30^\circ) = \frac12\)")["first_error"] == 0
    assert run(r"\(\tan 45^\circ = 1\) and \(\sin 150^\circ = \frac12\)")["first_error"] is None


def test_radicals_in_a_correct_solution_are_verified() -> None:
    result = run_slice("radical_chain_correct")  # omnimath-625 (correct solution)
    assert result["first_error"] is None
    v = verdicts(result)
    assert v["(= (cos (/ (* 105 pi) 180)) (- (cos (/ (* 75 pi) 180))))"] == "verified"
    assert v["(= (sin (/ (* 75 pi) 180)) (/ (+ (^ 6 0.5) (^ 2 0.5)) 4))"] == "verified"
    # tan 52.5° has no exact value here: unknown, never refuted
    assert "refuted" not in v.values()


def test_false_radical_equation_is_refuted_real_text() -> None:
    result = run_slice("radical_false_equation")  # olympiadbench-146: 1032 = 120√7
    assert result["first_error"] == 0
    refuted = [c for c in result["steps"][0]["claims"] if c["verdict"] == "refuted"]
    assert refuted and refuted[0]["evidence"]["method"] == "exact arithmetic in Q(√a)"


def test_sized_delimiters_keep_a_product_whole() -> None:
    # "\left(...\right) \left(...\right)" is a product, never cut after its first factor
    assert formulas(r"\[ y = \left(\frac{1}{2}\right) \left(\frac{3}{2}\right) + 1\]") == [
        "y = 1 / 2 * (3 / 2) + 1"]


# ---------------------------------------------------------------- applications as atoms

def test_application_arguments_are_evaluated_real_text() -> None:
    row = SLICES["function_argument_evaluated"]  # olympiadbench-454 (label: this step)
    result = run(*row["steps"], problem="Let S(n) be the sum of the digits of n.")
    assert verdicts(result)["(= (S (+ 1981 2019)) (S 4000))"] == "verified"
    assert result["first_error"] == 0  # 19 = 5 × 4, the labelled error
    result = run_slice("function_argument_sum")  # olympiadbench-144: d(34 + 18) = d(52)
    assert verdicts(result)["(= (d (+ 34 18)) (d 52))"] == "verified"


def test_an_application_is_decided_only_when_every_value_agrees() -> None:
    checker = ArithChecker()
    f = frozenset("f")
    for text, kind in (("f(2*3) = f(6)", "verified"), ("f(6) = 3*f(3)", "unknown"),
                       ("log(2, 8) = 3", "verified"), ("log(2, 8) = 4", "refuted"),
                       ("f(3) + f(3) = 2*f(3)", "verified"), ("f(6) = f(2*3) + 1", "unknown"),
                       ("sin(x)^2 + cos(x)^2 = 1", "unknown")):
        assert checker.check(parse_chain(text, f)[0])[0].kind == kind, text


def test_atoms_name_the_same_application_alike() -> None:
    rel = parse_chain("sin(theta)^2 + sin(theta) - 1 = (sin(theta) - 1)*(sin(theta) + 1)")[0]
    atomized = atomize(rel, {})
    assert len(atomized.meaning) == 1 and atomized.free_atoms
    two = atomize(parse_chain("sin(x)^2 + cos(x)^2 = 1")[0], {})
    assert len(two.meaning) == 2 and not two.free_atoms  # tied by an identity
    user = atomize(parse_chain("f(x) = x^2", frozenset("f"))[0], {})
    assert not user.free_atoms  # a function the problem defines is never a free atom
    bound = atomize(parse_chain("f(x) = f(2*x - 2)", frozenset("f"))[0], {"x": 2})
    assert bound.relation.left == bound.relation.right  # both f(2)
    assert to_infix(canonical(parse_chain("y = sin(pi/4)")[0].right, {})) == "0.5 * 2 ^ 0.5"
