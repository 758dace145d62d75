"""The hard limit of ``formalize``: a row's candidate checks run in a killable worker process.

:class:`IsolatedTarget` wraps a Z3-backed target (Z3, FOL) and is itself a target: the light
methods (prompts, extraction, rendering) run here, beside the model, and every method that
calls Z3 (``typecheck``, ``equivalent``, ``flags``) runs in one worker process
(``python -m formalizer.autoformalize.isolation MEMORY_MB``) that holds its own copy of the
wrapped target (sent pickled at start-up). The worker leads its own process group, caps its
memory (:func:`prover.z3.isolate.harden_worker`: Z3's ``memory_max_size`` and
``RLIMIT_AS``) and dies with its parent.

Each row (one :class:`Item` of a :meth:`IsolatedTarget.begin` batch) has a wall-clock budget of
``row_timeout_s`` seconds of worker time over all its calls; a call waits at most what is left
of it. Past it the worker's process group is killed (SIGKILL: nothing inside the worker, not
even native code with every signal blocked, can keep it alive), the row is marked failed
(:meth:`IsolatedTarget.failure`: reason ``timeout``; ``worker-died`` when the worker ended by
itself) and gets no further checks, and a fresh worker is started for the other rows; their
parsed candidates, which died with the old worker, are parsed again on demand (the parse is
charged to the row that needs it). Starting a worker is never charged to a row. The verdicts
do not depend on where the checks ran: the worker calls the very same target methods.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formalizer.autoformalize.targets.base import Candidate, Equivalence, Item, Target
from prover.records.runner import ROW_TIMEOUT_S
from prover.z3.isolate import spawn

MEMORY_MB = 4096
STARTUP_S = 120.0  # longest a worker may take to import and say it is ready
_ROOT = str(Path(__file__).resolve().parents[2])
_HEADER = struct.Struct(">Q")
_CACHE = 4096  # parsed candidates a worker keeps (a miss parses again)
_STATE = ("index", "raw", "logprob", "round", "formal", "check", "info")


class WorkerFailed(RuntimeError):
    """The worker was killed at the deadline (``reason`` ``timeout``) or ended by itself."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class _Row:
    token: int
    item: Item
    spent: float = 0.0
    failure: tuple[str, str] | None = None  # (reason, message)


@dataclass(frozen=True)
class _Handle:
    """What ``Candidate.parsed`` holds in the parent: the parsed value lives in the worker."""

    token: int
    index: int


def _state(cand: Candidate) -> dict[str, Any]:
    return {name: getattr(cand, name) for name in _STATE}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    from prover.synth.forkserver import kill_group

    kill_group(proc)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


