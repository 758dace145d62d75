"""Z3 as a proving environment: theorem rows, goals and tactics, replay checking, the symbolic
policy, and the theorem suite (tests/data/z3_theorems.jsonl)."""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prover.policy import SymbolicPolicy
from prover.policy.symbolic import lean_portfolio, lean_variables
from prover.z3.env import NAMED_TACTICS, check_proof, plain_z3
from prover.z3.env import Z3Env as SearchEnv
from prover.z3.goals import TacticError, parse_tactic
from prover.z3.theorem import TheoremError, load_theorems, parse_theorem, read_sexprs
from search.best_first import SearchConfig, best_first_search
from search.protocols import Environment, Failed, Outcome, Policy, Progress, Proved, State, Timeout

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
SUM = "(define-fun-rec sum ((n Int)) Int (ite (<= n 0) 0 (+ n (sum (- n 1)))))"
GAUSS = {"id": "gauss", "smt2": f"{SUM} (declare-const n Int) (assert (>= n 0))",
         "goal": "(= (* 2 (sum n)) (* n (+ n 1)))"}
FALSE_ROWS = [  # never in the suite: statements that do not hold
    {"id": "false_gauss", "smt2": GAUSS["smt2"], "goal": "(= (* 2 (sum n)) (* n n))"},
    {"id": "false_pow2_square",
     "smt2": "(define-fun-rec pow2 ((n Int)) Int (ite (<= n 0) 1 (* 2 (pow2 (- n 1))))) "
             "(declare-const n Int) (assert (>= n 0))",
     "goal": "(>= (pow2 n) (* n n))"},  # 2^3 = 8 < 9
    {"id": "false_div3", "smt2": "(declare-const n Int) (assert (>= n 0))",
     "goal": "(= (mod (- (* n n) n) 3) 0)"},  # n = 2
]
FAST = 0.3  # seconds per tactic in the fast tests


def Z3Env(row: dict[str, Any], **options: Any) -> SearchEnv:  # noqa: N802 - the class, for tactics
    """The environment without the hypothesis preflight, so tactics can be tried on false
    statements (the preflight has its own tests in tests/test_z3_gateway.py)."""
    return SearchEnv(row, **{"preflight_s": None, **options})


def apply(env: SearchEnv, state: State, tactic: str, budget: float = 2.0) -> Outcome:
    return env.apply(state, tactic, budget)


def step(env: SearchEnv, state: State, tactic: str) -> State:
    outcome = apply(env, state, tactic)
    assert isinstance(outcome, Progress), outcome
    return outcome.state


def replay(env: Environment, tactics: list[str], budget: float = 2.0) -> Outcome:
    """The tiny driver: apply ``tactics`` in order from the initial state."""
    state, outcome = env.initial_state(), None
    for tactic in tactics:
        outcome = env.apply(state, tactic, budget)
        if not isinstance(outcome, Progress):
            return outcome
        state = outcome.state
    assert outcome is not None
    return outcome


def tiny_search(env: Environment, policy: Policy, k: int, budget: float,
                max_expansions: int) -> list[str] | None:
    """A minimal best-first search (cumulative logprob, one state per pop)."""
    tick = itertools.count()
    frontier = [(0.0, next(tick), env.initial_state(), [])]
    seen: set[State] = set()
    for _ in range(max_expansions):
        if not frontier:
            return None
        cost, _, state, path = heapq.heappop(frontier)
        if state in seen:
            continue
        seen.add(state)
        for cand in policy.propose([state], k)[0]:
            outcome = env.apply(state, cand.tactic, budget)
            if isinstance(outcome, Proved):
                return [*path, cand.tactic]
            if isinstance(outcome, Progress) and outcome.state not in seen:
                heapq.heappush(frontier, (cost - cand.logprob, next(tick), outcome.state,
                                          [*path, cand.tactic]))
    return None


