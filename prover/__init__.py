"""Verifier backends (Z3 now, Lean later), verdicts with provenance, proof graphs and their store."""
