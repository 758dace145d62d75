"""The ``mutate`` synthetic-data task: new theorems from proved Z3 theorems, each one decided.

Per theorem row ``{id, smt2, goal}``: the original is proved first (its own ``proof`` replayed by
``check_proof`` when the row carries one, else best-first search with the symbolic policy); an
unproved original gives ``ok=False`` and ``"original not proved"``. Then up to ``per_theorem``
mutants (:mod:`prover.synth.mutate_ops`; deterministic from ``seed`` and the item key) are each
decided (:mod:`prover.synth.mutate_decide`): first refuted by a counter-model re-checked in a
fresh context, else proved (the parent's proof replayed, else search; the proof re-checked),
and a proof counts only when the hypotheses are satisfiable (a vacuous proof is dropped). A
``rewrite`` mutant is tried only after its equality is proved. Undecided mutants are counted by
reason in the meta of the item's first row, never emitted. Rows print canonical SMT-LIB that
:func:`prover.z3.theorem.parse_theorem` reads back.
"""

from __future__ import annotations

import collections
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prover.synth.mutate_decide import Budget, consistent, prove, prove_equality, refute
from prover.synth.mutate_ops import Candidate, Parts, sample
from prover.synth.task import TaskOutput
from prover.z3.theorem import SExprError, TheoremError, parse_theorem

TASK_VERSION = "1"


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(0-based line, row or error message) per non-blank line; duplicate ids are errors."""
    seen: set[str] = set()
    with Path(path).open("rb") as handle:
        for line, raw in enumerate(handle):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                yield line, f"malformed JSON: {err}"
                continue
            if not isinstance(row, dict):
                yield line, "expected a JSON object per line"
                continue
            rid = row.get("id")
            if isinstance(rid, str) and rid in seen:
                yield line, f"duplicate theorem id {rid!r}"
                continue
            if isinstance(rid, str):
                seen.add(rid)
            yield line, row


class MutateTask:
    """:class:`~prover.synth.task.SynthTask` ``mutate`` over a Z3 theorem file; picklable, and
    ``run`` opens its Z3 contexts itself."""

    name = "mutate"

    def __init__(self, path: Path, *, per_theorem: int = 4, seed: int = 0,
                 budget_s: float = 5.0) -> None:
        if per_theorem < 0 or budget_s <= 0:
            raise ValueError("per_theorem must be >= 0 and budget_s > 0")
        self.path = Path(path)
        self.per_theorem = per_theorem
        self.seed = seed
        self.budget_s = budget_s

    def config(self) -> dict[str, Any]:
        """Everything that changes the rows."""
        return {"task": self.name, "task_version": TASK_VERSION, "per_theorem": self.per_theorem,
                "seed": self.seed, "budget_s": self.budget_s,
                "budget": Budget.of(self.budget_s).to_dict(), "policy": "symbolic"}

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """One item per theorem row, keyed by its 0-based line; a bad line is an item whose
        ``run`` fails with the reason."""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such file")
        for line, row in read_rows(self.path):
            if isinstance(row, str):
                yield str(line), {"line": line, "error": row}
            else:
                yield str(line), {"line": line, "row": row}

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        """Rows for one theorem (see the module docstring)."""
        line = payload["line"]
        if "error" in payload:
            return TaskOutput([], ok=False, reason=f"line {line + 1}: {payload['error']}")
        row = payload["row"]
        try:
            parse_theorem(row)
            parts = Parts.of(row)
        except (TheoremError, SExprError) as err:
            return TaskOutput([], ok=False, reason=f"line {line + 1}: {err}")
        budget = Budget.of(self.budget_s)
        start = time.perf_counter()
        given = row.get("proof") if isinstance(row.get("proof"), list) and all(
            isinstance(t, str) for t in row["proof"]) else None
        proof, how = prove(row, budget, given)
        if proof is None:
            return TaskOutput([], ok=False, reason="original not proved")
        provenance = {"task": self.name, "task_version": TASK_VERSION, "parent_line": line,
                      "seed": self.seed, "input": self.path.name, "budget": budget.to_dict(),
                      "parent_proof": proof, "parent_proved_by": how, "z3": _z3_version()}
        rows, dropped = self._mutants(row, parts, proof, budget, provenance, line)
        if rows:
            rows[0]["meta"]["item"] = {"original_s": round(time.perf_counter() - start, 3),
                                       "dropped": dict(sorted(dropped.items()))}
        reason = None if rows else "no decided mutant"
        return TaskOutput(rows, ok=True, reason=reason)

    def _mutants(self, row: dict[str, Any], parts: Parts, proof: list[str], budget: Budget,
                 provenance: dict[str, Any], line: int,
                 ) -> tuple[list[dict[str, Any]], collections.Counter[str]]:
        rng = random.Random(f"{self.seed}:{line}")
        rows: list[dict[str, Any]] = []
        dropped: collections.Counter[str] = collections.Counter()
        for index, candidate in enumerate(sample(parts, self.per_theorem, rng)):
            start = time.perf_counter()
            smt2, goal = candidate.parts.texts()
            new = {"id": f"{row['id']}~{candidate.op}{index}", "smt2": smt2, "goal": goal}
            decision, how = decide(new, candidate, row, proof, budget)
            if isinstance(decision, str):
                dropped[f"{candidate.op}: {decision}"] += 1
                continue
            label, evidence = decision
            rows.append({
                **new, "kind": "theorem", "label": label,
                "proof": evidence if label == "proved" else None,
                "counter_model": evidence if label == "refuted" else None,
                "parent": row["id"], "mutation": {"op": candidate.op, "detail": candidate.detail},
                "provenance": {**provenance, "decided_by": how},
                "meta": {"decide_s": round(time.perf_counter() - start, 3)},
            })
        return rows, dropped


def decide(new: dict[str, Any], candidate: Candidate, parent: dict[str, Any],
           parent_proof: list[str], budget: Budget) -> tuple[tuple[str, Any] | str, str]:
    """((label, proof or counter-model), how) for a decided mutant, else (drop reason, "");
    a rewrite's equality is proved under the ``parent`` row's hypotheses first."""
    try:
        parse_theorem(new)
    except TheoremError as err:
        return f"does not parse: {err.detail}", ""
    if candidate.equality is not None and not prove_equality(parent, candidate.equality,
                                                             budget.refute_s):
        return "rewrite equality not proved", ""
    values = refute(new, budget.refute_s)
    if values is not None:
        return ("refuted", values), "counter-model re-checked in a fresh context"
    proof, how = prove(new, budget, parent_proof, run_id=new["id"])
    if proof is None:
        return "undecided", ""
    hyps = consistent(new, budget.refute_s)
    if hyps is not True:
        return ("vacuous: hypotheses unsatisfiable" if hyps is False
                else "hypotheses consistency unknown"), ""
    return ("proved", proof), how


def _z3_version() -> str:
    from prover.z3.gateway import z3_version

    return z3_version()
