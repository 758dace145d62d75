"""Z3 in a worker process with a kill path: the hard guard for calls Z3 does not interrupt.

Z3 5.4 ignores ``Context.interrupt()`` (and its own timeout) inside some calls: the
``ctx-solver-simplify`` tactic on a non-terminating ``define-fun-rec`` (``Z3_tactic_apply``
ran 10+ minutes and grew to 3.6 GB) and a solver check with ``a^(1001/4002 - 1)`` (336 s under
a 2 s timeout). Such calls run here: a persistent worker (``python -m prover.z3.isolate``)
reads one JSON request per line and answers one JSON line; the parent waits at most the
call's wall deadline and then kills the worker (SIGKILL) and starts a fresh one on the next
call. Each worker caps its address space (``RLIMIT_AS``) and Z3's ``memory_max_size``, and dies
with its parent (``PR_SET_PDEATHSIG`` and a parent-watch thread), so kill -9 of a run leaves no
Z3 process behind.

Requests name a handler from :data:`HANDLERS` (never an arbitrary import): ``solve`` (an
SMT-LIB benchmark, assumption names, terms to evaluate) and ``theorem`` (a step of the Z3
prover, see :func:`prover.z3.env.serve`).
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import z3

from prover.records.verdicts import UnknownReason
from prover.z3.gateway import Limits, SatResult, classify_unknown, new_solver, run_check

HANDLERS = {"solve": "prover.z3.isolate:serve_solve", "theorem": "prover.z3.tactics:serve",
            "decide": "prover.z3.decide:serve"}
STARTUP_S = 60.0
_ROOT = str(Path(__file__).resolve().parents[2])
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkerError(RuntimeError):
    """The worker could not be started or answered nonsense."""


class Worker:
    """One worker process; ``request`` returns its answer, or None when it was killed at the
    deadline or died (then the worker is gone and must be replaced)."""

    def __init__(self, memory_mb: int, startup_s: float = STARTUP_S) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "prover.z3.isolate", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=_ROOT, close_fds=True)
        self._buffer = b""
        ready = self._read_line(startup_s)
        if ready is None or json.loads(ready).get("ready") is not True:
            self.kill()
            raise WorkerError(f"the Z3 worker process did not start within {startup_s:.3g} s")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + system) the worker used so far; None where /proc cannot say."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError):
            return None

    def _read_line(self, wait_s: float, cpu_s: float | None = None) -> bytes | None:
        """The next line; None after ``wait_s`` wall seconds, or once the worker has used
        ``cpu_s`` more CPU seconds (looked at every 50 ms), or when it died."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + wait_s
        cpu0 = None if cpu_s is None else self.cpu_seconds()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if cpu0 is not None and cpu_s is not None:
                used = self.cpu_seconds()
                if used is not None and used - cpu0 >= cpu_s:
                    return None
                left = min(left, 0.05)
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the worker died
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, payload: dict[str, Any], wall_s: float,
                cpu_s: float | None = None) -> dict[str, Any] | None:
        """Send one request; the answer, or None (killed at ``wall_s``, or after ``cpu_s`` CPU
        seconds of the worker, or died)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return None
        line = self._read_line(wall_s, cpu_s)
        if line is None:
            self.kill()
            return None
        answer = json.loads(line)
        if not isinstance(answer, dict):
            self.kill()
            raise WorkerError("the Z3 worker answered nonsense")
        return answer

    def kill(self) -> None:
        """Kill the process (SIGKILL) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kernel problem
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


_IDLE: dict[int, list[Worker]] = {}
_LOCK = threading.Lock()
_ALL: list[Worker] = []


def _take(memory_mb: int, startup_s: float = STARTUP_S) -> Worker:
    with _LOCK:
        idle = _IDLE.setdefault(memory_mb, [])
        while idle:
            worker = idle.pop()
            if worker.alive:
                return worker
    worker = Worker(memory_mb, startup_s)
    with _LOCK:
        _ALL.append(worker)
    return worker


def _give(worker: Worker) -> None:
    with _LOCK:
        if worker.alive:
            _IDLE.setdefault(worker.memory_mb, []).append(worker)
        elif worker in _ALL:
            _ALL.remove(worker)


@atexit.register
def shutdown() -> None:
    """Kill every worker this process started."""
    with _LOCK:
        workers, _ALL[:] = list(_ALL), []
        _IDLE.clear()
    for worker in workers:
        worker.kill()


def call(handler: str, payload: dict[str, Any], wall_s: float, memory_mb: int,
         kill_at: float | None = None,
         cpu_s: float | None = None) -> tuple[dict[str, Any] | None, float]:
    """Run ``handler`` on ``payload`` in a worker; (answer or None if killed/died, seconds).
    ``wall_s`` bounds the request; starting a worker (first use, or after a kill) is not
    charged to it, unless ``kill_at`` (a :func:`time.monotonic` instant, e.g. a row's deadline
    plus its kill margin) is given: then the start-up and the request both end by that instant,
    and a start-up that cannot is reported as killed (None)."""
    if handler not in HANDLERS:
        raise ValueError(f"unknown worker handler {handler!r}")
    start = time.perf_counter()
    if kill_at is None:
        worker = _take(memory_mb)
    else:
        try:
            worker = _take(memory_mb, max(0.01, kill_at - time.monotonic()))
        except WorkerError:
            return None, time.perf_counter() - start
        wall_s = max(0.0, min(wall_s, kill_at - time.monotonic()))
    try:
        answer = worker.request({"handler": handler, "payload": payload}, wall_s, cpu_s)
    finally:
        _give(worker)
    return answer, time.perf_counter() - start


