"""The store's schema and its versioned migration, plus the connection-level helpers shared by
the writer and the reader (errors, canonical JSON, transactions).

:data:`SCHEMA_VERSION` is 3; :func:`init_schema` creates a new store or upgrades a v1/v2 store
in place (inside one transaction), and refuses a newer or unknown version with
:class:`SchemaVersionError`. :func:`read_version` checks a store opened read-only without
writing anything.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import urllib.parse
from collections.abc import Callable
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_basestring
from pathlib import Path
from types import TracebackType
from typing import Any

SCHEMA_VERSION = 3
#: Versions that :func:`init_schema` upgrades in place: 2 added the synth tables, 3 adds
#: ``runs.wall_s`` (the run's wall time over all its sessions) and ``runs.stop_note`` (where an
#: interrupted session stopped).
_MIGRATABLE = (1, 2)
#: Columns added to ``runs`` by version 3 (``ALTER TABLE`` on older stores).
_RUNS_V3_COLUMNS = (("wall_s", "REAL NOT NULL DEFAULT 0"), ("stop_note", "TEXT"))

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


def load_json(text: Any, path: object, what: str) -> Any:
    """``json.loads`` of a value read from the store; a :class:`StoreError` naming the store
    and ``what`` (never a Python traceback) when the stored text is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise StoreError(f"{path}: corrupt store: {what} is not JSON ({err})") from None


class ConfigMismatchError(StoreError):
    """A run id was reused with a different configuration."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock longer than the busy timeout."""


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) used for hashing and comparing.

    The text of ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, written by one C encoder built once (``JSONEncoder.encode`` builds
    one per call). That encoder keeps no circular-reference marks (they would outlive an
    encoding that raised): a value that contains itself, or nests past the recursion limit, is
    encoded again by ``JSONEncoder``, which raises its own error for it."""
    if _C_CANONICAL is None:
        return _CANONICAL(obj)
    try:
        return "".join(_C_CANONICAL(obj, 0))
    except RecursionError:
        return _CANONICAL(obj)


#: the canonical encoder of the standard library (the reference, and the fallback)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
#: the same encoding as one reusable C encoder (None where the C accelerator is missing):
#: (markers, default, string encoder, indent, key separator, item separator, sort_keys,
#: skipkeys, allow_nan), as ``JSONEncoder.iterencode`` passes them for the options above
_C_CANONICAL = (None if _c_make_encoder is None else _c_make_encoder(
    None, json.JSONEncoder().default, _encode_basestring, None, ":", ",", True, False, True))


def now_utc() -> str:
    """The current UTC time as ISO 8601 with seconds (the store's timestamps)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def is_locked(err: sqlite3.Error) -> bool:
    """True when an SQLite error means another connection holds the lock."""
    text = str(err).lower()
    return "locked" in text or "busy" in text


def connect(path: Path, busy_timeout_s: float, readonly: bool) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode; read-only opens never write (and fall back to
    ``immutable=1`` when SQLite cannot create the WAL index beside a file we may not write)."""
    if not readonly:
        return sqlite3.connect(str(path), timeout=busy_timeout_s,
                               isolation_level=None, check_same_thread=True)
    quoted = urllib.parse.quote(str(path.resolve()))
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


def _stored_version(conn: sqlite3.Connection, path: Path) -> int | None:
    """The ``meta`` table's schema version (None when unrecorded); a value that is not a
    number is a :class:`SchemaVersionError`, never a ValueError traceback."""
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        return int(row[0]) if row else None
    except (TypeError, ValueError):
        raise SchemaVersionError(f"{path}: corrupt store: schema version {row[0]!r} is not "
                                 "a number") from None


def read_version(conn: sqlite3.Connection, path: Path) -> int | None:
    """The schema version of a store opened read-only (None when unrecorded); raises
    :class:`StoreError` for a database without ``meta`` and :class:`SchemaVersionError` for a
    newer version."""
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if not has_meta:
        raise StoreError(f"{path}: not a proofgraph store (no meta table)")
    found = _stored_version(conn, path)
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} has store schema version {found}, this proofgraph understands "
            f"version {SCHEMA_VERSION}; upgrade proofgraph to read it.")
    return found


def init_schema(conn: sqlite3.Connection, path: Path, tx: Callable[[], Transaction]) -> None:
    """Create the tables of a new store, or upgrade a v1/v2 store to v3 in place, in ONE
    transaction from ``tx()``; a newer or unknown version raises :class:`SchemaVersionError`."""
    with tx():
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        found = None
        if has_meta:
            found = _stored_version(conn, path)
            if found in _MIGRATABLE:  # older schema: upgraded below, in place
                conn.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                             (str(SCHEMA_VERSION),))
            elif found is not None and found != SCHEMA_VERSION:
                newer = found > SCHEMA_VERSION
                raise SchemaVersionError(
                    f"{path} has store schema version {found}, this proofgraph "
                    f"understands version {SCHEMA_VERSION}; "
                    + ("upgrade proofgraph to read it." if newer else "no migration exists.")
                )
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        have = runs_columns(conn)
        for name, decl in _RUNS_V3_COLUMNS:
            if name not in have:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )


def runs_columns(conn: sqlite3.Connection) -> set[str]:
    """The column names of the ``runs`` table (a read-only v2 store lacks the v3 ones)."""
    return {r[1] for r in conn.execute("PRAGMA table_info(runs)")}


def v3_run_columns(conn: sqlite3.Connection) -> list[str]:
    """The version-3 columns of ``runs`` this store has, in schema order."""
    have = runs_columns(conn)
    return [name for name, _ in _RUNS_V3_COLUMNS if name in have]


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``/``ROLLBACK``; immediate so writers queue on the lock.
    A lock held by another process past the busy timeout becomes :class:`StoreLockedError`
    (built by ``locked()``)."""

    def __init__(self, conn: sqlite3.Connection, locked: Callable[[], StoreLockedError]) -> None:
        self._conn = conn
        self._locked = locked

    def __enter__(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if is_locked(err):
                raise self._locked() from err
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
