"""Z3 as a proving :class:`~search.protocols.Environment`, and the replay check of a proof.

:class:`Z3Env` holds ONE theorem in its own ``z3.Context``. A state is a list of goals (first =
current); ``apply`` parses the tactic (:mod:`prover.z3.goals`) and runs it on the first goal
under ``budget_s``. Structural tactics run here; the solver-backed ones (``z3`` and the named Z3
tactics, :mod:`prover.z3.tactics`) run in a worker process of :mod:`prover.z3.isolate` that is
killed at 1.5 x budget + 0.5 s: Z3 ignores interrupts inside some tactics (``ctx-solver-simplify``
on a non-terminating ``define-fun-rec`` ran for minutes and grew to 3.6 GB), so only a process
bounds them. The goal travels as SMT-LIB text and the resulting goals come back the same way.
Outcomes are ``Progress``/``Proved``/``Failed``/``Timeout``; a call that overruns the budget is a
``Timeout`` whatever it returned; Z3's ``unknown`` is never a proof.

Before the search, :meth:`Z3Env.initial_state` runs a preflight (in the worker): hypotheses that
contradict each other make :attr:`Z3Env.preflight_verdict` ``unknown: vacuous-premises`` with the
unsat core; a counter-model of hyps ∧ ¬goal that survives substitution makes it ``refuted`` with
the model. Either way every tactic then fails at once (nothing to search), and the caller reports
the preflight verdict.

With a ``deadline`` (a :func:`time.monotonic` instant: the row's wall budget), the preflight and
every worker call draw from it: a call's solver budget is cut to the time left and its worker is
killed at most :data:`KILL_MARGIN_S` past the deadline, so the whole row ends within the budget
plus that margin (plus the time to reap a killed worker); once the time is gone a tactic is a
``Timeout`` without a call.

``max_concurrency`` is 1, and ``apply`` holds a per-environment lock (a Z3 context is not
thread-safe). Parallelism belongs one level up: one environment per theorem.

:func:`check_proof` replays a tactic list from the row in a FRESH environment (fresh context)
and is the final word on a proof the search reports.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from time import monotonic, perf_counter
from typing import Any

from prover.records.verdicts import UnknownReason, Verdict, unknown
from prover.z3 import isolate
from prover.z3.gateway import (
    DEFAULT_MEMORY_MB,
    RLIMIT_PER_SECOND,
    Limits,
    classify_unknown,
    z3_version,
)
from prover.z3.goals import (
    STRUCTURAL,
    Goal,
    TacticCall,
    TacticError,
    Z3Goals,
    is_trivial,
    make_goal,
    parse_tactic,
    smt,
)
from prover.z3.modular import mod_eval, residues
from prover.z3.structural import apply_structural
from prover.z3.tactics import NAMED_TACTICS, goal_from_payload, goal_payload
from prover.z3.theorem import parse_theorem
from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout

__all__ = ["NAMED_TACTICS", "RLIMIT_PER_SECOND", "Z3Env", "check_proof", "plain_z3"]
Z3_VERSION = z3_version()
PREFLIGHT_S = 2.0
"""Seconds for the hypothesis preflight (half for satisfiability, half for a counter-model)."""
PREFLIGHT_SHARE = 0.25
"""With a deadline, the preflight takes at most this share of the time left."""
KILL_MARGIN_S = 0.5
"""With a deadline, how long past it a worker call may run before the worker is killed."""
MIN_CALL_S = 0.02
"""With less time than this left, a worker call is not started (a ``Timeout``)."""


def call_window(budget_s: float, deadline: float | None) -> tuple[float, float] | None:
    """(solver budget, kill time) of one worker call: ``budget_s`` and 1.5 x budget + 0.5 s
    without a deadline; with one, the budget is cut to the time left and the kill comes at most
    :data:`KILL_MARGIN_S` after the deadline; None when less than :data:`MIN_CALL_S` is left."""
    if deadline is None:
        return budget_s, 1.5 * budget_s + 0.5
    left = deadline - monotonic()
    if left < MIN_CALL_S:
        return None
    budget = min(budget_s, left)
    return budget, min(1.5 * budget + 0.5, left + KILL_MARGIN_S)


class Z3Env:
    """The Environment of one theorem row (see the module docstring for the rules)."""

    max_concurrency = 1

    def __init__(self, row: Mapping[str, Any], rlimit_per_s: int = RLIMIT_PER_SECOND,
                 preflight_s: float | None = PREFLIGHT_S,
                 memory_mb: int = DEFAULT_MEMORY_MB, deadline: float | None = None) -> None:
        """Parse ``row`` (raises :class:`~prover.z3.theorem.TheoremError` if it is bad).
        ``preflight_s`` None skips the hypothesis preflight (replays); ``deadline`` (a
        :func:`time.monotonic` instant) bounds the preflight and every call (module docstring)."""
        self.theorem = parse_theorem(row)
        self.row = dict(row)
        self.rlimit_per_s = rlimit_per_s
        self.preflight_s = preflight_s
        self.memory_mb = memory_mb
        self.deadline = deadline
        self.preflight_verdict: Verdict | None = None
        self._preflight_done = False
        self._lock = threading.Lock()

    def _kill_at(self) -> float | None:
        """The instant no worker call of this row may outlive (start-up included)."""
        return None if self.deadline is None else self.deadline + KILL_MARGIN_S

    def initial_state(self) -> State:
        """The single goal ``hypotheses ⊢ goal`` (after the preflight, once)."""
        if self.preflight_s is not None and not self._preflight_done:
            self._preflight_done = True
            self.preflight_verdict = self._preflight(self.preflight_s)
        goal = make_goal(self.theorem.hypotheses, self.theorem.conclusion)
        return self._state(Z3Goals(self.theorem, (goal,)))

    def _preflight(self, budget_s: float) -> Verdict | None:
        if self.deadline is not None:
            budget_s = min(budget_s, PREFLIGHT_SHARE * (self.deadline - monotonic()))
        window = call_window(budget_s, self.deadline)
        if window is None or window[0] < MIN_CALL_S:
            return None  # no time for it: the search (if any) decides alone
        budget_s, kill_s = window
        payload = {"op": "preflight", "row": self.row, "budget_s": budget_s,
                   "rlimit_per_s": self.rlimit_per_s}
        answer, _ = isolate.call("theorem", payload, kill_s, self.memory_mb, self._kill_at())
        if answer is None or answer.get("kind") not in ("vacuous", "refuted"):
            return None
        if answer["kind"] == "vacuous":
            detail = ("the recursive definitions contradict themselves, so any goal follows"
                      if answer.get("definitions") else
                      "the hypotheses contradict each other, so any goal follows")
            return Verdict("unknown", reason=UnknownReason.VACUOUS,
                           evidence={"unsat_core": answer["core"]}, detail=detail)
        model = answer["counter_model"]
        shown = ", ".join(f"{k} = {v}" for k, v in model.items()) or "(no constants)"
        return Verdict("refuted", evidence={"counter_model": model, "recheck": answer["recheck"]},
                       detail=f"counter-model: {shown} (hypotheses hold, the goal fails)")

    @staticmethod
    def _state(handle: Z3Goals) -> State:
        texts = tuple(g.text for g in handle.goals)
        return State("\n\n".join(texts), texts, handle=handle)

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        """Run ``tactic`` on the first goal of ``state`` within ``budget_s`` seconds."""
        handle = state.handle
        if not isinstance(handle, Z3Goals) or handle.theorem is not self.theorem:
            raise ValueError("apply: the state was not produced by this environment")
        if self.preflight_verdict is not None:
            return Failed(f"preflight: {self.preflight_verdict.label()}: "
                          f"{self.preflight_verdict.detail}")
        try:
            call = parse_tactic(tactic, NAMED_TACTICS)
        except TacticError as exc:
            return Failed(str(exc))
        with self._lock:
            start = perf_counter()
            if call.kind in ("z3", "named"):
                outcome = self._remote(handle.goals[0], tactic, budget_s)
                if not isinstance(outcome, tuple):
                    return outcome
                new, record = outcome
            else:
                try:
                    new, record = self._structural(handle.goals[0], call)
                except TacticError as exc:
                    return Failed(str(exc))
                except (ValueError, TypeError, RecursionError) as exc:  # z3py rejecting terms
                    return Failed(f"{type(exc).__name__}: {exc}")
            if perf_counter() - start > budget_s:
                return Timeout(budget_s)
            return self._after(handle, tactic, new, record)

    def _structural(self, goal: Goal,
                    call: TacticCall) -> tuple[list[Goal], dict[str, Any] | None]:
        """A solver-free tactic here: the new goals and, when it closes the goal itself, its
        closure record."""
        if call.kind == "mod-eval":
            return mod_eval(goal)
        if call.kind == "residues":
            return residues(self.theorem, goal, call.name, int(call.terms[0])), None
        if call.kind not in STRUCTURAL:
            raise TacticError(f"unknown tactic {call.kind!r}")
        return apply_structural(self.theorem, goal, call), None

    def _remote(self, goal: Goal, tactic: str,
                budget_s: float) -> Failed | Timeout | tuple[list[Goal], dict[str, Any] | None]:
        """A solver tactic in the worker within :func:`call_window` (the window is taken
        right before the call, after the payload is built)."""
        payload = {"op": "step", "row": self.row, "goal": goal_payload(goal), "tactic": tactic,
                   "rlimit_per_s": self.rlimit_per_s}
        window = call_window(budget_s, self.deadline)
        if window is None:
            return Timeout(budget_s)
        payload["budget_s"], kill_s = window
        answer, _ = isolate.call("theorem", payload, kill_s, self.memory_mb, self._kill_at())
        if answer is None or answer.get("kind") == "timeout":
            return Timeout(budget_s)
        if "error" in answer:
            return Failed(f"worker error: {answer['error']}")
        if answer["kind"] == "failed":
            return Failed(answer["reason"])
        try:
            new = [goal_from_payload(self.theorem, g) for g in answer["goals"]]
        except ValueError as exc:
            return Failed(f"{tactic}: the resulting goal could not be read back: {exc}")
        return new, answer.get("record")

    def _after(self, handle: Z3Goals, tactic: str, new: list[Goal],
               record: dict[str, Any] | None) -> Outcome:
        closed = list(handle.closed)
        if record is not None:
            closed.append({"goal": handle.goals[0].text, "tactic": tactic, **record})
        kept = []
        for goal in new:
            if is_trivial(goal):
                closed.append({"goal": goal.text, "tactic": tactic, "method": "trivial"})
            else:
                kept.append(goal)
        goals = (*kept, *handle.goals[1:])
        if not goals:
            return Proved({"backend": "z3", "z3_version": Z3_VERSION,
                           "theorem": self.theorem.id, "closed": closed})
        return Progress(self._state(Z3Goals(self.theorem, goals, tuple(closed))))


# --------------------------------------------------------------------------- whole proofs
def check_proof(row: Mapping[str, Any], tactics: Sequence[str],
                budget_s: float = 10.0, deadline: float | None = None) -> Verdict:
    """Replay ``tactics`` on ``row`` in a fresh environment (fresh Z3 context): ``verified``
    iff the last tactic closes the last goal; ``refuted`` when a tactic fails, goals remain,
    or tactics follow the end of the proof; ``unknown`` on timeout (``deadline``, a
    :func:`time.monotonic` instant, bounds the whole replay) or a crash. A bad row raises
    :class:`~prover.z3.theorem.TheoremError`."""
    env = Z3Env(row, preflight_s=None, deadline=deadline)
    state = env.initial_state()
    tactics = list(tactics)
    for i, tactic in enumerate(tactics):
        try:
            outcome = env.apply(state, tactic, budget_s)
        except Exception as exc:  # broken backend, not a verdict on the proof
            outcome = Crashed(f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, Progress):
            state = outcome.state
            continue
        if isinstance(outcome, Proved):
            if i != len(tactics) - 1:
                return Verdict("refuted", evidence={"step": i, "extra": tactics[i + 1:]},
                               detail="all goals were closed before the last tactic")
            evidence = {"method": "replay", "tactics": tactics, **dict(outcome.evidence)}
            return Verdict("verified", evidence=evidence, detail="proof replayed in a fresh context")
        if isinstance(outcome, Failed):
            return Verdict("refuted", evidence={"step": i, "tactic": tactic,
                                                "reason": outcome.reason},
                           detail=f"tactic {i} failed on replay")
        if isinstance(outcome, Timeout):
            return unknown(UnknownReason.TIMEOUT, f"tactic {i} ({tactic}) timed out "
                                                  f"after {outcome.budget_s} s")
        return unknown(UnknownReason.BACKEND_ERROR, f"tactic {i} crashed: {outcome.message}")
    return Verdict("refuted", evidence={"open_goals": list(state.goals)},
                   detail="the tactics leave goals open")


def plain_z3(row: Mapping[str, Any], timeout_s: float) -> Verdict:
    """One-shot Z3 on hyps ∧ ¬goal (the baseline), in the worker: verified (unsat), refuted
    (counter-model) or unknown with a typed reason."""
    theorem = parse_theorem(row)
    goal = make_goal(theorem.hypotheses, theorem.conclusion)
    payload = {"op": "step", "row": dict(row), "goal": goal_payload(goal), "tactic": "z3",
               "budget_s": timeout_s, "abstract": False}
    limits = Limits.of(timeout_s)
    answer, elapsed = isolate.call("theorem", payload, limits.wall + 0.5, DEFAULT_MEMORY_MB)
    if answer is None or answer.get("kind") == "timeout":
        raw = "killed at the wall deadline" if answer is None else answer.get("reason", "")
        return unknown(classify_unknown(raw, elapsed, limits, interrupted=answer is None),
                       raw or "timeout")
    if "error" in answer:
        return unknown(UnknownReason.BACKEND_ERROR, str(answer["error"]))
    if answer["kind"] == "failed":
        if answer.get("counter_model") is not None:
            return Verdict("refuted", evidence={"counter_model": answer["counter_model"]},
                           detail=answer["reason"])
        return unknown(UnknownReason.UNDECIDABLE, answer["reason"])
    return Verdict("verified", evidence={"method": "z3 unsat", "goal": smt(theorem.conclusion)})
