"""Workers started ahead of their pool (:func:`prover.synth.executor.prestarted`): the next
pool takes them, their modules' ``warm_up()`` hooks ran in them (once, in the fork server they
were forked from, where there is one), the ones no pool took are
stopped, a dead one is replaced, and a worker's quick exit still runs ``atexit`` handlers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from prover.synth import executor, forkserver
from prover.synth.executor import LocalPool, PoolOptions, prestarted
from prover.synth.item import SynthItem

sys.path.insert(0, str(Path(__file__).parent))
from synth_helpers import BehaviourTask  # noqa: E402

RUN = {"run_id": "test", "task": "behaviour"}
WARM_MODULE = '''
import atexit, os
from pathlib import Path

def warm_up():
    mark = Path(os.environ["SYNTH_WARM_MARK"])
    (mark / f"{os.getpid()}.warm").touch()
    atexit.register(lambda: (mark / f"{os.getpid()}.exit").touch())
'''


@pytest.fixture
def warm_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module ``synth_warm_probe`` whose ``warm_up`` marks the worker and registers an
    ``atexit`` handler that marks its exit; returns the marks folder."""
    (tmp_path / "synth_warm_probe.py").write_text(WARM_MODULE, encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SYNTH_WARM_MARK", str(marks))
    return marks


def _run(pool: LocalPool, task: BehaviourTask) -> dict[str, bool]:
    items = ((seq, key, payload) for seq, (key, payload) in enumerate(task.items()))
    return {d.key: d.output.ok for d in pool.run(items)}


def test_the_pool_takes_the_workers_started_ahead(warm_module: Path) -> None:
    task = BehaviourTask([("ok", 0)] * 6)
    with prestarted(2, 1.0, ["synth_warm_probe"]):
        ahead = {w.proc.pid for w in executor._SPARES}
        assert len(ahead) == 2
        server = forkserver.current()  # the workers are forked from it, warmed up once there
        warmed = {server.proc.pid} if server is not None else ahead
        pool = LocalPool(SynthItem(task, RUN), PoolOptions(workers=2, mem_gb=1.0))
        got = _run(pool, task)
        assert not executor._SPARES  # both taken
    assert got == {f"{i}:ok": True for i in range(6)}
    assert set(pool.pids) == ahead  # no worker of its own was started
    assert {p.name for p in warm_module.iterdir()} == (
        {f"{pid}.warm" for pid in warmed} | {f"{pid}.exit" for pid in ahead})


def test_workers_no_pool_takes_are_stopped(warm_module: Path) -> None:
    task = BehaviourTask([("ok", 0)] * 2)
    with prestarted(2, 1.0, ["synth_warm_probe"]):
        ahead = list(executor._SPARES)
        pool = LocalPool(SynthItem(task, RUN), PoolOptions(workers=1, mem_gb=2.0))
        assert _run(pool, task) == {"0:ok": True, "1:ok": True}
        assert not set(pool.pids) & {w.proc.pid for w in ahead}  # another memory cap
    assert not executor._SPARES
    assert all(w.proc.returncode is not None for w in ahead)  # stopped and reaped


def test_nested_blocks_start_no_more_than_asked() -> None:
    with prestarted(2, 1.0):
        with prestarted(2, 1.0):
            assert len(executor._SPARES) == 2
        assert len(executor._SPARES) == 2
    assert not executor._SPARES


def test_a_dead_worker_started_ahead_is_replaced(warm_module: Path) -> None:
    task = BehaviourTask([("ok", 0)] * 3)
    with prestarted(1, 1.0, ["synth_warm_probe"]):
        dead = executor._SPARES[0]
        dead.proc.kill()
        dead.proc.wait(10)
        pool = LocalPool(SynthItem(task, RUN), PoolOptions(workers=1, mem_gb=1.0))
        assert _run(pool, task) == {f"{i}:ok": True for i in range(3)}
    assert dead.proc.pid not in pool.pids and len(pool.pids) == 1


def test_a_failing_warm_up_is_ignored() -> None:
    task = BehaviourTask([("ok", 0)] * 2)
    with prestarted(1, 1.0, ["no_such_module_for_synth"]):
        ahead = executor._SPARES[0].proc.pid
        pool = LocalPool(SynthItem(task, RUN), PoolOptions(workers=1, mem_gb=1.0))
        assert _run(pool, task) == {"0:ok": True, "1:ok": True}
    assert pool.pids == [ahead]


def test_steps_warm_up_hook_runs() -> None:
    from formalizer import synth_steps

    synth_steps.warm_up()  # a failure would be swallowed in a worker: it must not raise here
