"""The ``mutate`` synthetic-data task: every emitted label re-decided independently (proofs
replayed by ``check_proof``, counter-models re-found by a fresh Z3 solver), each operator's
effect, canonical SMT-LIB, determinism, pickling and bad rows."""

from __future__ import annotations

import json
import pickle
import random
import re
from pathlib import Path
from typing import Any

import pytest
import z3

from prover.synth.mutate import MutateTask, decide
from prover.synth.mutate_decide import Budget, consistent, prove_equality, refute
from prover.synth.mutate_ops import OPS, Candidate, Parts, candidates, canonical
from prover.z3.env import check_proof
from prover.z3.goals import constants
from prover.z3.theorem import parse_theorem, read_one, read_sexprs, show

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
FAST = ("abs_nonneg", "max_props", "amgm2", "sq_sum_ge_2xy", "n_n1_even", "sum_mono",
        "linear_rec")
SUITE = {row["id"]: row for row in map(json.loads, DATA.read_text().splitlines())}


def _write(path: Path, ids: tuple[str, ...]) -> Path:
    path.write_text("".join(json.dumps(SUITE[i]) + "\n" for i in ids), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    path = _write(tmp_path_factory.mktemp("mutate") / "fast.jsonl", FAST)
    task = MutateTask(path, per_theorem=4, seed=0, budget_s=2.0)
    return [task.run(payload) for _, payload in task.items()]


def _pins(theorem: Any, values: dict[str, str]) -> list[z3.BoolRef]:
    consts = constants([*theorem.hypotheses, theorem.conclusion])
    pins = []
    for name, value in values.items():
        const = consts[name]
        pins.append(const == (z3.IntVal(int(value), theorem.ctx) if z3.is_int(const)
                              else z3.RealVal(value, theorem.ctx)))
    return pins


def _recheck(row: dict[str, Any]) -> None:
    """Decide the emitted label again, independently of the task's code."""
    if row["label"] == "proved":
        assert row["counter_model"] is None
        assert check_proof(row, row["proof"], budget_s=5.0).is_verified, row["id"]
        return
    assert row["label"] == "refuted" and row["proof"] is None
    theorem = parse_theorem(row)  # a fresh context
    solver = z3.Solver(ctx=theorem.ctx)
    solver.set("timeout", 5000)
    solver.add(*theorem.hypotheses, z3.Not(theorem.conclusion),
               *_pins(theorem, row["counter_model"]))
    assert solver.check() == z3.sat, row["id"]
    ground = not any(d.arity() for d in theorem.symbols.values()
                     if d.name() not in theorem.rec_defs)
    if ground and set(row["counter_model"]) == set(constants([theorem.conclusion])):
        solver = z3.Solver(ctx=theorem.ctx)
        solver.set("timeout", 5000)
        solver.add(theorem.conclusion, *_pins(theorem, row["counter_model"]))
        assert solver.check() == z3.unsat, f"{row['id']}: the goal holds at the counter-model"


def test_every_emitted_label_is_rechecked(outputs: list[Any]) -> None:
    rows = [row for out in outputs for row in out.rows]
    assert all(out.ok for out in outputs) and len(rows) >= 20
    assert {r["label"] for r in rows} == {"proved", "refuted"}
    for row in rows:
        _recheck(row)
        assert row["kind"] == "theorem" and row["id"].startswith(f"{row['parent']}~")
        assert re.fullmatch(rf"{re.escape(row['parent'])}~{row['mutation']['op']}\d+", row["id"])
        assert row["provenance"]["parent_proof"] and row["provenance"]["budget"]


def test_emitted_smt2_is_canonical_and_parses_back(outputs: list[Any]) -> None:
    for row in (r for out in outputs for r in out.rows):
        assert canonical(read_sexprs(row["smt2"])) == row["smt2"]
        assert show(read_one(row["goal"])) == row["goal"]
        parse_theorem(row)
        parent = SUITE[row["parent"]]
        assert (row["smt2"], row["goal"]) != (canonical(read_sexprs(parent["smt2"])),
                                              parent["goal"])


def _one(row_id: str, op: str, seed: int = 0) -> Candidate:
    found = candidates(Parts.of(SUITE[row_id]), op, random.Random(seed))
    assert found, (row_id, op)
    return found[0]


def _decide(row_id: str, candidate: Candidate) -> tuple[Any, str]:
    smt2, goal = candidate.parts.texts()
    new = {"id": f"{row_id}~{candidate.op}", "smt2": smt2, "goal": goal}
    return decide(new, candidate, SUITE[row_id], SUITE[row_id]["proof"], Budget.of(2.0))


def test_operator_effects_and_their_decisions() -> None:
    dropped = _one("linear_rec", "drop_hyp")
    assert dropped.parts.hyp_indices() == [] and dropped.detail["dropped"] == "(>= n 0)"
    assert _decide("linear_rec", dropped)[0][0] == "refuted"  # f(-1) = 3, not 1

    tight = _one("abs_nonneg", "tighten")
    assert tight.parts.goal == [">", ["ab", "x"], "0"]
    (label, model), _ = _decide("abs_nonneg", tight)
    assert label == "refuted" and model == {"x": "0"}

    shifted = _one("fact_ge_pow2", "shift_const")
    assert shifted.detail["from"] == "4" and shifted.detail["to"] in ("3", "5")

    conj = _one("n_n1_even", "conjoin")
    assert conj.parts.goal[0] == "and" and conj.parts.goal[1] == read_one(SUITE["n_n1_even"]["goal"])
    assert "(+ n 1)" in conj.detail["conjunct"]
    assert _decide("n_n1_even", conj)[0][0] == "proved"

    negated = _one("sum_mono", "negate")
    assert negated.parts.goal[0] == "not"
    assert _decide("sum_mono", negated)[0][0] == "refuted"


def test_rewrite_needs_a_proved_equality() -> None:
    def rules(row_id: str) -> list[Candidate]:
        return candidates(Parts.of(SUITE[row_id]), "rewrite", random.Random(0))

    assert {c.detail["rule"] for c in rules("sq_sum_ge_2xy")} == {"commute +", "commute *"}
    dist = next(c for c in rules("n_n1_even") if c.detail["rule"] == "distribute * over +")
    assert dist.equality == "(= (* n (+ n 1)) (+ (* n n) (* n 1)))"
    assert prove_equality(SUITE["n_n1_even"], dist.equality, 1.0)
    rewrites = rules("linear_rec")  # commuting only where nothing deeper applies
    assert {c.detail["rule"] for c in rewrites} == {"unfold f"}
    unfold = rewrites[0]
    assert unfold.equality == "(= (f n) (ite (<= n 0) 3 (+ (f (- n 1)) 2)))"
    assert prove_equality(SUITE["linear_rec"], unfold.equality, 2.0)
    assert not prove_equality(SUITE["linear_rec"], "(= (f n) (+ (f n) 1))", 1.0)
    (label, proof), _ = _decide("linear_rec", unfold)
    assert label == "proved" and check_proof(
        {"id": "u", "smt2": unfold.parts.texts()[0], "goal": unfold.parts.texts()[1]},
        proof, 5.0).is_verified
    bogus = Candidate("rewrite", {}, unfold.parts, "(= n (+ n 1))")
    assert _decide("linear_rec", bogus)[0] == "rewrite equality not proved"


def test_rewrite_with_an_equality_hypothesis() -> None:
    row = {"id": "eqh", "smt2": "(declare-const x Int) (declare-const y Int) "
                                "(assert (= y (+ x 1)))", "goal": "(>= (* y y) 0)"}
    found = [c for c in candidates(Parts.of(row), "rewrite", random.Random(0))
             if c.detail["rule"] == "hyp 0"]
    assert [c.parts.goal for c in found] == [[">=", ["*", ["+", "x", "1"], "y"], "0"],
                                             [">=", ["*", "y", ["+", "x", "1"]], "0"]]
    assert not prove_equality({**row, "smt2": "(declare-const x Int) (declare-const y Int)"},
                              found[0].equality, 1.0), "needs the hypothesis"
    (label, proof), _ = decide({"id": "eqh~r", "smt2": found[0].parts.texts()[0],
                                "goal": found[0].parts.texts()[1]}, found[0], row, ["z3"],
                               Budget.of(1.0))
    assert label == "proved" and proof == ["z3"]


def test_vacuous_and_unknown_are_not_labels() -> None:
    row = {"id": "v", "smt2": "(declare-const x Int) (assert (>= x 2)) (assert (< x 2))",
           "goal": "(> x 5)"}
    assert consistent(row, 1.0) is False and refute(row, 1.0) is None
    cand = Candidate("tighten", {}, Parts.of(row))
    assert _decide_row(row, cand) == "vacuous: hypotheses unsatisfiable"


def _decide_row(row: dict[str, Any], cand: Candidate) -> Any:
    return decide(row, cand, row, ["z3"], Budget.of(1.0))[0]


def test_all_operators_are_exercised(outputs: list[Any]) -> None:
    seen = {r["mutation"]["op"] for out in outputs for r in out.rows}
    assert seen == set(OPS)


def test_deterministic_for_a_seed_and_different_across_seeds(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", ("abs_nonneg", "max_props", "amgm2"))

    def rows(seed: int) -> list[dict[str, Any]]:
        task = MutateTask(path, per_theorem=3, seed=seed, budget_s=1.0)
        return [{k: v for k, v in r.items() if k != "meta"}
                for _, p in task.items() for r in task.run(p).rows]

    assert rows(0) == rows(0)
    assert rows(0) != rows(7)


def test_task_pickles(tmp_path: Path) -> None:
    task = MutateTask(_write(tmp_path / "t.jsonl", ("abs_nonneg",)), per_theorem=2, budget_s=1.0)
    clone = pickle.loads(pickle.dumps(task))
    assert clone.config() == task.config()
    (_, payload), = clone.items()
    assert [r["id"] for r in clone.run(payload).rows] == [r["id"] for r in task.run(payload).rows]


def test_bad_and_unproved_rows_fail_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([
        "{not json",
        json.dumps({"id": "nogoal", "smt2": "(declare-const x Int)"}),
        json.dumps({"id": "badsmt", "smt2": "(declare-const x Int", "goal": "(> x 0)"}),
        json.dumps({"id": "false", "smt2": "(declare-const x Int)", "goal": "(> x 5)"}),
        json.dumps(SUITE["abs_nonneg"]), json.dumps(SUITE["abs_nonneg"])]) + "\n",
        encoding="utf-8")
    task = MutateTask(path, per_theorem=1, budget_s=1.0)
    outs = {key: task.run(payload) for key, payload in task.items()}
    assert list(outs) == ["0", "1", "2", "3", "4", "5"]
    assert "line 1: malformed JSON" in outs["0"].reason
    assert "line 2:" in outs["1"].reason and "'goal'" in outs["1"].reason
    assert "line 3:" in outs["2"].reason and "badsmt" in outs["2"].reason
    assert outs["3"].reason == "original not proved"
    assert outs["4"].ok and "duplicate theorem id" in outs["5"].reason
    assert not any(outs[k].ok for k in ("0", "1", "2", "3", "5"))
