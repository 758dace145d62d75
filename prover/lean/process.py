"""How one Lean REPL process is started and bounded: :class:`ReplConfig` (command, project,
memory cap, recycling, budgets), the ``RLIMIT_AS`` exec wrapper, process-group and RSS readings
from ``/proc``, and the error types every REPL caller sees. The client that talks to a started
process is :mod:`prover.lean.repl`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LEAN_PROJECT = Path(__file__).resolve().parents[2] / "lean_project"
REPL_BINARY = ".lake/packages/REPL/.lake/build/bin/repl"
DEFAULT_COMMAND = ("lake", "env", REPL_BINARY)
REPL_COMMIT = "16054ca34b80803d6621dccd11882ca2ea03e215"
"""leanprover-community/repl at its v4.20.0 bump (branch bump_to_v4.20.0; no v4.20.0 tag)."""
REPL_CMD_ENV = "PROOFGRAPH_LEAN_REPL_CMD"
_RLIMIT_WRAPPER = ("import os, resource, sys; n = int(sys.argv[1]); "
                   "resource.setrlimit(resource.RLIMIT_AS, (n, n)); "
                   "os.execvp(sys.argv[2], sys.argv[2:])")


class ReplError(RuntimeError):
    """Broken infrastructure around the REPL (never a verdict about a proof)."""


class ReplCommandError(ValueError):
    """A REPL command line (``--repl-command``, ``PROOFGRAPH_LEAN_REPL_CMD``) that cannot be
    shell-split: a usage error, not a row's failure."""


class LeanUnavailable(ReplError):
    """The REPL command could not be started (no ``lake``, no project, no binary)."""


class ReplTimeout(ReplError):
    """A request exceeded its wall-clock budget; the process group was killed."""

    def __init__(self, timeout_s: float, what: str = "request") -> None:
        super().__init__(f"Lean REPL {what} exceeded {timeout_s:g}s; process group killed")
        self.timeout_s = timeout_s
        self.what = what


class ReplCrashed(ReplError):
    """The REPL process died or wrote something that is not a protocol response."""


class ReplFramingError(ReplCrashed):
    """The reply could not be tied to its request (extra or forged output); process killed."""


class LeanSetupError(ValueError):
    """The header or the theorem statement does not elaborate (a user error, not a crash)."""


def rlimit_argv(command: Sequence[str], limit_mb: int | None, *,
                prlimit: str | None = None) -> list[str]:
    """``command`` prefixed by a wrapper that sets ``RLIMIT_AS`` to ``limit_mb`` and execs it:
    ``prlimit --as=N:N --`` when util-linux's ``prlimit`` is on PATH, else ``python -S -c``
    (same effect, the wrapper execs so the pid and process group are the REPL's)."""
    if not limit_mb:
        return list(command)
    limit = int(limit_mb) * 1024 * 1024
    tool = prlimit if prlimit is not None else shutil.which("prlimit")
    if tool:
        return [tool, f"--as={limit}:{limit}", "--", *command]
    return [sys.executable, "-S", "-c", _RLIMIT_WRAPPER, str(limit), *command]


@dataclass(frozen=True)
class ReplConfig:
    """How to start one REPL process: ``command`` run in ``cwd`` with ``env`` added, under
    ``RLIMIT_AS`` = ``memory_limit_mb`` (None = unlimited); recycled after ``max_uses`` requests
    or above ``rss_limit_mb`` of resident memory (None = never); budgets for the header import
    and for single commands. ``framing`` turns the sentinel/id checks off (only for a REPL fork
    that answers differently; never needed with the pinned REPL)."""

    command: Sequence[str] = DEFAULT_COMMAND
    cwd: Path | None = LEAN_PROJECT
    env: Mapping[str, str] = field(default_factory=dict)
    memory_limit_mb: int | None = 16384
    max_uses: int | None = 2000
    rss_limit_mb: int | None = None
    header_timeout_s: float = 600.0
    command_timeout_s: float = 120.0
    framing: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", tuple(self.command))
        if not self.command:
            raise ValueError("ReplConfig.command is empty")
        if self.max_uses is not None and self.max_uses < 1:
            raise ValueError("ReplConfig.max_uses must be >= 1 or None")

    @property
    def custom_command(self) -> bool:
        """True when the command is not ``lake env <repl binary>`` (a container, a wrapper)."""
        return not (len(self.command) == 3 and self.command[:2] == ("lake", "env"))

    @classmethod
    def from_env(cls, repl_command: str | None = None, **overrides: Any) -> ReplConfig:
        """Defaults, then ``PROOFGRAPH_LEAN_PROJECT`` (the Lake project dir),
        ``PROOFGRAPH_LEAN_REPL`` (the repl binary, run as ``lake env BINARY``), then the whole
        command line ``repl_command`` or else ``PROOFGRAPH_LEAN_REPL_CMD`` (shell-split; it
        overrides ``lake env <repl>``), then ``overrides``."""
        values: dict[str, Any] = {}
        if project := os.environ.get("PROOFGRAPH_LEAN_PROJECT"):
            values["cwd"] = Path(project)
        if binary := os.environ.get("PROOFGRAPH_LEAN_REPL"):
            values["command"] = ("lake", "env", binary)
        whole = repl_command if repl_command is not None else os.environ.get(REPL_CMD_ENV)
        if whole is not None and whole.strip():
            origin = "--repl-command" if repl_command is not None else REPL_CMD_ENV
            values["command"] = split_command(whole, origin)
        values.update(overrides)
        return cls(**values)


def group_pids(pgid: int) -> list[int]:
    """Pids of the live processes in process group ``pgid`` (Linux /proc)."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields_ = stat.rsplit(")", 1)[-1].split()
        if len(fields_) > 2 and fields_[2] == str(pgid) and fields_[0] != "Z":
            out.append(int(entry.name))
    return out


def rss_bytes(pid: int) -> int:
    """``VmRSS`` of ``pid`` from ``/proc/<pid>/status`` (0 when gone or not shown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def check_executable(config: ReplConfig) -> None:
    """Raise LeanUnavailable unless the command's program exists and is executable (the
    memory wrapper would otherwise fail only after it started)."""
    program = config.command[0]
    if "/" in program:
        path = Path(program)
        if not path.is_absolute() and config.cwd is not None:
            path = Path(config.cwd) / path
        found = path.is_file() and os.access(path, os.X_OK)
    else:
        search = {**os.environ, **config.env}.get("PATH", os.defpath)
        found = shutil.which(program, path=search) is not None
    if not found:
        raise LeanUnavailable(f"cannot start {list(config.command)}: {program!r} is not an "
                              "executable here (install Lean with scripts/setup_lean.sh, or "
                              f"give the whole command with --repl-command / {REPL_CMD_ENV})")


def with_command(config: ReplConfig, repl_command: str | None) -> ReplConfig:
    """``config`` with its command replaced by the shell-split ``repl_command`` (if given)."""
    if repl_command is None or not repl_command.strip():
        return config
    return replace(config, command=split_command(repl_command))


def split_command(text: str, origin: str = "--repl-command") -> tuple[str, ...]:
    """``text`` shell-split into a command line; :class:`ReplCommandError` (one clear line
    naming ``origin``) when it cannot be split, e.g. an unclosed quote."""
    try:
        return tuple(shlex.split(text))
    except ValueError as err:
        raise ReplCommandError(f"{origin} {text!r} is not a command line: {err}") from None