def suite() -> list[dict[str, Any]]:
    return load_theorems(DATA)


# --------------------------------------------------------------------------- theorem rows
def test_row_parses_in_its_own_context() -> None:
    a = parse_theorem(GAUSS)
    b = parse_theorem(GAUSS)
    assert a.ctx is not b.ctx
    assert set(a.rec_defs) == {"sum"} and a.rec_defs["sum"].arity == 1
    assert [str(h) for h in a.hypotheses] == ["n >= 0"]
    assert a.reserved >= {"sum", "n"}


def test_two_theorems_defining_sum_differently_do_not_interfere() -> None:
    ident = {"id": "ident", "smt2": "(define-fun-rec sum ((n Int)) Int (ite (<= n 0) 0 n)) "
             "(declare-const n Int) (assert (>= n 0))", "goal": "(= (sum n) n)"}
    gauss, other = Z3Env(GAUSS), Z3Env(ident)
    assert isinstance(apply(other, other.initial_state(), "z3"), Proved)
    probe = Z3Env({**GAUSS, "goal": "(= (sum n) n)"})  # false for the Gauss sum
    assert not isinstance(apply(probe, probe.initial_state(), "z3", FAST), Proved)
    assert isinstance(replay(gauss, ["induction n", "z3", "z3"]), Proved)
    assert check_proof(ident, ["z3"]).is_verified


@pytest.mark.parametrize(("row", "needle"), [
    ({"id": "no_goal", "smt2": "(declare-const n Int)"}, "missing key 'goal'"),
    ({"smt2": "", "goal": "true"}, "missing or empty key 'id'"),
    ({"id": "syntax", "smt2": "(declare-const n Int", "goal": "true"}, "unbalanced"),
    ({"id": "z3err", "smt2": "(declare-const n Int)", "goal": "(> m 1)"}, "unknown constant m"),
    ({"id": "notbool", "smt2": "(declare-const n Int)", "goal": "(+ n 1)"}, "not Boolean"),
    ({"id": "cmd", "smt2": "(check-sat)", "goal": "true"}, "'check-sat' is not allowed"),
    ({"id": "smuggle", "smt2": "", "goal": "true) (assert false"}, "unbalanced"),
    ({"id": "two", "smt2": "", "goal": "true false"}, "expected one term"),
])
def test_bad_rows_raise_theorem_error_with_id_and_cause(row: dict, needle: str) -> None:
    with pytest.raises(TheoremError) as info:
        parse_theorem(row)
    assert needle in str(info.value)
    if "id" in row:
        assert info.value.theorem_id == row["id"]


def test_sexpr_reader_keeps_quoting_and_rejects_imbalance() -> None:
    assert read_sexprs('(a |b c| "d)" ; x\n (e))') == [["a", "|b c|", '"d)"', ["e"]]]
    for bad in ("(", ")", "|open", '"open'):
        with pytest.raises(ValueError):
            read_sexprs(bad)


# --------------------------------------------------------------------------- tactics
def test_initial_state_text_is_deterministic_and_dedups() -> None:
    s1, s2 = Z3Env(GAUSS).initial_state(), Z3Env(GAUSS).initial_state()
    assert s1 == s2 and s1.text == "h0: (>= n 0)\n⊢ (= (* 2 (sum n)) (* n (+ n 1)))"
    env = Z3Env(GAUSS)
    root = env.initial_state()
    assert step(env, root, "induction n") == step(env, root, "induction n")


