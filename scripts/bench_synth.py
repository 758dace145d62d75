"""Throughput of ``proofgraph synth``: rows/s for ``proofs`` (Z3 theorem suite) and ``steps``
(GSM8K train solutions), 1 vs 2 workers, on the local pool and on Ray, plus the share of wall
time spent on the commit path (row hashing + provenance, store transaction, shard writes).

    python scripts/bench_synth.py                       # local pool and Ray (if installed)
    python scripts/bench_synth.py --no-ray --gsm8k-n 200 --json bench.json

Every configuration runs fresh in its own temporary output folder. ``speedup`` is rows/s with 2
workers over rows/s with 1 (the goal on 2 cores is >= 1.8; with ``--repeat N`` the median over
N rounds run in alternating order), on three bases: ``total`` is rows/s of the whole
``synth()`` call (task build, store, workers' or Ray cluster's start-up and stop: everything
the user waits for, the figure to quote); ``wall`` is from the start of the run loop (it misses
the part of the start-up that overlaps the set-up: local workers are started ahead);
``run`` is after start-up (from the first result on). ``writer cpu`` is the CPU
time of this process (the single writer, and Ray's driver) per item. Each record also has, per
process kind (this process = ``writer``, local ``worker``, ``ray-worker`` (Ray's workers and
actors), ``other`` (raylet, GCS, dashboard, agents)), the CPU seconds and the seconds spent
runnable but waiting for a CPU (``*_wait_s``, from ``/proc/PID/task/*/schedstat``, sampled
every 0.2 s): on a shared machine the waits say how much of the wall time other processes took.
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
import threading
import time
from itertools import islice
from pathlib import Path
from typing import Any

from proofgraph.synth_api import synth

ROOT = Path(__file__).resolve().parent.parent
GSM8K = (Path("/work/shared/data/gsm8k/train.jsonl"), ROOT / "tests/data/gsm8k_train_300.jsonl")


#: Ray's agents, which rename themselves like its workers do (counted as ``other``)
_RAY_AGENTS = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")


def _gsm8k_slice(n: int, folder: Path, source: Path | None) -> Path:
    candidates = [source] if source else [p for p in GSM8K if p.is_file()]
    if not candidates or not candidates[0].is_file():
        raise SystemExit("no GSM8K train file found; pass --gsm8k PATH")
    out = folder / f"gsm8k_{n}.jsonl"
    with candidates[0].open(encoding="utf-8") as handle:
        out.write_text("".join(islice(handle, n)), encoding="utf-8")
    return out


def _sched(pid: int | str) -> tuple[float, float]:
    """(CPU seconds, seconds spent runnable but waiting for a CPU) summed over the threads of
    process ``pid`` (``/proc/PID/task/*/schedstat``); (0, 0) when it is gone."""
    cpu = wait = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                fields = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
            except OSError:
                continue
            cpu, wait = cpu + int(fields[0]), wait + int(fields[1])
    except OSError:
        pass
    return cpu / 1e9, wait / 1e9


class _Sampler(threading.Thread):
    """Samples CPU and run-queue wait of every descendant of this process every ``period_s``
    (the last sample of a process counts: up to ``period_s`` of an exiting process is lost),
    so that Ray's workers (not waited-for children) are measured too. Its own CPU is kept in
    ``own_cpu_s`` and taken off the writer's CPU."""

    def __init__(self, period_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.period_s = period_s
        self.seen: dict[int, tuple[str, float, float]] = {}
        self.own_cpu_s = 0.0
        self.halt = threading.Event()

    def _children(self, pid: int) -> list[int]:
        out: list[int] = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    out += [int(c) for c in
                            Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
                except OSError:
                    continue
        except OSError:
            pass
        return out

    def sample(self) -> None:
        todo, me = self._children(os.getpid()), os.getpid()
        while todo:
            pid = todo.pop()
            if pid == me:
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if not cmd:  # a zombie (exited, not reaped yet): keep its last sample
                continue
            cpu, wait = _sched(pid)
            name = "worker" if "prover.synth.worker" in cmd else (  # Ray's actors rename
                "ray-worker" if "default_worker.py" in cmd or (
                    cmd.startswith("ray::") and not cmd.startswith(_RAY_AGENTS))
                else "other")  # themselves "ray::EnvActor..."; other = raylet, GCS, agents
            if cpu:
                self.seen[pid] = (name, cpu, wait)
            todo += self._children(pid)

    def run(self) -> None:
        start = time.thread_time()
        while not self.halt.wait(self.period_s):
            self.sample()
        self.sample()
        self.own_cpu_s = time.thread_time() - start

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, cpu, wait in self.seen.values():
            out[f"{name}_cpu_s"] = out.get(f"{name}_cpu_s", 0.0) + cpu
            out[f"{name}_wait_s"] = out.get(f"{name}_wait_s", 0.0) + wait
            out[f"{name}_procs"] = out.get(f"{name}_procs", 0) + 1
        return {k: round(v, 3) for k, v in out.items()}


def _one(task: str, inp: Path, workers: int, ray: bool, options: dict[str, Any]) -> dict:
    load = os.getloadavg()[0]
    sampler = _Sampler()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        sampler.start()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        me0 = _sched(os.getpid())
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = synth(task, inp, Path(tmp) / "out", workers=workers, ray=ray, **options)
        me1 = _sched(os.getpid())
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = time.perf_counter() - t0
        sampler.halt.set()
        sampler.join()
        cpu = time.process_time() - cpu0 - sampler.own_cpu_s
    kids = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    run_s = summary["wall_s"] - summary.get("startup_s", 0.0)
    procs = sampler.totals()
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
            "load": round(load, 2),
            # end to end (``total_s``: the synth() call) and per process: CPU and the time
            # spent runnable but waiting for a CPU (other processes of a shared machine)
            "rows_per_s_total": round(summary["rows"] / total, 2),
            "writer_cpu_s": round(cpu, 3), "writer_wait_s": round(me1[1] - me0[1], 3),
            **procs}


def _median_record(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One record with the median of each rate over ``runs`` (rounds of one configuration)."""
    out = dict(runs[0])
    for key in ("rows_per_s", "rows_per_s_run", "rows_per_s_total", "commit_share",
                "writer_cpu_ms_per_item", "worker_cpu_ms_per_item", "load"):
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
    if args.json:
        args.json.write_text(json.dumps(records, indent=1), encoding="utf-8")
    counts = sorted(set(args.workers))  # the speedup is most workers over fewest
    print(f"\n{'task':8} {'executor':8} {'basis':5} "
          + " ".join(f"{f'rows/s {w}w':>11}" for w in counts)
          + f" {'speedup':>8} {'commit share':>13} {'writer cpu':>11}")
    for task in args.tasks:
        for executor in ("local", "ray"):
            runs = [r for r in records if r["task"] == task and r["executor"] == executor]
            if not runs:
                continue
            group = {w: _median_record([r for r in runs if r["workers"] == w])
                     for w in counts}
            share = max(r["commit_share"] or 0 for r in group.values())
            cpu = max(r["writer_cpu_ms_per_item"] for r in group.values())
            for basis, key in (("total", "rows_per_s_total"), ("wall", "rows_per_s"),
                               ("run", "rows_per_s_run")):
                rates = [group[w][key] or 0.0 for w in counts]
                speedup = (rates[-1] / rates[0]) if rates[0] else float("nan")
                print(f"{task:8} {executor:8} {basis:5} " + " ".join(f"{r:11.1f}" for r in rates)
                      + f" {speedup:8.2f}x {share:12.1%} {cpu:8.2f} ms  load "
                      + "/".join(f"{group[w]['load']:.1f}" for w in counts))
            waits = []
            for w in counts:  # share of the workers' runnable time spent waiting for a CPU
                cpu_s, wait_s = (sum(r.get(f"{k}_{x}_s") or 0.0 for r in runs
                                     if r["workers"] == w for k in ("worker", "ray-worker"))
                                 for x in ("cpu", "wait"))
                waits.append(f"{w}w {wait_s / (cpu_s + wait_s):.0%}" if cpu_s else f"{w}w -")
            print(f"{'':8} {executor:8} workers waiting for a CPU: {', '.join(waits)}")
            worker = group[counts[0]].get("worker_cpu_ms_per_item")
            if executor == "ray":  # the actors' CPU (sampled: Ray's workers are not children)
                one = [r for r in runs if r["workers"] == counts[0]]
                worker = statistics.median(1000 * (r.get("ray-worker_cpu_s") or 0.0)
                                           / max(r["items"], 1) for r in one)
            if worker:  # CPU-bound model of an otherwise idle 2-core machine
                writer = group[counts[0]]["writer_cpu_ms_per_item"]
                print(f"{'':8} {executor:8} model: worker {worker:.2f} ms/item, writer "
                      f"{writer:.2f} ms/item -> 2 workers on 2 idle cores "
                      f"~{2 * worker / (worker + writer):.2f}x")


if __name__ == "__main__":
    main()
