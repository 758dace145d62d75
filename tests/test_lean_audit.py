"""The trust audit (prover/lean/audit.py) against REAL recorded REPL answers of the pinned
v4.20 REPL (tests/data/lean-repl-v4.20) replayed over real pipes by tests/fake_lean_repl.py,
plus SYNTHETIC answers (in the recorded shapes, Lean's ``#print axioms`` wording) for what the
fixtures never recorded; each synthetic script says so. The cheat corpus itself runs in
tests/test_audit_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_lean_repl import DATA_V420, argv, recorded, transcript

from prover.lean.audit import audit
from prover.lean.audit_lean import ALLOWED_AXIOMS, parse_axioms
from prover.lean.audit_parse import clean_header, parse_statement, render_tactics
from prover.lean.audit_report import CHECKS, NOT_CHECKED, AuditPolicy
from prover.lean.pool import HeaderPool
from prover.lean.protocol import CommandResponse, Message
from prover.lean.repl import LeanRepl, ReplConfig
from prover.records.verdicts import UnknownReason

DEMO = "theorem demo (a b : Nat) : a + b = b + a"
PROOF = "by rw [Nat.add_comm]"
PP = "demo : ∀ (a b : Nat), @Eq.{1} Nat (@HAdd.hAdd.{0, 0, 0} Nat Nat Nat ...)"


def repl_for(path: Path, *options: str) -> LeanRepl:
    return LeanRepl(ReplConfig(command=argv(path, *options), cwd=None, memory_limit_mb=1024))


def script(tmp_path: Path, exchanges: list[tuple[dict, dict]]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(exchanges, ensure_ascii=False))
    return path


def info(text: str, line: int = 1) -> dict:
    return {"severity": "info", "pos": {"line": line, "column": 0},
            "endPos": {"line": line, "column": 6}, "data": text}


def checks_after(compile_env: int, axioms: str, *, name: str = "demo", head: str = DEMO,
                 pp_user: str = PP, header_env: int | None = None) -> list[tuple[dict, dict]]:
    """SYNTHETIC answers for ``#print axioms``, the reference and the two ``#check``s after a
    compile that returned ``compile_env`` (env ids continue from there, as the REPL counts)."""
    probe = f"set_option pp.all true in\n#check @_root_.{name}"
    e = compile_env
    ref: dict = {"cmd": f"{head} := sorry"}
    if header_env is not None:
        ref["env"] = header_env
    sorry = {"sorries": [{"proofState": 0, "pos": {"line": 1, "column": len(head) + 4},
                          "goal": "⊢ goal", "endPos": {"line": 1, "column": len(head) + 9}}],
             "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8},
                           "endPos": {"line": 1, "column": 12},
                           "data": "declaration uses 'sorry'"}], "env": e + 2}
    return [({"cmd": f"#print axioms _root_.{name}", "env": e},
             {"messages": [info(axioms)], "env": e + 1}),
            (ref, sorry),
            ({"cmd": probe, "env": e + 2}, {"messages": [info(PP, 2)], "env": e + 3}),
            ({"cmd": probe, "env": e}, {"messages": [info(pp_user, 2)], "env": e + 4})]


def compiled(source: str = f"{DEMO} := {PROOF}", env: int = 0,
             **response: object) -> tuple[dict, dict]:
    done = {"messages": [info("Goals accomplished!")]}
    return ({"cmd": source}, {**done, **response, "env": env})


# --------------------------------------------------------------------------- statements
def test_statement_with_docstring_attributes_and_proof_part() -> None:
    """Finding 10: a leading docstring is read, not refused."""
    stmt = parse_statement("/-- The sum\n  commutes. -/\n@[simp] theorem demo (a b : Nat) :\n"
                           "    a + b = b + a := by sorry")
    assert (stmt.kind, stmt.name) == ("theorem", "demo")
    assert stmt.head == "theorem demo (a b : Nat) :\n    a + b = b + a"
    assert parse_statement("theorem «my thm» : True").name == "«my thm»"
    report = audit("/-- doc -/\ntheorem demo (a b : Nat) : a + b = b + a", "by omega", None)
    assert report.check("statement").status == "passed"
    assert report.verdict.reason == NOT_CHECKED  # not "not-formalized"


def test_header_ending_in_a_docstring_is_cut() -> None:
    header = "import Mathlib\nopen Real\n\n/--\nShow that pi exceeds 3.\n-/\n"
    assert clean_header(header) == "import Mathlib\nopen Real"
    assert clean_header("import Mathlib -- a comment") == "import Mathlib -- a comment"


def test_not_a_theorem_is_not_formalized() -> None:
    for statement in ("def f : Nat", "", "theorem : True", "theorem a : True\ntheorem b : True"):
        report = audit(statement, "by trivial", None)
        assert report.verdict.reason == UnknownReason.NOT_FORMALIZED, statement


def test_changed_statement_is_refuted_before_lean() -> None:
    report = audit(DEMO, "theorem demo (a b : Nat) : a + b = a + b := by rfl", None)
    assert report.verdict.kind == "refuted" and report.check("statement").status == "failed"
    same = audit(DEMO, "lemma  demo (a b : Nat) :\n    a + b = b + a -- same\n := by\n  omega",
                 None)
    assert same.check("statement").status == "passed" and same.form == "declaration"


def test_report_lists_every_check() -> None:
    report = audit(DEMO, "by sorry", None)
    assert [c.name for c in report.checks] == list(CHECKS)
    assert [c.status for c in report.checks] == ["passed", "failed", "not-checked",
                                                  "not-checked", "not-checked", "not-checked"]
    assert report.to_dict()["verdict"]["verdict"] == "refuted"


def test_without_lean_never_verified() -> None:
    report = audit(DEMO, "by omega", None)
    assert (report.verdict.kind, report.verdict.reason) == ("unknown", NOT_CHECKED)
    missing = LeanRepl(ReplConfig(command=["/nonexistent/lake"], cwd=None))
    report = audit(DEMO, "by omega", missing)
    assert (report.verdict.kind, report.verdict.reason) == ("unknown", NOT_CHECKED)
    dojo = audit(DEMO, "by omega", None, unavailable=UnknownReason.BACKEND_ERROR)
    assert dojo.verdict.reason == UnknownReason.BACKEND_ERROR


# --------------------------------------------------------------------------- finding 8
def test_multiline_term_proof_is_compiled_verbatim(tmp_path: Path) -> None:
    """Finding 8: ``:=\\n  Nat.add_comm\\n    a b`` used to become ``by exact Nat.add_comm``
    plus a stray line ``a b``; the text after ``:=`` is now compiled as written."""
    whole = "theorem demo (a b : Nat) : a + b = b + a :=\n  Nat.add_comm\n    a b"
    term = audit(DEMO, "\n  Nat.add_comm\n    a b", None)
    assert term.source == f"{DEMO} := Nat.add_comm\n    a b"
    assert audit(DEMO, whole, None).source == f"{DEMO} :=\n  Nat.add_comm\n    a b"
    source = f"{DEMO} :=\n  Nat.add_comm\n    a b"
    path = script(tmp_path, [compiled(source), *checks_after(0, "'demo' does not depend on "
                                                               "any axioms")])
    with repl_for(path) as repl:
        assert audit(DEMO, whole, repl).proved


# --------------------------------------------------------------------------- recorded answers
@pytest.mark.parametrize(("name", "statement", "proof", "reason"), [
    ("self_proof_exact_check", "theorem ex : False", "by exact ex", "fail to show termination"),
    ("self_proof_apply_check", "theorem ex : False", "by apply ex", "fail to show termination"),
    ("self_proof_rw", "theorem self_application : 1 = 0", "by rw [self_application]",
     "fail to show termination"),
    ("app_type_mismatch2", "example : 1 = 0",
     "by\n  cases 1\n  rfl\n  have: true := by\n    apply ?succ\n    trivial",
     "application type mismatch"),
])
def test_recorded_whole_proofs_are_refuted(name: str, statement: str, proof: str,
                                           reason: str) -> None:
    """REAL v4.20 answers: the audit's compile request is byte-for-byte the recorded one."""
    assert recorded(name, DATA_V420)[0][0]["cmd"] == f"{statement} := {proof}"
    with repl_for(transcript(name, DATA_V420)) as repl:
        report = audit(statement, proof, repl)
    assert report.check("compile").status == "failed"
    assert reason in report.check("compile").evidence
    assert report.verdict.kind == "refuted" and not report.proved


