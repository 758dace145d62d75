"""Evaluation of a prover on a benchmark: attempts per theorem on the job runner, pass@k,
per-theorem results, a summary, an offline HTML report, and comparison of two runs."""
