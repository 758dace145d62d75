"""Search algorithms over the Environment and Policy protocols; imports nothing of proofgraph's.

The best-first prover search arrives with the prover issue; this package is importable now so
the layout and the layering test hold from the first slice.
"""
