"""prover/arith package."""