class _Worker:
    """One worker process speaking length-prefixed pickles (only to its own parent)."""

    def __init__(self, target: Target, memory_mb: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        # from a long-lived thread: the worker dies with the thread that forks it
        self.proc = spawn(
            [sys.executable, "-m", "formalizer.autoformalize.isolation", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=_ROOT, close_fds=True, start_new_session=True)
        self.ready = False
        self._buffer = b""
        self._send(target)

    def _send(self, obj: Any) -> None:
        blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(_HEADER.pack(len(blob)) + blob)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # a dead worker shows when its answer does not come

    def _receive(self, wait_s: float) -> Any:
        """The next message; raises :class:`WorkerFailed` after ``wait_s`` or at EOF."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + wait_s
        need = _HEADER.size
        while True:
            if len(self._buffer) >= _HEADER.size:
                need = _HEADER.size + _HEADER.unpack_from(self._buffer)[0]
                if len(self._buffer) >= need:
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerFailed("timeout", "deadline passed")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerFailed("worker-died", "the check worker ended "
                                       f"(exit status {self.proc.poll()})")
                self._buffer += chunk
        blob, self._buffer = self._buffer[_HEADER.size:need], self._buffer[need:]
        return pickle.loads(blob)

    def wait_ready(self) -> None:
        if not self.ready:
            if self._receive(STARTUP_S) != ("ready",):
                raise WorkerFailed("worker-died", "the check worker did not start")
            self.ready = True

    def call(self, request: tuple[Any, ...], wait_s: float) -> Any:
        """The answer to ``request``; raises :class:`WorkerFailed` (the caller kills)."""
        self._send(request)
        status, value = self._receive(wait_s)
        if status == "error":
            raise RuntimeError(f"in the check worker: {value}")
        return value

    def kill(self) -> None:
        _kill_group(self.proc)


class IsolatedTarget:
    """A target whose Z3 work runs in a killable worker under a per-row budget (see the module
    docstring). ``inner`` must be picklable; the worker starts at once (while the model loads
    or samples) and is ended by :meth:`close`."""

    def __init__(self, inner: Target, row_timeout_s: float = ROW_TIMEOUT_S,
                 memory_mb: int = MEMORY_MB) -> None:
        if not row_timeout_s > 0:
            raise ValueError("row_timeout_s must be > 0 seconds")
        self.inner = inner
        self.name = inner.name
        self.repair_prompt: str = inner.repair_prompt  # type: ignore[attr-defined]
        self.backtranslate_prompt: str = inner.backtranslate_prompt  # type: ignore[attr-defined]
        self.row_timeout_s = row_timeout_s
        self.memory_mb = memory_mb
        self.kills = 0
        self._rows: dict[int, _Row] = {}
        self._tokens = 0
        self._worker: _Worker | None = _Worker(inner, memory_mb)

    # ------------------------------------------------------------------ rows
    def begin(self, items: Sequence[Item]) -> None:
        """Start a batch: each of ``items`` gets a fresh budget (earlier rows are forgotten)."""
        self._rows = {}
        for item in items:
            self._tokens += 1
            self._rows[id(item)] = _Row(self._tokens, item)

    def _row(self, item: Item) -> _Row:
        row = self._rows.get(id(item))
        if row is None or row.item is not item:  # an item outside begin(): its own budget
            self._tokens += 1
            row = self._rows[id(item)] = _Row(self._tokens, item)
        return row

    def failure(self, item: Item) -> tuple[str, str] | None:
        """``(reason, message)`` when ``item``'s checks were killed, else None."""
        row = self._rows.get(id(item))
        return row.failure if row is not None and row.item is item else None

    def _call(self, row: _Row, request: tuple[Any, ...]) -> Any:
        """Run ``request`` for ``row`` within what is left of its budget; None once the row
        has failed (now or before)."""
        if row.failure is not None:
            return None
        if self._worker is None:
            self._worker = _Worker(self.inner, self.memory_mb)
        worker = self._worker
        try:
            worker.wait_ready()  # a start-up is never charged to a row
        except WorkerFailed as err:
            self._drop()
            row.failure = ("worker-died", f"worker-died: the check worker did not start: {err}")
            return None
        began = time.monotonic()
        try:
            return worker.call(request, self.row_timeout_s - row.spent)
        except WorkerFailed as err:
            self._drop()
            if err.reason == "timeout":
                message = (f"timeout: the row's candidate checks ran past "
                           f"{self.row_timeout_s:g} s and were killed")
            else:
                message = f"worker-died: {err}"
            row.failure = (err.reason, message)
            return None
        finally:
            row.spent += time.monotonic() - began

    def _drop(self) -> None:
        """Kill the worker's group and start its replacement now (not waited for)."""
        if self._worker is not None:
            self._worker.kill()
            self.kills += 1
        self._worker = _Worker(self.inner, self.memory_mb)

    def close(self) -> None:
        """End the worker (its whole process group)."""
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    # ------------------------------------------------------------------ the target
    def prompt_name(self, item: Item) -> str:
        return self.inner.prompt_name(item)

    def prompt_values(self, item: Item) -> dict[str, str]:
        return self.inner.prompt_values(item)

    def extract(self, raw: str, item: Item) -> tuple[str | None, str | None]:
        return self.inner.extract(raw, item)

    def render(self, candidate: Candidate) -> str:
        return self.inner.render(candidate)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def typecheck(self, item: Item, candidates: Sequence[Candidate]) -> None:
        """The inner type check, in the worker; the candidates get its ``formal``, ``check``
        and ``info``; ``parsed`` becomes a handle to the worker's parsed value."""
        todo = [c for c in candidates if c.formal is not None]
        row = self._row(item)
        if not todo:
            return
        answer = self._call(row, ("typecheck", row.token, item, [_state(c) for c in todo]))
        if answer is None:
            return
        for cand, (formal, check, info, parsed) in zip(todo, answer, strict=True):
            cand.formal, cand.check, cand.info = formal, check, info
            cand.parsed = _Handle(row.token, cand.index) if parsed else None

    def equivalent(self, a: Candidate, b: Candidate, timeout_ms: int) -> Equivalence:
        row = self._owner(a)
        answer = self._call(row, ("equivalent", row.token, row.item, _state(a), _state(b),
                                  timeout_ms))
        if answer is None:
            return Equivalence(False, "not compared: " + (row.failure or ("", ""))[1])
        return answer

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        row = self._row(item)
        answer = self._call(row, ("flags", row.token, item, _state(candidate), timeout_ms))
        return {} if answer is None else answer

    def _owner(self, cand: Candidate) -> _Row:
        handle = cand.parsed
        for row in self._rows.values():
            if isinstance(handle, _Handle) and row.token == handle.token:
                return row
        raise ValueError("a candidate that was not type-checked by this target")


# ---------------------------------------------------------------------- the worker process
class _Served:
    """The worker's side: the wrapped target and the parsed candidates it holds."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.parsed: OrderedDict[tuple[int, int], Any] = OrderedDict()

    def _keep(self, token: int, cand: Candidate) -> None:
        self.parsed[(token, cand.index)] = cand.parsed
        self.parsed.move_to_end((token, cand.index))
        while len(self.parsed) > _CACHE:
            self.parsed.popitem(last=False)

    def _candidate(self, token: int, item: Item, state: dict[str, Any]) -> Candidate:
        """The candidate with its parsed value: remembered, or parsed again (a fresh worker
        after a kill, or one forgotten) by the same type check on a copy."""
        cand = Candidate(**state)
        key = (token, cand.index)
        if key in self.parsed:
            cand.parsed = self.parsed[key]
            return cand
        copy = Candidate(**{**state, "check": dict(cand.check), "info": dict(cand.info)})
        self.target.typecheck(item, [copy])
        cand.parsed = copy.parsed
        self._keep(token, cand)
        return cand

    def handle(self, request: tuple[Any, ...]) -> Any:
        kind, token, item = request[0], request[1], request[2]
        if kind == "typecheck":
            cands = [Candidate(**state) for state in request[3]]
            self.target.typecheck(item, cands)
            out = []
            for cand in cands:
                if cand.parsed is not None:
                    self._keep(token, cand)
                out.append((cand.formal, cand.check, cand.info, cand.parsed is not None))
            return out
        if kind == "equivalent":
            a, b = (self._candidate(token, item, s) for s in request[3:5])
            return self.target.equivalent(a, b, request[5])
        if kind == "flags":
            return self.target.flags(item, self._candidate(token, item, request[3]), request[4])
        raise ValueError(f"unknown request {kind!r}")


def _read(stream: Any) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    blob = stream.read(size)
    if len(blob) < size:
        raise EOFError
    return pickle.loads(blob)


def _write(stream: Any, obj: Any) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(blob)) + blob)
    stream.flush()


def main(argv: Sequence[str]) -> int:
    """The worker loop: harden, read the target, say ready, answer until stdin closes. Only
    the answers go to the real stdout (fd 1 is pointed at stderr, so no library print can
    corrupt the stream)."""
    from prover.z3.isolate import harden_worker

    harden_worker(int(argv[0]) if argv else MEMORY_MB)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.setrecursionlimit(10_000)
    source = sys.stdin.buffer
    try:
        served = _Served(_read(source))
    except EOFError:
        return 0
    _write(out, ("ready",))
    while True:
        try:
            request = _read(source)
        except EOFError:
            return 0
        try:
            answer: tuple[str, Any] = ("ok", served.handle(request))
        except MemoryError:
            return 3
        except Exception as exc:  # one bad request is that request's error
            answer = ("error", f"{type(exc).__name__}: {exc}")
        _write(out, answer)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
