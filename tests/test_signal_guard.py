"""The run's SIGINT/SIGTERM stop holds when code the run calls replaces its handlers or turns
its stop into a plain ``KeyboardInterrupt`` (prover.records.signals, the runner)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from prover.records.runner import Item, Job, Outcome, RunInterrupted, RunSettings, Session, run_job
from prover.records.signals import SignalGuard, Signalled


class Meddles(Job):
    """Row 2 replaces the SIGTERM handler (as ``ray.init`` does); row 5 signals the process;
    with ``swallow``, a stop raised inside ``process`` comes out as a plain KeyboardInterrupt
    (as Ray's core worker does with the exception of a handler)."""

    command = "meddles"

    def __init__(self, sig: int, swallow: bool = False) -> None:
        self.sig, self.swallow = sig, swallow

    def identity(self) -> tuple[str, dict[str, Any]]:
        return "meddles", {}  # the resumed run (no signal) is the same run

    def read(self):  # type: ignore[no-untyped-def]
        for i in range(8):
            yield Item(str(i), i, i, f"r{i}", i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        for item in batch:
            if item.seq == 2:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # would kill the process outright
            if item.seq == 5:
                try:
                    os.kill(os.getpid(), self.sig)
                except Signalled:
                    if not self.swallow:
                        raise
                    raise KeyboardInterrupt from None
        return [Outcome({"id": item.row_id}) for item in batch]

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return {"n": len(results)}


@pytest.mark.parametrize("swallow", [False, True])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_replaced_handler_or_a_swallowed_stop_still_stops_the_run_cleanly(
        tmp_path: Path, sig: int, swallow: bool) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    out = tmp_path / "out.jsonl"
    settings = RunSettings(out=out, store=tmp_path / "s.db", progress=False)
    with pytest.raises(RunInterrupted) as stop:
        run_job(Meddles(sig, swallow), settings)
    assert stop.value.signum == sig
    assert "run the same command again to resume" in str(stop.value)
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert keys == ["0", "1", "2", "3", "4"]  # everything before the stopped row is kept
    assert {s: signal.getsignal(s) for s in before} == before  # the run put back what it found
    summary, results = run_job(Meddles(0), settings)  # resume: no signal this time
    assert summary["n"] == 8 and [r["key"] for r in results] == [str(i) for i in range(8)]


def test_a_plain_keyboard_interrupt_without_a_handled_signal_is_not_a_stop() -> None:
    guard = SignalGuard(active=True)
    assert guard.stop(KeyboardInterrupt()) is None
    guard.received = signal.SIGTERM
    stopped = guard.stop(KeyboardInterrupt())
    assert stopped is not None and stopped.signum == signal.SIGTERM
