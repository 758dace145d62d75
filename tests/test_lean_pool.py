"""The per-header pool of Lean REPL processes (prover.lean.pool.HeaderPool) and the process
rules under it, against the stand-in REPL in simulator mode over real pipes: one process per
import block, each block imported exactly once per process, LRU eviction, recycling by request
count and by the RSS watermark read from /proc, restart from the header after a crash,
RLIMIT_AS set by a wrapper (never a preexec_fn), the whole command line from
PROOFGRAPH_LEAN_REPL_CMD / repl_command, and headers ending in a docstring."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from fake_lean_repl import argv

from prover.lean import repl as repl_mod
from prover.lean.env import LeanReplEnv
from prover.lean.pool import HeaderPool, default_pool_size, imports_key
from prover.lean.repl import LeanRepl, ReplConfig, rlimit_argv
from search.protocols import Crashed, Proved

SORRY = {"env": 0, "sorries": [{"goal": "n : Nat\n⊢ n = n", "proofState": 0,
                                "pos": {"line": 1, "column": 30},
                                "endPos": {"line": 1, "column": 35}}],
         "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8},
                       "endPos": {"line": 1, "column": 9},
                       "data": "declaration uses 'sorry'"}]}
DONE = {"proofState": 0, "goals": [], "proofStatus": "Completed"}
STATEMENT = "theorem t (n : Nat) : n = n"
SIM = [["import A", {"env": 0}], ["import B", {"env": 0}], ["import C", {"env": 0}],
       ["open X", {"env": 0}], ["open Y", {"env": 0}],
       [f"{STATEMENT} := by sorry", SORRY], ["rfl", DONE], ["boom", "DIE"]]


def sim_config(tmp_path: Path, **kwargs: object) -> tuple[ReplConfig, Path]:
    script, log = tmp_path / "sim.json", tmp_path / "log"
    script.write_text(json.dumps({"match": SIM}))
    values: dict = {"cwd": None, "memory_limit_mb": 2048, **kwargs}
    return ReplConfig(command=argv(script, "--log", str(log)), **values), log


def requests_by_pid(log: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        request = entry["request"]
        out[entry["pid"]].append(request.get("cmd", request.get("tactic", "")))
    return out


def prove_once(pool: HeaderPool | LeanRepl, header: str) -> None:
    env = LeanReplEnv(STATEMENT, pool, header=header)
    assert isinstance(env.apply(env.initial_state(), "rfl", 5), Proved)


def test_one_process_per_import_block_each_imported_once_lru(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path)
    with HeaderPool(config, max_processes=2) as pool:
        prove_once(pool, "import A")
        prove_once(pool, "import B\nopen X")
        prove_once(pool, "import A\nopen Y")  # same import block: the warm process
        prove_once(pool, "import A")
        assert pool.stats.created == 2 and pool.stats.evicted == 0
        prove_once(pool, "import C")  # evicts the least recently used: B's process
        assert pool.stats.created == 3 and pool.stats.evicted == 1
        assert sorted(pool.keys()) == ["import A", "import C"]
    per_pid = requests_by_pid(log)
    assert len(per_pid) == 3
    for sent in per_pid.values():
        imports = [r for r in sent if r.startswith("import")]
        assert len(imports) == 1  # each process imports exactly once, one block only
    a_process = next(s for s in per_pid.values() if "import A" in s)
    # two headers (with and without `open Y`), one statement command each, cached after
    assert a_process.count("open Y") == 1 and a_process.count(f"{STATEMENT} := by sorry") == 2


def test_a_process_never_imports_a_second_block(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path)
    with LeanRepl(config) as repl:
        assert repl.header_env("import A") == 0
        first = repl.pid
        repl.header_env("import B")  # another block: a new process, never a second import
        assert repl.pid != first and repl.generation == 2 and repl.imports == "import B"
    assert [sorted(s) for s in requests_by_pid(log).values()] == [["import A"], ["import B"]]


def test_recycled_after_max_uses_and_header_reimported(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path, max_uses=3)
    with HeaderPool(config, max_processes=1) as pool:
        prove_once(pool, "import A")  # import, sorry command, rfl: 3 uses
        prove_once(pool, "import A")
        assert pool.stats.recycled_uses == 1
    per_pid = requests_by_pid(log)
    assert len(per_pid) == 2 and all(s[0] == "import A" for s in per_pid.values())


def test_rss_watermark_from_proc_recycles(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path)
    with HeaderPool(config, max_processes=1, rss_watermark_mb=1) as pool:
        prove_once(pool, "import A")
        (repl,) = pool.repls
        assert repl.rss_bytes() > 1024 * 1024  # read from /proc/<pid>/status
        prove_once(pool, "import A")
        recycled = pool.stats.recycled_rss  # every lease after the first: always above 1 MB
        assert recycled >= 1 and repl.generation == 1 + recycled
    per_pid = requests_by_pid(log)
    assert len(per_pid) == 1 + recycled and all(s[0] == "import A" for s in per_pid.values())


def test_crash_restarts_from_the_header(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path)
    with HeaderPool(config, max_processes=1) as pool:
        env = LeanReplEnv(STATEMENT, pool, header="import A\nopen X")
        root = env.initial_state()
        crashed = env.apply(root, "boom", 5)
        assert isinstance(crashed, Crashed) and "exit code 3" in crashed.message
        assert isinstance(env.apply(root, "rfl", 5), Proved)
        assert pool.stats.restarted_after_crash == 1
    first, second = requests_by_pid(log).values()
    assert first[:2] == second[:2] == ["import A", "open X"]


def test_memory_limit_is_set_by_a_wrapper_not_preexec_fn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = [sys.executable, "-S", "-c", "print(open('/proc/self/limits').read())"]
    for wrapper in (None, ""):  # prlimit from PATH, then the Python exec wrapper
        command = rlimit_argv(probe, 700, prlimit=wrapper)
        assert command[-len(probe):] == probe and len(command) > len(probe)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        line = next(r for r in out.splitlines() if r.startswith("Max address space"))
        assert line.split()[3:5] == [str(700 * 1024 * 1024)] * 2
    assert rlimit_argv(probe, None) == probe
    seen: dict = {}
    real = subprocess.Popen

    def spy(*args: object, **kwargs: object) -> subprocess.Popen:
        seen.update(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repl_mod.subprocess, "Popen", spy)
    config, _ = sim_config(tmp_path)
    with LeanRepl(config) as repl:
        repl.start()
    assert seen.get("preexec_fn") is None and seen["start_new_session"] is True


def test_default_pool_size_from_cores_and_memory() -> None:
    assert default_pool_size(8192, cores=8, memory_mb=20000) == 2  # memory-bound
    assert default_pool_size(8192, cores=3, memory_mb=100000) == 2  # cores - 1
    assert default_pool_size(8192, cores=1, memory_mb=100) == 1  # at least one
    assert HeaderPool(ReplConfig(memory_limit_mb=4096), max_processes=None).size >= 1
    assert HeaderPool(ReplConfig(memory_limit_mb=4096)).rss_watermark_mb == 3276


def test_whole_command_line_from_env_or_option(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = sim_config(tmp_path)
    line = shlex.join(config.command)
    monkeypatch.setenv("PROOFGRAPH_LEAN_REPL", "/elsewhere/repl")
    monkeypatch.setenv("PROOFGRAPH_LEAN_REPL_CMD", line)
    from_env = ReplConfig.from_env(cwd=None)
    assert from_env.command == config.command and from_env.custom_command
    with LeanRepl(from_env) as repl:
        assert repl.header_env("import A") == 0
    option = ReplConfig.from_env(repl_command="docker run -i 'my image' repl")
    assert option.command == ("docker", "run", "-i", "my image", "repl")
    monkeypatch.delenv("PROOFGRAPH_LEAN_REPL_CMD")
    assert ReplConfig.from_env().command == ("lake", "env", "/elsewhere/repl")


def test_header_ending_in_a_docstring_and_statement_starting_with_one(tmp_path: Path) -> None:
    config, log = sim_config(tmp_path)
    header = "import A\n\nopen X\n\n/-- The theorem's docstring, `n = n` -/\n"
    with HeaderPool(config, max_processes=1) as pool:
        env = LeanReplEnv(f"/-- also one here -/\n{STATEMENT}", pool, header=header)
        assert isinstance(env.apply(env.initial_state(), "rfl", 5), Proved)
        assert "The theorem's docstring" in env.docstring
    (sent,) = requests_by_pid(log).values()
    assert sent == ["import A", "open X", f"{STATEMENT} := by sorry", "rfl"]
    assert imports_key(header) == "import A"


@pytest.mark.parametrize(("header", "statement", "want_header", "want_statement"), [
    ("import A\nopen X\n/-- doc with \"quotes\", -- dashes and `x := y` -/", "theorem t : True",
     "import A\nopen X", "theorem t : True"),
    ("import A\n/-- outer /- nested -/ still doc -/\n", "theorem t : True", "import A",
     "theorem t : True"),
    ("import A\n/-! module doc: a command of its own -/", "theorem t : True",
     "import A\n/-! module doc: a command of its own -/", "theorem t : True"),
    ("import A -- a comment", "-- note\n/-- d -/ theorem t : True", "import A -- a comment",
     "-- note\ntheorem t : True"),
    ("", "/-- d -/\n@[simp] theorem t : True", "", "@[simp] theorem t : True"),
])
def test_docstrings_are_detached_where_they_would_break(header: str, statement: str,
                                                        want_header: str,
                                                        want_statement: str) -> None:
    from prover.lean.header import detach_docstrings

    got_header, got_statement, _ = detach_docstrings(header, statement)
    assert (got_header, got_statement) == (want_header, want_statement)


def test_split_header_keeps_the_import_block_only() -> None:
    from prover.lean.header import split_header

    assert split_header("/- c -/ import Mathlib\nimport Aesop\nimport Mathlib\nopen Real") \
        == ("import Mathlib\nimport Aesop", "open Real")
    assert split_header("open Nat\nimport X") == ("", "open Nat\nimport X")
    assert split_header("") == ("", "")