def test_z3_closes_counter_models_and_unknown_is_never_a_proof() -> None:
    env = Z3Env({"id": "lin", "smt2": "(declare-const x Int) (assert (> x 2))",
                 "goal": "(> (* 2 x) 4)"})
    outcome = apply(env, env.initial_state(), "z3")
    assert isinstance(outcome, Proved) and outcome.evidence["closed"][0]["method"] == "z3 unsat"
    bad = Z3Env({"id": "cm", "smt2": "(declare-const x Int) (assert (> x 2))",
                 "goal": "(> x 5)"})
    failed = apply(bad, bad.initial_state(), "z3")
    assert isinstance(failed, Failed) and failed.reason.startswith("counter-model: x = ")
    undecided = {"id": "pow", "smt2": "(declare-const x Real)", "goal": "(not (= (^ 2.0 x) 3.0))"}
    env = Z3Env(undecided)
    outcome = apply(env, env.initial_state(), "z3")
    assert isinstance(outcome, Failed) and "unknown" in outcome.reason
    assert check_proof(undecided, ["z3"]).kind == "refuted"
    assert not plain_z3(undecided, 1.0).is_verified
    hard = Z3Env(GAUSS)  # Z3 unrolls sum forever: a timeout, not a proof
    outcome = apply(hard, hard.initial_state(), "z3", 0.2)
    assert isinstance(outcome, Timeout) and outcome.budget_s == 0.2
    verdict = check_proof(GAUSS, ["z3"], budget_s=0.2)
    assert verdict.kind == "unknown" and not verdict.is_verified


def test_induction_goals() -> None:
    env = Z3Env(GAUSS)
    state = step(env, env.initial_state(), "induction n")
    assert state.goals == (
        "⊢ (= (* 2 (sum 0)) (* 0 (+ 0 1)))",
        "h0: (<= 0 n_1)\nh1: (= (* 2 (sum n_1)) (* n_1 (+ n_1 1)))\n"
        "⊢ (= (* 2 (sum (+ n_1 1))) (* (+ n_1 1) (+ (+ n_1 1) 1)))",
    )
    two = step(env, env.initial_state(), "induction2 n")
    assert two.goals[1].splitlines()[2] == (
        "h2: (=> (<= 1 n_1) (= (* 2 (sum (- n_1 1))) (* (- n_1 1) (+ (- n_1 1) 1))))")


def test_induction_generalises_dependent_hypotheses_and_needs_a_bound() -> None:
    row = {"id": "dep", "smt2": f"{SUM} (declare-const n Int) (declare-const m Int) "
           "(assert (> n 2)) (assert (= m (+ n 1))) (assert (> m 0))", "goal": "(>= (sum n) n)"}
    env = Z3Env(row)
    state = step(env, env.initial_state(), "induction n")
    assert state.goals[0] == "h0: (> m 0)\nh1: (= m (+ 3 1))\n⊢ (>= (sum 3) 3)"
    assert state.goals[1] == ("h0: (> m 0)\nh1: (<= 3 n_1)\n"
                              "h2: (=> (= m (+ n_1 1)) (>= (sum n_1) n_1))\n"
                              "h3: (= m (+ (+ n_1 1) 1))\n⊢ (>= (sum (+ n_1 1)) (+ n_1 1))")
    unbounded = Z3Env({"id": "nb", "smt2": f"{SUM} (declare-const n Int)", "goal": "(>= (sum n) 0)"})
    outcome = apply(unbounded, unbounded.initial_state(), "induction n")
    assert isinstance(outcome, Failed) and "no hypothesis n >= t" in outcome.reason
    for tactic, reason in [("induction k", "not an Int constant"),
                           ("induction (+ n 1)", "expected one variable")]:
        outcome = apply(env, env.initial_state(), tactic)
        assert isinstance(outcome, Failed) and reason in outcome.reason, outcome
    real = Z3Env({"id": "r", "smt2": "(declare-const x Real) (assert (>= x 0.0))",
                  "goal": "(>= x 0.0)"})
    assert isinstance(apply(real, real.initial_state(), "induction x"), Failed)


