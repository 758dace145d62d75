"""`proofgraph prove` end to end on Z3: search, re-check, proof graph in the store, resume."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from proofgraph import prove
from proofgraph.cli import main
from proofgraph.prove_job import ProveError, make_policy, replay
from prover.records.store import Store
from search import protocols as sp

SQUARE = {"id": "square", "smt2": "(declare-const x Int) (assert (> x 2))",
          "goal": "(> (* x x) 4)"}
GAUSS = {"id": "gauss", "smt2": "(define-fun-rec sum ((n Int)) Int (ite (<= n 0) 0 "
         "(+ n (sum (- n 1))))) (declare-const n Int) (assert (>= n 0))",
         "goal": "(= (* 2 (sum n)) (* n (+ n 1)))"}
FALSE = {"id": "false", "smt2": "(declare-const x Int)", "goal": "(> (* x x) 0)"}


@pytest.mark.slow
def test_cli_proves_rechecks_and_stores_the_search_graph(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    theorems = tmp_path / "t.jsonl"
    theorems.write_text("".join(json.dumps(r) + "\n" for r in (SQUARE, GAUSS, FALSE)))
    store = tmp_path / "runs.sqlite"
    code = main(["prove", str(theorems), "--store", str(store), "--json",
                 "--wall-timeout", "60", "--max-expansions", "200"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    by_id = {r["id"]: r for r in out["results"]}
    assert by_id["square"]["verdict"] == "verified" and by_id["square"]["proof"] == ["z3"]
    assert by_id["gauss"]["verdict"] == "verified"
    assert any(t.startswith("induction") for t in by_id["gauss"]["proof"])
    assert by_id["false"]["verdict"] == "refuted"  # never proved: the preflight finds x = 0
    assert out["proved"] == 2
    with Store(store) as db:
        run_id = db.runs()[0]["run_id"]
        results = dict(db.item_results(run_id))
        key = next(k for k, r in results.items() if r["id"] == "gauss")
        graph = db.load_graph(run_id, key)
        counts = db.verdict_counts(run_id)
    assert counts["verified"] == 2
    path_edges = [d["tactic"] for _, _, d in graph.edges(data=True)
                  if d.get("etype") == "tactic" and d.get("on_proof_path")]
    assert sorted(path_edges) == sorted(results[key]["proof"])
    proof_path = nx.DiGraph([(u, v) for u, v, d in graph.edges(data=True)
                             if d.get("on_proof_path")])
    assert nx.is_directed_acyclic_graph(proof_path)
    assert proof_path.number_of_edges() == len(results[key]["proof"])
    assert results[key]["policy"]["spec"] == "symbolic"
    assert results[key]["provenance"]["limits"]["search"]["max_expansions"] == 200


def test_rerun_resumes_without_searching_again(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first, _ = prove([SQUARE], out=out)
    second, results = prove([SQUARE], out=out)
    assert first["proved"] == second["proved"] == 1
    assert second["resumed"] is True
    assert len(out.read_text().splitlines()) == 1
    assert results[0]["proof"] == ["z3"]


def test_bad_rows_are_rejected_and_the_rest_run(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    theorems = tmp_path / "t.jsonl"
    theorems.write_text(json.dumps({"id": "bad", "smt2": "(declare-const x", "goal": "x"})
                        + "\n{not json\n" + json.dumps(SQUARE) + "\n")
    code = main(["prove", str(theorems), "--json"])
    captured = capsys.readouterr()
    assert code == 3
    assert "t.jsonl:1:" in captured.err and "t.jsonl:2:" in captured.err
    assert "Traceback" not in captured.err
    assert json.loads(captured.out)["proved"] == 1


@pytest.mark.parametrize("args, message", [
    (["--backend", "coq"], "unknown backend"),
    (["--policy", "magic"], "unknown policy"),
    (["--policy", "openai:http://127.0.0.1:9"], "URL#MODEL"),
    (["--backend", "lean-repl"], "unavailable"),
])
def test_usage_errors_are_one_line(args: list[str], message: str,
                                   capsys: pytest.CaptureFixture) -> None:
    row = {"id": "t", "statement": "theorem t : 1 + 1 = 2 := by sorry"} if "lean-repl" in args \
        else SQUARE
    code = main(["prove", "--row", json.dumps(row), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_make_policy_registry() -> None:
    assert make_policy("symbolic", "z3").propose([sp.State("x > 2 ⊢ x * x > 4")], 3)
    with pytest.raises(ProveError):
        make_policy("hf", "lean")


class _Counter:
    """A toy environment: reach 3 from 0 with the tactic "+1"."""

    max_concurrency = 1

    def initial_state(self) -> sp.State:
        return sp.State("0")

    def apply(self, state: sp.State, tactic: str, budget_s: float) -> sp.Outcome:
        if tactic != "+1":
            return sp.Failed("unknown tactic")
        value = int(state.text) + 1
        return sp.Proved({"value": value}) if value == 3 else sp.Progress(sp.State(str(value)))


def test_replay_verifies_only_complete_proofs() -> None:
    assert replay(_Counter(), ["+1", "+1", "+1"], 1.0).kind == "verified"
    assert replay(_Counter(), ["+1", "+1"], 1.0).kind == "refuted"
    assert replay(_Counter(), ["+1", "x", "+1"], 1.0).kind == "refuted"
    assert replay(_Counter(), ["+1", "+1", "+1", "+1"], 1.0).kind == "refuted"


def test_a_proof_that_fails_its_recheck_never_refutes_the_theorem(tmp_path: Path) -> None:
    """The search proves GAUSS; a re-check that replays the proof without its last tactic
    (the real Z3 replay, goals left open) rejects the PROOF. That says nothing of the theorem:
    the row is unknown: recheck-failed, the re-check's evidence kept."""
    from prover import proving
    from prover.backends import BACKENDS
    from prover.records.verdicts import Verdict
    from prover.z3.env import check_proof

    z3_backend = BACKENDS["z3"]

    def truncated(row: dict, proof: list[str], opts: object, deadline: float | None = None
                  ) -> Verdict:
        return check_proof(row, proof[:-1])

    backend = proving.Backend("z3", z3_backend.make_env, truncated, z3_backend.statement,
                              z3_backend.version)
    opts = proving.ProveOptions()
    policy = make_policy("symbolic", backend.family)
    result, *_ = proving.prove_row(GAUSS, backend, policy, {"spec": "symbolic"}, opts, "r")
    assert result["status"] == "proved" and result["proof"]
    assert (result["verdict"], result["reason"]) == ("unknown", "recheck-failed")
    assert result["evidence"]["recheck"] == "refuted" and result["evidence"]["open_goals"]
    honest, *_ = proving.prove_row(GAUSS, z3_backend, policy, {"spec": "symbolic"}, opts, "r")
    assert honest["verdict"] == "verified"