@pytest.mark.parametrize(("name", "statement", "tactics", "reason"), [
    ("Mathlib/test/20240209", "example : False", ["simpa using show False by done"],
     "unsolved goals"),
    ("invalid_tactic", "theorem my_theorem (x : Nat) : x = x", ["exact my_fake_premise"],
     "Unknown identifier"),
])
def test_recorded_tactic_paths_with_no_goals_left_are_refuted(
        name: str, statement: str, tactics: list[str], reason: str) -> None:
    """REAL v4.20 answers with ``goals: []``: the audit must still say no."""
    assert recorded(name, DATA_V420)[1][1]["goals"] == []
    with repl_for(transcript(name, DATA_V420)) as repl:
        report = audit(statement, None, repl, tactics=tactics)
    assert report.check("tactic-steps").status == "failed"
    assert reason.lower() in report.check("tactic-steps").evidence.lower()
    assert report.verdict.kind == "refuted"


def test_search_path_then_fresh_whole_proof(tmp_path: Path) -> None:
    """REAL proof_branching answers for the steps, then SYNTHETIC ones for the re-check."""
    statement = "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r"
    tactics = ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]
    real = recorded("proof_branching", DATA_V420)
    assert [r["tactic"] for r, _ in real[1:]] == tactics
    source = render_tactics(statement, tactics)
    tail = checks_after(1, "'complex_and' does not depend on any axioms", name="complex_and",
                        head=statement)
    tail[1][1]["sorries"][0]["proofState"] = 5  # ids continue after the four steps
    path = script(tmp_path, [*real, compiled(source, env=1), *tail])
    with repl_for(path) as repl:
        report = audit(statement, None, repl, tactics=tactics)
    assert report.proved and report.axioms == ()
    assert report.check("tactic-steps").evidence == "4 steps, proofStatus Completed"


