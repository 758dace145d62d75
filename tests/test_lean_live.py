"""Live tests against a real Lean 4 toolchain: the lean_project examples re-proved from their
statements through the Lean REPL (best-first search + a symbolic policy) and through lean-dojo's
Dojo, every proof then audited. They build nothing: run ``scripts/setup_lean.sh`` first (and
``scripts/setup_lean.sh --with-dojo`` for the Dojo test). Without ``lake`` on PATH they skip.

    python -m pytest -m lean tests/test_lean_live.py
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from prover.lean.audit import AuditPolicy, audit
from prover.lean.env import LeanReplEnv
from prover.lean.repl import LEAN_PROJECT, LeanRepl, ReplConfig
from search.best_first import SearchConfig, best_first_search
from search.protocols import Candidate, Failed, Proved, State

pytestmark = [
    pytest.mark.lean,
    pytest.mark.skipif(shutil.which("lake") is None,
                       reason="needs a Lean 4 toolchain: `lake` is not on PATH "
                              "(run scripts/setup_lean.sh)"),
]

BASIC = LEAN_PROJECT / "ProofgraphExamples" / "Basic.lean"
_THEOREM = re.compile(r"^theorem\s+(\S+)(.*?):=\s*by\b", re.M | re.S)
EXAMPLES = [(m.group(1), m.group(2).strip()) for m in _THEOREM.finditer(BASIC.read_text())]
ONE_TACTIC = {"add_zero'", "two_add_two", "add_comm'", "lt_succ_self'", "mul_two'",
              "zero_add'", "length_append'"}
CANDIDATES = ("rfl", "decide", "omega", "simp", "intro hp", "constructor", "exact h.2",
              "exact h.1", "exact hqr (hpq hp)")
SEARCH = SearchConfig(batch_size=4, num_candidates=len(CANDIDATES), tactic_timeout_s=60.0,
                      wall_timeout_s=600.0, max_expansions=50, concurrency=1)


def statement(name: str, rest: str) -> str:
    """A fresh name for the example so it does not clash with the library's constant."""
    return f"theorem live_{name} {rest}"


class FixedPolicy:
    """Proposes the same short list of core tactics for every state."""

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        return [[Candidate(t) for t in CANDIDATES[:k]] for _ in states]


@pytest.fixture(scope="module")
def repl() -> Iterator[LeanRepl]:
    config = ReplConfig.from_env()
    binary = Path(config.command[-1])
    if not binary.is_absolute() and config.cwd is not None:
        binary = Path(config.cwd) / binary
    if not binary.exists():
        pytest.skip(f"the Lean REPL is not built ({binary}): run scripts/setup_lean.sh")
    with LeanRepl(config) as live:
        yield live


def test_examples_were_found() -> None:
    assert {name for name, _ in EXAMPLES} >= ONE_TACTIC | {"and_swap'", "imp_trans'"}


@pytest.mark.parametrize(("name", "rest"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_repl_search_proves_and_audit_accepts(repl: LeanRepl, name: str, rest: str) -> None:
    thm = statement(name, rest)
    result = best_first_search(LeanReplEnv(thm, repl), FixedPolicy(), SEARCH)
    assert result.status == "proved" and result.proof, result.stop_reason
    report = audit(thm, None, repl, tactics=result.proof)
    assert report.proved, report.to_dict()
    assert set(report.axioms or ()) <= {"propext", "Classical.choice", "Quot.sound"}


def test_symbolic_policy_when_available(repl: LeanRepl) -> None:
    """``prover.policy.symbolic.SymbolicPolicy(backend="lean")`` on the one-tactic examples."""
    symbolic = pytest.importorskip("prover.policy.symbolic")
    policy = symbolic.SymbolicPolicy(backend="lean")
    config = SearchConfig(batch_size=4, num_candidates=16, tactic_timeout_s=60.0,
                          wall_timeout_s=600.0, max_expansions=50, concurrency=1)
    for name, rest in EXAMPLES:
        if name not in ONE_TACTIC:
            continue
        thm = statement(name, rest)
        result = best_first_search(LeanReplEnv(thm, repl), policy, config)
        assert result.status == "proved", (name, result.stop_reason)
        assert audit(thm, None, repl, tactics=result.proof).proved


def test_header_imports_the_examples_library(repl: LeanRepl) -> None:
    header = "import ProofgraphExamples"
    thm = "theorem live_from_lib (a b : Nat) : a + b = b + a"
    env = LeanReplEnv(thm, repl, header=header)
    outcome = env.apply(env.initial_state(), "exact ProofgraphExamples.add_comm' a b", 60)
    assert isinstance(outcome, Proved)
    assert audit(thm, None, repl, header=header, tactics=outcome.evidence["tactics"]).proved


def test_real_lean_rejects_the_known_tricks(repl: LeanRepl) -> None:
    env = LeanReplEnv("theorem live_bad (x : Nat) : x = x", repl)
    failed = env.apply(env.initial_state(), "exact my_fake_premise", 60)
    assert isinstance(failed, Failed)
    assert audit("theorem live_ex : False", "exact live_ex", repl).verdict.kind == "refuted"
    assert audit("theorem live_s : 1 = 2", "sorry", repl).verdict.kind == "refuted"
    assert not audit("theorem live_n : 2 + 2 = 4", "native_decide", repl).proved
    native = audit("theorem live_n2 : 2 + 2 = 4", "native_decide", repl,
                   policy=AuditPolicy(allow_native_decide=True))
    assert native.check("compile").status == "passed"


@pytest.mark.skipif(not os.environ.get("PROOFGRAPH_DOJO_REPO"),
                    reason="set PROOFGRAPH_DOJO_REPO (scripts/setup_lean.sh --with-dojo)")
def test_dojo_proves_the_examples(repl: LeanRepl) -> None:
    pytest.importorskip("lean_dojo")
    from prover.lean.dojo import LeanDojoEnv, is_traced, load_lean_dojo, make_theorem

    if os.environ.get("GITHUB_ACCESS_TOKEN"):
        pytest.skip("unset GITHUB_ACCESS_TOKEN: importing lean_dojo would call the GitHub API")
    lean_dojo = load_lean_dojo()
    repo_path = os.environ["PROOFGRAPH_DOJO_REPO"]
    first = make_theorem(repo_path, "ProofgraphExamples/Basic.lean",
                         f"ProofgraphExamples.{EXAMPLES[0][0]}", lean_dojo=lean_dojo)
    if not is_traced(first, lean_dojo):
        pytest.skip(f"{repo_path} is not traced: run scripts/setup_lean.sh --with-dojo")
    for name, rest in EXAMPLES:
        theorem = lean_dojo.Theorem(first.repo, "ProofgraphExamples/Basic.lean",
                                    f"ProofgraphExamples.{name}")
        with LeanDojoEnv(theorem, timeout_s=60, lean_dojo=lean_dojo) as env:
            result = best_first_search(env, FixedPolicy(), SEARCH)
        assert result.status == "proved", (name, result.stop_reason)
        thm = statement(name, rest)
        assert audit(thm, None, repl, tactics=result.proof).proved, name
