"""How the Ray pool cuts items into calls, and the call timeouts that follow (no cluster
needed: the sizing and timeout rules are plain methods of :class:`RayPool`), and the
environment a local cluster is started with."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prover.synth import ray_local
from prover.synth.executor import PoolOptions
from prover.synth.ray_exec import EnvActor, RayPool, _Slot


def _fn(key: str, payload: dict) -> tuple[str, None]:
    return key, None


class _Actor:
    """What :class:`_Slot` needs of an actor handle."""

    class _Ready:
        @staticmethod
        def remote() -> str:
            return "ready-ref"

    ready = _Ready()


def _pool(**kw: object) -> RayPool:
    return RayPool(_fn, PoolOptions(workers=2, item_timeout_s=10.0), **kw)  # type: ignore[arg-type]


def test_batches_start_at_four_then_follow_the_cpu_per_item() -> None:
    pool = _pool(max_batch=32, call_s=0.15)
    assert pool._batch_size() == 4  # nothing measured yet
    slot = _Slot(_Actor())
    pool._measure(slot, 4, 4 * 0.01)  # cheap items: 10 ms of CPU each
    assert pool._batch_size() == 15
    for _ in range(30):
        pool._measure(slot, 4, 4 * 0.0001)
    assert pool._batch_size() == 32  # capped
    for _ in range(30):
        pool._measure(slot, 1, 2.0)  # slow items go alone
    assert pool._batch_size() == 1


def test_a_given_batch_is_fixed() -> None:
    pool = _pool(batch=1)
    pool._measure(_Slot(_Actor()), 4, 0.0004)
    assert pool._batch_size() == 1  # e.g. a test that needs every call alone
    with pytest.raises(ValueError):
        _pool(batch=0)
    with pytest.raises(ValueError):
        _pool(max_batch=0)


def test_first_call_of_an_actor_does_not_set_the_wall_time_per_item() -> None:
    """The first call's clock includes the actor's start-up: only the CPU mean moves."""
    pool = _pool()
    slot = _Slot(_Actor())
    slot.started = time.monotonic() - 30.0  # a slow start-up
    pool._measure(slot, 4, 0.04)
    assert pool.item_s is None and pool.item_cpu_s == pytest.approx(0.01)
    slot.started = time.monotonic() - 0.4  # the next call: 0.1 s per item
    pool._measure(slot, 4, 0.04)
    assert pool.item_s == pytest.approx(0.1, abs=0.02)
    pool._measure(slot, 4, 0.04)  # a new actor starts over
    slot.replace(_Actor())
    assert not slot.answered


def test_call_timeout_of_a_batch_is_one_item_limit_plus_slack() -> None:
    pool = _pool()
    items = [(i, str(i), {}) for i in range(8)]
    assert pool._timeout(items[:1]) == 10.0
    assert pool._timeout(items) == 80.0  # no wall time measured yet: the old bound
    pool.item_s = 0.05
    assert pool._timeout(items[:1]) == 10.0
    assert pool._timeout(items) == pytest.approx(10.0 + 4 * 8 * 0.05)
    pool.item_s = 100.0  # never above n limits
    assert pool._timeout(items) == 80.0
    untimed = RayPool(_fn, PoolOptions(workers=2, item_timeout_s=None))  # type: ignore[arg-type]
    untimed.item_s = 0.05
    assert untimed._timeout(items) is None


def test_env_actor_reports_its_cpu_time() -> None:
    def burn(key: str, payload: dict) -> tuple[str, None]:
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass
        return key, None

    results, cpu = EnvActor(burn).run_many([("a", {}), ("b", {})])  # type: ignore[arg-type]
    assert [r[0] for r in results] == ["a", "b"] and cpu >= 0.04


def test_environ_set_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PG_RAY_TEST", raising=False)
    with ray_local.environ_set("PG_RAY_TEST", "x"):
        assert os.environ["PG_RAY_TEST"] == "x"
    assert "PG_RAY_TEST" not in os.environ
    monkeypatch.setenv("PG_RAY_TEST", "before")
    with pytest.raises(RuntimeError), ray_local.environ_set("PG_RAY_TEST", "y"):
        raise RuntimeError
    assert os.environ["PG_RAY_TEST"] == "before"


def test_import_path_leads_with_our_packages() -> None:
    root = Path(__file__).resolve().parent.parent
    parts = ray_local.import_path().split(os.pathsep)
    assert parts[0] == str(root) and len(parts) == len(set(parts))
    assert (Path(parts[0]) / "prover" / "synth" / "ray_exec.py").is_file()
