"""One input row of ``proofgraph audit`` -> one result dict: the pure per-row step a job runner
calls (:func:`audit_row`), and the proof graph + verdict a store records for it.

A row is ``{"id", "statement", "header"?, "proof"}``: ``statement`` the theorem as asked
(``theorem foo (n : Nat) : n + 0 = n``), ``proof`` the text after ``:=`` (``by simp``) or a
whole declaration/file. A malformed row gives ``{"id", "error": ...}``, never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from prover.lean.audit import audit
from prover.lean.audit_lean import Backend
from prover.lean.audit_report import NOT_CHECKED, AuditPolicy
from prover.records import graph as pg
from prover.records.verdicts import Provenance, UnknownReason, Verdict

BACKEND = "lean-audit"
CHECKER_VERSION = "lean-audit/2"
"""Bumped whenever a rule changes what a row's verdict can be (part of the run id)."""


def row_error(row: Mapping[str, Any] | Any, index: int) -> str | None:
    """Why ``row`` is not an audit row (None when it is one)."""
    if not isinstance(row, Mapping):
        return f"row {index}: expected a JSON object, got {type(row).__name__}"
    for key in ("statement", "proof"):
        if not isinstance(row.get(key), str):
            return f"row {row.get('id', index)!r}: '{key}' must be a string"
    if not isinstance(row.get("header", ""), str):
        return f"row {row.get('id', index)!r}: 'header' must be a string"
    return None


def audit_row(row: Mapping[str, Any], repl: Backend | None, *, index: int = 0,
              policy: AuditPolicy | None = None,
              unavailable: UnknownReason = NOT_CHECKED) -> dict[str, Any]:
    """Audit one row; returns ``{"id", "verdict", "reason"?, "detail", "checks", "axioms",
    "form", "header", "source", "wall_s"}`` (or ``{"id", "error"}`` for a malformed row).
    ``repl`` None runs the text checks only."""
    row_id = str(row.get("id", index)) if isinstance(row, Mapping) else str(index)
    problem = row_error(row, index)
    if problem is not None:
        return {"id": row_id, "error": problem}
    start = time.perf_counter()
    report = audit(row["statement"], row["proof"], repl, header=row.get("header", ""),
                   policy=policy, unavailable=unavailable)
    out: dict[str, Any] = {"id": row_id, **report.to_dict()}
    verdict = out.pop("verdict")
    out["verdict"] = verdict["verdict"]
    if "reason" in verdict:
        out["reason"] = verdict["reason"]
    out["detail"] = verdict.get("detail", "")
    out["wall_s"] = round(time.perf_counter() - start, 3)
    return out


def verdict_of(result: Mapping[str, Any]) -> Verdict:
    """The :class:`Verdict` recorded in an :func:`audit_row` result."""
    reason = result.get("reason")
    return Verdict(result["verdict"], reason=UnknownReason(reason) if reason else None,
                   detail=str(result.get("detail", "")))


def result_graph(result: Mapping[str, Any], statement: str, run_id: str,
                 limits: dict[str, Any]) -> tuple[Any, str | None, list]:
    """A one-node proof graph (the statement) carrying the row's verdict, for the store."""
    if result.get("error"):
        return None, None, []
    prov = Provenance(run_id=run_id, backend=BACKEND, backend_version=CHECKER_VERSION,
                      limits=limits, formalizer="none", formalizer_version="",
                      wall_time_s=float(result.get("wall_s", 0.0)))
    graph, node = pg.claim_graph(statement, BACKEND, form=result.get("form", ""))
    return graph, node, [(node, verdict_of(result), prov)]
