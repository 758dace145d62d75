"""lean-dojo 4.20.0's ``Dojo`` as a search :class:`~search.protocols.Environment`, for theorems
of a traced local repository, offline and without a GitHub token.

lean-dojo is an optional extra (``pip install 'proofgraph[lean]'``): this module imports it
lazily, inside functions, and only after :func:`prepare_offline_environment`:

* ``DISABLE_REMOTE_CACHE=1``: otherwise ``LeanGitRepo(<local path>)`` probes the remote cache
  (dl.fbaipublicfiles.com) and crashes offline;
* ``GITHUB_ACCESS_TOKEN`` set to a non-empty value is refused (``import lean_dojo`` would call
  api.github.com with it); when unset it is pinned to ``""``, so the ``load_dotenv()`` lean_dojo
  runs at import (override=False) cannot bring one in from a ``.env`` file. The token's value is
  never read.

Only ``Dojo`` on a repository already in lean-dojo's local cache stays offline: tracing
(``lean_dojo.trace``) needs the GitHub API even for local repositories, so it belongs to
``scripts/setup_lean.sh --with-dojo --trace-repo PATH``, never to a search: :class:`LeanDojoEnv`
checks ``is_available_in_cache`` BEFORE entering a Dojo (whose ``__enter__`` would trace) and
raises :class:`DojoNotTraced` with that command.

Budgets: lean-dojo 4.20.0 applies ``Dojo(timeout=...)`` to ``pexpect.spawn``, so one number
bounds both start-up (elaborating the whole file prefix and its imports: minutes for a Mathlib
file) and every tactic. :class:`LeanDojoEnv` enters the Dojo with ``startup_timeout_s`` and
then sets the spawned process's ``timeout`` (pexpect's documented per-``expect`` default) and
``dojo.timeout`` to the per-tactic ``timeout_s``.

Start-up bound (ours, :func:`enter_bounded`): lean-dojo's pexpect timeout bounds each line it
waits for, not the start-up. Before the spawn ``Dojo.__enter__`` takes lean-dojo's cache
``FileLock`` with no timeout (``is_available_in_cache`` / ``get_traced_repo_path``: held for
hours by a running trace, or forever by a stuck process), traces an untraced repository
(git, network, ``lake build``, ray: no timeout), and parses the file's ``*.ast.json`` (seconds to
minutes for a Mathlib file); after it, ``lake env lean`` gets a fresh ``timeout`` per output
line (a Lean that keeps printing is never stopped), and a start-up that fails (timeout, EOF,
assertion) leaves the spawned ``lake``/``lean`` running, since ``__exit__`` is never called.
So :class:`LeanDojoEnv` runs the cache check and ``Dojo.__enter__`` in a daemon thread and waits
at most ``startup_timeout_s``: past it, or when the start-up fails, the spawned process tree is
killed (SIGKILL: its group and every descendant), and :class:`DojoStartupTimeout` (a
``TimeoutError``: reason ``timeout``) is raised. A thread still blocked before its spawn (a lock,
the JSON parse) cannot be stopped; it is abandoned, and whatever it spawns later is killed by a
reaper thread that watches it until it ends.

Outcome mapping: ``TacticState`` -> Progress, ``ProofFinished`` -> Proved, ``LeanError`` ->
Failed, ``ProofGivenUp`` -> Failed (a sorry is not a proof), ``DojoTacticTimeoutError`` ->
Timeout and the Dojo is REOPENED (LeanDojo#218: after a timeout Lean is still busy and every
later tactic times out), ``DojoCrashError`` -> Crashed. A state of an older Dojo is rebuilt by
replaying its tactic path in the new one.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from search.protocols import Crashed, Failed, Outcome, Progress, Proved, State, Timeout

LEAN_DOJO_VERSION = "4.20.0"


class DojoUnavailable(RuntimeError):
    """lean-dojo cannot be used here (not installed, or a GitHub token is set)."""


class DojoStartupTimeout(TimeoutError):
    """The Dojo did not start within its start-up limit; its processes were killed."""


class DojoNotTraced(RuntimeError):
    """The theorem's repository is not in lean-dojo's local cache; ``command`` traces it."""

    def __init__(self, repo: Any, command: str) -> None:
        super().__init__(f"{repo} is not traced (lean-dojo would trace it now, which needs the "
                         f"network, GitHub and minutes to hours): run `{command}` first")
        self.command = command


def trace_command(repo_path: str | Path, commit: str | None = None) -> str:
    """The shell command that traces ``repo_path`` (at ``commit``) into lean-dojo's cache."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "setup_lean.sh"
    extra = f" --commit {commit}" if commit else ""
    return f"{script} --with-dojo --trace-repo {repo_path}{extra}"


