"""The one door to Z3: limits, a guarded ``solve``, one reading of ``unknown``.

Every solver setup in the project goes through :func:`solve` (and every Z3 tactic through the
worker of :mod:`prover.z3.isolate`), under one :class:`Limits`:

- ``timeout_ms`` and ``rlimit`` are handed to Z3;
- ``wall_s`` is a hard wall-clock guard: in process a :class:`Watchdog` thread interrupts the
  context at the deadline; a query Z3 is known not to interrupt (see :func:`needs_isolation`:
  powers with a non-numeral exponent) runs in a worker process that
  is killed at the deadline, so it cannot outlive it either;
- ``memory_mb`` caps Z3's memory: the global ``memory_max_size`` parameter in this process
  (:func:`configure_memory`, set at import) and ``RLIMIT_AS`` plus the same parameter in workers.

Inside a :func:`prover.z3.meter.metered` scope every call is also capped by the scope's
:class:`~prover.z3.meter.Meter` (its ``rlimit`` at most the units left, its wall at most the
scope's deadline) and charged the Z3 resource units it used (``rlimit_used``, read from Z3's
counter here or reported by the worker): a budget that does not depend on the machine's load.

``unknown`` is classified once, by :func:`classify_unknown`: a deadline or an interrupt is
``timeout``; running out of rlimit or memory before the deadline is ``budget``; Z3 giving up
for a reason of its own (incompleteness) is ``undecidable-fragment``; an exception is
``backend-error``.

What a query's terms are (bounded model values, the isolation rule) is read in
:mod:`prover.z3.terms`; its public names are re-exported here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from prover.records.verdicts import UnknownReason
from prover.z3 import contexts
from prover.z3 import meter as _meter
from prover.z3.terms import (
    MAX_SAFE_EXPONENT,
    MAX_SHOWN_DIGITS,
    model_value,
    needs_isolation,
    safe_exponent,
    uninterpreted_symbols,
)
from prover.z3.watchdog import Watchdog

__all__ = ["DEFAULT_MEMORY_MB", "MAX_SAFE_EXPONENT", "MAX_SHOWN_DIGITS", "Limits", "SatResult",
           "Watchdog", "allow_concurrent_dec_ref", "classify_unknown", "configure_memory",
           "error_text", "is_limit_text", "model_value", "needs_isolation", "new_solver",
           "run_check", "safe_exponent", "solve", "z3_version"]

DEFAULT_MEMORY_MB = int(os.environ.get("PROOFGRAPH_Z3_MEMORY_MB", "2048"))
RLIMIT_PER_SECOND = 50_000_000
"""rlimit units per second of budget: about twice what Z3 5.4 counted per second of an unrolling
check on the development machine (27M/s), so the wall-clock timeout normally binds first and the
rlimit is the machine-independent backstop."""
IN_WORKER = False
"""True inside a worker of :mod:`prover.z3.isolate` (which is itself the kill path: no nesting)."""


def z3_version() -> str:
    """The Z3 library version string, e.g. ``4.13.0``."""
    return str(z3.get_version_string())


def allow_concurrent_dec_ref(ctx: z3.Context) -> None:
    """Let terms of ``ctx`` be released (reference counts decremented) from any thread."""
    z3.Z3_enable_concurrent_dec_ref(ctx.ref())


def configure_memory(memory_mb: int) -> None:
    """Cap Z3's memory in this process (global ``memory_max_size``, in megabytes)."""
    z3.set_param("memory_max_size", int(memory_mb))
    contexts.set_memory_cap(memory_mb)


configure_memory(DEFAULT_MEMORY_MB)


