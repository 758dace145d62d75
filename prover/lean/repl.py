"""One Lean REPL process (:class:`LeanRepl`): start/kill, framed requests, header binding.

Process rules: each REPL runs in its own session (``start_new_session``) with ``RLIMIT_AS`` set
by a WRAPPER that execs it (``prlimit``, else a tiny Python exec wrapper), never a
``preexec_fn`` (unsafe with threads); a request that outlives its wall clock kills the whole
process GROUP; a process imports ONE import block in its life (:meth:`LeanRepl.header_env`
restarts it rather than import a second one: the REPL never frees an import).

Framing (the REPL does not isolate stdout, so a tactic that prints JSON could forge a reply):
after every request the client sends a sentinel, ``{"path": "/proc/self/<nonce>.lean"}``, whose
real answer is the REPL's "no such file" error naming the fresh random nonce. The reply is
the ONE blank-line-terminated chunk before the sentinel's answer; any other chunk, a sentinel
answer without the nonce, output between requests, or ids that break the REPL's counters
(``env`` = number of environments so far, proof-state ids = number of proof states so far)
is :class:`ReplFramingError`: the process is killed and restarted and the request is reported
broken, never answered.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import signal
import subprocess
import threading
from collections.abc import Hashable, Mapping
from time import monotonic
from typing import Any

from prover.lean.header import detach_docstrings, split_header
from prover.lean.judge import errors
from prover.lean.process import (
    DEFAULT_COMMAND,
    LEAN_PROJECT,
    REPL_BINARY,
    REPL_CMD_ENV,
    REPL_COMMIT,
    LeanSetupError,
    LeanUnavailable,
    ReplConfig,
    ReplCrashed,
    ReplError,
    ReplFramingError,
    ReplTimeout,
    check_executable,
    group_pids,
    rlimit_argv,
    rss_bytes,
    with_command,
)
from prover.lean.protocol import (
    Command,
    CommandResponse,
    FileCommand,
    LeanError,
    PickleEnvironment,
    ProofStepResponse,
    Request,
    Response,
    parse_response,
)

SENTINEL_DIR = "/proc/self"  # nobody can create a file there: the sentinel path never exists
_TAIL = 8192
_SENTINEL_GRACE_S = 5.0

#: the process layer's names, importable from here because every REPL caller needs them
__all__ = ["DEFAULT_COMMAND", "LEAN_PROJECT", "REPL_BINARY", "REPL_CMD_ENV", "REPL_COMMIT",
           "SENTINEL_DIR", "LeanRepl", "LeanSetupError", "LeanUnavailable", "ReplConfig",
           "ReplCrashed", "ReplError", "ReplFramingError", "ReplTimeout", "rlimit_argv",
           "rss_bytes", "with_command"]


class LeanRepl:
    """One REPL process. :meth:`run` is serialised by a lock; ``cache`` holds what this
    process knows (header envs, proof states) and is emptied whenever a new process starts;
    ``generation`` counts processes started, ``uses`` requests sent to the current one;
    ``imports`` is the import block the current process holds (None before the first)."""

    def __init__(self, config: ReplConfig | None = None) -> None:
        self.config = config or ReplConfig()
        self.cache: dict[Hashable, Any] = {}
        self.generation = 0
        self.uses = 0
        self.imports: str | None = None
        self.framing_errors = 0
        self._next_env = 0
        self._next_ps = 0
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

    def rss_bytes(self) -> int:
        """Resident memory of the whole process group (``lake env`` runs the REPL as a
        child), summed from ``/proc/<pid>/status``; 0 when not running."""
        pid = self.pid
        if pid is None or not self.alive:
            return 0
        return sum(rss_bytes(p) for p in group_pids(pid)) or rss_bytes(pid)

    @property
    def over_watermark(self) -> bool:
        """True when ``rss_limit_mb`` is set and the group's RSS is above it."""
        limit = self.config.rss_limit_mb
        return limit is not None and self.rss_bytes() > limit * 1024 * 1024

    def start(self) -> None:
        """Start a fresh process (killing any current one). Raises LeanUnavailable."""
        with self._lock:
            self._kill()
            cfg = self.config
            check_executable(cfg)
            argv = rlimit_argv(cfg.command, cfg.memory_limit_mb)
            try:
                self._proc = subprocess.Popen(
                    argv, cwd=cfg.cwd, env={**os.environ, **cfg.env},
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    bufsize=0, start_new_session=True, close_fds=True)
            except OSError as exc:
                raise LeanUnavailable(f"cannot start {list(cfg.command)} in {cfg.cwd}: {exc}"
                                      ) from exc
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                assert stream is not None
                os.set_blocking(stream.fileno(), False)
            self.generation, self.uses, self._buf, self._stderr = self.generation + 1, 0, b"", b""
            self._next_env = self._next_ps = 0

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
        self.imports = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    # ----------------------------------------------------------------- requests
    def run(self, request: Request, timeout_s: float) -> Response:
        """Send one request and return its typed response (Lean errors are values).

        Raises ReplTimeout (group killed, a new process started), ReplFramingError (the reply
        could not be tied to the request: process killed), ReplCrashed (the process is gone or
        broke the protocol; restarted lazily on the next request) or LeanUnavailable.
        """
        with self._lock:
            self.ensure_alive()
            proc = self._proc
            assert proc is not None
            deadline = monotonic() + timeout_s
            try:
                if self.config.framing and self._pending_output(proc):
                    stray = self._buf[:200].decode("utf-8", errors="replace")
                    raise self._broken(f"output arrived between requests (an earlier request "
                                       f"left a writer behind): {stray!r}")
                self._write(proc, _frame(request.to_wire()), deadline)
                self.uses += 1
                chunk = self._read_chunk(proc, deadline)
                if self.config.framing:
                    self._await_sentinel(proc, max(deadline, monotonic() + _SENTINEL_GRACE_S))
            except TimeoutError:
                with contextlib.suppress(LeanUnavailable):
                    self.start()  # kills the whole group first
                raise ReplTimeout(timeout_s) from None
            except (BrokenPipeError, EOFError) as exc:
                raise self._crashed(f"Lean REPL died ({type(exc).__name__})") from None
            try:
                response = parse_response(request, json.loads(chunk))
            except ValueError as exc:
                raise self._crashed(f"Lean REPL broke the protocol: {exc}") from None
            if self.config.framing:
                self._check_ids(request, response)
            return response

    def _await_sentinel(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        """Send the sentinel and read its answer; the only chunk allowed before it was the
        reply already read. Raises ReplFramingError."""
        nonce = secrets.token_hex(16)
        path = f"{SENTINEL_DIR}/proofgraph-sentinel-{nonce}.lean"
        self._write(proc, _frame(FileCommand(path).to_wire()), deadline)
        chunk = self._read_chunk(proc, deadline)
        try:
            answer = json.loads(chunk)
        except ValueError:
            answer = None
        if not (isinstance(answer, dict) and set(answer) == {"message"}
                and nonce in str(answer["message"])):
            raise self._broken(f"a second chunk came before the sentinel's answer: "
                               f"{chunk[:200]!r}")

    def _check_ids(self, request: Request, response: Response) -> None:
        """The REPL numbers environments and proof states 0, 1, 2... per process: a reply
        must carry exactly the next ids. Raises ReplFramingError."""
        if isinstance(response, LeanError):
            return
        if isinstance(request, PickleEnvironment):
            if not (isinstance(response, CommandResponse) and response.env == request.env):
                raise self._broken(f"pickle reply for env {request.env} names {response}")
            return
        new_ps = [s.proof_state for s in response.sorries if s.proof_state is not None]
        if isinstance(response, CommandResponse):
            new_ps += [t.proof_state for t in response.tactics]
            if response.env != self._next_env:
                raise self._broken(f"reply names env {response.env}, the next env of this "
                                   f"process is {self._next_env}")
        else:
            assert isinstance(response, ProofStepResponse)
            new_ps.append(response.proof_state)
        expected = list(range(self._next_ps, self._next_ps + len(new_ps)))
        if sorted(new_ps) != expected or (isinstance(response, ProofStepResponse)
                                          and response.proof_state != expected[-1]):
            raise self._broken(f"reply names proof states {new_ps}, expected {expected}")
        self._next_ps += len(new_ps)
        if isinstance(response, CommandResponse):
            self._next_env += 1

    def _broken(self, what: str) -> ReplFramingError:
        self.framing_errors += 1
        self._kill()
        return ReplFramingError(f"Lean REPL framing broken: {what}; process killed")

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

    def _pending_output(self, proc: subprocess.Popen[bytes]) -> bool:
        """True when stdout holds bytes nobody asked for (read without blocking)."""
        assert proc.stdout is not None
        with contextlib.suppress(BlockingIOError, OSError):
            data = os.read(proc.stdout.fileno(), 65536)
            self._buf += data
        return bool(self._buf.strip())

    def _read_chunk(self, proc: subprocess.Popen[bytes], deadline: float) -> str:
        """The next blank-line-terminated chunk of stdout (its text, stripped)."""
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.fileno(), proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            sel.register(err, selectors.EVENT_READ)
            while True:
                self._buf = self._buf.lstrip(b"\n")
                if (end := self._buf.find(b"\n\n")) >= 0:
                    chunk, self._buf = self._buf[:end], self._buf[end + 2:]
                    return chunk.decode("utf-8", errors="replace").strip()
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

    # ----------------------------------------------------------------- headers
    def header_env(self, header: str, timeout_s: float | None = None) -> int | None:
        """The env id of ``header`` in this process; None for a blank header (commands then
        start from a fresh environment). The header's import block is imported ONCE per
        process; a process holding another import block is restarted first (the REPL never
        frees an import). The rest of the header (``open``...) runs once on top of it.
        Raises LeanSetupError when the header does not elaborate, ReplError."""
        header = detach_docstrings(header, "")[0]  # a trailing `/-- doc -/` is no command
        if not header.strip():
            return None
        imports, rest = split_header(header)
        with self._lock:
            self.ensure_alive()  # a dead process's envs are gone: drop them first
            if ("header", header) in self.cache:
                return self.cache[("header", header)]
            budget = timeout_s or self.config.header_timeout_s
            if self.imports is not None and self.imports != imports:
                self.start()
            base: int | None = self.cache.get(("imports", imports))
            if ("imports", imports) not in self.cache:
                base = None
                if imports:
                    base = self._elaborate(Command(imports), budget, "header imports")
                self.cache[("imports", imports)] = base
                self.imports = imports
            env = base
            if rest:
                env = self._elaborate(Command(rest, base), budget, "header")
            self.cache[("header", header)] = env
            return env

    def _elaborate(self, command: Command, timeout_s: float, what: str) -> int:
        try:
            response = self.run(command, timeout_s)
        except ReplTimeout as exc:
            raise ReplTimeout(exc.timeout_s, what) from None
        if errors(response):
            raise LeanSetupError(f"{what} does not elaborate: {errors(response)[0]}")
        assert isinstance(response, CommandResponse)
        return response.env


def _frame(wire: Mapping[str, Any]) -> bytes:
    """One request on the wire: compact JSON (no raw newline inside) and a blank line."""
    return (json.dumps(wire, ensure_ascii=False) + "\n\n").encode()