def test_cases_have_unfold_instantiate_intro_split() -> None:
    env = Z3Env(GAUSS)
    root = env.initial_state()
    cases = step(env, root, "cases (>= n 3)")
    assert [g.splitlines()[1] for g in cases.goals] == ["h1: (>= n 3)", "h1: (not (>= n 3))"]
    have = step(env, root, "have (>= (sum n) 0)")
    assert have.goals == ("h0: (>= n 0)\n⊢ (>= (sum n) 0)",
                          "h0: (>= n 0)\nh1: (>= (sum n) 0)\n⊢ (= (* 2 (sum n)) (* n (+ n 1)))")
    unfolded = step(env, root, "unfold sum")
    assert unfolded.goals[0].endswith(
        "⊢ (= (* 2 (ite (<= n 0) 0 (+ n (sum (- n 1))))) (* n (+ n 1)))")
    inducted = step(env, root, "induction n")
    stepgoal = step(env, inducted, "z3")  # closes the base case
    assert "(sum (+ n_1 1))" in stepgoal.goals[0]
    # fresh constants parse in later terms; unfold prefers compound arguments
    assert isinstance(apply(env, stepgoal, "cases (>= n_1 5)"), Progress)
    unfolded_step = step(env, stepgoal, "unfold sum")
    assert "(sum n_1)" in unfolded_step.goals[0].split("⊢")[0]  # h1 untouched
    assert "(ite (<= (+ n_1 1) 0) 0 (+ (+ n_1 1) (sum (- (+ n_1 1) 1))))" in \
        unfolded_step.goals[0].split("⊢")[1]
    assert isinstance(apply(env, unfolded_step, "z3"), Proved)
    assert "h1: (= (* 2 (ite" in step(env, stepgoal, "unfold sum at h1").goals[0]
    for tactic in ("unfold n", "unfold sum at h7", "cases (sum n)", "have (> m 0)"):
        assert isinstance(apply(env, root, tactic), Failed), tactic

    fa = Z3Env({"id": "fa", "smt2": "(declare-fun g (Int) Int) (declare-const a Int) "
                "(assert (forall ((x Int) (y Int)) (>= (g (+ x y)) x)))",
                "goal": "(=> (> a 0) (and (>= (g (+ a 1)) a) (> a (- 1))))"})
    root = fa.initial_state()
    inst = step(fa, root, "instantiate h0 a 1")
    assert inst.goals[0].splitlines()[1] == "h1: (>= (g (+ a 1)) a)"
    for tactic in ("instantiate h0 a", "instantiate h0 a 1.5", "instantiate h1 a 1",
                   "instantiate 0 a 1 2"):
        assert isinstance(apply(fa, root, tactic), Failed), tactic
    intro = step(fa, root, "intro")
    assert intro.goals[0].endswith("h1: (> a 0)\n⊢ (and (>= (g (+ a 1)) a) (> a (- 1)))")
    split = step(fa, intro, "split")
    assert len(split.goals) == 2 and split.goals[1].endswith("⊢ (> a (- 1))")
    assert isinstance(apply(fa, root, "split"), Failed)


def test_intro_forall_uses_fresh_names() -> None:
    env = Z3Env({"id": "all", "smt2": "(declare-const x Int)",
                 "goal": "(forall ((x Int) (y Int)) (=> (> x y) (>= x y)))"})
    state = step(env, env.initial_state(), "intro")
    assert state.goals == ("h0: (> x_1 y)\n⊢ (>= x_1 y)",)


def test_a_quoted_sort_name_is_read_and_carried_to_the_worker() -> None:
    """``|S T|`` (a sort name with a space) parses, and a fresh constant of that sort made by
    ``intro`` crosses to the solver worker and back; it was a parse error."""
    row = {"id": "quoted", "smt2": "(declare-sort |S T| 0) (declare-fun p (|S T|) Bool) "
           "(assert (forall ((x |S T|)) (p x)))", "goal": "(forall ((y |S T|)) (p y))"}
    assert set(parse_theorem(row).sorts) == {"S T"}
    verdict = check_proof(row, ["intro", "z3"])
    assert verdict.kind == "verified", verdict
    false_row = {**row, "smt2": "(declare-sort |S T| 0) (declare-fun p (|S T|) Bool)"}
    assert check_proof(false_row, ["intro", "z3"]).kind == "refuted"


