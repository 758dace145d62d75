"""The local pool's failure paths: per-item timeout, memory limit, worker death, task bugs,
backpressure, and workers that die with a SIGKILLed parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prover.synth import forkserver
from prover.synth.executor import LocalPool, PoolOptions
from prover.synth.item import SynthItem

sys.path.insert(0, str(Path(__file__).parent))
from synth_helpers import BehaviourTask, echo_twice  # noqa: E402

RUN = {"run_id": "test", "task": "behaviour"}


def _run(plan: list[tuple[str, float]],
         **opts: float) -> dict[str, tuple[bool, str | None, str | None]]:
    task = BehaviourTask(plan)
    pool = LocalPool(SynthItem(task, RUN), PoolOptions(**opts))  # type: ignore[arg-type]
    items = ((seq, key, payload) for seq, (key, payload) in enumerate(task.items()))
    return {d.key: (d.output.ok, d.output.reason, d.output.failure_kind)
            for d in pool.run(items)}


def test_failures_are_items_and_the_pool_goes_on() -> None:
    plan = [("ok", 0), ("sleep", 60), ("alloc", 3.0), ("raise", 0), ("exit", 0), ("ok", 0),
            ("ok", 0), ("refused", 0), ("bad", 0)]
    got = _run(plan, workers=2, mem_gb=1.0, item_timeout_s=3.0)
    assert got == {"0:ok": (True, None, None), "1:sleep": (False, "timeout", "infra"),
                   "2:alloc": (False, "memory", "infra"),
                   "3:raise": (False, "exception: ZeroDivisionError", "content"),
                   "4:exit": (False, "worker-died", "infra"), "5:ok": (True, None, None),
                   "6:ok": (True, None, None),
                   "7:refused": (False, "exception: PolicyRequestError", "infra"),
                   "8:bad": (False, "unprovable", "content")}


@pytest.mark.parametrize("prefetch", [1, 2])
def test_backpressure_bounds_items_in_flight(prefetch: int) -> None:
    task = BehaviourTask([("sleep", 0.2)] * 6)
    pulled: list[int] = []

    def items():  # type: ignore[no-untyped-def]
        for seq, (key, payload) in enumerate(task.items()):
            pulled.append(seq)
            yield seq, key, payload

    pool = LocalPool(SynthItem(task, RUN), PoolOptions(workers=2, item_timeout_s=30,
                                                       prefetch=prefetch))
    finished = 0
    most = 0
    for _ in pool.run(items()):
        finished += 1
        most = max(most, len(pulled) - finished + 1)
        assert len(pulled) - finished <= 2 * prefetch  # never more queued than allowed
    assert finished == 6
    assert most >= 2  # both workers were fed


def test_payloads_larger_than_the_socket_buffer_do_not_deadlock() -> None:
    # The pool queues a second item while the worker sends back the first one's result: with
    # both several MB (far above a socket buffer) a pool that blocked on its send would never
    # read that result, and the worker would never read the item (the check of a row holding
    # a million-digit number hung this way).
    items = [(seq, f"k{seq}", str(seq) * 3_000_000) for seq in range(4)]
    pool = LocalPool(echo_twice, PoolOptions(workers=1, mem_gb=2.0, item_timeout_s=60,
                                            prefetch=2))
    got: dict[str, str] = {}
    runner = threading.Thread(target=lambda: got.update(
        (d.key, d.output) for d in pool.run(iter(items))), daemon=True)
    runner.start()
    runner.join(120)  # a deadlocked pool never returns: fail instead of hanging the suite
    assert not runner.is_alive(), "the pool deadlocked on large payloads"
    assert got == {key: payload * 2 for _, key, payload in items}


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def test_workers_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    here = str(Path(__file__).parent)
    script = (
        f"import sys; sys.path.insert(0, {here!r})\n"
        "from synth_helpers import BehaviourTask\n"
        "from prover.synth.executor import LocalPool, PoolOptions\n"
        "from prover.synth.item import SynthItem\n"
        "t = BehaviourTask([('sleep', 120)] * 2)\n"
        "items = ((i, k, p) for i, (k, p) in enumerate(t.items()))\n"
        "fn = SynthItem(t, {'run_id': 'x'})\n"
        "list(LocalPool(fn, PoolOptions(workers=2, item_timeout_s=300)).run(items))\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        # two workers, plus the fork server they were forked from where there is one
        expected = 3 if forkserver.available() else 2
        while time.monotonic() < deadline and len(workers) < expected:
            workers = [p for p in _descendants(parent.pid)
                       if b"prover.synth.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
            time.sleep(0.2)
        assert len(workers) == expected
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 20
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if Path(f"/proc/{p}").exists()
                 and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]]
        time.sleep(0.2)
    assert alive == []
