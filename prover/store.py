"""SQLite store for resumable runs: items, proof graphs, verdicts and deduplicated provenance,
and the rows of synthetic-data runs (``synth_rows``, keyed by run and content hash).

Items are committed in groups (:meth:`Store.commit_items`: many items, each with its result,
graph and verdicts, in ONE transaction with ``executemany``), so a killed process loses at most
the open group, and re-committing an item replaces it (no duplicates). Provenance is stored
once (deduplicated by content, memoised per connection); a verdict row keeps only what differs
per claim (wall time, UTC time). Node rows are merged with one batched SELECT per group, never
one per node. Read-only commands open a store with ``readonly=True`` (no write, no upgrade).

Durability: WAL with ``synchronous=NORMAL`` by default. In WAL mode NORMAL is fully safe
against a crashed or SIGKILLed *process* (a commit is in the WAL, in the OS page cache, before
``COMMIT`` returns) and never corrupts the database; only an OS crash or power loss can drop the
last few committed items, which a resumed run simply recomputes. It saves one fsync per item.
Pass ``synchronous="FULL"`` when each commit must survive power loss.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import networkx as nx

from prover.graph import CORE_NODE_ATTRS, merge
from prover.verdicts import VERDICT_KINDS, Provenance, Verdict

SCHEMA_VERSION = 3
#: Versions that :meth:`Store._init_schema` upgrades in place: 2 added the synth tables, 3 adds
#: ``runs.wall_s`` (the run's wall time over all its sessions) and ``runs.stop_note`` (where an
#: interrupted session stopped).
_MIGRATABLE = (1, 2)
#: Columns added to ``runs`` by version 3 (``ALTER TABLE`` on older stores).
_RUNS_V3_COLUMNS = (("wall_s", "REAL NOT NULL DEFAULT 0"), ("stop_note", "TEXT"))
#: Ids per ``IN (...)`` query (below SQLite's host-parameter limit).
_IN_CHUNK = 500
#: Provenance fields that vary per call; kept on the verdict row, not hashed.
VOLATILE_PROVENANCE_FIELDS: tuple[str, ...] = ("wall_time_s", "utc_time")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, command TEXT NOT NULL, config_json TEXT NOT NULL,
    created_utc TEXT NOT NULL, finished_utc TEXT, status TEXT NOT NULL,
    wall_s REAL NOT NULL DEFAULT 0, stop_note TEXT);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    item_key TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    result_json TEXT NOT NULL, error TEXT, updated_utc TEXT NOT NULL,
    PRIMARY KEY (run_id, item_key));
CREATE INDEX IF NOT EXISTS items_seq ON items(run_id, seq);
CREATE TABLE IF NOT EXISTS nodes (
    node_id TEXT PRIMARY KEY, kind TEXT NOT NULL, text TEXT NOT NULL,
    backend TEXT NOT NULL, attrs_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graphs (
    run_id TEXT NOT NULL, item_key TEXT NOT NULL, root_node TEXT REFERENCES nodes(node_id),
    PRIMARY KEY (run_id, item_key),
    FOREIGN KEY (run_id, item_key) REFERENCES items(run_id, item_key) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS graph_nodes (
    run_id TEXT NOT NULL, item_key TEXT NOT NULL,
    node_id TEXT NOT NULL REFERENCES nodes(node_id), attrs_json TEXT NOT NULL,
    PRIMARY KEY (run_id, item_key, node_id),
    FOREIGN KEY (run_id, item_key) REFERENCES graphs(run_id, item_key) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS edges (
    run_id TEXT NOT NULL, item_key TEXT NOT NULL,
    src TEXT NOT NULL REFERENCES nodes(node_id), dst TEXT NOT NULL REFERENCES nodes(node_id),
    etype TEXT NOT NULL, attrs_json TEXT NOT NULL,
    UNIQUE (run_id, item_key, src, dst, etype),
    FOREIGN KEY (run_id, item_key) REFERENCES graphs(run_id, item_key) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS provenance (prov_id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    run_id TEXT NOT NULL, item_key TEXT NOT NULL, node_id TEXT NOT NULL,
    verdict_json TEXT NOT NULL, prov_id TEXT NOT NULL REFERENCES provenance(prov_id),
    wall_time_s REAL, utc_time TEXT,
    UNIQUE (run_id, item_key, node_id),
    FOREIGN KEY (run_id, item_key) REFERENCES items(run_id, item_key) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS synth_rows (
    run_id TEXT NOT NULL, hash TEXT NOT NULL, ord INTEGER NOT NULL, item_key TEXT NOT NULL,
    kind TEXT NOT NULL, row_json TEXT NOT NULL,
    PRIMARY KEY (run_id, hash),
    FOREIGN KEY (run_id, item_key) REFERENCES items(run_id, item_key) ON DELETE CASCADE);
CREATE UNIQUE INDEX IF NOT EXISTS synth_rows_ord ON synth_rows(run_id, ord);
"""


