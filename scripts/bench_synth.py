"""Throughput of ``proofgraph synth``: rows/s for ``proofs`` (Z3 theorem suite) and ``steps``
(GSM8K train solutions), 1 vs 2 workers, on the local pool and on Ray, plus the share of wall
time spent on the commit path (row hashing + provenance, store transaction, shard writes).

    python scripts/bench_synth.py                       # local pool and Ray (if installed)
    python scripts/bench_synth.py --no-ray --gsm8k-n 200 --json bench.json

Every configuration runs fresh in its own temporary output folder. ``speedup`` is rows/s with
2 workers over rows/s with 1 (the goal on 2 cores is >= 1.8; with ``--repeat N`` the median
over N rounds run in alternating order), end to end (``wall``: includes
starting the workers or the Ray cluster) and after start-up (``run``: from the first result on).
``writer cpu`` is the CPU time of this process (the single writer, and Ray's driver) per item.
Note that a search under a wall or tactic timeout may emit different rows when the machine is
loaded, and that on a shared machine the figures move with the load (``load`` is the 1-minute
load average before each configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

from proofgraph.synth_api import synth

ROOT = Path(__file__).resolve().parent.parent
GSM8K = (Path("/work/shared/data/gsm8k/train.jsonl"), ROOT / "tests/data/gsm8k_train_300.jsonl")


def _gsm8k_slice(n: int, folder: Path, source: Path | None) -> Path:
    candidates = [source] if source else [p for p in GSM8K if p.is_file()]
    if not candidates or not candidates[0].is_file():
        raise SystemExit("no GSM8K train file found; pass --gsm8k PATH")
    out = folder / f"gsm8k_{n}.jsonl"
    with candidates[0].open(encoding="utf-8") as handle:
        out.write_text("".join(islice(handle, n)), encoding="utf-8")
    return out


def _one(task: str, inp: Path, workers: int, ray: bool, options: dict[str, Any]) -> dict:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = synth(task, inp, Path(tmp) / "out", workers=workers, ray=ray, **options)
        cpu = time.process_time() - cpu0
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = time.perf_counter() - t0
    kids = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    run_s = summary["wall_s"] - summary.get("startup_s", 0.0)
    return {"task": task, "executor": "ray" if ray else "local", "workers": workers,
            "items": summary["items"], "rows": summary["rows"], "wall_s": summary["wall_s"],
            "startup_s": summary.get("startup_s"), "total_s": round(total, 2),
            "rows_per_s": summary["rows_per_s"],
            "rows_per_s_run": round(summary["rows"] / run_s, 2) if run_s > 0 else None,
            "items_per_s": summary["items_per_s"], "commit_s": summary["commit_s"],
            "commit_share": summary["commit_share"],
            "writer_cpu_ms_per_item": round(1000 * cpu / max(summary["items"], 1), 3),
            # the local pool's workers are this process's children (Ray's are not)
            "worker_cpu_ms_per_item": None if ray else round(1000 * kids / max(
                summary["items"], 1), 3),
            "load": round(load, 2)}


def _median_record(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One record with the median of each rate over ``runs`` (rounds of one configuration)."""
    out = dict(runs[0])
    for key in ("rows_per_s", "rows_per_s_run", "commit_share", "writer_cpu_ms_per_item",
                "worker_cpu_ms_per_item", "load"):
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = statistics.median(values) if values else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--z3", type=Path, default=ROOT / "tests/data/z3_theorems.jsonl")
    parser.add_argument("--gsm8k", type=Path, help="GSM8K train JSONL (default: shared copy, "
                                                   "else the 300-row test slice)")
    parser.add_argument("--gsm8k-n", type=int, default=600, help="solutions for steps")
    parser.add_argument("--max-expansions", type=int, default=8)
    parser.add_argument("--tactic-timeout", type=float, default=1.0)
    parser.add_argument("--mutations", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tasks", nargs="+", default=["proofs", "steps"])
    parser.add_argument("--executors", nargs="+", choices=("local", "ray"),
                        default=["local", "ray"])
    parser.add_argument("--no-ray", dest="ray", action="store_false")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every worker count, alternating the order (1 2, 2 1, "
                             "...) so slow swings of a shared machine's load hit both; the "
                             "table reports the median rate over rounds")
    parser.add_argument("--json", type=Path, help="write the records here")
    args = parser.parse_args()
    executors = [False] if "local" in args.executors else []
    if args.ray and "ray" in args.executors:
        try:
            import ray  # noqa: F401

            executors.append(True)
        except ImportError:
            print("ray is not installed: local pool only")
    records = []
    with tempfile.TemporaryDirectory(prefix="bench-synth-in-") as folder:
        inputs = {"proofs": args.z3}
        options = {"proofs": {"max_expansions": args.max_expansions,
                              "tactic_timeout_s": args.tactic_timeout, "wall_timeout_s": 60.0},
                   "steps": {"mutations_per_solution": args.mutations}}
        if "steps" in args.tasks:
            inputs["steps"] = _gsm8k_slice(args.gsm8k_n, Path(folder), args.gsm8k)
        for task in args.tasks:
            for ray in executors:
                for round_ in range(args.repeat):
                    order = args.workers if round_ % 2 == 0 else args.workers[::-1]
                    for workers in order:
                        record = _one(task, inputs[task], workers, ray, options[task])
                        records.append({**record, "round": round_})
                        print(json.dumps(records[-1]), flush=True)
    print(f"\n{'task':8} {'executor':8} {'basis':5} "
          + " ".join(f"{f'rows/s {w}w':>11}" for w in args.workers)
          + f" {'speedup':>8} {'commit share':>13} {'writer cpu':>11}")
    for task in args.tasks:
        for executor in ("local", "ray"):
            runs = [r for r in records if r["task"] == task and r["executor"] == executor]
            if not runs:
                continue
            group = {w: _median_record([r for r in runs if r["workers"] == w])
                     for w in args.workers}
            share = max(r["commit_share"] or 0 for r in group.values())
            cpu = max(r["writer_cpu_ms_per_item"] for r in group.values())
            for basis, key in (("wall", "rows_per_s"), ("run", "rows_per_s_run")):
                rates = [group[w][key] or 0.0 for w in args.workers]
                speedup = (rates[-1] / rates[0]) if rates[0] else float("nan")
                print(f"{task:8} {executor:8} {basis:5} " + " ".join(f"{r:11.1f}" for r in rates)
                      + f" {speedup:8.2f}x {share:12.1%} {cpu:8.2f} ms  load "
                      + "/".join(f"{group[w]['load']:.1f}" for w in args.workers))
            worker = group[args.workers[0]].get("worker_cpu_ms_per_item")
            if worker:  # CPU-bound model of an otherwise idle 2-core machine
                writer = group[args.workers[0]]["writer_cpu_ms_per_item"]
                print(f"{'':8} {executor:8} model: worker {worker:.2f} ms/item, writer "
                      f"{writer:.2f} ms/item -> 2 workers on 2 idle cores "
                      f"~{2 * worker / (worker + writer):.2f}x")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