@dataclass(frozen=True)
class Limits:
    """The budget of one Z3 call; all of it is recorded in provenance.

    ``wall_s`` is the hard deadline (default: the timeout plus half, plus 0.25 s of grace);
    ``cpu_s`` (optional) stops the call once its thread used that much CPU (load-independent).
    """

    timeout_ms: int = 2000
    rlimit: int = 5_000_000
    memory_mb: int = DEFAULT_MEMORY_MB
    wall_s: float | None = None
    cpu_s: float | None = None

    def __post_init__(self) -> None:
        if self.timeout_ms < 1 or self.rlimit < 0 or self.memory_mb < 16:
            raise ValueError(f"bad Z3 limits: {self}")

    @property
    def wall(self) -> float:
        """The hard wall-clock deadline of one call, in seconds."""
        return self.wall_s if self.wall_s is not None else 1.5 * self.timeout_ms / 1000 + 0.25

    @classmethod
    def of(cls, budget_s: float, rlimit_per_s: int = RLIMIT_PER_SECOND) -> Limits:
        """Limits for a budget in seconds (timeout = budget, rlimit proportional)."""
        budget_s = max(budget_s, 0.001)
        return cls(max(1, int(budget_s * 1000)), max(1, int(budget_s * rlimit_per_s)),
                   wall_s=1.5 * budget_s + 0.1)

    def part(self, fraction: float) -> Limits:
        """A share of these limits (for a phase of a larger call)."""
        return Limits(max(1, int(self.timeout_ms * fraction)), max(1, int(self.rlimit * fraction)),
                      self.memory_mb, self.wall * fraction)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON for provenance."""
        return {"timeout_ms": self.timeout_ms, "rlimit": self.rlimit,
                "memory_mb": self.memory_mb, "wall_s": round(self.wall, 3)}


@dataclass(frozen=True)
class SatResult:
    """The outcome of :func:`solve`.

    ``status`` is ``sat``/``unsat``/``unknown``; ``model`` the Z3 model (in-process sat only);
    ``values`` the bounded text of each ``evaluate`` term in the model (sat only, both paths);
    ``core`` the names of the tracked assertions in the unsat core; ``reason`` the typed reason
    of an unknown and ``raw_reason`` Z3's own words; ``elapsed`` wall seconds; ``rlimit_used``
    the Z3 resource units the check used (0 when it never ran).
    """

    status: str
    model: Any = None
    core: tuple[str, ...] = ()
    reason: UnknownReason | None = None
    elapsed: float = 0.0
    raw_reason: str = ""
    values: tuple[str, ...] = ()
    isolated: bool = False
    rlimit_used: int = 0

    @property
    def sat(self) -> bool:
        return self.status == "sat"

    @property
    def unsat(self) -> bool:
        return self.status == "unsat"


def classify_unknown(raw: str, elapsed_s: float, limits: Limits,
                     interrupted: bool = False) -> UnknownReason:
    """THE mapping from Z3's ``reason_unknown`` (or error text) and wall time to our reasons."""
    text = raw.lower()
    if interrupted or "timeout" in text or elapsed_s >= limits.wall:
        return UnknownReason.TIMEOUT
    if "memory" in text:
        return UnknownReason.BUDGET
    if any(w in text for w in ("cancel", "interrupt", "resource", "rlimit")):
        late = elapsed_s * 1000 >= 0.9 * limits.timeout_ms
        return UnknownReason.TIMEOUT if late else UnknownReason.BUDGET
    return UnknownReason.UNDECIDABLE


def is_limit_text(raw: str) -> bool:
    """Whether Z3's words say a limit stopped it (not incompleteness, not a real error)."""
    text = raw.lower()
    return any(w in text for w in ("timeout", "cancel", "interrupt", "resource", "rlimit",
                                   "memory"))


def error_text(exc: BaseException) -> str:
    """Z3's error text, decoded and trimmed (parse errors arrive as bytes)."""
    value = getattr(exc, "value", None)
    value = value if value is not None else str(exc)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


# --------------------------------------------------------------------------- solve
@dataclass
class _Query:
    assertions: list[z3.BoolRef]
    tracked: list[tuple[str, z3.BoolRef]] = field(default_factory=list)
    evaluate: list[z3.ExprRef] = field(default_factory=list)


