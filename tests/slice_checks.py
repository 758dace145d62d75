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
