"""``eval --backend lean-repl`` over the stand-in REPL (tests/fake_lean_repl.py simulator):
several searches at once share the per-header pool; a proof counts only through the audit;
a REPL crash or a statement that does not elaborate is that theorem's unknown, not an error."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_lean_repl import argv
from test_lean_rows import SIM, STATEMENT

import prover.lean.audit  # noqa: F401  (the module whose `audit` the test replaces)
from prover.eval.job import EvalOptions
from prover.eval.run import run_eval
from prover.records.verdicts import Verdict
from search.best_first import SearchConfig


def test_lean_repl_eval_counts_audited_proofs_only(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    audits: list = []

    class Report:
        checks = ()
        verdict = Verdict("verified", evidence={"source": "stub"})

    def fake_audit(statement: str, proof: Any, repl: Any, **kwargs: Any) -> Report:
        audits.append((statement, tuple(kwargs.get("tactics") or ())))
        return Report()

    monkeypatch.setattr(sys.modules["prover.lean.audit"], "audit", fake_audit)
    script = tmp_path / "sim.json"
    script.write_text(json.dumps({"match": SIM}))
    rows = [{"id": "ok", "statement": STATEMENT, "header": "import Good"},
            {"id": "dies", "statement": STATEMENT, "header": "import Dies"},
            {"id": "bad", "statement": "theorem bad (n : Nat) : n = m", "header": "import Good"}]
    bench = tmp_path / "lean.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    search = SearchConfig(batch_size=1, num_candidates=2, tactic_timeout_s=5,
                          wall_timeout_s=60, max_expansions=5, concurrency=1)
    summary = run_eval(bench, tmp_path / "out", EvalOptions(
        backend="lean-repl", search=search, attempts=2, concurrency=3, progress=False,
        repl_command=shlex.join(argv(script)), lean_processes=2))
    assert summary["theorems"] == 3 and summary["solved"] == 1
    assert summary["pass_at_k"] == {"1": pytest.approx(1 / 3), "2": pytest.approx(1 / 3)}
    assert summary["attempt_errors"] == 0  # failures are unknown verdicts, not errors
    assert len(audits) == 2 and all(tactics == ("rfl",) for _, tactics in audits)
    results = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "results.jsonl")
                                       .read_text().splitlines())}
    assert results["ok"]["successes"] == 2 and results["ok"]["proof"] == ["rfl"]
    for name in ("dies", "bad"):
        assert [a["verdict"] for a in results[name]["attempt_rows"]] == ["unknown", "unknown"]
