"""Contract tests of the Lean REPL client and search Environment against REAL recorded REPL
transcripts at the PINNED commit (tests/data/lean-repl-v4.20, leanprover-community/repl
@16054ca, Lean v4.20.0), replayed over real pipes by ``tests/fake_lean_repl.py``; and of the
lean-dojo Environment's outcome mapping with stand-in classes named like lean_dojo's.

The stand-in checks every request the client sends against the recorded one, so a passing
replay also proves the client's serialisation matches the wire exactly; the client's framing
(a sentinel after every request, env / proof-state counters) is on throughout, so a passing
replay also proves the counter model matches the real REPL's numbering.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import types
from pathlib import Path

import fake_lean_repl
import pytest
from fake_lean_repl import DATA_V420, argv

from prover.lean import dojo as dojo_mod
from prover.lean.declaration import sorry_command, split_declaration, statement_head
from prover.lean.env import LeanProofPath, LeanReplEnv
from prover.lean.judge import is_sorry_warning, judge_command, judge_step
from prover.lean.pool import LeanReplPool
from prover.lean.protocol import (
    Command,
    CommandResponse,
    FileCommand,
    LeanError,
    PickleProofState,
    ProofStep,
    ProofStepResponse,
    UnpickleProofState,
    parse_response,
    request_from_wire,
)
from prover.lean.repl import (
    LeanRepl,
    LeanUnavailable,
    ReplConfig,
    ReplCrashed,
    ReplFramingError,
    ReplTimeout,
)
from search.best_first import SearchConfig, best_first_search
from search.protocols import Candidate, Crashed, Failed, Progress, Proved, State, Timeout

DATA = DATA_V420
NAMES = sorted(str(p.relative_to(DATA / "test"))[: -len(".in")]
               for p in (DATA / "test").rglob("*.in")
               if p.with_name(p.name[:-3] + ".expected.out").exists())


def transcript(name: str) -> Path:
    return fake_lean_repl.transcript(name, DATA)


def recorded(name: str) -> list[tuple[dict, dict]]:
    return fake_lean_repl.recorded(name, DATA)
ADVERSARIAL = ("Mathlib/test/20240209", "invalid_tactic", "app_type_mismatch", "app_type_mismatch2",
               "self_proof_check", "self_proof_exact_check", "self_proof_apply_check",
               "self_proof_rw")


def config(name: str | Path, *options: str, **kwargs: object) -> ReplConfig:
    path = name if isinstance(name, Path) else transcript(name)
    values: dict = {"cwd": None, "memory_limit_mb": 1024, **kwargs}
    return ReplConfig(command=argv(path, *options), **values)


def gone(pid: int, wait_s: float = 5.0) -> bool:
    """True once ``pid`` no longer exists or is a zombie (nobody may reap it here)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def pids(pid_file: Path, count: int = 1, wait_s: float = 5.0) -> list[dict]:
    """The stand-in's pid records, waiting until at least ``count`` processes wrote theirs."""
    deadline = time.monotonic() + wait_s
    while True:
        lines = pid_file.read_text().splitlines() if pid_file.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)


# --------------------------------------------------------------------------- every transcript
def test_all_63_recorded_transcripts_are_here() -> None:
    assert len(NAMES) == 63
    assert "16054ca34b80803d6621dccd11882ca2ea03e215" in (DATA / "SOURCE.md").read_text()
    assert (DATA / "LICENSE").read_text().lstrip().startswith("Apache License")


@pytest.mark.parametrize("name", NAMES)
def test_transcript_replays_through_the_real_client(name: str) -> None:
    """Every request round-trips through the typed models; every response is parsed into the
    right type and losslessly (``to_wire`` gives back the recorded JSON)."""
    pairs = recorded(name)
    seen_pids = set()
    with LeanRepl(config(name)) as repl:
        for wire_request, wire_response in pairs:
            request = request_from_wire(wire_request)
            assert request.to_wire() == wire_request
            response = repl.run(request, timeout_s=10)
            seen_pids.add(repl.pid)
            assert response.to_wire() == wire_response
            if set(wire_response) == {"message"}:
                assert isinstance(response, LeanError)
            elif isinstance(request, (ProofStep, PickleProofState, UnpickleProofState)):
                assert isinstance(response, ProofStepResponse)
            else:
                assert isinstance(response, CommandResponse)
        assert repl.uses == len(pairs) and repl.generation == 1
        assert repl.alive and len(seen_pids) == 1  # one process served the whole transcript


