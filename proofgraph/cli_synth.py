"""``proofgraph synth proofs|steps|mutate INPUT --out DIR``: synthetic training data at scale.

Each job runs on a local process pool (``--workers``) or on Ray (``--ray``, ``--ray-address``),
writes JSONL + Parquet shards and ``manifest.json`` under ``--out``, and resumes after any kill
when run again with the same arguments (items that failed for an infrastructure reason, such
as a model server that was down, are retried; ``--retry-failed`` retries every failed item).
Exit codes: 0 every item succeeded, 1 the run failed (no item succeeded), 2 usage error or
unusable input, 3 some items failed (the summary counts them by reason and kind; status
``incomplete`` when a rerun would retry some).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_RUN_HELP = "synthetic data: proofs (search transitions), steps (labelled CoT), mutate (theorems)"


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_float(text: str) -> float:
    value = _nonneg_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    from proofgraph.cli import positive

    p.add_argument("input", type=Path, help="input file (JSON Lines)")
    p.add_argument("--out", type=Path, required=True, help="output folder (shards, manifest)")
    p.add_argument("--store", type=Path, help="SQLite store (default: OUT/synth.sqlite)")
    p.add_argument("--workers", type=positive, help="worker processes / Ray actors "
                                                    "(default: the CPU count)")
    p.add_argument("--ray", action="store_true", help="run on Ray (a local cluster)")
    p.add_argument("--ray-address", help="run on an existing Ray cluster at this address")
    p.add_argument("--shard-rows", type=positive, default=10_000, help="rows per shard")
    p.add_argument("--no-parquet", dest="parquet", action="store_false",
                   help="write JSONL shards only")
    p.add_argument("--worker-mem-gb", type=_nonneg_float, default=8.0,
                   help="address-space limit per worker in GiB (0 = none)")
    p.add_argument("--item-timeout", type=_nonneg_float, default=600.0,
                   help="seconds before a hung item is killed and failed (0 = none)")
    p.add_argument("--limit", type=positive, help="only the first N items")
    p.add_argument("--group-items", type=positive, default=64,
                   help="group commit: at most N items per store transaction")
    p.add_argument("--group-s", type=_positive_float, default=1.0,
                   help="group commit: commit an open group after S seconds")
    p.add_argument("--fresh", action="store_true",
                   help="discard another run's output in --out (and its store) and start over")
    p.add_argument("--retry-failed", action="store_true",
                   help="retry every failed item, not only infrastructure failures")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress on stderr (default: when stderr is a terminal)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


def register(sub: Any) -> None:
    """Add ``synth`` with its ``proofs``, ``steps`` and ``mutate`` subcommands to ``sub``."""
    from proofgraph.cli import positive

    parser = sub.add_parser("synth", help=_RUN_HELP, description=_RUN_HELP)
    tasks = parser.add_subparsers(dest="task", required=True)
    proofs = tasks.add_parser("proofs", help="prove theorems; emit proofs and every search "
                                             "transition, labelled positive/negative")
    _common(proofs)
    proofs.add_argument("--backend", default="z3", help="z3 | lean-repl | leandojo")
    proofs.add_argument("--policy", default="symbolic",
                        help="symbolic | hf:PATH | openai:URL#MODEL | vllm:PATH")
    proofs.add_argument("--max-expansions", type=positive, default=200)
    proofs.add_argument("--tactic-timeout", type=float, default=5.0, help="seconds per tactic")
    proofs.add_argument("--wall-timeout", type=float, default=60.0, help="seconds per theorem")
    proofs.add_argument("--batch-size", type=positive, default=8)
    proofs.add_argument("--candidates", type=positive, default=8)
    proofs.add_argument("--shared-policy", action=argparse.BooleanOptionalAction, default=None,
                        help="Ray: serve the policy from one batching actor (default: for "
                             "model policies)")
    steps = tasks.add_parser("steps", help="step-labelled CoT data from solutions")
    _common(steps)
    steps.add_argument("--mutations", type=int, default=4, help="mutations per solution")
    steps.add_argument("--seed", type=int, default=0)
    steps.add_argument("--timeout-ms", type=positive, default=2000, help="Z3 timeout per query")
    steps.add_argument("--format", dest="fmt", default="auto",
                       choices=("auto", "steps", "gsm8k", "text"))
    mutate = tasks.add_parser("mutate", help="new theorems from proved Z3 theorems")
    _common(mutate)
    mutate.add_argument("--per-theorem", type=int, default=4)
    mutate.add_argument("--seed", type=int, default=0)
    mutate.add_argument("--budget", type=float, default=5.0, help="seconds per label check")
    parser.set_defaults(handler=run)


def task_options(args: argparse.Namespace) -> dict[str, Any]:
    """The task constructor's keyword arguments from the parsed command line."""
    if args.task == "proofs":
        return {"backend": args.backend, "policy": args.policy,
                "max_expansions": args.max_expansions, "tactic_timeout_s": args.tactic_timeout,
                "wall_timeout_s": args.wall_timeout, "batch_size": args.batch_size,
                "num_candidates": args.candidates}
    if args.task == "steps":
        return {"mutations_per_solution": args.mutations, "seed": args.seed,
                "timeout_ms": args.timeout_ms, "fmt": args.fmt}
    return {"per_theorem": args.per_theorem, "seed": args.seed, "budget_s": args.budget}


