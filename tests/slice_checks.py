"""Shared by the tests that check real ProcessBench text: load a slices file from tests/data
and step-check steps with a generous solver budget (5 Z3-seconds, so load never decides)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formalizer.stepcheck import Solution, StepChecker


def load_slices(filename: str) -> dict[str, Any]:
    """The slices of ``tests/data/<filename>`` by name."""
    return json.loads((Path(__file__).parent / "data" / filename).read_text(encoding="utf-8"))


def run(*steps: str, problem: str = "", solution_id: str = "t") -> dict[str, Any]:
    """The step checker's result for one solution (default limits, a 5 s solver budget)."""
    result, _ = StepChecker(solver_budget_s=5.0).check(Solution(solution_id, problem, list(steps)))
    return result


def claim_verdicts(steps: list[str], problem: str = "",
                   field: str = "source") -> list[tuple[str, str | None]]:
    """(``field`` of the claim: ``source`` or ``formal``, verdict kind) of every claim of every
    step of one solution, through :func:`run`."""
    result = run(*steps, problem=problem)
    return [(c[field], c["verdict"]) for step in result["steps"] for c in step["claims"]]


def refuted_claims(steps: list[str], problem: str = "", field: str = "source") -> list[str]:
    """``field`` of every refuted claim of one solution (:func:`claim_verdicts`)."""
    return [text for text, kind in claim_verdicts(steps, problem, field) if kind == "refuted"]
