"""Proving one theorem: the job's options, the :class:`Backend` contract and ``prove_row``.

A :class:`Backend` says how one backend is driven (environment, policy family, final re-check);
the concrete backends and their registry (name -> Backend, never a chain of ifs) live in
:mod:`prover.backends`. A proof is reported verified only after the backend's re-check.

Per-row isolation: :func:`prove_row` turns ANY failure of one theorem (a header that times out
or does not elaborate, a REPL crash or broken framing, lean-dojo's DojoInitError,
AssertionError, CalledProcessError, an untraced repository, anything else) into that row's
``unknown`` verdict with a typed reason and a ``failure`` kind; only "the backend cannot run on
this machine at all" (no Lean, no lean-dojo) raises :class:`ProveError`, and a row that is not
a theorem row (no statement; z3's TheoremError) raises a ValueError such as :class:`RowError`
(the caller records it as a bad row). :func:`release` closes what a job opened.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prover.policy.openai_client import PolicyRequestError
from prover.records.job import report_nothing
from prover.records.search_graph import search_graph
from prover.records.verdicts import Provenance, UnknownReason, Verdict, unknown
from search.best_first import SearchConfig, best_first_search
from search.protocols import Environment, Policy

Reporter = Callable[[str], None]


class ProveError(ValueError):
    """Bad arguments for a prove job (unknown backend or policy), or a backend that cannot run
    here at all: the whole run stops with this message."""


class RowError(ValueError):
    """One input row is not a theorem row of the backend (the caller records a bad row)."""


@dataclass
class ProveOptions:
    """What to prove with, and where results go; budgets are in ``search``.

    ``repl_command`` is the whole REPL command line (shell-split; overrides ``lake env <repl>``
    and ``PROOFGRAPH_LEAN_REPL_CMD``); ``lean_command`` the same as a list (older callers).
    ``dojo_startup_timeout_s`` bounds a Dojo's start-up, apart from the per-tactic timeout.
    ``lean_processes`` caps the per-header REPL pool (None: from cores and memory);
    ``lean_header_timeout_s`` bounds one header import in a fresh REPL process."""

    backend: str = "z3"
    policy: str = "symbolic"
    search: SearchConfig = field(default_factory=SearchConfig)
    out: Path | None = None
    store: Path | None = None
    fresh: bool = False
    progress: bool | None = None
    limit: int | None = None
    lean_command: list[str] | None = None
    repl_command: str | None = None
    dojo_startup_timeout_s: float = 600.0
    lean_processes: int | None = None
    lean_header_timeout_s: float = 600.0
    report: Reporter = field(default=report_nothing)
    resources: dict[str, Any] = field(default_factory=dict)  # per-job pools, closers


@dataclass
class Backend:
    """How one backend is driven: its environment, its policy family, its final re-check."""

    family: str  # "z3" or "lean": which symbolic portfolio and prompt style apply
    make_env: Callable[[Mapping[str, Any], ProveOptions], Environment]
    recheck: Callable[..., Verdict]  # (row, proof, opts, deadline=None) -> Verdict
    statement: Callable[[Mapping[str, Any]], str]
    version: Callable[..., str]  # (opts: ProveOptions | None = None) -> str
    unavailable: Callable[[], tuple[type[BaseException], ...]] = lambda: ()


# --------------------------------------------------------------------------- one row
def classify_failure(exc: BaseException) -> tuple[UnknownReason, str]:
    """The typed reason and failure kind of an exception that ended one row's proving."""
    from prover.lean.dojo import DojoNotTraced
    from prover.lean.repl import LeanSetupError, ReplCrashed, ReplFramingError, ReplTimeout

    name = type(exc).__name__
    if isinstance(exc, ReplTimeout):
        return UnknownReason.TIMEOUT, ("header-timeout" if "header" in exc.what
                                       else "lean-timeout")
    if isinstance(exc, LeanSetupError):
        return UnknownReason.NOT_FORMALIZED, "does-not-elaborate"
    if isinstance(exc, ReplFramingError):
        return UnknownReason.BACKEND_ERROR, "repl-framing"
    if isinstance(exc, ReplCrashed):
        return UnknownReason.BACKEND_ERROR, "repl-crash"
    if isinstance(exc, DojoNotTraced):
        return UnknownReason.NOT_CHECKED, "repo-not-traced"
    kinds = {"DojoInitError": "dojo-init", "DojoCrashError": "dojo-crash",
             "DojoTacticTimeoutError": "dojo-timeout"}
    if name in kinds:  # lean_dojo's exception types, matched by name (imported lazily)
        reason = UnknownReason.TIMEOUT if name == "DojoTacticTimeoutError" \
            else UnknownReason.BACKEND_ERROR
        return reason, kinds[name]
    if isinstance(exc, subprocess.CalledProcessError):
        return UnknownReason.BACKEND_ERROR, "subprocess-failed"
    if isinstance(exc, AssertionError):
        return UnknownReason.BACKEND_ERROR, "assertion-failed"
    if isinstance(exc, MemoryError):
        return UnknownReason.BACKEND_ERROR, "out-of-memory"
    if isinstance(exc, TimeoutError):
        return UnknownReason.TIMEOUT, "timeout"
    return UnknownReason.BACKEND_ERROR, f"internal-error:{name}"


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        return f"command {exc.cmd!r} exited {exc.returncode}"
    text = str(exc) or type(exc).__name__
    return text[:2000]


