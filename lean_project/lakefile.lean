import Lake
open Lake DSL

/-! proofgraph's Lean 4 side: core-Lean examples (no Mathlib) and the Lean REPL, pinned to the
Lean version of `lean-toolchain` (v4.20.0, the version lean-dojo 4.20.0 supports). A Lean
`lakefile.lean` rather than `lakefile.toml`, because lean-dojo's `Dojo` appends
`lean_lib Lean4Repl` to `lakefile.lean` when it sets a theorem up. -/

-- core Lean only (no Mathlib), so `lake build` takes seconds
package «proofgraph-examples»

require REPL from git
  "https://github.com/leanprover-community/repl" @ "v4.20.0"

@[default_target]
lean_lib ProofgraphExamples
