"""Exact values read in the recall round of 2026-12-03 (third session): floor and ceiling,
gcd and lcm, and products of rational powers (``10^(-27/2)``, cube roots).

The formulas are real ProcessBench development-half text (tests/data/processbench_recall_exact.json,
Apache-2.0, see SOURCE.processbench_recall_exact.md) in the spelling the reader gives them. The
property checks say a new reading only moves a claim from ``unknown`` to the verdict that a
60-digit evaluation confirms: never a flag the text does not deserve.
"""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest

from prover.arith.ast import Bin, Expr, Neg, Num, Relation, num
from prover.arith.check import ArithChecker
from prover.arith.parse import parse_chain
from prover.arith.powers import check_monomial, monomial

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_recall_exact.json")
                    .read_text(encoding="utf-8"))
CHECKER = ArithChecker()


def kinds(text: str) -> list[str]:
    return [CHECKER.check(rel)[0].kind for rel in parse_chain(text)]


def test_slices_come_from_the_development_half() -> None:
    for row in SLICES.values():
        assert hashlib.sha256(row["id"].encode()).digest()[0] % 2 == 0, row["id"]


# ---------------------------------------------------------------- floor, ceil, gcd, lcm

def test_legendre_sum_of_floors_from_real_text_is_exact() -> None:
    row = SLICES["legendre_floors"]
    assert r"\left\lfloor \frac{11}{2} \right\rfloor" in row["steps"][0]
    # "\left\lfloor \frac{11}{2} \right\rfloor + ... = 5 + 2 + 1 = 8" as the reader spells it
    assert kinds("floor(11/2) + floor(11/4) + floor(11/8) = 5 + 2 + 1 = 8") == [
        "verified", "verified"]
    assert kinds("floor(11/5) + floor(11/25) = 2 + 0 = 2") == ["verified", "verified"]
    assert kinds("floor(11/2) + floor(11/4) + floor(11/8) = 5 + 3 + 1") == ["refuted"]


def test_floor_and_ceil_of_rationals_and_square_roots() -> None:
    assert kinds("floor(-7/2) = -4") == ["verified"]
    assert kinds("ceil(-7/2) = -3") == ["verified"]
    assert kinds("floor(-7/2) = -3") == ["refuted"]
    assert kinds("floor(sqrt(50)) = 7") == ["verified"]
    assert kinds("ceil(sqrt(50)) = 8") == ["verified"]
    assert kinds("floor(sqrt(50)) = 8") == ["refuted"]
    assert kinds("floor(sqrt(49)) = 7") == ["verified"]
    assert kinds("floor(3 + sqrt(2)) = 4") == ["verified"]


def test_floor_of_a_truncated_or_unknown_value_stays_unknown() -> None:
    assert kinds("ceil(3.00…) = 3") == ["unknown"]  # 3.00… may be 3.004
    assert kinds("floor(3.99…) = 3") == ["unknown"]
    assert kinds("floor(x) = 3") == ["unknown"]


def test_gcd_and_lcm_of_integers() -> None:
    assert kinds("gcd(12, 18) = 6") == ["verified"]
    assert kinds("gcd(12, 18, 8) = 2") == ["verified"]
    assert kinds("lcm(4, 6) = 12") == ["verified"]
    assert kinds("lcm(4, 6) = 24") == ["refuted"]
    assert kinds("gcd(2.5, 5) = 1") == ["unknown"]  # not read for non-integers


# ---------------------------------------------------------------- rational powers

def test_powers_of_ten_from_real_text() -> None:
    row = SLICES["powers_of_ten"]
    assert "10^{-27}" in row["steps"][0]
    assert kinds("(10^(-27))^0.5 = 10^(-(27/2))") == ["verified"]
    row = SLICES["fifth_roots"]
    assert "10^{\\frac{24}{5}}" in row["steps"][0]
    assert kinds("10^3 * 10^(24/5) = 10^(39/5)") == ["verified"]
    assert kinds("10^3 * 10^(24/5) = 10^(38/5)") == ["refuted"]


def test_roots_over_a_common_basis() -> None:
    assert kinds("2^(1/3) * 4^(1/3) = 2") == ["verified"]
    assert kinds("12^(1/3) * 18^(1/3) = 6") == ["verified"]
    assert kinds("4^(1/3) * 2^(2/3) = 2 * 2^(1/3)") == ["verified"]
    assert kinds("2^(1/3) < 2^(1/2)") == ["verified"]
    assert kinds("2^(1/3) > 2^(1/2)") == ["refuted"]
    assert kinds("6^(1/3) = 2^(1/3) * 3^(1/2)") == ["refuted"]


def test_what_the_monomial_reader_leaves_alone() -> None:
    for text in ("2^(1/3) = 1.26", "2^(1/3) ~= 1.26", "(-8)^(1/3) = -2", "x^(1/3) = 2",
                 "2^(1/3) + 1 = 3^(1/3)"):
        assert check_monomial(parse_chain(text)[0]) is None, text


# ---------------------------------------------------------------- property: only right verdicts