def test_named_tactics() -> None:
    env = Z3Env({"id": "nl", "smt2": "(declare-const x Real) (declare-const y Real) "
                 "(assert (> x 0.0)) (assert (> y 0.0))", "goal": "(> (* x y) 0.0)"})
    outcome = apply(env, env.initial_state(), "nlsat")
    assert isinstance(outcome, Proved)
    assert outcome.evidence["closed"][0]["method"] == "tactic qfnra-nlsat"
    lin = Z3Env({"id": "eqs", "smt2": "(declare-const x Int) (declare-const y Int) "
                 "(assert (= x (+ y 1))) (assert (> y 3))", "goal": "(> (* x x) 16)"})
    solved = step(lin, lin.initial_state(), "solve-eqs")
    assert solved.goals[0].endswith("⊢ false") and "y" not in solved.goals[0]
    simp = Z3Env({"id": "simp", "smt2": "(declare-const x Int) (assert (> (+ x 0) 1))",
                  "goal": "(> (+ x 1 1) 4)"})
    simplified = step(simp, simp.initial_state(), "simplify")
    assert "(+ x 0)" not in simplified.text and "⊢" in simplified.text
    assert isinstance(apply(simp, simplified, "simplify"), Failed)  # no change
    assert "nla2bv" not in NAMED_TACTICS  # an under-approximation: its unsat is no proof
    assert isinstance(apply(simp, simp.initial_state(), "nla2bv"), Failed)


@pytest.mark.parametrize("tactic", [
    "", "   ", "garbage", "z3 now", "induction", "induction n m", "cases", "cases (> n",
    "cases (> n 0) (< n 1)", "have (assert false)", "have (check-sat)", "unfold", "unfold sum at",
    "unfold sum at hx", "instantiate", "instantiate h0", "instantiate x 1", "simplify please",
    "exact?", "omega", "rfl", "(z3)", "cases |unterminated", 'cases "str', "intro\nz3",
    "cases " + "(" * 5000 + ")" * 5000, "have (=> true " * 50, "cases (_ bv 1 8)",
])
def test_garbage_tactics_fail_cleanly(tactic: str) -> None:
    env = Z3Env(GAUSS)
    outcome = apply(env, env.initial_state(), tactic)
    assert isinstance(outcome, Failed), outcome
    assert outcome.reason


WORDS = ["z3", "induction", "induction2", "cases", "have", "unfold", "instantiate", "intro",
         "split", "simplify", "nlsat", "at", "h0", "h1", "n", "n_1", "sum", "(", ")",
         "(>= n 0)", "(sum n)", "(+ n 1)", "|x|", "true", "1.5", "(div n 0)", "(assert false)",
         "(forall ((x Int)) (> x 0))", "(! n :named q)", "(let ((q 1)) (> q 0))"]


ENV_FOR_FUZZ = Z3Env(GAUSS)
FUZZ_STEP = step(ENV_FOR_FUZZ, ENV_FOR_FUZZ.initial_state(), "induction n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join),
                 st.text(max_size=30)))
def test_random_tactics_never_raise(tactic: str) -> None:
    env = ENV_FOR_FUZZ
    for state in (env.initial_state(), FUZZ_STEP):
        outcome = env.apply(state, tactic, FAST)
        assert isinstance(outcome, (Progress, Proved, Failed, Timeout))


def test_parse_tactic_grammar() -> None:
    named = NAMED_TACTICS
    assert parse_tactic(" unfold f at h2 ", named).hyp == 2
    assert parse_tactic("instantiate 3 (+ x 1) y", named).terms == ("(+ x 1)", "y")
    assert parse_tactic("cases (> x\t0)", named).terms == ("(> x 0)",)
    with pytest.raises(TacticError):
        parse_tactic("cases (> x 0) extra", named)


