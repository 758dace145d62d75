"""End-to-end speed of ``proofgraph check --store`` against a naive fresh-Z3-solver-per-claim
loop over the same claims, in the same run, and the share of time per stage.

    python scripts/bench_check_e2e.py ../shared/data/gsm8k/train.jsonl [--profile-rows 2000]
        [--workers 1 2 default]

1. ``proofgraph check DATA --store S --json`` in a subprocess: claims/s from its summary
   (claims checked / in-run wall time) and from the outside (wall time with start-up).
2. The naive loop: every claim with a formal form that run decided, checked alone by a new
   ``z3.Solver`` (``(assert (not CLAIM))``, free symbols declared Real): claims/s.
3. Stage shares on the first ``--profile-rows`` rows under cProfile (in process): read (the
   input reader), extract (the claim extractor), check (the step checker without
   extraction), graph (proof-graph building), prepare (the graph, result and verdicts as store
   rows, done where the row was checked), store (store writes and the JSONL lines), the
   rest (runner, summary, reading results back).
Each end-to-end run also reports the CPU seconds of the parent process and of its workers
(the rest), and the 1-minute load average before and after it.
Run the script from another tree (``PYTHONPATH=OTHER_TREE``) to measure that tree's code.
Each run also reports ``ratio_cpu``: claims per CPU second of the check run (every process,
start-up included) over the naive loop's claims per CPU second, a figure a busy machine
disturbs less than the wall-clock ratio.
Machines are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_SYMBOL = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)")
_SMT_WORDS = frozenset({"and", "or", "not", "true", "false", "div", "mod", "abs", "to_real",
                        "to_int", "ite", "distinct", "let", "forall", "exists", "Real", "Int"})
#: (stage, module path suffix, function name): cumulative time of these functions
_STAGES = (
    ("read", "formalizer/inputs.py", "read_solutions"),
    ("extract", "formalizer/extract.py", "extract_claims"),
    ("check+extract", "formalizer/stepcheck.py", "check"),
    ("graph", "prover/records/graph.py", "solution_graph"),
    ("prepare", "prover/records/prepared.py", "prepare_item"),
    ("store", "prover/records/runs.py", "commit"),
    ("store-final", "prover/records/runs.py", "flush"),
    ("collect", "prover/records/runs.py", "results"),
)


def end_to_end(data: Path, workdir: Path, workers: str = "1") -> dict[str, Any]:
    """Run the CLI on ``data`` with a fresh store (``--workers``, none for ``default``: the
    CLI's own choice); its summary plus the outside wall time."""
    store = workdir / f"e2e-{workers}.sqlite"
    cmd = [sys.executable, "-c", _PARENT_CPU, "check", str(data.resolve()), "--store",
           str(store.resolve()), "--json", "--no-progress"]
    if workers != "default":
        cmd += ["--workers", workers]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # run in the work folder: ``python -c`` puts its working directory first on sys.path, so
    # from a checkout's root it would import that checkout, not PYTHONPATH's tree
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=workdir)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = re.findall(r"^PARENT_CPU_S (\S+)$", proc.stderr, re.MULTILINE)
    parent = float(found[-1]) if found else None
    return {"summary": summary, "outside_wall_s": wall, "cpu_s": cpu, "store": store,
            "parent_cpu_s": parent, "load_1min": (load, os.getloadavg()[0])}


#: the CLI, then its own CPU seconds on stderr (the rest of the run's CPU is its workers')
_PARENT_CPU = (
    "import resource, sys\n"
    "from proofgraph.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "use = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(f'PARENT_CPU_S {use.ru_utime + use.ru_stime:.3f}', file=sys.stderr)\n"
    "sys.exit(code)\n")


