"""The Lean REPL as a search Environment: a theorem's proof states, one tactic step at a time.

``State.handle`` is the tactic path from the root, so any state can be rebuilt in a fresh REPL
process after a restart (the pool's cache maps paths to live proof-state ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from prover.lean.declaration import sorry_command
from prover.lean.header import detach_docstrings
from prover.lean.judge import judge_step, root_sorry
from prover.lean.pool import HeaderPool, LeanReplPool
from prover.lean.protocol import Command, ProofStep
from prover.lean.repl import LeanRepl, LeanSetupError, ReplError, ReplTimeout
from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout


@dataclass(frozen=True)
class LeanProofPath:
    """``State.handle`` of :class:`LeanReplEnv`: the tactics from the root to this state."""

    tactics: tuple[str, ...] = ()


class _ReplayDiverged(ReplError):
    pass


class LeanReplEnv:
    """The search Environment for ``statement`` (``theorem X : T``, any ``:= ...`` part is
    replaced by ``:= by sorry``) after ``header``; ``apply`` is one REPL tactic step judged
    by :func:`~prover.lean.judge.judge_step`.

    Outcomes: LeanError, error message, new sorry, closed goals without ``Completed`` ->
    Failed; ``Completed`` -> Proved (evidence: the tactic path, to be audited); wall clock ->
    Timeout (the process group was killed and restarted, states are replayed on demand);
    process death or a replay that no longer reproduces -> Crashed.
    """

    def __init__(self, statement: str, pool: HeaderPool | LeanReplPool | LeanRepl, *,
                 header: str = "", replay_timeout_s: float = 60.0) -> None:
        header, statement, self.docstring = detach_docstrings(header, statement)
        self.statement = statement
        self.header = header
        self.command = sorry_command(statement)
        self.pool = pool
        self.max_concurrency = (pool.max_concurrency if isinstance(pool, HeaderPool)
                                else pool.size if isinstance(pool, LeanReplPool) else 1)
        self.replay_timeout_s = replay_timeout_s
        self.replayed_steps = 0
        self._key = (header, self.command)

    def _lease(self, path: tuple[str, ...]) -> AbstractContextManager[LeanRepl]:
        """A process for this theorem: the header's own (HeaderPool), the best-scored one
        (LeanReplPool), or the single REPL given (recycled first when worn out)."""
        if isinstance(self.pool, HeaderPool):
            return self.pool.lease(self.header)
        if isinstance(self.pool, LeanReplPool):
            return self.pool.lease(self._score(path))
        return _single(self.pool)

    def _score(self, path: tuple[str, ...]) -> Callable[[LeanRepl], int]:
        def score(repl: LeanRepl) -> int:
            if ("state", self._key, path) in repl.cache:
                return 3
            if ("state", self._key, ()) in repl.cache:
                return 2
            return 1 if ("header", self.header) in repl.cache else 0
        return score

    def _root(self, repl: LeanRepl) -> int:
        key = ("state", self._key, ())
        if key not in repl.cache:
            env = repl.header_env(self.header)  # may restart the process: read the key after
            if key in repl.cache:
                return repl.cache[key]
            response = repl.run(Command(self.command, env), repl.config.command_timeout_s)
            try:
                sorry = root_sorry(response)
            except ValueError as exc:
                raise LeanSetupError(f"{self.command!r}: {exc}") from None
            repl.cache[key] = sorry.proof_state
            repl.cache[("goal", self._key)] = sorry.goal
        return repl.cache[key]

    def _materialize(self, repl: LeanRepl, path: tuple[str, ...], budget_s: float) -> int:
        """The proof-state id of ``path`` in ``repl``'s process, replaying the missing suffix
        from the longest cached prefix (the root after a restart)."""
        known = len(path)
        while known and ("state", self._key, path[:known]) not in repl.cache:
            known -= 1
        proof_state = (repl.cache[("state", self._key, path[:known])] if known
                       else self._root(repl))
        for i in range(known, len(path)):
            response = repl.run(ProofStep(path[i], proof_state),
                                max(budget_s, self.replay_timeout_s))
            self.replayed_steps += 1
            verdict = judge_step(response)
            if verdict.kind != "progress":
                raise _ReplayDiverged(f"replaying {path[i]!r} at depth {i} no longer gives a "
                                      f"proof state ({verdict.kind}: {verdict.reason})")
            proof_state = response.proof_state  # type: ignore[union-attr]
            repl.cache[("state", self._key, path[:i + 1])] = proof_state
        return proof_state

    def initial_state(self) -> State:
        """The goal of the statement's ``sorry``. Raises LeanSetupError or ReplError."""
        with self._lease(()) as repl:
            repl.ensure_alive()
            self._root(repl)
            goal = repl.cache[("goal", self._key)]
        return State(goal, (goal,), handle=LeanProofPath(()))

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        """Run ``tactic`` on ``state`` (rebuilt by replay where its process is gone)."""
        if not isinstance(state.handle, LeanProofPath):
            raise ValueError("state was not produced by this LeanReplEnv")
        path, new_path = state.handle.tactics, (*state.handle.tactics, tactic)
        try:
            with self._lease(path) as repl:
                repl.ensure_alive()
                proof_state = self._materialize(repl, path, budget_s)
                response = repl.run(ProofStep(tactic, proof_state), budget_s)
                verdict = judge_step(response)
                if verdict.kind == "progress":
                    repl.cache[("state", self._key, new_path)] = response.proof_state  # type: ignore[union-attr]
        except ReplTimeout:
            return Timeout(budget_s)
        except (ReplError, LeanSetupError) as exc:
            return Crashed(str(exc))
        if verdict.kind == "rejected":
            return Failed(verdict.reason)
        if verdict.kind == "completed":
            return Proved({"backend": "lean-repl", "proof_status": verdict.reason,
                           "tactics": list(new_path), "statement": self.statement,
                           "header": self.header})
        return Progress(State("\n\n".join(verdict.goals), verdict.goals,
                              handle=LeanProofPath(new_path)))


@contextmanager
def _single(repl: LeanRepl) -> Iterator[LeanRepl]:
    """A lone REPL as a lease: restarted first when it has served ``max_uses`` requests or is
    above its RSS watermark."""
    if repl.exhausted or (repl.alive and repl.over_watermark):
        repl.restart()
    yield repl
