"""Divisibility and congruence goals: the ``residues x m`` split, the ``mod-eval`` rewrite
(prover/z3/modular.py), the symbolic portfolio that proposes them, and held-out-style theorems
that the search must prove (and false ones it must never prove)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.policy.symbolic import SymbolicPolicy
from prover.z3.env import Z3Env, check_proof
from prover.z3.goals import TacticError, make_goal
from prover.z3.modular import mod_eval, residue
from prover.z3.theorem import load_theorems, parse_theorem
from search.best_first import SearchConfig, best_first_search
from search.protocols import Failed, Progress, Proved

DATA = Path(__file__).parent / "data" / "z3_divisibility.jsonl"
ROWS = load_theorems(DATA)
HELD_OUT = [r for r in ROWS if r["holds"]]  # none of these is in z3_theorems.jsonl
FALSE = [r for r in ROWS if not r["holds"]]
BY_ID = {r["id"]: r for r in ROWS}
N = "(declare-const n Int)"
CONFIG = SearchConfig(batch_size=1, num_candidates=16, tactic_timeout_s=2.0,
                      wall_timeout_s=120.0, max_expansions=20, concurrency=1)


def root(row: dict[str, Any]) -> tuple[Z3Env, Any]:
    env = Z3Env(row, preflight_s=None)
    return env, env.initial_state()


def run(env: Z3Env, state: Any, tactics: list[str]) -> Any:
    outcome = None
    for tactic in tactics:
        outcome = env.apply(state, tactic, 5.0)
        if not isinstance(outcome, Progress):
            return outcome
        state = outcome.state
    return outcome


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


# --------------------------------------------------------------------------- the data
def test_rows_hold_or_fail_as_labelled_and_hand_proofs_replay() -> None:
    """Each row without recursive functions is checked at n = -50..50 by evaluation; each
    hand proof replays; a false row has a value of n where it fails."""
    assert len(HELD_OUT) >= 6 and len(FALSE) >= 2
    for row in ROWS:
        theorem = parse_theorem(row)
        if not theorem.rec_defs:
            n = theorem.symbols["n"]()
            results = []
            for value in range(-50, 51):
                pin = [(n, z3.IntVal(value, theorem.ctx))]
                hyps = [z3.simplify(z3.substitute(h, *pin)) for h in theorem.hypotheses]
                if all(z3.is_true(h) for h in hyps):
                    results.append(z3.is_true(z3.simplify(z3.substitute(theorem.conclusion,
                                                                        *pin))))
            assert results and all(results) == row["holds"], row["id"]
        if row["holds"]:
            assert check_proof(row, row["proof"], budget_s=5.0).is_verified, row["id"]


# --------------------------------------------------------------------------- the tactics
def test_residues_splits_into_one_goal_per_residue() -> None:
    env, state = root(BY_ID["div6_cube"])
    outcome = env.apply(state, "residues n 3", 5.0)
    assert isinstance(outcome, Progress)
    assert outcome.state.goals == tuple(
        f"⊢ (= (mod (- (* {v} {v} {v}) {v}) 6) 0)"
        for v in ("(* 3 n_1)", "(+ (* 3 n_1) 1)", "(+ (* 3 n_1) 2)"))
    hyp = {"id": "h", "smt2": f"{N} (declare-const k Int) (assert (>= n k))", "goal": "(> n 0)"}
    env, state = root(hyp)
    split = env.apply(state, "residues n 2", 5.0)
    assert isinstance(split, Progress)
    assert split.state.goals[1] == "h0: (>= (+ (* 2 n_1) 1) k)\n⊢ (> (+ (* 2 n_1) 1) 0)"
    for bad in ("residues n 1", "residues n 33", "residues k", "residues m 3", "residues n x",
                "residues (+ n 1) 3", "residues n 3 4", "residues n -3", "residues n ３"):
        assert isinstance(env.apply(state, bad, 5.0), Failed), bad
    real = {"id": "r", "smt2": "(declare-const x Real)", "goal": "(> x 0.0)"}
    env, state = root(real)
    assert "not an Int constant" in env.apply(state, "residues x 2", 5.0).reason


def test_mod_eval_closes_with_recorded_identities_and_refuses_false_cases() -> None:
    env, state = root(BY_ID["div6_cube"])
    proved = run(env, state, ["residues n 6", *["mod-eval"] * 6])
    assert isinstance(proved, Proved)
    closed = proved.evidence["closed"]
    assert len(closed) == 6 and all(c["tactic"] == "mod-eval" for c in closed)
    identity = closed[2]["identities"][0]
    assert identity["value"] == 0
    assert identity["identity"].endswith("+ 0") and " = 6 * " in identity["identity"]
    env, state = root(BY_ID["false_div4_sq1"])
    failed = run(env, state, ["residues n 4", "mod-eval"])
    assert isinstance(failed, Failed) and "false in this case" in failed.reason
    env, state = root(BY_ID["false_div4_sq1"])  # no residue split: the value of n*n + 1 mod 4 is not fixed
    assert "no (mod P m) term with a fixed value" in env.apply(state, "mod-eval", 5.0).reason


def test_mod_eval_uses_hypotheses_and_keeps_what_it_cannot_fix() -> None:
    env, state = root(BY_ID["odd_sq_mod8"])
    assert isinstance(run(env, state, ["residues n 8", *["mod-eval"] * 8]), Proved)
    mixed = {"id": "mixed", "smt2": f"{N} (declare-const k Int)",
             "goal": "(= (mod (+ (* 2 n) 1) 2) (mod k 2))"}
    env, state = root(mixed)
    rewritten = env.apply(state, "mod-eval", 5.0)  # (mod k 2) is not fixed, so it stays
    assert isinstance(rewritten, Progress) and rewritten.state.goals == ("⊢ (= 1 (mod k 2))",)


def test_residue_identity_and_refusals() -> None:
    n, k = z3.Ints("n k")
    poly = (6 * n + 2) ** 3 - (6 * n + 2)
    c, w = residue(poly, 6)
    assert c == 0
    for value in range(-5, 6):  # poly = 6 * w + c at every n
        at = [(n, z3.IntVal(value))]
        assert z3.simplify(z3.substitute(poly - 6 * w, *at)).as_long() == c
    assert residue(n * n + 1, 4) is None  # n free: not fixed
    assert residue(4 * n * k - 7, 4)[0] == 1  # -7 = 4 * (-2) + 1
    assert residue(n ** 200, 2) is None  # too large to expand
    assert residue(z3.Real("x") * 2, 2) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=1, max_size=5), st.integers(2, 12),
       st.integers(0, 11))
def test_fixed_residue_agrees_with_arithmetic(coeffs: list[int], m: int, r: int) -> None:
    """Whenever mod-eval fixes (mod P(m*q + r) m), P's values agree at every sampled n."""
    r %= m
    q = z3.Int("q")
    x = m * q + r
    poly = sum((c * x ** i for i, c in enumerate(coeffs)), z3.IntVal(0))
    found = residue(poly, m)
    assert found is not None  # P(m*q + r) mod m never depends on q
    for value in range(-6, 7):
        n = m * value + r
        assert sum(c * n ** i for i, c in enumerate(coeffs)) % m == found[0]


