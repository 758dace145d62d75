"""Solver queries in the killable worker of :mod:`prover.z3.isolate`: the query travels as
SMT-LIB text, the worker reads it in a fresh context, and its answer (status, unsat core names,
bounded values, the Z3 resource units used) comes back as JSON.

:func:`solve_isolated` is :func:`prover.z3.gateway.solve` for a query Z3 may not interrupt;
:func:`serve_solve` is the worker's side. Answers that a new call would give again (the same
text, read in a fresh context, takes the same path in Z3) are remembered in the calling process,
so a repeated query costs no round trip and is charged what it counted the first time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import z3

from prover.records.verdicts import UnknownReason
from prover.z3 import isolate
from prover.z3.contexts import fresh_context
from prover.z3.gateway import Limits, SatResult, classify_unknown, new_solver, run_check
from prover.z3.terms import uninterpreted_symbols

_LOCK = threading.Lock()


def smt2_text(formulas: Sequence[z3.BoolRef], ctx: z3.Context) -> str:
    """SMT-LIB text (declarations and asserts) of ``formulas``, printed without asserting them
    into a solver: asserting may simplify in this process (a product of four sums of square
    roots, omnimath-979, ran for minutes inside ``Solver.add`` and ignored interrupts)."""
    asts = (z3.Ast * len(formulas))(*(f.as_ast() for f in formulas))
    text = z3.Z3_benchmark_to_smtlib_string(ctx.ref(), "proofgraph isolate", "", "unknown", "",
                                            len(formulas), asts, z3.BoolVal(True, ctx).as_ast())
    body, sep, tail = text.rpartition("(check-sat)")  # the closing command only: a quoted
    return body + tail if sep else text  # symbol may hold the same letters


def solve_isolated(assertions: Sequence[z3.BoolRef], tracked: Sequence[tuple[str, z3.BoolRef]],
                   evaluate: Sequence[z3.ExprRef], ctx: z3.Context, limits: Limits,
                   options: dict[str, Any]) -> SatResult:
    """:func:`prover.z3.gateway.solve` in a worker: the query travels as SMT-LIB text; the
    answer carries the Z3 resource units the worker's check used (``rlimit_used``)."""
    formulas = list(assertions)
    formulas.extend(z3.Implies(z3.Bool(tag, ctx), expr) for tag, expr in tracked)
    names = []
    taken = uninterpreted_symbols(formulas).keys() if evaluate else set()
    for i, term in enumerate(evaluate):
        name = f"eval!{i}"
        while name in taken:  # never one of the query's own constants
            name += "!"
        formulas.append(z3.Const(name, term.sort()) == term)
        names.append(name)
    payload = {"smt2": smt2_text(formulas, ctx), "n": len(formulas),
               "assume": [tag for tag, _ in tracked], "eval": names,
               "timeout_ms": limits.timeout_ms, "rlimit": limits.rlimit, "wall_s": limits.wall,
               "cpu_s": limits.cpu_s, "options": options}
    key = _answer_key(payload, limits.memory_mb)
    answer = _remembered(key, limits.rlimit)
    if answer is not None:
        elapsed = 0.0
    else:
        answer, elapsed = isolate.call(
            "solve", payload, limits.wall + 0.5, limits.memory_mb,
            cpu_s=None if limits.cpu_s is None else limits.cpu_s + 0.25)
        _remember(key, answer)
    if answer is None:
        return SatResult("unknown", reason=classify_unknown("killed at the wall deadline",
                                                            elapsed, limits, interrupted=True),
                         elapsed=elapsed, raw_reason="killed at the wall deadline",
                         isolated=True)
    if "error" in answer:
        return SatResult("unknown", reason=UnknownReason.BACKEND_ERROR, elapsed=elapsed,
                         raw_reason=str(answer["error"]), isolated=True)
    reason = UnknownReason(answer["reason"]) if answer.get("reason") else None
    return SatResult(answer["status"], core=tuple(answer.get("core", ())), reason=reason,
                     elapsed=elapsed, raw_reason=answer.get("raw_reason", ""),
                     values=tuple(answer.get("values", ())), isolated=True,
                     rlimit_used=int(answer.get("rlimit_used", 0)))


_ANSWERS: dict[str, dict[str, Any]] = {}
_ANSWERS_SIZE = 2048
_ANSWER_KEY_CHARS = 200_000


def _answer_key(payload: dict[str, Any], memory_mb: int) -> str | None:
    """What a worker's answer depends on besides the time and unit limits: the query text, the
    assumption and evaluation names, the solver options and the worker's memory cap (None for
    a huge or unprintable query)."""
    if len(payload["smt2"]) > _ANSWER_KEY_CHARS:
        return None
    try:
        return json.dumps([payload["smt2"], payload["assume"], payload["eval"],
                           payload["options"], memory_mb], sort_keys=True)
    except (TypeError, ValueError):
        return None


def _remembered(key: str | None, rlimit: int) -> dict[str, Any] | None:
    """The worker's earlier answer to the same query, when a new call would give it again: the
    worker reads the query in a fresh context each time, so Z3 takes the same path and counts
    the same units; reused only when these limits allow that many units (0: no limit). The
    caller's context is untouched either way (its terms are printed in both cases)."""
    if key is None:
        return None
    with _LOCK:
        answer = _ANSWERS.get(key)
    if answer is None or (rlimit and int(answer.get("rlimit_used", 0)) >= rlimit):
        return None
    return answer


def _remember(key: str | None, answer: dict[str, Any] | None) -> None:
    """Keep a decided answer (sat, unsat, or Z3's own incompleteness), never a limit's or an
    error's: those depend on the limits and the machine."""
    if key is None or answer is None or "error" in answer:
        return
    if answer.get("status") == "unknown" and answer.get("reason") != UnknownReason.UNDECIDABLE:
        return
    with _LOCK:
        if len(_ANSWERS) >= _ANSWERS_SIZE:
            _ANSWERS.clear()
        _ANSWERS[key] = answer


def serve_solve(payload: dict[str, Any]) -> dict[str, Any]:
    """Worker side of :func:`solve_isolated` (a fresh context per request)."""
    ctx = fresh_context()
    assertions = list(z3.parse_smt2_string(payload["smt2"], ctx=ctx))
    if len(assertions) != payload.get("n", len(assertions)):  # the text must say what was sent
        raise ValueError(f"the worker read {len(assertions)} assertions of {payload['n']} sent")
    consts = uninterpreted_symbols(assertions, consts_only=True)
    assume = [consts[name] for name in payload["assume"] if name in consts]
    evaluate = [consts[name] for name in payload["eval"] if name in consts]
    limits = Limits(payload["timeout_ms"], payload["rlimit"], wall_s=payload["wall_s"],
                    cpu_s=payload.get("cpu_s"))
    result = _solve_assuming(assertions, assume, evaluate, ctx, limits,
                             payload.get("options", {}))
    return {"status": result.status, "core": list(result.core),
            "reason": result.reason.value if result.reason else None,
            "raw_reason": result.raw_reason, "values": list(result.values),
            "rlimit_used": result.rlimit_used}


def _solve_assuming(assertions: list[z3.BoolRef], assume: list[z3.ExprRef],
                    evaluate: list[z3.ExprRef], ctx: z3.Context, limits: Limits,
                    options: dict[str, Any]) -> SatResult:
    start = time.perf_counter()
    solver = new_solver(ctx, limits, options)
    solver.add(*assertions)
    return run_check(solver, ctx, limits, start, assume=assume, evaluate=evaluate,
                     want_model=False)
