"""The store side of a synth run: which run owns an output folder, item status, deduplicated rows.

The store is the source of truth. Items are committed in groups (group commit): ONE
transaction holds several items' status rows in ``items``, their new rows in ``synth_rows`` and
the kind of each failure in ``synth_failures``, so a process killed at any moment leaves whole
items or nothing (at most the open group is lost), and a restarted run skips exactly the
committed items. Rows are keyed by ``(run_id, hash)``: a row whose content hash the run already
holds is dropped and counted. ``ord`` numbers a run's rows in commit order (0, 1, 2, ...),
which is what shards are cut by.

Failures have a kind (:data:`prover.synth.task.FailureKind`). On open, items that failed for
an ``infra`` reason (and, with ``retry_failed``, every failed item) are not counted as done, so
the run redoes them; a redone item's row replaces its status (an UPSERT: never a delete, so the
rows it committed before, which shards may already hold, stay and dedupe the new attempt's).

Synth's own tables are versioned by the ``synth_schema_version`` key of the store's ``meta``
table: version 1 (no kinds) is upgraded in place by classifying the stored failure reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prover.records.runs import RunConflict
from prover.records.store import Store, StoreError, canonical_json
from prover.synth.task import INFRA_REASONS, FailureKind

COMMAND_PREFIX = "synth:"
SYNTH_SCHEMA_VERSION = 2
_SYNTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS synth_failures (
    run_id TEXT NOT NULL, item_key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('infra', 'content')),
    PRIMARY KEY (run_id, item_key),
    FOREIGN KEY (run_id, item_key) REFERENCES items(run_id, item_key) ON DELETE CASCADE)
"""
#: Failure reasons of version-1 stores that mean unavailable infrastructure.
_V1_INFRA_EXCEPTIONS = ("exception: PolicyRequestError", "exception: ConnectionError",
                        "exception: ConnectionRefusedError", "exception: URLError",
                        "exception: TimeoutError", "exception: InfraError")
_CHUNK = 900  # SQLite host parameters per query


def config_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted paths (``search.max_expansions``) whose values differ between two configs."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if canonical_json(old) == canonical_json(new) else [prefix.rstrip(".")]
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        out += config_diff(old.get(key), new.get(key), f"{prefix}{key}.")
    return out


def v1_kind(reason: str | None) -> FailureKind:
    """The kind of a failure recorded before kinds were stored, from its reason."""
    if reason in INFRA_REASONS or (reason or "").startswith(_V1_INFRA_EXCEPTIONS):
        return "infra"
    return "content"


@dataclass
class Outcome:
    """One finished item to commit: its rows as ``(hash, kind, canonical JSON)``."""

    key: str
    seq: int
    ok: bool
    reason: str | None
    kind: FailureKind | None
    rows: list[tuple[str, str, str]] = field(default_factory=list)


