"""Whole-proof generation with repair (``eval --mode whole``): prompt formats as files
(:mod:`~prover.wholeproof.prompts`, ``formats/*.prompt``), the proof extractor
(:mod:`~prover.wholeproof.extract`), seeded batched sampling
(:mod:`~prover.wholeproof.sampling`), the backends' final checkers
(:mod:`~prover.wholeproof.check`) and the sample-check-repair rounds with their proof graph
(:mod:`~prover.wholeproof.rounds`). The eval job is :mod:`prover.eval.whole_job`."""
