"""``proofgraph doctor``: is this machine ready for the Lean backends? One table line per
check, with the fix for each failure; exit 0 only when every required check passed."""

from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_OK, EXIT_NOT_READY = 0, 1


def register(sub: Any) -> None:
    """Add the ``doctor`` subcommand to ``sub`` (an argparse subparsers object)."""
    parser = sub.add_parser(
        "doctor", help="check the Lean setup (lake, lean, REPL, Mathlib, lean-dojo, GPU)",
        description="Checks lake and lean and their versions, the toolchain against "
                    "lean_project/lean-toolchain, the REPL binary and its commit, Mathlib, one "
                    "header import (timed), lean-dojo and its traced repos, GPU/vLLM. Exit 0 "
                    "only when everything `prove --backend lean-repl` needs is there.")
    parser.add_argument("--header", default="import Mathlib",
                        help="the header whose import is timed (default: import Mathlib)")
    parser.add_argument("--import-timeout", type=float, default=900.0,
                        help="seconds allowed for that import")
    parser.add_argument("--repl-command", help="the whole REPL command line to check instead "
                        "of `lake env <repl>` (as for prove)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from prover.lean.doctor import healthy, render, run_checks
    from prover.lean.repl import ReplConfig

    config = ReplConfig.from_env(repl_command=args.repl_command)
    checks = run_checks(config, header=args.header, import_timeout_s=args.import_timeout)
    if args.json:
        print(json.dumps({"ok": healthy(checks), "checks": [asdict(c) for c in checks]},
                         ensure_ascii=False))
    else:
        print(render(checks))
        print("ready" if healthy(checks) else "NOT ready: fix the FAIL lines above")
    return EXIT_OK if healthy(checks) else EXIT_NOT_READY