# --------------------------------------------------------------------------- finding 9
@pytest.mark.parametrize(("axioms", "policy", "proof", "proved"), [
    ("'demo' depends on axioms: [propext, Classical.choice, Quot.sound]", None, PROOF, True),
    ("'demo' depends on axioms: [propext, sorryAx]", None, PROOF, False),
    ("'demo' depends on axioms: [magic]", None, PROOF, False),
    ("'demo' depends on axioms: [Lean.ofReduceBool]", None, PROOF, False),
    # native axioms only for the proof's OWN native_decide, and only when allowed
    ("'demo' depends on axioms: [Lean.ofReduceBool]", True, PROOF, False),
    ("'demo' depends on axioms: [Lean.ofReduceBool]", True, "by native_decide", True),
    ("'demo' depends on axioms: [demo._native.native_decide.ax_1_1]", True, "by native_decide",
     True),
    ("'demo' depends on axioms: [Lib.x._native.native_decide.ax_1_1]", True,
     "by native_decide", False),
])
def test_axiom_whitelist(tmp_path: Path, axioms: str, policy: bool | None, proof: str,
                         proved: bool) -> None:
    path = script(tmp_path, [compiled(f"{DEMO} := {proof}"), *checks_after(0, axioms)])
    with repl_for(path) as repl:
        report = audit(DEMO, proof, repl, policy=AuditPolicy(allow_native_decide=bool(policy)))
    assert report.proved is proved, report.checks
    if not proved:
        assert report.check("axioms").status == "failed" and report.verdict.kind == "refuted"
    assert ALLOWED_AXIOMS == {"propext", "Classical.choice", "Quot.sound"}


def test_root_qualified_names_under_an_opened_namespace(tmp_path: Path) -> None:
    """Finding 9: with ``open Real`` in the header ``#print axioms pi_gt_three`` is ambiguous
    with ``Real.pi_gt_three``; the audit asks for ``_root_.pi_gt_three`` (the stand-in
    checks the request byte for byte) and reads ``«»`` names."""
    head = "theorem pi_gt_three : 3 < Real.pi"
    proof = "by exact Real.pi_gt_three"
    path = script(tmp_path, [
        ({"cmd": "import Mathlib"}, {"env": 0}),
        ({"cmd": "open Real", "env": 0}, {"env": 1}),
        ({"cmd": f"{head} := {proof}", "env": 1},
         {"messages": [info("Goals accomplished!")], "env": 2}),
        *checks_after(2, "'pi_gt_three' depends on axioms: [propext, Classical.choice, "
                         "Quot.sound]", name="pi_gt_three", head=head, header_env=1)])
    with repl_for(path) as repl:
        report = audit(head, proof, repl, header="import Mathlib\nopen Real")
    assert report.proved, report.checks
    assert parse_axioms(CommandResponse(0)) is None
    names = CommandResponse(0, messages=(Message("info", "'«a b»' depends on axioms: "
                                                          "[«x, y», propext]"),))
    assert parse_axioms(names) == ("«x, y»", "propext")


# --------------------------------------------------------------------------- other checks
def test_missing_constant_fails_the_axiom_check(tmp_path: Path) -> None:
    error = {"severity": "error", "pos": {"line": 1, "column": 14},
             "endPos": {"line": 1, "column": 25}, "data": "unknown constant '_root_.demo'"}
    path = script(tmp_path, [compiled(), ({"cmd": "#print axioms _root_.demo", "env": 0},
                                          {"messages": [error], "env": 1})])
    with repl_for(path) as repl:
        report = audit(DEMO, PROOF, repl)
    assert report.check("axioms").status == "failed" and not report.proved


def test_statement_type_mismatch_is_refuted(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled(), *checks_after(
        0, "'demo' does not depend on any axioms",
        pp_user="demo : ∀ (a b : Nat), @HAdd.hAdd Nat Nat Nat (@instHAdd Nat hostile) a b = _")])
    with repl_for(path) as repl:
        report = audit(DEMO, PROOF, repl)
    assert report.check("statement-type").status == "failed" and not report.proved


