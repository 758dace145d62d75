"""``proofgraph`` command line: check, entail, prove, export, runs, and the EXTENSIONS.

Exit codes: 0 all rows processed; 2 usage error or unusable input file; 3 some rows rejected.
Bad input never prints a traceback: one clear line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_REJECTED = 0, 2, 3
EXTENSIONS = ("proofgraph.cli_store", "proofgraph.cli_formalize", "proofgraph.cli_synth", "proofgraph.cli_show",
              "proofgraph.cli_audit", "proofgraph.cli_doctor", "proofgraph.cli_eval")
"""Modules with ``register(subparsers)`` that add one subcommand each; the subcommand's parser
sets ``handler`` (``args -> exit code``) with ``set_defaults``. They import heavy code lazily."""
_EXAMPLES = Path(__file__).parent / "examples"


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def seconds(text: str) -> float:
    """A duration in seconds for argparse: a finite number >= 0, else a clear error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def add_scale_options(p: argparse.ArgumentParser) -> None:
    """The options of commands that run many searches: K in flight on one batched policy,
    worker processes, Ray (``prove`` and ``eval`` share them)."""
    p.add_argument("--concurrency", type=positive, default=1,
                   help="theorem searches in flight (K), sharing one batched policy")
    p.add_argument("--batch-window-ms", type=float, default=10.0,
                   help="how long the policy queue waits to merge calls of K searches")
    p.add_argument("--max-batch", type=positive, default=64,
                   help="most states in one merged policy call")
    p.add_argument("--workers", type=positive, default=1,
                   help="worker processes (or Ray tasks with --ray), each with its own "
                        "K searches and policy")
    p.add_argument("--ray", action="store_true",
                   help="run on Ray (--workers of them; a local cluster unless --ray-address)")
    p.add_argument("--ray-address", help="an existing Ray cluster (implies --ray)")


def add_limit_options(p: argparse.ArgumentParser, row: str) -> None:
    """``--row-timeout`` and ``--in-process`` of the commands whose rows run in a killable
    worker by default (``check``, ``entail``, ``formalize``); ``row`` names a row in the help."""
    p.add_argument("--row-timeout", type=seconds, default=None, metavar="SECONDS",
                   help=f"hard wall-clock limit per {row} (default 60): the rows run in a "
                        "worker process that is killed past it; the row is then an error "
                        "with reason timeout (tried again on resume) and the run goes on")
    p.add_argument("--in-process", action="store_true",
                   help="run the rows in this process (no worker start-up, but no hard "
                        "limit: a native hang that ignores Z3's interrupt is not stopped)")


def command_line(text: str) -> str:
    """A ``--repl-command`` for argparse: it must shell-split (else a usage error)."""
    from prover.lean.process import ReplCommandError, split_command

    try:
        split_command(text)
    except ReplCommandError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="input file (JSON Lines; for check also plain text)")
    p.add_argument("--out", type=Path, help="write one JSON result per row here (resumable)")
    p.add_argument("--store", type=Path, help="SQLite store for runs, graphs and verdicts")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--timeout-ms", type=positive, default=2000, help="Z3 timeout per query")
    p.add_argument("--rlimit", type=positive, default=5_000_000, help="Z3 resource limit")
    p.add_argument("--limit", type=positive, help="process only the first N rows")
    p.add_argument("--fresh", action="store_true",
                   help="replace an --out file that holds another run's results")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress on stderr (a line every few seconds when stderr is not a "
                        "terminal; --no-progress: none)")
    p.add_argument("--workers", type=positive, default=None,
                   help="worker processes (default: one per core, at most 4, for an input "
                        "of 200 rows or more; else 1; the rows run in worker processes "
                        "unless --in-process)")
    p.add_argument("--ray", action="store_true",
                   help="run the rows on Ray actors (--workers of them, default 1) instead")


