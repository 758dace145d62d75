"""Sharded output of a synth run, derived from the store: JSONL + Parquet shards and a manifest.

Shard ``k`` holds the rows with ``k*N <= ord < (k+1)*N`` (commit order, ``N`` = rows per
shard), so a full shard never changes once written; the last, partial shard is written when
the run finishes. Every file is written to a temp file in the same folder (named after the
file and the run, created with mode 0666 minus the umask like any new file), fsynced, then
renamed, so a reader (or a kill) sees the old file or the new one, never half of one.

Only what the manifest says is ours is ever touched: the shard files it lists, the files it
lists as ``pending`` (the manifest names a shard before the shard is written, so a kill between
the two leaves no file unaccounted for) and the run's own temp files. On open, the folder is
reconciled with the store: a shard missing, torn or with a wrong hash is rewritten, and our files
the store no longer accounts for are removed; any other file in the folder (a user's notes, a
``rows-00099.jsonl`` copied in) is left alone, and a shard that would overwrite such a file
stops the run with :class:`ShardConflict` instead.

Parquet columns: ``kind``, ``task``, ``item``, ``run_id``, ``hash`` (strings) and ``row`` (the
whole row as canonical JSON, since row layouts differ by kind); Hugging Face ``datasets`` loads
either form (``load_dataset("json"|"parquet", data_files=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prover.records.jsonl import atomic_write as records_atomic_write
from prover.records.runs import file_digest
from prover.synth.runstate import SynthRunState

MANIFEST = "manifest.json"
SHARD_DIR = "shards"
CORE_COLUMNS = ("kind", "task", "item", "run_id", "hash")


class ShardConflict(RuntimeError):
    """A shard would overwrite a file of the output folder that is not this run's."""


def temp_path(path: Path, tag: str) -> Path:
    """The temp file that :func:`atomic_write` uses for ``path`` under run tag ``tag``."""
    return path.with_name(f".{path.name}.{tag}.tmp")


def atomic_write(path: Path, write: Callable[[Path], None], tag: str = "synth") -> None:
    """:func:`prover.records.jsonl.atomic_write` through this run's temp file
    (:func:`temp_path`), so a leftover of a killed write is known to be ours."""
    records_atomic_write(path, write, tmp=temp_path(path, tag))


