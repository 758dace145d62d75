"""Sharded output of a synth run, derived from the store: JSONL + Parquet shards and a manifest.

Shard ``k`` holds the rows with ``k*N <= ord < (k+1)*N`` (commit order, ``N`` = rows per
shard), so a full shard never changes once written; the last, partial shard is written when
the run finishes. Every file is written to a temp file in the same folder, fsynced, then
renamed, so a reader (or a kill) sees the old file or the new one, never half of one. On open,
the folder is reconciled with the store: a shard missing, torn or with a wrong hash is
rewritten, and any file the manifest does not account for is removed.

Parquet columns: ``kind``, ``task``, ``item``, ``run_id``, ``hash`` (strings) and ``row`` (the
whole row as canonical JSON, since row layouts differ by kind); Hugging Face ``datasets`` loads
either form (``load_dataset("json"|"parquet", data_files=...)``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prover.runs import file_digest
from prover.synth.runstate import SynthRunState

MANIFEST = "manifest.json"
SHARD_DIR = "shards"
CORE_COLUMNS = ("kind", "task", "item", "run_id", "hash")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temp file beside ``path``, fsync it, rename it over ``path``,
    and fsync the folder; the temp file is removed if anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def require_pyarrow() -> None:
    """Raise a clear error when Parquet shards are asked for and pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise RuntimeError("Parquet shards need pyarrow: pip install pyarrow "
                           "(or pass --no-parquet for JSONL shards only)") from err


def _write_parquet(path: Path, rows: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    decoded = [json.loads(text) for text in rows]
    columns: dict[str, Any] = {name: pa.array([str(r.get(name, "")) for r in decoded],
                                              type=pa.string()) for name in CORE_COLUMNS}
    columns["row"] = pa.array(rows, type=pa.string())
    pq.write_table(pa.table(columns), str(path), compression="zstd")


def read_parquet_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of one Parquet shard, decoded (the inverse of the shard writer)."""
    import pyarrow.parquet as pq

    return [json.loads(text) for text in pq.read_table(str(path), columns=["row"])
            .column("row").to_pylist()]


class ShardSet:
    """The shards and manifest of one run in ``out``; the store (``state``) is the truth."""

    def __init__(self, out: Path, state: SynthRunState, *, shard_rows: int, parquet: bool,
                 header: dict[str, Any]) -> None:
        if shard_rows < 1:
            raise ValueError("shard_rows must be >= 1")
        if parquet:
            require_pyarrow()
        self.out = out
        self.dir = out / SHARD_DIR
        self.state = state
        self.shard_rows = shard_rows
        self.parquet = parquet
        self.header = header
        self.shards: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ naming
    def _paths(self, index: int) -> dict[str, Path]:
        stem = f"rows-{index:05d}"
        paths = {"jsonl": self.dir / f"{stem}.jsonl"}
        if self.parquet:
            paths["parquet"] = self.dir / f"{stem}.parquet"
        return paths

    # ------------------------------------------------------------------ reconcile
    def reconcile(self) -> None:
        """Keep the manifest's shards whose files still match it and the store; rewrite the
        missing or damaged full shards; delete every other file in the shard folder."""
        listed = {s["index"]: s for s in self._old_manifest().get("shards", [])}
        total = self.state.row_count
        full = total // self.shard_rows
        keep: list[dict[str, Any]] = []
        for index in range(full + 1):
            first = index * self.shard_rows
            count = min(self.shard_rows, total - first)
            entry = listed.get(index)
            if index == full and not (count and entry):
                break  # a partial last shard is kept only if a finished run wrote it
            if entry and entry["first_row"] == first and entry["rows"] == count and \
                    self._files_match(index, entry):
                keep.append(entry)
            elif index < full:
                keep.append(self._write_shard(index))
        self.shards = keep
        wanted = {p.name for s in keep for p in self._paths(s["index"]).values()}
        if self.dir.is_dir():
            for path in self.dir.iterdir():
                if path.name not in wanted:
                    path.unlink()
        self.write_manifest({"status": "running"})

    def _old_manifest(self) -> dict[str, Any]:
        path = self.out / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("run_id") != self.state.run_id:
            return {}
        return data

    def _files_match(self, index: int, entry: dict[str, Any]) -> bool:
        for fmt, path in self._paths(index).items():
            info = entry.get("files", {}).get(fmt)
            if not info or not path.is_file() or path.stat().st_size != info["bytes"] or \
                    file_digest(path) != info["sha256"]:
                return False
        return True

    # ------------------------------------------------------------------ writing
    def _write_shard(self, index: int) -> dict[str, Any]:
        first = index * self.shard_rows
        stop = min(first + self.shard_rows, self.state.row_count)
        rows = [text for _, text in self.state.rows(first, stop)]
        files: dict[str, dict[str, Any]] = {}
        for fmt, path in self._paths(index).items():
            atomic_write(path, (lambda tmp: _write_jsonl(tmp, rows)) if fmt == "jsonl"
                         else (lambda tmp: _write_parquet(tmp, rows)))
            files[fmt] = {"path": f"{SHARD_DIR}/{path.name}", "sha256": file_digest(path),
                          "bytes": path.stat().st_size}
        return {"index": index, "first_row": first, "rows": len(rows), "files": files}

    def flush(self) -> bool:
        """Write every newly full shard (then the manifest); True if any was written."""
        full = self.state.row_count // self.shard_rows
        wrote = False
        while len(self.shards) < full:
            self.shards.append(self._write_shard(len(self.shards)))
            wrote = True
        if wrote:
            self.write_manifest({"status": "running"})
        return wrote

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the full shards and the last partial one, then the final manifest."""
        self.flush()
        total = self.state.row_count
        covered = sum(s["rows"] for s in self.shards)
        if covered < total:
            self.shards.append(self._write_shard(len(self.shards)))
        self.write_manifest({"status": "complete", "summary": summary})

    def write_manifest(self, extra: dict[str, Any]) -> None:
        """Run id, task, config, shards (rows, sha256), counts from the store; atomically."""
        counts = self.state.counts()
        manifest = {**self.header, **counts, "shard_rows": self.shard_rows,
                    "formats": ["jsonl"] + (["parquet"] if self.parquet else []),
                    "shards": self.shards, **extra}
        text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write(self.out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_jsonl(path: Path, rows: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for text in rows:
            handle.write(text + "\n")
