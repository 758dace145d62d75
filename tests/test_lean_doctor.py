"""``proofgraph doctor`` and ``scripts/setup_lean.sh`` without a Lean toolchain: here the doctor
must exit non-zero with one clear line (and a fix) per missing piece; with a fake ``lake`` and
``lean`` on PATH it reports their versions and checks the toolchain pin; the setup script
stops at the first step that cannot work with a message saying which."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "setup_lean.sh"


def tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def doctor(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    for name in ("PROOFGRAPH_LEAN_REPL_CMD", "PROOFGRAPH_LEAN_REPL", "PROOFGRAPH_LEAN_PROJECT"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "proofgraph.cli", "doctor", *args],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


def test_doctor_without_lean_exits_nonzero_with_fixes() -> None:
    done = doctor(os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    for name in ("lake", "lean", "toolchain", "REPL binary", "REPL commit", "Mathlib",
                 "header import"):
        line = next(row for row in lines if row.startswith(name))
        assert " FAIL " in line, line
    assert "fix:    run scripts/setup_lean.sh" in done.stdout
    assert done.stdout.rstrip().endswith("NOT ready: fix the FAIL lines above")


def test_doctor_reports_the_versions_of_lake_and_lean(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(bin_dir, "lake", 'echo "Lake version 5.0.0-abc (Lean version 4.20.0)"')
    tool(bin_dir, "lean", 'echo "Lean (version 4.20.0, x86_64-unknown-linux-gnu, commit '
                          'abc, Release)"')
    done = doctor(f"{bin_dir}:{os.path.dirname(sys.executable)}:/usr/bin:/bin", "--json")
    assert done.returncode == 1  # no REPL binary, no Mathlib here
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["lake"]["ok"] and "Lake version 5.0.0-abc" in checks["lake"]["found"]
    assert checks["lean"]["ok"] and "version 4.20.0" in checks["lean"]["found"]
    assert checks["toolchain"]["ok"]  # lean 4.20.0 = lean_project/lean-toolchain
    assert not checks["REPL binary"]["ok"] and not checks["header import"]["ok"]
    tool(bin_dir, "lean", 'echo "Lean (version 4.19.0, x86_64-unknown-linux-gnu, Release)"')
    done = doctor(f"{bin_dir}:{os.path.dirname(sys.executable)}:/usr/bin:/bin", "--json")
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert not checks["toolchain"]["ok"] and "elan toolchain install" in checks["toolchain"]["fix"]


@pytest.fixture
def fake_tools(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool(bin_dir, "elan", 'case "$1" in --version) echo "elan 4.0.0";; *) exit 0;; esac')
    tool(bin_dir, "lake", 'echo "lake $*" >> "$HOME/lake.log"; exit 1')
    for name in ("git", "python3"):
        real = subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True,
                              text=True).stdout.strip()
        if real:
            (bin_dir / name).symlink_to(real)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return bin_dir, env


def run_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_setup_stops_at_a_wrong_lean_version(fake_tools: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = fake_tools
    tool(bin_dir, "lean", 'echo "Lean (version 4.19.0, x86_64-unknown-linux-gnu, Release)"')
    done = run_setup(env)
    assert done.returncode == 1
    assert "expected version 4.20.0" in done.stderr
    assert not (Path(env["HOME"]) / "lake.log").exists()  # stopped before any lake step


def test_setup_stops_when_lake_update_fails(fake_tools: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = fake_tools
    tool(bin_dir, "lean", 'echo "Lean (version 4.20.0, x86_64-unknown-linux-gnu, Release)"')
    done = run_setup(env)
    assert done.returncode == 1
    assert "lake update failed" in done.stderr and "16054ca" in done.stdout
    assert (Path(env["HOME"]) / "lake.log").read_text().strip() == "lake update"


def test_setup_refuses_unknown_arguments() -> None:
    done = subprocess.run(["bash", str(SETUP), "--trace-repo", "/x"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "go with --with-dojo" in done.stderr


def test_lakefile_pins_the_repl_commit_and_mathlib() -> None:
    lakefile = (ROOT / "lean_project" / "lakefile.lean").read_text()
    assert '@ "16054ca34b80803d6621dccd11882ca2ea03e215"' in lakefile
    assert '@ "v4.20.0"' not in lakefile  # no such tag in the REPL repository
    assert "mathlib4\" @ \"c211948581bde9846a99e32d97a03f0d5307c31e\"" in lakefile
    assert (ROOT / "lean_project" / "lean-toolchain").read_text().strip() == \
        "leanprover/lean4:v4.20.0"
