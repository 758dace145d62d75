"""Synth as a job of the runner's protocol: :class:`prover.synth.job.SynthJob` names the run
as the synth engine does, and the one runner runs it in process and on the one local pool with
the same rows as the engine's shards (repeated keys: tests/test_synth_run.py)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from formalizer.synth_steps import StepsTask
from prover.records.runner import RunSettings, run_job
from prover.records.runs import file_digest, make_run_id
from prover.synth.engine import SynthOptions, run_synth
from prover.synth.job import SynthJob
from prover.synth.verify import load_rows

DATA = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"


def test_the_runner_runs_synth_with_the_engines_rows(tmp_path: Path) -> None:
    slice20 = tmp_path / "gsm8k20.jsonl"
    with DATA.open(encoding="utf-8") as handle:
        slice20.write_text("".join(islice(handle, 20)), encoding="utf-8")
    task = StepsTask(slice20, mutations_per_solution=2, seed=0)
    engine = run_synth(task, slice20, SynthOptions(out=tmp_path / "engine", workers=1,
                                                   parquet=False, progress=False))
    job = SynthJob(task, slice20)
    digest, config = job.identity()
    assert digest == file_digest(slice20)
    assert make_run_id(job.command, digest, config) == engine["run_id"]  # one run id
    expected = sorted(row["hash"] for row in load_rows(tmp_path / "engine"))
    for workers in (1, 2):  # in process, then on the local pool (one batch per item)
        summary, results = run_job(job, RunSettings(workers=workers, progress=False,
                                                    handle_signals=False))
        assert [r["key"] for r in results] == [str(i) for i in range(20)]  # input order
        assert summary["run_id"] == engine["run_id"]
        assert summary["ok"] == engine["ok"] == 20 and summary["failed"] == 0
        hashes = {row[0] for r in results for row in r["rows"]}
        assert sorted(hashes) == expected  # the engine stores each content hash once
        assert sum(summary["rows_by_kind"].values()) == engine["rows"] + engine[
            "duplicates_dropped"]