def test_apply_is_serialised_across_threads() -> None:
    env = Z3Env(GAUSS)
    assert env.max_concurrency == 1
    root = env.initial_state()
    tactics = ["induction n", "cases (>= n 2)", "unfold sum", "have (>= n 0)"] * 3
    expected = [apply(env, root, t).state for t in tactics]  # type: ignore[union-attr]
    results: dict[int, Outcome] = {}

    def run(i: int) -> None:
        results[i] = apply(env, root, tactics[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tactics))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i].state for i in range(len(tactics))] == expected  # type: ignore[union-attr]


def test_foreign_state_is_rejected() -> None:
    with pytest.raises(ValueError):
        Z3Env(GAUSS).apply(Z3Env(GAUSS).initial_state(), "z3", 1.0)


# --------------------------------------------------------------------------- whole proofs
def test_proof_replays_and_rechecks() -> None:
    outcome = replay(Z3Env(GAUSS), ["induction n", "z3", "z3"])
    assert isinstance(outcome, Proved)
    assert [c["method"] for c in outcome.evidence["closed"]] == ["z3 unsat", "z3 unsat"]
    verdict = check_proof(GAUSS, ["induction n", "z3", "z3"])
    assert verdict.kind == "verified" and verdict.evidence["tactics"][0] == "induction n"
    assert len(verdict.evidence["closed"]) == 2


@pytest.mark.parametrize(("tactics", "key"), [
    (["induction n", "z3"], "open_goals"),              # leaves the step open
    (["induction n", "simplify please", "z3"], "reason"),  # a tactic fails
    (["induction n", "z3", "z3", "z3"], "extra"),       # tactics after the proof ended
    ([], "open_goals"),
])
def test_wrong_tactic_lists_are_refuted(tactics: list[str], key: str) -> None:
    verdict = check_proof(GAUSS, tactics)
    assert verdict.kind == "refuted" and key in verdict.evidence


@pytest.mark.parametrize("row", FALSE_ROWS, ids=[r["id"] for r in FALSE_ROWS])
def test_false_theorems_are_never_proved(row: dict[str, Any]) -> None:
    for tactics in (["z3"], ["induction n", "z3", "z3"], ["induction n", "z3", "unfold pow2", "z3"]):
        assert not check_proof(row, tactics, budget_s=FAST).is_verified
    assert tiny_search(Z3Env(row), SymbolicPolicy("z3"), 8, FAST, 6) is None
    assert not plain_z3(row, FAST).is_verified


# --------------------------------------------------------------------------- policy
def test_symbolic_z3_portfolio() -> None:
    env = Z3Env(GAUSS)
    policy = SymbolicPolicy("z3")
    [cands] = policy.propose([env.initial_state()], 50)
    tactics = [c.tactic for c in cands]
    assert tactics[:2] == ["z3", "induction n"] and "unfold sum" in tactics
    assert "simplify" in tactics and "nlsat" in tactics
    logprobs = [c.logprob for c in cands]
    assert logprobs == sorted(logprobs, reverse=True) and len(set(logprobs)) == len(logprobs)
    assert policy.propose([env.initial_state()], 3) == [cands[:3]]
    assert policy.propose([env.initial_state()], 50) == [cands]  # deterministic
    stepgoal = step(env, step(env, env.initial_state(), "induction n"), "z3")
    [step_cands] = policy.propose([stepgoal], 3)
    assert [c.tactic for c in step_cands][:2] == ["z3", "unfold sum"]  # f(k + 1): unfold first
    nonneg = Z3Env({"id": "nn", "smt2": f"{SUM} (declare-const n Int)", "goal": "(>= (sum n) 0)"})
    assert "cases (>= n 0)" in policy.tactics(nonneg.initial_state())
    mod = Z3Env({"id": "m", "smt2": "(declare-const n Int)", "goal": "(= (mod (* n n) 3) 1)"})
    assert "cases (= (mod n 3) 1)" in policy.tactics(mod.initial_state())
    text_only = policy.propose([State("x > 2 ⊢ x * x > 4")], 2)
    assert [c.tactic for c in text_only[0]] == ["z3", "simplify"]
    with pytest.raises(ValueError):
        SymbolicPolicy("coq")  # type: ignore[arg-type]