def require_pyarrow() -> None:
    """Raise a clear error when Parquet shards are asked for and pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise RuntimeError("Parquet shards need pyarrow: pip install pyarrow "
                           "(or pass --no-parquet for JSONL shards only)") from err


def _write_parquet(path: Path, rows: list[tuple[str, str, str, str]], task: str,
                   run_id: str) -> None:
    """One Parquet shard from the store's ``(hash, kind, item, row JSON)`` (no decoding: the
    core columns are stored beside the row; ``task`` and ``run_id`` are the run's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(rows)
    columns: dict[str, Any] = {
        "kind": pa.array([r[1] for r in rows], type=pa.string()),
        "task": pa.array([task] * n, type=pa.string()),
        "item": pa.array([r[2] for r in rows], type=pa.string()),
        "run_id": pa.array([run_id] * n, type=pa.string()),
        "hash": pa.array([r[0] for r in rows], type=pa.string()),
        "row": pa.array([r[3] for r in rows], type=pa.string())}
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
        self.tag = run_tag(state.run_id)
        self.shards: list[dict[str, Any]] = []
        self.ours: set[str] = set()  # paths (relative to out) this run may write or delete
        self.status = "running"

    # ------------------------------------------------------------------ naming
    def _paths(self, index: int) -> dict[str, Path]:
        stem = f"rows-{index:05d}"
        paths = {"jsonl": self.dir / f"{stem}.jsonl"}
        if self.parquet:
            paths["parquet"] = self.dir / f"{stem}.parquet"
        return paths

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    # ------------------------------------------------------------------ reconcile
    def reconcile(self) -> None:
        """Keep the manifest's shards whose files still match it and the store; rewrite the
        missing or damaged full shards; delete the files of ours (listed or pending in the
        manifest, our temp files) that are not kept. Nothing else in the folder is touched."""
        old = self._read_manifest()
        mine = old.get("run_id") == self.state.run_id
        claimed = _claimed(old)  # files the manifest says are synth's (this run's or, with
        if not mine:             # --fresh, the replaced run's)
            self._remove(claimed, run_tag(str(old.get("run_id", ""))))
            claimed = set()
        self.ours = set(claimed)
        listed = {s["index"]: s for s in old.get("shards", [])} if mine else {}
        total = self.state.row_count
        full = total // self.shard_rows
        keep: list[dict[str, Any]] = []
        rewrite: list[int] = []
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
                rewrite.append(index)
        self.shards = keep
        self._write_pending(rewrite)
        keep += [self._write_shard(index) for index in rewrite]
        keep.sort(key=lambda entry: entry["index"])
        self.shards = keep
        wanted = {self._rel(p) for s in keep for p in self._paths(s["index"]).values()}
        self._remove(self.ours - wanted, self.tag)
        self.ours = set(wanted)
        self.write_manifest({"status": "running"})

    def _remove(self, names: set[str], tag: str) -> None:
        """Delete ``names`` (relative to out) and the temp files of run ``tag``."""
        for name in sorted(names):
            path = self.out / name
            if path.parent == self.dir and path.is_file():
                path.unlink()
        for folder in (self.out, self.dir):
            if folder.is_dir():
                for path in folder.glob(f".*.{tag}.tmp"):
                    path.unlink(missing_ok=True)

    def _read_manifest(self) -> dict[str, Any]:
        path = self.out / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _files_match(self, index: int, entry: dict[str, Any]) -> bool:
        for fmt, path in self._paths(index).items():
            info = entry.get("files", {}).get(fmt)
            if not info or not path.is_file() or path.stat().st_size != info["bytes"] or \
                    file_digest(path) != info["sha256"]:
                return False
        return True

    # ------------------------------------------------------------------ writing
    def _write_pending(self, indexes: list[int]) -> None:
        """Name the files of shards ``indexes`` in the manifest before they are written."""
        if not indexes:
            return
        names = {self._rel(p) for i in indexes for p in self._paths(i).values()}
        for name in sorted(names - self.ours):
            if (self.out / name).exists():
                raise ShardConflict(f"{self.out / name} exists and is not a file of this run "
                                    "(not in its manifest); move it away and run again")
        self.ours |= names
        self.write_manifest({"status": self.status}, pending=sorted(names))

    def _write_shard(self, index: int) -> dict[str, Any]:
        first = index * self.shard_rows
        stop = min(first + self.shard_rows, self.state.row_count)
        rows = list(self.state.rows(first, stop))
        task, run_id = self.state.task, self.state.run_id
        files: dict[str, dict[str, Any]] = {}
        for fmt, path in self._paths(index).items():
            atomic_write(path, (lambda tmp: _write_jsonl(tmp, (r[3] for r in rows)))
                         if fmt == "jsonl" else
                         (lambda tmp: _write_parquet(tmp, rows, task, run_id)), self.tag)
            files[fmt] = {"path": self._rel(path), "sha256": file_digest(path),
                          "bytes": path.stat().st_size}
        return {"index": index, "first_row": first, "rows": len(rows), "files": files}

    def _append(self, indexes: list[int]) -> None:
        self._write_pending(indexes)
        for index in indexes:
            self.shards.append(self._write_shard(index))

    def flush(self) -> bool:
        """Write every newly full shard (then the manifest); True if any was written."""
        full = self.state.row_count // self.shard_rows
        new = list(range(len(self.shards), full))
        if not new:
            return False
        self._append(new)
        self.write_manifest({"status": "running"})
        return True

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the full shards and the last partial one, then the final manifest (its
        ``status`` is the summary's)."""
        self.flush()
        covered = sum(s["rows"] for s in self.shards)
        if covered < self.state.row_count:
            self._append([len(self.shards)])
        self.status = summary.get("status", "complete")
        self.write_manifest({"status": self.status, "summary": summary})

    def write_manifest(self, extra: dict[str, Any], pending: list[str] | None = None) -> None:
        """Run id, task, config, shards (rows, sha256), pending files, counts from the store;
        atomically."""
        counts = self.state.counts()
        manifest = {**self.header, **counts, "shard_rows": self.shard_rows,
                    "formats": ["jsonl"] + (["parquet"] if self.parquet else []),
                    "shards": self.shards, "pending": pending or [], **extra}
        text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write(self.out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                     self.tag)


def run_tag(run_id: str) -> str:
    """The part of a run's temp file names that marks them as the run's."""
    return "synth-" + "".join(c for c in run_id if c.isalnum())[-16:]


def _claimed(manifest: dict[str, Any]) -> set[str]:
    """The shard files a manifest lists or names as pending (paths relative to out)."""
    names: set[str] = set()
    for shard in manifest.get("shards", []) or []:
        for info in (shard.get("files") or {}).values() if isinstance(shard, dict) else []:
            if isinstance(info, dict) and isinstance(info.get("path"), str):
                names.add(info["path"])
    names.update(n for n in manifest.get("pending", []) or [] if isinstance(n, str))
    return {n for n in names if n.count("/") == 1 and n.startswith(f"{SHARD_DIR}/")
            and n.split("/")[1] not in ("", ".", "..")}


def _write_jsonl(path: Path, rows: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for text in rows:
            handle.write(text + "\n")
