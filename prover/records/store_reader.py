"""The store's reader: read-only queries over runs, items, verdicts and graphs.

Nothing here writes, so every method works on a store opened with ``readonly=True`` (including
a v1/v2 store that is not upgraded: missing v3 columns are simply left out of :meth:`runs`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import networkx as nx

from prover.records.graph import merge
from prover.records.store_schema import load_json, v3_run_columns
from prover.records.verdicts import VERDICT_KINDS, Provenance, Verdict


class StoreReader:
    """The read half of :class:`prover.records.store.Store` (a mixin over its connection)."""

    _conn: sqlite3.Connection

    def _json(self, text: Any, what: str) -> Any:
        """Stored JSON, or a :class:`StoreError` naming the store and ``what``."""
        return load_json(text, getattr(self, "path", "store"), what)

    # ------------------------------------------------------------------ runs
    def run_wall_s(self, run_id: str) -> float:
        """The run's wall time over all its sessions so far (0 when unknown)."""
        row = self._conn.execute("SELECT wall_s FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def runs(self) -> list[dict[str, Any]]:
        """All runs, oldest first, with their config decoded, their item count, their total
        wall time and where an interrupted session stopped (when the store has them)."""
        extra = v3_run_columns(self._conn)
        cols = "".join(f", r.{name}" for name in extra)
        rows = self._conn.execute(
            "SELECT r.run_id, r.command, r.config_json, r.created_utc, r.finished_utc, r.status,"
            f" (SELECT count(*) FROM items i WHERE i.run_id = r.run_id){cols}"
            " FROM runs r ORDER BY r.created_utc, r.run_id"
        ).fetchall()
        out = []
        for r in rows:
            config = self._json(r[2], f"config of run {r[0]!r}")
            run = {"run_id": r[0], "command": r[1], "config": config,
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
            yield key, self._json(rj, f"result of item {key!r}")

    def item_results(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(item_key, result)`` for every committed item of the run, in ``seq`` order."""
        cur = self._conn.execute(
            "SELECT item_key, result_json FROM items WHERE run_id=? ORDER BY seq, item_key",
            (run_id,),
        )
        for key, rj in cur.fetchall():
            yield key, self._json(rj, f"result of item {key!r}")

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
            pdata = {**self._json(pj, "a provenance"), "wall_time_s": wall, "utc_time": utc}
            out.append((nid, Verdict.from_dict(self._json(vj, "a verdict")),
                        Provenance.from_dict(pdata)))
        return out

    def verdict_counts(self, run_id: str) -> dict[str, int]:
        """Number of verdict rows per kind (every kind present, zero if none) for the run."""
        counts = dict.fromkeys(VERDICT_KINDS, 0)
        for (vj,) in self._conn.execute(
            "SELECT verdict_json FROM verdicts WHERE run_id=?", (run_id,)
        ):
            kind = self._json(vj, "a verdict")["verdict"]
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
            g.add_node(n, **self._json(aj, f"node {n!r}"))
        for u, v, et, aj in self._conn.execute(
            "SELECT src, dst, etype, attrs_json FROM edges WHERE run_id=? AND item_key=?"
            " ORDER BY rowid", (run_id, item_key)
        ):
            g.add_edge(u, v, etype=et, **self._json(aj, f"edge {u!r} -> {v!r}"))
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
