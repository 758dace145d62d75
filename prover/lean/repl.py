"""A client and a process pool for the Lean REPL, and :class:`LeanReplEnv`, the search
:class:`~search.protocols.Environment` on top of them.

Process rules (LeanInteract / Kimina practice): each REPL runs in its own session
(``start_new_session=True``) under ``RLIMIT_AS``; a request that outlives its wall-clock budget
kills the whole process GROUP (``os.killpg``) and the process is restarted; a process is
recycled after ``max_uses`` requests. Everything a process knows (env ids, proof-state ids) is
cached on its :class:`LeanRepl` and dropped on restart: a proof state is identified by its
tactic path from the theorem's root, so any state can be rebuilt in a fresh process by running
the header once, the ``:= by sorry`` command and the path (replay).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import selectors
import signal
import subprocess
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import Any

from prover.lean.protocol import (
    Command,
    ProofStep,
    Request,
    Response,
    errors,
    judge_step,
    parse_response,
    root_sorry,
    sorry_command,
)
from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout

LEAN_PROJECT = Path(__file__).resolve().parents[2] / "lean_project"
REPL_BINARY = ".lake/packages/REPL/.lake/build/bin/repl"
DEFAULT_COMMAND = ("lake", "env", REPL_BINARY)
_TAIL = 8192


class ReplError(RuntimeError):
    """Broken infrastructure around the REPL (never a verdict about a proof)."""


class LeanUnavailable(ReplError):
    """The REPL command could not be started (no ``lake``, no project, no binary)."""


class ReplTimeout(ReplError):
    """A request exceeded its wall-clock budget; the process group was killed."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"Lean REPL request exceeded {timeout_s:g}s; process group killed")
        self.timeout_s = timeout_s


class ReplCrashed(ReplError):
    """The REPL process died or wrote something that is not a protocol response."""


class LeanSetupError(ValueError):
    """The header or the theorem statement does not elaborate (a user error, not a crash)."""


@dataclass(frozen=True)
class ReplConfig:
    """How to start one REPL process: ``command`` run in ``cwd`` with ``env`` added to the
    environment, ``memory_limit_mb`` as RLIMIT_AS (None = unlimited), recycled after
    ``max_uses`` requests (None = never); default budgets for imports and statements."""

    command: Sequence[str] = DEFAULT_COMMAND
    cwd: Path | None = LEAN_PROJECT
    env: Mapping[str, str] = field(default_factory=dict)
    memory_limit_mb: int | None = 16384
    max_uses: int | None = 2000
    header_timeout_s: float = 600.0
    command_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", tuple(self.command))
        if not self.command:
            raise ValueError("ReplConfig.command is empty")
        if self.max_uses is not None and self.max_uses < 1:
            raise ValueError("ReplConfig.max_uses must be >= 1 or None")

    @classmethod
    def from_env(cls, **overrides: Any) -> ReplConfig:
        """Defaults with ``PROOFGRAPH_LEAN_PROJECT`` (the Lake project dir) and
        ``PROOFGRAPH_LEAN_REPL`` (the repl binary) applied when set, then ``overrides``."""
        values: dict[str, Any] = {}
        if project := os.environ.get("PROOFGRAPH_LEAN_PROJECT"):
            values["cwd"] = Path(project)
        if binary := os.environ.get("PROOFGRAPH_LEAN_REPL"):
            values["command"] = ("lake", "env", binary)
        values.update(overrides)
        return cls(**values)


