"""The store side of a synth run: which run owns an output folder, item status, deduplicated rows.

The store is the source of truth. Each item is committed in ONE transaction (its status row in
``items`` plus its new rows in ``synth_rows``), so a process killed at any moment leaves the
whole item or nothing, and a restarted run skips exactly the committed items. Rows are keyed by
``(run_id, hash)``: a row whose content hash the run already holds is dropped and counted.
``ord`` numbers a run's rows in commit order (0, 1, 2, ...), which is what shards are cut by.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prover.runs import RunConflict
from prover.store import Store, canonical_json

COMMAND_PREFIX = "synth:"


def config_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted paths (``search.max_expansions``) whose values differ between two configs."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if canonical_json(old) == canonical_json(new) else [prefix.rstrip(".")]
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        out += config_diff(old.get(key), new.get(key), f"{prefix}{key}.")
    return out


class SynthRunState:
    """One synth run in a :class:`Store`: ``open`` it, ``commit`` items, read rows and counts."""

    def __init__(self, store_path: Path, run_id: str, task: str, config: dict[str, Any]) -> None:
        self.store = Store(store_path)
        self.run_id = run_id
        self.task = task
        self.command = COMMAND_PREFIX + task
        self.config = config
        self.resumed = False
        self._next_ord = 0

    # ------------------------------------------------------------------ opening
    def other_runs(self) -> list[dict[str, Any]]:
        """Synth runs in the store other than this one (a store belongs to one output folder)."""
        return [r for r in self.store.runs()
                if r["command"].startswith(COMMAND_PREFIX) and r["run_id"] != self.run_id]

    def open(self, *, fresh: bool) -> set[str]:
        """Create or resume the run and return the keys of committed items.

        Another synth run in the store (other input, task or settings) raises
        :class:`RunConflict` naming what differs, unless ``fresh``, which deletes every synth
        run of the store, this one included, and starts over.
        """
        others = self.other_runs()
        if fresh:
            self._delete([r["run_id"] for r in others] + [self.run_id])
        elif others:
            raise RunConflict(self._conflict_message(others[0]))
        self.resumed = self.store.open_run(self.run_id, self.command, self.config)
        conn = self.store.connection
        self._next_ord = conn.execute(
            "SELECT coalesce(max(ord) + 1, 0) FROM synth_rows WHERE run_id=?",
            (self.run_id,)).fetchone()[0]
        return self.store.done_keys(self.run_id)

    def _conflict_message(self, other: dict[str, Any]) -> str:
        differs = config_diff(other["config"], self.config)
        return (f"{self.store.path} holds synth run {other['run_id']} ({other['command']}) with "
                f"other settings or input (differs in: {', '.join(differs) or 'input file'}); "
                "use another --out, or --fresh to discard it")

    def _delete(self, run_ids: list[str]) -> None:
        with self.store.transaction():
            for run_id in run_ids:  # items cascade to synth_rows, graphs, verdicts
                self.store.connection.execute("DELETE FROM runs WHERE run_id=?", (run_id,))

    # ------------------------------------------------------------------ items
    def commit(self, key: str, seq: int, ok: bool, reason: str | None,
               rows: list[tuple[dict[str, Any], str]],
               extra: dict[str, Any] | None = None) -> tuple[int, int]:
        """Record item ``key`` (input position ``seq``) and its rows (each a finished row with
        its canonical JSON text, see :func:`prover.synth.rows.finish_rows`) atomically; returns
        ``(rows kept, rows dropped as duplicates)``. A committed item is left as it is (0, 0)."""
        conn = self.store.connection
        result = {"ok": ok, "reason": reason, **(extra or {})}
        kept = 0
        with self.store.transaction():
            if conn.execute("SELECT 1 FROM items WHERE run_id=? AND item_key=?",
                            (self.run_id, key)).fetchone():
                return 0, 0
            conn.execute(
                "INSERT INTO items(run_id, item_key, seq, status, result_json, error, "
                "updated_utc) VALUES (?,?,?,?,?,?,datetime('now'))",
                (self.run_id, key, seq, "done" if ok else "error", "{}",
                 None if ok else (reason or "failed")))
            for row, text in rows:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO synth_rows(run_id, hash, ord, item_key, kind, "
                    "row_json) VALUES (?,?,?,?,?,?)",
                    (self.run_id, row["hash"], self._next_ord + kept, key, row["kind"], text))
                kept += cur.rowcount
            result.update(rows=kept, dropped=len(rows) - kept)
            conn.execute("UPDATE items SET result_json=? WHERE run_id=? AND item_key=?",
                         (canonical_json(result), self.run_id, key))
        self._next_ord += kept
        return kept, len(rows) - kept

    # ------------------------------------------------------------------ reading
    @property
    def row_count(self) -> int:
        """Rows committed so far (the next row's ``ord``)."""
        return self._next_ord

    def rows(self, start: int, stop: int) -> Iterator[tuple[str, str]]:
        """``(hash, row JSON)`` of the rows with ``start <= ord < stop``, in ``ord`` order."""
        yield from self.store.connection.execute(
            "SELECT hash, row_json FROM synth_rows WHERE run_id=? AND ord>=? AND ord<? "
            "ORDER BY ord", (self.run_id, start, stop))

    def counts(self) -> dict[str, Any]:
        """Items (ok, failed by reason), rows per kind and duplicate drops, from the store."""
        conn = self.store.connection
        items = ok = dropped = 0
        failed: collections.Counter[str] = collections.Counter()
        for status, error, result in conn.execute(
                "SELECT status, error, result_json FROM items WHERE run_id=?", (self.run_id,)):
            items += 1
            if status == "done":
                ok += 1
            else:
                failed[error or "failed"] += 1
            dropped += int(json.loads(result).get("dropped", 0))
        kinds = dict(conn.execute(
            "SELECT kind, count(*) FROM synth_rows WHERE run_id=? GROUP BY kind ORDER BY kind",
            (self.run_id,)).fetchall())
        return {"items": items, "ok": ok, "failed": sum(failed.values()),
                "failed_by_reason": dict(sorted(failed.items())), "rows": sum(kinds.values()),
                "rows_by_kind": kinds, "duplicates_dropped": dropped}

    def close(self, *, finished: bool) -> None:
        """Mark the run finished when it completed, and close the store."""
        if finished:
            self.store.finish_run(self.run_id)
        self.store.close()
