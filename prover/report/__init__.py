"""prover/report package."""
