"""Exactly-once, resumable runs over input items, written to a SQLite store and/or JSON Lines.

A run is identified by a run id derived from its command, input and settings, so the same
command restarted after a crash (even SIGKILL) resumes: items already committed are skipped,
nothing is lost and nothing is written twice. With a store, the store is the source of truth
and the JSONL file is rewritten from it when the two disagree; without one, the complete lines
of the JSONL file are.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import networkx as nx

from prover.store import Store
from prover.verdicts import Provenance, Verdict


class RunConflict(RuntimeError):
    """The output file holds results of a different run (other input or settings)."""


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_run_id(command: str, input_digest: str, config: dict[str, Any]) -> str:
    """Deterministic run id: the same command, input and settings give the same id."""
    blob = json.dumps([command, input_digest, config], sort_keys=True, separators=(",", ":"))
    return f"{command}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _dump(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def _read_complete_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Parsed complete lines of a JSONL results file and the byte length they span.

    A last line without its newline is a write torn by a kill and is left out; a complete line
    that is not a JSON object means the file is not ours, which raises :class:`RunConflict`.
    """
    rows: list[dict[str, Any]] = []
    good = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break
            try:
                row = json.loads(raw)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise RunConflict(f"{path}:{number} is not a proofgraph result line; "
                                  "use another --out, or --fresh to replace the file")
            rows.append(row)
            good += len(raw)
    return rows, good


class ResumableRun:
    """One run: ``open()`` returns the keys already done, ``commit()`` records one item."""

    def __init__(self, *, run_id: str, command: str, config: dict[str, Any],
                 store_path: Path | None = None, out_path: Path | None = None,
                 fresh: bool = False) -> None:
        self.run_id = run_id
        self.command = command
        self.config = config
        self.store = Store(store_path) if store_path is not None else None
        self.out_path = out_path
        self.fresh = fresh
        self._out: TextIO | None = None
        self.resumed = False
        self._rows_no_store: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ opening
    def open(self) -> set[str]:
        """Prepare outputs and return the keys of items already committed in this run."""
        done: set[str] = set()
        if self.store is not None:
            self.resumed = self.store.open_run(self.run_id, self.command, self.config)
            done = self.store.done_keys(self.run_id)
        if self.out_path is not None:
            done = self._reconcile_out(done)
        return done

    def _check_owner(self, rows: list[dict[str, Any]]) -> None:
        other = {r.get("run_id") for r in rows} - {self.run_id}
        if other and not self.fresh:
            raise RunConflict(
                f"{self.out_path} holds results of another run ({sorted(map(str, other))[0]}); "
                "use another --out, or --fresh to replace it")

    def _reconcile_out(self, store_done: set[str]) -> set[str]:
        assert self.out_path is not None
        path = self.out_path
        rows: list[dict[str, Any]] = []
        good = 0
        if path.exists() and not self.fresh:
            if not path.is_file():
                raise RunConflict(f"{path} is not a regular file")
            rows, good = _read_complete_lines(path)
            self._check_owner(rows)
        if self.store is not None:
            keys_in_file = [str(r.get("key")) for r in rows]
            stored = list(self.store.item_results(self.run_id))
            if keys_in_file != [k for k, _ in stored] or good != (
                    path.stat().st_size if path.exists() else 0):
                self._rewrite(path, (r for _, r in stored))
            self._out = path.open("a", encoding="utf-8")
            return store_done
        if path.exists():
            if self.fresh:
                path.unlink()
            else:
                with path.open("r+b") as handle:
                    handle.truncate(good)
        self.resumed = self.resumed or bool(rows)
        self._rows_no_store = rows
        self._out = path.open("a", encoding="utf-8")
        return {str(r.get("key")) for r in rows}

    @staticmethod
    def _rewrite(path: Path, rows: Iterable[dict[str, Any]]) -> None:
        """Atomically replace ``path`` with ``rows`` (temp file in the same folder + rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(_dump(row) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------------ items
    def commit(self, key: str, seq: int, result: dict[str, Any], *,
               graph: nx.DiGraph | None = None, root: str | None = None,
               verdicts: Iterable[tuple[str, Verdict, Provenance]] = ()) -> None:
        """Record one finished item: store transaction first, then the JSONL line."""
        result = {"key": key, "run_id": self.run_id, **result}
        if self.store is not None:
            self.store.commit_item(self.run_id, key, seq, result, graph, root, list(verdicts))
        if self._out is not None:
            self._out.write(_dump(result) + "\n")
            self._out.flush()
        elif self.store is None:
            self._rows_no_store.append(result)

    def results(self) -> Iterator[dict[str, Any]]:
        """Every result of the run so far, in input order."""
        if self.store is not None:
            for _, result in self.store.item_results(self.run_id):
                yield result
            return
        if self.out_path is not None and self.out_path.exists():
            rows, _ = _read_complete_lines(self.out_path)
            yield from rows
            return
        yield from self._rows_no_store

    def finish(self, progress: Progress | None, *, finished: bool) -> list[dict[str, Any]]:
        """End a job: close its progress line, collect every result of the run (in input
        order), then close the run (marked finished in the store only when ``finished``)."""
        if progress is not None:
            progress.finish()
        results = list(self.results())
        self.close(finished=finished)
        return results

    def close(self, *, finished: bool) -> None:
        """Flush and close; mark the run finished in the store when it completed."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.store is not None:
            if finished:
                self.store.finish_run(self.run_id)
            self.store.close()


class Progress:
    """A one-line progress meter on stderr (items/s and ETA); silent when not enabled."""

    def __init__(self, total: int, label: str, enabled: bool | None = None, *,
                 initial: int = 0) -> None:
        """``initial`` items were done before this session (a resumed run): they count
        towards ``done`` but not towards the rate, so items/s and the ETA stay honest."""
        self.total = total
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self.last = 0.0
        self.done = initial
        self.initial = initial

    def update(self, done: int, extra: str = "") -> None:
        """Report ``done`` of ``total``; prints at most every 0.5 s."""
        self.done = done
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.5 and done < self.total):
            return
        self.last = now
        rate = (done - self.initial) / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
        rate_text = f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"
        sys.stderr.write(f"\r{self.label}: {done}/{self.total} ({rate_text}/s, ETA {eta_text})"
                         f"{'  ' + extra if extra else ''}   ")
        sys.stderr.flush()

    def finish(self) -> None:
        """End the progress line."""
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
