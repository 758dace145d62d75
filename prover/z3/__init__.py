"""prover/z3 package."""