def _version_line() -> str:
    """``proofgraph X.Y.Z (Python A.B.C, z3 D.E.F)`` for ``--version``."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from prover.records.verdicts import package_version

    try:
        z3 = f", z3 {version('z3-solver')}"
    except PackageNotFoundError:  # z3 built from source: the version line still prints
        z3 = ""
    return f"proofgraph {package_version()} (Python {platform.python_version()}{z3})"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="proofgraph",
        description="Formal verification for LLM reasoning: step-check chain-of-thought math, "
                    "decide first-order entailment, record proof graphs with provenance.")
    parser.add_argument("--version", action="version", version=_version_line())
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="step-check chain-of-thought solutions",
                           description="Per-step verdicts for CoT math solutions: calculator "
                                       "annotations and prose equations, exact arithmetic "
                                       "first, Z3 for unknowns.")
    _add_common(check)
    check.add_argument("--format", dest="fmt", default="auto",
                       choices=("auto", "steps", "gsm8k", "text"))
    check.add_argument("--html", type=Path, help="write a self-contained HTML step report")
    check.add_argument("--formalizer", default="rules",
                       help="rules (deterministic arithmetic extractor) | llm:hf:PATH | "
                            "llm:openai:URL#MODEL (LLM step formalization, local + grounded)")
    check.add_argument("--llm-samples", type=positive, default=4,
                       help="with --formalizer llm:...: samples per step (majority choice)")
    check.add_argument("--llm-max-new-tokens", type=positive, default=256,
                       help="with --formalizer llm:...: token budget per sample")
    check.add_argument("--solver-budget", type=seconds, default=None, metavar="SECONDS",
                       help="solver budget per solution in seconds (default 0.25), counted as "
                            "Z3 resource units (1.7M per second plus 14k per call, so verdicts "
                            "do not depend on the machine's load); what exact arithmetic cannot "
                            "decide after that is unknown: budget")
    add_limit_options(check, "solution")
    entail = sub.add_parser("entail", help="premises ⊢ conclusion in first-order logic",
                            description="Rows {id, premises, conclusion} in FOLIO's FOL syntax;"
                                        " answers True / False / Uncertain with evidence.")
    _add_common(entail)
    add_limit_options(entail, "row")
    prove = sub.add_parser("prove", help="prove theorems by best-first search (Z3, Lean)",
                           description="Best-first proof search with batched tactic generation; "
                                       "every proof is replayed and re-checked before it is "
                                       "reported, and the search DAG goes to the store.")
    prove.add_argument("input", type=Path, nargs="?",
                       help="theorems as JSON Lines (z3: {id, smt2, goal}; lean-repl: "
                            "{id, statement, header?})")
    prove.add_argument("--row", help="one theorem row as JSON instead of an input file")
    prove.add_argument("--repo", help="leandojo: a traced local Lean repo")
    prove.add_argument("--file", help="leandojo: the file of the theorem, relative to --repo")
    prove.add_argument("--theorem", help="leandojo: the theorem's full name")
    prove.add_argument("--backend", default="z3", help="z3 | lean-repl | leandojo")
    prove.add_argument("--policy", default="symbolic",
                       help="symbolic | hf:PATH | openai:URL#MODEL | vllm:PATH")
    prove.add_argument("--batch-size", type=positive, default=8,
                       help="frontier nodes expanded per policy call")
    prove.add_argument("--candidates", type=positive, default=8, help="tactics per state")
    prove.add_argument("--tactic-timeout", type=float, default=5.0, help="seconds per tactic")
    prove.add_argument("--wall-timeout", type=float, default=60.0, help="seconds per theorem")
    prove.add_argument("--max-expansions", type=positive, default=1000)
    prove.add_argument("--max-depth", type=positive, default=64)
    prove.add_argument("--length-normalize", action="store_true",
                       help="rank by mean instead of total log-probability")
    prove.add_argument("--seed", type=int, default=0)
    prove.add_argument("--out", type=Path, help="one JSON result per theorem (resumable)")
    prove.add_argument("--store", type=Path, help="SQLite store for runs and search graphs")
    prove.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    prove.add_argument("--limit", type=positive, help="prove only the first N theorems")
    prove.add_argument("--fresh", action="store_true",
                       help="replace an --out file that holds another run's results")
    prove.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    prove.add_argument("--repl-command", type=command_line,
                       help="lean: the whole Lean REPL command line, e.g. \"docker run -i img "
                       "repl\" (overrides `lake env <repl>` and PROOFGRAPH_LEAN_REPL_CMD)")
    prove.add_argument("--dojo-startup-timeout", type=float, default=600.0,
                       help="leandojo: seconds for a Dojo to start (apart from --tactic-timeout)")
    prove.add_argument("--lean-processes", type=positive,
                       help="lean-repl: REPL processes kept warm (default: from cores and memory)")
    add_scale_options(prove)
    from proofgraph.cli_eval import prove_mode, whole_option  # whole proofs: `eval --mode whole`

    prove.add_argument("--mode", type=prove_mode, default="search", metavar="search",
                       help="best-first search (whole-proof mode is `eval --mode whole`)")
    for flag in ("--repair-rounds", "--prompt-format"):
        prove.add_argument(flag, type=whole_option, help=argparse.SUPPRESS)
    sub.add_parser("example", help="print the path of the shipped GSM8K example file")
    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    return parser


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print ``message`` as one ``proofgraph: error:`` line on stderr; return ``code``."""
    from proofgraph.render import clean_message

    print(f"proofgraph: error: {' '.join(clean_message(message).split())}", file=sys.stderr)
    return code


