"""The arithmetic core: parser, formal form, exact fast path, Z3 path, bounds."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.arith.ast import format_number, to_infix, to_smt
from prover.arith.check import ArithChecker, Limits, Premises, check_ground
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain
from prover.arith.smt_read import parse_smt
from prover.records.verdicts import UnknownReason


def one(text: str):
    rels = parse_chain(text)
    assert len(rels) == 1
    return rels[0]


def verdict(text: str, premises: Premises | None = None):
    return ArithChecker().check(one(text), premises)[0]


@pytest.mark.parametrize("text, smt", [
    ("48/2 = 24", "(= (/ 48 2) 24)"),
    ("2x + 3 = 15", "(= (+ (* 2 x) 3) 15)"),
    ("-2^2 = -4", "(= (- (^ 2 2)) (- 4))"),
    ("2^3^2 = 512", "(= (^ 2 (^ 3 2)) 512)"),
    ("20% * 50 = 10", "(= (* (/ 20 100) 50) 10)"),
    ("1000 - 20% = 800", "(= (* 1000 (- 1 (/ 20 100))) 800)"),
    ("100% - 40% = 60%", "(= (- (/ 100 100) (/ 40 100)) (/ 60 100))"),
    ("7 // 2 = 3", "(= (to_int (/ 7 2)) 3)"),
    ("sqrt(16) = 4", "(= (^ 16 0.5) 4)"),
    ("a <= b", "(<= a b)"),
    ("3 != 4", "(distinct 3 4)"),
    ("0.50 ~= 0.5", "(approx 0.50 0.5)"),
])
def test_formal_form_and_round_trip(text: str, smt: str) -> None:
    rel = one(text)
    assert to_smt(rel) == smt
    assert parse_smt(smt) == rel


def test_chains_become_consecutive_claims() -> None:
    rels = parse_chain("3 + 4 = 7 = 14 / 2 > 6")
    assert [to_infix(r) for r in rels] == ["3 + 4 = 7", "7 = 14 / 2", "14 / 2 > 6"]


@pytest.mark.parametrize("text", ["", "3 +", "= 4", "(1 + 2 = 3", "1 + 2", "3 = = 4", "nan = 1",
                                  "inf > 2", "1 $ 2 = 3"])
def test_syntax_errors_are_values_with_positions(text: str) -> None:
    with pytest.raises(ArithSyntaxError) as info:
        parse_chain(text)
    assert info.value.position >= 0


def test_size_bounds_refuse_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(TooLargeError):
        parse_chain("1" * 1_000_000 + " = 1")
    with pytest.raises(TooLargeError):
        parse_chain("(" * 10_000 + "1" + ")" * 10_000 + " = 1")
    with pytest.raises(TooLargeError):
        parse_chain(" + ".join(["1"] * 5000) + " = 5000")
    assert check_ground(one("10^10^10 = 1")).reason is UnknownReason.TOO_LARGE
    assert check_ground(one("2^100000 = 1")).reason is UnknownReason.TOO_LARGE
    assert check_ground(one("2^100 = 1267650600228229401496703205376")).kind == "verified"
    assert time.perf_counter() - start < 30  # generous: the point is "no hang"


def test_exact_fast_path_and_evidence() -> None:
    assert verdict("48/2 = 24").kind == "verified"
    refuted = verdict("8*3 = 240")
    assert refuted.kind == "refuted"
    assert refuted.evidence == {"lhs": "24", "rhs": "240"}
    assert verdict("0.1 + 0.2 = 0.3").kind == "verified"  # decimal strings, never floats
    assert verdict("3/4 * 20 = 15").kind == "verified"
    assert verdict("7/2 = 3").kind == "refuted"  # real division, not integer division
    assert verdict("7 // 2 = 3").kind == "verified"  # floor only when written
    assert verdict("15 > 12").kind == "verified"
    assert verdict("15 <= 12").kind == "refuted"


def test_rounded_values_are_approximate_never_plain_verified() -> None:
    v = verdict("75/55 = 1.4")
    assert (v.kind, v.tolerance) == ("verified_approx", "0.05")
    v = verdict("1/3 = 0.333")
    assert (v.kind, v.tolerance) == ("verified_approx", "0.0005")
    assert verdict("1/3 = 0.32").kind == "refuted"
    assert verdict("2/3 = 0.66").kind == "refuted"  # truncated, not rounded
    v = verdict("10/3 ~= 3")
    assert (v.kind, v.tolerance) == ("verified_approx", "0.5")
    assert verdict("10/4 = 2.5").kind == "verified"  # exact decimals stay exact
    assert verdict("7/2 = 4").kind == "refuted"  # integers are not rounded without ≈


def test_division_by_zero_is_never_verified() -> None:
    v = verdict("5/0 = 0")
    assert v.kind == "refuted" and "division_by_zero" in v.evidence
    assert verdict("1/y = 5", Premises(values={"y": Fraction(0)})).kind == "refuted"
    may_be_zero = verdict("1/z = 5", Premises(constraints=parse_chain("z * z = z")))
    assert may_be_zero.kind == "unknown" and may_be_zero.reason is UnknownReason.DIVISION_BY_ZERO
    assert verdict("1/z = 1/2", Premises(constraints=parse_chain("z = 2"))).kind == "verified"


def test_z3_path_with_unknowns_counter_model_and_core() -> None:
    premises = Premises(constraints=parse_chain("2x + 3 = 15"))
    v = verdict("x = 6", premises)
    assert v.kind == "verified" and v.evidence["premises_used"] == ["2 * x + 3 = 15"]
    v = verdict("x = 7", premises)
    assert v.kind == "refuted" and v.evidence["model"] == {"x": "6"}
    v = verdict("(u+v)^2 = u^2 + v^2")
    assert v.kind == "refuted"
    model = {k: Fraction(val) for k, val in v.evidence["model"].items()}
    assert (model["u"] + model["v"]) ** 2 != model["u"] ** 2 + model["v"] ** 2
    assert verdict("(u+v)^2 = u^2 + 2*u*v + v^2").kind == "verified"


def test_irrational_values_go_to_z3() -> None:
    assert verdict("sqrt(2) * sqrt(2) = 2").kind == "verified"
    v = verdict("sqrt(2) ~= 1.414")
    assert (v.kind, v.tolerance) == ("verified_approx", "0.0005")
    assert verdict("sqrt(2) = 1.42").kind == "refuted"


def test_integer_semantics_only_when_asked() -> None:
    real = verdict("x / 2 = 3", Premises(constraints=parse_chain("x = 7")))
    assert real.kind == "refuted"
    integer = verdict("x / 2 = 3", Premises(constraints=parse_chain("x = 7"), integer=True))
    assert integer.kind == "refuted"  # division stays real division even over integers
    assert verdict("2 * n = 7", Premises(constraints=parse_chain("n > 0"), integer=True)
                   ).kind == "refuted"


def test_unknown_carries_a_typed_reason_under_a_tiny_budget() -> None:
    checker = ArithChecker(Limits(timeout_ms=200, rlimit=2000))
    premises = Premises(constraints=parse_chain("x > 0") + parse_chain("y > 0")
                        + parse_chain("z > 0"), integer=True)
    v, backend = checker.check(one("x^3 + y^3 != z^3"), premises)
    assert backend == "z3"
    assert v.kind == "unknown"
    assert v.reason in (UnknownReason.BUDGET, UnknownReason.TIMEOUT, UnknownReason.UNDECIDABLE)
    assert not v.is_verified


def test_format_number() -> None:
    assert format_number(Fraction(1, 4)) == "0.25"
    assert format_number(Fraction(-7, 2)) == "-3.5"
    assert format_number(Fraction(7, 3)) == "7/3 (≈2.33333)"
    assert format_number(Fraction(7, 3), exact=True) == "7/3"


# ------------------------------------------------------------------------- property tests
_numbers = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.builds(lambda a, b: f"{a}.{b:02d}", st.integers(0, 999), st.integers(0, 99)),
)


def _expr(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(_numbers, st.sampled_from(["x", "y"]), _numbers.map(lambda n: n + "%"))
    if depth == 0:
        return leaf
    sub = _expr(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda a, op, b: f"{a} {op} {b}", sub, st.sampled_from("+-*/"), sub),
        st.builds(lambda a: f"({a})", sub),
        st.builds(lambda a: f"-{a}", sub),
        st.builds(lambda a, e: f"({a})^{e}", sub, st.integers(0, 4)),
    )


@settings(max_examples=300, deadline=None)
@given(_expr(3), st.sampled_from(["=", "<", "<=", ">", ">=", "!=", "~="]), _expr(3))
def test_random_arithmetic_round_trips_through_the_formal_form(a: str, op: str, b: str) -> None:
    rels = parse_chain(f"{a} {op} {b}")
    for rel in rels:
        assert parse_smt(to_smt(rel)) == rel
        assert parse_chain(to_infix(rel).replace("≠", "!=").replace("≤", "<=").replace(
            "≥", ">=").replace("≈", "~="))[0] == rel or "%" in a + b


_JUNK = st.text(alphabet=st.sampled_from(list("0123456789+-*/^()%.=<>~ xy,$")), max_size=60)


@settings(max_examples=400, deadline=None)
@given(_JUNK)
def test_random_strings_never_raise_out_of_the_checker(text: str) -> None:
    checker = ArithChecker(Limits(timeout_ms=500, rlimit=200_000))
    try:
        rels = parse_chain(text)
    except (ArithSyntaxError, TooLargeError):
        return
    for rel in rels:
        v, _ = checker.check(rel, Premises())
        assert v.kind in ("verified", "verified_approx", "refuted", "unknown")


# ---------------------------------------------------------------- applications, constants, exactness

def test_applications_and_constants_parse_and_round_trip() -> None:
    from prover.arith.ast import App, Bin, Const, Num, Var

    rel = parse_chain("f(f(x)) + |3 - y| + 5! + binom(9, 2) + C(4, 2) = 2 pi", frozenset("f"))[0]
    assert isinstance(rel.right, Bin) and rel.right.right == Const("pi")
    assert parse_smt(to_smt(rel)) == rel
    assert parse_chain("f(x) = 1")[0].left == Bin("*", Var("f"), Var("x"))  # not declared
    assert parse_chain("C(4, 2) = 6")[0].left == App("C", (Num(Fraction(4), "4"),
                                                          Num(Fraction(2), "2")))


@pytest.mark.parametrize("text, kind", [
    ("5! = 120", "verified"), ("binom(9, 2) = 36", "verified"), ("|3 - 5| = 2", "verified"),
    ("log(2, 8) = 3", "verified"), ("log(4, 8) = 1.5", "verified"), ("log(2, 8) = 4", "refuted"),
    ("sin(30) = 0.5", "unknown"), ("log(2, 3) = 1.58", "unknown"), ("401! = 1", "unknown"),
])
def test_exact_values_only_where_exact(text: str, kind: str) -> None:
    from prover.arith.check import ArithChecker

    verdict, _ = ArithChecker().check(parse_chain(text)[0])
    assert verdict.kind == kind


def test_uninterpreted_terms_decide_identities_only() -> None:
    from prover.arith.check import ArithChecker

    checker = ArithChecker()
    same = checker.check(parse_chain("f(2) = f(2)", frozenset("f"))[0])[0]
    assert same.kind == "verified"
    ident = checker.check(parse_chain("f(x) + f(x) = 2 f(x)", frozenset("f"))[0])[0]
    assert ident.kind == "verified"
    other = checker.check(parse_chain("f(1) = f(2)", frozenset("f"))[0])[0]
    assert (other.kind, other.reason) == ("unknown", UnknownReason.NOT_FORMALIZED)
    assert checker.check(parse_chain("pi = 3.14")[0])[0].kind == "unknown"


def test_truncated_literal_allows_one_unit_of_its_last_digit() -> None:
    rel = parse_chain("37/11 = 3.363…")[0]  # 3.3636...: truncated, not rounded (3.364)
    assert check_ground(rel).kind == "verified_approx"
    assert check_ground(parse_chain("37/11 = 3.363")[0]).kind == "refuted"


def test_polynomial_identities_are_decided_exactly() -> None:
    from prover.arith.check import polynomial_identity

    assert polynomial_identity(parse_chain("(x+1)^2 = x^2 + 2x + 1")[0]).kind == "verified"
    wrong = polynomial_identity(parse_chain("(x+y)^2 = x^2 + y^2")[0])
    assert wrong.kind == "refuted" and wrong.evidence["model"] == {"x": "1", "y": "1"}
    assert polynomial_identity(parse_chain("x/2 = x")[0]) is None  # not a polynomial
