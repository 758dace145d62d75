"""Ray on a local 2-CPU cluster gives the same rows as the local pool (as sets of hashes), and
the shared policy actor serves every environment actor's searches."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proofgraph.synth_api import synth
from prover.synth.verify import load_rows, verify_output

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402
from synth_helpers import FAST, PROOF_OPTS, fast_theorems  # noqa: E402


@pytest.mark.slow
def test_ray_rows_equal_local_pool_rows(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    inp = fast_theorems(tmp_path / "thms.jsonl", copies=2, duplicate_lines=1)
    local = synth("proofs", inp, tmp_path / "local", workers=2, shard_rows=25, **PROOF_OPTS)
    on_ray = synth("proofs", inp, tmp_path / "ray", workers=2, ray=True, shard_rows=25,
                   **PROOF_OPTS)
    assert on_ray["executor"] == "ray:2" and local["executor"] == "local:2"
    assert on_ray["run_id"] == local["run_id"]  # same task config, same input
    for key in ("items", "ok", "rows", "rows_by_kind", "duplicates_dropped"):
        assert on_ray[key] == local[key], key
    assert verify_output(tmp_path / "ray")["problems"] == []
    local_rows, ray_rows = load_rows(tmp_path / "local"), load_rows(tmp_path / "ray")
    assert {r["hash"] for r in ray_rows} == {r["hash"] for r in local_rows}
    assert len(ray_rows) == len(local_rows) == local["rows"]


@pytest.mark.slow
def test_shared_policy_actor_serves_the_searches(tmp_path: Path) -> None:
    pf.require("ray", "the Ray executor tests need ray")
    inp = fast_theorems(tmp_path / "thms.jsonl")
    summary = synth("proofs", inp, tmp_path / "out", workers=2, ray=True, shared_policy=True,
                    **PROOF_OPTS)
    assert summary["items"] == len(FAST)
    service = summary["policy_service"]
    assert service["policy_calls"] > 0 and service["states_per_call_max"] >= 1
    rows = load_rows(tmp_path / "out")
    assert rows and all(r["provenance"]["policy"]["served_by"] == "ray-policy-actor"
                        for r in rows)
    assert verify_output(tmp_path / "out")["problems"] == []
