"""The ``prove`` job: theorems -> environment + policy -> best-first search -> re-check -> graph.

Backends and policies are chosen from registries (name -> factory), never a chain of ifs.
Every theorem is one item of a resumable run; its search DAG, proof path and provenance
(backend, policy with model and sampling parameters, search budgets) go to the store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prover.policy.registry import (
    POLICIES,
    PolicySpecError,
    describe_policy,
)
from prover.policy.registry import (
    make_policy as _make_policy,
)
from prover.proving import (
    BACKENDS,
    Backend,
    ProveError,
    ProveOptions,
    prove_row,
    release,
    replay,
)
from prover.runs import Progress, ResumableRun, file_digest, make_run_id
from search.protocols import Policy

__all__ = ["BACKENDS", "POLICIES", "Backend", "ProveError", "ProveOptions", "describe_policy",
           "make_policy", "prove_row", "read_theorems", "replay", "run_prove"]


def make_policy(spec: str, family: str, seed: int = 0) -> Policy:
    """:func:`prover.policy.registry.make_policy`, with a bad spec raised as :class:`ProveError`."""
    try:
        return _make_policy(spec, family, seed)
    except PolicySpecError as err:
        raise ProveError(str(err)) from err


def read_theorems(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(0-based line, row or error message) for each non-blank line of a JSONL theorem file."""
    from formalizer.inputs import InputError, decode_jsonl

    for number, obj in decode_jsonl(path):
        yield number - 1, (obj.message if isinstance(obj, InputError) else obj)


def run_prove(path: Path, opts: ProveOptions) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Prove every theorem of a JSONL file (resumable); returns (summary, results)."""
    backend = BACKENDS.get(opts.backend)
    if backend is None:
        raise ProveError(f"unknown backend {opts.backend!r}; choose one of {', '.join(BACKENDS)}")
    policy = make_policy(opts.policy, backend.family, opts.search.seed)
    policy_info = describe_policy(policy, opts.policy)
    config = {"backend": opts.backend, "policy": policy_info, "search": asdict(opts.search),
              "limit": opts.limit}
    run_id = make_run_id("prove", file_digest(path), json.loads(json.dumps(config, default=str)))
    run = ResumableRun(run_id=run_id, command="prove", config=json.loads(json.dumps(
        config, default=str)), store_path=opts.store, out_path=opts.out, fresh=opts.fresh)
    done = run.open()
    rows = list(read_theorems(path))[: opts.limit] if opts.limit else list(read_theorems(path))
    progress = Progress(len(rows), "prove", opts.progress)
    start = time.perf_counter()
    finished = False
    try:
        for seen, (line, row) in enumerate(rows, start=1):
            key = str(line)
            if key in done:
                continue
            if isinstance(row, str):
                opts.report(f"{path}:{line + 1}: {row}")
                run.commit(key, line, {"id": str(line), "line": line, "error": row})
                continue
            try:
                result, graph, root, verdicts = prove_row(row, backend, policy, policy_info,
                                                          opts, run_id)
            except ProveError:
                raise
            except ValueError as err:  # a bad theorem row (TheoremError is a ValueError)
                opts.report(f"{path}:{line + 1}: {err}")
                run.commit(key, line, {"id": str(row.get("id", line)), "line": line,
                                       "error": str(err)})
                continue
            result["line"] = line
            run.commit(key, line, result, graph=graph, root=root, verdicts=verdicts)
            progress.update(seen)
        finished = True
    finally:
        results = run.finish(progress, finished=finished)
        release(opts)
    ok = [r for r in results if not r.get("error")]
    summary = {
        "run_id": run_id, "resumed": run.resumed, "theorems": len(results),
        "rejected": len(results) - len(ok),
        "proved": sum(1 for r in ok if r.get("verdict") == "verified"),
        "search_proved_but_recheck_failed": sum(
            1 for r in ok if r.get("status") == "proved" and r.get("verdict") != "verified"),
        "policy": policy_info["spec"], "backend": opts.backend,
        "wall_s": round(time.perf_counter() - start, 3),
    }
    return summary, results
