"""Stopping a run on SIGINT/SIGTERM: handlers that raise :class:`Signalled` in the run loop
(held back while a commit is in progress), and a watcher thread that interrupts native code
(a Z3 call) the moment the signal arrives, so a run stops within seconds, not after its
current call. Z3's own Ctrl-C handler, which swallows SIGINT, is switched off.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Signalled(KeyboardInterrupt):
    """Raised inside the run loop by the signal handler; ``signum`` says which signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: Callbacks run (in a helper thread) the moment SIGINT/SIGTERM arrives, to cut short a call
#: stuck in native code; each must be thread-safe (``z3.Context.interrupt`` is).
INTERRUPTERS: list[Callable[[], None]] = []


def native_setup() -> None:
    """Switch off Z3's own Ctrl-C handler (it swallows SIGINT: the check returns ``unknown``
    and the run goes on) when Z3 is loaded; the runner calls this when it installs its
    handlers, after ``job.start`` and before each batch, so a Z3 loaded lazily is covered.
    The runner imports no solver itself (the Z3 gateway will own this switch)."""
    z3 = sys.modules.get("z3")
    if z3 is not None and not getattr(native_setup, "done", False):
        z3.set_param("ctrl_c", False)
        native_setup.done = True  # type: ignore[attr-defined]


def _interrupt_native() -> None:
    z3 = sys.modules.get("z3")
    if z3 is not None:
        z3.main_ctx().interrupt()
    for callback in list(INTERRUPTERS):
        try:
            callback()
        except Exception:  # an interrupter must never break the stop
            pass


class SignalGuard:
    """The installed handlers; :meth:`deferred` holds a signal back during a commit.
    :meth:`stop` names the stop behind a ``KeyboardInterrupt`` that reached the run loop."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.pending: int | None = None
        self.received: int | None = None  # the last signal handled, whatever became of it
        self.depth = 0

    def handle(self, signum: int, frame: Any) -> None:
        self.received = signum
        if self.depth:
            self.pending = signum
            return
        raise Signalled(signum)

    def reinstate(self) -> None:
        """Put the run's handlers back where code the run called replaced them (``ray.init``
        sets its own SIGTERM handler, ``sys.exit``): the runner calls this between batches,
        in the main thread."""
        if not self.active:
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) != self.handle:
                signal.signal(sig, self.handle)

    def stop(self, exc: KeyboardInterrupt) -> Signalled | None:
        """The :class:`Signalled` that ``exc`` stands for: ``exc`` itself, or, when native
        code that caught ours raised a plain ``KeyboardInterrupt`` in its place (Ray's core
        worker does), the signal this guard handled; None when no handled signal is behind
        it."""
        if isinstance(exc, Signalled):
            return exc
        return Signalled(self.received) if self.received is not None else None

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if self.pending is not None and not self.depth:
            signum, self.pending = self.pending, None
            raise Signalled(signum)


@contextmanager
def handle_signals(enabled: bool) -> Iterator[SignalGuard]:
    """Install SIGINT/SIGTERM handlers for the run (main thread only) and a watcher that
    interrupts native code (Z3) at once; Z3's own Ctrl-C handler, which would swallow the
    signal, is switched off."""
    active = enabled and threading.current_thread() is threading.main_thread()
    guard = SignalGuard(active)
    if not active:
        yield guard
        return
    native_setup()
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                data = os.read(read_fd, 16)
            except OSError:
                return
            if not data:
                return
            if any(b in (signal.SIGINT, signal.SIGTERM) for b in data):
                _interrupt_native()

    watcher = threading.Thread(target=watch, name="proofgraph-signal-watch", daemon=True)
    watcher.start()
    for sig in old:
        signal.signal(sig, guard.handle)
    try:
        yield guard
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(old_wakeup)
        os.close(write_fd)
        watcher.join(1.0)
        os.close(read_fd)