class LeanRepl:
    """One REPL process. :meth:`run` is serialised by a lock; ``cache`` holds what this
    process knows (header envs, proof states) and is emptied whenever a new process starts;
    ``generation`` counts processes started, ``uses`` requests sent to the current one."""

    def __init__(self, config: ReplConfig | None = None) -> None:
        self.config = config or ReplConfig()
        self.cache: dict[Hashable, Any] = {}
        self.generation = 0
        self.uses = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = b""
        self._stderr = b""
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- process lifecycle
    @property
    def pid(self) -> int | None:
        """The current process id (the group id too), or None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def exhausted(self) -> bool:
        """True once the current process has served ``max_uses`` requests."""
        return self.config.max_uses is not None and self.uses >= self.config.max_uses

    def start(self) -> None:
        """Start a fresh process (killing any current one). Raises LeanUnavailable."""
        with self._lock:
            self._kill()
            cfg = self.config
            limit = (cfg.memory_limit_mb or 0) * 1024 * 1024
            try:  # preexec_fn runs in the child between fork and exec
                self._proc = subprocess.Popen(
                    list(cfg.command), cwd=cfg.cwd, env={**os.environ, **cfg.env},
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    bufsize=0, start_new_session=True, close_fds=True,
                    preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
                    if limit else None)
            except OSError as exc:
                raise LeanUnavailable(f"cannot start {list(cfg.command)} in {cfg.cwd}: {exc}"
                                      ) from exc
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                assert stream is not None
                os.set_blocking(stream.fileno(), False)
            self.generation, self.uses, self._buf, self._stderr = self.generation + 1, 0, b"", b""

    restart = start

    def close(self) -> None:
        """End the process: EOF on stdin (the REPL's exit), a short grace, then SIGKILL to the
        group so nothing it spawned survives."""
        with self._lock:
            if (proc := self._proc) is not None and proc.stdin is not None:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    proc.stdin.close()
                    proc.wait(timeout=0.5)
            self._kill()

    def __enter__(self) -> LeanRepl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_alive(self) -> None:
        """Start a process unless one is running (a dead one's cache is dropped)."""
        with self._lock:
            if not self.alive:
                self.start()

    def _kill(self) -> None:
        self.cache.clear()  # what the process knew dies with it
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    # ----------------------------------------------------------------- requests
    def run(self, request: Request, timeout_s: float) -> Response:
        """Send one request and return its typed response (Lean errors are values).

        Raises ReplTimeout (group killed, a new process started), ReplCrashed (the process is
        gone or broke the protocol; restarted lazily on the next request) or LeanUnavailable.
        """
        with self._lock:
            self.ensure_alive()
            proc = self._proc
            assert proc is not None
            payload = (json.dumps(request.to_wire(), ensure_ascii=False) + "\n\n").encode()
            deadline = monotonic() + timeout_s
            self.uses += 1
            try:
                self._write(proc, payload, deadline)
                chunk = self._read_chunk(proc, deadline)
            except TimeoutError:
                with contextlib.suppress(LeanUnavailable):
                    self.start()  # kills the whole group first
                raise ReplTimeout(timeout_s) from None
            except (BrokenPipeError, EOFError) as exc:
                raise self._crashed(f"Lean REPL died ({type(exc).__name__})") from None
            try:
                return parse_response(request, json.loads(chunk))
            except ValueError as exc:
                raise self._crashed(f"Lean REPL broke the protocol: {exc}") from None

    def _crashed(self, what: str) -> ReplCrashed:
        proc, code = self._proc, None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=1)  # stdout closes a moment before the exit
        tail = self._stderr.decode(errors="replace").strip()[-2000:]
        self._kill()
        return ReplCrashed(f"{what}; exit code {code}" + (f"; stderr: {tail}" if tail else ""))

    def _write(self, proc: subprocess.Popen[bytes], data: bytes, deadline: float) -> None:
        assert proc.stdin is not None
        fd = proc.stdin.fileno()
        view = memoryview(data)
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_WRITE)
            while view:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    raise TimeoutError
                if sel.select(remaining):
                    try:
                        view = view[os.write(fd, view):]
                    except BlockingIOError:
                        continue

    def _read_chunk(self, proc: subprocess.Popen[bytes], deadline: float) -> str:
        """The next blank-line-terminated response (stray non-JSON lines before it dropped)."""
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.fileno(), proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            sel.register(err, selectors.EVENT_READ)
            while True:
                while (end := self._buf.find(b"\n\n")) >= 0:
                    chunk, self._buf = self._buf[:end], self._buf[end + 2:]
                    start = chunk.find(b"{")
                    if start >= 0:
                        return chunk[start:].decode("utf-8", errors="replace")
                remaining = deadline - monotonic()
                if remaining <= 0:
                    raise TimeoutError
                for key, _ in sel.select(remaining):
                    try:
                        data = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if key.fd == err:
                        if not data:
                            sel.unregister(err)
                        self._stderr = (self._stderr + data)[-_TAIL:]
                    elif not data:
                        raise EOFError
                    else:
                        self._buf += data

    def header_env(self, header: str, timeout_s: float | None = None) -> int | None:
        """The env id of ``header`` (imports, opens) in this process, run once per process and
        cached; None for a blank header (commands then start from a fresh environment).
        Raises LeanSetupError when the header does not elaborate."""
        if not header.strip():
            return None
        key = ("header", header)
        with self._lock:
            if key not in self.cache:
                response = self.run(Command(header), timeout_s or self.config.header_timeout_s)
                if errors(response):
                    raise LeanSetupError(f"header does not elaborate: {errors(response)[0]}")
                self.cache[key] = response.env  # type: ignore[union-attr]
            return self.cache[key]