EXIT_RUN_FAILED = 1


def _reasons(summary: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in summary["failed_by_reason"].items()) or "none"


def _print_summary(summary: dict[str, Any]) -> None:
    failed = _reasons(summary)
    kinds = ", ".join(f"{k}: {v}" for k, v in summary["rows_by_kind"].items()) or "none"
    lines = [
        f"run {summary['run_id']} ({summary['task']}, {summary['executor']}"
        f"{', resumed' if summary['resumed'] else ''}): {summary['status']}",
        f"items: {summary['items']}/{summary['items_total']}  ok: {summary['ok']}  "
        f"failed: {summary['failed']} ({failed}; by kind: "
        f"{', '.join(f'{k}: {v}' for k, v in summary['failed_by_kind'].items()) or 'none'})",
        f"rows: {summary['rows']} ({kinds})  duplicates dropped: "
        f"{summary['duplicates_dropped']}",
        f"this session: {summary['items_this_session']} items, {summary['rows_this_session']} "
        f"rows in {summary['wall_s']} s ({summary['rows_per_s']} rows/s; commit path "
        f"{summary['commit_s']} s)",
        f"shards: {summary['shards']} in {summary['out']}",
    ]
    print("\n".join(lines))


def run(args: argparse.Namespace) -> int:
    """Run one synth job from parsed arguments; returns the exit code."""
    import json
    from contextlib import nullcontext

    from proofgraph.cli import EXIT_OK, EXIT_REJECTED, fail
    from proofgraph.synth_api import SynthError, make_task
    from prover.records.runs import RunConflict
    from prover.records.store import StoreError
    from prover.synth.engine import (
        TASK_MODULES,
        SynthInputError,
        SynthOptions,
        early_workers,
        run_synth,
    )

    try:
        opts = SynthOptions(
            out=args.out, store=args.store, workers=args.workers,
            ray=args.ray, ray_address=args.ray_address,
            shared_policy=getattr(args, "shared_policy", None), shard_rows=args.shard_rows,
            limit=args.limit, fresh=args.fresh, retry_failed=args.retry_failed,
            progress=args.progress, parquet=args.parquet,
            worker_mem_gb=args.worker_mem_gb, item_timeout_s=args.item_timeout or None,
            group_items=args.group_items, group_s=args.group_s,
            report=lambda message: print(message, file=sys.stderr))
        early = TASK_MODULES.get(args.task) if Path(args.input).is_file() else None
        with early_workers(opts, early) if early else nullcontext():
            task = make_task(args.task, args.input, task_options(args))  # workers start now
            summary = run_synth(task, args.input, opts)
    except (SynthError, SynthInputError) as err:
        return fail(str(err))
    except (RunConflict, StoreError):
        raise  # cli.main prints these as one clear line
    except RuntimeError as err:  # missing pyarrow or ray, unusable backend
        return fail(str(err))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    else:
        _print_summary(summary)
    infra = summary["failed_by_kind"].get("infra", 0)
    retry = (f"{infra} item(s) failed for an infrastructure reason (a service down, a worker "
             "killed, a timeout); run the same command again to retry them")
    if summary["status"] == "failed":
        print(f"proofgraph: error: synth {args.task}: every item failed "
              f"({_reasons(summary)}){'; ' + retry if infra else ''}", file=sys.stderr)
        return EXIT_RUN_FAILED
    if infra:
        print(f"proofgraph: {retry}", file=sys.stderr)
    return EXIT_REJECTED if summary["failed"] else EXIT_OK
