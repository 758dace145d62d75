"""Architecture rules that must not erode: layering, no eval/exec, no network at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("proofgraph", "search", "prover", "formalizer")
FORBIDDEN = {
    "search": {"proofgraph", "prover", "formalizer"},
    "prover": {"proofgraph", "formalizer"},
    "formalizer": {"proofgraph", "search"},
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_depend_downward_only(package: str) -> None:
    files = _modules(package)
    assert files, f"{package}/ has no modules"
    for path in files:
        bad = _imported_roots(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_eval_or_exec_anywhere() -> None:
    for package in (*PACKAGES, "scripts"):
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id not in ("eval", "exec"), f"{path}:{node.lineno}"


def test_importing_every_module_touches_no_network() -> None:
    script = f"""
import importlib, pkgutil, socket, sys
sys.path.insert(0, {str(ROOT)!r})
def refuse(*args, **kwargs):
    raise AssertionError("network access at import: " + repr(args))
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
count = 0
for name in {PACKAGES!r}:
    package = importlib.import_module(name)
    count += 1
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
        count += 1
print(count)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 20


Z3_ALLOWED = {  # the naive fresh-solver baselines keep their own z3
    "scripts/bench_stepcheck.py", "scripts/bench_check_e2e.py"}


def test_only_the_z3_gateway_package_imports_z3() -> None:
    """Every Z3 call goes through prover/z3/ (one gateway: limits, guard, classification)."""
    offenders = []
    for package in (*PACKAGES, "scripts"):
        for path in _modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("prover/z3/") or rel in Z3_ALLOWED:
                continue
            if "z3" in _imported_roots(path):
                offenders.append(rel)
    assert not offenders, f"import z3 outside prover/z3/: {offenders}"


def _context_constructions(path: Path) -> list[int]:
    """Lines where ``path`` calls ``z3.Context(...)``, ``Context(...)`` imported from z3, or
    ``Z3_mk_context``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    from_z3 = {alias.asname or alias.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module == "z3"
               for alias in node.names if alias.name in ("Context", "Z3_mk_context")}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in ("Context", "Z3_mk_context")
                and isinstance(func.value, ast.Name) and func.value.id == "z3"):
            lines.append(node.lineno)
        elif isinstance(func, ast.Name) and func.id in from_z3:
            lines.append(node.lineno)
    return lines


def test_only_contexts_module_makes_z3_contexts() -> None:
    """Every Z3 context in our packages is made by prover/z3/contexts.py, whose memory check
    refuses one that would not fit under Z3's cap (a plain ``z3.Context()`` there crashes the
    process)."""
    offenders = []
    for package in PACKAGES:
        for path in _modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel != "prover/z3/contexts.py":
                offenders += [f"{rel}:{line}" for line in _context_constructions(path)]
    assert not offenders, f"Z3 contexts made outside prover/z3/contexts.py: {offenders}"
    own = _context_constructions(ROOT / "prover" / "z3" / "contexts.py")
    assert own, "the rule found no construction in contexts.py: it no longer sees them"


def test_arith_checker_and_z3_backend_form_no_import_circle() -> None:
    """prover/arith/* is syntax + the exact checker: it may call the Z3 backend, never the
    reverse (the backend imports only arith's syntax modules)."""
    backend = ROOT / "prover" / "z3" / "arith.py"
    tree = ast.parse(backend.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "prover.arith.check" not in imported
