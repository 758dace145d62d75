"""SQLite store for resumable runs: items, proof graphs, verdicts and deduplicated provenance,
and the rows of synthetic-data runs (``synth_rows``, keyed by run and content hash).

:class:`Store` opens one database file and combines three modules, one job each:
:mod:`~prover.records.store_schema` (tables, versioned migration v1/v2 -> v3 in place, errors,
transactions), :mod:`~prover.records.store_writer` (runs and the group commit) and
:mod:`~prover.records.store_reader` (read-only queries). Every public name callers use is
importable from here. Read-only commands open a store with ``readonly=True`` (no write, no
upgrade).

Durability: WAL with ``synchronous=NORMAL`` by default. In WAL mode NORMAL is fully safe
against a crashed or SIGKILLed *process* (a commit is in the WAL, in the OS page cache, before
``COMMIT`` returns) and never corrupts the database; only an OS crash or power loss can drop the
last few committed items, which a resumed run simply recomputes. It saves one fsync per item.
Pass ``synchronous="FULL"`` when each commit must survive power loss.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Literal

from prover.records.store_reader import StoreReader
from prover.records.store_schema import (
    SCHEMA_VERSION,
    ConfigMismatchError,
    SchemaVersionError,
    StoreError,
    StoreLockedError,
    Transaction,
    canonical_json,
    connect,
    init_schema,
    is_locked,
    read_version,
)
from prover.records.store_writer import (
    VOLATILE_PROVENANCE_FIELDS,
    ItemRecord,
    StoreWriter,
    provenance_id,
)

__all__ = [
    "SCHEMA_VERSION", "VOLATILE_PROVENANCE_FIELDS", "ConfigMismatchError", "ItemRecord",
    "SchemaVersionError", "Store", "StoreError", "StoreLockedError", "canonical_json",
    "provenance_id",
]


class Store(StoreWriter, StoreReader):
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
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not an SQLite store")
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.path}: no such store")
        try:
            self._conn = connect(self.path, busy_timeout_s, readonly)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open as an SQLite store ({err})") from err
        c = self._conn
        try:
            c.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            if readonly:
                self.schema_version = read_version(c, self.path)
            else:
                mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"could not switch {self.path} to WAL mode (got {mode!r})")
                c.execute(f"PRAGMA synchronous = {synchronous}")
                c.execute("PRAGMA foreign_keys = ON")
                init_schema(c, self.path, self._tx)
                self.schema_version = SCHEMA_VERSION
        except sqlite3.OperationalError as err:
            c.close()
            if is_locked(err):
                raise self._locked() from err
            raise StoreError(f"{self.path}: not an SQLite store ({err})") from err
        except sqlite3.DatabaseError as err:
            c.close()
            raise StoreError(f"{self.path}: not an SQLite store ({err})") from err
        except BaseException:
            c.close()
            raise

    def _locked(self) -> StoreLockedError:
        return StoreLockedError(
            f"{self.path} is locked by another process that is writing it (waited "
            f"{self.busy_timeout_s:g} s); wait for that process to finish, or use another "
            "--store")

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

    def _tx(self) -> Transaction:
        return Transaction(self._conn, self._locked)

    def transaction(self) -> Transaction:
        """A ``BEGIN IMMEDIATE`` ... ``COMMIT`` block (rolled back on error) for modules that
        write their own tables (``synth_rows``) through :attr:`connection`."""
        return Transaction(self._conn, self._locked)

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (autocommit mode: group writes in :meth:`transaction`)."""
        return self._conn