def test_sorry_warning_is_caught_at_compile(tmp_path: Path) -> None:
    warning = {"severity": "warning", "pos": {"line": 1, "column": 8},
               "endPos": {"line": 1, "column": 12}, "data": "declaration uses 'sorry'"}
    path = script(tmp_path, [({"cmd": f"{DEMO} := {PROOF}"}, {"messages": [warning],
                                                               "env": 0})])
    with repl_for(path) as repl:
        report = audit(DEMO, PROOF, repl)
    assert report.check("compile").status == "failed" and not report.proved


def test_anonymous_example_cannot_be_verified(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled("example : 2 + 2 = 4 := by decide")])
    with repl_for(path) as repl:
        report = audit("example : 2 + 2 = 4", "by decide", repl)
    assert report.check("compile").status == "passed"
    assert report.verdict.reason == UnknownReason.NOT_FORMALIZED


def test_timeout_and_crash_are_unknown(tmp_path: Path) -> None:
    path = script(tmp_path, [compiled()])
    with repl_for(path, "--hang-at", "0") as repl:
        report = audit(DEMO, PROOF, repl, policy=AuditPolicy(timeout_s=0.5))
    assert report.verdict.reason == UnknownReason.TIMEOUT and not report.proved
    with repl_for(path, "--die-at", "0") as repl:
        report = audit(DEMO, PROOF, repl)
    assert report.verdict.reason == UnknownReason.BACKEND_ERROR and not report.proved


def test_header_pool_lease(tmp_path: Path) -> None:
    header = "import Mathlib"
    path = script(tmp_path, [({"cmd": header}, {"env": 0}),
                             ({"cmd": f"{DEMO} := {PROOF}", "env": 0},
                              {"messages": [info("Goals accomplished!")], "env": 1}),
                             *checks_after(1, "'demo' depends on axioms: [propext]",
                                           header_env=0)])
    config = ReplConfig(command=argv(path), cwd=None, memory_limit_mb=1024)
    with HeaderPool(config, max_processes=1) as pool:
        report = audit(DEMO, PROOF, pool, header=header)
    assert report.proved, report.checks


def test_open_in_inside_a_whole_declaration_is_not_a_command() -> None:
    proof = ("theorem demo (a b : Nat) : a + b = b + a := by\n  open Nat in\n  simp [add_comm]\n"
             "  -- variable names: a, b\n")
    report = audit(DEMO, proof, None)
    assert report.check("lint").status == "passed", report.checks
    assert report.source.endswith("simp [add_comm]")


def test_header_namespace_qualifies_the_constant(tmp_path: Path) -> None:
    """A theorem stated after ``namespace Putnam`` in the header is ``Putnam.demo``."""
    header = "import Mathlib\nnamespace Putnam"
    path = script(tmp_path, [({"cmd": "import Mathlib"}, {"env": 0}),
                             ({"cmd": "namespace Putnam", "env": 0}, {"env": 1}),
                             ({"cmd": f"{DEMO} := {PROOF}", "env": 1},
                              {"messages": [info("Goals accomplished!")], "env": 2}),
                             *checks_after(2, "'Putnam.demo' depends on axioms: [propext]",
                                           name="Putnam.demo", header_env=1)])
    with repl_for(path) as repl:
        report = audit(DEMO, PROOF, repl, header=header)
    assert report.proved, report.checks
    from prover.lean.audit_parse import header_namespace

    assert header_namespace("namespace A\nsection\nnamespace B\nend B\nend") == "A"


def test_proof_given_with_its_walrus() -> None:
    assert audit(DEMO, ":= by omega", None).source == f"{DEMO} := by omega"
    assert audit(DEMO, ":=", None).check("lint").evidence == "empty proof"


def test_submission_imports_must_be_in_the_header() -> None:
    whole = "import Mathlib.Tactic\nimport Aesop\n\ntheorem demo (a b : Nat) : a + b = b + a := by omega"
    assert audit(DEMO, whole, None, header="import Mathlib").check("lint").status == "passed"
    report = audit(DEMO, whole, None, header="import Lean")
    assert report.verdict.kind == "refuted"
    assert "`import Mathlib.Tactic` is not in the task's header" in report.check("lint").evidence
    alone = audit(DEMO, whole, None)  # no header: the submission's imports are the header
    assert alone.header == "import Mathlib.Tactic\nimport Aesop"
    assert "imports are the header" in alone.check("statement").evidence


def test_tactic_path_without_lean_reports_the_steps_unchecked() -> None:
    report = audit(DEMO, None, None, tactics=["omega"])
    steps = report.check("tactic-steps")
    assert (steps.status, steps.required) == ("not-checked", True)
    assert report.source == f"{DEMO} := by omega" and report.verdict.reason == NOT_CHECKED
