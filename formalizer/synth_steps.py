"""The ``steps`` synthetic-data task: step-labelled CoT rows from checked solutions and their
symbolic mutants (:mod:`formalizer.mutations`), every label decided by the step checker.

Label policy (:func:`decisive_label`): a solution's label is the index of its first refuted
step, or -1 when no step is refuted, but only when every step before that point is decided
(``verified``, ``verified_approx``, or ``no_claims``: nothing to check). An ``unknown`` step
before the first refutation (or anywhere, when nothing is refuted) makes the row undecided: it
is not emitted and its reason is counted. Mutants are re-checked, never assumed wrong: a value
mutant (number, operator, unit, off-by-one) is kept only when its decided label is the mutated
step, otherwise dropped with the reason counted; a structural mutant (drop or repeat a step) is
labelled by the checker's decided verdict (-1 when a shorter or repeated solution still checks).
Only steps up to the original's first undecided or refuted step are mutated, so a kept value
mutant's first error is exactly the mutated step. The first row of an item carries
``meta.item``: the original's fate, kept mutants per operator and dropped ones by reason.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalizer.inputs import FORMATS, InputError, read_solutions
from formalizer.mutations import VALUE_OPS, Mutation, sample_mutations
from formalizer.stepcheck import (
    BACKEND_NAME,
    FORMALIZER,
    FORMALIZER_VERSION,
    Solution,
    StepChecker,
)
from prover.arith.check import Limits
from prover.synth.task import TaskOutput

TASK_VERSION = "1"
DECIDED = frozenset({"verified", "verified_approx", "no_claims"})


def decisive_label(result: dict[str, Any]) -> tuple[int | None, str | None]:
    """(label, None) when the checker is decisive, else (None, reason); see the module doc."""
    for step in result["steps"]:
        if step["verdict"] == "refuted":
            return step["index"], None
        if step["verdict"] not in DECIDED:
            return None, f"undecided: {step['verdict']} step before any refutation"
    return -1, None


def step_evidence(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step: its verdict and each claim's source, formal form, verdict, unknown reason and,
    for a refuted claim, the counter-values (run-independent fields only: no times)."""
    out = []
    for step in result["steps"]:
        claims = []
        for claim in step["claims"]:
            entry = {"kind": claim["kind"], "source": claim["source"], "formal": claim["formal"],
                     "verdict": claim["verdict"]}
            if claim.get("reason"):
                entry["reason"] = claim["reason"]
            if claim["verdict"] == "refuted":
                entry["evidence"] = claim["evidence"]
            claims.append(entry)
        out.append({"index": step["index"], "verdict": step["verdict"], "claims": claims})
    return out


def _first_undecided(result: dict[str, Any]) -> int:
    """Index of the first step that is refuted or unknown (len(steps) when none)."""
    for step in result["steps"]:
        if step["verdict"] not in DECIDED:
            return int(step["index"])
    return len(result["steps"])


def _drop_reason(mutation: Mutation, result: dict[str, Any], label: int | None,
                 why: str | None) -> str | None:
    """Why a checked mutant is not kept, or None to keep it."""
    if mutation.op not in VALUE_OPS:
        return why
    if label == mutation.step:
        return None
    verdict = result["steps"][mutation.step]["verdict"]
    if verdict == "unknown":
        return "mutated step unknown"
    if verdict in DECIDED:
        return "mutated step not refuted"
    return "first error elsewhere"


@dataclass
class StepsOutcome:
    """The rows of one solution and what happened to each candidate (for meta and summaries)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    original: str = "kept"
    kept: collections.Counter[str] = field(default_factory=collections.Counter)
    dropped: collections.Counter[str] = field(default_factory=collections.Counter)

    def stats(self) -> dict[str, Any]:
        """JSON-ready counts: the original's fate, kept mutants per operator, drops by reason."""
        return {"original": self.original, "kept": dict(sorted(self.kept.items())),
                "dropped": dict(sorted(self.dropped.items()))}


