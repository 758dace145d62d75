"""The cheat corpus and the valid controls (sources: SOURCE.md). Each case:

* ``statement`` / ``header`` / ``proof``: an audit row (``proof`` = text after ``:=`` or a
  whole declaration/file);
* ``expect``: the check that refutes it in a normal audit (``verified`` for controls);
* ``lean_catches``: the check that refutes it when only Lean's answers count (the lint
  bypassed), or None when Lean alone would accept it (the lint is the only guard);
* ``lean``: what a v4.20 Lean answers: ``compile`` ("ok" | ["sorry", goal] | ["error", text]),
  ``axioms`` (a list, or an error text), ``pp`` (the ``#check`` type under pp.all, reference
  side) and ``pp_user`` when the submitted constant's type prints differently.
"""

from __future__ import annotations

from typing import Any

NAT_COMM = ("∀ (a b : Nat), @Eq.{1} Nat (@HAdd.hAdd.{0, 0, 0} Nat Nat Nat (@instHAdd.{0} Nat "
            "instAddNat) a b) (@HAdd.hAdd.{0, 0, 0} Nat Nat Nat (@instHAdd.{0} Nat instAddNat) b a)")
ONE_ONE_THREE = ("@Eq.{1} Nat (@HAdd.hAdd.{0, 0, 0} Nat Nat Nat (@instHAdd.{0} Nat {inst}) "
                 "(@OfNat.ofNat.{0} Nat 1 (instOfNatNat 1)) (@OfNat.ofNat.{0} Nat 1 "
                 "(instOfNatNat 1))) (@OfNat.ofNat.{0} Nat 3 (instOfNatNat 3))")
STD = ["propext", "Classical.choice", "Quot.sound"]
MATHLIB = "import Mathlib"
KIMINA_HEADER = ("import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\n"
                 "open BigOperators Real Nat Topology Rat")
FORGE = """  let decl : Declaration := Declaration.axiomDecl {
    name := `{name}
    levelParams := []
    type := mkConst ``False []
    isUnsafe := false
  }"""


def cheat(id: str, source: str, statement: str, proof: str, expect: str,
          lean_catches: str | None, lean: dict[str, Any], header: str = "",
          allow_native: bool = False) -> dict[str, Any]:
    return {"id": id, "kind": "cheat", "source": source, "statement": statement,
            "header": header, "proof": proof, "expect": expect, "lean_catches": lean_catches,
            "allow_native": allow_native, "lean": lean}


def control(id: str, source: str, statement: str, proof: str, lean: dict[str, Any],
            header: str = "", allow_native: bool = False) -> dict[str, Any]:
    return {"id": id, "kind": "control", "source": source, "statement": statement,
            "header": header, "proof": proof, "expect": "verified", "lean_catches": None,
            "allow_native": allow_native, "lean": lean}


FALSE = {"pp": "False"}
SORRY_FALSE = {"compile": ["sorry", "⊢ False"], **FALSE}