@pytest.mark.parametrize("name", NAMES)
def test_only_kernel_checked_completions_count(name: str) -> None:
    """The step rule on every recorded tactic response: completed iff proofStatus Completed
    with no error and no sorry; in particular ``goals == []`` alone never completes."""
    for wire_request, wire_response in recorded(name):
        request = request_from_wire(wire_request)
        if not isinstance(request, ProofStep):
            continue
        response = parse_response(request, wire_response)
        verdict = judge_step(response)
        clean = (isinstance(response, ProofStepResponse) and not response.sorries
                 and not any(m.severity == "error" for m in response.messages))
        assert (verdict.kind == "completed") == (
            clean and response.proof_status == "Completed" and not response.goals)
        if isinstance(response, ProofStepResponse) and not response.goals:
            assert verdict.kind != "progress"
        if name in ADVERSARIAL:
            assert verdict.kind != "completed", (name, wire_request)


# --------------------------------------------------------------------------- parsed content
def test_parsed_positions_messages_and_sorries() -> None:
    with LeanRepl(config("proof_step")) as repl:
        root = repl.run(Command("def f : Nat := by sorry"), 10)
        assert isinstance(root, CommandResponse) and root.env == 0
        (sorry,) = root.sorries
        assert (sorry.goal, sorry.proof_state) == ("⊢ Nat", 0)
        assert (sorry.pos.line, sorry.pos.column, sorry.end_pos.column) == (1, 18, 23)
        (warning,) = root.messages
        assert warning.severity == "warning" and is_sorry_warning(warning.data)
        assert (warning.pos.line, warning.pos.column) == (1, 4)
        step = repl.run(ProofStep("apply Int.natAbs", 0), 10)
        assert step.goals == ("⊢ Int",) and judge_step(step).kind == "progress"
        branch = repl.run(ProofStep("have t : Nat := 42", 0), 10)
        assert branch.proof_state == 2 and branch.goals == ("t : Nat\n⊢ Nat",)
        done = repl.run(ProofStep("exact t", 2), 10)
        assert judge_step(done).kind == "completed" and done.proof_state == 3


def test_goals_closed_with_error_or_kernel_failure_are_rejected() -> None:
    cases = {
        "invalid_tactic": (1, "unknown identifier 'my_fake_premise'"),
        "Mathlib/test/20240209": (1, "unsolved goals\n⊢ False"),
        "app_type_mismatch": (4, "Incomplete: contains metavariable(s)"),
        "app_type_mismatch2": (4, "kernel type check failed"),
        "self_proof_exact_check": (2, "declaration has free variables"),
        "self_proof_apply_check": (2, "declaration has free variables"),
        "self_proof_rw": (2, "declaration has free variables"),
    }
    for name, (index, reason) in cases.items():
        wire_request, wire_response = recorded(name)[index]
        response = parse_response(request_from_wire(wire_request), wire_response)
        assert response.goals == ()  # the dangerous shape: no goals left
        verdict = judge_step(response)
        assert verdict.kind == "rejected" and reason in verdict.reason, name
    invalid = parse_response(ProofStep("x", 0), recorded("invalid_tactic")[1][1])
    (error,) = invalid.messages
    assert error.severity == "error" and (error.pos.line, error.pos.column) == (0, 0)
    assert invalid.proof_status == "Incomplete: contains sorry"


