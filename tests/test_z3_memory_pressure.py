"""Z3 memory held by garbage contexts is returned before a new context is made, and a context
past the cap is refused with MemoryError, never a crash (prover.z3.contexts).

An empty ``z3.Context`` holds about 16 MB of Z3 memory. A context that is garbage only through
a reference cycle keeps it until Python's collector runs a full collection; Python schedules
those by its own allocations and never sees Z3's. Over hundreds of solutions in one process
the dead contexts reached Z3's process-wide cap, and ``z3.Context()`` then crashed the process
(SIGSEGV: z3py uses the NULL context ``Z3_mk_context`` returns). Each case runs in its own
process, under a 256 MB cap, with the collector off (the worst case of its schedule).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent("""
    import gc, sys, z3
    from prover.z3 import gateway
    from prover.z3.contexts import fresh_context, new_context
    gateway.configure_memory(256)
    gc.disable()
    make = {"new": new_context, "fresh": fresh_context, "raw": z3.Context}[sys.argv[1]]
    if sys.argv[2] == "cycles":  # 60 contexts, each garbage only through a cycle
        peak = 0
        for _ in range(60):
            holder = {"ctx": make()}
            holder["self"] = holder
            del holder
            peak = max(peak, z3.Z3_get_estimated_alloc_size())
        print("peak", peak // 2**20)
    elif sys.argv[2] == "live-high":  # 6 live contexts (past the pressure share), 40 made and freed
        collections = []
        gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(1))
        live = [make() for _ in range(6)]
        for _ in range(40):
            ctx = make()
            del ctx
        print("collections", len(collections), z3.Z3_get_estimated_alloc_size() // 2**20)
    elif sys.argv[2] == "threads":  # four threads keep contexts alive until none can be made
        import threading
        live, refused = [], []
        def grab():
            try:
                for _ in range(60):
                    live.append(make())
            except MemoryError as err:
                refused.append(err)
        threads = [threading.Thread(target=grab) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print("refused", len(refused), len(live), z3.Z3_get_estimated_alloc_size() // 2**20)
    else:  # contexts kept alive until none can be made
        live = []
        try:
            for _ in range(60):
                live.append(make())
        except MemoryError as err:
            print("refused", len(live), err)
""")


def _run(maker: str, case: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _SCRIPT, maker, case], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("maker", ["new", "fresh"])
def test_garbage_contexts_give_their_memory_back_before_a_new_one(maker: str) -> None:
    proc = _run(maker, "cycles")
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stdout.split()[-1])
    assert peak < 256 * 0.9, proc.stdout  # 60 x ~16 MB never accumulated


@pytest.mark.parametrize("maker", ["new", "fresh"])
def test_live_contexts_past_the_cap_are_refused_with_memory_error(maker: str) -> None:
    proc = _run(maker, "live")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("refused "), proc.stdout
    assert "no new context is made" in proc.stdout
    held = int(proc.stdout.split("holds ")[1].split()[0])
    assert held + 16 < 256, proc.stdout  # the refused context would still have fit


@pytest.mark.parametrize("maker", ["new", "fresh"])
def test_live_memory_past_the_pressure_share_is_not_collected_again_and_again(maker: str) -> None:
    """Live contexts holding more than the pressure share are no reason to collect before every
    new context: a collection runs again only once Z3's allocation grew since the last one."""
    proc = _run(maker, "live-high")
    assert proc.returncode == 0, proc.stderr[-2000:]
    collections, held = (int(word) for word in proc.stdout.split()[1:3])
    assert held > 256 * 0.25, proc.stdout  # the case really is past the pressure share
    assert collections <= 3, proc.stdout  # not one per context (40)


@pytest.mark.parametrize("maker", ["new", "fresh"])
def test_threads_making_contexts_at_once_never_pass_the_cap(maker: str) -> None:
    """The pressure check and the creation it allows are one step: two threads never both pass
    the check and then both allocate past the cap (five rounds, each a new process)."""
    for _ in range(5):
        proc = _run(maker, "threads")
        assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
        refused, live, held = (int(word) for word in proc.stdout.split()[1:4])
        assert refused == 4 and live >= 10 and held < 256, proc.stdout


@pytest.mark.parametrize("case", ["cycles", "live"])
def test_plain_z3_context_crashes_there(case: str) -> None:
    """The failure the guard prevents: the same runs with ``z3.Context()`` die by a signal."""
    proc = _run("raw", case)
    assert proc.returncode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS), (
        proc.returncode, proc.stdout, proc.stderr[-500:])
