"""One wall budget per Z3 row: the preflight, every worker call and the replay draw from the
row's deadline, so a non-terminating row ends within ``--wall-timeout`` plus the kill margin
(prover/z3/env.py ``call_window``; prover/backends.py ``_z3_env``)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from prover.policy.symbolic import SymbolicPolicy
from prover.z3 import env as z3env
from prover.z3 import isolate
from prover.z3.env import KILL_MARGIN_S, PREFLIGHT_SHARE, Z3Env, call_window, check_proof
from search.best_first import SearchConfig, best_first_search
from search.protocols import Timeout

SLACK_S = 0.05  # between the window's clock reading and the recorder's: a few Python lines
NON_TERMINATING = {"id": "nt", "smt2": "(define-fun-rec f ((n Int)) Int (+ 1 (f (+ n 1)))) "
                   "(declare-const n Int)", "goal": "(= (f 0) (f 5))"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every worker call of the Z3 environment: when it was made, its solver budget and the
    instant its worker would be killed (the real call still runs)."""
    seen: list[dict[str, Any]] = []
    real = isolate.call

    def recording(handler: str, payload: dict[str, Any], wall_s: float, memory_mb: int,
                  kill_at: float | None = None) -> tuple[dict[str, Any] | None, float]:
        now = time.monotonic()
        last = now + wall_s if kill_at is None else min(now + wall_s, kill_at)
        seen.append({"op": payload.get("op"), "budget_s": payload.get("budget_s"),
                     "kill_at": last, "row_kill_at": kill_at})
        return real(handler, payload, wall_s, memory_mb, kill_at)

    monkeypatch.setattr(z3env.isolate, "call", recording)
    return seen


def warm_worker() -> None:
    """Start a worker now, so the calls under test do not include a worker's start-up."""
    check_proof({"id": "warm", "smt2": "(declare-const x Int)", "goal": "(= x x)"}, ["z3"])


def test_call_window_cuts_the_budget_and_the_kill_to_the_deadline() -> None:
    assert call_window(2.0, None) == (2.0, 3.5)
    deadline = time.monotonic() + 1.0
    budget, kill = call_window(5.0, deadline)
    assert budget <= 1.0 and kill <= 1.0 + KILL_MARGIN_S
    assert call_window(0.2, time.monotonic() + 100.0) == (0.2, pytest.approx(0.8))
    assert call_window(5.0, time.monotonic() - 1.0) is None


def test_search_on_a_non_terminating_row_stays_inside_its_deadline(
        calls: list[dict[str, Any]]) -> None:
    """Tactic budget 5 s, wall 4 s: no call's solver budget or kill instant passes the
    deadline (+ the margin), the preflight takes its share, and a tactic asked for after the
    deadline is a Timeout without a call."""
    warm_worker()
    calls.clear()
    deadline = time.monotonic() + 4.0
    env = Z3Env(NON_TERMINATING, deadline=deadline)
    config = SearchConfig(batch_size=1, num_candidates=8, tactic_timeout_s=5.0,
                          wall_timeout_s=4.0, max_expansions=10, concurrency=1)
    result = best_first_search(env, SymbolicPolicy("z3"), config)
    assert result.proof is None
    assert calls and calls[0]["op"] == "preflight"
    assert calls[0]["budget_s"] <= PREFLIGHT_SHARE * 4.0
    for call in calls:
        assert call["kill_at"] <= deadline + KILL_MARGIN_S + SLACK_S, call
        assert call["budget_s"] <= 5.0
    assert any(c["op"] == "step" and c["budget_s"] < 5.0 for c in calls)  # cut to what is left
    while time.monotonic() < deadline:
        time.sleep(0.05)
    before = len(calls)
    outcome = env.apply(env.initial_state(), "z3", 5.0)
    assert isinstance(outcome, Timeout) and len(calls) == before


def test_replay_draws_from_the_same_deadline(calls: list[dict[str, Any]]) -> None:
    verdict = check_proof(NON_TERMINATING, ["z3"], budget_s=5.0,
                          deadline=time.monotonic() - 0.1)
    assert verdict.kind == "unknown" and not calls  # no time left: no call, not a proof


def test_prove_cli_row_draws_every_call_from_the_wall_timeout(
        tmp_path: Path, calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``proofgraph prove --wall-timeout 2 --tactic-timeout 5`` on the non-terminating row:
    the row's environment gets a deadline 2 s out, and every worker call (the preflight
    included) is killed by that deadline plus the margin."""
    from proofgraph.cli import main
    from prover.backends import BACKENDS

    made: list[Any] = []
    backend = BACKENDS["z3"]

    def make_env(row: Any, opts: Any) -> Any:
        made.append((time.monotonic(), backend.make_env(row, opts)))
        return made[-1][1]

    monkeypatch.setitem(BACKENDS, "z3", replace(backend, make_env=make_env))
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(NON_TERMINATING) + "\n", encoding="utf-8")
    code = main(["prove", str(path), "--json", "--wall-timeout", "2", "--tactic-timeout", "5",
                 "--out", str(tmp_path / "out.jsonl")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["results"][0]["verdict"] == "unknown"
    [(made_at, env)] = made
    assert made_at < env.deadline <= made_at + 2.0 + 0.01
    assert calls and calls[0]["op"] == "preflight"
    assert all(c["kill_at"] <= env.deadline + KILL_MARGIN_S + SLACK_S for c in calls), calls


def test_a_worker_start_up_is_charged_to_the_rows_deadline() -> None:
    """With ``kill_at``, starting a worker counts: a start-up that cannot finish by that
    instant is reported as killed, and the call returns by then (plus the kill itself)."""
    isolate.shutdown()  # no idle worker: this call must start one
    began = time.monotonic()
    answer, _ = isolate.call("theorem", {"op": "step"}, 30.0, isolate_memory(),
                             kill_at=began + 0.02)
    assert answer is None
    assert time.monotonic() - began < 0.02 + 1.0  # the start-up was cut, not waited for


def isolate_memory() -> int:
    from prover.z3.env import DEFAULT_MEMORY_MB

    return DEFAULT_MEMORY_MB
