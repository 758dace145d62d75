"""A deterministic solver budget: Z3 resource units (``rlimit``), not seconds.

A :class:`Meter` holds a number of Z3 resource units (what Z3 counts as "rlimit count": work
done, independent of the machine's load) and, as a safety net only, a wall-clock deadline.
Inside :func:`metered` every :func:`prover.z3.gateway.solve` of this thread is capped by what is
left (its ``rlimit`` is at most :attr:`Meter.left`) and charged what it used, so the same
queries spend the same budget whether the machine is idle or busy. The gateway reads the units a
check used with :func:`rlimit_count` (in this process) or from the isolate worker's answer.

Contract of the charges (see :meth:`Meter.account`):

- a check that finishes is charged the units it used plus a fixed :data:`CALL_UNITS` for the
  work Z3 does not count (setting a solver up: milliseconds of every call), plus
  :data:`ISOLATED_CALL_UNITS` when it ran in the isolate worker (the round trip); at most what
  was left;
- a check stopped by the resource limit spends everything left (``cut``: what follows in the
  scope is ``unknown: budget``);
- a check stopped by the wall clock (the watchdog, the worker kill, the scope's deadline) also
  spends everything left and sets ``timed_out``: that verdict is ``unknown: timeout`` and, unlike
  the rest, depends on the machine's speed (the safety net, generous enough not to bind on
  ordinary claims).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import z3

from prover.records.verdicts import UnknownReason

_LOCAL = threading.local()
CALL_UNITS = 14_000
"""Units charged per solver call on top of what Z3 counts. Measured on the ProcessBench dev
half (Z3 5.4): a step checker's call took about 8.5 ms of CPU plus 1 ms per 1.7M counted units,
so a call's fixed cost is about 14,000 units."""
ISOLATED_CALL_UNITS = 150_000
"""Units charged on top for a call in the isolate worker (the query travels as text and back:
about 0.1 s per round trip on the development machine)."""


@dataclass
class Meter:
    """``units`` of Z3 work for one scope (one solution); ``deadline`` a :func:`time.monotonic`
    instant after which no call starts and running calls are interrupted (None: no deadline);
    ``call_cpu_s`` the CPU seconds one call may use and ``call_wall_s`` its wall-clock backstop
    (None: the call's own limits). Some Z3 code (exponent terms, some nonlinear search) runs
    without counting units: the CPU limit stops it, the same on a loaded machine as on an idle
    one; the wall backstop (generous) only when the machine is too loaded to give it that."""

    units: int
    deadline: float | None = None
    call_cpu_s: float | None = None
    call_wall_s: float | None = None
    spent: int = 0
    cut: bool = False
    timed_out: bool = False

    @property
    def left(self) -> int:
        """Units not yet spent (never negative)."""
        return max(0, self.units - self.spent)

    def wall_left(self) -> float | None:
        """Seconds until the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def spend_all(self) -> None:
        """Spend what is left (a call that ran out, or the wall-clock safety net)."""
        self.spent = max(self.spent, self.units)

    def charge(self, used: int) -> None:
        """Charge ``used`` units, at most what is left."""
        self.spent += min(max(0, int(used)), self.left)

    def account(self, status: str, reason: UnknownReason | None, used: int,
                isolated: bool = False) -> None:
        """Charge one call that ended with ``status``/``reason`` after Z3 counted ``used``
        units (the fixed per-call charges are added here)."""
        if status == "unknown" and reason is UnknownReason.TIMEOUT:
            self.timed_out = True
            self.spend_all()
        elif status == "unknown" and reason is UnknownReason.BUDGET:
            self.cut = True
            self.spend_all()
        else:
            self.charge(used + CALL_UNITS + (ISOLATED_CALL_UNITS if isolated else 0))


def current() -> Meter | None:
    """The meter of this thread's innermost :func:`metered` scope, or None."""
    return getattr(_LOCAL, "meter", None)


@contextmanager
def metered(meter: Meter) -> Iterator[Meter]:
    """Every gateway solve of this thread inside the ``with`` is capped by and charged to
    ``meter`` (scopes nest: the innermost meter counts)."""
    outer = current()
    _LOCAL.meter = meter
    try:
        yield meter
    finally:
        _LOCAL.meter = outer


def rlimit_count(solver: z3.Solver) -> int:
    """Z3's resource counter of ``solver``'s context (cumulative: a check's use is the
    difference of two readings). 0 when Z3 does not report it. The key is looked for from the
    end (it is among the last of the statistics: a solver that ran nonlinear checks reports
    dozens of keys, and each key costs a foreign call). Read from the checking solver itself,
    not from an idle probe solver of the context: the probe reads the same counter, but
    collecting the checking solver's statistics is part of what its next check does, and Z3
    5.4's nonlinear search then takes another path (other unit counts, other budget cuts)."""
    ref = solver.ctx.ref()
    stats = z3.Z3_solver_get_statistics(ref, solver.solver)
    z3.Z3_stats_inc_ref(ref, stats)
    try:
        for i in reversed(range(z3.Z3_stats_size(ref, stats))):
            if z3.Z3_stats_get_key(ref, stats, i) == "rlimit count":
                return int(z3.Z3_stats_get_uint_value(ref, stats, i))
    finally:
        z3.Z3_stats_dec_ref(ref, stats)
    return 0
