"""Exactly-once, resumable runs over input items, written to a SQLite store and/or JSON Lines.

A run is identified by a run id derived from its command, input and settings, so the same
command restarted after a crash (even SIGKILL) resumes: items already committed are skipped,
nothing is lost and nothing is written twice. With a store, the store is the source of truth
and the JSONL file is rewritten from it when the two disagree; without one, the complete lines
of the JSONL file are.

Items are committed in groups (at most ``GroupPolicy.max_items`` items or ``max_s`` seconds
old): one store transaction, then one write of their JSONL lines. A kill loses at most the
open group. While a run is open it holds an advisory lock on its store and its output file,
so a second writer is refused with one clear line instead of interleaving duplicate keys.
The progress meter a run shows lives in :mod:`prover.records.progress` (re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import networkx as nx

from prover.records.files import FileLock, guard_outputs
from prover.records.jsonl import atomic_write, dump_line, parse_line
from prover.records.prepared import PreparedItem, prepare_item
from prover.records.progress import Progress
from prover.records.store import ItemRecord, Store
from prover.records.verdicts import Provenance, Verdict

__all__ = ["GroupPolicy", "Progress", "ResumableRun", "RunConflict", "file_digest",
           "is_infra_failure", "make_run_id", "rows_digest"]


class RunConflict(RuntimeError):
    """The output file holds results of a different run (other input or settings)."""


@dataclass(frozen=True)
class GroupPolicy:
    """How many finished items wait for one commit: at most ``max_items``, and none longer
    than ``max_s`` seconds after the first of the group finished."""

    max_items: int = 256
    max_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.max_s < 0:
            raise ValueError("a commit group needs max_items >= 1 and max_s >= 0")


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rows_digest(rows: Iterable[Any]) -> str:
    """sha256 of in-memory rows (canonical JSON, one per line): the input digest of rows
    given to the API or on the command line, so they need no temporary file."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False,
                                 separators=(",", ":")).encode("utf-8") + b"\n")
    return digest.hexdigest()


