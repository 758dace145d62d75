"""``proofgraph show``: one self-contained, offline HTML page for a run, an item or a graph."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``show`` subcommand to ``sub`` (an argparse subparsers object)."""
    parser = sub.add_parser(
        "show", help="write an offline HTML view of a run, an item or a graph",
        description="Render RUN_ID (prove: search DAGs with a theorem picker; check: step "
                    "report; entail: premises, core or counter-model), RUN:KEY (one item) or a "
                    "graph JSON file (DAG view) as one self-contained HTML file.")
    parser.add_argument("target", metavar="RUN_OR_GRAPH_ID",
                        help="a run id of --store, RUN:KEY, or a graph .json file")
    parser.add_argument("--html", type=Path, required=True, help="the HTML file to write")
    parser.add_argument("--store", type=Path, help="SQLite store holding the run")
    parser.add_argument("--json", action="store_true", help="print a JSON line on stdout")
    parser.add_argument("--open", action="store_true",
                        help="open the page in a browser when one exists (else print the path)")
    parser.set_defaults(handler=run)


def open_in_browser(path: Path) -> bool:
    """Open ``path`` in a graphical browser; False (nothing started) when there is none.

    On Linux/BSD a display is required, so a console browser never takes over the terminal.
    """
    import webbrowser

    if sys.platform not in ("darwin", "win32") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        return bool(webbrowser.open(path.resolve().as_uri()))
    except webbrowser.Error:
        return False


def run(args: argparse.Namespace) -> int:
    """Write the page; exit 0, or 2 with a message naming the known runs."""
    from proofgraph.cli import EXIT_OK, fail
    from prover.records.files import guard_outputs
    from prover.report.viewer import ViewerError, render_target

    guard_outputs([("--html", args.html)], [("--store", args.store), ("target", Path(args.target))])
    try:
        view = render_target(args.target, args.store)
    except ViewerError as err:
        return fail(str(err))
    args.html.write_text(view.html, encoding="utf-8")
    if args.json:
        print(json.dumps({"html": str(args.html), "view": view.kind, "items": view.items,
                          "nodes": view.nodes}))
    else:
        nodes = f", {view.nodes} nodes" if view.nodes else ""
        items = f"{view.items} item{'' if view.items == 1 else 's'}"
        print(f"wrote {args.html} ({view.kind} view: {items}{nodes})")
    if args.open and not open_in_browser(args.html):
        print(f"no browser found here; open {args.html.resolve()}", file=sys.stderr)
    return EXIT_OK
