"""One death-blame policy for both pools (prover.synth.executor.blame_death): an item is failed
with ``worker-died`` once its worker died under it ``DEATHS_TO_BLAME`` times while running it
alone, on the local pool and on Ray alike; items queued behind it are never blamed. And a runner
job on a local Ray cluster records the cluster beside its output, so a SIGKILLed run's
leftovers are reaped by the next start."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from prover.records.runner import Item, Job, Outcome, RunSettings, Session, run_job
from prover.synth import executor as pool_module
from prover.synth.executor import LocalPool, PoolOptions
from prover.synth.item import SynthItem
from prover.synth.task import TaskOutput

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402


class DiesTask:
    """Item ``die-N`` kills its worker the first N times it runs (a marker file per death);
    ``ok`` items succeed."""

    name = "dies"

    def __init__(self, folder: str, plan: list[str]) -> None:
        self.folder = folder
        self.plan = plan

    def items(self):  # type: ignore[no-untyped-def]
        for index, action in enumerate(self.plan):
            yield f"{index}:{action}", {"action": action}

    def config(self) -> dict[str, Any]:
        return {"plan": self.plan}

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        import os

        action = payload["action"]
        if action.startswith("die-"):
            deaths = len(list(Path(self.folder).glob(f"{action}.*")))
            if deaths < int(action.split("-")[1]):
                Path(self.folder, f"{action}.{deaths}").write_text("died")
                os._exit(9)
        return TaskOutput([{"kind": "ok", "action": action}])


def _outcomes(pool_kind: str, tmp_path: Path, plan: list[str],
              prefetch: int = 1) -> dict[str, tuple[bool, Any]]:
    task = DiesTask(str(tmp_path), plan)
    fn = SynthItem(task, {"run_id": "t", "task": "dies"})  # type: ignore[arg-type]
    opts = PoolOptions(workers=2, item_timeout_s=60, mem_gb=0, prefetch=prefetch)
    if pool_kind == "ray":
        from prover.synth.ray_exec import RayPool

        pool: Any = RayPool(fn, opts, batch=1)  # a death in a call of several is not alone
    else:
        pool = LocalPool(fn, opts)
    items = ((seq, key, payload) for seq, (key, payload) in enumerate(task.items()))
    return {d.key: (d.output.ok, d.output.reason) for d in pool.run(items) if d is not None}


PLAN = ["ok", "die-1", "ok", "ok", "die-5", "ok"]


def _expected(deaths_to_blame: int) -> dict[str, tuple[bool, Any]]:
    """What the policy says for PLAN: ``die-1`` is blamed only when one death is enough;
    ``die-5`` dies more often than any blame count tried here, so it is always blamed (items
    queued behind a dying one never are)."""
    once = (False, "worker-died") if deaths_to_blame <= 1 else (True, None)
    return {"0:ok": (True, None), "1:die-1": once, "2:ok": (True, None), "3:ok": (True, None),
            "4:die-5": (False, "worker-died"), "5:ok": (True, None)}


@pytest.mark.parametrize("pool_kind", ["local", pytest.param("ray", marks=pytest.mark.slow)])
@pytest.mark.parametrize("deaths_to_blame", [None, 1])
def test_both_pools_blame_a_death_by_the_one_policy(pool_kind: str, deaths_to_blame: int | None,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if pool_kind == "ray":
        pf.require("ray", "the Ray executor tests need ray")
    if deaths_to_blame is not None:  # the policy is one number, read by both pools
        monkeypatch.setattr(pool_module, "DEATHS_TO_BLAME", deaths_to_blame)
    got = _outcomes(pool_kind, tmp_path, PLAN)
    assert got == _expected(pool_module.DEATHS_TO_BLAME)
    died = len(list(tmp_path.glob("die-5.*")))
    assert died == pool_module.DEATHS_TO_BLAME  # blamed at exactly the policy's count


@pytest.mark.slow
def test_ray_never_blames_an_innocent_call_queued_before_a_killer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With calls pipelined on an actor, a finished call's reply can be lost when the next
    call kills the actor: that death is nobody's until the item re-runs alone, so even a
    blame-at-first-death policy fails only the killers."""
    pf.require("ray", "the Ray executor tests need ray")
    monkeypatch.setattr(pool_module, "DEATHS_TO_BLAME", 1)
    plan = ["ok", "die-9", "ok", "ok", "ok", "die-9", "ok", "ok"]
    got = _outcomes("ray", tmp_path, plan, prefetch=3)
    assert {key for key, (ok, _) in got.items() if not ok} == {"1:die-9", "5:die-9"}
    assert all(reason == "worker-died" for ok, reason in got.values() if not ok)
    assert len(got) == len(plan)


def test_a_runner_job_on_a_local_ray_cluster_is_recorded_beside_its_output(
        tmp_path: Path) -> None:
    """The record's place: beside ``--out`` (else ``--store``), never for an existing
    cluster; the pool the runner builds carries it (no cluster is started here)."""
    from prover.records.executors import PoolExecutor
    from prover.records.runner import RunSettings

    out = tmp_path / "res.jsonl"
    assert RunSettings(out=out, ray=True).ray_record() == (tmp_path, ".res.jsonl.ray-local.json")
    assert RunSettings(store=tmp_path / "s.db", ray=True).ray_record() == \
        (tmp_path, ".s.db.ray-local.json")
    assert RunSettings(out=out, ray=True, ray_address="auto").ray_record() is None
    assert RunSettings(ray=True).ray_record() is None
    executor = PoolExecutor(2, run_id="r", ray=True,
                            record=RunSettings(out=out, ray=True).ray_record())

    class Job:
        pool_batch_size = 32

    pool = executor._pool(Job())  # type: ignore[arg-type]
    assert pool.state_dir == tmp_path and pool.record_name == ".res.jsonl.ray-local.json"


class SeesRecord(Job):
    """Each row reports whether the local cluster's record exists while it runs (on Ray)."""

    command = "sees-record"
    pool_batch_size = 1

    def __init__(self, record: str) -> None:
        self.record = record

    def identity(self) -> tuple[str, dict[str, Any]]:
        return self.record, {}

    def read(self):  # type: ignore[no-untyped-def]
        for i in range(3):
            yield Item(str(i), i, i, f"r{i}", i + 1)

    def process(self, batch: list[Item]) -> list[Outcome]:
        return [Outcome({"id": item.row_id, "recorded": Path(self.record).is_file()})
                for item in batch]

    def summarize(self, results: list[dict[str, Any]], session: Session) -> dict[str, Any]:
        return {"executor": session.executor}


@pytest.mark.slow
def test_a_runner_job_on_ray_keeps_its_cluster_record_while_it_runs(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    out = tmp_path / "res.jsonl"
    record = tmp_path / ".res.jsonl.ray-local.json"
    summary, results = run_job(SeesRecord(str(record)),
                               RunSettings(out=out, ray=True, workers=1, progress=False))
    assert summary["executor"]["name"] == "ray"
    assert [r["recorded"] for r in results] == [True, True, True]
    assert not record.exists()  # a run that ends normally forgets its cluster
