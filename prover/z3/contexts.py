"""Fresh Z3 contexts made ahead of time: :func:`fresh_context`.

Creating a ``z3.Context`` costs milliseconds of CPU with Z3 5.4 (about 9 ms on the development
machine), and the step checker makes one per solution (a fresh context keeps a solution's
verdicts independent of the solutions before it) and the isolate worker one per request. A
context is made the same way whichever thread makes it and is used by one thread at a time, so
:func:`fresh_context` hands out one made by a background thread while the caller did other
work, and starts making the next. What a caller gets is indistinguishable from ``z3.Context()``.

Forking while the background thread is inside Z3 could leave the child with a lock held: a fork
hook waits for the thread first (a context made in the parent is a fresh one in the child).
"""

from __future__ import annotations

import os
import threading

import z3

_LOCK = threading.Lock()
_READY: list[z3.Context] = []
_MAKER: threading.Thread | None = None


def fresh_context() -> z3.Context:
    """A new, never used Z3 context (made ahead when one is ready, else now); starts making the
    next one in the background."""
    with _LOCK:
        ctx = _READY.pop() if _READY else None
    if ctx is None:
        ctx = z3.Context()
    _make_next()
    return ctx


def _make_next() -> None:
    global _MAKER
    with _LOCK:
        if _READY or (_MAKER is not None and _MAKER.is_alive()):
            return
        _MAKER = threading.Thread(target=_make, daemon=True, name="z3-context-maker")
        _MAKER.start()


def _make() -> None:
    try:
        ctx = z3.Context()
    except Exception:  # noqa: BLE001 - the caller makes its own context then
        return
    with _LOCK:
        _READY.append(ctx)


def _before_fork() -> None:
    maker = _MAKER
    if maker is not None and maker is not threading.current_thread():
        maker.join()


def _in_child() -> None:
    global _MAKER
    _MAKER = None  # the thread is not in the child; contexts made in the parent are fresh here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_in_child)
