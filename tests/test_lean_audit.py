"""The trust audit: the source lint, the statement checks, and the Lean checks against REAL
recorded REPL answers (tests/data/lean-repl) replayed by ``tests/fake_lean_repl.py``.

The adversarial fixtures are replayed exactly: the audit's own requests (the harness-rendered
whole proof, or ``<statement> := by sorry`` plus the tactic path) are byte-for-byte the recorded
ones, so the verdicts below are on what Lean really answered. Checks the fixtures never recorded
(``#print axioms``, ``#check`` under ``pp.all``) use JSON scripts whose responses are
SYNTHETIC, written in the recorded response shapes and Lean's ``#print axioms`` wording
(``'X' depends on axioms: [...]`` / ``'X' does not depend on any axioms``); each says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_lean_repl import argv, recorded, transcript

from prover.lean.audit import (
    ALLOWED_AXIOMS,
    NOT_CHECKED,
    AuditPolicy,
    audit,
    lint_body,
    render_proof,
)
from prover.lean.repl import LeanRepl, LeanReplPool, ReplConfig
from prover.verdicts import UnknownReason

DEMO = "theorem demo (a b : Nat) : a + b = b + a"
DEMO_PROOF = "rw [Nat.add_comm]"


def repl_for(path: Path, *options: str) -> LeanRepl:
    return LeanRepl(ReplConfig(command=argv(path, *options), cwd=None, memory_limit_mb=1024))


def script(tmp_path: Path, exchanges: list[tuple[dict, dict]]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(exchanges, ensure_ascii=False))
    return path


def info(text: str) -> dict:
    return {"severity": "info", "pos": {"line": 1, "column": 0},
            "endPos": {"line": 1, "column": 6}, "data": text}


def final_checks(axioms: str, check_a: str = "demo : ∀ (a b : Nat), a + b = b + a",
                 check_b: str | None = None, env: int = 0) -> list[tuple[dict, dict]]:
    """SYNTHETIC answers for checks 5-6 after a compile that returned ``env``."""
    probe = "set_option pp.all true in\n#check @demo"
    sorry = {"sorries": [{"proofState": 0, "pos": {"line": 1, "column": 45},
                          "goal": "a b : Nat\n⊢ a + b = b + a", "endPos": {"line": 1,
                          "column": 50}}],
             "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8},
                           "endPos": {"line": 1, "column": 12},
                           "data": "declaration uses 'sorry'"}], "env": env + 2}
    return [({"cmd": "#print axioms demo", "env": env},
             {"messages": [info(axioms)], "env": env + 1}),
            ({"cmd": f"{DEMO} := sorry"}, sorry),
            ({"cmd": probe, "env": env + 2}, {"messages": [info(check_a)], "env": env + 3}),
            ({"cmd": probe, "env": env}, {"messages": [info(check_b or check_a)],
                                          "env": env + 4})]


def compiled(env: int = 0, **response: object) -> tuple[dict, dict]:
    return ({"cmd": f"{DEMO} := by {DEMO_PROOF}"}, {"env": env, **response})


# --------------------------------------------------------------------------- source lint
@pytest.mark.parametrize("body", [
    "sorry", "admit", "exact sorryAx _ false", "exact «sorry»", "native_decide",
    "decide +native", "set_option maxHeartbeats 0 in simp", "set_option debug.skipKernelTC true",
    "open Classical in simp", "#exit", "#eval 1", "#print axioms x",
    "exact (by exact?)\n#exit", "@[implemented_by foo] def f := 1", "unsafe def x := 1",
    "partial def loop : Nat := loop", "decreasing_by sorry", "axiom magic : False",
    "theorem t : True := trivial", "lemma l : True := trivial", "def x := 1",
    "instance : Add Nat := ⟨fun _ _ => 3⟩", "local instance : Add Nat := ⟨fun _ _ => 3⟩",
    "macro \"x\" : tactic => `(tactic| rfl)", "elab \"x\" : tactic => pure ()",
    "syntax \"x\" : tactic", "namespace Foo", "import Mathlib", "run_tac pure ()",
    "attribute [simp] foo", "notation \"x\" => 1", "exact Lean.ofReduceBool",
    "opaque x : Nat", "simp\n\tnorm_num", "  simp\nrfl", "",
])
def test_lint_rejects(body: str) -> None:
    assert lint_body(body)


@pytest.mark.parametrize("body", [
    "omega", "simp [Nat.add_def]", "exact h.def", "infer_instance", "decide",
    "exact Nat.lt_irrefl _", "induction n with\n| zero => rfl\n| succ n ih => omega",
    "constructor\n· exact h.2\n· exact h.1", "have h2 : x = x := rfl\nexact h2",
    "simp only [List.length_append]", "exact Array.size_push #[1, 2] 3",
])
def test_lint_accepts(body: str) -> None:
    assert lint_body(body) == []


def test_native_decide_is_a_policy_flag() -> None:
    allow = AuditPolicy(allow_native_decide=True)
    assert lint_body("native_decide", allow) == []
    assert lint_body("decide +native", allow) == []
    assert lint_body("exact Lean.ofReduceBool", allow)  # never written by hand


def test_render_matches_the_recorded_commands() -> None:
    assert render_proof("theorem ex : False", "exact ex") == recorded(
        "self_proof_exact_check")[0][0]["cmd"]
    body = "cases 1\nrfl\nhave: true := by\n  apply ?succ\n  trivial"
    assert render_proof("example : 1 = 0", body) == recorded("app_type_mismatch2")[0][0]["cmd"]


# --------------------------------------------------------------------------- statement checks
def test_a_changed_statement_is_rejected_before_lean() -> None:
    report = audit(DEMO, "theorem demo (a b : Nat) : a + b = a + b := by rfl", None)
    assert report.verdict.kind == "refuted" and report.check("statement").status == "failed"
    assert not report.proved


def test_a_whole_declaration_with_the_same_statement_is_cut_to_its_body() -> None:
    report = audit(DEMO, "theorem  demo (a b : Nat) :\n    a + b = b + a := by\n  omega", None)
    assert report.body == "omega" and report.check("statement").status == "passed"
    assert report.verdict.kind == "unknown" and report.verdict.reason == NOT_CHECKED


def test_lean_unavailable_is_not_checked_and_never_proved() -> None:
    report = audit(DEMO, DEMO_PROOF, None)
    assert report.verdict.kind == "unknown" and report.verdict.reason == NOT_CHECKED
    assert "unavailable" in report.verdict.detail and not report.proved
    missing = LeanRepl(ReplConfig(command=["/nonexistent/lake"], cwd=None))
    report = audit(DEMO, DEMO_PROOF, missing)
    assert report.verdict.kind == "unknown" and report.verdict.reason == NOT_CHECKED
    assert audit(DEMO, "sorry", None).verdict.kind == "refuted"  # lint needs no Lean
    assert audit("def f : Nat", "exact 1", None).verdict.reason == UnknownReason.NOT_FORMALIZED


# --------------------------------------------------------------------------- recorded fixtures
@pytest.mark.parametrize(("name", "statement", "body", "reason"), [
    ("self_proof_exact_check", "theorem ex : False", "exact ex", "fail to show termination"),
    ("self_proof_apply_check", "theorem ex : False", "apply ex", "fail to show termination"),
    ("self_proof_rw", "theorem self_application : 1 = 0", "rw [self_application]",
     "fail to show termination"),
    ("self_proof_check", "theorem ex : False", "exact?", "could not close the goal"),
    ("app_type_mismatch", "example : 1 = 0", "cases 1\nrfl\napply ?succ",
     "declaration has metavariables"),
    ("app_type_mismatch2", "example : 1 = 0",
     "cases 1\nrfl\nhave: true := by\n  apply ?succ\n  trivial", "application type mismatch"),
])
def test_recorded_whole_proofs_are_refuted(name: str, statement: str, body: str,
                                           reason: str) -> None:
    with repl_for(transcript(name)) as repl:
        report = audit(statement, body, repl)
    assert report.check("compile").status == "failed"
    assert reason in report.check("compile").detail
    assert report.verdict.kind == "refuted" and not report.proved


@pytest.mark.parametrize(("name", "statement", "tactics", "reason"), [
    ("Mathlib/test/20240209", "example : False", ["simpa using show False by done"],
     "unsolved goals"),
    ("invalid_tactic", "theorem my_theorem (x : Nat) : x = x", ["exact my_fake_premise"],
     "Unknown identifier"),
])
def test_recorded_tactic_paths_with_no_goals_left_are_refuted(
        name: str, statement: str, tactics: list[str], reason: str) -> None:
    """The REPL answered ``goals: []`` here; the audit must still say no."""
    assert recorded(name)[1][1]["goals"] == []
    with repl_for(transcript(name)) as repl:
        report = audit(statement, None, repl, tactics=tactics)
    assert report.check("tactic-steps").status == "failed"
    assert reason in report.check("tactic-steps").detail
    assert report.verdict.kind == "refuted" and not report.proved
    assert [c.name for c in report.checks] == ["statement", "proof-body-lint", "tactic-steps"]


# --------------------------------------------------------------------------- scripted checks
def test_all_checks_pass_only_then_verified(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled(), *final_checks("'demo' depends on axioms: [propext]")])
    with repl_for(path) as repl:
        report = audit(DEMO, DEMO_PROOF, repl)
    assert report.proved and report.verdict.kind == "verified"
    assert [c.status for c in report.checks] == ["passed", "passed", "skipped", "passed",
                                                  "passed", "passed"]
    assert report.axioms == ("propext",) and report.source == f"{DEMO} := by {DEMO_PROOF}"
    assert report.to_dict()["verdict"]["verdict"] == "verified"


def test_search_path_then_fresh_whole_proof(tmp_path: Path) -> None:
    """Tactic mode on the REAL proof_branching answers, then the whole proof re-checked in a
    fresh env (synthetic answers for the final checks)."""
    statement = "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r"
    tactics = ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]
    real = recorded("proof_branching")
    assert [r["tactic"] for r, _ in real[1:]] == tactics
    source = render_proof(statement, "\n".join(tactics))
    probe = "set_option pp.all true in\n#check @complex_and"
    pp = "complex_and : ∀ (p q r : Prop), And p q → (q → r) → And p r"
    path = script(tmp_path, [*real,
                             ({"cmd": source}, {"env": 1}),
                             ({"cmd": "#print axioms complex_and", "env": 1},
                              {"messages": [info("'complex_and' does not depend on any axioms")],
                               "env": 2}),
                             ({"cmd": f"{statement} := sorry"}, {"env": 3}),
                             ({"cmd": probe, "env": 3}, {"messages": [info(pp)], "env": 4}),
                             ({"cmd": probe, "env": 1}, {"messages": [info(pp)], "env": 5})])
    with repl_for(path) as repl:
        report = audit(statement, None, repl, tactics=tactics)
    assert report.proved and report.axioms == ()
    assert report.check("tactic-steps").detail == "4 steps, proofStatus Completed"


@pytest.mark.parametrize(("axioms", "policy", "proved"), [
    ("'demo' depends on axioms: [propext, Classical.choice, Quot.sound]", None, True),
    ("'demo' depends on axioms: [propext, sorryAx]", None, False),
    ("'demo' depends on axioms: [Lean.ofReduceBool]", None, False),
    ("'demo' depends on axioms: [Lean.ofReduceBool]", AuditPolicy(allow_native_decide=True),
     True),
    ("'demo' depends on axioms: [magic]", None, False),
])
def test_axiom_whitelist(tmp_path: Path, axioms: str, policy: AuditPolicy | None,
                         proved: bool) -> None:
    path = script(tmp_path, [compiled(), *final_checks(axioms)])
    with repl_for(path) as repl:
        report = audit(DEMO, DEMO_PROOF, repl, policy=policy)
    assert report.proved is proved
    if not proved:
        assert report.check("axioms").status == "failed" and report.verdict.kind == "refuted"
    assert ALLOWED_AXIOMS == {"propext", "Classical.choice", "Quot.sound"}


def test_missing_constant_fails_the_axiom_check(tmp_path: Path) -> None:
    error = {"severity": "error", "pos": {"line": 1, "column": 15},
             "endPos": {"line": 1, "column": 19}, "data": "unknown constant 'demo'"}
    path = script(tmp_path, [compiled(), ({"cmd": "#print axioms demo", "env": 0},
                                          {"messages": [error], "env": 1})])
    with repl_for(path) as repl:
        report = audit(DEMO, DEMO_PROOF, repl)
    assert report.check("axioms").status == "failed" and not report.proved


def test_statement_type_mismatch_is_refuted(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled(), *final_checks(
        "'demo' does not depend on any axioms",
        check_b="demo : ∀ (a b : Nat), @HAdd.hAdd Nat Nat Nat (@instHAdd Nat hostile) a b = _")])
    with repl_for(path) as repl:
        report = audit(DEMO, DEMO_PROOF, repl)
    assert report.check("statement-type").status == "failed" and not report.proved


def test_old_sorry_warning_spelling_is_caught_at_compile(tmp_path: Path) -> None:
    warning = {"severity": "warning", "pos": {"line": 1, "column": 8},
               "endPos": {"line": 1, "column": 12}, "data": "declaration uses 'sorry'"}
    path = script(tmp_path, [compiled(messages=[warning])])
    with repl_for(path) as repl:
        report = audit(DEMO, DEMO_PROOF, repl)
    assert report.check("compile").status == "failed" and not report.proved


def test_anonymous_example_cannot_be_verified(tmp_path: Path) -> None:
    path = script(tmp_path, [({"cmd": "example : 2 + 2 = 4 := by decide"}, {"env": 0})])
    with repl_for(path) as repl:
        report = audit("example : 2 + 2 = 4", "decide", repl)
    assert report.check("compile").status == "passed"
    assert report.verdict.kind == "unknown"
    assert report.verdict.reason == UnknownReason.NOT_FORMALIZED


def test_timeout_and_crash_are_unknown(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled()])
    with repl_for(path, "--hang-at", "0") as repl:
        report = audit(DEMO, DEMO_PROOF, repl, policy=AuditPolicy(timeout_s=0.5))
    assert report.verdict.reason == UnknownReason.TIMEOUT and not report.proved
    with repl_for(path, "--die-at", "0") as repl:
        report = audit(DEMO, DEMO_PROOF, repl)
    assert report.verdict.reason == UnknownReason.BACKEND_ERROR and not report.proved


def test_header_is_used_and_pool_lease_works(tmp_path: Path) -> None:
    header = "import Mathlib"
    path = script(tmp_path, [
        ({"cmd": header}, {"env": 0}),
        ({"cmd": f"{DEMO} := by {DEMO_PROOF}", "env": 0}, {"env": 1}),
        ({"cmd": "#print axioms demo", "env": 1},
         {"messages": [info("'demo' depends on axioms: [propext]")], "env": 2}),
        ({"cmd": f"{DEMO} := sorry", "env": 0}, {"env": 3}),
        ({"cmd": "set_option pp.all true in\n#check @demo", "env": 3},
         {"messages": [info("demo : T")], "env": 4}),
        ({"cmd": "set_option pp.all true in\n#check @demo", "env": 1},
         {"messages": [info("demo : T")], "env": 5})])
    with LeanReplPool(repls=[repl_for(path)]) as pool:
        report = audit(DEMO, DEMO_PROOF, pool, header=header)
    assert report.proved
