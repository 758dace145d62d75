"""The store's writer: runs (open, finish, sessions) and the group commit of items.

:meth:`StoreWriter.commit_items` writes many items, each with its result, graph and verdicts,
in ONE transaction with ``executemany``, so a killed process loses at most the open group, and
re-committing an item replaces it (no duplicates). Provenance is stored once (deduplicated by
content, memoised per connection); a verdict row keeps only what differs per claim (wall time,
UTC time). Node rows are merged with one batched SELECT per group, never one per node.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from prover.records.graph import CORE_NODE_ATTRS
from prover.records.store_schema import (
    ConfigMismatchError,
    Transaction,
    canonical_json,
    now_utc,
)
from prover.records.verdicts import Provenance, Verdict

#: Ids per ``IN (...)`` query (below SQLite's host-parameter limit).
_IN_CHUNK = 500
#: Provenance fields that vary per call; kept on the verdict row, not hashed.
VOLATILE_PROVENANCE_FIELDS: tuple[str, ...] = ("wall_time_s", "utc_time")


@dataclass(frozen=True)
class ItemRecord:
    """One finished item as the store keeps it: result, optional graph and root, verdicts."""

    key: str
    seq: int
    result: dict[str, Any]
    graph: nx.DiGraph | None = None
    root: str | None = None
    verdicts: Sequence[tuple[str, Verdict, Provenance]] = ()


def provenance_id(prov: Provenance | dict[str, Any]) -> tuple[str, str]:
    """``(sha256 hex, canonical json)`` of a provenance with its volatile fields removed."""
    data = prov.to_dict() if isinstance(prov, Provenance) else dict(prov)
    for key in VOLATILE_PROVENANCE_FIELDS:
        data.pop(key, None)
    text = canonical_json(data)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


class StoreWriter:
    """The write half of :class:`prover.records.store.Store` (a mixin over its connection)."""

    _conn: sqlite3.Connection
    _prov_ids: dict[tuple[Any, ...], str]

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

    def commit_items(self, run_id: str, records: Sequence[ItemRecord]) -> None:
        """Store a group of items in ONE transaction (all or none), each replacing any earlier
        copy of the same key; rows of every table go in with ``executemany``."""
        if not records:
            return
        for rec in records:
            if rec.root is not None and (rec.graph is None or rec.root not in rec.graph):
                raise ValueError(f"root {rec.root!r} is not a node of the item graph")
        now = now_utc()
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
        self.new_prov_keys: dict[tuple[Any, ...], str] = {}

    def add_graph(self, key: str, g: nx.DiGraph, root: str | None) -> None:
        run_id, nodes, core = self.run_id, self.nodes, _CORE
        for n, d in g.nodes(data=True):
            if not core.issubset(d):
                missing = [k for k in CORE_NODE_ATTRS if k not in d]
                raise ValueError(f"node {n!r} lacks {missing}; build graphs with graph.add_node")
            extras = {k: v for k, v in d.items() if k not in core}
            known = nodes.get(n)
            if known is not None:
                known[3].update(extras)
            else:
                nodes[n] = (d["kind"], d["text"], d["backend"], extras)
            self.graph_nodes.append((run_id, key, n, canonical_json(d)))
        self.graphs.append((run_id, key, root))
        for u, v, d in g.edges(data=True):
            etype = d.get("etype")
            if etype is None:
                raise ValueError(f"edge {u!r}->{v!r} lacks an etype; use graph.add_edge")
            attrs = {k: val for k, val in d.items() if k != "etype"}
            self.edges.append((run_id, key, u, v, etype, canonical_json(attrs)))


_CORE = frozenset(CORE_NODE_ATTRS)


def _provenance_key(prov: Provenance) -> tuple[Any, ...]:
    """A cheap identity of a provenance's non-volatile content (memo key, not stored): the
    field values, with each non-scalar (limits, policy) as its type and ``repr``, instead of
    ``to_dict`` + canonical JSON + sha256 per claim. Equal content in another key order only
    misses the memo (the stored id is the canonical hash either way)."""
    return tuple(v if type(v) in _KEY_SCALARS else (type(v), repr(v))
                 for k, v in prov.__dict__.items() if k not in _VOLATILE)


_KEY_SCALARS = frozenset({str, int, float, bool, type(None)})
_VOLATILE = frozenset(VOLATILE_PROVENANCE_FIELDS)
