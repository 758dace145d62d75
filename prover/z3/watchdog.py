"""The hard wall-clock guard of in-process Z3 calls: a :class:`Watchdog` interrupts its context
when a call outlives its deadline, or (with ``cpu_s``) when the calling thread has used that many
seconds of CPU, which a loaded machine does not shorten. One daemon thread serves every watchdog
from a heap of deadlines (part of :mod:`prover.z3.gateway`, which re-exports :class:`Watchdog`)."""

from __future__ import annotations

import heapq
import threading
import time

import z3


class _Alarms:
    """One daemon thread for every watchdog: a heap of deadlines (starting a thread per Z3
    call cost milliseconds on a loaded machine; registering here costs microseconds)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def add(self, deadline: float, dog: Watchdog) -> None:
        """Register ``dog`` to fire at ``deadline``. The alarm thread is woken only when the new
        deadline is the earliest: otherwise it already sleeps until an earlier one and sees this
        one then (waking it on every call handed it the GIL, milliseconds per Z3 call)."""
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, dog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="z3-watchdog")
                self._thread.start()
            if self._heap[0][2] is dog:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:  # capped: a far deadline (a huge --timeout-ms) must not kill
                    self._cond.wait(min(wait, threading.TIMEOUT_MAX))  # this thread
                    continue
                _, _, dog = heapq.heappop(self._heap)
                again = dog.fire()
                if again is not None:  # CPU left: look again when it could be used up
                    self._seq += 1
                    heapq.heappush(self._heap, (again, self._seq, dog))


_ALARMS = _Alarms()


class Watchdog:
    """Interrupts ``ctx`` when a call outlives ``after_s`` wall seconds or, with ``cpu_s``, when
    the thread that entered it has used ``cpu_s`` seconds of CPU inside (a context manager)."""

    def __init__(self, ctx: z3.Context, after_s: float, cpu_s: float | None = None) -> None:
        self._ctx, self._guard = ctx, threading.Lock()
        self._after = max(after_s, 0.001)
        self._cpu = None if cpu_s is None else max(cpu_s, 0.001)
        self._clock: int | None = None
        self._cpu0 = 0.0
        self._hard = 0.0
        self.active = False
        self.fired = False

    def fire(self) -> float | None:
        """Called by the alarm thread: interrupt the context if still inside and a limit is
        reached; else the :func:`time.monotonic` instant to look again (CPU limit not yet)."""
        with self._guard:
            if not self.active:
                return None
            now = time.monotonic()
            if self._clock is not None and self._cpu is not None and now < self._hard:
                try:
                    left = self._cpu - (time.clock_gettime(self._clock) - self._cpu0)
                except OSError:  # the thread is gone
                    left = 0.0
                if left > 0.001:
                    return min(now + left, self._hard)
            self.fired = True
            self._ctx.interrupt()
            return None

    def __enter__(self) -> Watchdog:
        self.active = True
        now = time.monotonic()
        self._hard = now + self._after
        first = self._hard
        if self._cpu is not None and hasattr(time, "pthread_getcpuclockid"):
            self._clock = time.pthread_getcpuclockid(threading.get_ident())
            self._cpu0 = time.clock_gettime(self._clock)
            first = min(first, now + self._cpu)
        _ALARMS.add(first, self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            self.active = False
