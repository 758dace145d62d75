"""Per-row isolation in ``prove_row`` (one failure kind per test): a header import that times
out, a REPL that crashes, a statement that does not elaborate, broken reply framing, and
lean-dojo's DojoInitError / AssertionError / CalledProcessError / an untraced repository /
anything else each become THAT row's ``unknown`` with a typed reason, and the run goes on.
Also: both Lean backends' proofs go through the one audit (leandojo without a REPL beside the
Dojo is ``unknown: not-audited``), the Dojo's start-up budget is its own, and the provenance
reads the Lean version instead of assuming it.

The stand-ins: ``tests/fake_lean_repl.py`` in simulator mode (real pipes, real processes), and a
``lean_dojo`` package written to a temporary directory and put on ``sys.path``, raising the
real exception types' names.
"""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fake_lean_repl import argv

import prover.lean.audit  # noqa: F401  (the module whose `audit` the tests replace)
from prover import proving
from prover.backends import BACKENDS
from prover.proving import ProveOptions, RowError, prove_row
from prover.records.verdicts import Verdict
from search.best_first import SearchConfig

STATEMENT = "theorem t (n : Nat) : n = n"
SORRY = {"env": 0, "sorries": [{"goal": "n : Nat\n⊢ n = n", "proofState": 0}],
         "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8},
                       "endPos": None, "data": "declaration uses 'sorry'"}]}
SIM = [["import Good", {"env": 0}], ["import Slow", "HANG"], ["import Dies", "DIE"],
       ["import Forged", {"forge": {"env": 0}}],
       ["theorem bad (n : Nat) : n = m := by sorry",
        {"env": 0, "messages": [{"severity": "error", "pos": {"line": 1, "column": 30},
                                 "endPos": None, "data": "unknown identifier 'm'"}]}],
       [f"{STATEMENT} := by sorry", SORRY],
       ["rfl", {"proofState": 0, "goals": [], "proofStatus": "Completed"}]]
SEARCH = SearchConfig(batch_size=1, num_candidates=2, tactic_timeout_s=5, wall_timeout_s=30,
                      max_expansions=5, concurrency=1)
INFO = {"spec": "symbolic"}


class Rfl:
    """Proposes ``rfl`` (and ``trivial``) for every state."""

    def propose(self, states: list, k: int) -> list:
        from search.protocols import Candidate

        return [[Candidate("rfl"), Candidate("trivial")][:k] for _ in states]


@pytest.fixture
def opts(tmp_path: Path) -> ProveOptions:
    script = tmp_path / "sim.json"
    script.write_text(json.dumps({"match": SIM}))
    options = ProveOptions(backend="lean-repl", search=SEARCH, lean_header_timeout_s=1.0,
                           repl_command=shlex.join(argv(script)), lean_processes=2)
    yield options
    proving.release(options)


@pytest.fixture
def audited(monkeypatch: pytest.MonkeyPatch) -> list:
    """``prover.lean.audit.audit`` replaced by a recorder that verifies (the audit itself is
    tested in test_lean_audit.py); returns the calls."""
    calls: list = []

    class Report:
        checks = ()
        verdict = Verdict("verified", evidence={"source": "stub"})

    def fake_audit(statement: str, proof: Any, repl: Any, **kwargs: Any) -> Report:
        calls.append({"statement": statement, "proof": proof, "repl": repl, **kwargs})
        return Report()

    monkeypatch.setattr(sys.modules["prover.lean.audit"], "audit", fake_audit)
    return calls


def prove(row: dict, opts: ProveOptions, backend: str = "lean-repl") -> dict:
    result, graph, root, verdicts = prove_row(row, BACKENDS[backend], Rfl(), INFO, opts, "r")
    assert result["error"] is None and graph.has_node(root) and len(verdicts) == 1
    assert verdicts[0][1].to_dict()["verdict"] == result["verdict"]
    return result


def test_proved_row_goes_through_the_audit(opts: ProveOptions, audited: list) -> None:
    result = prove({"id": "ok", "statement": STATEMENT, "header": "import Good"}, opts)
    assert result["verdict"] == "verified" and result["proof"] == ["rfl"]
    (call,) = audited
    assert call["tactics"] == ["rfl"] and call["header"] == "import Good"
    assert call["repl"].imports == "import Good"  # the header's own warm process


def test_the_real_audit_runs_on_a_search_proof(opts: ProveOptions) -> None:
    """Unstubbed: the stand-in cannot answer the audit's checks, so the proof the search found
    is NOT verified, and the verdict carries the audit's per-check results."""
    result = prove({"id": "ok", "statement": STATEMENT, "header": "import Good"}, opts)
    assert result["status"] == "proved" and result["verdict"] != "verified"
    checks = result["evidence"]["audit"] if "evidence" in result else []
    assert checks and checks[0]["name"] == "statement"


def test_header_timeout_is_that_rows_unknown(opts: ProveOptions) -> None:
    result = prove({"id": "slow", "statement": STATEMENT, "header": "import Slow"}, opts)
    assert (result["verdict"], result["reason"]) == ("unknown", "timeout")
    assert result["failure"]["kind"] == "header-timeout"


