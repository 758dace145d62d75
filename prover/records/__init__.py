"""Records: what a run reads and writes, in the order data flows through a run.

``jsonl`` (the one hardened JSON Lines reader and the one atomic write), ``files`` (output-path
guard and advisory locks), ``runner`` (the one job runner: resume, ordering, group commit,
progress, signals, executors). The proof-graph model, the SQLite store and the resumable run
(today ``prover/graph.py``, ``prover/store.py``, ``prover/runs.py``) belong here too and move
in a later round.
"""
