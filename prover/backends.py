"""The proving backends and their registry :data:`BACKENDS` (name -> ``proving.Backend``).

``z3`` (:mod:`prover.z3.env`, re-checked by a Z3 replay in a fresh context), ``lean-repl`` (the
Lean REPL, per-header process pool) and ``leandojo`` (lean-dojo's Dojo). BOTH Lean backends are
re-checked by the one trust audit (:func:`prover.lean.audit.audit`: lint, tactic replay,
compile, ``#print axioms`` whitelist, statement check) in a REPL; a leandojo proof with no REPL
configured beside the Dojo is ``unknown: not-audited``, never verified. Backend modules are
imported lazily, so listing the registry starts no prover and needs neither Lean nor lean-dojo.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from prover.proving import Backend, ProveOptions, RowError
from prover.records.verdicts import UnknownReason, Verdict, unknown
from search import protocols as sp
from search.protocols import Environment


def _z3_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    """The row's Z3 environment; its preflight and every Z3 call draw from one deadline, the
    row's ``wall_timeout_s`` from now (the environment is made right before its search)."""
    from prover.z3.env import Z3Env

    return Z3Env(row, deadline=time.monotonic() + opts.search.wall_timeout_s)


def _z3_recheck(row: Mapping[str, Any], proof: list[str], opts: ProveOptions,
                deadline: float | None = None) -> Verdict:
    """The proof replayed in a fresh context, within what is left of the row's ``deadline``
    (a :func:`time.monotonic` instant) when one is given."""
    from prover.z3.env import check_proof

    return check_proof(row, proof, budget_s=max(opts.search.tactic_timeout_s, 1.0) * 2,
                       deadline=deadline)


def _z3_version(opts: ProveOptions | None = None) -> str:
    from prover.z3.gateway import z3_version

    return f"z3 {z3_version()}"


def _z3_statement(row: Mapping[str, Any]) -> str:
    return f"{row.get('smt2', '')} ⊢ {row.get('goal', '')}"


# --------------------------------------------------------------------------- Lean: REPL
def repl_config(opts: ProveOptions) -> Any:
    """The job's :class:`~prover.lean.repl.ReplConfig`: environment variables, then
    ``lean_command`` / ``repl_command`` (the whole command line) when given."""
    from prover.lean.repl import ReplConfig

    overrides: dict[str, Any] = {"header_timeout_s": opts.lean_header_timeout_s}
    if opts.lean_command:
        overrides["command"] = tuple(opts.lean_command)
    return ReplConfig.from_env(repl_command=opts.repl_command, **overrides)


def _lean_pool(opts: ProveOptions) -> Any:
    """The job's per-header pool of REPL processes, created on first use."""
    from prover.lean.pool import HeaderPool

    if "lean_pool" not in opts.resources:
        opts.resources["lean_pool"] = HeaderPool(repl_config(opts),
                                                 max_processes=opts.lean_processes)
    return opts.resources["lean_pool"]


