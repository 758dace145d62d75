"""Fresh Z3 contexts made ahead of time: :func:`fresh_context`.

Creating a ``z3.Context`` costs milliseconds of CPU with Z3 5.4 (about 9 ms on the development
machine), and the step checker makes one per solution (a fresh context keeps a solution's
verdicts independent of the solutions before it) and the isolate worker one per request. A
context is made the same way whichever thread makes it and is used by one thread at a time, so
:func:`fresh_context` hands out one made by a background thread while the caller did other
work, and starts making the next. What a caller gets is indistinguishable from ``z3.Context()``.

Forking while the background thread is inside Z3 could leave the child with a lock held: a fork
hook waits for the thread first (a context made in the parent is a fresh one in the child).

Z3's memory is invisible to Python's collector: a context that is garbage only through a
reference cycle keeps its (often tens of megabytes of) Z3 memory until a full collection,
which Python schedules by its own allocations. Over hundreds of Z3-heavy solutions in one
process those contexts add up to Z3's process-wide cap (``memory_max_size``), where
``Z3_mk_context`` fails and z3py crashes the process. So every new context
(:func:`fresh_context`, :func:`new_context`) first checks Z3's allocation against the cap
(:func:`set_memory_cap`, kept by :func:`prover.z3.gateway.configure_memory`): past
:data:`PRESSURE_SHARE` of it, Python's garbage is collected; still near the cap, the context
is refused with :class:`MemoryError` (a clean error for the row) instead of a crash. The check
and the creation it allows happen under one lock, so two threads (the caller and the background
maker) never both pass the check and then both allocate past the cap, and the check keeps room
for two contexts below the cap.
"""

from __future__ import annotations

import gc
import os
import threading

import z3

#: the share of Z3's memory cap past which a new context first collects Python's garbage
PRESSURE_SHARE = 0.25
#: the share past which (after collecting) no new context is made
REFUSE_SHARE = 0.9
#: what one empty context allocates in Z3 (16.4 MB measured with z3-solver 5.4, rounded up);
#: the refusal keeps at least two of these free below the cap
CONTEXT_BYTES = 17 * 2**20
#: past the pressure share, Python's garbage is collected again only once Z3's allocation grew
#: by this many contexts since the last collection (live contexts are not collected over and over)
REGROWTH_CONTEXTS = 2
_cap_bytes = 2048 * 2**20  # set by prover.z3.gateway.configure_memory
_after_collect = 0  # Z3's allocation right after the last collection relieve_pressure ran

_LOCK = threading.Lock()  # guards _READY and _MAKER
_CREATE_LOCK = threading.Lock()  # one pressure check and the creation it allows at a time
_READY: list[z3.Context] = []
_MAKER: threading.Thread | None = None


def set_memory_cap(memory_mb: int) -> None:
    """Z3's process-wide memory cap in megabytes, as just set (``memory_max_size``)."""
    global _cap_bytes
    _cap_bytes = int(memory_mb) * 2**20


def _refuse_above() -> int:
    """Z3 allocation in bytes past which no new context is made: :data:`REFUSE_SHARE` of the
    cap, or less so that two contexts still fit below it."""
    return int(min(REFUSE_SHARE * _cap_bytes, _cap_bytes - 2 * CONTEXT_BYTES))


def relieve_pressure() -> None:
    """Collect Python's garbage when Z3's allocation passed :data:`PRESSURE_SHARE` of its cap
    and grew by :data:`REGROWTH_CONTEXTS` contexts since the last collection, or is past
    :func:`_refuse_above` (unreachable contexts give their Z3 memory back); raise MemoryError
    when it is still past :func:`_refuse_above`, where a new context might not fit. Call it
    holding ``_CREATE_LOCK`` when a context is made on its word."""
    global _after_collect
    used = z3.Z3_get_estimated_alloc_size()
    if used <= PRESSURE_SHARE * _cap_bytes:
        return
    _after_collect = min(_after_collect, used)  # memory freed since counts as collected
    if used - _after_collect < REGROWTH_CONTEXTS * CONTEXT_BYTES and used <= _refuse_above():
        return  # little new since the last collection: what is held is mostly live
    gc.collect()
    used = _after_collect = z3.Z3_get_estimated_alloc_size()
    if used > _refuse_above():
        raise MemoryError(f"Z3 holds {used // 2**20} MB of its {_cap_bytes // 2**20} MB cap in "
                          "this process; no new context is made")


def new_context() -> z3.Context:
    """``z3.Context()`` after :func:`relieve_pressure` (for callers that need no made-ahead
    context)."""
    with _CREATE_LOCK:
        relieve_pressure()
        return z3.Context()


def fresh_context() -> z3.Context:
    """A new, never used Z3 context (made ahead when one is ready, else now); starts making the
    next one in the background. Raises MemoryError as :func:`relieve_pressure` does."""
    with _LOCK:
        ctx = _READY.pop() if _READY else None
    if ctx is None:
        ctx = new_context()
    else:
        with _CREATE_LOCK:
            relieve_pressure()  # the made-ahead context exists; near the cap it is refused too
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
        ctx = new_context()
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