def make_run_id(command: str, input_digest: str, config: dict[str, Any]) -> str:
    """Deterministic run id: the same command, input and settings give the same id."""
    blob = json.dumps([command, input_digest, config], sort_keys=True, separators=(",", ":"))
    return f"{command}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _read_complete_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Parsed complete lines of a JSONL results file and the byte length they span.

    A last line without its newline is a write torn by a kill and is left out; a complete line
    that is not a proofgraph result (a JSON object with ``key`` and ``run_id``) means the file
    is not ours, which raises :class:`RunConflict` (and ``--fresh`` does not override it).
    """
    rows: list[dict[str, Any]] = []
    good = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break
            row = parse_line(raw, number)
            if not isinstance(row, dict) or "key" not in row or not row.get("run_id"):
                raise RunConflict(
                    f"{path}:{number} is not a proofgraph result line, so {path} is not the "
                    "output of a proofgraph run; it is left as it is: choose another --out")
            rows.append(row)
            good += len(raw)
    return rows, good


def is_infra_failure(result: dict[str, Any]) -> bool:
    """True for a row that failed because of the machinery (a worker died, a batch timed out),
    not because of its content: such rows are tried again when the run resumes."""
    detail = result.get("error_detail")
    return bool(result.get("error")) and isinstance(detail, dict) and detail.get("kind") == "infra"


class ResumableRun:
    """One run: ``open()`` returns the keys already done, ``commit()`` records one item (in
    groups), ``close()`` commits the open group and releases the locks."""

    def __init__(self, *, run_id: str, command: str, config: dict[str, Any],
                 store_path: Path | None = None, out_path: Path | None = None,
                 fresh: bool = False, group: GroupPolicy | None = None,
                 inputs: Sequence[tuple[str, Path | None]] = (),
                 outputs: Sequence[tuple[str, Path | None]] = ()) -> None:
        """``inputs`` and ``outputs`` are ``(flag, path)`` pairs of the command's other files:
        no output (``--out``, ``outputs``) may be an input or the store."""
        self.run_id = run_id
        self.command = command
        self.config = config
        self.store_path = store_path
        self.store: Store | None = None
        self.out_path = out_path
        self.fresh = fresh
        self.group = group or GroupPolicy()
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.resumed = False
        self._out: TextIO | None = None
        self._locks: list[FileLock] = []
        self._out_lock: FileLock | None = None
        self._rows_no_store: list[dict[str, Any]] = []
        self._pending: list[ItemRecord | PreparedItem] = []
        self._pending_since = 0.0
        self.committed = 0
        self.retry: set[str] = set()  # keys whose last attempt failed for infrastructure
        self._started = time.perf_counter()

    # ------------------------------------------------------------------ opening
    def guard(self) -> None:
        """Refuse an output (``--out``, the other outputs, the store) that is an input, the
        store or another output, before anything is opened."""
        guard_outputs([("--out", self.out_path), *self.outputs],
                      [*self.inputs, ("--store", self.store_path)])
        if self.store_path is not None:
            guard_outputs([("--store", self.store_path)], self.inputs)

    def open(self) -> set[str]:
        """Check the paths, lock the store and the output, and return the keys of the items
        already committed in this run."""
        self.guard()
        if self.out_path is not None and self.out_path.exists() and not self.out_path.is_file():
            raise RunConflict(f"{self.out_path} is not a regular file")
        try:
            if self.store_path is not None:
                if self.store_path.is_dir():
                    self.store = Store(self.store_path)  # raises its clear "is a directory"
                self._locks.append(FileLock(self.store_path, "store").acquire())
                self.store = Store(self.store_path)
            done: set[str] = set()
            if self.store is not None:
                self.resumed = self.store.open_run(self.run_id, self.command, self.config)
                self.retry = {k for k, r in self.store.error_results(self.run_id)
                              if is_infra_failure(r)}
                done = self.store.done_keys(self.run_id) - self.retry
            if self.out_path is not None:
                self.out_path.parent.mkdir(parents=True, exist_ok=True)
                self._out_lock = FileLock(self.out_path, "--out file").acquire()
                self._locks.append(self._out_lock)
                done = self._reconcile_out(done)
        except BaseException:
            self._release()
            raise
        self._started = time.perf_counter()
        return done

    def _check_owner(self, rows: list[dict[str, Any]]) -> None:
        other = sorted({str(r["run_id"]) for r in rows} - {self.run_id})
        if other and not self.fresh:
            raise RunConflict(
                f"{self.out_path} holds results of another run ({other[0]}); "
                "use another --out, or --fresh to replace it")

    def _reconcile_out(self, store_done: set[str]) -> set[str]:
        assert self.out_path is not None
        path = self.out_path
        rows, good = _read_complete_lines(path)  # refuses a file that is not ours, even fresh
        self._check_owner(rows)
        if self.fresh:
            rows, good = [r for r in rows if r.get("run_id") == self.run_id], 0
            if self.store is None:
                rows = []
        if self.store is not None:
            keys_in_file = [str(r.get("key")) for r in rows]
            stored = [(k, r) for k, r in self.store.item_results(self.run_id)
                      if k not in self.retry]  # failures to retry leave the file
            if keys_in_file != [k for k, _ in stored] or good != path.stat().st_size:
                self._rewrite(path, (r for _, r in stored))
            self._out = path.open("a", encoding="utf-8")
            return store_done
        self.retry = {str(r.get("key")) for r in rows if is_infra_failure(r)}
        if self.retry:
            rows = [r for r in rows if str(r.get("key")) not in self.retry]
            self._rewrite(path, rows)
        else:
            with path.open("r+b") as handle:
                handle.truncate(good)
        self.resumed = self.resumed or bool(rows)
        self._rows_no_store = rows
        self._out = path.open("a", encoding="utf-8")
        return {str(r.get("key")) for r in rows}

    def _rewrite(self, path: Path, rows: Iterable[dict[str, Any]]) -> None:
        """Atomically replace ``path`` with ``rows`` and keep holding its lock."""
        def write(tmp: Path) -> None:
            with tmp.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(dump_line(row) + "\n")

        atomic_write(path, write)
        if self._out_lock is not None:
            self._out_lock.relock()

    # ------------------------------------------------------------------ items
    #: :meth:`commit` takes an item as its ready-to-store rows (``prepared``)
    accepts_prepared = True

    def commit(self, key: str, seq: int, result: dict[str, Any] | None, *,
               graph: nx.DiGraph | None = None, root: str | None = None,
               verdicts: Iterable[tuple[str, Verdict, Provenance]] = (),
               prepared: PreparedItem | None = None) -> None:
        """Record one finished item; it is durable once its group is flushed (the group is
        flushed here when full or old enough, and always by :meth:`flush` and :meth:`close`).

        ``prepared``: the item's store rows, built where it was processed
        (:func:`prover.records.prepared.prepare_item`, with the JSONL line when this run has
        an ``--out`` file); they are stored as they are when they are this run's and this
        key's, else the item is prepared again from its result (``result`` None: the one the
        rows hold)."""
        record: ItemRecord | PreparedItem
        if prepared is not None and self._takes(prepared, key, seq):
            record = prepared
        elif prepared is not None:
            record = self._prepare_again(key, seq, result, prepared)
        elif result is None:
            raise ValueError(f"item {key!r}: no result to commit")
        else:
            record = ItemRecord(key, seq, {"key": key, "run_id": self.run_id, **result}, graph,
                                root, list(verdicts))
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(record)
        if (len(self._pending) >= self.group.max_items
                or time.monotonic() - self._pending_since >= self.group.max_s):
            self.flush()

    def _takes(self, prepared: PreparedItem, key: str, seq: int) -> bool:
        """Whether ``prepared`` can be stored as it is: this run's rows of this key, with the
        JSONL line when this run writes one, and a store to put them in."""
        return (self.store is not None and prepared.run_id == self.run_id
                and prepared.key == key and prepared.seq == seq
                and (self._out is None or prepared.line is not None))

    def _prepare_again(self, key: str, seq: int, result: dict[str, Any] | None,
                       prepared: PreparedItem) -> PreparedItem:
        """``prepared`` with this run's id and key in its result (and line), its graph and
        verdict rows kept: for rows this run cannot store as they are (the line keeps the
        result's key order for the ``--out`` file and for a run without a store)."""
        if result is None:
            result = {k: v for k, v in prepared.result().items() if k not in ("key", "run_id")}
        again = prepare_item(self.run_id, key, seq, {"key": key, "run_id": self.run_id,
                                                     **result}, line=True)
        return replace(again, has_graph=prepared.has_graph, root=prepared.root,
                       nodes=prepared.nodes, graph_nodes=prepared.graph_nodes,
                       edges=prepared.edges, verdicts=prepared.verdicts,
                       provenance=prepared.provenance)

    def tick(self) -> None:
        """Commit the open group once it is ``group.max_s`` old (the runner calls this while a
        slow batch runs, so finished items do not wait for the next result)."""
        if self._pending and time.monotonic() - self._pending_since >= self.group.max_s:
            self.flush()

    def flush(self) -> None:
        """Commit the open group: store transaction first, then its JSONL lines."""
        if not self._pending:
            return
        group, self._pending = self._pending, []
        if self.store is not None:
            self.store.commit_items(self.run_id, group)
        if self._out is not None:
            self._out.write("".join(_line(rec) + "\n" for rec in group))
            self._out.flush()
        elif self.store is None:
            self._rows_no_store.extend(rec.result if isinstance(rec, ItemRecord)
                                       else rec.result() for rec in group)
        self.committed += len(group)

    def results(self) -> Iterator[dict[str, Any]]:
        """Every committed result of the run so far, in input order."""
        if self.store is not None:
            for _, result in self.store.item_results(self.run_id):
                yield result
            return
        if self.out_path is not None and self.out_path.exists():
            rows, _ = _read_complete_lines(self.out_path)
            yield from rows
            return
        yield from self._rows_no_store

    def wall_s(self) -> float:
        """The run's wall time over all sessions (this one included) when a store keeps it,
        else this session's."""
        now = time.perf_counter() - self._started
        if self.store is not None:
            return self.store.run_wall_s(self.run_id) + now
        return now

    def finish(self, progress: Progress | None, *, finished: bool,
               stop_note: str | None = None) -> list[dict[str, Any]]:
        """End a job: commit the open group, close its progress line, collect every result of
        the run (in input order), then close the run (marked finished in the store only when
        ``finished``)."""
        self.flush()
        if progress is not None:
            progress.finish()
        if self.retry and self._out is not None and self.out_path is not None:
            self._out.close()
            self._out = None
            self._reorder_out()
        results = list(self.results())
        self.close(finished=finished, stop_note=stop_note)
        return results

    def close(self, *, finished: bool, stop_note: str | None = None) -> None:
        """Commit the open group, close the output, record the session in the store (marked
        finished when it completed, ``stopped`` with ``stop_note`` when interrupted) and
        release the locks."""
        try:
            self.flush()
        finally:
            if self._out is not None:
                self._out.close()
                self._out = None
                if self.retry and self.out_path is not None:
                    self._reorder_out()
            if self.store is not None:
                try:
                    self.store.end_session(self.run_id, time.perf_counter() - self._started,
                                           stop_note, "stopped" if stop_note else None)
                    if finished:
                        self.store.finish_run(self.run_id)
                finally:
                    self.store.close()
                    self.store = None
            self._release()

    def _reorder_out(self) -> None:
        """Put retried rows (appended this session) back in input order."""
        assert self.out_path is not None
        if self.store is not None:
            rows = [r for _, r in self.store.item_results(self.run_id)]
        else:
            rows, _ = _read_complete_lines(self.out_path)
            if all(str(r.get("key")).isdigit() for r in rows):
                rows.sort(key=lambda r: int(r["key"]))
        self._rewrite(self.out_path, rows)
        self.retry = set()

    def _release(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        for lock in self._locks:
            lock.release()
        self._locks.clear()


def _line(rec: ItemRecord | PreparedItem) -> str:
    """The JSONL line of a committed item."""
    if isinstance(rec, ItemRecord):
        return dump_line(rec.result)
    return rec.line if rec.line is not None else dump_line(rec.result())
