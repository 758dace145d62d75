"""The hard wall-clock limit of ``check``: by default its rows run in a killable worker process,
so a row stuck in a genuine uninterruptible wait (native code holding the GIL with every signal
blocked: nothing in the worker, neither Z3's interrupt nor a watchdog thread, can end it) fails
with reason ``timeout`` when its limit passes, the later rows are checked, and the resumed run
re-checks only that row, giving what an undisturbed in-process run gives."""

from __future__ import annotations

import ctypes
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from proofgraph.cli import main
from proofgraph.jobs import CheckJob, JobOptions, check_settings
from prover.records.runner import Item, Outcome, run_job

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
VOLATILE = frozenset({"time_s", "wall_time_s", "utc_time"})
ROW_TIMEOUT_S = 20.0  # far above a GSM8K row's check (milliseconds), so load cannot trip it


def normalized(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: normalized(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [normalized(v) for v in obj]
    return obj


def native_hang() -> None:
    """Block every signal, then ``pause()`` through ``PyDLL`` (which keeps the GIL): the
    process waits forever and only SIGKILL (which cannot be blocked) ends it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
    ctypes.PyDLL(None).pause()


class HangOnce:
    """Mixed into a real job (before it): row ``hang_seq`` hangs in native code the first time
    it is processed (while its marker file does not exist yet)."""

    def __init__(self, path: Path, opts: Any, marker: str, hang_seq: int) -> None:
        super().__init__(path, opts)  # type: ignore[call-arg]
        self.marker = marker
        self.hang_seq = hang_seq

    def process(self, batch: list[Item]) -> list[Outcome]:
        marker = Path(self.marker)
        if any(item.seq == self.hang_seq for item in batch) and not marker.exists():
            marker.write_text("hung once", encoding="utf-8")
            native_hang()
        return super().process(batch)  # type: ignore[misc]


class HangsInNative(HangOnce, CheckJob):
    """The real check job, hanging once at row ``hang_seq``."""


class RaisesOnRow(CheckJob):
    """The real check job, except that row 1 breaks the checker (as a too-long integer once
    did: ``ValueError`` from ``str(int)``) in the worker."""

    def process(self, batch: list[Item]) -> list[Outcome]:
        if any(item.seq == 1 for item in batch):
            raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        return super().process(batch)


def test_a_row_that_breaks_the_checker_in_the_worker_is_that_rows_error(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))  # the worker imports this module
    src = gsm8k_head(tmp_path, 3)
    opts = JobOptions(out=tmp_path / "out.jsonl", progress=False)
    job = RaisesOnRow(src, opts)
    summary, results = run_job(job, check_settings(job, opts))
    assert summary["rejected"] == 1 and summary["solutions"] == 2
    assert results[1]["error_detail"]["kind"] == "internal"
    assert results[1]["error_detail"]["exception"] == "ValueError"
    assert not results[0].get("error") and not results[2].get("error")


def gsm8k_head(tmp_path: Path, count: int) -> Path:
    """The first ``count`` rows of the GSM8K slice in tests/data, as a file."""
    src = tmp_path / "in.jsonl"
    lines = (DATA / "gsm8k_train_300.jsonl").read_text(encoding="utf-8").splitlines()[:count]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def test_default_check_settings_isolate_rows_under_a_hard_limit(tmp_path: Path) -> None:
    opts = JobOptions()
    settings = check_settings(CheckJob(tmp_path / "x.jsonl", opts), opts)
    assert settings.pool and settings.row_timeout_s == opts.row_timeout_s > 0
    assert CheckJob(tmp_path / "x.jsonl", opts).pool_batch_size == 1  # a row's own limit
    here = JobOptions(in_process=True)
    settings = check_settings(CheckJob(tmp_path / "x.jsonl", here), here)
    assert not settings.pool and settings.row_timeout_s is None


@pytest.mark.parametrize("workers", [1, 2])
def test_a_native_hang_fails_its_row_with_timeout_and_the_run_goes_on(tmp_path: Path,
                                                                      workers: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))  # the worker imports this module
    src = gsm8k_head(tmp_path, 4)
    out = tmp_path / "out.jsonl"
    messages: list[str] = []
    opts = JobOptions(out=out, store=tmp_path / "s.db", progress=False, workers=workers,
                      row_timeout_s=ROW_TIMEOUT_S, report=messages.append)
    job = HangsInNative(src, opts, str(tmp_path / "marker"), hang_seq=1)
    summary, first = run_job(job, check_settings(job, opts))
    assert [r["key"] for r in first] == ["0", "1", "2", "3"]
    hung = first[1]
    assert hung["error"].startswith(f"timeout: the batch ran past {ROW_TIMEOUT_S:g} s")
    assert hung["error_detail"]["kind"] == "infra" and hung["error_detail"]["reason"] == "timeout"
    assert all(not r.get("error") and r["steps"] for r in (first[0], first[2], first[3]))
    assert summary["rejected"] == 1 and summary["solutions"] == 3
    assert any("timeout" in m for m in messages)

    summary, again = run_job(job, check_settings(job, opts))  # resume: only row 1 again
    assert summary["claims_checked_now"] > 0 and summary["rejected"] == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["key"] for r in lines] == ["0", "1", "2", "3"]

    here = JobOptions(out=tmp_path / "here.jsonl", progress=False, in_process=True)
    _, reference = run_job(CheckJob(src, here), check_settings(CheckJob(src, here), here))
    assert normalized([_row(r) for r in again]) == normalized([_row(r) for r in reference])
    assert normalized([_row(r) for r in first if r["key"] != "1"]) == normalized(
        [_row(r) for r in reference if r["key"] != "1"])


def _row(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what names the run (the two jobs are different runs)."""
    return {k: v for k, v in result.items() if k not in ("run_id", "provenance")}


def test_cli_check_in_process_and_in_a_worker_agree(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src = gsm8k_head(tmp_path, 6)
    outs = []
    for flags in ([], ["--in-process"]):
        out = tmp_path / f"out{len(flags)}.jsonl"
        code = main(["check", str(src), "--out", str(out), "--json", "--no-progress",
                     "--timeout-ms", "60000", *flags])
        summary = json.loads(capsys.readouterr().out)
        assert code == 0 and summary["solutions"] == 6 and summary["claims"] > 0
        outs.append([normalized(json.loads(x)) for x in out.read_text().splitlines()])
    assert outs[0] == outs[1]
    assert main(["check", str(src), "--in-process", "--workers", "2"]) == 2
    assert "--in-process cannot be combined" in capsys.readouterr().err