def test_whole_proof_commands_from_the_fixtures_are_rejected() -> None:
    for name in ("self_proof_exact_check", "self_proof_apply_check", "self_proof_rw",
                 "self_proof_check", "app_type_mismatch", "app_type_mismatch2"):
        wire_request, wire_response = recorded(name)[0]
        assert not judge_command(parse_response(Command(wire_request["cmd"]), wire_response)).ok
    # the sorry commands are not proofs either (sorry + the warning)
    sorry_cmd = parse_response(Command("x"), recorded("dup_sorries")[0][1])
    assert judge_command(sorry_cmd).reason == "the proof contains `sorry`"


def test_sorry_warning_both_spellings_and_missing_proof_status() -> None:
    assert is_sorry_warning("declaration uses 'sorry'")  # Lean <= v4.27.0 (our v4.20.0)
    assert is_sorry_warning("declaration uses `sorry`")  # v4.28.0-rc1 on (the fixtures)
    assert not is_sorry_warning("declaration uses sorryAx")
    # synthetic: a command with only the old-spelling warning (no syntactic sorry reported)
    old = CommandResponse.from_wire({"env": 0, "messages": [
        {"severity": "warning", "pos": {"line": 1, "column": 8}, "endPos": {"line": 1,
         "column": 9}, "data": "declaration uses 'sorry'"}]})
    assert judge_command(old).reason == "declaration uses sorry"
    # a pre-PR #63 REPL (e.g. tag v4.9.0) answers {"proofState", "goals"} only
    legacy = ProofStepResponse.from_wire({"proofState": 1, "goals": []})
    assert judge_step(legacy).kind == "rejected"
    assert judge_step(ProofStepResponse.from_wire({"proofState": 1, "goals": ["⊢ p"]})).kind \
        == "progress"


def test_error_shapes_and_traces() -> None:
    for name, index, text in (("unknown_environment", 0, "Unknown environment."),
                              ("unknown_proof_state", 1, "Unknown proof state."),
                              ("unknown_tactic", 1, "Lean error:\n<input>:1:1: unknown tactic")):
        wire_request, wire_response = recorded(name)[index]
        response = parse_response(request_from_wire(wire_request), wire_response)
        assert response == LeanError(text)
        assert judge_step(response).reason == text
    wire_request, wire_response = recorded("trace_simp")[6]
    simp = parse_response(request_from_wire(wire_request), wire_response)
    assert len(simp.traces) == 2 and judge_step(simp).kind == "completed"
    root = parse_response(Command("x"), recorded("root_goals")[0][1])
    assert [s.proof_state for s in root.sorries] == [0, 1]
    assert root.sorries[1].pos == root.sorries[1].end_pos  # zero-width root goal


def test_statement_text_helpers() -> None:
    assert statement_head("theorem t (x : Nat := 3) : x = x := by sorry") == \
        "theorem t (x : Nat := 3) : x = x"
    assert sorry_command("example : False") == "example : False := by sorry"
    assert split_declaration("theorem t : /- := -/ True -- :=\n := trivial")[1] == " trivial"
    with pytest.raises(ValueError):
        statement_head("  := by simp")


# --------------------------------------------------------------------------- the Environment
def test_env_proves_proof_branching() -> None:
    with LeanRepl(config("proof_branching")) as repl:
        env = LeanReplEnv("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : "
                          "p ∧ r := by sorry", repl)
        root = env.initial_state()
        assert root.goals == ("p q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ p ∧ r",)
        two = env.apply(root, "apply And.intro", 5)
        assert isinstance(two, Progress) and len(two.state.goals) == 2
        assert two.state.goals[0].startswith("case left")
        one = env.apply(two.state, "exact h1.left", 5)
        q = env.apply(one.state, "apply h2", 5)
        done = env.apply(q.state, "exact h1.right", 5)
        assert isinstance(done, Proved)
        assert done.evidence["tactics"] == ["apply And.intro", "exact h1.left", "apply h2",
                                            "exact h1.right"]
        assert done.evidence["proof_status"] == "Completed" and env.replayed_steps == 0


