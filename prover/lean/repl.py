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
    Request,
    Response,
    errors,
    parse_response,
)

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
