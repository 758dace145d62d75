"""Formalization targets (Lean 4, Z3, FOL) and :func:`make_target`, the one place that builds
them from a config (a Lean REPL pool is started only when ``lake`` exists)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from formalizer.autoformalize.targets.base import Target


def make_target(config: Any, lean_pool: Any | None = None,
                row_timeout_s: float | None = None) -> tuple[Target, Callable[[], None]]:
    """``(target, close)`` for ``config.target``; ``close`` ends a pool or worker this call
    started. With ``row_timeout_s`` the Z3 and FOL targets' checks run in a killable worker
    process under that budget per row (:class:`~formalizer.autoformalize.isolation.
    IsolatedTarget`); the Lean target's checks already run in REPL processes with their own
    per-command timeout and kill path (:mod:`prover.lean.pool`), so it is never wrapped."""
    inner: Target | None = None
    if config.target == "z3":
        from formalizer.autoformalize.targets.z3 import Z3Target

        inner = Z3Target()
    elif config.target == "fol":
        from formalizer.autoformalize.targets.fol import FolTarget

        inner = FolTarget(config.equiv_timeout_ms)
    if inner is not None:
        if row_timeout_s is None:
            return inner, lambda: None
        from formalizer.autoformalize.isolation import IsolatedTarget

        isolated = IsolatedTarget(inner, row_timeout_s)
        return isolated, isolated.close
    from formalizer.autoformalize.targets.lean import LeanTarget

    if lean_pool is not None:
        return LeanTarget(lean_pool, config.lean_header), lambda: None
    from prover.lean.pool import LeanReplPool
    from prover.lean.repl import ReplConfig

    repl_config = ReplConfig.from_env()
    if shutil.which(repl_config.command[0]) is None:
        return LeanTarget(None, config.lean_header, unavailable=(
            f"lean not available: `{repl_config.command[0]}` is not on PATH")), lambda: None
    if repl_config.cwd is not None and not repl_config.cwd.is_dir():
        return LeanTarget(None, config.lean_header, unavailable=(
            f"lean not available: no Lean project at {repl_config.cwd}")), lambda: None
    pool = LeanReplPool(repl_config)
    return LeanTarget(pool, config.lean_header), pool.close