@pytest.mark.parametrize(("name", "statement", "tactic", "reason"), [
    ("invalid_tactic", "theorem my_theorem (x : Nat) : x = x", "exact my_fake_premise",
     "unknown identifier"),
    ("Mathlib/test/20240209", "example : False", "simpa using show False by done",
     "unsolved goals"),
    ("tactic_mode_sorry", "def f : Nat", "sorry", "introduced `sorry`"),
    ("unknown_tactic", "def f : Nat", "exat 42", "unknown tactic"),
])
def test_env_failures_are_failed(name: str, statement: str, tactic: str, reason: str) -> None:
    with LeanRepl(config(name)) as repl:
        env = LeanReplEnv(statement, repl)
        outcome = env.apply(env.initial_state(), tactic, 5)
        assert isinstance(outcome, Failed) and reason in outcome.reason


def test_header_runs_once_per_process_and_is_reused() -> None:
    """Mathlib/test/exact: `import Mathlib` once (env 0), two theorems on env 0."""
    with LeanRepl(config("Mathlib/test/exact")) as repl:
        first = LeanReplEnv("theorem test : 0 < 1", repl, header="import Mathlib")
        proved = first.apply(first.initial_state(), "exact?", 5)
        assert isinstance(proved, Proved)
        second = LeanReplEnv("theorem test : 3 = 7", repl, header="import Mathlib")
        failed = second.apply(second.initial_state(), "exact?", 5)
        assert isinstance(failed, Failed) and "could not close the goal" in failed.reason
        assert repl.uses == 5 and repl.cache[("header", "import Mathlib")] == 0


def test_header_with_induction_goals() -> None:
    with LeanRepl(config("Mathlib/test/H20231115")) as repl:
        env = LeanReplEnv("example {x : Nat} : x + 1 > x", repl,
                          header="import Mathlib.Tactic.Cases")
        outcome = env.apply(env.initial_state(), "induction' x with x hx", 5)
        assert isinstance(outcome, Progress)
        assert outcome.state.goals == ("case zero\n⊢ 0 + 1 > 0",
                                       "case succ\nx : Nat\nhx : x + 1 > x\n⊢ x + 1 + 1 > x + 1")
        assert outcome.state.text == "\n\n".join(outcome.state.goals)


def test_two_theorems_share_one_process() -> None:
    with LeanRepl(config("proof_transitivity")) as repl:
        a = LeanReplEnv("example (x y z : Nat) (h1 : x = y) (h2 : y = z) : x = z", repl)
        assert isinstance(a.apply(a.initial_state(), "exact Eq.trans h1 h2", 5), Proved)
        b = LeanReplEnv("example (f : Nat → Nat) (n : Nat) (h : n = 3) : f n = f 3", repl)
        assert isinstance(b.apply(b.initial_state(), "exact congrArg f h", 5), Proved)
        assert repl.generation == 1


def test_best_first_search_over_the_repl_env() -> None:
    proof = ["intro h", "have hp : p := h.left", "have hq : q := h.right", "apply And.intro",
             "exact hq", "exact hp"]
    tactics = iter(proof)

    class Replay:
        def propose(self, states: list[State], k: int) -> list[list[Candidate]]:
            return [[Candidate(next(tactics))] for _ in states]

    with LeanRepl(config("proof_branching2")) as repl:
        env = LeanReplEnv("example (p q : Prop) : p ∧ q → q ∧ p", repl)
        result = best_first_search(env, Replay(), SearchConfig(
            batch_size=1, num_candidates=1, concurrency=1, tactic_timeout_s=5))
    assert result.status == "proved" and result.proof == proof


