"""Live tests against a real Lean 4 toolchain: what a user with Lean runs after
``scripts/setup_lean.sh``. They build nothing the first time (run the script first; with
``scripts/setup_lean.sh --with-dojo`` for the Dojo test). Without ``lake`` on PATH they skip.

* setup is idempotent and ``proofgraph doctor`` says ready;
* the REPL's real "no such file" answer names the file (the framing sentinel relies on it);
* the lean_project examples re-proved from their statements through the REPL and audited;
* 5 miniF2F statements proved by ``proofgraph prove`` with the symbolic Lean portfolio, each
  proof then audited by ``proofgraph``'s audit;
* three distinct import blocks in one run through the per-header pool (2 processes: LRU
  eviction), a killed REPL restarted from its header, a process recycled after max uses;
* lean-dojo on a traced copy, every Dojo proof audited in the REPL.

    python -m pytest -m lean tests/test_lean_live.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from prover.lean.audit import audit
from prover.lean.audit_report import AuditPolicy
from prover.lean.env import LeanReplEnv
from prover.lean.pool import HeaderPool
from prover.lean.protocol import FileCommand, LeanError
from prover.lean.repl import LEAN_PROJECT, LeanRepl, ReplConfig
from search.best_first import SearchConfig, best_first_search
from search.protocols import Candidate, Failed, Proved, State

pytestmark = [
    pytest.mark.lean,
    pytest.mark.skipif(shutil.which("lake") is None,
                       reason="needs a Lean 4 toolchain: `lake` is not on PATH "
                              "(run scripts/setup_lean.sh)"),
]

ROOT = Path(__file__).resolve().parents[1]
BASIC = LEAN_PROJECT / "ProofgraphExamples" / "Basic.lean"
MINIF2F = Path(__file__).parent / "data" / "minif2f_lean_5.jsonl"
_THEOREM = re.compile(r"^theorem\s+(\S+)(.*?):=\s*by\b", re.M | re.S)
EXAMPLES = [(m.group(1), m.group(2).strip()) for m in _THEOREM.finditer(BASIC.read_text())]
ONE_TACTIC = {"add_zero'", "two_add_two", "add_comm'", "lt_succ_self'", "mul_two'",
              "zero_add'", "length_append'"}
CANDIDATES = ("rfl", "decide", "omega", "simp", "intro hp", "constructor", "exact h.2",
              "exact h.1", "exact hqr (hpq hp)")
SEARCH = SearchConfig(batch_size=4, num_candidates=len(CANDIDATES), tactic_timeout_s=60.0,
                      wall_timeout_s=600.0, max_expansions=50, concurrency=1)
ALLOWED = {"propext", "Classical.choice", "Quot.sound"}


def statement(name: str, rest: str) -> str:
    """A fresh name for the example so it does not clash with the library's constant."""
    return f"theorem live_{name} {rest}"


class FixedPolicy:
    """Proposes the same short list of core tactics for every state."""

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        return [[Candidate(t) for t in CANDIDATES[:k]] for _ in states]


@pytest.fixture(scope="module")
def config() -> ReplConfig:
    config = ReplConfig.from_env()
    if not config.custom_command:
        binary = Path(config.command[-1])
        if not binary.is_absolute() and config.cwd is not None:
            binary = Path(config.cwd) / binary
        if not binary.exists():
            pytest.skip(f"the Lean REPL is not built ({binary}): run scripts/setup_lean.sh")
    return config


@pytest.fixture(scope="module")
def repl(config: ReplConfig) -> Iterator[LeanRepl]:
    with LeanRepl(config) as live:
        yield live


def cli(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofgraph.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


# --------------------------------------------------------------------------- setup, doctor
def test_setup_is_idempotent(config: ReplConfig) -> None:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "setup_lean.sh")],
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dependencies already fetched at the pins" in done.stdout


def test_doctor_says_ready(config: ReplConfig) -> None:
    done = cli("doctor", "--json")
    report = json.loads(done.stdout)
    failed = [c for c in report["checks"] if c["required"] and not c["ok"]]
    assert done.returncode == 0 and not failed, failed
    names = {c["name"]: c for c in report["checks"]}
    assert "version 4.20.0" in names["lean"]["found"]
    assert names["REPL commit"]["found"].startswith("16054ca")


def test_the_sentinel_answer_names_the_file(repl: LeanRepl) -> None:
    repl.ensure_alive()
    answer = repl.run(FileCommand("/proc/self/proofgraph-live-probe.lean"), 60)
    assert isinstance(answer, LeanError) and "proofgraph-live-probe" in answer.message


# --------------------------------------------------------------------------- examples
def test_examples_were_found() -> None:
    assert {name for name, _ in EXAMPLES} >= ONE_TACTIC | {"and_swap'", "imp_trans'"}


