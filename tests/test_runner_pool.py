"""The runner on a local process pool: the same results as in process, input order, and a
batch that runs past its time limit is killed and fails only its own rows."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from test_runner_hard_limit import normalized

from proofgraph.cli import EXIT_OK, main
from prover.records.runner import Item, Job, Outcome, RunSettings, Session, run_job

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"




class Sleepy(Job):
    """Row n sleeps n seconds when n >= 10 (a hung backend), else returns n + 1."""

    command = "sleepy"
    pool_batch_size = 1

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows

    def identity(self) -> tuple[str, dict[str, Any]]:
        return json.dumps(self.rows), {}

    def read(self):  # type: ignore[override]
        for i, n in enumerate(self.rows):
            yield Item(str(i), i, n, f"r{i}", i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        out = []
        for item in batch:
            if item.payload >= 10:
                time.sleep(item.payload)
            out.append(Outcome({"id": item.row_id, "value": item.payload + 1}))
        return out

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return {"rows": len(results)}


def test_pool_kills_a_batch_past_its_time_limit(tmp_path: Path) -> None:
    messages: list[str] = []
    start = time.monotonic()
    _, results = run_job(Sleepy([1, 2, 600, 3, 4]), RunSettings(
        workers=2, batch_timeout_s=20.0, store=tmp_path / "s.db", report=messages.append,
        progress=False))
    assert time.monotonic() - start < 120
    assert [r["key"] for r in results] == ["0", "1", "2", "3", "4"]
    assert [r.get("value") for r in results] == [2, 3, None, 4, 5]
    assert results[2]["error"].startswith("timeout: the batch ran past 20 s")
    assert len(messages) == 1 and "r2" in messages[0]


def test_check_on_two_workers_equals_one(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join((DATA / "gsm8k_train_300.jsonl").read_text(
        encoding="utf-8").splitlines()[:40]) + "\n{broken\n", encoding="utf-8")
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        code = main(["check", str(src), "--out", str(out), "--workers", str(workers),
                     "--json", "--no-progress", "--timeout-ms", "60000"])  # load-proof
        summary = json.loads(capsys.readouterr().out)
        assert code == 3 and summary["solutions"] == 40 and summary["rejected"] == 1
        assert summary["claims_checked_now"] == summary["claims"] > 0
        outs.append([normalized(json.loads(line)) for line in out.read_text().splitlines()])
    assert [r["key"] for r in outs[1]] == [str(i) for i in range(41)]
    assert outs[0] == outs[1]
    assert EXIT_OK == 0


class HangsOnce(Job):
    """Row 1 hangs the first time (its marker file does not exist yet), then answers."""

    command = "hangs-once"
    pool_batch_size = 1

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def identity(self) -> tuple[str, dict[str, Any]]:
        return self.marker, {}

    def read(self):  # type: ignore[override]
        for i in range(3):
            yield Item(str(i), i, i, f"r{i}", i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        marker = Path(self.marker)
        if batch[0].payload == 1 and not marker.exists():
            marker.write_text("hung once")
            time.sleep(600)
        return [Outcome({"id": item.row_id, "value": item.payload}) for item in batch]

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return {"new": session.new_items}


@pytest.mark.parametrize("with_store", [True, False], ids=["store", "jsonl-only"])
def test_infrastructure_failures_are_retried_on_resume(tmp_path: Path, with_store: bool) -> None:
    out = tmp_path / "out.jsonl"
    settings = RunSettings(workers=2, batch_timeout_s=15.0, out=out, progress=False,
                           store=tmp_path / "s.db" if with_store else None)
    job = HangsOnce(str(tmp_path / "marker"))
    _, first = run_job(job, settings)
    assert first[1]["error"].startswith("timeout") and first[1]["error_detail"]["kind"] == "infra"
    summary, again = run_job(job, settings)
    assert summary["new"] == 1  # only the row that failed for infrastructure runs again
    assert [r.get("value") for r in again] == [0, 1, 2] and not any(r["error"] if "error" in r
                                                                      else None for r in again)
    assert [json.loads(x)["key"] for x in out.read_text().splitlines()] == ["0", "1", "2"]


def test_check_on_ray_equals_in_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from proofgraph.jobs import JobOptions, run_check

    src = tmp_path / "in.jsonl"
    src.write_text("\n".join((DATA / "gsm8k_train_300.jsonl").read_text(
        encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    serial = run_check(src, JobOptions(progress=False, timeout_ms=60000))[1]
    summary, on_ray = run_check(src, JobOptions(progress=False, workers=2, ray=True,
                                                timeout_ms=60000))
    assert summary["claims_checked_now"] == summary["claims"] > 0
    assert [normalized(r) for r in on_ray] == [normalized(r) for r in serial]
