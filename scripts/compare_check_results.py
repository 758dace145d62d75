"""Compare what two trees' ``proofgraph check --store`` write on the same rows, apart from times.

    python scripts/compare_check_results.py DATA --rows 2000 --base OTHER_TREE [--tree TREE]

Runs ``python -m proofgraph.cli check`` on the first ``--rows`` rows of ``DATA`` once with
``PYTHONPATH=OTHER_TREE`` and once with ``PYTHONPATH=TREE`` (default: this checkout), each into
a fresh store, then compares the two stores table by table: every item's ``result_json`` (the
JSON text itself, after removing the time fields ``wall_time_s``, ``utc_time``, ``time_s``
wherever they occur), and the rows of ``nodes``, ``graph_nodes``, ``edges``, ``provenance`` and
``verdicts`` (without their time columns), row by row on each table's key. Both runs get a
large ``--solver-budget`` (a wall-clock budget per solution would otherwise make verdicts
depend on the machine's load). Prints the first differences and exits 1 when the two runs
differ, 0 when they are identical apart from times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: keys whose values are clock readings; everything else must match byte for byte
TIME_KEYS = frozenset({"wall_time_s", "utc_time", "time_s"})
_TIME_VALUE = re.compile(r'"(wall_time_s|utc_time|time_s)":("[^"]*"|[-+0-9.eE]+|null)')
#: table -> SELECT of its rows without time columns, in a stable order
TABLES = {
    "nodes": "SELECT node_id, kind, text, backend, attrs_json FROM nodes ORDER BY node_id",
    "graphs": "SELECT item_key, root_node FROM graphs ORDER BY item_key",
    "graph_nodes": "SELECT item_key, node_id, attrs_json FROM graph_nodes"
                   " ORDER BY item_key, node_id",
    "edges": "SELECT item_key, src, dst, etype, attrs_json FROM edges"
             " ORDER BY item_key, src, dst",
    "provenance": "SELECT prov_id, json FROM provenance ORDER BY prov_id",
    "verdicts": "SELECT item_key, node_id, verdict_json, prov_id FROM verdicts"
                " ORDER BY item_key, node_id",
}


def strip_times(text: str) -> str:
    """``text`` (a stored JSON object) with the values of the time keys blanked."""
    return _TIME_VALUE.sub(lambda m: f'"{m.group(1)}":0', text)


def run_tree(tree: Path, data: Path, store: Path, solver_budget_s: float) -> None:
    """``proofgraph check DATA --store STORE`` with ``tree`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "proofgraph.cli", "check", str(data), "--store", str(store),
           "--json", "--no-progress", "--solver-budget", str(solver_budget_s)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=env,
                          cwd=str(tree))
    if proc.returncode not in (0, 3):
        raise SystemExit(f"check with {tree} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def table_rows(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared table of ``store`` as sorted row lists (items: key and stripped JSON)."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        out = {"items": [(key, seq, status, strip_times(text)) for key, seq, status, text in
                         conn.execute("SELECT item_key, seq, status, result_json FROM items"
                                      " ORDER BY seq")]}
        for name, query in TABLES.items():
            out[name] = [tuple(strip_times(v) if isinstance(v, str) else v for v in row)
                         for row in conn.execute(query)]
        return out
    finally:
        conn.close()


def compare(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]],
            shown: int = 5) -> list[str]:
    """Human-readable differences between two stores' rows (empty: identical)."""
    problems: list[str] = []
    for table in a:
        width = _KEY_COLUMNS.get(table, 1)
        rows_a = {row[:width]: row for row in a[table]}
        rows_b = {row[:width]: row for row in b[table]}
        if len(rows_a) != len(a[table]) or len(rows_b) != len(b[table]):
            problems.append(f"{table}: repeated keys")
        keys = sorted(rows_a.keys() | rows_b.keys(), key=repr)
        diffs = [(rows_a.get(k), rows_b.get(k)) for k in keys if rows_a.get(k) != rows_b.get(k)]
        for x, y in diffs[:shown]:
            problems.append(f"{table}: {json.dumps(x)[:300]}\n   vs {json.dumps(y)[:300]}")
        if len(diffs) > shown:
            problems.append(f"{table}: {len(diffs) - shown} more differing rows")
    return problems


#: leading columns that identify a row of each compared table (items: the key)
_KEY_COLUMNS = {"items": 1, "nodes": 1, "graphs": 1, "graph_nodes": 2, "edges": 3,
                "provenance": 1, "verdicts": 2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--base", type=Path, required=True, help="the tree to compare with")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--solver-budget", type=float, default=60.0,
                        help="check's --solver-budget (s per solution) for both runs: large, so "
                             "that a loaded machine does not turn verdicts into 'budget'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        head = work / "head.jsonl"
        with args.data.open(encoding="utf-8") as src, head.open("w", encoding="utf-8") as dst:
            for _, line in zip(range(args.rows), src, strict=False):
                dst.write(line)
        stores = []
        for name, tree in (("base", args.base), ("tree", args.tree)):
            store = work / f"{name}.sqlite"
            run_tree(tree.resolve(), head, store, args.solver_budget)
            stores.append(table_rows(store))
    problems = compare(*stores)
    counts = {t: len(rows) for t, rows in stores[0].items()}
    if problems:
        print("\n".join(problems))
        print(f"DIFFERENT ({counts})")
        return 1
    print(f"identical apart from times: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
