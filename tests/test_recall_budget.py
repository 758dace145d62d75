"""The solver budget spent where it decides something (recall round of 2026-12-03, fourth).

- Exact decisions before Z3 for a claim under no premises (``ArithChecker.check``): a
  polynomial identity on a grid, else a refutation at a fixed whole-number point
  (:func:`prover.arith.check.point_refutation`); property-checked against plain Python
  Fractions on random expressions: a refutation's model really falsifies the claim.
- One satisfiability call per set of premises (:class:`prover.z3.arith.Z3ArithBackend`), and
  none for a refuted claim (its counter-model shows the premises satisfiable): counted calls.
- Real development text (tests/data/processbench_recall_budget.json, Apache-2.0, see
  SOURCE.processbench_recall_budget.md) whose labelled step was ``unknown: budget`` before.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from prover.arith.ast import Bin, Expr, Neg, Relation, Var, num
from prover.arith.check import ArithChecker, point_refutation
from prover.arith.premises import Premises

SLICES = json.loads((Path(__file__).parent / "data" / "processbench_recall_budget.json")
                    .read_text(encoding="utf-8"))

NAMES = ("x", "y")
OPS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _random_expr(rng: random.Random, depth: int) -> tuple[Expr, Callable[[dict], Fraction | None]]:
    """A random expression and its value by plain Fractions (None where undefined)."""
    if depth == 0 or rng.random() < 0.3:
        if rng.random() < 0.5:
            name = rng.choice(NAMES)
            return Var(name), lambda env, n=name: env[n]
        value = Fraction(rng.randint(-9, 9), rng.choice((1, 1, 2, 3)))
        return num(value), lambda env, v=value: v
    kind = rng.choice(("+", "-", "*", "/", "^", "neg"))
    left, lval = _random_expr(rng, depth - 1)
    if kind == "neg":
        return Neg(left), lambda env: None if lval(env) is None else -lval(env)
    if kind == "^":
        k = rng.choice((0, 1, 2, 3, -1))

        def powered(env: dict) -> Fraction | None:
            base = lval(env)
            if base is None or (base == 0 and k < 0):  # 0^0 = 1, as for polynomials
                return None
            return base**k
        return Bin("^", left, num(k)), powered
    right, rval = _random_expr(rng, depth - 1)

    def combined(env: dict) -> Fraction | None:
        a, b = lval(env), rval(env)
        if a is None or b is None or (kind == "/" and b == 0):
            return None
        return a + b if kind == "+" else a - b if kind == "-" else a * b if kind == "*" else a / b
    return Bin(kind, left, right), combined


@pytest.mark.parametrize("seed", range(6))
def test_point_refutation_models_falsify_the_claim(seed: int) -> None:
    """Every refutation carries a model at which plain Fractions say the claim is false."""
    rng = random.Random(seed)
    refuted = 0
    for _ in range(300):
        left, lval = _random_expr(rng, 3)
        right, rval = _random_expr(rng, 3)
        op = rng.choice(tuple(OPS))
        verdict = point_refutation(Relation(op, left, right))
        if verdict is None:
            continue
        assert verdict.kind == "refuted"
        env = {n: Fraction(v) for n, v in verdict.evidence["model"].items()}
        env = {n: env.get(n, Fraction(0)) for n in NAMES}
        a, b = lval(env), rval(env)
        assert a is not None and b is not None
        assert not OPS[op](a, b), (op, left, right, env)
        refuted += 1
    assert refuted > 20


@pytest.mark.parametrize("seed", range(4))
def test_exact_decisions_under_no_premises_agree_with_fractions(seed: int) -> None:
    """``ArithChecker.check`` with no constraints: a verified ``=`` holds at random points and
    a refutation's model falsifies the claim (plain Fractions)."""
    rng = random.Random(100 + seed)
    checker = ArithChecker()
    for _ in range(150):
        left, lval = _random_expr(rng, 2)
        right, rval = _random_expr(rng, 2)
        op = rng.choice(("=", "=", "<", "!="))
        verdict, backend = checker.check(Relation(op, left, right), Premises())
        if backend != "exact" or verdict.kind == "unknown":
            continue
        if verdict.kind == "verified":
            for _ in range(5):
                env = {n: Fraction(rng.randint(-50, 50), rng.randint(1, 7)) for n in NAMES}
                a, b = lval(env), rval(env)
                if a is not None and b is not None:
                    assert OPS[op](a, b)
        elif "model" in verdict.evidence:
            env = {n: Fraction(verdict.evidence["model"].get(n, "0")) for n in NAMES}
            a, b = lval(env), rval(env)
            assert a is not None and b is not None and not OPS[op](a, b)


