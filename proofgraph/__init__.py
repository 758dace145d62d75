"""proofgraph: formal verification for LLM reasoning (the thin public face).

>>> from proofgraph import check_solution, entail
>>> check_solution("", ["48/2 = 24", "48 + 24 = 70"])["first_error"]
1
>>> entail(["∀x (Cat(x) → Animal(x))", "Cat(tom)"], "Animal(tom)")["answer"]
'True'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"
__all__ = ["check", "check_solution", "entail", "entail_file", "prove", "__version__"]


def check_solution(problem: str, steps: list[str], *, solution_id: str = "0",
                   timeout_ms: int = 2000, rlimit: int = 5_000_000) -> dict[str, Any]:
    """Step-check one CoT solution; returns the result dict (steps, claims, verdicts,
    ``first_error``, provenance) exactly as ``proofgraph check`` writes it."""
    from formalizer.stepcheck import Solution, StepChecker
    from prover.arith.check import Limits

    if not steps or not all(isinstance(s, str) for s in steps):
        raise ValueError("steps must be a non-empty list of strings")
    result, _ = StepChecker(Limits(timeout_ms, rlimit)).check(
        Solution(solution_id, problem, list(steps)))
    return result


def check(path: str | Path, *, out: str | Path | None = None, store: str | Path | None = None,
          html: str | Path | None = None, fmt: str = "auto", timeout_ms: int = 2000,
          rlimit: int = 5_000_000) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Step-check every solution of a file (resumable like the CLI); returns (summary, results)."""
    from proofgraph.jobs import JobOptions, run_check

    opts = JobOptions(out=_path(out), store=_path(store), html=_path(html), fmt=fmt,
                      timeout_ms=timeout_ms, rlimit=rlimit, progress=False)
    return run_check(Path(path), opts)


def entail(premises: list[str], conclusion: str, *, timeout_ms: int = 2000,
           rlimit: int = 5_000_000) -> dict[str, Any]:
    """premises ⊢ conclusion in first-order logic: answer True / False / Uncertain /
    Inconsistent / Unknown with evidence. Raises ValueError on a syntax error."""
    from prover.z3.entail import check_entailment

    return check_entailment(list(premises), conclusion, timeout_ms=timeout_ms,
                            rlimit=rlimit).to_dict()


def entail_file(path: str | Path, *, out: str | Path | None = None,
                store: str | Path | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decide every row of an entailment JSONL file; returns (summary, results)."""
    from proofgraph.jobs import JobOptions, run_entail

    return run_entail(Path(path), JobOptions(out=_path(out), store=_path(store), progress=False))


def prove(theorems: str | Path | list[dict[str, Any]], *, backend: str = "z3",
          policy: str = "symbolic", out: str | Path | None = None,
          store: str | Path | None = None, **search: Any) -> tuple[dict[str, Any],
                                                                   list[dict[str, Any]]]:
    """Prove theorems (a JSONL path or a list of rows) like ``proofgraph prove``; ``search``
    takes SearchConfig fields (batch_size, num_candidates, tactic_timeout_s, wall_timeout_s,
    max_expansions, max_depth, length_normalize, seed). Returns (summary, results)."""
    import json
    import tempfile

    from proofgraph.prove import ProveOptions, run_prove
    from search.best_first import SearchConfig

    opts = ProveOptions(backend=backend, policy=policy, search=SearchConfig(**search),
                        out=_path(out), store=_path(store), progress=False)
    if isinstance(theorems, list):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "theorems.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in theorems),
                            encoding="utf-8")
            return run_prove(path, opts)
    return run_prove(Path(theorems), opts)


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None
