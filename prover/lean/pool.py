"""Pools of Lean REPL processes.

:class:`HeaderPool` is the one ``prove`` uses (the Kimina Lean server's design): warm processes
keyed by the header's IMPORT block, each importing it exactly once, kept in LRU order; a new
import block takes a free slot or evicts the least recently used idle process. A process is
recycled (restarted, header re-imported on its next request) when it has served
``max_uses`` requests or its process group's resident memory (``VmRSS`` in
``/proc/<pid>/status``) is above the watermark; a crashed process restarts from its header on
its next request. Memory is capped per process by ``RLIMIT_AS`` (see :mod:`prover.lean.repl`).

:class:`LeanReplPool` is the older score-leased pool (the formalizer's type-check filter); its
processes obey the same never-two-import-blocks rule through ``LeanRepl.header_env``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import monotonic

from prover.lean.header import split_header
from prover.lean.repl import LeanRepl, ReplConfig, ReplError

DEFAULT_PROCESS_MB = 8192
"""What one REPL with ``import Mathlib`` holds resident (a few GB); sizes the default pool."""


def available_mb() -> int | None:
    """``MemAvailable`` from ``/proc/meminfo`` in MiB (None off Linux)."""
    try:
        for line in open("/proc/meminfo", encoding="ascii"):  # noqa: SIM115
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_pool_size(process_mb: int = DEFAULT_PROCESS_MB, *, cores: int | None = None,
                      memory_mb: int | None = None) -> int:
    """Processes that fit: one per core but one (the search and the policy need a core), and
    no more than available memory / ``process_mb``; at least 1."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    memory_mb = available_mb() if memory_mb is None else memory_mb
    size = max(1, cores - 1)
    if memory_mb is not None and process_mb > 0:
        size = min(size, memory_mb // process_mb)
    return max(1, size)


def imports_key(header: str) -> str:
    """The pool key of a header: its normalised import block."""
    return split_header(header)[0]


@dataclass
class PoolStats:
    """What the pool did: processes created, evicted (LRU), recycled by request count or by
    RSS watermark, and restarted after a crash."""

    created: int = 0
    evicted: int = 0
    recycled_uses: int = 0
    recycled_rss: int = 0
    restarted_after_crash: int = 0
    leases: int = 0
    by_key: dict[str, int] = field(default_factory=dict)


@dataclass
class _Slot:
    repl: LeanRepl
    key: str
    last_used: float = 0.0
    busy: bool = False


class HeaderPool:
    """Up to ``max_processes`` REPL processes, each bound to one import block; see the module
    docstring. ``rss_watermark_mb`` defaults to 80% of the config's ``memory_limit_mb``."""

    def __init__(self, config: ReplConfig | None = None, *, max_processes: int | None = None,
                 rss_watermark_mb: int | None = None,
                 factory: Callable[[ReplConfig], LeanRepl] = LeanRepl) -> None:
        self.config = config or ReplConfig()
        limit = self.config.memory_limit_mb
        self.max_processes = max_processes or default_pool_size(
            min(limit, DEFAULT_PROCESS_MB) if limit else DEFAULT_PROCESS_MB)
        if self.max_processes < 1:
            raise ValueError("a pool needs at least one process")
        self.rss_watermark_mb = rss_watermark_mb if rss_watermark_mb is not None else (
            int(limit * 0.8) if limit else None)
        self._factory = factory
        self._slots: list[_Slot] = []
        self._cond = threading.Condition()
        self.stats = PoolStats()

    @property
    def size(self) -> int:
        return self.max_processes

    @property
    def max_concurrency(self) -> int:
        return self.max_processes

    @property
    def repls(self) -> tuple[LeanRepl, ...]:
        """The processes held now (started or not)."""
        with self._cond:
            return tuple(slot.repl for slot in self._slots)

    def keys(self) -> list[str]:
        """The import block of every slot, least recently used first."""
        with self._cond:
            return [s.key for s in sorted(self._slots, key=lambda s: s.last_used)]

    def _take(self, key: str) -> _Slot | None:
        """A slot for ``key`` (reused, new, or made by evicting the LRU idle one), or None
        when every process is busy. Called with the condition held."""
        free = [s for s in self._slots if not s.busy]
        warm = [s for s in free if s.key == key]
        if warm:
            slot = max(warm, key=lambda s: s.last_used)
        else:
            if len(self._slots) >= self.max_processes:
                if not free:
                    return None
                victim = min(free, key=lambda s: s.last_used)
                self._slots.remove(victim)
                victim.repl.close()
                self.stats.evicted += 1
            slot = _Slot(self._factory(self.config), key)
            self._slots.append(slot)
            self.stats.created += 1
        slot.busy = True
        return slot

    @contextmanager
    def lease(self, header: str = "", wait_s: float | None = None) -> Iterator[LeanRepl]:
        """Exclusive use of the process for ``header``'s import block in the ``with`` block,
        recycled first if worn out. Raises ReplError when none is free within ``wait_s``."""
        key = imports_key(header)
        deadline = None if wait_s is None else monotonic() + wait_s
        with self._cond:
            while (slot := self._take(key)) is None:
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    raise ReplError(f"no free Lean REPL within {wait_s}s")
                self._cond.wait(remaining)
            self.stats.leases += 1
            self.stats.by_key[key] = self.stats.by_key.get(key, 0) + 1
        try:
            self._recycle_if_worn(slot.repl)
            yield slot.repl
        finally:
            with self._cond:
                slot.busy = False
                slot.last_used = monotonic()
                self._cond.notify_all()

    def _recycle_if_worn(self, repl: LeanRepl) -> None:
        if repl.generation and not repl.alive:
            self.stats.restarted_after_crash += 1
            repl.cache.clear()
            return  # restarted (with its header) by its next request
        if not repl.alive:
            return
        if repl.exhausted:
            self.stats.recycled_uses += 1
            repl.restart()
        elif self.rss_watermark_mb is not None and \
                repl.rss_bytes() > self.rss_watermark_mb * 1024 * 1024:
            self.stats.recycled_rss += 1
            repl.restart()

    def close(self) -> None:
        with self._cond:
            slots, self._slots = self._slots, []
        for slot in slots:
            slot.repl.close()

    def __enter__(self) -> HeaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LeanReplPool:
    """``size`` REPL processes leased one caller at a time; :meth:`lease` prefers the free
    process that scores highest (e.g. already holds the needed header or proof state) and
    recycles a process that has served ``max_uses`` requests before handing it out."""

    def __init__(self, config: ReplConfig | None = None, size: int = 1,
                 repls: Sequence[LeanRepl] | None = None) -> None:
        self._repls = list(repls) if repls else [LeanRepl(config) for _ in range(size)]
        if not self._repls:
            raise ValueError("a pool needs at least one REPL")
        self._free = list(self._repls)
        self._cond = threading.Condition()

    @property
    def size(self) -> int:
        return len(self._repls)

    @property
    def repls(self) -> tuple[LeanRepl, ...]:
        return tuple(self._repls)

    @contextmanager
    def lease(self, score: Callable[[LeanRepl], int] | None = None,
              wait_s: float | None = None) -> Iterator[LeanRepl]:
        """Exclusive use of one process for the ``with`` block. Raises ReplError when none
        is free within ``wait_s`` seconds (None = wait forever)."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._free), timeout=wait_s):
                raise ReplError(f"no free Lean REPL within {wait_s}s")
            best = max(range(len(self._free)),
                       key=lambda i: (score(self._free[i]) if score else 0, i))
            repl = self._free.pop(best)
        try:
            if repl.exhausted or (repl.alive and repl.over_watermark):
                repl.restart()
            yield repl
        finally:
            with self._cond:
                self._free.append(repl)
                self._cond.notify()

    def close(self) -> None:
        for repl in self._repls:
            repl.close()

    def __enter__(self) -> LeanReplPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