def stored_claims(store: Path) -> list[str]:
    """The formal form of every decided claim of the (only) run in ``store``."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    out = []
    for (text,) in conn.execute("SELECT result_json FROM items ORDER BY seq"):
        result = json.loads(text)
        for step in result.get("steps") or []:
            for claim in step.get("claims") or []:
                if claim.get("verdict") and claim.get("formal"):
                    out.append(claim["formal"])
    conn.close()
    return out


def naive(claims: list[str], timeout_ms: int = 2000) -> tuple[float, int, float]:
    """A fresh Solver per claim; returns (seconds, claims proved, CPU seconds)."""
    import z3

    proved = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    for formal in claims:
        names = sorted({m for m in _SYMBOL.findall(formal) if m not in _SMT_WORDS})
        decls = "".join(f"(declare-const {n} Real)" for n in names)
        solver = z3.Solver()
        solver.set("timeout", timeout_ms)
        try:
            solver.add(z3.parse_smt2_string(f"{decls}(assert (not {formal}))"))
        except z3.Z3Exception:
            continue
        proved += solver.check() == z3.unsat
    return time.perf_counter() - start, proved, time.process_time() - cpu_start


def stage_shares(data: Path, rows: int, workdir: Path) -> dict[str, Any]:
    """Profile ``check --store`` on the first ``rows`` rows in process; shares per stage."""
    from proofgraph.cli import main

    head = workdir / "head.jsonl"
    with data.open(encoding="utf-8") as src, head.open("w", encoding="utf-8") as dst:
        for _, line in zip(range(rows), src, strict=False):
            dst.write(line)
    store = workdir / "profile.sqlite"
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    # --in-process: the rows are checked here, under the profiler (by default they run in a
    # worker process, and the profile would hold only the parent's share)
    code = main(["check", str(head), "--store", str(store), "--json", "--no-progress",
                 "--in-process"])
    profiler.disable()
    total = time.perf_counter() - start
    if code not in (0, 3):
        raise SystemExit(f"profiled check failed ({code})")
    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]
    keys: dict[str, tuple[str, int, str]] = {}
    cum: dict[str, float] = {}
    for key, (_, _, _, ct, _) in raw.items():
        filename, _, name = key
        for stage, suffix, func in _STAGES:
            if name == func and filename.replace(os.sep, "/").endswith(suffix):
                cum[stage] = cum.get(stage, 0.0) + ct
                keys[stage] = key
    if "store" in keys and "store-final" in keys:  # flush called from commit: count it once
        nested = raw[keys["store-final"]][4].get(keys["store"])
        if nested is not None:
            cum["store-final"] -= nested[3]
    check = cum.get("check+extract", 0.0) - cum.get("extract", 0.0)
    store_s = cum.get("store", 0.0) + cum.get("store-final", 0.0)
    parts = {"read": cum.get("read", 0.0), "extract": cum.get("extract", 0.0), "check": check,
             "graph": cum.get("graph", 0.0), "store": store_s,
             "prepare": cum.get("prepare", 0.0),
             "collect": cum.get("collect", 0.0)}
    parts["other"] = max(total - sum(parts.values()), 0.0)
    return {"rows": rows, "profiled_wall_s": round(total, 3),
            "seconds": {k: round(v, 3) for k, v in parts.items()},
            "share": {k: round(v / total, 3) for k, v in parts.items()}}


def _workers_value(text: str) -> str:
    """A ``--workers`` value of this script: a positive count or ``default``."""
    if text == "default" or (text.isdigit() and int(text) > 0):
        return text
    raise argparse.ArgumentTypeError(f"expected a positive count or 'default', got {text!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="GSM8K train.jsonl")
    parser.add_argument("--profile-rows", type=int, default=2000,
                        help="rows for the stage profile (0: skip)")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    parser.add_argument("--workers", type=_workers_value, nargs="+", default=["1"],
                        help="end-to-end runs with these --workers values (default: 1; "
                             "'default': no --workers, the CLI's own choice); the first "
                             "one's claims feed the naive loop")
    parser.add_argument("--profile-only", action="store_true",
                        help="only the stage profile (no end-to-end run, no naive loop)")
    args = parser.parse_args()
    if args.profile_only:
        with tempfile.TemporaryDirectory() as tmp:
            shares = stage_shares(args.data, args.profile_rows, Path(tmp))
        print(json.dumps(shares, indent=2))
        if args.json_out:
            args.json_out.write_text(json.dumps(shares, indent=2) + "\n", encoding="utf-8")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = [end_to_end(args.data, work, workers) for workers in args.workers]
        claims = stored_claims(runs[0]["store"])
        naive_s, proved, naive_cpu_s = naive(claims)
        shares = stage_shares(args.data, args.profile_rows, work) if args.profile_rows else None
    naive_rate = len(claims) / naive_s
    figures: dict[str, Any] = {"naive_claims": len(claims), "naive_proved": proved,
                               "naive_wall_s": round(naive_s, 3),
                               "naive_claims_per_s": round(naive_rate, 1),
                               "naive_cpu_s": round(naive_cpu_s, 3), "stages": shares}
    for workers, e2e in zip(args.workers, runs, strict=True):
        summary = e2e["summary"]
        ours = summary["claims_checked_now"] / summary["wall_s"]
        outside = summary["claims_checked_now"] / e2e["outside_wall_s"]
        figures[f"workers_{workers}"] = {
            "rows": summary["solutions"] + summary["rejected"],
            "claims": summary["claims_checked_now"], "check_wall_s": summary["wall_s"],
            "check_claims_per_s": round(ours, 1),
            "check_claims_per_s_with_startup": round(outside, 1),
            "ratio": round(ours / naive_rate, 2),
            # CPU seconds (all processes of the run, start-up included) against the naive
            # loop's: less sensitive to a loaded machine than the wall-clock ratio
            "check_cpu_s": round(e2e["cpu_s"], 3),
            "parent_cpu_s": e2e["parent_cpu_s"],
            "workers_cpu_s": round(e2e["cpu_s"] - e2e["parent_cpu_s"], 3)
            if e2e["parent_cpu_s"] is not None else None,
            "load_1min_before_after": [round(x, 2) for x in e2e["load_1min"]],
            "ratio_cpu": round((summary["claims_checked_now"] / e2e["cpu_s"])
                               / (len(claims) / naive_cpu_s), 2) if e2e["cpu_s"] > 0 else None}
    print(json.dumps(figures, indent=2))
    for workers in args.workers:
        run = figures[f"workers_{workers}"]
        print(f"check --store --workers {workers}: {run['check_claims_per_s']:.0f} claims/s; "
              f"naive fresh solver: {naive_rate:.0f} claims/s; ratio {run['ratio']:.2f}x "
              f"(goal >= 10x); by CPU seconds {run['ratio_cpu']}x")
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
