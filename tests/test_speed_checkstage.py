"""The check stage's fast paths give what the plain paths give: the one-pass tokenizer, the
remembered literals, integer arithmetic in ``evaluate``, the nesting pre-check, ``to_smt``'s
type dispatch and the binding pre-check of :class:`formalizer.step_relations.RelationChecker`."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import App, Bin, Const, Neg, Num, Relation, Var, to_smt
from prover.arith.evaluate import MAX_BITS, evaluate
from prover.arith.parse import (
    MAX_DEPTH,
    MAX_TOKENS,
    ArithSyntaxError,
    TooLargeError,
    _token_texts,
    _tokenize,
    make_number,
    parse_chain,
    parse_expr,
)

_PIECES = ["1", "23", "4.5", ".5", "3.363…", "1e3", "2.5E-2", "x", "ab", "f", "sqrt", "pi", "(",
           ")", "|", ",", "+", "-", "*", "/", "//", "^", "**", "%", "!", "=", "==", "<=", "~=",
           "~", " ", "\t", "\u00a0", "٣", "²", "$", ".", "…", "_a1", "&"]


def _outcome(fn, *args):  # noqa: ANN001, ANN202 - a result or the error it raised
    try:
        return fn(*args)
    except (ArithSyntaxError, TooLargeError) as err:
        return type(err).__name__, str(err), getattr(err, "position", None)


def test_one_pass_tokens_are_the_scan() -> None:
    rng = random.Random(5)
    texts = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    texts += ["1 +" * (MAX_TOKENS // 2) + " 1", "1 +" * (MAX_TOKENS // 2 + 1) + " $"]
    errors = 0
    for text in texts:
        plain = _outcome(lambda t: [value for _, value, _ in _tokenize(t)], text)
        errors += isinstance(plain, tuple)
        assert _outcome(_token_texts, text) == plain, text
    assert errors > 100  # the error paths were exercised


@pytest.mark.parametrize(("text", "message", "position"), [
    ("2 + ) = 3", "expected a number, a name or '(' but found ')'", 4),
    ("3 $ 4 = 1", "unexpected character '$'", 2),
    ("1 = nan", "'nan' is not a number", 4),
    ("1/2x = 3", "a product written after '/' is ambiguous (a/bc: (a/b)c or a/(bc))", 3),
    ("(1 + 2 = 3", "expected ')'", 7),
    ("1 = 1 )", "unexpected ')'", 6),
    ("|1 = 1", "expected a closing '|'", 3),
    ("1 + 2", "expected a relation (=, <, ≤, ...)", 5),
    ("1 = ", "expected a number, a name or '('", 4),
])
def test_error_positions_are_token_starts(text: str, message: str, position: int) -> None:
    with pytest.raises(ArithSyntaxError) as err:
        parse_chain(text)
    assert str(err.value) == f"{message} at {position}" and err.value.position == position


def test_literals_are_remembered_and_exact() -> None:
    for spelling, value, text in [("12", 12, "12"), ("0012", 12, "0012"), ("0.50", "1/2", "0.50"),
                                  (".5", "1/2", "0.5"), ("1.5e3", 1500, "1500"),
                                  ("3.363…", "3363/1000", "3.363…"), ("٣", 3, "٣")]:
        first, again = make_number(spelling), make_number(spelling)
        assert first == Num(Fraction(value), text) and again is first
    with pytest.raises(TooLargeError):
        make_number("1" * 401)
    with pytest.raises(TooLargeError):  # an error is raised again, never remembered as a value
        make_number("1" * 401)


def test_integer_arithmetic_is_fraction_arithmetic() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        a, b = (Fraction(rng.randint(-10**6, 10**6), rng.choice([1, 1, 1, 2, 3, 10]))
                for _ in range(2))
        for op, expected in (("+", a + b), ("-", a - b), ("*", a * b)):
            got = evaluate(Bin(op, Num(a, "a"), Num(b, "b")))  # type: ignore[arg-type]
            assert got == expected and type(got) is Fraction
    big = Num(Fraction(2) ** (MAX_BITS - 1), "big")
    assert evaluate(Bin("+", big, Num(Fraction(0), "0"))) == big.value
    with pytest.raises(TooLargeError):
        evaluate(Bin("*", big, Num(Fraction(4), "4")))
    with pytest.raises(TooLargeError):
        evaluate(Bin("+", big, big))
    assert evaluate(Bin("-", Var("x"), Num(Fraction(1), "1")), {"x": Fraction(1, 2)}) == Fraction(-1, 2)


def test_nesting_precheck_counts_parentheses() -> None:
    assert parse_expr("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == Num(Fraction(1), "1")
    with pytest.raises(TooLargeError):
        parse_expr("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1))
    # many parentheses, none deep: the count alone does not reject
    assert len(parse_chain(" + ".join(["(1)"] * (MAX_DEPTH + 5)) + " = 53")) == 1


def test_to_smt_on_every_node_type() -> None:
    one = Num(Fraction(1), "1")
    rel = Relation("<=", Bin("//", Neg(Var("a")), App("f", (one, Const("pi")))),
                   Bin("^", Num(Fraction(-7, 3), "-7/3"), Num(Fraction(3363, 1000), "3.363…")))
    assert to_smt(rel) == "(<= (to_int (/ (- a) (f 1 pi))) (^ (- 7/3) 3.363))"
    assert to_smt(Num(Fraction(-2), "-2")) == "(- 2)"
    assert to_smt(Num(Fraction(1, 3), "1/3")) == "(/ 1 3)"


def test_undefined_binding_still_marks_later_claims() -> None:
    result, _ = StepChecker().check(Solution("0", "", ["Let x = 1/0.", "So x + 1 = 2."]))
    first, second = (step["claims"][0] for step in result["steps"])
    assert first["verdict"] == "refuted" and first["evidence"] == {"division_by_zero": "(/ 1 0)"}
    assert second["reason"] == "division-by-zero"
