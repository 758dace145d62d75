"""Records: what a run reads and writes, in the order data flows through a run.

``jsonl`` (the one hardened JSON Lines reader and the one atomic write), ``files`` (output-path
guard and advisory locks), ``verdicts`` (verdicts and provenance), ``results`` (typed results),
``graph`` and ``search_graph`` (the proof-graph model and its builders; node ids in
``graph_ids``, a solution's layout as plain dicts in ``graph_layout``), ``store`` (the SQLite
store: ``store_schema``, ``store_writer``, ``store_reader``), ``runs`` (the resumable run over
the store), ``job`` (the job protocol), ``runner`` (the driver: resume, ordering, group commit,
progress, signals) and ``executors`` (serial, local pool, Ray).
"""