def _provenance(backend: Backend, opts: ProveOptions, policy_info: dict, run_id: str,
                start: float) -> Provenance:
    try:
        version = backend.version(opts)
    except Exception as exc:  # provenance must not end the row: say what was not read
        version = f"unknown ({type(exc).__name__}: {exc})"
    return Provenance(
        run_id=run_id, backend=opts.backend, backend_version=version,
        limits={"search": asdict(opts.search),
                "dojo_startup_timeout_s": opts.dojo_startup_timeout_s},
        formalizer=f"policy:{policy_info['spec']}",
        formalizer_version=json.dumps(policy_info, sort_keys=True, default=str),
        wall_time_s=round(time.perf_counter() - start, 6))


def _failed_row(row: Mapping[str, Any], backend: Backend, policy_info: dict,
                opts: ProveOptions, run_id: str, start: float, exc: BaseException,
                stage: str) -> tuple[dict[str, Any], Any, str | None, list]:
    reason, kind = classify_failure(exc)
    message = _failure_message(exc)
    command = getattr(exc, "command", None)
    verdict = unknown(reason, f"{stage}: {kind}: {message}")
    verdict = Verdict("unknown", reason=reason, detail=verdict.detail, evidence={
        "failure": kind, "stage": stage, "exception": type(exc).__name__,
        **({"fix": command} if command else {})})
    provenance = _provenance(backend, opts, policy_info, run_id, start)
    try:
        statement = backend.statement(row)
    except Exception:
        statement = str(row.get("id"))
    graph, root = search_graph({"status": "unknown", "stop_reason": kind, "nodes": [],
                                "edges": []}, backend=opts.backend, statement=statement,
                               provenance={**provenance.to_dict(), "policy": policy_info})
    result = {
        "id": str(row.get("id")), "status": "unknown", "stop_reason": kind, "proof": None,
        **verdict.to_dict(), "failure": {"kind": kind, "stage": stage, "message": message},
        "counts": {}, "times": {}, "policy": policy_info, "provenance": provenance.to_dict(),
        "error": None,
    }
    opts.report(f"row {row.get('id')!r}: unknown ({reason.value}, {kind}): {message[:300]}")
    return result, graph, root, [(root, verdict, provenance)]