def test_mod_eval_on_a_goal_with_binders_leaves_them_alone() -> None:
    ctx_goal = {"id": "q", "smt2": N, "goal": "(forall ((x Int)) (= (mod (* 2 x) 2) 0))"}
    env, state = root(ctx_goal)
    with pytest.raises(TacticError):
        mod_eval(make_goal([], state.handle.goals[0].concl))


# --------------------------------------------------------------------------- policy and search
def test_portfolio_proposes_residues_then_mod_eval_alone() -> None:
    policy = SymbolicPolicy("z3")
    env, state = root(BY_ID["div6_cube"])
    assert policy.tactics(state) == ["residues n 6"]  # the dry run closes every case
    env, state = root(BY_ID["false_div4_cube"])
    tactics = policy.tactics(state)  # case n = 2 (mod 4) is false: no closing split
    assert tactics[:2] == ["z3", "residues n 4"] and len(tactics) > 2
    env, state = root(BY_ID["div6_cube"])
    split = env.apply(state, "residues n 6", 5.0)
    assert policy.tactics(split.state) == ["mod-eval"]  # closes: nothing else to try
    env, state = root(BY_ID["false_div4_sq1"])
    split = env.apply(state, "residues n 4", 5.0)
    assert "mod-eval" not in policy.tactics(split.state)  # the case is false: no closure
    env, state = root(BY_ID["div3_pow4"])
    assert not any(t.startswith("residues") for t in policy.tactics(state))  # n only in pow4


@pytest.mark.slow
@pytest.mark.parametrize("row", HELD_OUT, ids=ids(HELD_OUT))
def test_held_out_theorems_are_proved_and_replayed(row: dict[str, Any]) -> None:
    result = best_first_search(Z3Env(row), SymbolicPolicy("z3"), CONFIG)
    assert result.proof is not None, (row["id"], result.stop_reason)
    verdict = check_proof(row, result.proof, budget_s=10.0)
    assert verdict.is_verified, (row["id"], result.proof, verdict.to_dict())
    if row["needs"] == "residues":  # plain Z3 times out on these
        assert result.proof[0].startswith("residues n ")


@pytest.mark.parametrize("row", FALSE, ids=ids(FALSE))
def test_false_divisibility_is_refuted_or_unknown_never_proved(row: dict[str, Any]) -> None:
    env = Z3Env(row)  # with the preflight: a counter-model when Z3 finds one in time
    env.initial_state()
    assert env.preflight_verdict is None or env.preflight_verdict.kind == "refuted"
    result = best_first_search(Z3Env(row, preflight_s=None), SymbolicPolicy("z3"), CONFIG)
    assert result.proof is None and result.status != "proved"
    for tactics in (["residues n 4", *["mod-eval"] * 4], ["z3"], ["mod-eval"]):
        assert not check_proof(row, tactics, budget_s=2.0).is_verified
