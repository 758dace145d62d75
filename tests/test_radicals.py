"""Exact arithmetic in Q(√a) (prover.arith.radicals, prover.arith.surds): true claims verified,
wrong ones refuted with exact evidence, and what lies outside the field left to the solver or
``unknown`` — never decided through a float."""

from __future__ import annotations

from fractions import Fraction

import pytest

from prover.arith import radicals as rad
from prover.arith.check import ArithChecker, check_ground
from prover.arith.parse import TooLargeError, parse_chain
from prover.arith.surds import check_radical


def exact(text: str):
    """check_ground's verdict (None: left to a solver)."""
    return check_ground(parse_chain(text)[0])


@pytest.mark.parametrize("text", [
    "(2 + sqrt(3)) * (2 - sqrt(3)) = 1",
    "sqrt(12) = 2 * sqrt(3)",
    "sqrt(8) / sqrt(2) = 2",
    "1 / (sqrt(3) - sqrt(2)) = sqrt(3) + sqrt(2)",
    "(1 + sqrt(2))^5 = 41 + 29 * sqrt(2)",
    "8^(3/2) = 16 * sqrt(2)",
    "sqrt(3)/2 * 20 = 10 * sqrt(3)",
    "sqrt(1/2) = sqrt(2)/2",
    "sqrt(2) + sqrt(3) < sqrt(10)",
    "sqrt(2) != 1.414",
    "abs(1 - sqrt(2)) = sqrt(2) - 1",
])
def test_true_claims_are_verified_exactly(text: str) -> None:
    verdict = exact(text)
    assert verdict is not None and verdict.kind == "verified", (text, verdict)


@pytest.mark.parametrize("text", [
    "sqrt(12) = 3 * sqrt(2)",
    "(2 + sqrt(3)) * (2 - sqrt(3)) = 7",
    "1032 = 120 * sqrt(7)",  # olympiadbench-146: false in the text
    "sqrt(2) + sqrt(3) = sqrt(5)",
    "sqrt(2) + sqrt(3) > sqrt(10)",
    "sqrt(2) = 1.42",
    "sqrt(41) ~= 6.5",
])
def test_wrong_claims_are_refuted_with_exact_evidence(text: str) -> None:
    verdict = exact(text)
    assert verdict is not None and verdict.kind == "refuted", (text, verdict)
    assert verdict.evidence["method"] == "exact arithmetic in Q(√a)"


def test_stated_roundings_keep_their_tolerance() -> None:
    verdict = exact("sqrt(2) ~= 1.414")
    assert (verdict.kind, verdict.tolerance) == ("verified_approx", "0.0005")
    assert exact("sqrt(41) ~= 6.403").kind == "verified_approx"
    assert exact("sqrt(1.5) = 1.2247").kind == "verified_approx"
    assert exact("sqrt(2) = 1.41").kind == "verified_approx"  # |√2 - 1.41| < 0.005


@pytest.mark.parametrize("text", [
    "2^(1/3) = 1.26",  # a cube root: outside the field
    "sqrt(1 + sqrt(2)) = 1.55",  # a root of an irrational value
    "x * sqrt(2) = 3",  # an unknown
    "f(sqrt(2)) = 1",  # an uninterpreted application
    "sqrt(2)^sqrt(2) = 2",  # an irrational exponent
    "sqrt(2) / (sqrt(2) - sqrt(2)) = 1",  # a zero denominator: the rational evaluator's call
])
def test_outside_the_field_is_not_decided_here(text: str) -> None:
    assert check_radical(parse_chain(text, frozenset("f"))[0]) is None


def test_no_real_value_stays_unknown() -> None:
    for text in ("sqrt(-4) = 0", "(-1)^0.5 = 0", "sqrt(-4) + sqrt(2) = 1"):
        verdict = ArithChecker().check(parse_chain(text)[0])[0]
        assert verdict.kind == "unknown", text


def test_field_operations_are_canonical() -> None:
    r2, r3 = rad.sqrt_of(Fraction(2)), rad.sqrt_of(Fraction(3))
    assert rad.mul(r2, r3) == rad.sqrt_of(Fraction(6))
    assert rad.sqrt_of(Fraction(18)) == rad.mul(rad.surd(3), r2)
    assert rad.sqrt_of(Fraction(9, 4)) == rad.surd(Fraction(3, 2))
    x = rad.add(rad.add(r2, r3), rad.sqrt_of(Fraction(5)))
    assert rad.mul(x, rad.inverse(x)) == rad.surd(1)
    assert rad.sign(rad.sub(rad.add(r2, r3), rad.sqrt_of(Fraction(10)))) == -1
    with pytest.raises(ZeroDivisionError):
        rad.inverse(rad.sub(r2, r2))


def test_sizes_are_bounded() -> None:
    with pytest.raises(TooLargeError):
        rad.sqrt_of(Fraction(10**11 + 3))
    with pytest.raises(TooLargeError):
        rad.power(rad.add(rad.surd(1), rad.sqrt_of(Fraction(2))), Fraction(1000))
    assert check_radical(parse_chain("(1 + sqrt(2))^1000 = 1")[0]) is None  # left to a solver


@pytest.mark.parametrize(("text", "kind"), [
    ("sin(pi/6) = 1/2", "verified"),
    ("sin(pi/4) = sqrt(2)/2", "verified"),
    ("cos(pi/3) = sqrt(3)/2", "refuted"),
    ("tan(pi/3) = sqrt(3)", "verified"),
    ("cos(pi/12) = (sqrt(6) + sqrt(2))/4", "verified"),
    ("sin(2*pi - pi/3) = -sqrt(3)/2", "verified"),
    ("cos(pi) = -1", "verified"),
    ("sin(0) = 0", "verified"),
    ("exp(0) = 1", "verified"),
])
def test_trigonometric_values_at_multiples_of_pi(text: str, kind: str) -> None:
    assert ArithChecker().check(parse_chain(text)[0])[0].kind == kind


@pytest.mark.parametrize("text", [
    "sin(30) = 1/2",  # 30 radians (degrees are read as multiples of pi/180 by the reader)
    "sin(pi/5) = 1/2",  # not a multiple of pi/12: no exact value here
    "tan(pi/2) = 1",  # undefined
    "sin(x) = 1/2",
])
def test_other_angles_stay_unknown(text: str) -> None:
    assert ArithChecker().check(parse_chain(text)[0])[0].kind == "unknown"