def solve(assertions: Sequence[z3.BoolRef], *, ctx: z3.Context, limits: Limits,
          tracked: Mapping[str, z3.BoolRef] | Sequence[tuple[str, z3.BoolRef]] = (),
          evaluate: Sequence[z3.ExprRef] = (), options: Mapping[str, Any] | None = None,
          isolate: bool | None = None, want_model: bool = True) -> SatResult:
    """Satisfiability of ``assertions`` ∧ ``tracked`` under ``limits`` (see the module docs).

    ``tracked`` assertions are named (the unsat core lists names); ``evaluate`` terms are
    evaluated in a sat model (``values``); ``options`` are extra solver parameters.
    ``isolate`` None decides by :func:`needs_isolation`. Never raises for Z3 failures: they
    come back as ``unknown`` with a typed reason. Inside a metered scope the call is capped by
    and charged to the scope's meter (see the module docs); a spent meter answers
    ``unknown: budget`` and a passed deadline ``unknown: timeout`` without calling Z3.
    """
    pairs = list(tracked.items()) if isinstance(tracked, Mapping) else list(tracked)
    query = _Query(list(assertions), pairs, list(evaluate))
    if not (query.assertions or pairs or query.evaluate or want_model):
        return SatResult("sat")  # nothing asserted: satisfiable, no solver needed
    meter = None if IN_WORKER else _meter.current()
    if meter is None:
        return _dispatch(query, ctx, limits, options, isolate, want_model)
    if meter.left <= 0:
        meter.cut = True
        return SatResult("unknown", reason=UnknownReason.BUDGET,
                         raw_reason="the solver budget of this scope is spent")
    wall_left = meter.wall_left()
    if wall_left is not None and wall_left <= 0:
        meter.timed_out = True
        meter.spend_all()
        return SatResult("unknown", reason=UnknownReason.TIMEOUT,
                         raw_reason="the wall-clock safety limit of this scope expired")
    timeout_ms, wall, cpu = limits.timeout_ms, limits.wall, limits.cpu_s
    if meter.call_cpu_s is not None:  # CPU seconds stop the call; the wall only as a backstop
        cpu = meter.call_cpu_s if cpu is None else min(cpu, meter.call_cpu_s)
        wall = max(wall, meter.call_wall_s or 0.0)
        timeout_ms = max(timeout_ms, int(wall * 1000))  # Z3's own timer is wall-clock
    capped = Limits(timeout_ms,
                    meter.left if limits.rlimit == 0 else min(limits.rlimit, meter.left),
                    limits.memory_mb, wall if wall_left is None else min(wall, wall_left), cpu)
    result = _dispatch(query, ctx, capped, options, isolate, want_model)
    meter.account(result.status, result.reason, result.rlimit_used, result.isolated)
    return result



def _own_tags(query: _Query) -> tuple[_Query, dict[str, str]]:
    """``query`` with tracking tags renamed away from the symbols of its formulas (a row may
    declare ``|hyp!0|``: the tag literal would then BE that constant, and assuming it true
    changes the query), and the map from the tags used back to the caller's tags."""
    if not query.tracked:
        return query, {}
    taken = uninterpreted_symbols(
        [*query.assertions, *(e for _, e in query.tracked), *query.evaluate]).keys()
    back: dict[str, str] = {}
    pairs = []
    for tag, expr in query.tracked:
        used, i = tag, 0
        while used in taken or used in back:
            i += 1
            used = f"{tag}!t{i}"
        back[used] = tag
        pairs.append((used, expr))
    return _Query(query.assertions, pairs, query.evaluate), back


def _dispatch(query: _Query, ctx: z3.Context, limits: Limits, options: Mapping[str, Any] | None,
              isolate: bool | None, want_model: bool) -> SatResult:
    query, back = _own_tags(query)
    result = _dispatch_tagged(query, ctx, limits, options, isolate, want_model)
    if back and result.core:
        result = replace(result, core=tuple(back.get(tag, tag) for tag in result.core))
    return result


def _dispatch_tagged(query: _Query, ctx: z3.Context, limits: Limits,
                     options: Mapping[str, Any] | None, isolate: bool | None,
                     want_model: bool) -> SatResult:
    pairs = query.tracked
    if IN_WORKER:
        isolate = False
    elif isolate is None:
        isolate = needs_isolation([*query.assertions, *(e for _, e in pairs), *query.evaluate])
    if isolate:
        from prover.z3.isolated import solve_isolated

        return solve_isolated(query.assertions, pairs, query.evaluate, ctx, limits,
                              dict(options or {}))
    return _solve_here(query, ctx, limits, dict(options or {}), want_model)


