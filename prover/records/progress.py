"""The progress meter of a run on stderr (:class:`Progress`): what the user sees while a job
runs, apart from what it records (:mod:`prover.records.runs` re-exports it)."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Progress of a run on stderr: a one-line meter rewritten in place on a terminal, else
    one line every ``interval_s`` seconds (so logs of long runs show progress too); silent
    when disabled. The ETA comes from the rate so far and, when items have a budget
    (``item_budget_s``, e.g. a per-theorem wall timeout), an upper bound from it."""

    def __init__(self, total: int, label: str, enabled: bool | None = None, *,
                 initial: int = 0, item_budget_s: float | None = None, workers: int = 1,
                 interval_s: float | None = None, stream: TextIO | None = None) -> None:
        """``initial`` items were done before this session (a resumed run): they count
        towards ``done`` but not towards the rate, so items/s and the ETA stay honest.
        ``enabled=None`` means on (``--no-progress`` turns it off)."""
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = True if enabled is None else enabled
        self.explicit = enabled is True
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = 0.5 if self.tty else (
            interval_s if interval_s is not None else _interval_from_env())
        self.item_budget_s = item_budget_s
        self.workers = max(1, workers)
        self.start = time.perf_counter()
        self.last = self.start if not self.tty else 0.0
        self.done = initial
        self.initial = initial
        self.printed = False

    def line(self, done: int, extra: str = "") -> str:
        """The progress text for ``done`` items now."""
        now = time.perf_counter()
        rate = max(done - self.initial, 0) / max(now - self.start, 1e-9)
        left = max(self.total - done, 0)
        eta = _duration(left / rate) if rate > 0 else "?"
        if self.item_budget_s is not None and left:
            eta += f", at most {_duration(left * self.item_budget_s / self.workers)}"
        rate_text = f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"
        if self.total <= 0:  # the total is not known: no ETA
            return f"{self.label}: {done} done ({rate_text}/s){'  ' + extra if extra else ''}"
        return (f"{self.label}: {done}/{self.total} ({rate_text}/s, ETA {eta})"
                f"{'  ' + extra if extra else ''}")

    def update(self, done: int, extra: str = "") -> None:
        """Report ``done`` of ``total``; prints at most every ``interval_s`` seconds."""
        self.done = done
        now = time.perf_counter()
        if not self.enabled or now - self.last < self.interval_s and not (
                self.tty and done >= self.total):
            return
        self.last = now
        self.printed = True
        text = self.line(done, extra)
        self.stream.write(f"\r{text}   " if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the progress line on a terminal; elsewhere print the last count when progress
        was asked for (``--progress``) or lines were already printed."""
        if not self.enabled:
            return
        if self.tty and self.printed:
            self.stream.write("\n")
        elif not self.tty and (self.printed or self.explicit):
            self.stream.write(self.line(self.done) + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 100:
        return f"{seconds:.0f}s"
    if seconds < 6000:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _interval_from_env() -> float:
    """Seconds between progress lines when stderr is not a terminal: 5, or
    ``PROOFGRAPH_PROGRESS_INTERVAL_S`` (a positive number; anything else is ignored)."""
    try:
        value = float(os.environ.get("PROOFGRAPH_PROGRESS_INTERVAL_S", "5"))
    except ValueError:
        return 5.0
    return value if 0 < value < 86_400 else 5.0