class SynthRunState:
    """One synth run in a :class:`Store`: ``open`` it, ``commit`` groups, read rows and counts."""

    def __init__(self, store_path: Path, run_id: str, task: str, config: dict[str, Any]) -> None:
        self.store = Store(store_path)
        self.run_id = run_id
        self.task = task
        self.command = COMMAND_PREFIX + task
        self.config = config
        self.resumed = False
        self.retrying = 0
        self._next_ord = 0
        try:
            self._init_schema()
        except BaseException:
            self.store.close()
            raise

    # ------------------------------------------------------------------ schema
    def _init_schema(self) -> None:
        """Create synth's tables, or upgrade version 1 in place (kinds from reasons)."""
        conn = self.store.connection
        with self.store.transaction():
            row = conn.execute("SELECT value FROM meta WHERE key='synth_schema_version'") \
                .fetchone()
            found = int(row[0]) if row else 1
            if found > SYNTH_SCHEMA_VERSION:
                raise StoreError(f"{self.store.path} has synth schema version {found}, this "
                                 f"proofgraph understands version {SYNTH_SCHEMA_VERSION}; "
                                 "upgrade proofgraph to read it.")
            conn.execute(_SYNTH_SCHEMA)
            if found < SYNTH_SCHEMA_VERSION:
                old = conn.execute(
                    "SELECT i.run_id, i.item_key, i.error FROM items i JOIN runs r "
                    "USING (run_id) WHERE r.command LIKE 'synth:%' AND i.status='error'")
                conn.executemany(
                    "INSERT OR IGNORE INTO synth_failures(run_id, item_key, kind) "
                    "VALUES (?,?,?)", [(r, k, v1_kind(e)) for r, k, e in old.fetchall()])
                conn.execute("INSERT OR REPLACE INTO meta(key, value) "
                             "VALUES ('synth_schema_version', ?)", (str(SYNTH_SCHEMA_VERSION),))

    # ------------------------------------------------------------------ opening
    def other_runs(self) -> list[dict[str, Any]]:
        """Synth runs in the store other than this one (a store belongs to one output folder)."""
        return [r for r in self.store.runs()
                if r["command"].startswith(COMMAND_PREFIX) and r["run_id"] != self.run_id]

    def open(self, *, fresh: bool, retry_failed: bool = False) -> set[str]:
        """Create or resume the run and return the keys of the items that are done: committed,
        and not a failure to retry (``infra`` failures always, every failure with
        ``retry_failed``; :attr:`retrying` counts them).

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
        done = self.store.done_keys(self.run_id)
        retry = {key for key, kind in conn.execute(
            "SELECT i.item_key, coalesce(f.kind, 'content') FROM items i LEFT JOIN "
            "synth_failures f USING (run_id, item_key) WHERE i.run_id=? AND i.status='error'",
            (self.run_id,)) if retry_failed or kind == "infra"}
        self.retrying = len(retry)
        return done - retry

    def _conflict_message(self, other: dict[str, Any]) -> str:
        differs = config_diff(other["config"], self.config)
        return (f"{self.store.path} holds synth run {other['run_id']} ({other['command']}) with "
                f"other settings or input (differs in: {', '.join(differs) or 'input file'}); "
                "use another --out, or --fresh to discard it")

    def _delete(self, run_ids: list[str]) -> None:
        with self.store.transaction():
            for run_id in run_ids:  # items cascade to synth_rows, failures, graphs, verdicts
                self.store.connection.execute("DELETE FROM runs WHERE run_id=?", (run_id,))

    # ------------------------------------------------------------------ items
    def _existing(self, hashes: list[str]) -> dict[str, str]:
        """``hash -> item_key`` of the run's stored rows among ``hashes``."""
        conn = self.store.connection
        found: dict[str, str] = {}
        for at in range(0, len(hashes), _CHUNK):
            part = hashes[at:at + _CHUNK]
            found.update(conn.execute(
                f"SELECT hash, item_key FROM synth_rows WHERE run_id=? AND hash IN "
                f"({','.join('?' * len(part))})", (self.run_id, *part)))
        return found

    def _committed_ok(self, keys: list[str]) -> set[str]:
        conn = self.store.connection
        out: set[str] = set()
        for at in range(0, len(keys), _CHUNK):
            part = keys[at:at + _CHUNK]
            out.update(k for (k,) in conn.execute(
                f"SELECT item_key FROM items WHERE run_id=? AND status='done' AND item_key IN "
                f"({','.join('?' * len(part))})", (self.run_id, *part)))
        return out

    def commit(self, group: list[Outcome]) -> list[int]:
        """Record every item of ``group`` and its new rows in ONE transaction; returns the rows
        kept per item. An item already committed as done is left as it is (0); a failed one
        is replaced (a retry). Duplicate rows (by hash, in the run or earlier in the group) are
        dropped and counted in the item's result (``dropped``: another item's rows;
        ``reused``: rows this item committed in an earlier attempt)."""
        conn = self.store.connection
        kept_per: list[int] = []
        with self.store.transaction():
            skip = self._committed_ok([o.key for o in group])
            owners = self._existing([h for o in group if o.key not in skip for h, _, _ in o.rows])
            items, rows, fail, ok_keys = [], [], [], []
            added: set[str] = set()  # hashes inserted by this group
            ord_ = self._next_ord
            for out in group:
                if out.key in skip:
                    kept_per.append(0)
                    continue
                kept = dropped = reused = 0
                for digest, kind, text in out.rows:
                    owner = owners.get(digest)
                    if owner is None:
                        owners[digest] = out.key
                        added.add(digest)
                        rows.append((self.run_id, digest, ord_, out.key, kind, text))
                        ord_ += 1
                        kept += 1
                    elif owner == out.key and digest not in added:
                        reused += 1
                    else:
                        dropped += 1
                result: dict[str, Any] = {"ok": out.ok, "reason": out.reason, "rows": kept,
                                          "dropped": dropped}
                if reused:
                    result["reused"] = reused
                if out.ok:
                    ok_keys.append((self.run_id, out.key))
                else:
                    result["kind"] = out.kind or "content"
                    fail.append((self.run_id, out.key, out.kind or "content"))
                items.append((self.run_id, out.key, out.seq, "done" if out.ok else "error",
                              canonical_json(result),
                              None if out.ok else (out.reason or "failed")))
                kept_per.append(kept)
            conn.executemany(
                "INSERT INTO items(run_id, item_key, seq, status, result_json, error, "
                "updated_utc) VALUES (?,?,?,?,?,?,datetime('now')) "
                "ON CONFLICT(run_id, item_key) DO UPDATE SET seq=excluded.seq, "
                "status=excluded.status, result_json=excluded.result_json, "
                "error=excluded.error, updated_utc=excluded.updated_utc", items)
            conn.executemany("INSERT INTO synth_rows(run_id, hash, ord, item_key, kind, "
                             "row_json) VALUES (?,?,?,?,?,?)", rows)
            conn.executemany("DELETE FROM synth_failures WHERE run_id=? AND item_key=?",
                             ok_keys)
            conn.executemany("INSERT OR REPLACE INTO synth_failures(run_id, item_key, kind) "
                             "VALUES (?,?,?)", fail)
        self._next_ord = ord_
        return kept_per

    # ------------------------------------------------------------------ reading
    @property
    def row_count(self) -> int:
        """Rows committed so far (the next row's ``ord``)."""
        return self._next_ord

    def rows(self, start: int, stop: int) -> Iterator[tuple[str, str, str, str]]:
        """``(hash, kind, item key, row JSON)`` of the rows with ``start <= ord < stop``, in
        ``ord`` order."""
        yield from self.store.connection.execute(
            "SELECT hash, kind, item_key, row_json FROM synth_rows WHERE run_id=? AND ord>=? "
            "AND ord<? ORDER BY ord", (self.run_id, start, stop))

    def counts(self) -> dict[str, Any]:
        """Items (ok, failed by reason and by kind), rows per kind and duplicate drops."""
        conn = self.store.connection
        items = ok = dropped = 0
        failed: dict[str, int] = {}
        for status, error, n, drops in conn.execute(
                "SELECT status, error, count(*), sum(coalesce(json_extract(result_json, "
                "'$.dropped'), 0)) FROM items WHERE run_id=? GROUP BY status, error",
                (self.run_id,)):
            items += n
            dropped += int(drops or 0)
            if status == "done":
                ok += n
            else:
                failed[error or "failed"] = failed.get(error or "failed", 0) + n
        by_kind = dict(conn.execute(
            "SELECT coalesce(f.kind, 'content'), count(*) FROM items i LEFT JOIN synth_failures "
            "f USING (run_id, item_key) WHERE i.run_id=? AND i.status='error' GROUP BY 1 "
            "ORDER BY 1", (self.run_id,)).fetchall())
        kinds = dict(conn.execute(
            "SELECT kind, count(*) FROM synth_rows WHERE run_id=? GROUP BY kind ORDER BY kind",
            (self.run_id,)).fetchall())
        return {"items": items, "ok": ok, "failed": sum(failed.values()),
                "failed_by_reason": dict(sorted(failed.items())),
                "failed_by_kind": by_kind, "rows": sum(kinds.values()),
                "rows_by_kind": kinds, "duplicates_dropped": dropped}

    def close(self, *, finished: bool) -> None:
        """Mark the run finished when it completed, and close the store."""
        if finished:
            self.store.finish_run(self.run_id)
        self.store.close()
