"""What the local Lean installation is, and whether ``prove``/``audit`` can use it.

:func:`lean_version` and :func:`repl_commit` are read from the machine (``lean --version`` in
the project, ``lake-manifest.json``), never assumed; :func:`run_checks` is ``proofgraph doctor``:
one :class:`Check` per requirement, each failed one with the command that fixes it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prover.lean.repl import (
    LEAN_PROJECT,
    REPL_BINARY,
    REPL_CMD_ENV,
    REPL_COMMIT,
    LeanRepl,
    LeanSetupError,
    ReplConfig,
    ReplError,
)

SETUP = "scripts/setup_lean.sh"
_VERSION = re.compile(r"version (\d+\.\d+\.\d+(?:-rc\d+)?)")


def _run(argv: list[str], cwd: Path | None, timeout_s: float = 60.0) -> tuple[int, str]:
    """(exit code, stdout+stderr) of ``argv``; 127 when it cannot start, 124 on timeout."""
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except FileNotFoundError as exc:
        return 127, str(exc)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 124, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


@lru_cache(maxsize=8)
def lean_version(cwd: Path | None = LEAN_PROJECT) -> str:
    """``lean --version`` run in ``cwd`` (elan picks that project's toolchain), e.g.
    ``Lean (version 4.20.0, x86_64-unknown-linux-gnu, ...)``; ``unavailable: ...`` when it
    cannot run."""
    if shutil.which("lean") is None:
        return "unavailable: `lean` is not on PATH"
    code, out = _run(["lean", "--version"], cwd if cwd and Path(cwd).is_dir() else None)
    first = out.splitlines()[0] if out else ""
    return first if code == 0 and first else f"unavailable: lean --version exited {code}"


def toolchain(project: Path = LEAN_PROJECT) -> str | None:
    """The project's ``lean-toolchain`` line (``leanprover/lean4:v4.20.0``), None if absent."""
    path = Path(project) / "lean-toolchain"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def repl_commit(project: Path = LEAN_PROJECT) -> str | None:
    """The REPL commit Lake resolved (``lake-manifest.json``), None before ``lake update``."""
    manifest = Path(project) / "lake-manifest.json"
    try:
        packages = json.loads(manifest.read_text(encoding="utf-8")).get("packages", [])
    except (OSError, ValueError, AttributeError):
        return None
    for package in packages:
        if isinstance(package, dict) and str(package.get("name", "")).lower() == "repl":
            return str(package.get("rev")) or None
    return None


def backend_version(config: ReplConfig) -> str:
    """Provenance of the lean-repl backend: the Lean version and REPL commit read here."""
    cwd = Path(config.cwd) if config.cwd else None
    lean = lean_version(cwd)
    if config.custom_command:
        return f"{lean}; REPL via custom command {' '.join(config.command)!r}"
    commit = repl_commit(cwd) if cwd else None
    return f"{lean}; REPL {commit or 'unresolved (run ' + SETUP + ')'}"


def _mathlib_present(project: Path) -> bool:
    return (project / ".lake" / "packages" / "mathlib").is_dir()


@dataclass(frozen=True)
class Check:
    """One doctor line: ``ok``, what was found, the fix when not ok; ``required`` checks
    decide the exit code, optional ones (lean-dojo, GPU) only inform."""

    name: str
    ok: bool
    found: str
    fix: str = ""
    required: bool = True


def _header_import(config: ReplConfig, header: str, timeout_s: float) -> Check:
    start = time.perf_counter()
    try:
        with LeanRepl(config) as repl:
            repl.header_env(header, timeout_s)
    except (ReplError, LeanSetupError) as exc:
        return Check("header import", False, f"{header!r}: {str(exc)[:300]}",
                     f"run {SETUP}; see its output for the first failing step")
    return Check("header import", True, f"{header!r} in {time.perf_counter() - start:.1f}s")


def _lean_dojo() -> list[Check]:
    if importlib.util.find_spec("lean_dojo") is None:
        return [Check("lean-dojo", False, "not installed", "pip install 'proofgraph[lean]' "
                      "(only for --backend leandojo)", required=False)]
    from importlib.metadata import version

    cache = Path(os.environ.get("CACHE_DIR", Path.home() / ".cache" / "lean_dojo"))
    traced = sorted(p.name for p in cache.glob("*")) if cache.is_dir() else []
    return [Check("lean-dojo", True, version("lean-dojo"), required=False),
            Check("lean-dojo traced repos", bool(traced),
                  f"{len(traced)} in {cache}" + (f": {', '.join(traced[:3])}" if traced else ""),
                  f"{SETUP} --with-dojo --trace-repo PATH", required=False)]


def _gpu() -> Check:
    found = []
    if shutil.which("nvidia-smi"):
        code, out = _run(["nvidia-smi", "-L"], None, 20)
        if code == 0 and out:
            found.append(out.splitlines()[0])
    if importlib.util.find_spec("vllm") is not None:
        found.append("vllm installed")
    return Check("GPU / vLLM", bool(found), "; ".join(found) or "no GPU, no vllm",
                 "only for --policy vllm:PATH (a GPU machine with `pip install vllm`)",
                 required=False)


def run_checks(config: ReplConfig | None = None, *, header: str = "import Mathlib",
               import_timeout_s: float = 900.0,
               which: Callable[[str], str | None] = shutil.which) -> list[Check]:
    """Every doctor check, in order (stops importing a header when the REPL is missing)."""
    config = config or ReplConfig.from_env()
    project = Path(config.cwd) if config.cwd else LEAN_PROJECT
    checks: list[Check] = []
    for tool in ("lake", "lean"):
        path = which(tool)
        code, out = _run([tool, "--version"], project if project.is_dir() else None) \
            if path else (127, "")
        checks.append(Check(tool, bool(path) and code == 0,
                            (out.splitlines()[0] if out else "") if path else "not on PATH",
                            f"run {SETUP} (installs elan and the pinned toolchain), then "
                            "export PATH=\"$HOME/.elan/bin:$PATH\""))
    pinned = toolchain(project)
    running = lean_version(project) if which("lean") else "unavailable"
    want = _VERSION.search((pinned or "").replace(":v", " version "))
    have = _VERSION.search(running)
    checks.append(Check("toolchain", bool(want and have and want.group(1) == have.group(1)),
                        f"{project}/lean-toolchain: {pinned}; lean: {running}",
                        f"elan toolchain install {pinned} (or run {SETUP})"))
    if config.custom_command:
        checks.append(Check("REPL command", True, f"{REPL_CMD_ENV}/--repl-command: "
                            f"{' '.join(config.command)}"))
    else:
        binary = Path(config.command[-1])
        binary = binary if binary.is_absolute() else project / binary
        commit = repl_commit(project)
        checks.append(Check("REPL binary", binary.is_file(), str(binary),
                            f"run {SETUP} (builds {REPL_BINARY})"))
        checks.append(Check("REPL commit", commit == REPL_COMMIT,
                            commit or "not resolved (no lake-manifest.json entry)",
                            f"delete {project}/lake-manifest.json and run {SETUP} (pin "
                            f"{REPL_COMMIT[:7]})"))
    needs_mathlib = "Mathlib" in header
    if needs_mathlib and not config.custom_command:
        checks.append(Check("Mathlib", _mathlib_present(project),
                            str(project / ".lake" / "packages" / "mathlib"),
                            f"run {SETUP} (lean_project requires Mathlib v4.20.0 and "
                            "downloads its cache), or point PROOFGRAPH_LEAN_PROJECT at a "
                            "Mathlib project"))
    if all(c.ok for c in checks if c.required):
        checks.append(_header_import(config, header, import_timeout_s))
    else:
        checks.append(Check("header import", False, f"{header!r}: not tried, fix the lines "
                            "above first",
                            f"run {SETUP}"))
    checks.extend(_lean_dojo())
    checks.append(_gpu())
    return checks


def render(checks: list[Check]) -> str:
    """The checks as an aligned text table, one fix line under each failed check."""
    width = max(len(c.name) for c in checks)
    lines = [f"{'check'.ljust(width)}  status  found", f"{'-' * width}  ------  -----"]
    for c in checks:
        status = "ok" if c.ok else ("FAIL" if c.required else "absent")
        lines.append(f"{c.name.ljust(width)}  {status.ljust(6)}  {c.found}")
        if not c.ok and c.fix:
            lines.append(f"{''.ljust(width)}  fix:    {c.fix}")
    return "\n".join(lines)


def healthy(checks: list[Check]) -> bool:
    """True when every required check passed."""
    return all(c.ok for c in checks if c.required)