class LeanReplPool:
    """``size`` REPL processes leased one caller at a time; :meth:`lease` prefers the free
    process that scores highest (e.g. already holds the needed header or proof state) and
    recycles a process that has served ``max_uses`` requests before handing it out."""

    def __init__(self, config: ReplConfig | None = None, size: int = 1,
                 repls: Sequence[LeanRepl] | None = None) -> None:
        self._repls = list(repls) if repls else [LeanRepl(config) for _ in range(size)]
        if not self._repls:
            raise ValueError("a pool needs at least one REPL")
        self._free = list(self._repls)
        self._cond = threading.Condition()

    @property
    def size(self) -> int:
        return len(self._repls)

    @property
    def repls(self) -> tuple[LeanRepl, ...]:
        return tuple(self._repls)

    @contextmanager
    def lease(self, score: Callable[[LeanRepl], int] | None = None,
              wait_s: float | None = None) -> Iterator[LeanRepl]:
        """Exclusive use of one process for the ``with`` block. Raises ReplError when none
        is free within ``wait_s`` seconds (None = wait forever)."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._free), timeout=wait_s):
                raise ReplError(f"no free Lean REPL within {wait_s}s")
            best = max(range(len(self._free)),
                       key=lambda i: (score(self._free[i]) if score else 0, i))
            repl = self._free.pop(best)
        try:
            if repl.exhausted:
                repl.restart()
            yield repl
        finally:
            with self._cond:
                self._free.append(repl)
                self._cond.notify()

    def close(self) -> None:
        for repl in self._repls:
            repl.close()

    def __enter__(self) -> LeanReplPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LeanProofPath:
    """``State.handle`` of :class:`LeanReplEnv`: the tactics from the root to this state."""

    tactics: tuple[str, ...] = ()


class _ReplayDiverged(ReplError):
    pass


class LeanReplEnv:
    """The search Environment for ``statement`` (``theorem X : T``, any ``:= ...`` part is
    replaced by ``:= by sorry``) after ``header``; ``apply`` is one REPL tactic step judged
    by :func:`~prover.lean.protocol.judge_step`.

    Outcomes: LeanError, error message, new sorry, closed goals without ``Completed`` ->
    Failed; ``Completed`` -> Proved (evidence: the tactic path, to be audited); wall clock ->
    Timeout (the process group was killed and restarted, states are replayed on demand);
    process death or a replay that no longer reproduces -> Crashed.
    """

    def __init__(self, statement: str, pool: LeanReplPool | LeanRepl, *, header: str = "",
                 replay_timeout_s: float = 60.0) -> None:
        self.statement = statement
        self.header = header
        self.command = sorry_command(statement)
        self.pool = pool if isinstance(pool, LeanReplPool) else LeanReplPool(repls=[pool])
        self.max_concurrency = self.pool.size
        self.replay_timeout_s = replay_timeout_s
        self.replayed_steps = 0
        self._key = (header, self.command)

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
            env = repl.header_env(self.header)
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
        with self.pool.lease(self._score(())) as repl:
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
            with self.pool.lease(self._score(path)) as repl:
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