def prove_row(row: Mapping[str, Any], backend: Backend, policy: Policy, policy_info: dict,
              opts: ProveOptions, run_id: str) -> tuple[dict[str, Any], Any, str | None, list]:
    """Search one theorem and re-check its proof; returns (result, graph, root, verdicts).

    Never raises for a failure of this theorem, whatever its source (see the module
    docstring); raises RowError for a row that is not a theorem row and ProveError when the
    backend cannot run here."""
    start = time.perf_counter()
    stage = "setup"
    env: Any = None
    try:
        env = backend.make_env(row, opts)
        stage = "search"
        try:
            search = best_first_search(env, policy, opts.search)
        finally:  # a Dojo holds a whole Lean process: never keep one per finished row
            _close(env)
        data = search.to_dict()
        stage = "recheck"
        if search.status == "proved" and search.proof is not None:
            verdict = theorem_verdict(backend.recheck(row, list(search.proof), opts,
                                                      deadline=getattr(env, "deadline", None)))
        elif search.status == "failed":
            verdict = unknown(UnknownReason.BUDGET, "every candidate tactic failed")
        else:
            verdict = unknown(UnknownReason.BUDGET, f"search stopped: {search.stop_reason}")
        verdict = getattr(env, "preflight_verdict", None) or verdict  # vacuous / refuted
    except backend.unavailable() as err:
        raise ProveError(f"{opts.backend} backend unavailable: {err}") from err
    except (RowError, ProveError, PolicyRequestError):  # a dead model server: not a verdict
        raise
    except Exception as exc:  # one theorem's failure: its row's unknown, the run goes on
        if stage == "setup" and _bad_input(exc):
            raise
        return _failed_row(row, backend, policy_info, opts, run_id, start, exc, stage)
    provenance = _provenance(backend, opts, policy_info, run_id, start)
    graph, root = search_graph(data, backend=opts.backend, statement=backend.statement(row),
                               provenance={**provenance.to_dict(), "policy": policy_info})
    result = {
        "id": str(row.get("id")), "status": search.status, "stop_reason": search.stop_reason,
        "proof": search.proof, **verdict.to_dict(), "counts": search.counts,
        "times": search.times, "policy": policy_info, "provenance": provenance.to_dict(),
        "error": None,
    }
    return result, graph, root, [(root, verdict, provenance)]


def theorem_verdict(recheck: Verdict) -> Verdict:
    """The theorem's verdict from the re-check of the proof its search found: a proof the
    re-check rejects (a tactic that fails on replay, goals left open, a Lean cheat) says nothing
    of the theorem, so it is ``unknown: recheck-failed``, its evidence the re-check's with
    ``recheck`` set to the re-check's verdict; only a counter-model (the preflight's) may call
    a theorem refuted."""
    if recheck.kind != "refuted":
        return recheck
    detail = "the search's proof failed its re-check" + (f": {recheck.detail}"
                                                          if recheck.detail else "")
    return Verdict("unknown", reason=UnknownReason.RECHECK_FAILED, detail=detail,
                   evidence={**recheck.evidence, "recheck": recheck.kind})


def _close(env: Any) -> None:
    """Close ``env`` if it holds a process of its own (LeanDojoEnv); REPL processes belong to
    the job's pool and stay warm."""
    close = getattr(env, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # closing a dead Dojo: nothing left to free
            pass


def _bad_input(exc: BaseException) -> bool:
    """A ValueError from building the environment is the ROW's fault (z3's TheoremError: the
    caller records a bad row), except a Lean statement that does not elaborate (an unknown:
    not-formalized, like any other Lean failure)."""
    from prover.lean.repl import LeanSetupError

    return isinstance(exc, ValueError) and not isinstance(exc, LeanSetupError)


def release(opts: ProveOptions) -> None:
    """Close what a job opened through ``opts.resources`` (Dojo sessions, REPL processes)."""
    for close in opts.resources.pop("closers", []):
        close()
    pool = opts.resources.pop("lean_pool", None)
    if pool is not None and hasattr(pool, "close"):
        pool.close()