class StoreError(RuntimeError):
    """Base class for store errors that carry a clear message for the user."""


class SchemaVersionError(StoreError):
    """The database was written by a different (usually newer) schema version."""


class ConfigMismatchError(StoreError):
    """A run id was reused with a different configuration."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock longer than the busy timeout."""


@dataclass(frozen=True)
class ItemRecord:
    """One finished item as the store keeps it: result, optional graph and root, verdicts."""

    key: str
    seq: int
    result: dict[str, Any]
    graph: nx.DiGraph | None = None
    root: str | None = None
    verdicts: Sequence[tuple[str, Verdict, Provenance]] = ()


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) used for hashing and comparing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def provenance_id(prov: Provenance | dict[str, Any]) -> tuple[str, str]:
    """``(sha256 hex, canonical json)`` of a provenance with its volatile fields removed."""
    data = prov.to_dict() if isinstance(prov, Provenance) else dict(prov)
    for key in VOLATILE_PROVENANCE_FIELDS:
        data.pop(key, None)
    text = canonical_json(data)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """One SQLite database file holding any number of runs; safe to share between processes.

    ``readonly=True`` opens the file without writing anything (no WAL switch, no schema upgrade),
    so ``runs``, ``show`` and ``export`` work on a store they may not write.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_s: float = 30.0,
        readonly: bool = False,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be 'NORMAL' or 'FULL'")
        self.path = Path(path)
        self.readonly = readonly
        self.busy_timeout_s = busy_timeout_s
        self._prov_ids: dict[str, str] = {}
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not an SQLite store")
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.path}: no such store")
        try:
            self._conn = self._connect(busy_timeout_s)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open as an SQLite store ({err})") from err
        c = self._conn
        try:
            c.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            if readonly:
                self.schema_version = self._read_version()
            else:
                mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"could not switch {self.path} to WAL mode (got {mode!r})")
                c.execute(f"PRAGMA synchronous = {synchronous}")
                c.execute("PRAGMA foreign_keys = ON")
                self._init_schema()
                self.schema_version = SCHEMA_VERSION
        except sqlite3.OperationalError as err:
            c.close()
            if _is_locked(err):
                raise self._locked() from err
            raise StoreError(f"{self.path}: not an SQLite store ({err})") from err
        except sqlite3.DatabaseError as err:
            c.close()
            raise StoreError(f"{self.path}: not an SQLite store ({err})") from err
        except BaseException:
            c.close()
            raise

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        if not self.readonly:
            return sqlite3.connect(str(self.path), timeout=busy_timeout_s,
                                   isolation_level=None, check_same_thread=True)
        quoted = urllib.parse.quote(str(self.path.resolve()))
        conn = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, timeout=busy_timeout_s,
                               isolation_level=None, check_same_thread=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            # a WAL store whose file (or folder) we may not write: SQLite cannot create the
            # shared-memory index, so read the file as it is on disk (nobody may write it).
            conn.close()
        return sqlite3.connect(f"file:{quoted}?mode=ro&immutable=1", uri=True,
                               isolation_level=None, check_same_thread=True)

    def _locked(self) -> StoreLockedError:
        return StoreLockedError(
            f"{self.path} is locked by another process that is writing it (waited "
            f"{self.busy_timeout_s:g} s); wait for that process to finish, or use another "
            "--store")

    def _read_version(self) -> int | None:
        has_meta = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if not has_meta:
            raise StoreError(f"{self.path}: not a proofgraph store (no meta table)")
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        found = int(row[0]) if row else None
        if found is not None and found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path} has store schema version {found}, this proofgraph understands "
                f"version {SCHEMA_VERSION}; upgrade proofgraph to read it.")
        return found

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _init_schema(self) -> None:
        with self._tx():
            has_meta = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
            found = None
            if has_meta:
                row = self._conn.execute(
                    "SELECT value FROM meta WHERE key='schema_version'"
                ).fetchone()
                found = int(row[0]) if row else None
                if found in _MIGRATABLE:  # older schema: upgraded below, in place
                    self._conn.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                                       (str(SCHEMA_VERSION),))
                elif found is not None and found != SCHEMA_VERSION:
                    newer = found > SCHEMA_VERSION
                    raise SchemaVersionError(
                        f"{self.path} has store schema version {found}, this proofgraph "
                        f"understands version {SCHEMA_VERSION}; "
                        + ("upgrade proofgraph to read it." if newer else "no migration exists.")
                    )
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._conn.execute(stmt)
            have = {r[1] for r in self._conn.execute("PRAGMA table_info(runs)")}
            for name, decl in _RUNS_V3_COLUMNS:
                if name not in have:
                    self._conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    def _tx(self) -> _Transaction:
        return _Transaction(self._conn, self)

    def transaction(self) -> _Transaction:
        """A ``BEGIN IMMEDIATE`` ... ``COMMIT`` block (rolled back on error) for modules that
        write their own tables (``synth_rows``) through :attr:`connection`."""
        return _Transaction(self._conn, self)

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (autocommit mode: group writes in :meth:`transaction`)."""
        return self._conn

    # ------------------------------------------------------------------ runs
    def open_run(self, run_id: str, command: str, config: dict[str, Any]) -> bool:
        """Create the run, or resume it (returns True) if it exists with the same config.

        Raises :class:`ConfigMismatchError` when ``run_id`` exists with a different config.
        """
        cfg = canonical_json(config)
        with self._tx():
            row = self._conn.execute(
                "SELECT config_json FROM runs WHERE run_id=?", (run_id,)
            ).fetchone()
            if row is None:
                self._conn.execute(
                    "INSERT INTO runs(run_id, command, config_json, created_utc, finished_utc,"
                    " status) VALUES (?,?,?,?,NULL,'running')",
                    (run_id, command, cfg, _now()),
                )
                return False
            if row[0] != cfg:
                old = json.loads(row[0])
                keys = sorted(
                    k for k in set(old) | set(config)
                    if canonical_json(old.get(k)) != canonical_json(config.get(k))
                )
                raise ConfigMismatchError(
                    f"run {run_id!r} already exists with a different config (differs in: "
                    f"{', '.join(keys) or 'structure'}); use a new run id or the same config"
                )
            self._conn.execute(
                "UPDATE runs SET status='running', finished_utc=NULL WHERE run_id=?", (run_id,)
            )
            return True

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        """Mark the run finished now (``status`` defaults to ``finished``)."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE runs SET status=?, finished_utc=? WHERE run_id=?", (status, _now(), run_id)
            )
            if cur.rowcount == 0:
                raise KeyError(f"no run {run_id!r}")

    def end_session(self, run_id: str, wall_s: float, stop_note: str | None = None,
                    status: str | None = None) -> None:
        """Add one session's wall time to the run, record where it stopped (``None``: it did
        not stop early) and, when given, its status (``stopped`` after a signal)."""
        with self._tx():
            self._conn.execute("UPDATE runs SET wall_s = wall_s + ?, stop_note = ?,"
                               " status = coalesce(?, status) WHERE run_id=?",
                               (float(wall_s), stop_note, status, run_id))

    def run_wall_s(self, run_id: str) -> float:
        """The run's wall time over all its sessions so far (0 when unknown)."""
        row = self._conn.execute("SELECT wall_s FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def runs(self) -> list[dict[str, Any]]:
        """All runs, oldest first, with their config decoded, their item count, their total
        wall time and where an interrupted session stopped (when the store has them)."""
        have = {r[1] for r in self._conn.execute("PRAGMA table_info(runs)")}
        extra = [name for name, _ in _RUNS_V3_COLUMNS if name in have]
        cols = "".join(f", r.{name}" for name in extra)
        rows = self._conn.execute(
            "SELECT r.run_id, r.command, r.config_json, r.created_utc, r.finished_utc, r.status,"
            f" (SELECT count(*) FROM items i WHERE i.run_id = r.run_id){cols}"
            " FROM runs r ORDER BY r.created_utc, r.run_id"
        ).fetchall()
        out = []
        for r in rows:
            run = {"run_id": r[0], "command": r[1], "config": json.loads(r[2]),
                   "created_utc": r[3], "finished_utc": r[4], "status": r[5], "n_items": r[6]}
            run.update(zip(extra, r[7:], strict=True))
            out.append(run)
        return out

    # ------------------------------------------------------------------ items
    def done_keys(self, run_id: str, *, retry_errors: bool = False) -> set[str]:
        """Keys of committed items; with ``retry_errors`` items committed with an error are left out."""
        sql = "SELECT item_key FROM items WHERE run_id=?"
        if retry_errors:
            sql += " AND status != 'error'"
        return {r[0] for r in self._conn.execute(sql, (run_id,))}

    def error_results(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(item_key, result)`` of the run's items committed with an error."""
        for key, rj in self._conn.execute(
                "SELECT item_key, result_json FROM items WHERE run_id=? AND status='error'",
                (run_id,)).fetchall():
            yield key, json.loads(rj)

    def commit_item(
        self,
        run_id: str,
        item_key: str,
        seq: int,
        result: dict[str, Any],
        graph: nx.DiGraph | None,
        root: str | None,
        verdicts: Sequence[tuple[str, Verdict, Provenance]],
    ) -> None:
        """Store one item's result, graph and verdicts atomically, replacing any earlier copy.

        ``result["error"]`` (if a non-empty string) marks the item status ``error``.
        """
        self.commit_items(run_id, [ItemRecord(item_key, seq, result, graph, root, verdicts)])

    def commit_items(self, run_id: str, records: Sequence[ItemRecord]) -> None:
        """Store a group of items in ONE transaction (all or none), each replacing any earlier
        copy of the same key; rows of every table go in with ``executemany``."""
        if not records:
            return
        for rec in records:
            if rec.root is not None and (rec.graph is None or rec.root not in rec.graph):
                raise ValueError(f"root {rec.root!r} is not a node of the item graph")
        now = _now()
        items = []
        for rec in records:
            err = rec.result.get("error")
            error = err if isinstance(err, str) and err else None
            items.append((run_id, rec.key, int(rec.seq), "error" if error else "done",
                          canonical_json(rec.result), error, now))
        rows = _GroupRows(run_id)
        for rec in records:
            if rec.graph is not None:
                rows.add_graph(rec.key, rec.graph, rec.root)
            for nid, verdict, prov in rec.verdicts:
                pid = self._provenance_id(prov, rows)
                rows.verdicts.append((run_id, rec.key, nid, canonical_json(verdict.to_dict()),
                                      pid, prov.wall_time_s, prov.utc_time))
        c = self._conn
        with self._tx():
            if c.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone() is None:
                raise KeyError(f"no run {run_id!r}; call open_run first")
            # Replace: cascades to graphs, graph_nodes, edges and verdicts of these items.
            c.executemany("DELETE FROM items WHERE run_id=? AND item_key=?",
                          [(run_id, rec.key) for rec in records])
            c.executemany(
                "INSERT INTO items(run_id, item_key, seq, status, result_json, error, updated_utc)"
                " VALUES (?,?,?,?,?,?,?)", items)
            self._upsert_nodes(rows.nodes)
            c.executemany("INSERT INTO graphs(run_id, item_key, root_node) VALUES (?,?,?)",
                          rows.graphs)
            c.executemany("INSERT INTO graph_nodes(run_id, item_key, node_id, attrs_json)"
                          " VALUES (?,?,?,?)", rows.graph_nodes)
            c.executemany("INSERT INTO edges(run_id, item_key, src, dst, etype, attrs_json)"
                          " VALUES (?,?,?,?,?,?)", rows.edges)
            c.executemany("INSERT OR IGNORE INTO provenance(prov_id, json) VALUES (?,?)",
                          rows.provenance)
            c.executemany(
                "INSERT INTO verdicts(run_id, item_key, node_id, verdict_json, prov_id,"
                " wall_time_s, utc_time) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT(run_id, item_key, node_id) DO UPDATE SET"
                " verdict_json=excluded.verdict_json, prov_id=excluded.prov_id,"
                " wall_time_s=excluded.wall_time_s, utc_time=excluded.utc_time",
                rows.verdicts)
        self._prov_ids.update(rows.new_prov_keys)

    def _provenance_id(self, prov: Provenance, rows: _GroupRows) -> str:
        """The content id of ``prov`` without its volatile fields: hashed once per distinct
        provenance per connection (not once per claim); new ones are queued in ``rows``."""
        key = _provenance_key(prov)
        pid = self._prov_ids.get(key) or rows.new_prov_keys.get(key)
        if pid is None:
            pid, pjson = provenance_id(prov)
            rows.new_prov_keys[key] = pid
            rows.provenance.append((pid, pjson))
        return pid

    def _upsert_nodes(self, nodes: dict[str, tuple[str, str, str, dict[str, Any]]]) -> None:
        """Insert new nodes and merge extra attributes into existing ones (last writer wins per
        key), reading the existing rows with one ``IN`` query per chunk of ids."""
        if not nodes:
            return
        ids = list(nodes)
        old: dict[str, str] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            old.update(self._conn.execute(
                f"SELECT node_id, attrs_json FROM nodes WHERE node_id IN ({marks})", chunk))
        rows = []
        for nid, (kind, text, backend, extras) in nodes.items():
            before = old.get(nid)
            merged = canonical_json({**json.loads(before), **extras} if before else extras)
            if merged != before:
                rows.append((nid, kind, text, backend, merged))
        self._conn.executemany(
            "INSERT INTO nodes(node_id, kind, text, backend, attrs_json) VALUES (?,?,?,?,?)"
            " ON CONFLICT(node_id) DO UPDATE SET attrs_json=excluded.attrs_json", rows)

    def item_results(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(item_key, result)`` for every committed item of the run, in ``seq`` order."""
        cur = self._conn.execute(
            "SELECT item_key, result_json FROM items WHERE run_id=? ORDER BY seq, item_key",
            (run_id,),
        )
        for key, rj in cur.fetchall():
            yield key, json.loads(rj)

    def item_verdicts(self, run_id: str, item_key: str) -> list[tuple[str, Verdict, Provenance]]:
        """The verdicts committed for one item, with their full provenance (time fields restored)."""
        rows = self._conn.execute(
            "SELECT v.node_id, v.verdict_json, p.json, v.wall_time_s, v.utc_time"
            " FROM verdicts v JOIN provenance p USING (prov_id)"
            " WHERE v.run_id=? AND v.item_key=? ORDER BY v.rowid",
            (run_id, item_key),
        ).fetchall()
        out = []
        for nid, vj, pj, wall, utc in rows:
            pdata = {**json.loads(pj), "wall_time_s": wall, "utc_time": utc}
            out.append((nid, Verdict.from_dict(json.loads(vj)), Provenance.from_dict(pdata)))
        return out

    def verdict_counts(self, run_id: str) -> dict[str, int]:
        """Number of verdict rows per kind (every kind present, zero if none) for the run."""
        counts = dict.fromkeys(VERDICT_KINDS, 0)
        for (vj,) in self._conn.execute(
            "SELECT verdict_json FROM verdicts WHERE run_id=?", (run_id,)
        ):
            kind = json.loads(vj)["verdict"]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    # ------------------------------------------------------------------ graphs
    def load_graph(self, run_id: str, item_key: str) -> nx.DiGraph:
        """The graph committed with one item (exact attributes); ``KeyError`` if it has none."""
        row = self._conn.execute(
            "SELECT root_node FROM graphs WHERE run_id=? AND item_key=?", (run_id, item_key)
        ).fetchone()
        if row is None:
            raise KeyError(f"no graph for item {item_key!r} of run {run_id!r}")
        g = nx.DiGraph()
        for n, aj in self._conn.execute(
            "SELECT node_id, attrs_json FROM graph_nodes WHERE run_id=? AND item_key=?"
            " ORDER BY rowid", (run_id, item_key)
        ):
            g.add_node(n, **json.loads(aj))
        for u, v, et, aj in self._conn.execute(
            "SELECT src, dst, etype, attrs_json FROM edges WHERE run_id=? AND item_key=?"
            " ORDER BY rowid", (run_id, item_key)
        ):
            g.add_edge(u, v, etype=et, **json.loads(aj))
        return g

    def graph_root(self, run_id: str, item_key: str) -> str | None:
        """The root node id stored with an item's graph (``None`` if the item has no graph/root)."""
        row = self._conn.execute(
            "SELECT root_node FROM graphs WHERE run_id=? AND item_key=?", (run_id, item_key)
        ).fetchone()
        return row[0] if row else None

    def run_graph(self, run_id: str) -> nx.DiGraph:
        """All item graphs of the run merged in ``seq`` order (later items win per attribute)."""
        keys = [r[0] for r in self._conn.execute(
            "SELECT g.item_key FROM graphs g JOIN items i USING (run_id, item_key)"
            " WHERE g.run_id=? ORDER BY i.seq, i.item_key", (run_id,)
        )]
        return merge(self.load_graph(run_id, k) for k in keys)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``'ok'`` when healthy)."""
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


class _GroupRows:
    """The rows of one group commit, gathered before the transaction opens."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.nodes: dict[str, tuple[str, str, str, dict[str, Any]]] = {}
        self.graphs: list[tuple[str, str, str | None]] = []
        self.graph_nodes: list[tuple[str, str, str, str]] = []
        self.edges: list[tuple[str, str, str, str, str, str]] = []
        self.verdicts: list[tuple[Any, ...]] = []
        self.provenance: list[tuple[str, str]] = []
        self.new_prov_keys: dict[str, str] = {}

    def add_graph(self, key: str, g: nx.DiGraph, root: str | None) -> None:
        for n, d in g.nodes(data=True):
            missing = [k for k in CORE_NODE_ATTRS if k not in d]
            if missing:
                raise ValueError(f"node {n!r} lacks {missing}; build graphs with graph.add_node")
            extras = {k: v for k, v in d.items() if k not in CORE_NODE_ATTRS}
            if n in self.nodes:
                self.nodes[n][3].update(extras)
            else:
                self.nodes[n] = (d["kind"], d["text"], d["backend"], extras)
            self.graph_nodes.append((self.run_id, key, n, canonical_json(dict(d))))
        self.graphs.append((self.run_id, key, root))
        for u, v, d in g.edges(data=True):
            if "etype" not in d:
                raise ValueError(f"edge {u!r}->{v!r} lacks an etype; use graph.add_edge")
            attrs = {k: val for k, val in d.items() if k != "etype"}
            self.edges.append((self.run_id, key, u, v, d["etype"], canonical_json(attrs)))


def _provenance_key(prov: Provenance) -> str:
    """A cheap identity of a provenance's non-volatile content (memo key, not stored): one
    C-level ``json.dumps`` instead of ``to_dict`` + canonical JSON + sha256 per claim."""
    data = {k: v for k, v in prov.__dict__.items() if k not in VOLATILE_PROVENANCE_FIELDS}
    return json.dumps(data, sort_keys=True, default=str)


def _is_locked(err: sqlite3.Error) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``/``ROLLBACK``; immediate so writers queue on the lock.
    A lock held by another process past the busy timeout becomes :class:`StoreLockedError`."""

    def __init__(self, conn: sqlite3.Connection, store: Store) -> None:
        self._conn = conn
        self._store = store

    def __enter__(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if _is_locked(err):
                raise self._store._locked() from err
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
