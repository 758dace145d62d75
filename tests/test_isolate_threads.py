"""Z3 worker processes started from short-lived threads (the search, check and preflight pools
of ``prove`` and ``eval``) outlive those threads, and a worker that dies without answering is
replaced instead of its request being reported as timed out.

Found by a loaded CI run: a whole-proof round's check pool had started the workers; Linux's
``PR_SET_PDEATHSIG`` (armed by each worker) fires when the *thread* that forked it exits, so
the workers died as the pool shut down, and the next round's first call took a dying worker
from the idle list and got ``unknown: timeout`` after 0.02 s.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prover.z3 import isolate
from prover.z3.env import DEFAULT_MEMORY_MB, check_proof

ROWS = Path(__file__).parent / "data" / "z3_theorems.jsonl"


def _row(row_id: str) -> dict[str, object]:
    rows = (json.loads(line) for line in ROWS.read_text().splitlines() if line.strip())
    return next(r for r in rows if r["id"] == row_id)


def test_a_worker_started_in_a_pool_thread_outlives_the_pool() -> None:
    isolate.shutdown()  # no idle worker: the pool's thread must start one
    with ThreadPoolExecutor(1) as pool:
        verdict = pool.submit(check_proof, _row("abs_nonneg"), ["z3"]).result()
    assert verdict.kind == "verified"
    time.sleep(0.5)  # the pool's thread has exited; a death signal would have arrived
    idle = isolate._IDLE.get(DEFAULT_MEMORY_MB, [])
    assert idle and all(worker.alive for worker in idle)
    # and the next call, from this thread, is answered by that worker
    assert check_proof(_row("abs_nonneg"), ["z3"]).kind == "verified"


def test_a_worker_that_dies_before_answering_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_take = isolate._take
    taken: list[isolate.Worker] = []

    def take(memory_mb: int, startup_s: float = isolate.STARTUP_S) -> isolate.Worker:
        worker = real_take(memory_mb, startup_s)
        if not taken:  # the first one dies between leaving the idle list and the request
            os.kill(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(timeout=10)
        taken.append(worker)
        return worker

    monkeypatch.setattr(isolate, "_take", take)
    verdict = check_proof(_row("abs_nonneg"), ["z3"])
    assert verdict.kind == "verified", verdict
    assert len(taken) == 2 and taken[0].died


def test_a_request_killed_at_its_wall_limit_is_not_sent_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[isolate.Worker] = []
    real_take = isolate._take
    monkeypatch.setattr(isolate, "_take", lambda *a: taken.append(real_take(*a)) or taken[-1])
    answer, elapsed = isolate.call("theorem", {"op": "step"}, 0.0, DEFAULT_MEMORY_MB)
    assert answer is None and len(taken) == 1 and not taken[0].died


def test_a_retry_stays_inside_the_first_requests_wall_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_take = isolate._take
    taken: list[isolate.Worker] = []
    walls: list[float] = []
    real_request = isolate.Worker.request

    def take(memory_mb: int, startup_s: float = isolate.STARTUP_S) -> isolate.Worker:
        worker = real_take(memory_mb, startup_s)
        if not taken:
            os.kill(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(timeout=10)
        taken.append(worker)
        return worker

    def request(self: isolate.Worker, payload: dict[str, object], wall_s: float,
                cpu_s: float | None = None) -> dict[str, object] | None:
        walls.append(wall_s)
        if len(walls) == 1:
            time.sleep(0.3)  # the first attempt uses part of the window before it fails
        return real_request(self, payload, wall_s, cpu_s)

    monkeypatch.setattr(isolate, "_take", take)
    monkeypatch.setattr(isolate.Worker, "request", request)
    isolate.call("theorem", {"op": "step"}, 2.0, DEFAULT_MEMORY_MB)
    assert len(walls) == 2 and walls[0] == 2.0 and walls[1] <= 2.0 - 0.3