def _statement_header(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """The row's Lean ``statement`` and ``header`` (default empty), or None when either is
    missing or not a string."""
    statement, header = row.get("statement"), row.get("header", "")
    if not isinstance(statement, str) or not isinstance(header, str):
        return None
    return statement, header


def _lean_row(row: Mapping[str, Any]) -> tuple[str, str]:
    found = _statement_header(row)
    if found is None:
        raise RowError(f"row {row.get('id')!r}: lean rows need 'statement' (and optional "
                       "'header') strings")
    return found


def _lean_repl_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    from prover.lean.env import LeanReplEnv

    statement, header = _lean_row(row)
    return LeanReplEnv(statement, _lean_pool(opts), header=header)


def audit_proof(statement: str, header: str, proof: list[str], opts: ProveOptions) -> Verdict:
    """The trust audit of a tactic proof in the job's REPL for ``header``; the verdict
    carries the per-check results."""
    from prover.lean.audit import audit
    from prover.lean.header import detach_docstrings

    header, statement, _ = detach_docstrings(header, statement)
    with _lean_pool(opts).lease(header) as repl:
        report = audit(statement, None, repl, header=header, tactics=proof)
    checks = [{"name": c.name, "status": c.status, "detail": str(c.detail)[:500]}
              for c in report.checks]
    verdict = report.verdict
    return Verdict(verdict.kind, reason=verdict.reason, tolerance=verdict.tolerance,
                   detail=verdict.detail, evidence={**verdict.evidence, "audit": checks})


def _lean_recheck(row: Mapping[str, Any], proof: list[str], opts: ProveOptions,
                  deadline: float | None = None, *, beside_dojo: bool = False) -> Verdict:
    """The one trust audit of a Lean proof, for both Lean backends (``deadline`` is unused:
    the audit's REPL calls carry their own timeouts). ``beside_dojo``: the proof came from a
    Dojo, so the audit needs a REPL configured beside it; without one, or without the row's
    ``statement`` (and ``header``) text, the verdict is ``unknown: not-audited`` (lean-dojo's
    own "proof finished" accepts ``native_decide`` and forged axioms)."""
    if beside_dojo and not repl_beside_dojo(opts):
        return unknown(UnknownReason.NOT_AUDITED,
                       "the Dojo found a proof, but no Lean REPL is configured to audit it "
                       "(give --repl-command or PROOFGRAPH_LEAN_REPL_CMD for the traced repo)")
    found = _statement_header(row)
    if found is None:
        return unknown(UnknownReason.NOT_AUDITED,
                       "the row has no 'statement' (and 'header') text for the audit")
    return audit_proof(*found, proof, opts)


def _lean_version(opts: ProveOptions | None = None) -> str:
    """The Lean version (``lean --version``) and REPL commit read on this machine."""
    from prover.lean.doctor import backend_version

    return backend_version(repl_config(opts or ProveOptions()))


# --------------------------------------------------------------------------- Lean: lean-dojo
def _dojo_theorem(row: Mapping[str, Any]) -> Any:
    from prover.lean.dojo import make_theorem

    missing = [k for k in ("repo", "file", "theorem") if not isinstance(row.get(k), str)]
    if missing:
        raise RowError(f"leandojo rows need {', '.join(missing)} (a traced local repo)")
    return make_theorem(row["repo"], row["file"], row["theorem"], commit=row.get("commit"))


def _dojo_env(row: Mapping[str, Any], opts: ProveOptions) -> Environment:
    from prover.lean.dojo import LeanDojoEnv

    env = LeanDojoEnv(_dojo_theorem(row), timeout_s=max(int(opts.search.tactic_timeout_s), 1),
                      startup_timeout_s=max(int(opts.dojo_startup_timeout_s), 1))
    opts.resources.setdefault("closers", []).append(env.close)
    return env


def repl_beside_dojo(opts: ProveOptions) -> bool:
    """True when the user configured a REPL for auditing Dojo proofs: ``--repl-command`` /
    ``lean_command``, ``PROOFGRAPH_LEAN_REPL_CMD`` or ``PROOFGRAPH_LEAN_REPL``."""
    from prover.lean.repl import REPL_CMD_ENV

    return bool(opts.repl_command or opts.lean_command or os.environ.get(REPL_CMD_ENV)
                or os.environ.get("PROOFGRAPH_LEAN_REPL"))


def _dojo_version(opts: ProveOptions | None = None) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"lean-dojo {version('lean-dojo')}"
    except PackageNotFoundError:
        return "lean-dojo (not installed)"


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
    """Exceptions meaning "Lean is not usable on this machine" (no toolchain, no lean-dojo)."""
    from prover.lean.repl import LeanUnavailable

    if kind == "dojo":
        from prover.lean.dojo import DojoUnavailable

        return (LeanUnavailable, DojoUnavailable)
    return (LeanUnavailable,)


def _dojo_statement(row: Mapping[str, Any]) -> str:
    return f"{row.get('repo')}:{row.get('file')}:{row.get('theorem')}"


BACKENDS: dict[str, Backend] = {
    "z3": Backend("z3", _z3_env, _z3_recheck, _z3_statement, _z3_version),
    "lean-repl": Backend("lean", _lean_repl_env, _lean_recheck,
                         lambda row: str(row.get("statement")), _lean_version,
                         lambda: _lean_errors("repl")),
    "leandojo": Backend("lean", _dojo_env, partial(_lean_recheck, beside_dojo=True),
                        _dojo_statement, _dojo_version, lambda: _lean_errors("dojo")),
}
