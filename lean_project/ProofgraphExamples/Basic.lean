/-!
# Core-Lean examples for proofgraph

Small theorems with short proofs (`rfl`, `decide`, `omega`, `simp`, `intro`/`exact`,
`constructor`, `induction`), no Mathlib. `tests/test_lean_live.py` re-proves every statement
below from scratch through the Lean REPL (and, when the project is traced, through lean-dojo's
`Dojo`), so keep one `theorem` per statement line block and end each statement with `:= by`.
-/

namespace ProofgraphExamples

theorem add_zero' (n : Nat) : n + 0 = n := by
  rfl

theorem two_add_two : 2 + 2 = 4 := by
  decide

theorem add_comm' (a b : Nat) : a + b = b + a := by
  omega

theorem lt_succ_self' (n : Nat) : n < n + 1 := by
  omega

theorem mul_two' (n : Nat) : n * 2 = n + n := by
  omega

theorem zero_add' (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ n ih => omega

theorem length_append' (xs ys : List Nat) :
    (xs ++ ys).length = xs.length + ys.length := by
  simp

theorem and_swap' (p q : Prop) (h : p ∧ q) : q ∧ p := by
  constructor
  · exact h.2
  · exact h.1

theorem imp_trans' (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := by
  intro hp
  exact hqr (hpq hp)

end ProofgraphExamples
