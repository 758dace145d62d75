"""Finishing a task's rows: content hash, run-level provenance, and the fields the executor adds.

A row's ``hash`` is the sha256 of the canonical JSON of the row without ``provenance``,
``meta``, ``run_id``, ``hash`` and ``item``: two rows with the same content are one row of the
run, whichever item produced them (so the same step or theorem reached twice is kept once).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import socket
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from prover.records.store import canonical_json

#: Fields that never take part in the content hash.
UNHASHED = frozenset({"provenance", "meta", "run_id", "hash", "item"})


class RowError(ValueError):
    """A task returned a row the executor cannot store (not a JSON object, no ``kind``...)."""


def content_hash(row: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``row`` without the :data:`UNHASHED` fields."""
    body = {k: v for k, v in row.items() if k not in UNHASHED}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _body(row: dict[str, Any], task: str, item: str) -> dict[str, Any]:
    """The row as stored, before the run fields: without provenance/run_id/hash, with
    ``task`` and ``item``."""
    body = {k: v for k, v in row.items() if k not in ("provenance", "run_id", "hash")}
    body["task"], body["item"] = task, item
    return body


@lru_cache(maxsize=1)
def code_version() -> str:
    """``proofgraph <version>`` plus the git commit of the source tree when it is a checkout."""
    try:
        version = metadata.version("proofgraph")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git_head(Path(__file__).resolve().parents[2] / ".git")
    return f"proofgraph {version}" + (f" ({commit[:12]})" if commit else "")


def _git_head(git: Path) -> str | None:
    """The commit HEAD points at, read from the files (no git process); None if unknown."""
    try:
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head or None
        ref = head[5:]
        loose = git / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip() or None
        for line in (git / "packed-refs").read_text(encoding="utf-8").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    except OSError:
        return None
    return None


def run_provenance(run_id: str, task: str, config: dict[str, Any]) -> dict[str, Any]:
    """What every row of a run shares: run id, code version, task and its config, host."""
    return {"run_id": run_id, "code_version": code_version(), "task": task,
            "task_config": config, "host": socket.gethostname()}


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def finish_rows(rows: list[Any], *, task: str, item: str, run: dict[str, Any],
                utc_time: str) -> list[tuple[dict[str, Any], str]]:
    """Each task row with ``task``, ``item``, ``run_id``, ``hash`` and its provenance merged
    with the run's (``provenance.run``), with its canonical JSON text (the worker does this,
    off the single writer's path). Raises :class:`RowError` for a malformed row."""
    out = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("kind"), str):
            raise RowError(f"item {item!r}: row {index} of task {task!r} is not a JSON object "
                           "with a string 'kind'")
        own = row.get("provenance")
        if own is not None and not isinstance(own, dict):
            raise RowError(f"item {item!r}: row {index} has a non-object 'provenance'")
        body = _body(row, task, item)
        try:
            digest = content_hash(body)
            full = {**body, "run_id": run["run_id"], "hash": digest,
                    "provenance": {**(own or {}), "run": {**run, "utc_time": utc_time}}}
            text = canonical_json(full)
        except (TypeError, ValueError) as err:
            raise RowError(f"item {item!r}: row {index} is not JSON ({err})") from err
        out.append((full, text))
    return out