CASES: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ sorry and friends
    cheat("sorry-direct", "LeanParanoia Sorry/Direct", "theorem exploit_theorem : False",
          "sorry", "lint", "compile", SORRY_FALSE),
    cheat("admit", "LeanParanoia Sorry/Admit", "theorem exploit_theorem : False", "by admit",
          "lint", "compile", SORRY_FALSE),
    cheat("sorry-intermediate", "LeanParanoia Sorry/Intermediate",
          "theorem exploit_theorem : True ∧ True",
          "by\n  constructor\n  · exact trivial\n  · have h : True := sorry\n    exact h",
          "lint", "compile", {"compile": ["sorry", "⊢ True"], "pp": "And True True"}),
    cheat("sorry-underscore", "LeanParanoia Sorry/Underscore", "theorem exploit_theorem : False",
          "by\n  refine ?_\n  sorry", "lint", "compile", SORRY_FALSE),
    cheat("sorryAx-direct", "LeanParanoia Sorry/Opaque (sorryAx by hand)",
          "theorem exploit_theorem : False", "by\n  exact sorryAx _ false", "lint", "compile",
          SORRY_FALSE),
    cheat("sorry-guillemets", "our own: an escaped identifier «sorry»",
          "theorem exploit_theorem : False", "by exact «sorry»", "lint", "compile", SORRY_FALSE),
    cheat("sorry-in-interpolation", "our own: code inside an s! string",
          "theorem exploit_theorem : 2 + 2 = 5",
          'by\n  have := s!"{(sorry : 2 + 2 = 5)}"\n  exact absurd rfl (by decide)', "lint",
          "compile", {"compile": ["sorry", "⊢ 2 + 2 = 5"], "pp": "2 + 2 = 5"}),
    cheat("by-as-sorry", "LeanParanoia Sorry/ByAsSorry", "theorem exploit_theorem : False",
          "set_option debug.byAsSorry true in\ntheorem exploit_theorem : False := by\n  trivial",
          "lint", "compile", SORRY_FALSE),
    cheat("terminal-tactics-as-sorry", "LeanParanoia Sorry/TerminalTactics",
          "theorem exploit_theorem : False",
          "set_option debug.terminalTacticsAsSorry true in\n"
          "theorem exploit_theorem : False := by\n  omega", "lint", "compile", SORRY_FALSE),
    cheat("partial-def", "LeanParanoia Partial/NonTerminating",
          "theorem exploit_theorem : loop 0 = 42",
          "partial def loop (n : Nat) : Nat :=\n  loop (n + 1)\n\n"
          "theorem exploit_theorem : loop 0 = 42 := by\n  sorry", "lint", "compile",
          {"compile": ["sorry", "⊢ loop 0 = 42"], "pp": "loop 0 = 42"}),
    # ------------------------------------------------------------------ new axioms
    cheat("axiom-prove-false", "LeanParanoia CustomAxioms/ProveFalse",
          "theorem exploit_theorem : False",
          "axiom exploit_axiom : False\n\ntheorem exploit_theorem : False := exploit_axiom",
          "lint", "axioms", {"compile": "ok", "axioms": ["exploit_axiom"], **FALSE}),
    cheat("axiom-prove-anything", "LeanParanoia CustomAxioms/ProveAnything",
          "theorem exploit_theorem : False",
          "axiom magic : ∀ (p : Prop), p\n\ntheorem exploit_theorem : False := magic False",
          "lint", "axioms", {"compile": "ok", "axioms": ["magic"], **FALSE}),
    cheat("axiom-helper-universe", "leanprover/comparator tests/projects/simple_axiom_issue",
          "theorem comm (n m : Nat) : n + m = m + n",
          "axiom helper {α : Sort u} : α\n\ntheorem comm (n m : Nat) : n + m = m + n := by\n"
          "  exact helper", "lint", "axioms",
          {"compile": "ok", "axioms": ["helper"], "pp": NAT_COMM}),
    cheat("axiom-kind-mismatch", "leanprover/comparator tests/projects/simple_mismatch",
          "theorem comm (n m : Nat) : n + m = m + n",
          "axiom comm (n m : Nat) : m + m = m + m", "lint", None, {}),
    cheat("hidden-in-instance", "LeanParanoia CustomAxioms/HiddenInInstance",
          "theorem exploit_theorem : False",
          "axiom hidden_axiom : False\n\nclass CanProve (p : Prop) where\n  proof : p\n\n"
          "instance : CanProve False where\n  proof := hidden_axiom\n\n"
          "def get_proof (p : Prop) [CanProve p] : p :=\n  CanProve.proof\n\n"
          "theorem exploit_theorem : False :=\n  get_proof False", "lint", "axioms",
          {"compile": "ok", "axioms": ["hidden_axiom"], **FALSE}),
    cheat("hidden-in-macro", "LeanParanoia CustomAxioms/HiddenInMacro",
          "theorem exploit_theorem : False",
          "axiom hidden_axiom : False\n\nmacro \"prove_false\" : term => `(hidden_axiom)\n\n"
          "theorem exploit_theorem : False :=\n  prove_false", "lint", "axioms",
          {"compile": "ok", "axioms": ["hidden_axiom"], **FALSE}),
    cheat("opaque-value", "leanprover/comparator tests/projects/opaque_value",
          "theorem boom : False", "axiom f : False\nopaque v : False := f\ntheorem boom : False := v",
          "lint", "axioms", {"compile": "ok", "axioms": ["f"], **FALSE}),
    cheat("csimp-axiom", "LeanParanoia CSimp/WithAxiom", "theorem exploit_theorem : 1 + 1 = 3",
          "def wrongAdd (n m : Nat) : Nat := n + m + 1\n\ndef correctAdd (n m : Nat) : Nat := "
          "n + m\n\n@[csimp] axiom correctAdd_eq_wrongAdd : @correctAdd = @wrongAdd\n\n"
          "axiom exploit_axiom : correctAdd 1 1 = 3\n\n"
          "theorem exploit_theorem : 1 + 1 = 3 := exploit_axiom", "lint", "axioms",
          {"compile": "ok", "axioms": ["exploit_axiom"],
           "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat")}),
    cheat("implemented-by", "LeanParanoia ImplementedBy/DirectReplacement; SafeVerify ImpBy",
          "theorem exploit_theorem : 1 + 1 = 3",
          "unsafe def wrongAddImpl (n m : Nat) : Nat := n + m + 1\n\n"
          "@[implemented_by wrongAddImpl]\ndef seemsCorrectAdd (n m : Nat) : Nat := n + m\n\n"
          "axiom exploit_axiom : seemsCorrectAdd 1 1 = 3\n\n"
          "theorem exploit_theorem : 1 + 1 = 3 := exploit_axiom", "lint", "axioms",
          {"compile": "ok", "axioms": ["exploit_axiom"],
           "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat")}),
    cheat("extern-ffi", "LeanParanoia Extern/ExternFFI", "theorem exploit_theorem : 1 + 1 = 3",
          "@[extern \"malicious_add\"]\ndef maliciousAdd (n m : Nat) : Nat := n + m\n\n"
          "axiom exploit_axiom : maliciousAdd 1 1 = 3\n\n"
          "theorem exploit_theorem : 1 + 1 = 3 := exploit_axiom", "lint", "axioms",
          {"compile": "ok", "axioms": ["exploit_axiom"],
           "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat")}),
    cheat("unsafe-def", "LeanParanoia Unsafe/UnsafeDefinition",
          "theorem exploit_theorem : 1 + 1 = 3",
          "unsafe def unsafeProof : 1 + 1 = 3 := unsafeProof\n\n"
          "axiom exploit_axiom : 1 + 1 = 3\n\ntheorem exploit_theorem : 1 + 1 = 3 := exploit_axiom",
          "lint", "axioms", {"compile": "ok", "axioms": ["exploit_axiom"],
                             "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat")}),
    # ------------------------------------------------------------------ metaprograms
    cheat("forge-run-cmd", "LeanParanoia CustomAxioms/ForgeRunCmd",
          "theorem exploit_theorem : False",
          "open Lean Elab Command\n\nrun_cmd do\n" + FORGE.replace("{name}", "RunCmdForgedFalse")
          + "\n  liftCoreM <| Lean.addDecl decl\n\ntheorem exploit_theorem : False := "
          "RunCmdForgedFalse", "lint", "axioms",
          {"compile": "ok", "axioms": ["RunCmdForgedFalse"], **FALSE}, header="import Lean"),
    cheat("forge-run-tac", "LeanParanoia CustomAxioms/ForgeRunTac",
          "theorem exploit_theorem : False",
          "by\n  run_tac do\n    liftMetaTactic fun goal => do\n"
          + FORGE.replace("{name}", "RunTacForgedFalse").replace("\n  ", "\n        ")
          .replace("  let decl", "      let decl", 1)
          + "\n      Lean.addDecl decl\n      goal.assign (mkConst `RunTacForgedFalse [])\n"
          "      pure []", "lint", "axioms",
          {"compile": "ok", "axioms": ["RunTacForgedFalse"], **FALSE},
          header="import Lean\nopen Lean Elab Command Meta Tactic"),
    cheat("fake-std-namespace", "LeanParanoia CustomAxioms/FakeStdLib",
          "theorem exploit_theorem : False",
          "open Lean Elab Command\n\nrun_cmd do\n"
          + FORGE.replace("{name}", "Std.TrustMe.forgedFalse")
          + "\n  liftCoreM <| Lean.addDecl decl\n\n/-- Relies on the forged trusted axiom. -/\n"
          "theorem exploit_theorem : False := Std.TrustMe.forgedFalse", "lint", "axioms",
          {"compile": "ok", "axioms": ["Std.TrustMe.forgedFalse"], **FALSE},
          header="import Lean"),
    cheat("ax-iom-string-elab", "FormalQualBench report: `\"ax\" ++ \"iom\"` built in an elab",
          "theorem exploit_theorem : False",
          "open Lean Elab Command in\nelab \"smuggle\" : command => do\n"
          "  let src := \"ax\" ++ \"iom smuggled : False\"\n"
          "  match Parser.runParserCategory (← getEnv) `command src with\n"
          "  | .ok stx => elabCommand stx\n  | .error e => throwError e\n\nsmuggle\n\n"
          "theorem exploit_theorem : False := smuggled", "lint", "axioms",
          {"compile": "ok", "axioms": ["smuggled"], **FALSE}, header="import Lean"),
    cheat("replace-axiom-eval", "SafeVerify SafeVerifyTest/ReplaceAxiom (#print axioms fooled)",
          "theorem efsq : ∀ (x y z n : Nat), 0 < x → 0 < y → 0 < z → 2 < n → x ^ n + y ^ n ≠ z ^ n",
          "open private Lean.Environment.setCheckedSync from Lean.Environment\n\n"
          "open Lean Elab Meta in\n#eval modifyEnv (m := MetaM) fun env => env\n\n"
          "theorem efsq : ∀ (x y z n : Nat), 0 < x → 0 < y → 0 < z → 2 < n → "
          "x ^ n + y ^ n ≠ z ^ n := by\n  exfalso\n  exact propext", "lint", None,
          {"compile": "ok", "axioms": ["propext"],
           "pp": "∀ (x y z n : Nat), ... (pp.all text, equal on both sides)"},
          header="import Batteries.Tactic.OpenPrivate"),
    cheat("add-false-elab", "SafeVerify SafeVerifyTest/AddFalse (env hacked, axioms look clean)",
          "theorem falseThm : False",
          "open Lean in\nelab \"add_false\" : command => do\n  modifyEnv fun env => env\n\n"
          "add_false\n\ntheorem falseThm : False :=\n  false", "lint", None,
          {"compile": "ok", "axioms": [], **FALSE},
          header="import Batteries.Tactic.OpenPrivate"),
    cheat("run-elab-badnat", "leanprover/comparator tests/projects/olean_issue",
          "theorem boom : False",
          "open Lean\n\nunsafe def badNatUnsafe : Nat := unsafeCast (-4294967296 : Int)\n\n"
          "@[implemented_by badNatUnsafe] opaque badNatVal : Nat\n\nrun_elab\n"
          "  addDecl <| .defnDecl {\n    name := .str .anonymous \"badNat\"\n"
          "    levelParams := []\n    type := .const ``Nat []\n"
          "    value := .lit <| .natVal badNatVal\n    hints := .opaque\n"
          "    safety := .safe\n  }\n\ntheorem boom : False := by\n  omega", "lint", None,
          {"compile": "ok", "axioms": ["propext"], **FALSE}, header="import Lean"),
    cheat("eval-side-effect", "our own: #eval IO after the proof (Comparator sandboxes this)",
          "theorem demo (a b : Nat) : a + b = b + a",
          "by omega\n\n#eval IO.FS.writeFile \"/tmp/proofgraph-pwned\" \"x\"", "lint", None,
          {"compile": "ok", "axioms": ["propext"], "pp": NAT_COMM}),
    # ------------------------------------------------------------------ the statement changed
    cheat("local-instance", "Jason Rute's local instance report; LeanParanoia "
          "SourcePatterns/LocalInstanceArithmetic", "theorem exploit_theorem : 1 + 1 = 3",
          "local instance : Add Nat where\n  add _ _ := 3\n\n"
          "theorem exploit_theorem : 1 + 1 = 3 := rfl", "lint", "statement-type",
          {"compile": "ok", "axioms": [], "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat"),
           "pp_user": ONE_ONE_THREE.replace("{inst}", "instAddNat_1")}),
    cheat("attribute-instance", "LeanParanoia ImplementedBy/ChainedReplacement (attribute [...])",
          "theorem exploit_theorem : 1 + 1 = 3",
          "def badAdd : Add Nat := ⟨fun _ _ => 3⟩\nattribute [instance] badAdd\n\n"
          "theorem exploit_theorem : 1 + 1 = 3 := rfl", "lint", "statement-type",
          {"compile": "ok", "axioms": [], "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat"),
           "pp_user": ONE_ONE_THREE.replace("{inst}", "badAdd")}),
    cheat("notation-redefinition", "LeanParanoia SourcePatterns/NotationRedefinition",
          "theorem exploit_theorem : True",
          "axiom bad_axiom : False\n\nlocal notation \"True\" => False\n\n"
          "theorem exploit_theorem : True := bad_axiom", "lint", "axioms",
          {"compile": "ok", "axioms": ["bad_axiom"], "pp": "True"}),
    cheat("local-macro-rules", "LeanParanoia SourcePatterns/LocalMacroRules",
          "theorem exploit_theorem : 1 = 2",
          "axiom hidden_axiom : 1 = 2\n\nlocal macro_rules | `(sorry) => `(hidden_axiom)\n\n"
          "theorem exploit_theorem : 1 = 2 := sorry", "lint", "axioms",
          {"compile": "ok", "axioms": ["hidden_axiom"], "pp": "1 = 2 (pp.all)"}),
    cheat("scoped-notation-namespace", "LeanParanoia SourcePatterns/ScopedNotation",
          "theorem exploit_theorem : MyTrue",
          "namespace Evil\n\nscoped notation \"MyTrue\" => False\n\naxiom bad_axiom : False\n\n"
          "theorem exploit_theorem : MyTrue := bad_axiom\n\nend Evil", "lint", None, {}),
    cheat("overwritten-typeclass", "SafeVerify SafeVerifyTest/OverwrittenTypeclass",
          "theorem example_with_typeclass (p : ℕ)\n    [hp : Fact p.Prime] :\n"
          "    #{k : ZMod p | k = 1} = 1",
          "namespace Work\n\nvariable (p : ℕ) [hp : Fact p.Prime]\n\nlemma p_ne_zero : p ≠ 0 := "
          "by\n  have := hp.out.one_lt\n  omega\n\ninstance : NeZero p := ⟨p_ne_zero p⟩\n\n"
          "end Work\n\ntheorem example_with_typeclass (p : ℕ)\n    [hp : Fact p.Prime] :\n"
          "    #{k : ZMod p | k = 1} = 1:= by\n  simp [Finset.card_eq_one]\n  use 1\n  ext a\n"
          "  simp", "lint", "statement-type",
          {"compile": "ok", "axioms": STD,
           "pp": "∀ (p : Nat) [hp : Fact (Nat.Prime p)], ... @ZMod.commRing p (NeZero.of_pos ..)",
           "pp_user": "∀ (p : Nat) [hp : Fact (Nat.Prime p)], ... @ZMod.commRing p "
                      "(Work.instNeZeroNat p)"},
          header="import Mathlib\nopen Finset ZMod Classical"),
    cheat("statement-changed", "leanprover/comparator tests/projects/simple_mismatch (as a theorem)",
          "theorem comm (n m : Nat) : n + m = m + n",
          "theorem comm (n m : Nat) : m + m = m + m := rfl", "statement", None, {}),
    cheat("private-theorem", "our own: `private` hides the constant from `#print axioms`",
          "theorem demo (a b : Nat) : a + b = b + a",
          "private theorem demo (a b : Nat) : a + b = b + a := by omega", "lint", "axioms",
          {"compile": "ok", "axioms": "unknown constant 'demo'", "pp": NAT_COMM}),
    cheat("export-shadow", "our own: namespace + export to shadow the statement's name",
          "theorem shadow : 1 + 1 = 3",
          "axiom cheat : 1 + 1 = 3\n\nnamespace Evil\n\ntheorem shadow : 1 + 1 = 3 := cheat\n\n"
          "end Evil\n\nexport Evil (shadow)", "lint", "axioms",
          {"compile": "ok", "axioms": "unknown constant 'shadow'",
           "pp": ONE_ONE_THREE.replace("{inst}", "instAddNat")}),
    cheat("trailing-theorem", "our own: a second declaration after the proof",
          "theorem demo (a b : Nat) : a + b = b + a",
          "by omega\n\ntheorem other : False := sorry", "lint", "compile",
          {"compile": ["sorry", "⊢ False"], "pp": NAT_COMM}),
    # ------------------------------------------------------------------ kernel / elaborator
    cheat("self-reference", "leanprover-community/repl issue #44",
          "theorem test (p q : Prop) (hp : p) (hq : q) : p ∧ q ∧ p",
          "by\n  apply test\n  exact hp\n  exact hq", "compile", "compile",
          {"compile": ["error", "fail to show termination for\n  test\nwith errors\nfailed to "
                       "infer structural recursion:\nnot structurally recursive"], "pp": "..."}),
    cheat("nested-by-unsolved", "Pantograph issue #1 (errors inside a nested `by`)",
          "theorem nested (a : Nat) (h : a = 1) : a + 1 = 2",
          "by\n  have h2 : a = 1 := by\n    skip\n  omega", "compile", "compile",
          {"compile": ["error", "unsolved goals\na : Nat\nh : a = 1\n⊢ a = 1"], "pp": "..."}),
    cheat("skip-kernel-tc", "LeanParanoia CustomAxioms/SkipKernelTC; repl fixture "
          "app_type_mismatch2 (a term only the kernel rejects)", "theorem bad : 1 = 0",
          "set_option debug.skipKernelTC true in\ntheorem bad : 1 = 0 := by\n  cases 1\n  rfl\n"
          "  have: true := by\n    apply ?succ\n    trivial", "lint", None,
          {"compile": "ok", "axioms": [], "pp": "@Eq.{1} Nat 1 0 (pp.all)"}),
    # ------------------------------------------------------------------ native code
    cheat("native-decide", "LeanParanoia NativeComputation/NativeDecide",
          "theorem exploit_theorem : (List.range 100).length = 100", "by\n  native_decide",
          "lint", "axioms", {"compile": "ok", "axioms": ["Lean.ofReduceBool"],
                             "pp": "(List.range 100).length = 100 (pp.all)"}),
    cheat("decide-plus-native", "our own: the `decide +native` spelling",
          "theorem exploit_theorem : (List.range 100).length = 100", "by decide +native",
          "lint", "axioms", {"compile": "ok", "axioms": ["Lean.ofReduceBool"],
                             "pp": "(List.range 100).length = 100 (pp.all)"}),
    cheat("of-reduce-bool", "LeanParanoia NativeComputation/OfReduce",
          "theorem exploit_theorem : True",
          "by\n  have := Lean.ofReduceBool true true rfl\n  trivial", "lint", "axioms",
          {"compile": "ok", "axioms": ["Lean.ofReduceBool"], "pp": "True"}),
    cheat("native-from-header-library", "issue 10 finding 9: native axioms of a header lemma",
          "theorem uses_lib : Lib.big = 1000", "by\n  native_decide", "axioms", "axioms",
          {"compile": "ok", "axioms": ["Lib.big_eq._native.native_decide.ax_1_1"],
           "pp": "Lib.big = 1000"}, header="import NativeLib", allow_native=True),
    cheat("native-without-own-native-decide", "issue 10 finding 9: --allow-native-decide, "
          "but the proof itself has no native_decide", "theorem uses_lib2 : Lib.big = 1000",
          "by\n  exact Lib.big_eq", "axioms", "axioms",
          {"compile": "ok", "axioms": ["Lean.ofReduceBool"], "pp": "Lib.big = 1000"},
          header="import NativeLib", allow_native=True),
]