def _solve_here(query: _Query, ctx: z3.Context, limits: Limits, options: dict[str, Any],
                want_model: bool) -> SatResult:
    start = time.perf_counter()
    if query.tracked and not options and not want_model:
        return _solve_scoped(query, ctx, limits, start)
    solver = new_solver(ctx, limits, options)
    try:
        solver.add(*query.assertions)
        for tag, expr in query.tracked:
            solver.assert_and_track(expr, z3.Bool(tag, ctx))
    except z3.Z3Exception as exc:
        return _failure(exc, start, limits)
    return run_check(solver, ctx, limits, start, evaluate=query.evaluate, want_model=want_model)


def _solve_scoped(query: _Query, ctx: z3.Context, limits: Limits, start: float) -> SatResult:
    """A query with tracked assertions in one push/pop scope of a solver kept per context.
    Tracked assertions make Z3 answer with its incremental core either way, so a kept solver
    decides the same; it saves building a solver per call (about 1 ms of every call)."""
    solver = getattr(ctx, "_proofgraph_scoped_solver", None)
    if solver is None:
        solver = z3.Solver(ctx=ctx)
        ctx._proofgraph_scoped_solver = solver  # type: ignore[attr-defined]
    solver.push()
    try:
        solver.set("timeout", limits.timeout_ms)
        solver.set("rlimit", limits.rlimit)
        solver.add(*query.assertions)
        for tag, expr in query.tracked:
            solver.assert_and_track(expr, z3.Bool(tag, ctx))
        return run_check(solver, ctx, limits, start, evaluate=query.evaluate, want_model=False)
    except z3.Z3Exception as exc:
        return _failure(exc, start, limits)
    finally:
        solver.pop()


def new_solver(ctx: z3.Context, limits: Limits, options: Mapping[str, Any]) -> z3.Solver:
    """A solver of ``ctx`` with the timeout and rlimit of ``limits`` and extra ``options``."""
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", limits.timeout_ms)
    solver.set("rlimit", limits.rlimit)
    for key, value in options.items():
        solver.set(key, value)
    return solver


def _failure(exc: z3.Z3Exception, start: float, limits: Limits) -> SatResult:
    elapsed = time.perf_counter() - start
    text = error_text(exc)
    reason = classify_unknown(text, elapsed, limits) if is_limit_text(text) \
        else UnknownReason.BACKEND_ERROR
    return SatResult("unknown", reason=reason, elapsed=elapsed, raw_reason=text)


def run_check(solver: z3.Solver, ctx: z3.Context, limits: Limits, start: float, *,
              assume: Sequence[z3.ExprRef] = (), evaluate: Sequence[z3.ExprRef] = (),
              want_model: bool = True) -> SatResult:
    """THE guarded check, in this process or in a worker: ``solver.check(*assume)`` under a
    :class:`Watchdog` at ``limits.wall``, read into a :class:`SatResult` (unsat core names,
    bounded ``evaluate`` values, ``unknown`` classified by :func:`classify_unknown`);
    ``elapsed`` counts from ``start``. Never raises for Z3 failures."""
    before = _meter.rlimit_count(solver)
    try:
        with Watchdog(ctx, limits.wall, limits.cpu_s) as dog:
            result = solver.check(*assume)
    except z3.Z3Exception as exc:
        return _failure(exc, start, limits)
    elapsed = time.perf_counter() - start
    used = _meter.rlimit_count(solver) - before
    if result == z3.unsat:
        return SatResult("unsat", core=tuple(str(c) for c in solver.unsat_core()),
                         elapsed=elapsed, rlimit_used=used)
    if result == z3.sat:
        model = solver.model()
        values = tuple(model_value(model.eval(t, model_completion=True)) for t in evaluate)
        return SatResult("sat", model=model if want_model else None, values=values,
                         elapsed=elapsed, rlimit_used=used)
    raw = solver.reason_unknown()
    return SatResult("unknown", reason=classify_unknown(raw, elapsed, limits, dog.fired),
                     elapsed=elapsed, raw_reason=raw, rlimit_used=used)
