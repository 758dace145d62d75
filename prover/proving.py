"""Proving one theorem: backends (environment, policy family, final re-check) and ``prove_row``.

Backends are chosen from a registry (name -> :class:`Backend`), never a chain of ifs. A proof is
reported verified only after the backend's re-check (Z3 replay, Lean audit, fresh Dojo replay).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prover.search_graph import search_graph
from prover.verdicts import Provenance, UnknownReason, Verdict, unknown
from search import protocols as sp
from search.best_first import SearchConfig, best_first_search
from search.protocols import Environment, Policy

Reporter = Callable[[str], None]


class ProveError(ValueError):
    """Bad arguments for a prove job (unknown backend or policy, unusable theorem source)."""


@dataclass
class ProveOptions:
    """What to prove with, and where results go; budgets are in ``search``."""

    backend: str = "z3"
    policy: str = "symbolic"
    search: SearchConfig = field(default_factory=SearchConfig)
    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    lean_command: list[str] | None = None
    report: Reporter = field(default=lambda message: None)
    resources: dict[str, Any] = field(default_factory=dict)  # per-job pools, closers


@dataclass
class Backend:
    """How one backend is driven: its environment, its policy family, its final re-check."""

    family: str  # "z3" or "lean": which symbolic portfolio and prompt style apply
    make_env: Callable[[Mapping[str, Any], ProveOptions], Environment]
    recheck: Callable[[Mapping[str, Any], list[str], ProveOptions], Verdict]
    statement: Callable[[Mapping[str, Any]], str]
    version: Callable[[], str]
    unavailable: Callable[[], tuple[type[BaseException], ...]] = lambda: ()


def _z3_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    from prover.z3.env import Z3Env

    return Z3Env(row)


def _z3_recheck(row: Mapping[str, Any], proof: list[str], opts: ProveOptions) -> Verdict:
    from prover.z3.env import check_proof

    return check_proof(row, proof, budget_s=max(opts.search.tactic_timeout_s, 1.0) * 2)


def _z3_version() -> str:
    import z3

    return f"z3 {z3.get_version_string()}"


def _z3_statement(row: Mapping[str, Any]) -> str:
    return f"{row.get('smt2', '')} ⊢ {row.get('goal', '')}"


def _lean_pool(opts: ProveOptions) -> Any:
    """One REPL pool per job, started on first use (header environments are reused)."""
    from prover.lean.repl import LeanReplPool, ReplConfig

    if "lean_pool" not in opts.resources:
        config = ReplConfig.from_env(**({"command": tuple(opts.lean_command)}
                                        if opts.lean_command else {}))
        opts.resources["lean_pool"] = LeanReplPool(config)
    return opts.resources["lean_pool"]


def _lean_row(row: Mapping[str, Any]) -> tuple[str, str]:
    statement, header = row.get("statement"), row.get("header", "")
    if not isinstance(statement, str) or not isinstance(header, str):
        raise ProveError(f"row {row.get('id')!r}: lean rows need 'statement' (and optional "
                         "'header') strings")
    return statement, header


def _lean_repl_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    from prover.lean.env import LeanReplEnv

    statement, header = _lean_row(row)
    return LeanReplEnv(statement, _lean_pool(opts), header=header)


def _lean_repl_recheck(row: Mapping[str, Any], proof: list[str], opts: ProveOptions) -> Verdict:
    from prover.lean.audit import audit

    statement, header = _lean_row(row)
    return audit(statement, None, _lean_pool(opts), header=header, tactics=proof).verdict


def _dojo_theorem(row: Mapping[str, Any]) -> Any:
    from prover.lean.dojo import make_theorem

    missing = [k for k in ("repo", "file", "theorem") if not isinstance(row.get(k), str)]
    if missing:
        raise ProveError(f"leandojo rows need {', '.join(missing)} (a traced local repo)")
    return make_theorem(row["repo"], row["file"], row["theorem"], commit=row.get("commit"))


def _dojo_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    from prover.lean.dojo import LeanDojoEnv

    env = LeanDojoEnv(_dojo_theorem(row), timeout_s=max(int(opts.search.tactic_timeout_s), 1))
    opts.resources.setdefault("closers", []).append(env.close)
    return env


def _dojo_recheck(row: Mapping[str, Any], proof: list[str], opts: ProveOptions) -> Verdict:
    """Replay the proof in a freshly opened Dojo: verified only if it ends in ProofFinished."""
    from prover.lean.dojo import LeanDojoEnv

    env = LeanDojoEnv(_dojo_theorem(row), timeout_s=max(int(opts.search.tactic_timeout_s), 1))
    try:
        return replay(env, proof, opts.search.tactic_timeout_s)
    finally:
        env.close()


def replay(env: Environment, proof: list[str], budget_s: float) -> Verdict:
    """Apply ``proof`` from the initial state of a fresh ``env``; verified iff it ends proved."""
    state = env.initial_state()
    for index, tactic in enumerate(proof):
        outcome = env.apply(state, tactic, budget_s)
        if isinstance(outcome, sp.Proved):
            if index == len(proof) - 1:
                return Verdict("verified", evidence={"replayed": proof})
            return Verdict("refuted", evidence={"extra_tactics_after": index})
        if isinstance(outcome, sp.Progress):
            state = outcome.state
            continue
        if isinstance(outcome, sp.Timeout):
            return unknown(UnknownReason.TIMEOUT, f"replay step {index}: {tactic}")
        return Verdict("refuted", evidence={"step": index, "tactic": tactic,
                                            "outcome": repr(outcome)})
    return Verdict("refuted", evidence={"open_goals_after_replay": state.text})


def _lean_errors(kind: str) -> tuple[type[BaseException], ...]:
    """Exceptions meaning "Lean is not usable here" (no toolchain, no lean-dojo)."""
    from prover.lean.repl import LeanSetupError, LeanUnavailable

    if kind == "dojo":
        from prover.lean.dojo import DojoUnavailable

        return (LeanUnavailable, LeanSetupError, DojoUnavailable)
    return (LeanUnavailable, LeanSetupError)


def _lean_version() -> str:
    return "lean4 v4.20.0 (lean_project toolchain)"


def _dojo_statement(row: Mapping[str, Any]) -> str:
    return f"{row.get('repo')}:{row.get('file')}:{row.get('theorem')}"


BACKENDS: dict[str, Backend] = {
    "z3": Backend("z3", _z3_env, _z3_recheck, _z3_statement, _z3_version),
    "lean-repl": Backend("lean", _lean_repl_env, _lean_repl_recheck,
                         lambda row: str(row.get("statement")), _lean_version,
                         lambda: _lean_errors("repl")),
    "leandojo": Backend("lean", _dojo_env, _dojo_recheck, _dojo_statement,
                        lambda: "lean-dojo 4.20.0", lambda: _lean_errors("dojo")),
}


def prove_row(row: Mapping[str, Any], backend: Backend, policy: Policy, policy_info: dict,
              opts: ProveOptions, run_id: str) -> tuple[dict[str, Any], Any, str | None, list]:
    """Search one theorem and re-check its proof; returns (result, graph, root, verdicts)."""
    start = time.perf_counter()
    try:
        env = backend.make_env(row, opts)
        search = best_first_search(env, policy, opts.search)
    except backend.unavailable() as err:
        raise ProveError(f"{opts.backend} backend unavailable: {err}") from err
    data = search.to_dict()
    if search.status == "proved" and search.proof is not None:
        verdict = backend.recheck(row, list(search.proof), opts)
    elif search.status == "failed":
        verdict = unknown(UnknownReason.BUDGET, "every candidate tactic failed")
    else:
        verdict = unknown(UnknownReason.BUDGET, f"search stopped: {search.stop_reason}")
    provenance = Provenance(
        run_id=run_id, backend=opts.backend, backend_version=backend.version(),
        limits={"search": asdict(opts.search)}, formalizer=f"policy:{policy_info['spec']}",
        formalizer_version=json.dumps(policy_info, sort_keys=True, default=str),
        wall_time_s=round(time.perf_counter() - start, 6))
    graph, root = search_graph(data, backend=opts.backend, statement=backend.statement(row),
                               provenance={**provenance.to_dict(), "policy": policy_info})
    result = {
        "id": str(row.get("id")), "status": search.status, "stop_reason": search.stop_reason,
        "proof": search.proof, **verdict.to_dict(), "counts": search.counts,
        "times": search.times, "policy": policy_info, "provenance": provenance.to_dict(),
        "error": None,
    }
    return result, graph, root, [(root, verdict, provenance)]


def release(opts: ProveOptions) -> None:
    """Close what a job opened through ``opts.resources`` (Dojo sessions, REPL processes)."""
    for close in opts.resources.pop("closers", []):
        close()
    pool = opts.resources.pop("lean_pool", None)
    if pool is not None and hasattr(pool, "close"):
        pool.close()