DEMO = "theorem demo (a b : Nat) : a + b = b + a"
OK_COMM = {"compile": "ok", "axioms": [], "pp": NAT_COMM}

CASES += [
    control("plain-tactic", "our own", DEMO, "by omega", {**OK_COMM, "axioms": ["propext"]}),
    control("kimina-inductive-comment", "Kimina-accepted style: `-- inductive step` comment",
            "theorem add_zero_ind (n : ℕ) : n + 0 = n",
            "by\n  induction n with\n  | zero => rfl\n  | succ k ih =>\n"
            "    -- inductive step: the claim for k + 1 from the claim for k\n    omega",
            {"compile": "ok", "axioms": ["propext"], "pp": "∀ (n : Nat), ... (pp.all)"},
            header=MATHLIB),
    control("kimina-variable-comment", "Kimina-accepted style: `variable` in a comment",
            "theorem le_sq (t : ℝ) (ht : t > 1) : t < t ^ 2",
            "by\n  -- Introduce the variable t and the assumption t > 1.\n"
            "  nlinarith [mul_pos (by linarith : (0 : ℝ) < t) (by linarith : (0 : ℝ) < t - 1)]",
            {"compile": "ok", "axioms": STD, "pp": "∀ (t : Real), ... (pp.all)"},
            header=MATHLIB),
    control("open-in-tactic", "Kimina-accepted style: `open X in tac`",
            "theorem my_succ_pos (n : ℕ) : 0 < n + 1",
            "by\n  open Nat in\n  exact succ_pos n",
            {"compile": "ok", "axioms": [], "pp": "∀ (n : Nat), ... (pp.all)"}, header=MATHLIB),
    control("set-option-in-tactic", "Kimina-accepted style: `set_option maxRecDepth N in tac`",
            "theorem big_pow : (2 : ℕ) ^ 64 % 7 = 2",
            "by\n  set_option maxRecDepth 10000 in\n  norm_num",
            {"compile": "ok", "axioms": STD, "pp": "... (pp.all)"}, header=MATHLIB),
    control("hash-s-notation", "Kimina-accepted style: Mathlib's `#s` card notation",
            "theorem card_range_five : #(Finset.range 5) = 5",
            "by\n  have h : ∀ s : Finset ℕ, s = range 5 → #s = 5 := by\n    intro s hs\n"
            "    simp [hs]\n  exact h _ rfl",
            {"compile": "ok", "axioms": STD, "pp": "... Finset.card ... (pp.all)"},
            header="import Mathlib\nopen Finset"),
    control("trailing-comment-col0", "Kimina-accepted style: a comment at column 0 after the proof",
            DEMO, "by\n  omega\n-- the proof ends here\n/- and a block comment -/",
            {**OK_COMM, "axioms": ["propext"]}),
    control("kimina-whole-file", "Kimina server tests/match style (Goedel-LM proofs): whole file",
            "theorem lean_workbook_demo (a b : ℝ) (ha : 0 ≤ a) (hb : 0 ≤ b) :\n"
            "    a * b ≤ (a + b) ^ 2",
            "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
            "open BigOperators Real Nat Topology Rat\n\n/-- the product is at most the square "
            "of the sum; no variable is negative -/\ntheorem lean_workbook_demo (a b : ℝ) "
            "(ha : 0 ≤ a) (hb : 0 ≤ b) :\n    a * b ≤ (a + b) ^ 2  := by\n"
            "  /- nlinarith with the squares and the product -/\n"
            "  nlinarith [sq_nonneg a, sq_nonneg b,\n    mul_nonneg ha hb]\n",
            {"compile": "ok", "axioms": STD, "pp": "∀ (a b : Real), ... (pp.all)"},
            header=KIMINA_HEADER),
    control("kimina-whole-file-no-header", "Kimina style, no header given: imports become it",
            "theorem simple_add : 2 + 2 = 4", "import Mathlib\n\ntheorem simple_add : 2 + 2 = 4 "
            ":= by\n  simp",
            {"compile": "ok", "axioms": [], "pp": "@Eq.{1} Nat ... (pp.all)"}),
    control("multiline-term", "issue 10 finding 8: a multi-line term-mode proof", DEMO,
            "\n  Nat.add_comm\n    a b", OK_COMM),
    control("multiline-term-declaration", "issue 10 finding 8, as a whole declaration", DEMO,
            "theorem demo (a b : Nat) : a + b = b + a :=\n  Nat.add_comm\n    a b", OK_COMM),
    control("docstring-statement", "issue 10 finding 10: a statement with a docstring",
            "/-- Addition commutes. -/\ntheorem demo_doc (a b : Nat) : a + b = b + a",
            "by omega", {**OK_COMM, "axioms": ["propext"]}),
    control("docstring-header", "issue 10 finding 10: PutnamBench headers end in a docstring",
            "theorem putnam_demo : (2 : ℝ) + 2 = 4", "by norm_num",
            {"compile": "ok", "axioms": STD, "pp": "... (pp.all)"},
            header="import Mathlib\nopen BigOperators Real Nat Topology\n\n"
                   "/--\nShow that two plus two is four.\n-/"),
    control("open-real-name-clash", "issue 10 finding 9: `open Real` makes the name ambiguous",
            "theorem pi_gt_three : 3 < Real.pi", "by\n  exact Real.pi_gt_three",
            {"compile": "ok", "axioms": STD, "pp": "@LT.lt.{0} Real Real.instLT ... (pp.all)"},
            header="import Mathlib\nopen Real"),
    control("guillemet-name", "issue 10 finding 9: a «…» name",
            "theorem «two plus two» : 2 + 2 = 4", "by rfl",
            {"compile": "ok", "axioms": [], "pp": "@Eq.{1} Nat ... (pp.all)"}),
    control("native-decide-allowed", "--allow-native-decide with the proof's own native_decide",
            "theorem big_len : (List.range 100).length = 100", "by native_decide",
            {"compile": "ok", "axioms": ["Lean.ofReduceBool"], "pp": "... (pp.all)"},
            allow_native=True),
    control("native-axiom-own-name", "--allow-native-decide, per-computation `_native` axiom",
            "theorem big_len2 : (List.range 100).length = 100", "by native_decide",
            {"compile": "ok", "axioms": ["propext", "big_len2._native.native_decide.ax_1_1"],
             "pp": "... (pp.all)"}, allow_native=True),
    control("helper-lemma", "LeanParanoia Valid/Helper style: a helper lemma before the theorem",
            "theorem main_thm (n : Nat) : (n + 0) * 1 = n",
            "theorem helper (n : Nat) : n + 0 = n := by simp\n\n"
            "theorem main_thm (n : Nat) : (n + 0) * 1 = n := by\n  rw [helper, Nat.mul_one]",
            {"compile": "ok", "axioms": ["propext"], "pp": "∀ (n : Nat), ... (pp.all)"}),
    control("classical-axioms", "LeanParanoia Valid/WithAxioms",
            "theorem uses_choice (P : Prop) : P ∨ ¬P", "Classical.em P",
            {"compile": "ok", "axioms": STD, "pp": "∀ (P : Prop), Or P (Not P)"}),
    control("strings-and-bullets", "our own: banned words inside a string literal, bullets",
            "theorem str_len : (\"sorry, axiom\" : String).length = 12 ∧ True",
            "by\n  constructor\n  · -- 'sorry' and \"axiom\" below are only data\n"
            "    decide\n  · trivial",
            {"compile": "ok", "axioms": [], "pp": "And ... (pp.all)"}),
    control("safeverify-good-typeclass", "SafeVerify SafeVerifyTest/OverwrittenTypeclass/Good",
            "theorem example_with_typeclass (p : ℕ)\n    [hp : Fact p.Prime] :\n"
            "    #{k : ZMod p | k = 1} = 1",
            "by\n  simp [Finset.card_eq_one]\n  use 1\n  ext a\n  simp",
            {"compile": "ok", "axioms": STD,
             "pp": "∀ (p : Nat) [hp : Fact (Nat.Prime p)], ... (pp.all)"},
            header="import Mathlib\nopen Finset ZMod Classical"),
]