@pytest.mark.parametrize(("name", "rest"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_repl_search_proves_and_audit_accepts(repl: LeanRepl, name: str, rest: str) -> None:
    thm = statement(name, rest)
    result = best_first_search(LeanReplEnv(thm, repl), FixedPolicy(), SEARCH)
    assert result.status == "proved" and result.proof, result.stop_reason
    report = audit(thm, None, repl, tactics=result.proof)
    assert report.proved, report.to_dict()
    assert set(report.axioms or ()) <= ALLOWED


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
    assert audit("theorem live_ex : False", "by exact live_ex", repl).verdict.kind == "refuted"
    assert audit("theorem live_s : 1 = 2", "sorry", repl).verdict.kind == "refuted"
    assert not audit("theorem live_n : 2 + 2 = 4", "by native_decide", repl).proved
    native = audit("theorem live_n2 : 2 + 2 = 4", "by native_decide", repl,
                   policy=AuditPolicy(allow_native_decide=True))
    assert native.check("compile").status == "passed"


# --------------------------------------------------------------------------- miniF2F via the CLI
def test_prove_five_minif2f_statements_and_audit_them(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in MINIF2F.read_text().splitlines()]
    theorems = tmp_path / "minif2f.jsonl"
    theorems.write_text("".join(json.dumps({"id": r["id"], "statement": r["formal_statement"],
                                            "header": r["header"]}) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    done = cli("prove", str(theorems), "--backend", "lean-repl", "--policy", "symbolic",
               "--tactic-timeout", "60", "--wall-timeout", "600", "--max-depth", "3",
               "--out", str(out), "--json")
    assert done.returncode in (0, 3), done.stderr[-3000:]
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(results) == 5 and not any(r.get("error") for r in results)
    verified = [r for r in results if r["verdict"] == "verified"]
    assert verified, [(r["id"], r["verdict"], r.get("detail")) for r in results]
    for r in verified:  # counted only after the audit passed every required check
        assert all(c["status"] == "passed" for c in r["evidence"]["audit"]
                   if c["name"] in ("compile", "axioms")), r
    audited = tmp_path / "audit.jsonl"
    audited.write_text("".join(json.dumps({
        "id": r["id"], "statement": next(x["formal_statement"] for x in rows
                                         if x["id"] == r["id"]),
        "header": rows[0]["header"], "proof": "\n".join(r["proof"])}) + "\n" for r in verified))
    checked = cli("audit", str(audited), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --------------------------------------------------------------------------- the per-header pool
def test_three_headers_one_run_a_crash_and_a_recycle(config: ReplConfig) -> None:
    from dataclasses import replace

    mini = json.loads(MINIF2F.read_text().splitlines()[0])
    headers = [mini["header"], "import ProofgraphExamples", ""]
    thm = "theorem live_pool (a : Nat) : a + 0 = a"
    with HeaderPool(replace(config, max_uses=6), max_processes=2) as pool:
        for header in headers + headers[:1]:
            env = LeanReplEnv(thm, pool, header=header)
            assert isinstance(env.apply(env.initial_state(), "simp", 120), Proved), header
        assert pool.stats.created >= 3 and pool.stats.evicted >= 1
        with pool.lease(headers[1]) as repl:  # crash: kill the whole process group
            os.killpg(repl.pid, signal.SIGKILL)
        env = LeanReplEnv(thm, pool, header=headers[1])
        assert isinstance(env.apply(env.initial_state(), "simp", 120), Proved)
        assert pool.stats.restarted_after_crash >= 1
        for _ in range(3):  # 6 requests per process at most: recycled, header re-imported
            env = LeanReplEnv(thm, pool, header=headers[1])
            assert isinstance(env.apply(env.initial_state(), "simp", 120), Proved)
            with pool.lease(headers[1]) as repl:
                assert audit(thm, None, repl, header=headers[1], tactics=["simp"]).proved
        assert pool.stats.recycled_uses >= 1


def test_prove_run_survives_a_bad_header(tmp_path: Path) -> None:
    theorems = tmp_path / "t.jsonl"
    theorems.write_text(
        json.dumps({"id": "bad", "statement": "theorem b : True", "header": "import NoSuch"})
        + "\n" + json.dumps({"id": "ok", "statement": "theorem live_ok : 2 + 2 = 4",
                             "header": ""}) + "\n")
    out = tmp_path / "out.jsonl"
    cli("prove", str(theorems), "--backend", "lean-repl", "--out", str(out), "--json")
    bad, ok = (json.loads(line) for line in out.read_text().splitlines())
    assert (bad["verdict"], bad["reason"]) == ("unknown", "not-formalized")
    assert ok["verdict"] == "verified"


# --------------------------------------------------------------------------- lean-dojo
@pytest.mark.skipif(not os.environ.get("PROOFGRAPH_DOJO_REPO"),
                    reason="set PROOFGRAPH_DOJO_REPO (scripts/setup_lean.sh --with-dojo)")
def test_dojo_proves_the_examples_and_every_proof_is_audited(repl: LeanRepl) -> None:
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
        with LeanDojoEnv(theorem, timeout_s=60, startup_timeout_s=900,
                         lean_dojo=lean_dojo) as env:
            result = best_first_search(env, FixedPolicy(), SEARCH)
        assert result.status == "proved", (name, result.stop_reason)
        assert audit(statement(name, rest), None, repl, tactics=result.proof).proved, name