def report(message: str) -> None:
    """A job's per-row message on stderr, on one line, in our words (never Python's)."""
    from proofgraph.render import clean_message

    print(" ".join(clean_message(message).split()), file=sys.stderr)


def print_summary(summary: dict[str, Any], as_json: bool, command: str = "run",
                  results: list[dict[str, Any]] | None = None) -> None:
    """``--json``: the summary as one JSON line; else the table and what failed
    (:func:`proofgraph.render.render_run`), coloured only on a terminal."""
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return
    from proofgraph.render import render_run, use_color

    print(render_run(command, summary, results, color=use_color(sys.stdout)))


def _job(args: argparse.Namespace) -> int:
    from proofgraph.run_options import default_workers

    in_process = getattr(args, "in_process", False)
    row_timeout = getattr(args, "row_timeout", None)
    if in_process and ((args.workers or 1) > 1 or args.ray or row_timeout is not None):
        return fail("--in-process cannot be combined with --workers, --ray or --row-timeout")
    if args.workers is None:
        args.workers = default_workers(
            args.input, in_process=in_process, ray=args.ray,
            llm=getattr(args, "formalizer", "rules") != "rules",
            fmt=getattr(args, "fmt", None), limit=args.limit)
    if row_timeout == 0:
        return fail("--row-timeout must be > 0 seconds")
    import contextlib

    ahead: Any = contextlib.nullcontext()
    local = not (in_process or args.ray or getattr(args, "formalizer", "rules") != "rules")
    if local:
        # the local workers start now: their start-up (interpreter, imports, a first row:
        # the warm_up() of proofgraph.jobs or proofgraph.entail_job) overlaps this process's
        # own; the pool takes them
        from prover.records.executors import WORKER_MEM_GB
        from prover.synth.executor import prestarted

        module = "proofgraph.jobs" if args.command == "check" else "proofgraph.entail_job"
        ahead = prestarted(args.workers, WORKER_MEM_GB, [module])
    with ahead:
        if args.command == "entail":
            return _run_entail(args, in_process, row_timeout)
        return _run_check(args, in_process, row_timeout)


def _run_options(args: argparse.Namespace, in_process: bool,
                 row_timeout: float | None) -> dict[str, Any]:
    """The :class:`proofgraph.run_options.RunOptions` fields ``check`` and ``entail`` share."""
    from proofgraph.run_options import ROW_TIMEOUT_S

    return {"out": args.out, "store": args.store, "timeout_ms": args.timeout_ms,
            "rlimit": args.rlimit, "fresh": args.fresh, "progress": args.progress,
            "limit": args.limit, "workers": args.workers, "ray": args.ray,
            "in_process": in_process,
            "row_timeout_s": ROW_TIMEOUT_S if row_timeout is None else row_timeout,
            "report": report}


def _run_entail(args: argparse.Namespace, in_process: bool, row_timeout: float | None) -> int:
    from proofgraph.entail_job import EntailOptions, run_entail

    opts = EntailOptions(**_run_options(args, in_process, row_timeout))
    summary, results = run_entail(args.input, opts)
    print_summary(summary, args.json, args.command, results)
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK


def _run_check(args: argparse.Namespace, in_process: bool, row_timeout: float | None) -> int:
    from proofgraph.jobs import JobOptions, run_check

    opts = JobOptions(html=getattr(args, "html", None), fmt=getattr(args, "fmt", "auto"),
                      formalizer=getattr(args, "formalizer", "rules"),
                      llm_samples=getattr(args, "llm_samples", 4),
                      llm_max_new_tokens=getattr(args, "llm_max_new_tokens", 256),
                      solver_budget_s=getattr(args, "solver_budget", None),
                      **_run_options(args, in_process, row_timeout))
    summary, results = run_check(args.input, opts)
    print_summary(summary, args.json, args.command, results)
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK


