"""What the model jobs share (prover/eval/model_job.py): one config block for search and whole
mode, one stats record for the batching queue and whole-proof rounds, one shape for a job sent
to a worker, and no model built in the parent of a ``--workers``/``--ray`` run (checked with a
tiny transformers model built from a config, the parent's model constructor made to fail)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from proofgraph.cli import main
from proofgraph.prove_job import ProveJob, ProveOptions, ScaleOptions
from prover.eval.job import EvalJob, EvalOptions
from prover.eval.model_job import policy_identity, run_config
from prover.eval.whole_job import WholeEvalJob
from prover.policy import registry
from prover.policy.batching import BatchingPolicy, CallStats
from prover.records.job import report_to_stderr
from prover.records.runs import file_digest, make_run_id
from prover.records.verdicts import Verdict
from prover.wholeproof import rounds
from prover.wholeproof.check import Checked
from prover.wholeproof.prompts import load_format, row_values
from prover.wholeproof.sampling import WHOLE_TEMPLATE
from search.best_first import SearchConfig

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
ROWS = {json.loads(line)["id"]: json.loads(line) for line in DATA.read_text().splitlines()
        if line.strip()}
IDS = ("abs_nonneg", "max_props", "n_n1_even")


def _bench(tmp: Path) -> Path:
    path = tmp / "bench.jsonl"
    path.write_text("".join(json.dumps(ROWS[i]) + "\n" for i in IDS))
    return path


class Scripted:
    """A whole-proof policy (``sample``) answering every prompt with the row's good script."""

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        out = []
        for text in texts:
            row = next(r for r in ROWS.values() if r["goal"] in text and r["smt2"] in text)
            out.append([("```z3\n" + "\n".join(row["proof"]) + "\n```", -1.0)] * n)
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted"}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every policy spec built in this process; ``scripted`` is the policy above."""
    specs: list[str] = []
    real = registry.make_policy

    def spy(spec: str, *args: Any, **kwargs: Any) -> Any:
        specs.append(spec)
        return Scripted() if spec == "scripted" else real(spec, *args, **kwargs)

    monkeypatch.setitem(registry.POLICIES, "scripted", lambda *args: Scripted())
    for module in ("prover.eval.job", "prover.eval.whole_job", "proofgraph.prove_job"):
        monkeypatch.setattr(f"{module}.make_policy" if module != "proofgraph.prove_job"
                            else f"{module}._make_policy", spy)
    return specs


# --------------------------------------------------------------------- 1. one config block
def test_search_and_whole_jobs_name_runs_with_one_config_block(tmp_path: Path,
                                                               built: list[str]) -> None:
    bench = _bench(tmp_path)
    search = SearchConfig(seed=3)
    plain = EvalJob(bench, EvalOptions(policy="symbolic", search=search, attempts=2))
    whole = WholeEvalJob(bench, EvalOptions(policy="scripted", search=search, attempts=2,
                                            mode="whole", repair_rounds=1,
                                            temperature=0.5, max_new_tokens=7))
    assert plain.config == run_config("z3", policy_identity("symbolic", "z3", 3), search,
                                      attempts=2)
    sha = load_format("z3-script").sha256
    assert whole.config == run_config(
        "z3", policy_identity("scripted", "z3", 3, temperature=0.5, max_tokens=7,
                              prompt=WHOLE_TEMPLATE),
        search, attempts=2, mode="whole", repair_rounds=1, prompt_sha256=sha)
    assert whole.config["policy"]["sampling"]["max_tokens"] == 7
    assert set(whole.config) - set(plain.config) == {"mode", "repair_rounds", "prompt_sha256"}
    assert (whole.batch_size, plain.batch_size) == (2, 2)  # K=1 theorem x 2 attempts; 2 * K
    assert whole.item_budget_s == 2 * plain.item_budget_s  # one budget per round
    assert not built  # naming a run builds no model


# --------------------------------------------------------------------- 2. one stats record
def test_batching_queue_and_whole_rounds_count_with_one_record() -> None:
    queue = BatchingPolicy(registry.make_policy("symbolic", "z3"))
    assert type(queue.stats) is CallStats and queue.stats.to_dict()["states"] == 0
    assert not hasattr(rounds, "RoundStats")
    fmt = load_format("z3-script")
    tasks = [rounds.Task(ROWS[i], 7, row_values(ROWS[i], fmt)) for i in IDS]
    stats = CallStats(unit="rows", checks=True)
    verified = Checked(Verdict("verified"), "", "fake")
    rounds.run_rounds(tasks, Scripted(), fmt, lambda row, code: verified, repair_rounds=0,
                      check_workers=1, tokenizer=None, stats=stats)
    got = stats.to_dict()
    assert got["model_calls"] == 1 and got["rows"] == 3 and got["requests"] == 3
    assert got["batch_sizes"] == {"3": 1} and got["proofs_checked"] == 3
    assert "proofs_checked" not in queue.stats.to_dict()  # checks only where there are some
    queue.close()


