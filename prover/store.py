"""SQLite store for resumable runs: items, proof graphs, verdicts and deduplicated provenance,
and the rows of synthetic-data runs (``synth_rows``, keyed by run and content hash).

Every item is committed in ONE transaction (result + graph + verdicts), so a killed process
loses at most the item in flight, and re-committing an item replaces it (no duplicates).

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
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import networkx as nx

from prover.graph import CORE_NODE_ATTRS, merge
from prover.verdicts import VERDICT_KINDS, Provenance, Verdict

SCHEMA_VERSION = 2
#: Versions that :meth:`Store._init_schema` upgrades in place (2 only adds the synth tables).
_MIGRATABLE = (1,)
#: Provenance fields that vary per call; kept on the verdict row, not hashed.
VOLATILE_PROVENANCE_FIELDS: tuple[str, ...] = ("wall_time_s", "utc_time")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, command TEXT NOT NULL, config_json TEXT NOT NULL,
    created_utc TEXT NOT NULL, finished_utc TEXT, status TEXT NOT NULL);
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
    """One SQLite database file holding any number of runs; safe to share between processes."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_s: float = 30.0,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be 'NORMAL' or 'FULL'")
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not an SQLite store")
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=busy_timeout_s,
                                         isolation_level=None, check_same_thread=True)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open as an SQLite store ({err})") from err
        c = self._conn
        try:
            c.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"could not switch {self.path} to WAL mode (got {mode!r})")
            c.execute(f"PRAGMA synchronous = {synchronous}")
            c.execute("PRAGMA foreign_keys = ON")
            self._init_schema()
        except sqlite3.DatabaseError as err:
            c.close()
            raise StoreError(f"{self.path}: not an SQLite store ({err})") from err
        except BaseException:
            c.close()
            raise

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
            if has_meta:
                row = self._conn.execute(
                    "SELECT value FROM meta WHERE key='schema_version'"
                ).fetchone()
                found = int(row[0]) if row else None
                if found in _MIGRATABLE:  # older schema: the new tables are created below
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
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    def _tx(self) -> _Transaction:
        return _Transaction(self._conn)

    def transaction(self) -> _Transaction:
        """A ``BEGIN IMMEDIATE`` ... ``COMMIT`` block (rolled back on error) for modules that
        write their own tables (``synth_rows``) through :attr:`connection`."""
        return _Transaction(self._conn)

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

    def runs(self) -> list[dict[str, Any]]:
        """All runs, oldest first, with their config decoded and their item count."""
        rows = self._conn.execute(
            "SELECT r.run_id, r.command, r.config_json, r.created_utc, r.finished_utc, r.status,"
            " (SELECT count(*) FROM items i WHERE i.run_id = r.run_id)"
            " FROM runs r ORDER BY r.created_utc, r.run_id"
        ).fetchall()
        return [
            {"run_id": r[0], "command": r[1], "config": json.loads(r[2]), "created_utc": r[3],
             "finished_utc": r[4], "status": r[5], "n_items": r[6]}
            for r in rows
        ]

    # ------------------------------------------------------------------ items
    def done_keys(self, run_id: str, *, retry_errors: bool = False) -> set[str]:
        """Keys of committed items; with ``retry_errors`` items committed with an error are left out."""
        sql = "SELECT item_key FROM items WHERE run_id=?"
        if retry_errors:
            sql += " AND status != 'error'"
        return {r[0] for r in self._conn.execute(sql, (run_id,))}

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
        if root is not None and (graph is None or root not in graph):
            raise ValueError(f"root {root!r} is not a node of the item graph")
        error = result.get("error") if isinstance(result.get("error"), str) else None
        result_json = canonical_json(result)
        now = _now()
        c = self._conn
        with self._tx():
            if c.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone() is None:
                raise KeyError(f"no run {run_id!r}; call open_run first")
            # Replace: cascades to graphs, graph_nodes, edges and verdicts of this item.
            c.execute("DELETE FROM items WHERE run_id=? AND item_key=?", (run_id, item_key))
            c.execute(
                "INSERT INTO items(run_id, item_key, seq, status, result_json, error, updated_utc)"
                " VALUES (?,?,?,?,?,?,?)",
                (run_id, item_key, int(seq), "error" if error else "done", result_json, error, now),
            )
            if graph is not None:
                self._insert_graph(run_id, item_key, graph, root)
            for nid, verdict, prov in verdicts:
                pid, pjson = provenance_id(prov)
                c.execute("INSERT OR IGNORE INTO provenance(prov_id, json) VALUES (?,?)",
                          (pid, pjson))
                c.execute(
                    "INSERT INTO verdicts(run_id, item_key, node_id, verdict_json, prov_id,"
                    " wall_time_s, utc_time) VALUES (?,?,?,?,?,?,?)"
                    " ON CONFLICT(run_id, item_key, node_id) DO UPDATE SET"
                    " verdict_json=excluded.verdict_json, prov_id=excluded.prov_id,"
                    " wall_time_s=excluded.wall_time_s, utc_time=excluded.utc_time",
                    (run_id, item_key, nid, canonical_json(verdict.to_dict()), pid,
                     prov.wall_time_s, prov.utc_time),
                )

    def _insert_graph(self, run_id: str, item_key: str, g: nx.DiGraph, root: str | None) -> None:
        c = self._conn
        for n, d in g.nodes(data=True):
            missing = [k for k in CORE_NODE_ATTRS if k not in d]
            if missing:
                raise ValueError(f"node {n!r} lacks {missing}; build graphs with graph.add_node")
            extras = {k: v for k, v in d.items() if k not in CORE_NODE_ATTRS}
            row = c.execute("SELECT attrs_json FROM nodes WHERE node_id=?", (n,)).fetchone()
            merged = {**json.loads(row[0]), **extras} if row else extras
            c.execute(
                "INSERT INTO nodes(node_id, kind, text, backend, attrs_json) VALUES (?,?,?,?,?)"
                " ON CONFLICT(node_id) DO UPDATE SET attrs_json=excluded.attrs_json",
                (n, d["kind"], d["text"], d["backend"], canonical_json(merged)),
            )
        c.execute("INSERT INTO graphs(run_id, item_key, root_node) VALUES (?,?,?)",
                  (run_id, item_key, root))
        c.executemany(
            "INSERT INTO graph_nodes(run_id, item_key, node_id, attrs_json) VALUES (?,?,?,?)",
            [(run_id, item_key, n, canonical_json(dict(d))) for n, d in g.nodes(data=True)],
        )
        rows = []
        for u, v, d in g.edges(data=True):
            if "etype" not in d:
                raise ValueError(f"edge {u!r}->{v!r} lacks an etype; use graph.add_edge")
            attrs = {k: val for k, val in d.items() if k != "etype"}
            rows.append((run_id, item_key, u, v, d["etype"], canonical_json(attrs)))
        c.executemany(
            "INSERT INTO edges(run_id, item_key, src, dst, etype, attrs_json) VALUES (?,?,?,?,?,?)",
            rows,
        )

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


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``/``ROLLBACK``; immediate so writers queue on the lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