# --------------------------------------------------------------------------- solve, isolated
def smt2_text(formulas: Sequence[z3.BoolRef], ctx: z3.Context) -> str:
    """SMT-LIB text (declarations and asserts) of ``formulas``, printed without asserting them
    into a solver: asserting may simplify in this process (a product of four sums of square
    roots, omnimath-979, ran for minutes inside ``Solver.add`` and ignored interrupts)."""
    asts = (z3.Ast * len(formulas))(*(f.as_ast() for f in formulas))
    text = z3.Z3_benchmark_to_smtlib_string(ctx.ref(), "proofgraph isolate", "", "unknown", "",
                                            len(formulas), asts, z3.BoolVal(True, ctx).as_ast())
    return text.replace("(check-sat)", "")


def solve_isolated(assertions: Sequence[z3.BoolRef], tracked: Sequence[tuple[str, z3.BoolRef]],
                   evaluate: Sequence[z3.ExprRef], ctx: z3.Context, limits: Limits,
                   options: dict[str, Any]) -> SatResult:
    """:func:`prover.z3.gateway.solve` in a worker: the query travels as SMT-LIB text; the
    answer carries the Z3 resource units the worker's check used (``rlimit_used``)."""
    formulas = list(assertions)
    formulas.extend(z3.Implies(z3.Bool(tag, ctx), expr) for tag, expr in tracked)
    names = []
    for i, term in enumerate(evaluate):
        name = f"eval!{i}"
        formulas.append(z3.Const(name, term.sort()) == term)
        names.append(name)
    payload = {"smt2": smt2_text(formulas, ctx), "assume": [tag for tag, _ in tracked],
               "eval": names, "timeout_ms": limits.timeout_ms, "rlimit": limits.rlimit,
               "wall_s": limits.wall, "cpu_s": limits.cpu_s, "options": options}
    answer, elapsed = call("solve", payload, limits.wall + 0.5, limits.memory_mb,
                           cpu_s=None if limits.cpu_s is None else limits.cpu_s + 0.25)
    if answer is None:
        return SatResult("unknown", reason=classify_unknown("killed at the wall deadline",
                                                            elapsed, limits, interrupted=True),
                         elapsed=elapsed, raw_reason="killed at the wall deadline",
                         isolated=True)
    if "error" in answer:
        return SatResult("unknown", reason=UnknownReason.BACKEND_ERROR, elapsed=elapsed,
                         raw_reason=str(answer["error"]), isolated=True)
    reason = UnknownReason(answer["reason"]) if answer.get("reason") else None
    return SatResult(answer["status"], core=tuple(answer.get("core", ())), reason=reason,
                     elapsed=elapsed, raw_reason=answer.get("raw_reason", ""),
                     values=tuple(answer.get("values", ())), isolated=True,
                     rlimit_used=int(answer.get("rlimit_used", 0)))


def _consts_by_name(terms: Sequence[z3.ExprRef]) -> dict[str, z3.ExprRef]:
    found: dict[str, z3.ExprRef] = {}
    seen: set[int] = set()
    stack = list(terms)
    while stack:
        term = stack.pop()
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        if z3.is_quantifier(term):
            stack.append(term.body())
        elif z3.is_app(term):
            if z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                found.setdefault(term.decl().name(), term)
            stack.extend(term.children())
    return found


def serve_solve(payload: dict[str, Any]) -> dict[str, Any]:
    """Worker side of :func:`solve_isolated`."""
    ctx = z3.Context()
    assertions = list(z3.parse_smt2_string(payload["smt2"], ctx=ctx))
    consts = _consts_by_name(assertions)
    assume = [consts[name] for name in payload["assume"] if name in consts]
    evaluate = [consts[name] for name in payload["eval"] if name in consts]
    limits = Limits(payload["timeout_ms"], payload["rlimit"], wall_s=payload["wall_s"],
                    cpu_s=payload.get("cpu_s"))
    result = _solve_assuming(assertions, assume, evaluate, ctx, limits,
                             payload.get("options", {}))
    return {"status": result.status, "core": list(result.core),
            "reason": result.reason.value if result.reason else None,
            "raw_reason": result.raw_reason, "values": list(result.values),
            "rlimit_used": result.rlimit_used}


def _solve_assuming(assertions: list[z3.BoolRef], assume: list[z3.ExprRef],
                    evaluate: list[z3.ExprRef], ctx: z3.Context, limits: Limits,
                    options: dict[str, Any]) -> SatResult:
    start = time.perf_counter()
    solver = new_solver(ctx, limits, options)
    solver.add(*assertions)
    return run_check(solver, ctx, limits, start, assume=assume, evaluate=evaluate,
                     want_model=False)


# --------------------------------------------------------------------------- worker main
def _handler(name: str) -> Any:
    module, _, attr = HANDLERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _die_with_parent() -> None:
    """A worker never outlives its parent (kill -9 of the run included): Linux's
    PR_SET_PDEATHSIG where available, and a thread that exits when the parent changes."""
    parent = os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(4)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def main(argv: Sequence[str]) -> int:
    """The worker loop: cap memory, say ready, answer requests until stdin closes."""
    import resource

    from prover.z3 import gateway

    gateway.IN_WORKER = True
    memory_mb = int(argv[0]) if argv else 2048
    gateway.configure_memory(memory_mb)
    cap = (memory_mb + 768) * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):  # pragma: no cover - a platform without RLIMIT_AS
        pass
    _die_with_parent()
    sys.setrecursionlimit(10_000)
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            answer = _handler(request["handler"])(request["payload"])
        except MemoryError:
            return 3
        except Exception as exc:  # one bad request is that request's error
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
