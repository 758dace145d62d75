"""Autoformalization: NL statements -> ranked Lean 4 / Z3 / FOL formalizations with checks,
equivalence clusters, faithfulness flags and provenance (:func:`formalize`)."""

from formalizer.autoformalize.llm import Sampler, make_sampler
from formalizer.autoformalize.pipeline import (
    FormalizeConfig,
    FormalizeItem,
    FormalizeResult,
    formalize,
)

__all__ = ["FormalizeConfig", "FormalizeItem", "FormalizeResult", "Sampler", "formalize",
           "make_sampler"]