# --------------------------------------------------------------------------- process management
def test_timeout_kills_the_group_restarts_and_replays(tmp_path: Path) -> None:
    pid_file, log = tmp_path / "pids", tmp_path / "log"
    cfg = config("proof_branching", "--hang-at", "3", "--once-file", str(tmp_path / "once"),
                 "--spawn-child", "--pid-file", str(pid_file), "--log", str(log))
    with LeanRepl(cfg) as repl:
        env = LeanReplEnv("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : "
                          "p ∧ r", repl)
        two = env.apply(env.initial_state(), "apply And.intro", 5)
        one = env.apply(two.state, "exact h1.left", 5)
        started = time.monotonic()
        outcome = env.apply(one.state, "apply h2", 1.0)
        assert outcome == Timeout(1.0) and time.monotonic() - started < 5
        first, second = pids(pid_file, 2)
        assert gone(first["pid"]) and gone(first["child"])  # the whole group
        assert repl.generation == 2 and repl.pid == second["pid"]
        q = env.apply(one.state, "apply h2", 5)  # rebuilt in the new process
        assert isinstance(q, Progress) and env.replayed_steps == 2
        assert isinstance(env.apply(q.state, "exact h1.right", 5), Proved)
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    replay = [r for r, _ in recorded("proof_branching")]
    assert sent == replay[:4] + replay


def test_process_death_is_crashed_then_replayed(tmp_path: Path) -> None:
    cfg = config("proof_branching", "--die-at", "1", "--once-file", str(tmp_path / "once"))
    with LeanRepl(cfg) as repl:
        env = LeanReplEnv("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : "
                          "p ∧ r", repl)
        root = env.initial_state()
        crashed = env.apply(root, "apply And.intro", 5)
        assert isinstance(crashed, Crashed) and "exit code 3" in crashed.message
        again = env.apply(root, "apply And.intro", 5)
        assert isinstance(again, Progress) and repl.generation == 2


def test_run_timeout_and_crash_raise(tmp_path: Path) -> None:
    with LeanRepl(config("proof_step", "--hang-at", "0", "--spawn-child",
                         "--pid-file", str(tmp_path / "p"))) as repl:
        with pytest.raises(ReplTimeout):
            repl.run(Command("def f : Nat := by sorry"), 0.5)
        (first, _second) = pids(tmp_path / "p", 2)
        assert gone(first["pid"]) and gone(first["child"])
    with LeanRepl(config("proof_step", "--die-at", "0")) as repl, pytest.raises(ReplCrashed):
        repl.run(Command("def f : Nat := by sorry"), 5)
    with LeanRepl(config("proof_step")) as repl, pytest.raises(ReplCrashed, match="differs"):
        repl.run(Command("def g : Nat := by sorry"), 5)  # not the recorded request


def test_close_kills_spawned_children(tmp_path: Path) -> None:
    repl = LeanRepl(config("proof_step", "--spawn-child", "--pid-file", str(tmp_path / "p")))
    repl.run(Command("def f : Nat := by sorry"), 5)
    repl.close()
    (entry,) = pids(tmp_path / "p")
    assert gone(entry["pid"]) and gone(entry["child"]) and not repl.alive


def test_rlimit_as_is_applied(tmp_path: Path) -> None:
    with LeanRepl(config("proof_step", memory_limit_mb=768)) as repl:
        repl.run(Command("def f : Nat := by sorry"), 10)  # the wrapper has exec'd the REPL
        limits = Path(f"/proc/{repl.pid}/limits").read_text()
    line = next(row for row in limits.splitlines() if row.startswith("Max address space"))
    assert line.split()[3:5] == [str(768 * 1024 * 1024)] * 2
    if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
        with LeanRepl(config("proof_step", memory_limit_mb=None)) as repl:
            repl.start()
            assert "unlimited" in next(
                row for row in Path(f"/proc/{repl.pid}/limits").read_text().splitlines()
                if row.startswith("Max address space"))