class StepsTask:
    """:class:`~prover.synth.task.SynthTask` ``steps`` over a solutions file (``steps``,
    ``gsm8k`` or ``text`` layout); picklable, and ``run`` opens its checker itself."""

    name = "steps"

    def __init__(self, path: Path, *, mutations_per_solution: int = 4, seed: int = 0,
                 timeout_ms: int = 2000, fmt: str = "auto", rlimit: int = 5_000_000) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        if mutations_per_solution < 0 or timeout_ms < 1 or rlimit < 1:
            raise ValueError("mutations_per_solution must be >= 0, timeout_ms and rlimit >= 1")
        self.path = Path(path)
        self.mutations_per_solution = mutations_per_solution
        self.seed = seed
        self.timeout_ms = timeout_ms
        self.rlimit = rlimit
        self.fmt = fmt

    def config(self) -> dict[str, Any]:
        """Everything that changes the rows."""
        return {"task": self.name, "task_version": TASK_VERSION, "format": self.fmt,
                "mutations_per_solution": self.mutations_per_solution, "seed": self.seed,
                "timeout_ms": self.timeout_ms, "rlimit": self.rlimit,
                "checker": f"{FORMALIZER}/{FORMALIZER_VERSION}"}

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """One item per solution, keyed by its 0-based input line; an unreadable row is an
        item whose ``run`` fails with the reader's message."""
        for item in read_solutions(self.path, self.fmt):
            if isinstance(item, InputError):
                yield str(item.line - 1), {"line": item.line - 1, "id": item.row_id,
                                           "error": item.message}
            else:
                yield str(item.line), {"line": item.line, "id": item.id, "problem": item.problem,
                                       "steps": list(item.steps),
                                       "final_answer": item.final_answer}

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        """Rows for one solution; ``ok=False`` only for an unreadable row. A solution with no
        decided row gives ``ok=True``, no rows, and the original's reason."""
        if "error" in payload:
            return TaskOutput([], ok=False, reason=f"line {payload['line'] + 1}: "
                                                   f"{payload['error']}")
        outcome = self.label(payload)
        reason = None if outcome.rows else f"no decided row ({outcome.original})"
        return TaskOutput(outcome.rows, ok=True, reason=reason)

    # ------------------------------------------------------------------ labelling
    def _provenance(self, payload: dict[str, Any], checker: StepChecker) -> dict[str, Any]:
        from prover.z3.arith import Z3_VERSION

        return {"task": self.name, "task_version": TASK_VERSION, "solution_id": payload["id"],
                "line": payload["line"], "seed": self.seed, "input": self.path.name,
                "checker": {"formalizer": f"{FORMALIZER}/{FORMALIZER_VERSION}",
                            "backend": BACKEND_NAME, "z3": Z3_VERSION,
                            "limits": checker.limits.as_dict()}}

    def label(self, payload: dict[str, Any]) -> StepsOutcome:
        """Check the solution and its mutants; the rows to emit and the counts (see module)."""
        checker = StepChecker(Limits(self.timeout_ms, self.rlimit), run_id=f"synth-{self.name}")
        provenance = self._provenance(payload, checker)
        problem, steps = payload["problem"], list(payload["steps"])
        outcome = StepsOutcome()

        def check(texts: list[str]) -> tuple[dict[str, Any], float]:
            start = time.perf_counter()
            result, _ = checker.check(Solution(str(payload["id"]), problem, texts))
            return result, time.perf_counter() - start

        def row(texts: list[str], label: int, result: dict[str, Any], mutation: Mutation | None,
                index: int | None, seconds: float) -> dict[str, Any]:
            return {"kind": "step_label", "problem": problem, "steps": texts, "label": label,
                    "source": "original" if mutation is None else "mutation",
                    "mutation": None if mutation is None else mutation.record(),
                    "evidence": step_evidence(result),
                    "provenance": {**provenance, "mutant": index},
                    "meta": {"check_s": round(seconds, 6)}}

        result, seconds = check(steps)
        label, why = decisive_label(result)
        if label is None:
            outcome.original = why or "undecided"
        else:
            outcome.rows.append(row(steps, label, result, None, None, seconds))
        rng = random.Random(f"{self.seed}:{payload['line']}")
        allowed = range(min(_first_undecided(result) + 1, len(steps)))
        mutations = sample_mutations(steps, self.mutations_per_solution, rng, allowed)
        for index, mutation in enumerate(mutations):
            texts = list(mutation.steps)
            mutant, seconds = check(texts)
            label, why = decisive_label(mutant)
            drop = _drop_reason(mutation, mutant, label, why)
            if drop is not None or label is None:
                outcome.dropped[f"{mutation.op}: {drop or why}"] += 1
                continue
            outcome.kept[mutation.op] += 1
            outcome.rows.append(row(texts, label, mutant, mutation, index, seconds))
        if outcome.rows:
            outcome.rows[0]["meta"]["item"] = outcome.stats()
        return outcome


def warm_up() -> None:
    """Worker hook (:func:`prover.synth.worker.warm_up`, for a worker started ahead of its
    pool): load what a worker's first item would otherwise load lazily (the checker's units,
    Z3 contexts) by checking a one-step solution. Nothing is kept and no row depends on it."""
    from prover.z3.arith import Z3_VERSION  # noqa: F401  (what `_provenance` imports)

    checker = StepChecker(Limits(2000, 5_000_000), run_id="warm-up")
    checker.check(Solution("warm-up", "Tom has 3 apples and buys 2.",
                           ["He has 3 + 2 = 5 apples.", "#### 5"]))