def test_point_refutation_leaves_what_only_a_solver_reads() -> None:
    """No point verdict with a denominator in the unknowns, an ``≈``, or no unknowns; a power
    with a variable exponent is evaluated where it is exact."""
    x, y = Var("x"), Var("y")
    assert point_refutation(Relation("=", Bin("/", num(1), x), y)) is None
    assert point_refutation(Relation("~=", x, num(3))) is None
    assert point_refutation(Relation("=", num(2), num(3))) is None
    verdict = point_refutation(Relation("=", Bin("^", num(2), x), Bin("+", x, num(2))))
    assert verdict is not None and verdict.kind == "refuted"
    # 2^x = x + 2 holds at x = 2: the first point must not be taken as a counter-model
    assert verdict.evidence["model"] != {"x": "2"}


def test_refutation_costs_one_solver_call_and_premises_are_asked_once(monkeypatch) -> None:
    """Under premises a refuted claim needs only premises ∧ ¬claim (its model shows the premises
    satisfiable); a second claim verified under the same premises does not ask their
    satisfiability again."""
    import prover.z3.arith as z3arith

    calls: list[int] = []
    real = z3arith.solve

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(z3arith, "solve", counting)
    backend = z3arith.Z3ArithBackend(2000, 5_000_000)
    x, y = Var("x"), Var("y")
    premises = Premises(constraints=[Relation("=", Bin("*", x, y), num(6)),
                                     Relation("=", Bin("+", x, y), num(5))])
    assert backend.check(Relation("=", x, num(7)), premises).kind == "refuted"
    assert len(calls) == 1
    calls.clear()
    assert backend.check(Relation("<", x, num(4)), premises).kind == "verified"
    assert len(calls) == 2  # premises ∧ ¬claim, then the premises alone
    calls.clear()
    assert backend.check(Relation(">", y, num(1)), premises).kind == "verified"
    assert len(calls) == 1  # the premises' satisfiability is remembered
    contradictory = Premises(constraints=[Relation("=", x, num(1)), Relation("=", x, num(2))])
    assert backend.check(Relation("=", y, num(3)), contradictory).reason is not None


def _linear_expr(rng: random.Random, coefficients: dict[str, int], constant: int) -> Expr:
    """``sum(c * name) + constant`` spelled in a random shape (products, a division)."""
    expr: Expr = num(constant)
    for name, c in coefficients.items():
        term: Expr = Bin("*", num(c), Var(name)) if rng.random() < 0.7 else Bin(
            "/", Bin("*", num(2 * c), Var(name)), num(2))
        expr = Bin("+", expr, term) if rng.random() < 0.5 else Bin("+", term, expr)
    return expr


@pytest.mark.parametrize("seed", range(8))
def test_fixed_values_agree_with_a_known_solution(seed: int) -> None:
    """Systems built around a known rational solution: every value :func:`fixed_values` fixes
    is that solution's; a square system with a non-zero determinant fixes every unknown; a
    system made inconsistent is None."""
    from prover.arith.linear import fixed_values

    rng = random.Random(seed)
    for _ in range(40):
        names = [f"v{i}" for i in range(rng.randint(1, 4))]
        solution = {n: Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for n in names}
        rows = []
        for _ in range(rng.randint(1, len(names) + 1)):
            coeffs = {n: rng.randint(-4, 4) for n in names if rng.random() < 0.8}
            value = sum((c * solution[n] for n, c in coeffs.items()), Fraction(0))
            rows.append((coeffs, value))
        constraints = [Relation("=", _linear_expr(rng, coeffs, 0), num(value))
                       for coeffs, value in rows]
        solved = fixed_values(constraints, {})
        if not any(c for coeffs, _ in rows for c in coeffs.values()):
            continue
        assert solved is not None
        fixed, _ = solved
        for name, value in fixed.items():
            assert value == solution[name]
        matrix = [[Fraction(coeffs.get(n, 0)) for n in names] for coeffs, _ in rows]
        if len(matrix) >= len(names) and _rank(matrix) == len(names):
            assert fixed == solution
        coeffs, value = rows[0]
        broken = [*constraints, Relation("=", _linear_expr(rng, coeffs, 0), num(value + 1))]
        if any(coeffs.values()):
            assert fixed_values(broken, {}) is None