def test_repl_crash_is_that_rows_unknown(opts: ProveOptions) -> None:
    result = prove({"id": "dies", "statement": STATEMENT, "header": "import Dies"}, opts)
    assert (result["verdict"], result["reason"]) == ("unknown", "backend-error")
    assert result["failure"]["kind"] == "repl-crash" and "exit code 3" in result["detail"]


def test_forged_reply_is_that_rows_unknown(opts: ProveOptions) -> None:
    result = prove({"id": "forged", "statement": STATEMENT, "header": "import Forged"}, opts)
    assert (result["verdict"], result["failure"]["kind"]) == ("unknown", "repl-framing")


def test_statement_that_does_not_elaborate(opts: ProveOptions) -> None:
    result = prove({"id": "bad", "statement": "theorem bad (n : Nat) : n = m",
                    "header": "import Good"}, opts)
    assert (result["verdict"], result["reason"]) == ("unknown", "not-formalized")
    assert "unknown identifier" in result["detail"]


def test_not_a_theorem_row_is_a_bad_row(opts: ProveOptions) -> None:
    with pytest.raises(RowError):
        prove_row({"id": "x"}, BACKENDS["lean-repl"], Rfl(), INFO, opts, "r")


def test_anything_else_is_that_rows_unknown(opts: ProveOptions) -> None:
    def broken(row: Any, opts: Any) -> Any:
        raise KeyError("surprise")

    backend = proving.Backend("lean", broken, BACKENDS["lean-repl"].recheck,
                              lambda row: "s", lambda opts=None: "v")
    result, *_ = prove_row({"id": "k"}, backend, Rfl(), INFO, opts, "r")
    assert result["failure"]["kind"] == "internal-error:KeyError"
    assert result["reason"] == "backend-error"


def test_the_run_goes_on_after_failing_rows(opts: ProveOptions, audited: list) -> None:
    from proofgraph.prove_job import run_prove

    rows = [{"id": "dies", "statement": STATEMENT, "header": "import Dies"},
            {"id": "slow", "statement": STATEMENT, "header": "import Slow"},
            {"id": "ok", "statement": STATEMENT, "header": "import Good"}]
    summary, results = run_prove(rows, opts)
    assert [r["verdict"] for r in results] == ["unknown", "unknown", "verified"]
    assert summary["proved"] == 1 and summary["theorems"] == 3


def test_lean_version_is_read_not_assumed(opts: ProveOptions,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from prover.lean import doctor

    version = BACKENDS["lean-repl"].version(opts)
    assert "custom command" in version and "4.20.0" not in version  # no lean here
    doctor.lean_version.cache_clear()
    monkeypatch.setattr(doctor.shutil, "which", lambda name: "/fake/" + name)
    monkeypatch.setattr(doctor, "_run", lambda argv, cwd, timeout_s=60: (
        0, "Lean (version 4.20.0, x86_64-unknown-linux-gnu, commit abc, Release)"))
    default = ProveOptions(backend="lean-repl")
    assert BACKENDS["lean-repl"].version(default).startswith("Lean (version 4.20.0")
    doctor.lean_version.cache_clear()


# --------------------------------------------------------------------------- lean-dojo stand-in
FAKE_LEAN_DOJO = '''
"""A stand-in for lean_dojo 4.20.0: the real names; FAKE_DOJO selects a failure."""
import os
import subprocess
import types

__version__ = "4.20.0"
OPENED = []


class DojoInitError(Exception):
    pass


class DojoCrashError(Exception):
    pass


class DojoTacticTimeoutError(Exception):
    pass


class TacticState:
    def __init__(self, pp, id, message=None):
        self.pp, self.id, self.message = pp, id, message


class ProofFinished:
    def __init__(self, tactic_state_id, message=None):
        self.tactic_state_id, self.message = tactic_state_id, message


class ProofGivenUp:
    pass


class LeanError:
    def __init__(self, error):
        self.error = error


class LeanGitRepo:
    def __init__(self, url, commit):
        self.url, self.commit = url, commit

    @classmethod
    def from_path(cls, path):
        return cls(str(path), "0" * 40)


class Theorem:
    def __init__(self, repo, file_path, full_name):
        self.repo, self.file_path, self.full_name = repo, file_path, full_name


def is_available_in_cache(repo):
    return os.environ.get("FAKE_DOJO") != "untraced"


class Dojo:
    def __init__(self, entry, timeout=600, additional_imports=[], build_deps=True):
        self.entry, self.timeout, self.exited = entry, timeout, False

    def __enter__(self):
        mode = os.environ.get("FAKE_DOJO", "ok")
        if mode == "init":
            raise DojoInitError("Unexpected EOF")
        if mode == "assert":
            assert False, "res['error'] is None"
        if mode == "called":
            raise subprocess.CalledProcessError(1, "lake build")
        if mode == "untraced":
            raise RuntimeError("lean-dojo started tracing inside a search")
        self.proc = types.SimpleNamespace(timeout=self.timeout)
        OPENED.append(self)
        return self, TacticState("⊢ True", 0)

    def __exit__(self, *exc):
        self.exited = True

    def run_tac(self, state, tactic):
        return ProofFinished(1) if tactic == "trivial" else LeanError("no")
'''


@pytest.fixture
def lean_dojo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    package = tmp_path / "stand_in" / "lean_dojo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(FAKE_LEAN_DOJO))
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "lean_dojo", raising=False)
    monkeypatch.setenv("GITHUB_ACCESS_TOKEN", "")
    monkeypatch.setenv("DISABLE_REMOTE_CACHE", "1")
    for name in ("PROOFGRAPH_LEAN_REPL_CMD", "PROOFGRAPH_LEAN_REPL"):
        monkeypatch.delenv(name, raising=False)
    import lean_dojo as module

    yield module
    sys.modules.pop("lean_dojo", None)


