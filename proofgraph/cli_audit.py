"""``proofgraph audit``: the trust audit on a model's Lean proofs before they are counted.

Rows ``{"id", "statement", "header"?, "proof"}`` -> one result per row with ``verdict``
(verified | refuted | unknown + reason) and every check (passed | failed | not-checked, with
evidence). Resumable with ``--out``/``--store`` like the other jobs. The REPL command comes
from ``--repl-command "CMD ARGS"`` or ``PROOFGRAPH_LEAN_REPL_CMD``, else ``lake env <repl>``
in the Lean project; without a usable Lean the text checks still run (``--no-lean`` forces it).
The job itself is :mod:`proofgraph.audit_job` (imported only when the command runs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``audit`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("audit", help="audit Lean proofs (lint, compile, axioms, statement)",
                       description="Every proof through the trust checklist: token lint, "
                                   "compile in a fresh env, #print axioms whitelist, "
                                   "statement compared under pp.all. Without Lean the text "
                                   "checks run and the verdict is refuted or unknown.")
    p.add_argument("input", type=Path, help="JSON Lines rows {id, statement, header?, proof}")
    p.add_argument("--out", type=Path, help="one JSON result per row (resumable)")
    p.add_argument("--store", type=Path, help="SQLite store for runs and verdicts")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--allow-native-decide", action="store_true",
                   help="accept the proof's own native_decide (and its native axioms)")
    p.add_argument("--repl-command", help='the whole REPL command line, e.g. "docker run ... '
                   'repl" (default: $PROOFGRAPH_LEAN_REPL_CMD, else lake env <repl>)')
    p.add_argument("--no-lean", action="store_true", help="text checks only (no REPL)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per Lean request")
    p.add_argument("--limit", type=int, help="audit only the first N rows")
    p.add_argument("--fresh", action="store_true",
                   help="replace an --out file that holds another run's results")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """CLI handler: exit 0 when every row was read, 3 when some row was malformed."""
    from proofgraph.cli import EXIT_OK, EXIT_REJECTED, fail, print_summary

    if not args.input.is_file():
        return fail(f"{args.input}: no such file")
    if args.limit is not None and args.limit <= 0:
        return fail("--limit must be positive")
    from proofgraph.audit_job import AuditOptions, run_audit

    opts = AuditOptions(out=args.out, store=args.store, fresh=args.fresh,
                        progress=args.progress, limit=args.limit,
                        allow_native_decide=args.allow_native_decide, timeout_s=args.timeout,
                        repl_command=args.repl_command, lean=not args.no_lean,
                        report=lambda message: print(message, file=sys.stderr))
    summary, _ = run_audit(args.input, opts)
    print_summary(summary, args.json)
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK


