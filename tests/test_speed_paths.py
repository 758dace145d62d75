"""The fast per-claim paths of step checking decide as the plain ones did: the type-dispatched
``variables``/``is_opaque`` agree with a plain isinstance walk on every relation of real text,
``tokenize`` yields the same tokens as a plain pattern scan, and the per-step reading flags
(``_StepFlags``) are the per-claim regex reads they replaced."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from formalizer.extract import extract_claims
from formalizer.reading import reductio_step
from formalizer.step_scope import CASE_STEP, HYPOTHETICAL
from formalizer.stepcheck import _StepFlags
from formalizer.tokens import _PROSE_TOKEN, Tok, tokenize
from prover.arith.ast import (
    App,
    Bin,
    Const,
    Expr,
    Neg,
    Num,
    Relation,
    Var,
    is_opaque,
    variables,
)

DATA = Path(__file__).parent / "data"


def _steps() -> list[str]:
    """The steps of the GSM8K slice plus competition-style and edge-case lines."""
    steps: list[str] = []
    with (DATA / "gsm8k_train_300.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            steps.extend(json.loads(line)["answer"].split("\n"))
    steps += ["Suppose x = 3. Then x^2 = 9 = 3*3.", "For n = 2: f(n) = 2^n = 4 (False).",
              "If a + b = 5 and a - b = 1 then a = 3.", "sqrt(16) + pi > 3", "-(x) = -x",
              "Case 1: 2 < 3", "Let k = 7, so k*k = 49", "abs(-2) = 2", ""]
    return steps


def _plain_variables(node: Expr | Relation) -> set[str]:
    """The reference walk (isinstance only, recursive)."""
    if isinstance(node, Var):
        return {node.name}
    if isinstance(node, Neg):
        return _plain_variables(node.arg)
    if isinstance(node, (Bin, Relation)):
        return _plain_variables(node.left) | _plain_variables(node.right)
    if isinstance(node, App):
        return set().union(*(_plain_variables(a) for a in node.args))
    return set()


def _plain_opaque(node: Expr | Relation) -> bool:
    if isinstance(node, (App, Const)):
        return True
    if isinstance(node, Neg):
        return _plain_opaque(node.arg)
    if isinstance(node, (Bin, Relation)):
        return _plain_opaque(node.left) or _plain_opaque(node.right)
    return False


def test_variables_and_opaque_match_plain_walk_on_real_relations() -> None:
    relations: list[Relation] = []
    for step in _steps():
        for claim in extract_claims(step, {"x", "k"}):
            relations.extend(claim.relations)
    assert len(relations) > 500
    named = opaque = 0
    for rel in relations:
        for node in (rel, rel.left, rel.right):
            assert variables(node) == _plain_variables(node), rel
            assert is_opaque(node) == _plain_opaque(node), rel
        named += bool(variables(rel))
        opaque += is_opaque(rel)
    assert named > 0 and opaque > 0  # both branches were exercised


def test_variables_and_opaque_on_every_node_type() -> None:
    one = Num(Fraction(1), "1")
    tree = Relation("=", Neg(Bin("+", Var("a"), App("f", (Var("b"), one)))), Const("pi"))
    assert variables(tree) == {"a", "b"}
    assert is_opaque(tree)
    assert variables(Relation("<", one, Neg(Var("c")))) == {"c"}
    assert not is_opaque(Relation("<", one, Neg(Var("c"))))
    result = variables(tree)
    result.add("z")  # a fresh set each call: callers may change it
    assert variables(tree) == {"a", "b"}


def test_tokenize_is_the_plain_pattern_scan() -> None:
    for step in _steps():
        plain = [(m.lastgroup or "other", m.group(), m.start(), m.end())
                 for m in _PROSE_TOKEN.finditer(step)]
        tokens = tokenize(step)
        assert [(t.kind, t.value, t.start, t.end) for t in tokens] == plain
        assert all(type(t) is Tok for t in tokens)


def test_step_flags_are_the_regex_reads() -> None:
    for step in _steps():
        flags = _StepFlags(step)
        assert flags.case_step == bool(CASE_STEP.search(step))
        assert flags.hypothetical == bool(HYPOTHETICAL.search(step))
        assert flags.reductio() == reductio_step(step)
        assert flags.reductio() == reductio_step(step)  # memoised answer is the same
    trial = _StepFlags("For n = 2: f(n) = 2^n = 4 (False).")
    assert trial.case_step and trial.hypothetical and trial.reductio()
    plain = _StepFlags("He has 3 + 4 = 7 apples.")
    assert not (plain.case_step or plain.hypothetical or plain.reductio())
