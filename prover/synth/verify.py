"""Checking a synth output folder against itself and its store.

``verify_output`` re-reads every shard and answers whether the manifest, the shard files and
the store agree: each shard's sha256 and row count match the manifest, rows are unique by hash
and numbered without gaps, the JSONL and Parquet copies hold the same rows, every row's hash is
its content hash, and the manifest's counts equal the store's. Files in the shard folder that
the manifest does not list are not the run's: they are named (``foreign``), not a problem.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from prover.records.runs import file_digest
from prover.records.store import Store
from prover.synth.rows import content_hash
from prover.synth.shards import MANIFEST, SHARD_DIR, read_parquet_rows


def load_rows(out: Path) -> list[dict[str, Any]]:
    """Every row of the JSONL shards listed in ``out``'s manifest, in shard order."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    rows = []
    for shard in manifest["shards"]:
        path = out / shard["files"]["jsonl"]["path"]
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return rows


def verify_output(out: Path, store: Path | None = None) -> dict[str, Any]:
    """``{"problems": [...], "rows": n, "items": n}``; no problems means the folder is
    consistent (``store`` defaults to ``out/synth.sqlite``)."""
    problems: list[str] = []
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    listed = set()
    for shard in manifest["shards"]:
        for info in shard["files"].values():
            path = out / info["path"]
            listed.add(path.name)
            if not path.is_file():
                problems.append(f"{info['path']}: missing")
            elif file_digest(path) != info["sha256"]:
                problems.append(f"{info['path']}: sha256 differs from the manifest")
        jsonl = out / shard["files"]["jsonl"]["path"]
        got = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
        if len(got) != shard["rows"]:
            problems.append(f"{jsonl.name}: {len(got)} rows, manifest says {shard['rows']}")
        if "parquet" in shard["files"] and \
                read_parquet_rows(out / shard["files"]["parquet"]["path"]) != got:
            problems.append(f"shard {shard['index']}: Parquet rows differ from JSONL rows")
        rows.extend(got)
    foreign = sorted(p.name for p in (out / SHARD_DIR).iterdir() if p.name not in listed) \
        if (out / SHARD_DIR).is_dir() else []
    if manifest.get("pending") and manifest.get("status") != "running":
        problems.append(f"files still pending in a finished manifest: {manifest['pending']}")
    hashes = collections.Counter(r["hash"] for r in rows)
    dupes = [h for h, n in hashes.items() if n > 1]
    if dupes:
        problems.append(f"{len(dupes)} duplicate row hashes")
    wrong = sum(1 for r in rows if content_hash(r) != r["hash"])
    if wrong:
        problems.append(f"{wrong} rows whose hash is not their content hash")
    kinds = dict(sorted(collections.Counter(r["kind"] for r in rows).items()))
    if kinds != manifest["rows_by_kind"] or len(rows) != manifest["rows"]:
        problems.append(f"manifest counts {manifest['rows_by_kind']} != shard rows {kinds}")
    with Store(store or out / "synth.sqlite") as db:
        conn = db.connection
        run_id = manifest["run_id"]
        stored = conn.execute("SELECT count(*), coalesce(max(ord) + 1, 0) FROM synth_rows "
                              "WHERE run_id=?", (run_id,)).fetchone()
        items = conn.execute("SELECT count(*), count(DISTINCT item_key) FROM items "
                             "WHERE run_id=?", (run_id,)).fetchone()
    if stored[0] != len(rows) or stored[1] != len(rows):
        problems.append(f"store holds {stored[0]} rows (ord up to {stored[1]}), shards "
                        f"{len(rows)}")
    if items[0] != items[1] or items[0] != manifest["items"]:
        problems.append(f"store items {items[0]} (distinct {items[1]}), manifest "
                        f"{manifest['items']}")
    return {"problems": problems, "rows": len(rows), "items": items[0],
            "status": manifest.get("status"), "foreign": foreign}