def dojo_row(tmp_path: Path) -> dict:
    return {"id": "d", "repo": str(tmp_path), "file": "A.lean", "theorem": "t",
            "statement": "theorem t : True", "header": "import Good"}


@pytest.mark.parametrize(("mode", "kind", "reason"), [
    ("init", "dojo-init", "backend-error"),
    ("assert", "assertion-failed", "backend-error"),
    ("called", "subprocess-failed", "backend-error"),
    ("untraced", "repo-not-traced", "not-checked"),
])
def test_dojo_failures_are_that_rows_unknown(tmp_path: Path, lean_dojo: Any,
                                             monkeypatch: pytest.MonkeyPatch,
                                             mode: str, kind: str, reason: str) -> None:
    monkeypatch.setenv("FAKE_DOJO", mode)
    opts = ProveOptions(backend="leandojo", search=SEARCH)
    result = prove(dojo_row(tmp_path), opts, "leandojo")
    proving.release(opts)
    assert (result["verdict"], result["reason"], result["failure"]["kind"]) == (
        "unknown", reason, kind)
    if mode == "untraced":  # never traced inside the search; the row says how to trace
        assert "setup_lean.sh --with-dojo --trace-repo" in result["evidence"]["fix"]
    if mode == "called":
        assert "lake build" in result["detail"]


def test_dojo_proof_without_a_repl_beside_it_is_not_audited(
        tmp_path: Path, lean_dojo: Any, monkeypatch: pytest.MonkeyPatch,
        audited: list) -> None:
    monkeypatch.setenv("FAKE_DOJO", "ok")
    opts = ProveOptions(backend="leandojo", search=SEARCH, dojo_startup_timeout_s=900)
    result = prove(dojo_row(tmp_path), opts, "leandojo")
    proving.release(opts)
    assert result["status"] == "proved" and result["proof"] == ["trivial"]
    assert (result["verdict"], result["reason"]) == ("unknown", "not-audited")
    assert audited == []
    (dojo,) = lean_dojo.OPENED
    assert dojo.timeout == 5 and dojo.proc.timeout == 5  # tactics: the per-tactic budget
    assert dojo.exited  # closed when the row's search ended, not at the end of the job
    assert result["provenance"]["limits"]["dojo_startup_timeout_s"] == 900


def test_dojo_startup_gets_its_own_budget(tmp_path: Path, lean_dojo: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from prover.lean.dojo import LeanDojoEnv, make_theorem

    seen: list[int] = []
    real = lean_dojo.Dojo.__enter__

    def enter(self: Any) -> Any:
        seen.append(self.timeout)  # the budget while starting up
        return real(self)

    monkeypatch.setattr(lean_dojo.Dojo, "__enter__", enter)
    theorem = make_theorem(tmp_path, "A.lean", "t", lean_dojo=lean_dojo)
    with LeanDojoEnv(theorem, timeout_s=5, startup_timeout_s=600, lean_dojo=lean_dojo) as env:
        env.initial_state()
        assert seen == [600] and env._dojo.proc.timeout == 5


def test_dojo_proof_with_a_repl_beside_it_is_audited(
        tmp_path: Path, lean_dojo: Any, monkeypatch: pytest.MonkeyPatch, audited: list,
        opts: ProveOptions) -> None:
    monkeypatch.setenv("FAKE_DOJO", "ok")
    opts.backend = "leandojo"
    result = prove(dojo_row(tmp_path), opts, "leandojo")
    assert result["verdict"] == "verified"
    (call,) = audited
    assert call["statement"] == "theorem t : True" and call["tactics"] == ["trivial"]


def test_cli_prove_takes_the_whole_repl_command(opts: ProveOptions, audited: list,
                                                capsys: pytest.CaptureFixture) -> None:
    from proofgraph.cli import main

    row = json.dumps({"id": "cli", "statement": STATEMENT, "header": "import Good"})
    code = main(["prove", "--row", row, "--backend", "lean-repl", "--repl-command",
                 opts.repl_command or "", "--dojo-startup-timeout", "900", "--lean-processes",
                 "1", "--max-expansions", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["proved"] == 1
    assert out["results"][0]["verdict"] == "verified" and len(audited) == 1
