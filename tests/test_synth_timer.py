"""Synth on the job runner commits an open group on a timer while a slow item runs: the items
finished before it are in the store while it still runs (a kill then loses only them if they
are younger than ``group_s``), and the run's outputs are whole afterwards."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from prover.synth.engine import SynthOptions, run_synth
from prover.synth.task import TaskOutput


class PeekTask:
    """Two quick items, then one that waits (up to 30 s) until the store holds two committed
    items and reports how many it saw."""

    name = "peek"

    def __init__(self, store: str) -> None:
        self.store = store

    def items(self):  # type: ignore[no-untyped-def]
        for index, action in enumerate(["ok", "ok", "peek"]):
            yield f"{index}:{action}", {"action": action, "index": index}

    def config(self) -> dict[str, Any]:
        return {"task": "peek"}

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        seen = -1
        if payload["action"] == "peek":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True) as con:
                        seen = con.execute("SELECT count(*) FROM items").fetchone()[0]
                except sqlite3.Error:
                    seen = -1
                if seen >= 2:
                    break
                time.sleep(0.1)
        return TaskOutput([{"kind": payload["action"], "index": payload["index"], "seen": seen}])


def test_an_open_group_is_committed_while_a_slow_item_runs(tmp_path: Path) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("peek\n", encoding="utf-8")
    out = tmp_path / "out"
    opts = SynthOptions(out=out, workers=1, parquet=False, progress=False, group_items=64,
                        group_s=0.3)
    summary = run_synth(PeekTask(str(out / "synth.sqlite")), inp, opts)
    assert summary["ok"] == summary["items"] == 3 and summary["status"] == "complete"
    rows = [line for path in sorted((out / "shards").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    assert '"seen":2' in "".join(rows).replace(" ", "")  # the group was committed on time
