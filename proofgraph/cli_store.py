"""``proofgraph export`` and ``proofgraph runs``: what a store holds, read back out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``export`` and ``runs`` subcommands to ``sub`` (an argparse subparsers object)."""
    export = sub.add_parser(
        "export", help="export a stored run (JSONL, graph JSON/GraphML, HTML)")
    export.add_argument("--store", type=Path, required=True)
    export.add_argument("--run", required=True, help="run id (see `proofgraph runs`)")
    export.add_argument("--jsonl", type=Path, help="results as JSON Lines")
    export.add_argument("--graph", type=Path, help="the run's merged proof graph (.json or .graphml)")
    export.add_argument("--html", type=Path,
                        help="offline HTML view (check: step report, entail: entailments, "
                             "prove: search DAGs with each theorem's verdict)")
    export.add_argument("--json", action="store_true", help="print a JSON line on stdout")
    export.set_defaults(handler=_export)
    runs = sub.add_parser("runs", help="list the runs of a store")
    runs.add_argument("--store", type=Path, required=True)
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.set_defaults(handler=_runs)


def _export(args: argparse.Namespace) -> int:
    from proofgraph.cli import EXIT_OK, fail
    from prover.records import graph as pg
    from prover.records.store import Store
    from prover.report.viewer import ViewerError, render_target

    if not (args.jsonl or args.graph or args.html):
        return fail("export needs an output: --jsonl F.jsonl, --graph F.json|F.graphml "
                    "and/or --html F.html")
    if not args.store.is_file():
        return fail(f"{args.store}: no such store")
    from prover.records.files import guard_outputs

    guard_outputs([("--jsonl", args.jsonl), ("--graph", args.graph), ("--html", args.html)],
                  [("--store", args.store)])
    with Store(args.store, readonly=True) as store:
        known = {r["run_id"] for r in store.runs()}
        if args.run not in known:
            return fail(f"run {args.run!r} is not in {args.store}; known: "
                         f"{', '.join(sorted(known)) or 'none'}")
        results = [r for _, r in store.item_results(args.run)]
        if args.jsonl:
            with args.jsonl.open("w", encoding="utf-8") as handle:
                for row in results:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        if args.graph:
            graph = store.run_graph(args.run)
            if args.graph.suffix.lower() == ".graphml":
                pg.write_graphml(graph, args.graph)
            else:
                args.graph.write_text(json.dumps(pg.to_json(graph), ensure_ascii=False),
                                      encoding="utf-8")
    if args.html:
        try:
            args.html.write_text(render_target(args.run, args.store).html, encoding="utf-8")
        except ViewerError as err:
            return fail(str(err))
    if args.json:
        print(json.dumps({"run_id": args.run, "rows": len(results)}))
    else:
        written = ", ".join(str(p) for p in (args.jsonl, args.graph, args.html) if p)
        print(f"exported {len(results)} rows of run {args.run} to {written}")
    return EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    from proofgraph.cli import EXIT_OK, fail
    from prover.records.store import Store

    if not args.store.is_file():
        return fail(f"{args.store}: no such store")
    with Store(args.store, readonly=True) as store:
        runs = store.runs()
        if args.json:
            for run in runs:
                print(json.dumps(run, ensure_ascii=False, sort_keys=True))
            return EXIT_OK
        for run in runs:
            run["verdicts"] = store.verdict_counts(run["run_id"])
            run["rejected"] = run["n_items"] - len(store.done_keys(run["run_id"],
                                                                   retry_errors=True))
    from proofgraph.render import runs_table, use_color

    print(runs_table(runs, color=use_color(sys.stdout)))
    return EXIT_OK
