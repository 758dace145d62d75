"""The runner's executors are adapters over the one worker pool: a worker that dies fails only
its own batch's rows, as infrastructure errors that the resumed run retries; and the worker
process is started from one place only (no second pool implementation)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from prover.records.runner import Item, Outcome, RunSettings, run_job
from prover.synth.executor import DEATHS_TO_BLAME

sys.path.insert(0, str(Path(__file__).parent))
from test_runner_pool import HangsOnce  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class DiesOnce(HangsOnce):
    """Five rows; row 2's worker exits abruptly the first DEATHS_TO_BLAME times (the pools
    blame an item after that many deaths; the marker counts them), then row 2 succeeds."""

    command = "dies-once"

    def read(self):  # type: ignore[override]
        for i in range(5):
            yield Item(str(i), i, i, f"r{i}", i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        marker = Path(self.marker)
        deaths = len(marker.read_text()) if marker.exists() else 0
        if batch[0].payload == 2 and deaths < DEATHS_TO_BLAME:
            marker.write_text("x" * (deaths + 1))
            os._exit(3)
        return [Outcome({"id": item.row_id, "value": item.payload * 10}) for item in batch]


def test_a_dead_worker_fails_only_its_rows_and_resume_retries_them(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    messages: list[str] = []
    settings = RunSettings(workers=2, out=out, store=tmp_path / "s.db", progress=False,
                           report=messages.append)
    job = DiesOnce(str(tmp_path / "marker"))
    _, first = run_job(job, settings)
    assert [r["key"] for r in first] == ["0", "1", "2", "3", "4"]
    assert [r.get("value") for r in first] == [0, 10, None, 30, 40]
    assert first[2]["error_detail"]["kind"] == "infra"
    assert "exit code 3" in first[2]["error"] and "tried again" in first[2]["error"]
    assert len(messages) == 1 and "r2" in messages[0]
    summary, again = run_job(job, settings)
    assert summary["new"] == 1  # only the row the dead worker held runs again
    assert [r.get("value") for r in again] == [0, 10, 20, 30, 40]
    assert [json.loads(x)["key"] for x in out.read_text().splitlines()] == ["0", "1", "2", "3",
                                                                           "4"]


def test_the_worker_process_is_started_from_one_place() -> None:
    starters = sorted(str(path.relative_to(ROOT)) for folder in ("prover", "proofgraph",
                                                                 "formalizer", "search")
                      for path in (ROOT / folder).rglob("*.py")
                      if re.search(r'"-m",\s*"prover\.synth\.worker"',
                                   path.read_text(encoding="utf-8")))
    # plain workers (executor.py) and the fork server that forks them (forkserver.py)
    assert starters == ["prover/synth/executor.py", "prover/synth/forkserver.py"]
