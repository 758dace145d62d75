"""The Lean lexer and the token lint (issue 10, finding 7): comments and literals never reach
the rules, and commands are judged by where they stand, not by substrings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.lean.audit import lint_body
from prover.lean.audit_report import AuditPolicy
from prover.lean.lint import (
    LexError,
    hash_command,
    lint_tokens,
    segments,
    strip_comments,
    tokenize,
    uses_native,
)


def texts(source: str) -> list[str]:
    return [t.text for t in tokenize(source)]


# --------------------------------------------------------------------------- lexer
def test_comments_are_dropped_nested_and_doc() -> None:
    source = ("a -- sorry here\n/- outer /- inner sorry -/ still comment -/ b\n"
              "/-- doc: axiom -/ c /-! module: #eval -/ d")
    assert texts(source) == ["a", "b", "c", "d"]


def test_strings_chars_and_interpolation() -> None:
    assert texts('f "sorry \\" axiom" x') == ["f", "", "x"]
    assert texts("f 'a' '\\'' h' x'") == ["f", "", "", "h'", "x'"]
    assert texts('r#"raw "sorry" string"# y') == ["", "y"]
    # code inside an interpolated string is code
    assert "sorry" in texts('s!"value {(sorry : Nat)} here"')


def test_identifiers() -> None:
    assert texts("Nat.add_comm «my thm».x h₁ ℝ exact? α.β") == [
        "Nat.add_comm", "my thm.x", "h₁", "ℝ", "exact?", "α.β"]
    tok = tokenize("  foo\n    bar")[1]
    assert (tok.line, tok.col) == (2, 4)


def test_lex_errors() -> None:
    for bad in ("/- never closed", '"never closed', "«never closed"):
        with pytest.raises(LexError):
            tokenize(bad)


def test_strip_comments_keeps_positions() -> None:
    source = "a -- c\n/- x\n -/ b"
    stripped = strip_comments(source)
    assert len(stripped) == len(source) and stripped.split() == ["a", "b"]
    assert stripped.count("\n") == source.count("\n")


# --------------------------------------------------------------------------- positions
def test_hash_commands_versus_card_notation() -> None:
    tokens = tokenize("have : #s = 3 := h\n#eval 1\n  #print axioms x\n#foo")
    found = [hash_command(tokens, i) for i, t in enumerate(tokens) if t.text == "#"]
    assert found == [None, "#eval", "#print", "#foo"]  # #foo at column 0 is a command


def test_segments_split_a_file_by_command() -> None:
    source = ("import Mathlib\nset_option maxHeartbeats 400000\nopen Real\n"
              "set_option maxRecDepth 100 in\n@[simp] theorem a : 1 = 1 := by\n"
              "  open Nat in simp\ntheorem b : 2 = 2 := rfl")
    assert [s.keyword for s in segments(tokenize(source))] == [
        "import", "set_option", "open", "theorem", "theorem"]


# --------------------------------------------------------------------------- the lint
ACCEPT = [
    "by\n  induction n with\n  | zero => rfl\n  | succ k ih =>\n    -- inductive step\n    omega",
    "by\n  -- Introduce the variable t and the hypothesis\n  intro t\n  exact t",
    "by\n  open Nat in\n  exact succ_pos n",
    "by\n  set_option maxRecDepth 10000 in\n  norm_num",
    "by\n  have h : ∀ s : Finset ℕ, s = range 5 → #s = 5 := by simp\n  exact h _ rfl",
    "by simp [show #{k : ZMod p | k = 1} = 1 from h]",
    "by\n  omega\n-- the end, at column 0\n/- and a block comment -/",
    'by\n  have : ("sorry, axiom, #eval" : String).length = 19 := by decide\n  trivial',
    "by\n  constructor\n  · exact h.2\n  · exact h.1",
    "Nat.add_comm\n    a b",
    "fun n => by simp [Nat.add_def, h.def]",
    "by exact?",
    "by\n  simp (config := {decide := true})",
    "⟨1, by norm_num⟩",
    "by\n  rw [Finset.sum_range_succ]\n  calc _ = _ := by ring\n    _ = _ := by ring",
]


@pytest.mark.parametrize("body", ACCEPT)
def test_lint_accepts(body: str) -> None:
    assert lint_body(body) == []


REJECT = [
    ("sorry", "sorry"), ("by admit", "admit"), ("by exact «sorry»", "sorry"),
    ("by exact sorryAx _ false", "sorryAx"), ("by native_decide", "native"),
    ("by decide +native", "native"), ("by decide (config := {native := true})", "native"),
    ("by\n  trivial\n#eval IO.println 1", "#eval"), ("by trivial\n  #print axioms x", "#print"),
    ("by trivial\n#exit", "#exit"), ("by\n  run_tac pure ()", "run_tac"),
    ("by_elab pure ()", "by_elab"), ("by trivial\ntheorem t : False := rfl", "theorem"),
    ("by trivial\naxiom magic : False", "axiom"), ("by trivial\nopen Foo", "open"),
    ("by\n  set_option debug.skipKernelTC true in\n  rfl", "debug.skipKernelTC"),
    ("by trivial\nset_option maxHeartbeats 0", "set_option"),
    ("by trivial\nattribute [simp] foo", "attribute"),
    ("by trivial\nlocal instance : Add Nat := ⟨fun _ _ => 3⟩", "local"),
    ("by trivial\nmacro \"x\" : tactic => `(tactic| rfl)", "macro"),
    ("by trivial\nelab \"x\" : tactic => pure ()", "elab"),
    ("by exact Lean.ofReduceBool _ _ rfl", "ofReduceBool"),
    ("by trivial\n@[implemented_by f] def g := 1", "implemented_by"),
    ("by trivial\nunsafe def x := 1", "unsafe"), ("by trivial\nnamespace Foo", "namespace"),
    ("by\n  open private foo from Bar in\n  trivial", "open private"),
    ("by exact modifyEnv", "modifyEnv"), ("by trivial\nimport Mathlib", "import"),
    ("/- never closed", "cannot read"), ("", "empty"),
]


@pytest.mark.parametrize(("body", "why"), REJECT)
def test_lint_rejects(body: str, why: str) -> None:
    problems = lint_body(body)
    assert problems and why in " ".join(problems), problems


def test_native_decide_is_a_policy_flag() -> None:
    allow = AuditPolicy(allow_native_decide=True)
    for body in ("by native_decide", "by decide +native"):
        assert lint_body(body, allow) == []
        assert uses_native(tokenize(body))
    assert not uses_native(tokenize("by decide -native"))
    assert lint_body("by exact Lean.ofReduceBool _ _ rfl", allow)  # never written by hand


def test_commands_allowed_only_skips_the_position_rule() -> None:
    tokens = tokenize("theorem helper : True := trivial\nopen Real")
    assert lint_tokens(tokens, commands_allowed=True) == []
    assert lint_tokens(tokenize("axiom a : False"), commands_allowed=True)


def test_attribute_names_are_banned_only_as_attributes() -> None:
    assert lint_body("fun init extern => init + extern") == []
    helper = tokenize("@[csimp] theorem t : f = g := rfl\nattribute [init] foo")
    problems = " ".join(lint_tokens(helper, commands_allowed=True))
    assert "@[csimp]" in problems and "@[init]" in problems
    assert lint_tokens(tokenize("@[simp] theorem t : 1 = 1 := rfl"), commands_allowed=True) == []


def test_unknown_commands_before_the_declaration_are_refused() -> None:
    from prover.lean.audit import audit

    stmt = "theorem t : True"
    sneaky = "open Real\nnotation4 \"True\" => False\n\ntheorem t : True := trivial"
    report = audit(stmt, sneaky, None)
    assert "unknown command `notation4`" in report.check("lint").evidence
    known = audit(stmt, "open Real\nnotation3 \"True\" => False\ntheorem t : True := trivial",
                  None)
    assert "notation3" in known.check("lint").evidence
    helper = audit(stmt, "@[instance] theorem h : Fact True := ⟨trivial⟩\n"
                         "theorem t : True := trivial", None)
    assert "@[instance]" in helper.check("lint").evidence


ALPHABET = "ab_ .:=()[]{}⟨⟩«»\"'\\-/!#@$\n \tℕαλ0123sorry"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_lexer_never_crashes_and_tokens_stay_in_order(text: str) -> None:
    try:
        tokens = tokenize(text)
    except LexError:
        return
    last = 0
    for tok in tokens:
        assert last <= tok.start <= tok.end <= len(text)
        last = tok.end
    lint_tokens(tokens)  # never raises
    segments(tokens)


def test_audit_turns_an_internal_error_into_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from prover.records.verdicts import UnknownReason

    audit_module = importlib.import_module("prover.lean.audit")  # the package exports a function

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(audit_module, "read_submission", broken)
    report = audit_module.audit("theorem t : True", "by trivial", None)
    assert report.verdict.reason == UnknownReason.BACKEND_ERROR
    assert "boom" in report.check("statement").evidence