def _decimal(expr: Expr) -> Decimal:
    if isinstance(expr, Num):
        return Decimal(expr.value.numerator) / Decimal(expr.value.denominator)
    if isinstance(expr, Neg):
        return -_decimal(expr.arg)
    assert isinstance(expr, Bin)
    left = _decimal(expr.left)
    if expr.op == "^":
        assert isinstance(expr.right, Num)
        exp = expr.right.value
        if exp.denominator == 1:
            return left ** int(exp)
        return (left.ln() * Decimal(exp.numerator) / Decimal(exp.denominator)).exp()
    right = _decimal(expr.right)
    return {"*": left * right, "/": left / right}[expr.op]


def _random_monomial(rng: random.Random, depth: int = 2) -> Expr:
    if depth == 0 or rng.random() < 0.3:
        return num(Fraction(rng.randint(1, 40), rng.choice((1, 1, 2, 3, 9))))
    op = rng.choice(("*", "/", "^"))
    if op == "^":
        exp = Fraction(rng.randint(-4, 4), rng.choice((1, 2, 3, 4, 6)))
        return Bin("^", _random_monomial(rng, depth - 1), num(exp))
    return Bin(op, _random_monomial(rng, depth - 1), _random_monomial(rng, depth - 1))


@pytest.mark.parametrize("seed", range(4))
def test_monomial_verdicts_agree_with_sixty_digits(seed: int) -> None:
    rng = random.Random(seed)
    decided = 0
    with localcontext() as ctx:
        ctx.prec = 60
        for _ in range(150):
            left, right = _random_monomial(rng), _random_monomial(rng)
            if rng.random() < 0.3:
                right = left if rng.random() < 0.5 else Bin("*", num(1), left)
            op = rng.choice(("=", "<", ">=", "!="))
            rel = Relation(op, left, right)  # type: ignore[arg-type]
            verdict = check_monomial(rel)
            if verdict is None:
                continue
            decided += 1
            a, b = _decimal(left), _decimal(right)
            gap = abs(a - b) / max(abs(a), abs(b), Decimal(1))
            if gap < Decimal(10) ** -40:  # equal to 40 digits: only "equal" may be said
                holds = op in ("=", ">=")
            else:
                holds = {"=": False, "!=": True, "<": a < b, ">=": a >= b}[op]
            assert verdict.kind == ("verified" if holds else "refuted"), (rel, a, b)
    assert decided > 60  # the reader decides most of them


def test_monomial_of_a_product_keeps_the_bases() -> None:
    coef, powers = monomial(parse_chain("6^(1/2) = 1")[0].left)
    assert coef == 1 and powers == {6: Fraction(1, 2)}


@pytest.mark.parametrize("name", ["powers_of_ten", "fifth_roots"])
def test_real_steps_with_roots_of_powers_are_decided_exactly(name: str) -> None:
    from formalizer.stepcheck import Solution, StepChecker

    row = SLICES[name]
    result, _ = StepChecker(solver_budget_s=5.0).check(
        Solution(row["id"], row["problem"], row["steps"]))
    claims = [c for s in result["steps"] for c in s["claims"] if c["verdict"] is not None]
    assert claims and all(c["verdict"] == "verified" for c in claims), claims
    assert any("rational powers" in str(c["evidence"].get("method")) for c in claims)


# ---------------------------------------------------------------- residues (congruences)

def test_congruences_of_powers_from_real_text() -> None:
    row = SLICES["congruence_powers"]
    assert row["label"] == 3
    assert r"7 \cdot (7^{10})^{13} \equiv 7 \cdot 1^{13}" in row["steps"][0]
    # "a \equiv b \pmod{n}" is read residue((a) - (b), n) = 0 (formalizer.latex)
    assert kinds("residue((4^4) - (256), 25) = 0") == ["verified"]
    assert kinds("residue((4^{127}) - (9), 25) = 0".replace("{", "(").replace("}", ")")) == [
        "verified"]
    assert kinds("residue((7^20) - (1), 25) = 0") == ["verified"]
    assert kinds("residue((7 * (7^10)^13) - (7 * 1^13), 25) = 0") == ["refuted"]  # 7^10 ≡ -1
    assert kinds("residue((7^11) - (7), 25) = 0") == ["refuted"]  # 7^11 ≡ 18


def test_residues_of_large_powers_and_factorials_are_reduced_as_computed() -> None:
    assert kinds("residue(7^2023 - 3, 5) = 0") == ["verified"]  # 7^2023 is never built
    assert kinds("residue(7^2023 - 4, 5) = 0") == ["refuted"]
    assert kinds("residue(101! - 1, 103) = 0") == ["verified"]  # Wilson: 102! ≡ -1
    assert kinds("residue(-8 - 1, 9) = 0") == ["verified"]


def test_residues_outside_the_integers_stay_unknown() -> None:
    for text in ("residue(1/2 - 1, 9) = 0", "residue(x - 1, 9) = 0", "residue(5, 0) = 0",
                 "residue(2^(1/2), 5) = 0", "residue(5, 1/2) = 0"):
        assert kinds(text) == ["unknown"], text


@pytest.mark.parametrize("seed", range(3))
def test_residue_agrees_with_python_integers(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        a, b, e = rng.randint(-10**6, 10**6), rng.randint(0, 10**4), rng.randint(0, 300)
        n = rng.randint(2, 10**5)
        text = f"residue(({a})^{e} - ({b}), {n}) = 0"
        expected = "verified" if (a**e - b) % n == 0 else "refuted"
        assert kinds(text) == [expected], text