def test_symbolic_lean_portfolio() -> None:
    goal = "a b : ℕ\nxs : List ℕ\nh : a < b\n⊢ ∀ (c : ℕ), a + c < b + c"
    assert lean_variables(goal) == (["a", "b", "xs"], ["c"])
    tactics = lean_portfolio(goal)
    assert tactics[:5] == ["rfl", "decide", "norm_num", "simp", "omega"]
    assert {"induction a", "induction b", "induction xs", "intro c", "aesop", "exact?", "linarith"} <= set(tactics)
    [cands] = SymbolicPolicy("lean").propose([State(goal, (goal,))], 100)
    assert [c.tactic for c in cands] == tactics
    assert cands[0].logprob == 0.0 and cands[1].logprob < 0


SAMPLE = ("gauss_sum", "pow5_minus1_div4", "fib_nonneg", "sum_nonneg_all", "abs_triangle",
          "sq_mod3")
"""One suite row per kind of proof (induction, +unfold, induction2, cases+induction, plain
z3, a residue split): the default run's stand-in for the slow whole-suite search below."""


@pytest.mark.parametrize("tid", SAMPLE)
def test_tiny_driver_proves_a_sample(tid: str) -> None:
    row = {r["id"]: r for r in suite()}[tid]
    proof = tiny_search(Z3Env(row), SymbolicPolicy("z3"), 8, FAST, 25)
    assert proof is not None, tid
    assert check_proof(row, proof).is_verified, (tid, proof)


# --------------------------------------------------------------------------- the suite
def test_suite_rows_are_valid() -> None:
    rows = suite()
    assert len(rows) >= 30 and len({r["id"] for r in rows}) == len(rows)
    kinds = {r["needs"] for r in rows}
    assert {"z3", "induction", "induction2", "cases", "cases+induction"} <= kinds
    lemma_rows = {"induction+lemma", "induction2+lemma"}  # the search's known misses
    assert {r["needs"] for r in rows if r["id"] in SAMPLE} == kinds - lemma_rows
    lines = DATA.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["description"] for line in lines)


@pytest.mark.parametrize("row", suite(), ids=lambda row: row["id"])
def test_hand_proof_replays(row: dict[str, Any]) -> None:
    verdict = check_proof(row, row["proof"], budget_s=5.0)
    assert verdict.is_verified, (row["id"], verdict.to_dict())


@pytest.mark.slow
def test_symbolic_search_proves_most_of_the_suite_and_plain_z3_fewer() -> None:
    """The whole suite (slow: about two minutes; the default run's stand-in is
    ``test_tiny_driver_proves_a_sample``). Measured (z3 5.4.1): plain Z3 proves 9/39 (the rows
    marked ``needs: z3``), the search 37/39 (all but the two rows that need a lemma, which
    spend the 20 s wall each); thresholds leave room for slow machines."""
    rows = suite()
    plain = sum(plain_z3(row, 1.0).is_verified for row in rows)
    config = SearchConfig(batch_size=1, num_candidates=16, tactic_timeout_s=0.5,
                          wall_timeout_s=20.0, max_expansions=40, concurrency=1)
    proved = 0
    for row in rows:
        proof = best_first_search(Z3Env(row), SymbolicPolicy("z3"), config).proof
        proved += bool(proof) and check_proof(row, proof).is_verified
    assert plain <= 12
    assert proved >= 34 and proved > plain + 20, (proved, plain)
