import Lake
open Lake DSL

/-! proofgraph's Lean 4 side: the Lean REPL and Mathlib, both pinned to the Lean version of
`lean-toolchain` (v4.20.0, the version lean-dojo 4.20.0 supports), plus a few core-Lean
examples.

* REPL: commit `16054ca3…` ("chore: bump toolchain to v4.20.0", branch `bump_to_v4.20.0`).
  The REPL repository has NO `v4.20.0` tag (its tags go v4.19.0 -> v4.21.0-rc3), and its
  master commit for the v4.20 line (`8d02513`) is built with v4.20.1, whose .olean files a
  v4.20.0 toolchain cannot read; so the pin is this exact commit.
* Mathlib: tag `v4.20.0` = commit `c2119485…` (what the REPL's own Mathlib tests use at the
  pinned commit); `lake exe cache get` downloads its prebuilt .olean files.

A Lean `lakefile.lean` rather than `lakefile.toml`, because lean-dojo's `Dojo` appends
`lean_lib Lean4Repl` to `lakefile.lean` when it sets a theorem up. -/

package «proofgraph-examples»

require REPL from git
  "https://github.com/leanprover-community/repl" @ "16054ca34b80803d6621dccd11882ca2ea03e215"

require mathlib from git
  "https://github.com/leanprover-community/mathlib4" @ "c211948581bde9846a99e32d97a03f0d5307c31e"

@[default_target]
lean_lib ProofgraphExamples
