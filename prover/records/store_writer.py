"""The store's writer: runs (open, finish, sessions) and the group commit of items.

:meth:`StoreWriter.commit_items` writes many items, each with its result, graph and verdicts,
in ONE transaction with ``executemany``, so a killed process loses at most the open group, and
re-committing an item replaces it (no duplicates). The rows come ready from
:func:`prover.records.prepared.prepare_item` (built in the worker that processed the item, or
here). Provenance is stored once (deduplicated by content); a verdict row keeps only what
differs per claim (wall time, UTC time). Node rows are merged with one batched SELECT per
group, never one per node.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from prover.records.prepared import (
    VOLATILE_PROVENANCE_FIELDS,
    PreparedItem,
    _provenance_key,
    prepare_item,
    provenance_id,
)
from prover.records.store_schema import (
    ConfigMismatchError,
    Transaction,
    canonical_json,
    load_json,
    now_utc,
)
from prover.records.verdicts import Provenance, Verdict

#: Ids per ``IN (...)`` query (below SQLite's host-parameter limit).
_IN_CHUNK = 500


@dataclass(frozen=True)
class ItemRecord:
    """One finished item as the store keeps it: result, optional graph and root, verdicts."""

    key: str
    seq: int
    result: dict[str, Any]
    graph: nx.DiGraph | None = None
    root: str | None = None
    verdicts: Sequence[tuple[str, Verdict, Provenance]] = ()


class StoreWriter:
    """The write half of :class:`prover.records.store.Store` (a mixin over its connection)."""

    _conn: sqlite3.Connection

    def _tx(self) -> Transaction:  # provided by Store
        raise NotImplementedError

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
                    (run_id, command, cfg, now_utc()),
                )
                return False
            if row[0] != cfg:
                old = load_json(row[0], getattr(self, "path", "store"),
                                f"config of run {run_id!r}")
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
                "UPDATE runs SET status=?, finished_utc=? WHERE run_id=?",
                (status, now_utc(), run_id)
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

    # ------------------------------------------------------------------ items
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

    def commit_items(self, run_id: str, records: Sequence[ItemRecord | PreparedItem]) -> None:
        """Store a group of items in ONE transaction (all or none), each replacing any earlier
        copy of the same key; rows of every table go in with ``executemany``. A
        :class:`PreparedItem` (rows built in a worker, :func:`prepare_item`) goes in as it is;
        an :class:`ItemRecord` is prepared here first, the same way. Raises ValueError (before
        anything is written) for a record of another run or a graph the store cannot keep."""
        if not records:
            return
        prepared = []
        for rec in records:
            if isinstance(rec, PreparedItem):
                if rec.run_id != run_id:
                    raise ValueError(f"item {rec.key!r} was prepared for run {rec.run_id!r}, "
                                     f"not {run_id!r}")
                prepared.append(rec)
            else:
                prepared.append(prepare_item(run_id, rec.key, rec.seq, rec.result, rec.graph,
                                             rec.root, rec.verdicts))
        now = now_utc()
        rows = _GroupRows(run_id)
        for item in prepared:
            rows.add(item, now)
        c = self._conn
        with self._tx():
            if c.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone() is None:
                raise KeyError(f"no run {run_id!r}; call open_run first")
            # Replace: cascades to graphs, graph_nodes, edges and verdicts of these items.
            c.executemany("DELETE FROM items WHERE run_id=? AND item_key=?",
                          [(run_id, item.key) for item in prepared])
            c.executemany(
                "INSERT INTO items(run_id, item_key, seq, status, result_json, error, updated_utc)"
                " VALUES (?,?,?,?,?,?,?)", rows.items)
            self._upsert_nodes(rows.nodes)
            c.executemany("INSERT INTO graphs(run_id, item_key, root_node) VALUES (?,?,?)",
                          rows.graphs)
            c.executemany("INSERT INTO graph_nodes(run_id, item_key, node_id, attrs_json)"
                          " VALUES (?,?,?,?)", rows.graph_nodes)
            c.executemany("INSERT INTO edges(run_id, item_key, src, dst, etype, attrs_json)"
                          " VALUES (?,?,?,?,?,?)", rows.edges)
            c.executemany("INSERT OR IGNORE INTO provenance(prov_id, json) VALUES (?,?)",
                          list(rows.provenance.items()))
            c.executemany(
                "INSERT INTO verdicts(run_id, item_key, node_id, verdict_json, prov_id,"
                " wall_time_s, utc_time) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT(run_id, item_key, node_id) DO UPDATE SET"
                " verdict_json=excluded.verdict_json, prov_id=excluded.prov_id,"
                " wall_time_s=excluded.wall_time_s, utc_time=excluded.utc_time",
                rows.verdicts)

    def _upsert_nodes(self, nodes: dict[str, list[Any]]) -> None:
        """Insert new nodes and merge extra attributes into existing ones (last writer wins per
        key), reading the existing rows with one ``IN`` query per chunk of ids. ``nodes`` maps
        an id to ``[kind, text, backend, extras, extras_json]``: the canonical JSON of the
        extras (``extras`` unused), or None when they were merged within the group (then
        ``extras`` is the merged dict)."""
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
        for nid, (kind, text, backend, extras, extras_json) in nodes.items():
            before = old.get(nid)
            if extras_json is not None and (before is None or before == extras_json):
                merged = extras_json  # {**before, **extras} == extras when they are equal
            else:
                if extras_json is not None:
                    extras = json.loads(extras_json)
                merged = canonical_json({**json.loads(before), **extras} if before else extras)
            if merged != before:
                rows.append((nid, kind, text, backend, merged))
        self._conn.executemany(
            "INSERT INTO nodes(node_id, kind, text, backend, attrs_json) VALUES (?,?,?,?,?)"
            " ON CONFLICT(node_id) DO UPDATE SET attrs_json=excluded.attrs_json", rows)


class _GroupRows:
    """The rows of one group commit, gathered from prepared items before the transaction."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.items: list[tuple[Any, ...]] = []
        self.nodes: dict[str, list[Any]] = {}
        self.graphs: list[tuple[str, str, str | None]] = []
        self.graph_nodes: list[tuple[str, str, str, str]] = []
        self.edges: list[tuple[str, str, str, str, str, str]] = []
        self.verdicts: list[tuple[Any, ...]] = []
        self.provenance: dict[str, str] = {}

    def add(self, item: PreparedItem, now: str) -> None:
        run_id, key, nodes = self.run_id, item.key, self.nodes
        self.items.append((run_id, key, item.seq, "error" if item.error else "done",
                           item.result_json, item.error, now))
        if item.has_graph:
            for nid, kind, text, backend, extras_json in item.nodes:
                known = nodes.get(nid)
                if known is not None:
                    if extras_json != "{}" and extras_json != known[4]:
                        # merged in the group (rare): last writer wins per key, as a dict
                        before = known[3] if known[4] is None else json.loads(known[4])
                        known[3] = {**before, **json.loads(extras_json)}
                        known[4] = None
                else:
                    nodes[nid] = [kind, text, backend, None, extras_json]
            self.graph_nodes.extend((run_id, key, nid, attrs) for nid, attrs in item.graph_nodes)
            self.graphs.append((run_id, key, item.root))
            self.edges.extend((run_id, key, *edge) for edge in item.edges)
        self.verdicts.extend((run_id, key, *row) for row in item.verdicts)
        for pid, pjson in item.provenance:
            self.provenance.setdefault(pid, pjson)


__all__ = ["VOLATILE_PROVENANCE_FIELDS", "ItemRecord", "PreparedItem", "StoreWriter",
           "_provenance_key", "prepare_item", "provenance_id"]