# --------------------------------------------------------------------- 3. one worker shape
def _jobs(tmp: Path, workers: int) -> list[Any]:
    bench = _bench(tmp)
    return [EvalJob(bench, EvalOptions(policy="symbolic", workers=workers,
                                       report=lambda m: None)),
            WholeEvalJob(bench, EvalOptions(policy="scripted", mode="whole", workers=workers,
                                            report=lambda m: None)),
            ProveJob(bench, ProveOptions(policy="symbolic", report=lambda m: None),
                     ScaleOptions(workers=workers, concurrency=2))]


def test_every_model_job_crosses_to_a_worker_in_one_shape(tmp_path: Path,
                                                          built: list[str]) -> None:
    for job in _jobs(tmp_path, workers=1):
        job.start("run-x")  # in process: the model is built here
        assert job.builds_model and job.policy_info.get("policy") in ("symbolic", "scripted")
        sent = pickle.loads(pickle.dumps(job))  # a closure reporter would not pickle
        assert sent.in_worker and sent.builds_model and sent.opts.report is report_to_stderr
        assert all(getattr(sent, name, None) is None for name in type(job).LOCAL
                   if name not in ("backend", "_lock"))  # no model, queue or tokenizer
        assert sent.backend is not None  # rebuilt on load (thread-safe wrapper)
        assert sent.config == job.config and sent.run_id == "run-x"
        job.close()
    job = _jobs(tmp_path, workers=1)[0]
    with (tmp_path / "log.txt").open("w") as handle:
        job.log = handle  # an open file in a job is a bug: it is named, not sent
        with pytest.raises(TypeError, match=r"EvalJob\.log"):
            pickle.dumps(job)
        del job.log


# --------------------------------------------------------------------- 4. no model in the parent
def test_parent_of_a_worker_run_builds_no_model(tmp_path: Path, built: list[str]) -> None:
    for job in _jobs(tmp_path, workers=2):
        job.start("run-y")  # what the runner does in the parent before handing out batches
        assert not job.builds_model and not built
        assert job.policy_info["built"] == "in the worker processes"
        assert "batching" not in job.policy_info
        sent = pickle.loads(pickle.dumps(job))
        sent.start("run-y")  # the worker builds it
        assert built and sent.policy_info.get("policy") in ("symbolic", "scripted")
        sent.close()
        job.close()
        built.clear()
    one, two = (EvalJob(_bench(tmp_path), EvalOptions(policy="symbolic", workers=w))
                for w in (1, 2))
    assert one.config == two.config  # the same run in one process and on workers


@pytest.mark.slow
def test_tiny_model_is_built_only_in_the_workers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_fixtures import build_tiny_llama, require

    require("transformers", "the hf policy needs transformers")
    require("torch", "the hf policy needs torch")
    model = build_tiny_llama(tmp_path / "tiny")
    from prover.policy.hf import HFPolicy

    def forbidden(self: Any, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the parent built the model")

    monkeypatch.setattr(HFPolicy, "__init__", forbidden)  # this process only
    bench, out = _bench(tmp_path), tmp_path / "run"
    args = ["--mode", "whole", "--policy", f"hf:{model}", "--max-new-tokens", "4",
            "--temperature", "1.0", "--tactic-timeout", "3"]
    code = main(["eval", str(bench), "--out", str(out), "--workers", "2", "--json",
                 "--no-progress", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    summary = json.loads(captured.out)
    assert summary["attempts_done"] == len(IDS) and "batching" not in summary
    rows = [json.loads(x) for x in (out / "attempts.jsonl").read_text().splitlines()]
    assert sorted(r["theorem"] for r in rows) == sorted(IDS)
    for row in rows:  # each row's model description comes from the worker that built it
        policy = row["provenance"]["policy"]
        assert policy["policy"] == "hf" and policy["model"] == str(model)
        assert row["rounds"] and row["verdict"] in ("unknown", "refuted")
    assert summary["provenance"]["policy"]["built"] == "in the worker processes"
    # the run id is the one a run in one process gets (named from the options alone)
    opts = EvalOptions(policy=f"hf:{model}", mode="whole", max_new_tokens=4, temperature=1.0,
                       search=SearchConfig(batch_size=8, num_candidates=8, tactic_timeout_s=3.0,
                                           wall_timeout_s=60.0, max_expansions=200,
                                           max_depth=64, seed=0))
    job = WholeEvalJob(bench, opts)
    assert make_run_id("eval", file_digest(bench), job.config) == summary["run_id"]


@pytest.mark.parametrize("command", ["eval", "prove"])
def test_missing_model_on_workers_is_one_error_before_any_output(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    where = ["--out", str(out)] if command == "eval" else ["--out", str(out / "p.jsonl")]
    code = main([command, str(_bench(tmp_path)), *where, "--policy", "hf:/nonexistent",
                 "--workers", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "hf:/nonexistent: no such model file or folder" in err
    assert "worker" not in err and not list(out.rglob("*.jsonl"))  # no worker, no rows