def test_max_uses_recycles_the_process_and_replays(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    with LeanRepl(config("proof_branching", "--pid-file", str(pid_file), max_uses=3)) as repl:
        env = LeanReplEnv("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : "
                          "p ∧ r", repl)
        two = env.apply(env.initial_state(), "apply And.intro", 5)
        one = env.apply(two.state, "exact h1.left", 5)
        assert repl.uses == 3 and repl.exhausted
        q = env.apply(one.state, "apply h2", 5)  # recycled first, then replayed
        assert isinstance(q, Progress) and repl.generation == 2
        assert isinstance(env.apply(q.state, "exact h1.right", 5), Proved)
        assert repl.generation == 3 and env.replayed_steps == 2 + 3
    entries = pids(pid_file, 3)
    assert len({e["pid"] for e in entries}) == 3
    assert all(gone(e["pid"]) for e in entries)


def test_pool_prefers_the_process_that_holds_the_state() -> None:
    pool = LeanReplPool(config("proof_step"), size=2)
    with pool:
        a, b = pool.repls
        b.cache[("header", "H")] = 0
        with pool.lease(lambda r: int(("header", "H") in r.cache)) as leased:
            assert leased is b
            with pool.lease() as other:
                assert other is a
        assert pool.size == 2


def test_unavailable_lean_is_reported() -> None:
    cfg = ReplConfig(command=["/nonexistent/lake", "env", "repl"], cwd=None)
    with pytest.raises(LeanUnavailable):
        LeanRepl(cfg).run(Command("example : True := trivial"), 5)
    env = LeanReplEnv("example : True", LeanRepl(cfg))
    assert isinstance(env.apply(State("⊢ True", ("⊢ True",), handle=LeanProofPath(())),
                                "trivial", 5), Crashed)


def test_config_defaults_and_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    default = ReplConfig()
    assert default.command == ("lake", "env", ".lake/packages/REPL/.lake/build/bin/repl")
    assert default.cwd is not None and default.cwd.name == "lean_project"
    monkeypatch.delenv("PROOFGRAPH_LEAN_REPL_CMD", raising=False)
    monkeypatch.setenv("PROOFGRAPH_LEAN_PROJECT", "/tmp/p")
    monkeypatch.setenv("PROOFGRAPH_LEAN_REPL", "/tmp/repl")
    cfg = ReplConfig.from_env(max_uses=7)
    assert cfg.cwd == Path("/tmp/p") and cfg.command[-1] == "/tmp/repl" and cfg.max_uses == 7


# --------------------------------------------------------------------------- lean-dojo mapping
class _TacticState:
    def __init__(self, pp: str, id: int) -> None:  # noqa: A002 - lean_dojo's field name
        self.pp, self.id = pp, id


class _ProofFinished:
    def __init__(self, tactic_state_id: int) -> None:
        self.tactic_state_id = tactic_state_id


class _ProofGivenUp:
    pass


class _LeanError:
    def __init__(self, error: str) -> None:
        self.error = error


class _DojoTacticTimeoutError(Exception):
    pass


class _DojoCrashError(Exception):
    pass


class _DojoInitError(Exception):
    pass


def fake_lean_dojo(script: dict[tuple[str, str], object], log: list) -> types.ModuleType:
    """A module with lean_dojo's names; ``script[(pp, tactic)]`` is a result or an exception
    (an exception class instance is raised ONCE, then the entry falls back to its ``.then``)."""

    class Dojo:
        opened = 0

        def __init__(self, theorem: object, timeout: int = 600,
                     additional_imports: list[str] | None = None) -> None:
            self.args = (theorem, timeout, additional_imports)

        def __enter__(self) -> tuple[Dojo, _TacticState]:
            Dojo.opened += 1
            log.append(("enter", Dojo.opened))
            return self, _TacticState("a b : Nat\n⊢ a + b = b + a", 0)

        def __exit__(self, *exc: object) -> None:
            log.append(("exit",))

        def run_tac(self, state: _TacticState, tactic: str) -> object:
            log.append(("run_tac", state.pp, tactic))
            result = script[(state.pp, tactic)]
            if isinstance(result, Exception):
                script[(state.pp, tactic)] = getattr(result, "then", result)
                raise result
            return result

    module = types.ModuleType("lean_dojo")
    module.__dict__.update(
        Dojo=Dojo, TacticState=_TacticState, ProofFinished=_ProofFinished,
        ProofGivenUp=_ProofGivenUp, LeanError=_LeanError,
        DojoTacticTimeoutError=_DojoTacticTimeoutError, DojoCrashError=_DojoCrashError,
        DojoInitError=_DojoInitError,
        __version__="4.20.0")
    return module


def test_dojo_outcome_mapping_timeout_reopen_and_replay() -> None:
    root = "a b : Nat\n⊢ a + b = b + a"
    mid = "case h\na b : Nat\n⊢ b + a = b + a"
    timeout = _DojoTacticTimeoutError()
    timeout.then = _TacticState("x", 9)  # type: ignore[attr-defined]
    crash = _DojoCrashError("Unexpected EOF")
    crash.then = _ProofFinished(3)  # type: ignore[attr-defined]
    log: list = []
    m = fake_lean_dojo({(root, "rw [Nat.add_comm]"): _ProofFinished(1),
                        (root, "symm"): _TacticState(mid, 1),
                        (root, "sorry"): _ProofGivenUp(),
                        (root, "bad"): _LeanError("unknown tactic"),
                        (mid, "slow"): timeout, (mid, "rfl"): crash}, log)
    with dojo_mod.LeanDojoEnv("thm", timeout_s=7, additional_imports=["Init"],
                              lean_dojo=m) as env:
        start = env.initial_state()
        assert start.text == root and env.generation == 1
        assert isinstance(env.apply(start, "rw [Nat.add_comm]", 1), Proved)
        assert env.apply(start, "sorry", 1) == Failed("proof given up: it contains `sorry`")
        assert env.apply(start, "bad", 1) == Failed("unknown tactic")
        step = env.apply(start, "symm", 1)
        assert isinstance(step, Progress) and step.state.text == mid
        assert env.apply(step.state, "slow", 1) == Timeout(7.0)
        assert env.generation == 2 and ("exit",) in log  # reopened at once (LeanDojo#218)
        assert isinstance(env.apply(step.state, "slow", 1), Progress)  # replayed `symm` first
        assert env.replayed_steps == 1
        crashed = env.apply(step.state, "rfl", 1)
        assert isinstance(crashed, Crashed) and "Unexpected EOF" in crashed.message
        finished = env.apply(step.state, "rfl", 1)  # reopened lazily, replayed, proved
        assert isinstance(finished, Proved) and finished.evidence["tactics"] == ["symm", "rfl"]
        assert env.generation == 3
    assert log[-1] == ("exit",)


def test_dojo_offline_environment_and_lazy_import(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "lean_dojo" not in sys.modules  # importing prover.lean did not import it
    monkeypatch.setenv("GITHUB_ACCESS_TOKEN", "x")
    with pytest.raises(dojo_mod.DojoUnavailable, match="GITHUB_ACCESS_TOKEN"):
        dojo_mod.load_lean_dojo()
    monkeypatch.delenv("GITHUB_ACCESS_TOKEN")
    monkeypatch.delenv("DISABLE_REMOTE_CACHE", raising=False)
    monkeypatch.delenv("CONTAINER", raising=False)
    monkeypatch.setitem(sys.modules, "lean_dojo", None)  # "not installed", whatever is here
    with pytest.raises(dojo_mod.DojoUnavailable, match="not installed"):
        dojo_mod.load_lean_dojo()
    assert os.environ["DISABLE_REMOTE_CACHE"] == "1"
    assert os.environ["GITHUB_ACCESS_TOKEN"] == ""  # pinned: load_dotenv cannot inject one
    assert "CONTAINER" not in os.environ  # lean-dojo 4.20.0 reads no such variable


# --------------------------------------------------------------------------- framing (finding 11)
STEP = "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r"


def test_a_forged_reply_before_the_real_one_is_never_taken(tmp_path: Path) -> None:
    """A tactic that prints a "Completed" reply (then the REPL prints the real one): two
    chunks before the sentinel's answer; the request fails, the process is killed."""
    with LeanRepl(config("proof_branching", "--forge-at", "1",
                         "--once-file", str(tmp_path / "once"))) as repl:
        env = LeanReplEnv(STEP, repl)
        root = env.initial_state()
        outcome = env.apply(root, "apply And.intro", 5)
        assert isinstance(outcome, Crashed) and "framing broken" in outcome.message
        assert repl.framing_errors == 1 and not repl.alive
        again = env.apply(root, "apply And.intro", 5)  # a clean process: the real answer
        assert isinstance(again, Progress) and len(again.state.goals) == 2
    with LeanRepl(config("proof_step", "--forge-at", "1")) as repl:
        repl.run(Command("def f : Nat := by sorry"), 5)
        with pytest.raises(ReplFramingError, match="second chunk"):
            repl.run(ProofStep("apply Int.natAbs", 0), 5)


def test_output_left_behind_by_a_request_breaks_the_next_one() -> None:
    with LeanRepl(config("proof_step", "--forge-late", "0")) as repl:
        assert repl.run(Command("def f : Nat := by sorry"), 5).env == 0
        time_limit = time.monotonic() + 5
        while not repl._buf and time.monotonic() < time_limit:  # the writer left behind
            time.sleep(0.05)
            repl._pending_output(repl._proc)
        with pytest.raises(ReplFramingError, match="between requests"):
            repl.run(ProofStep("apply Int.natAbs", 0), 5)


def test_a_sentinel_answer_without_the_nonce_is_rejected() -> None:
    with LeanRepl(config("proof_step", "--forge-sentinel", "0")) as repl, \
            pytest.raises(ReplCrashed):
        repl.run(Command("def f : Nat := by sorry"), 5)


def test_ids_that_break_the_repl_counters_are_rejected(tmp_path: Path) -> None:
    script = tmp_path / "t.json"
    script.write_text(json.dumps([
        [{"cmd": "def f : Nat := 1"}, {"env": 0}],
        [{"cmd": "def g : Nat := 2"}, {"env": 0}],  # a replayed old reply: env 0 again
    ]))
    with LeanRepl(config(script)) as repl:
        assert repl.run(Command("def f : Nat := 1"), 5).env == 0
        with pytest.raises(ReplFramingError, match="next env of this process is 1"):
            repl.run(Command("def g : Nat := 2"), 5)


def test_framing_can_be_switched_off_for_a_fork() -> None:
    with LeanRepl(config("proof_step", framing=False)) as repl:
        assert repl.run(Command("def f : Nat := by sorry"), 5).env == 0


def test_file_command_has_no_env_at_v4_20() -> None:
    """repl @16054ca: ``structure File extends CommandOptions where path`` (no env), and
    ``processFile`` runs with ``env := none``."""
    assert FileCommand("a.lean", all_tactics=True).to_wire() == {"path": "a.lean",
                                                                 "allTactics": True}
    with pytest.raises(TypeError):
        FileCommand("a.lean", env=0)  # type: ignore[call-arg]
    (request, _), = recorded("file")[:1]
    assert request_from_wire(request) == FileCommand("test/file.lean", all_tactics=True)


def test_a_failed_command_quotes_every_error_for_the_repair_prompt() -> None:
    def error(line: int, text: str) -> dict[str, object]:
        return {"severity": "error", "data": text, "pos": {"line": line, "column": 2},
                "endPos": None}

    wire = {"env": 1, "messages": [error(3, "unsolved goals\nx : Nat\n⊢ x = x"),
                                   {"severity": "warning", "data": "unused variable `h`",
                                    "pos": {"line": 2, "column": 0}, "endPos": None},
                                   error(5, "unknown identifier 'foo'")]}
    judged = judge_command(parse_response(Command("theorem t : True := by\n  simp"), wire))
    assert not judged.ok
    assert judged.reason.splitlines()[0] == "unsolved goals"
    assert "unknown identifier 'foo'" in judged.reason and "unused variable" not in judged.reason
    many = {"env": 1, "messages": [error(i, f"error number {i}") for i in range(12)]}
    capped = judge_command(parse_response(Command("example : True := by\n  simp"), many)).reason
    assert "error number 7" in capped and "error number 8" not in capped
    assert capped.endswith("(and 4 more errors)")