def _prove(args: argparse.Namespace) -> int:
    from proofgraph.prove_job import ProveError, ProveOptions, ScaleOptions, run_prove
    from search.best_first import SearchConfig

    if args.repo or args.file or args.theorem:
        if not (args.repo and args.file and args.theorem) or args.row or args.input:
            return fail("--repo, --file and --theorem go together, without INPUT or --row")
        args.row = json.dumps({"id": args.theorem, "repo": args.repo, "file": args.file,
                               "theorem": args.theorem})
        args.backend = "leandojo"
    if (args.input is None) == (args.row is None):
        return fail("give either an input file or --row JSON (not both)")
    try:
        search = SearchConfig(batch_size=args.batch_size, num_candidates=args.candidates,
                              tactic_timeout_s=args.tactic_timeout,
                              wall_timeout_s=args.wall_timeout,
                              max_expansions=args.max_expansions, max_depth=args.max_depth,
                              length_normalize=args.length_normalize, seed=args.seed)
        scale = ScaleOptions(concurrency=args.concurrency, window_s=args.batch_window_ms / 1000,
                             max_batch=args.max_batch, workers=args.workers,
                             ray=args.ray or args.ray_address is not None,
                             ray_address=args.ray_address)
    except ValueError as err:
        return fail(str(err))
    opts = ProveOptions(backend=args.backend, policy=args.policy, search=search, out=args.out,
                        store=args.store, fresh=args.fresh, progress=args.progress,
                        limit=args.limit, repl_command=args.repl_command,
                        dojo_startup_timeout_s=args.dojo_startup_timeout,
                        lean_processes=args.lean_processes,
                        report=report)
    source: Path | list[Any] = args.input
    if args.row is not None:  # the row stays in memory: no temporary file
        from prover.records.jsonl import parse_line

        row = parse_line(args.row.encode("utf-8"), 1)
        if not isinstance(row, dict):
            return fail(f"--row is not a theorem row: {row.message}")
        source = [row]
    elif not args.input.is_file():
        return fail(f"{args.input}: no such file")
    try:
        summary, results = run_prove(source, opts, scale)
    except ProveError as err:
        return fail(str(err))
    if args.json:
        print(json.dumps({**summary, "results": [
            {k: r.get(k) for k in ("id", "status", "verdict", "proof", "reason", "error")}
            for r in results]}, ensure_ascii=False, sort_keys=True))
    else:
        print_summary(summary, False, "prove", results)
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``proofgraph`` console script; returns the exit code."""
    from formalizer.inputs import BadInputFile
    from prover.lean.process import ReplCommandError
    from prover.policy.openai_client import PolicyRequestError
    from prover.records.files import LockedError, OutputPathError
    from prover.records.runner import RunInterrupted
    from prover.records.runs import RunConflict
    from prover.records.store import StoreError

    args = build_parser().parse_args(argv)
    from proofgraph.run_options import check_workers

    too_many = check_workers(getattr(args, "workers", None) or 1, bool(
        getattr(args, "ray", False) or getattr(args, "ray_address", None)))
    if too_many is not None:  # every command with --workers, before any worker starts
        return fail(too_many)
    try:
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args))
        if args.command in ("check", "entail"):
            return _job(args)
        if args.command == "prove":
            return _prove(args)
        print(_EXAMPLES / "gsm8k_sample.jsonl")
        return EXIT_OK
    except (BadInputFile, RunConflict, StoreError, OutputPathError, LockedError,
            ReplCommandError) as err:
        return fail(str(err))
    except RunInterrupted as stop:  # SIGINT/SIGTERM: what was done is committed
        return fail(stop.message, stop.exit_code)
    except PolicyRequestError as err:  # the model server is down or refuses: not a row's fault
        return fail(f"model server request failed: {err}; check that the server runs and the "
                    "URL and model name are right, then run the same command again (finished "
                    "rows are kept)")
    except KeyboardInterrupt:
        return fail("interrupted; run the same command again to resume", 130)
    except OSError as err:
        return fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
    except sqlite3.Error as err:
        return fail(f"store: {err}")


if __name__ == "__main__":
    sys.exit(main())