def prepare_offline_environment() -> None:
    """Set the environment lean_dojo reads at import so that it stays offline (see module
    docstring). Raises DojoUnavailable when ``GITHUB_ACCESS_TOKEN`` is set."""
    if os.environ.get("GITHUB_ACCESS_TOKEN"):
        raise DojoUnavailable(
            "GITHUB_ACCESS_TOKEN is set: `import lean_dojo` would call api.github.com with it; "
            "unset it (the Dojo of an already traced repository needs no token)")
    os.environ["GITHUB_ACCESS_TOKEN"] = ""
    os.environ["DISABLE_REMOTE_CACHE"] = "1"  # read by lean_dojo.constants at import


def load_lean_dojo() -> ModuleType:
    """``import lean_dojo`` after :func:`prepare_offline_environment`. Raises DojoUnavailable."""
    prepare_offline_environment()
    try:
        module = importlib.import_module("lean_dojo")
    except ImportError as exc:
        raise DojoUnavailable("lean-dojo is not installed: pip install 'proofgraph[lean]' "
                              f"(lean-dojo=={LEAN_DOJO_VERSION})") from exc
    version = getattr(module, "__version__", "?")
    if version != LEAN_DOJO_VERSION:
        warnings.warn(f"lean_dojo {version} found; proofgraph targets {LEAN_DOJO_VERSION}",
                      stacklevel=2)
    return module


def make_theorem(repo_path: str | Path, file_path: str | Path, full_name: str, *,
                 commit: str | None = None, lean_dojo: ModuleType | None = None) -> Any:
    """``Theorem(LeanGitRepo(local repo, commit), file_path, full_name)``; ``commit`` None
    means the repository's HEAD (``LeanGitRepo.from_path``)."""
    m = lean_dojo or load_lean_dojo()
    repo = (m.LeanGitRepo.from_path(str(repo_path)) if commit is None
            else m.LeanGitRepo(str(repo_path), commit))
    return m.Theorem(repo, str(file_path), full_name)