def _rank(matrix: list[list[Fraction]]) -> int:
    """The rank of ``matrix`` by plain Fraction elimination (the reference)."""
    rows = [row[:] for row in matrix]
    rank = 0
    for col in range(len(rows[0])):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def test_linear_decision_needs_every_unknown_fixed_and_whole_in_the_integer_sort() -> None:
    """``x + y = 10`` fixes neither unknown: no exact verdict on ``x = 3``; with ``x - y = 4``
    it is refuted (x = 7) and ``x = 7`` verified; in the integer sort a fractional solution is
    left to the solver (it is then vacuous there, not refuted)."""
    from prover.arith.check import linear_decision

    x, y = Var("x"), Var("y")
    total = Relation("=", Bin("+", x, y), num(10))
    assert linear_decision(Relation("=", x, num(3)), Premises(constraints=[total])) is None
    both = Premises(constraints=[total, Relation("=", Bin("-", x, y), num(4))])
    refuted = linear_decision(Relation("=", x, num(3)), both)
    assert refuted is not None and refuted.kind == "refuted" and refuted.evidence["model"] == {
        "x": "7"}
    verified = linear_decision(Relation("=", x, num(7)), both)
    assert verified is not None and verified.kind == "verified"
    halves = Premises(constraints=[total, Relation("=", Bin("-", x, y), num(3))], integer=True)
    assert linear_decision(Relation("=", x, num(3)), halves) is None
    nonlinear = Premises(constraints=[total, Relation("=", Bin("*", x, y), num(21))])
    assert linear_decision(Relation("=", x, num(3)), nonlinear) is None


def test_slices_come_from_the_open_parts() -> None:
    """dev or dev2 (bench_stepcheck.part_of), never the test part."""
    for row in SLICES.values():
        digest = hashlib.sha256(row["id"].encode()).digest()
        assert digest[0] % 2 == 0 or digest[1] % 2 == 0, row["id"]


DECIDED = sorted(name for name, row in SLICES.items() if "expect" in row)
UNFLAGGED = sorted(name for name, row in SLICES.items() if "unflagged_step" in row)


@pytest.mark.parametrize("name", DECIDED)
def test_labelled_step_claims_are_decided_within_the_budget(name: str) -> None:
    """Real prefixes whose labelled-step claims ran out of solver budget at HEAD 3e7053f: with
    exact decisions first and one satisfiability call per premises they are decided, with the
    verdict the claim deserves (each is true under the solution's equations)."""
    from formalizer.stepcheck import Solution, StepChecker

    row = SLICES[name]
    result, _ = StepChecker().check(Solution(row["id"], row["problem"], row["steps"]))
    claims = result["steps"][row["label"] - row["first_step"]]["claims"]
    got = {c["formal"]: (c["verdict"], c["reason"]) for c in claims}
    for formal, verdict in row["expect"]:
        assert got[formal] == (verdict, None), (formal, got[formal])


@pytest.mark.parametrize("name", UNFLAGGED)
@pytest.mark.parametrize("budget_s", [0.25, 5.0])
def test_no_flag_from_another_cases_equations(name: str, budget_s: float) -> None:
    """What a larger budget would flag at HEAD 3e7053f, and the text does not deserve:
    ``x = 15`` concluding a case analysis ("For x = 15: ..." examined it) against an equation
    stated before the cases, and a case step's derivation ("If y = 1/2, then 5x + 9 =
    (x + 3)^2") against the equations of the case before it. Neither is refuted, at any
    budget."""
    from formalizer.stepcheck import Solution, StepChecker

    row = SLICES[name]
    result, _ = StepChecker(solver_budget_s=budget_s).check(
        Solution(row["id"], row["problem"], row["steps"]))
    step = result["steps"][row["unflagged_step"]]
    assert all(c["verdict"] != "refuted" for c in step["claims"])
    assert result["first_error"] is None
