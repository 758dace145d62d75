"""``proofgraph eval``: a benchmark, N attempts per theorem, K searches in flight on one batched
policy; resumable into ``--out DIR`` (results.jsonl, summary.json, report.html), or
``--compare DIR_A DIR_B``. The job is :mod:`prover.eval` (imported when the command runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

WHOLE_IN_EVAL = ("whole-proof generation is not a prove mode: run it with `proofgraph eval "
                 "BENCH --mode whole --out DIR` (options --repair-rounds, --prompt-format, "
                 "--attempts)")


def prove_mode(text: str) -> str:
    """argparse type of ``prove --mode``: ``search``; ``whole`` is an error naming
    ``eval --mode whole`` (whole proofs are attempts with seeds, rounds and their own report,
    which ``eval`` records and ``prove``'s per-theorem search results do not)."""
    if text == "search":
        return text
    if text == "whole":
        raise argparse.ArgumentTypeError(WHOLE_IN_EVAL)
    raise argparse.ArgumentTypeError(f"invalid mode {text!r}: prove has only 'search'")


def whole_option(text: str) -> str:
    """argparse type of ``prove --repair-rounds``/``--prompt-format``: always an error naming
    ``eval --mode whole``, where these options live."""
    raise argparse.ArgumentTypeError(f"only for whole proofs; {WHOLE_IN_EVAL}")


def register(sub: Any) -> None:
    """Add the ``eval`` subcommand to ``sub`` (an argparse subparsers object)."""
    from proofgraph.cli import add_scale_options, positive

    p = sub.add_parser(
        "eval", help="evaluate a prover on a benchmark: pass@k, coverage curve, HTML report",
        description="Run N attempts per theorem (recorded seeds), K theorem searches at once "
                    "sharing one batched policy, resumably into --out DIR; or compare two "
                    "finished runs with --compare DIR_A DIR_B.")
    p.add_argument("input", type=Path, nargs="?", help="benchmark rows (JSON Lines)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"),
                   help="compare two finished eval folders instead of running")
    p.add_argument("--backend", default="z3", help="z3 | lean-repl | leandojo")
    p.add_argument("--policy", default="symbolic",
                   help="symbolic | hf:PATH | openai:URL#MODEL | vllm:PATH")
    p.add_argument("--mode", choices=("search", "whole"), default="search",
                   help="search: best-first tactic search; whole: the model writes whole "
                        "proofs, checked by the backend's final checker, repaired from errors")
    p.add_argument("--repair-rounds", type=int, default=0, metavar="R",
                   help="whole mode: rounds of repair from the checker's errors (default 0)")
    p.add_argument("--prompt-format", metavar="NAME|FILE",
                   help="whole mode: prompt format (deepseek-prover-v1.5[-cot], "
                        "deepseek-prover-v2[-cot], goedel-prover-v2, kimina-prover, z3-script, "
                        "or a .prompt file; default deepseek-prover-v2 for Lean, z3-script for Z3)")
    p.add_argument("--attempts", type=positive, default=1, help="searches per theorem (N)")
    add_scale_options(p)
    p.add_argument("--out", type=Path, help="output folder (resumable)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--seed", type=int, default=0, help="base seed of the attempts")
    p.add_argument("--temperature", type=float, help="sampling temperature (model policies)")
    p.add_argument("--max-new-tokens", type=positive, help="tokens per tactic (model policies)")
    p.add_argument("--batch-size", type=positive, default=8, help="frontier nodes per round")
    p.add_argument("--candidates", type=positive, default=8, help="tactics per node")
    p.add_argument("--tactic-timeout", type=float, default=5.0, help="seconds per tactic")
    p.add_argument("--wall-timeout", type=float, default=60.0, help="seconds per attempt")
    p.add_argument("--max-expansions", type=int, default=200, help="nodes per attempt")
    p.add_argument("--max-depth", type=int, default=64)
    p.add_argument("--repl-command", help="the whole Lean REPL command line (lean-repl)")
    p.add_argument("--lean-processes", type=positive, help="cap of the per-header REPL pool")
    p.add_argument("--limit", type=positive, help="only the first N attempts (a trial)")
    p.add_argument("--fresh", action="store_true", help="replace another run's output")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """CLI handler: exit 0 when every row was read, 3 when some row was rejected."""
    from proofgraph.cli import EXIT_OK, EXIT_REJECTED, fail

    if args.compare:
        if args.input is not None or args.out is not None:
            return fail("--compare takes two folders and no INPUT or --out")
        from prover.eval.compare import compare_runs, format_comparison

        try:
            cmp = compare_runs(*args.compare)
        except (FileNotFoundError, ValueError) as err:
            return fail(str(err))
        print(json.dumps(cmp, sort_keys=True) if args.json else format_comparison(cmp))
        return EXIT_OK
    if args.input is None or args.out is None:
        return fail("give a benchmark file and --out DIR (or --compare DIR_A DIR_B)")
    if not args.input.is_file():
        return fail(f"{args.input}: no such file")
    if args.out.exists() and not args.out.is_dir():
        return fail(f"--out {args.out}: not a folder")
    from prover.eval.job import EvalOptions
    from prover.eval.run import run_eval
    from prover.proving import ProveError
    from search.best_first import SearchConfig

    try:
        search = SearchConfig(batch_size=args.batch_size, num_candidates=args.candidates,
                              tactic_timeout_s=args.tactic_timeout,
                              wall_timeout_s=args.wall_timeout,
                              max_expansions=args.max_expansions, max_depth=args.max_depth,
                              seed=args.seed)
        opts = EvalOptions(backend=args.backend, policy=args.policy, search=search,
                           attempts=args.attempts, concurrency=args.concurrency,
                           window_s=args.batch_window_ms / 1000.0, max_batch=args.max_batch,
                           temperature=args.temperature, max_new_tokens=args.max_new_tokens,
                           repl_command=args.repl_command, lean_processes=args.lean_processes,
                           fresh=args.fresh, progress=args.progress, limit=args.limit,
                           report=lambda message: print(message, file=sys.stderr),
                           mode=args.mode, repair_rounds=args.repair_rounds,
                           prompt_format=args.prompt_format, workers=args.workers,
                           ray=args.ray or bool(args.ray_address),
                           ray_address=args.ray_address)
        summary = run_eval(args.input, args.out, opts)
    except (ProveError, ValueError) as err:
        return fail(str(err))
    if args.json:
        shown = {k: v for k, v in summary.items() if k != "coverage"}
        print(json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str))
    else:
        print(f"{summary['solved']}/{summary['theorems']} solved; pass@k "
              f"{summary['pass_at_k']}; {summary.get('run_wall_s') or summary['wall_s']} s; "
              f"report: {args.out / 'report.html'}")
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK
