"""prover/fol package."""