def is_traced(theorem: Any, lean_dojo: ModuleType | None = None) -> bool:
    """True when the theorem's repository is in lean-dojo's LOCAL cache (remote disabled), i.e.
    a Dojo can start without tracing (and without network)."""
    m = lean_dojo or load_lean_dojo()
    return bool(m.is_available_in_cache(theorem.repo))


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first found by ``/proc``'s parent links)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``, its process group when it leads one (pexpect's child does: setsid),
    and every descendant (``lake env`` starts ``lean`` as its child). Never raises; reaping is
    left to the spawning object (pexpect's, which would fail on a child reaped behind it)."""
    victims = [pid, *_descendants(pid)]
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except OSError:
            pass


def _kill_spawned(ctx: Any) -> None:
    """Kill the process a (failed or abandoned) ``Dojo.__enter__`` spawned, and drop its
    temporary file; nothing when it spawned none."""
    proc = getattr(ctx, "proc", None)
    pid = getattr(proc, "pid", None)
    if isinstance(pid, int) and pid > 0:
        kill_tree(pid)
    modified = getattr(ctx, "modified_file", None)
    if modified is not None:
        try:
            modified.__exit__(None, None, None)
        except Exception:  # already closed or removed
            pass


def enter_bounded(ctx: Any, limit_s: float, before: Any = None) -> Any:
    """``before()`` (e.g. the cache check) then ``ctx.__enter__()``, in a daemon thread, within
    ``limit_s`` seconds of wall time; returns what ``__enter__`` returns.

    Past the limit the spawned process tree is killed and :class:`DojoStartupTimeout` raised;
    the thread, if it is still blocked, is abandoned, and a reaper kills what it spawns until
    it ends (then its Dojo is exited). An exception of the start-up is raised here after the
    processes it spawned are killed (lean-dojo does not exit a Dojo whose ``__enter__``
    failed)."""
    lock = threading.Lock()
    box: dict[str, Any] = {}
    done = threading.Event()

    def start() -> None:
        try:
            if before is not None:
                before()
            value = ctx.__enter__()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            _kill_spawned(ctx)
            with lock:
                box["error"] = exc
        else:
            with lock:
                abandoned = box.get("abandoned", False)
                box["value"] = value
            if abandoned:
                _kill_spawned(ctx)
        finally:
            done.set()

    thread = threading.Thread(target=start, daemon=True, name="dojo-start")
    thread.start()
    if not done.wait(limit_s):
        with lock:
            box["abandoned"] = True
        _kill_spawned(ctx)
        threading.Thread(target=_reap, args=(ctx, done), daemon=True, name="dojo-reap").start()
        raise DojoStartupTimeout(f"the Dojo did not start within {limit_s:g} s (lean-dojo's "
                                 "cache lock, the traced file or Lean's start-up); its "
                                 "processes were killed")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _reap(ctx: Any, done: threading.Event, every_s: float = 0.2) -> None:
    """Until an abandoned start-up ends, kill whatever it has spawned."""
    while not done.wait(every_s):
        if getattr(getattr(ctx, "proc", None), "pid", None):
            _kill_spawned(ctx)
    _kill_spawned(ctx)


@dataclass(frozen=True)
class DojoPath:
    """``State.handle`` of :class:`LeanDojoEnv`: the tactic path from the theorem's root."""

    tactics: tuple[str, ...] = ()


class _ReplayDiverged(RuntimeError):
    pass


class LeanDojoEnv:
    """Search Environment over ``Dojo(theorem, additional_imports=...)``: start-up gets
    ``startup_timeout_s``, each tactic ``timeout_s`` (whole seconds, enforced by the Dojo:
    ``apply``'s ``budget_s`` cannot shorten it and Timeout reports ``timeout_s``). An untraced
    repository raises :class:`DojoNotTraced` instead of tracing. One Lean process, so
    ``max_concurrency`` is 1. Use as a context manager or call close().
    """

    max_concurrency = 1

    def __init__(self, theorem: Any, *, timeout_s: int = 60, startup_timeout_s: int = 600,
                 additional_imports: Sequence[str] = (),
                 lean_dojo: ModuleType | None = None) -> None:
        self.theorem = theorem
        self.timeout_s = max(int(timeout_s), 1)
        self.startup_timeout_s = max(int(startup_timeout_s), 1)
        self.additional_imports = list(additional_imports)
        self._m = lean_dojo
        self._ctx: Any = None
        self._dojo: Any = None
        self._states: dict[tuple[str, ...], Any] = {}
        self.generation = 0
        self.replayed_steps = 0
        self.startup_s = 0.0

    @property
    def lean_dojo(self) -> ModuleType:
        if self._m is None:
            self._m = load_lean_dojo()
        return self._m

    def _open(self) -> None:
        """Enter a new Dojo (closing any current one); its initial state is path (). Raises
        DojoNotTraced before lean-dojo could start tracing."""
        self.close()
        m = self.lean_dojo
        repo = getattr(self.theorem, "repo", None)

        def traced() -> None:  # under the start-up limit: it takes lean-dojo's cache lock
            if repo is not None and not m.is_available_in_cache(repo):
                raise DojoNotTraced(repo, trace_command(getattr(repo, "url", repo),
                                                        getattr(repo, "commit", None)))

        ctx = m.Dojo(self.theorem, timeout=self.startup_timeout_s,
                     additional_imports=list(self.additional_imports))
        began = time.monotonic()
        self._dojo, init = enter_bounded(ctx, self.startup_timeout_s, traced)
        self.startup_s = time.monotonic() - began
        self._ctx = ctx
        self._dojo.timeout = self.timeout_s  # start-up is over: tactics get their own budget
        proc = getattr(self._dojo, "proc", None)
        if proc is not None:
            proc.timeout = self.timeout_s
        self._states = {(): init}
        self.generation += 1

    def close(self) -> None:
        """Exit the current Dojo (lean-dojo kills its Lean process tree)."""
        ctx, self._ctx, self._dojo, self._states = self._ctx, None, None, {}
        if ctx is not None:
            try:
                ctx.__exit__(None, None, None)
            except Exception as exc:  # a dead Dojo may fail to exit; nothing left to do
                warnings.warn(f"closing the Dojo failed: {exc}", stacklevel=2)

    def __enter__(self) -> LeanDojoEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _state(self, tactic_state: Any, path: tuple[str, ...]) -> State:
        text = str(tactic_state.pp)
        return State(text, tuple(g for g in text.split("\n\n") if g.strip()),
                     handle=DojoPath(path))

    def _materialize(self, path: tuple[str, ...]) -> Any:
        """The TacticState of ``path`` in the current Dojo (opened, and the path replayed from
        its longest known prefix, as needed)."""
        if self._ctx is None:
            self._open()
        known = len(path)
        while path[:known] not in self._states:
            known -= 1
        current = self._states[path[:known]]
        for i in range(known, len(path)):
            result = self._dojo.run_tac(current, path[i])
            self.replayed_steps += 1
            if not isinstance(result, self.lean_dojo.TacticState):
                raise _ReplayDiverged(f"replaying {path[i]!r} at depth {i} gave "
                                      f"{type(result).__name__}, not a TacticState")
            current = self._states[path[:i + 1]] = result
        return current

    def initial_state(self) -> State:
        """The theorem's initial state. Raises lean_dojo's DojoInitError and friends."""
        if self._ctx is None:
            self._open()
        return self._state(self._states[()], ())

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        """``dojo.run_tac`` on ``state`` (rebuilt by replay if its Dojo is gone)."""
        if not isinstance(state.handle, DojoPath):
            raise ValueError("state was not produced by this LeanDojoEnv")
        m = self.lean_dojo
        path = state.handle.tactics
        try:
            result = self._dojo_run(path, tactic)
        except m.DojoTacticTimeoutError:
            self._reopen_after_timeout()
            return Timeout(float(self.timeout_s))
        except (m.DojoCrashError, m.DojoInitError, DojoStartupTimeout) as exc:  # reopening
            self.close()
            return Crashed(f"{type(exc).__name__}: {exc}")
        except _ReplayDiverged as exc:
            return Crashed(str(exc))
        new_path = (*path, tactic)
        if isinstance(result, m.TacticState):
            self._states[new_path] = result
            return Progress(self._state(result, new_path))
        if isinstance(result, m.ProofFinished):
            return Proved({"backend": "lean-dojo", "tactics": list(new_path),
                           "theorem": str(getattr(self.theorem, "full_name", self.theorem)),
                           "tactic_state_id": getattr(result, "tactic_state_id", None)})
        if isinstance(result, m.ProofGivenUp):
            return Failed("proof given up: it contains `sorry`")
        if isinstance(result, m.LeanError):
            return Failed(str(result.error))
        return Failed(f"unexpected Dojo result {type(result).__name__}")

    def _dojo_run(self, path: tuple[str, ...], tactic: str) -> Any:
        current = self._materialize(path)
        return self._dojo.run_tac(current, tactic)

    def _reopen_after_timeout(self) -> None:
        """LeanDojo#218: the timed-out tactic keeps Lean busy, so start a fresh Dojo now; its
        states are rebuilt by replay when next used. A failing reopen is retried then."""
        try:
            self._open()
        except Exception as exc:  # DojoInitError, a crash... the next apply retries
            self.close()
            warnings.warn(f"reopening the Dojo after a timeout failed: {exc}", stacklevel=3)
