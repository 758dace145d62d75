"""Benchmark the step checker on every GSM8K calculator annotation, side by side in one run.

    python scripts/bench_stepcheck.py --data ../shared/data/gsm8k/train.jsonl

Three checkers see the same pre-parsed claims:
  * limit  -- pure Fraction evaluation (no bounds, no verdict objects): the ceiling;
  * ours   -- proofgraph's checker (bounded exact arithmetic, Z3 only when needed, verdicts);
  * naive  -- a fresh Z3 Solver per claim (premises ⊢ claim by an unsat check).
It prints claims/s for each and the ratios ours/naive and ours/limit, then the end-to-end
CLI figure (`proofgraph check --json` on the whole file: extraction + checking + output).
Machines are noisy: compare the ratios within one run, not absolute numbers across runs.

With ``--processbench DIR`` and/or ``--gsm8k-labelled PATH`` it instead measures the flags
against labels (:func:`labelled_figures`): ProcessBench's human first-error labels, and GSM8K
gold solutions (label: no error) plus one value mutant per solution (label: the mutated step).
Each split is cut into a fixed ``dev`` and ``heldout`` half by a hash of the row id, and the
held-out half again into ``dev2`` and ``test`` by the hash's next byte (:func:`part_of`).
``dev2`` was opened for reading flags on 2026-12-03 after the held-out half had been scored
(not read) once; ``test`` is the half never read. Report ``test`` as the held-out figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import random
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path

import z3

from formalizer.normalize import normalize_math
from prover.arith.ast import Bin, Expr, Neg, Num, Relation
from prover.arith.check import ArithChecker
from prover.arith.parse import parse_chain
from prover.z3.arith import to_z3

_ANNOTATION = re.compile(r"<<([^<>\n]*)>>")


def load_claims(path: Path) -> list[Relation]:
    """Every annotation of the file as parsed relations (chains split)."""
    claims: list[Relation] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            for m in _ANNOTATION.finditer(json.loads(line)["answer"]):
                claims.extend(parse_chain(normalize_math(m.group(1))))
    return claims


def fraction_value(e: Expr) -> Fraction:
    """The limit: plain recursive Fraction evaluation, no bounds and no checks."""
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Neg):
        return -fraction_value(e.arg)
    assert isinstance(e, Bin)
    a, b = fraction_value(e.left), fraction_value(e.right)
    if e.op == "+":
        return a + b
    if e.op == "-":
        return a - b
    if e.op == "*":
        return a * b
    if e.op == "/":
        return a / b
    if e.op == "//":
        return Fraction((a / b).numerator // (a / b).denominator)
    return a ** int(b)


def naive_check(rel: Relation) -> bool:
    """A fresh Solver per claim: unsat of ¬claim means verified."""
    solver = z3.Solver()
    solver.set("timeout", 2000)
    ctx = z3.main_ctx()
    lhs, rhs = to_z3(rel.left, {}, ctx), to_z3(rel.right, {}, ctx)
    claim = {"=": lhs == rhs, "<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs,
             ">=": lhs >= rhs, "!=": lhs != rhs}[rel.op]
    solver.add(z3.Not(claim))
    return solver.check() == z3.unsat


def timed(fn, claims: list[Relation]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    out = [fn(c) for c in claims]
    return time.perf_counter() - start, out


# ---------------------------------------------------------------- flags against labels

def half_of(row_id: str) -> str:
    """``dev`` or ``heldout``: a fixed half of every split, by a hash of the row id."""
    return "dev" if hashlib.sha256(row_id.encode()).digest()[0] % 2 == 0 else "heldout"


def part_of(row_id: str) -> str:
    """``dev``, ``dev2`` or ``test``: the held-out half split again by the hash's next byte."""
    digest = hashlib.sha256(row_id.encode()).digest()
    if digest[0] % 2 == 0:
        return "dev"
    return "dev2" if digest[1] % 2 == 0 else "test"


def in_part(row_id: str, part: str) -> bool:
    """Whether ``row_id`` is in ``part`` (``dev``, ``heldout``, ``dev2`` or ``test``)."""
    return half_of(row_id) == part or part_of(row_id) == part


def processbench_rows(directory: Path) -> dict[str, list[tuple[str, str, list[str], int]]]:
    """Per split: (id, problem, steps, label) with label -1 for a fully correct solution."""
    out: dict[str, list[tuple[str, str, list[str], int]]] = {}
    for name in ("olympiadbench", "omnimath"):
        path = directory / f"{name}.json"
        if path.is_file():
            rows = json.loads(path.read_text(encoding="utf-8"))
            out[name] = [(r["id"], r["problem"], list(r["steps"]), int(r["label"])) for r in rows]
    return out


def gsm8k_rows(path: Path, limit: int, seed: int = 11) -> list[tuple[str, str, list[str], int]]:
    """GSM8K gold solutions (label -1) and one value mutant of each (label: its step)."""
    from formalizer.inputs import split_gsm8k_answer
    from formalizer.mutations import mutate

    rng = random.Random(seed)
    rows: list[tuple[str, str, list[str], int]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            obj = json.loads(line)
            steps, _ = split_gsm8k_answer(obj["answer"])
            rows.append((f"gsm8k-{number}", obj["question"], steps, -1))
            for _ in range(4):
                op = rng.choice(("number", "operator", "off_by_one"))
                mutant = mutate(steps, op, rng.randrange(len(steps)), rng)
                if mutant is not None:
                    rows.append((f"gsm8k-{number}-{op}", obj["question"], list(mutant.steps),
                                 mutant.step))
                    break
    return rows


def _summary(result: dict) -> dict:
    """What the scorer needs of one checked solution (kept small: it crosses a pipe)."""
    claims = [c for s in result["steps"] for c in s["claims"]]
    pred = result["first_error"]
    out = {"pred": pred, "claims": len(claims),
           "unknown": sum(c["verdict"] == "unknown" for c in claims),
           "verdicts": [[c["verdict"], c["reason"]] for c in claims]}
    if pred is not None:
        step = result["steps"][pred]
        out["step"] = step["text"]
        out["refuted"] = [{k: c[k] for k in ("kind", "source", "formal", "evidence")}
                          for c in step["claims"] if c["verdict"] == "refuted"]
    return out


def _serve(conn: Connection, budget_s: float | None, solver_budget_s: float | None) -> None:
    """Worker loop: check each (id, problem, steps) it is sent, answer with a summary."""
    from formalizer.stepcheck import Solution, StepChecker

    checker = StepChecker() if solver_budget_s is None else StepChecker(
        solver_budget_s=solver_budget_s)
    kwargs = {} if budget_s is None else {"budget_s": budget_s}
    while True:
        task = conn.recv()
        if task is None:
            return
        row_id, problem, steps = task
        result, _ = checker.check(Solution(row_id, problem, steps), **kwargs)
        conn.send(_summary(result))


class _Worker:
    """One checker process; a solution that overruns ``guard_s`` kills it (a fresh one follows),
    so one pathological row costs at most the guard and never ends the run."""

    def __init__(self, budget_s: float | None, guard_s: float,
                 solver_budget_s: float | None = None) -> None:
        self.budget_s, self.guard_s, self.solver_budget_s = budget_s, guard_s, solver_budget_s
        self._start()

    def _start(self) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=_serve, args=(child, self.budget_s, self.solver_budget_s),
                               daemon=True)
        self.proc.start()

    def check(self, row_id: str, problem: str, steps: list[str]) -> dict | None:
        self.conn.send((row_id, problem, steps))
        if self.conn.poll(self.guard_s):
            try:
                return self.conn.recv()
            except EOFError:
                pass
        self.proc.kill()
        self.proc.join()
        self._start()
        return None

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


def score(rows: list[tuple[str, str, list[str], int]], budget_s: float | None, guard_s: float,
          false_flags: list[dict] | None,
          solver_budget_s: float | None = None,
          predictions: list[dict] | None = None) -> dict[str, dict[str, float]]:
    """Figures per half (``dev``, ``heldout``, ``all``) of one split."""
    worker = _Worker(budget_s, guard_s, solver_budget_s)
    tallies: dict[str, dict[str, float]] = {}
    try:
        for row_id, problem, steps, label in rows:
            start = time.perf_counter()
            out = worker.check(row_id, problem, steps)
            wall = time.perf_counter() - start
            pred = None if out is None else out["pred"]
            for half in dict.fromkeys((half_of(row_id), part_of(row_id), "all")):
                t = tallies.setdefault(half, dict.fromkeys(
                    ("solutions", "erroneous", "flagged", "exact", "too_early", "too_late",
                     "flags_on_correct", "claims", "claims_unknown", "overran_guard", "wall_s",
                     "max_solution_s"), 0.0))
                t["solutions"] += 1
                t["erroneous"] += label >= 0
                t["overran_guard"] += out is None
                t["claims"] += 0 if out is None else out["claims"]
                t["claims_unknown"] += 0 if out is None else out["unknown"]
                t["wall_s"] += wall
                t["max_solution_s"] = max(t["max_solution_s"], wall)
                if pred is None:
                    continue
                t["flagged"] += 1
                if label < 0:
                    t["flags_on_correct"] += 1
                elif pred == label:
                    t["exact"] += 1
                elif pred < label:
                    t["too_early"] += 1
                else:
                    t["too_late"] += 1
            if predictions is not None:
                predictions.append({"id": row_id, "label": label, "pred": pred,
                                    "verdicts": None if out is None else out["verdicts"],
                                    "step": None if out is None or pred is None else out["step"],
                                    "refuted": None if out is None or pred is None
                                    else out["refuted"]})
            if false_flags is not None and out is not None and pred is not None and (
                    label < 0 or pred < label):
                false_flags.append({"id": row_id, "label": label, "pred": pred,
                                    "half": part_of(row_id), "step": out["step"],
                                    "refuted": out["refuted"]})
    finally:
        worker.close()
    for t in tallies.values():
        sound = t["exact"] + t["too_late"]
        t["sound_precision"] = round(sound / t["flagged"], 3) if t["flagged"] else float("nan")
        t["recall_exact"] = round(t["exact"] / t["erroneous"], 3) if t["erroneous"] else 0.0
        t["recall_sound"] = round(sound / t["erroneous"], 3) if t["erroneous"] else 0.0
        t["unknown_share"] = round(t["claims_unknown"] / t["claims"], 3) if t["claims"] else 0.0
        t["claims_per_s"] = round(t["claims"] / t["wall_s"], 1) if t["wall_s"] else 0.0
        t["wall_s"] = round(t["wall_s"], 1)
        t["max_solution_s"] = round(t["max_solution_s"], 2)
    return tallies


_COLUMNS = ("solutions", "erroneous", "flagged", "exact", "too_early", "too_late",
            "flags_on_correct", "sound_precision", "recall_exact", "recall_sound",
            "unknown_share", "claims", "claims_per_s", "overran_guard", "max_solution_s")


def labelled_figures(args: argparse.Namespace) -> int:
    """Score every requested split; print a table and write JSON (and false flags) if asked."""
    splits: dict[str, list[tuple[str, str, list[str], int]]] = {}
    if args.processbench is not None:
        splits.update((name, rows) for name, rows in processbench_rows(args.processbench).items()
                      if not args.split or name in args.split)
    if args.gsm8k_labelled is not None:
        splits["gsm8k"] = gsm8k_rows(args.gsm8k_labelled, args.gsm8k_limit)
    false_flags: list[dict] | None = [] if args.false_flags is not None else None
    predictions: list[dict] | None = [] if args.predictions is not None else None
    figures: dict[str, dict[str, dict[str, float]]] = {}
    print("| split | half | " + " | ".join(_COLUMNS) + " |")
    print("|---" * (len(_COLUMNS) + 2) + "|")
    for name, rows in splits.items():
        if args.half:
            rows = [row for row in rows if in_part(row[0], args.half)]
        if args.limit:
            step = max(1, len(rows) // args.limit)  # spread over the split (it is ordered)
            rows = rows[::step][:args.limit]
        before = len(false_flags) if false_flags is not None else 0
        figures[name] = score(rows, args.budget, args.guard, false_flags, args.solver_budget,
                              predictions)
        if false_flags is not None:
            for flag in false_flags[before:]:
                flag["split"] = name
        for half in ("dev", "heldout", "dev2", "test", "all"):
            t = figures[name].get(half)
            if t is not None:
                cells = [f"{t[c]:g}" if isinstance(t[c], float) else str(t[c]) for c in _COLUMNS]
                print(f"| {name} | {half} | " + " | ".join(cells) + " |", flush=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if false_flags is not None:
        with args.false_flags.open("w", encoding="utf-8") as handle:
            for flag in false_flags:
                handle.write(json.dumps(flag) + "\n")
    if predictions is not None:  # per row: compare two runs line by line (determinism)
        with args.predictions.open("w", encoding="utf-8") as handle:
            for row in predictions:
                handle.write(json.dumps(row) + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="GSM8K train.jsonl (annotation speed figures)")
    parser.add_argument("--processbench", type=Path, help="ProcessBench dir (olympiadbench.json,"
                        " omnimath.json): flags against the human first-error labels")
    parser.add_argument("--gsm8k-labelled", type=Path, help="GSM8K train.jsonl: flags on gold "
                        "solutions and on one value mutant of each")
    parser.add_argument("--split", action="append", help="only this ProcessBench split "
                        "(olympiadbench, omnimath); repeatable")
    parser.add_argument("--half", choices=("dev", "heldout", "dev2", "test"),
                        help="only this part of each split (heldout = dev2 + test)")
    parser.add_argument("--gsm8k-limit", type=int, default=1000, help="GSM8K rows to use")
    parser.add_argument("--limit", type=int, default=0, help="rows per split (0: all)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per solution")
    parser.add_argument("--guard", type=float, default=20.0,
                        help="kill a solution's worker after this many seconds (default 20)")
    parser.add_argument("--solver-budget", type=float, default=None,
                        help="solver budget per solution in seconds (StepChecker's "
                        "solver_budget_s; counted as Z3 resource units, load-independent)")
    parser.add_argument("--json-out", type=Path, help="write the labelled figures as JSON")
    parser.add_argument("--false-flags", type=Path, help="write early/false flags as JSONL")
    parser.add_argument("--predictions", type=Path, help="write every row's first error and "
                        "claim verdicts/reasons as JSONL (diff two runs: determinism)")
    parser.add_argument("--naive-every", type=int, default=1,
                        help="run the naive baseline on every k-th claim only (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the fast stages")
    parser.add_argument("--skip-cli", action="store_true", help="skip the end-to-end CLI run")
    args = parser.parse_args()
    if args.processbench is not None or args.gsm8k_labelled is not None:
        return labelled_figures(args)
    if args.data is None:
        parser.error("give --data, --processbench or --gsm8k-labelled")

    t0 = time.perf_counter()
    claims = load_claims(args.data)
    parse_s = time.perf_counter() - t0
    checker = ArithChecker()

    def ours(rel: Relation) -> bool:
        return checker.check(rel)[0].kind == "verified"

    def limit(rel: Relation) -> bool:
        return fraction_value(rel.left) == fraction_value(rel.right)

    limit_s, limit_out = min((timed(limit, claims) for _ in range(args.repeat)),
                             key=lambda t: t[0])
    ours_s, ours_out = min((timed(ours, claims) for _ in range(args.repeat)), key=lambda t: t[0])
    sample = claims[:: args.naive_every]
    naive_s, naive_out = timed(naive_check, sample)
    agree = sum(a == b for a, b in zip(ours_out[:: args.naive_every], naive_out, strict=True))

    n = len(claims)
    rates = {"limit": n / limit_s, "ours": n / ours_s, "naive": len(sample) / naive_s}
    print(f"claims: {n} (parsed in {parse_s:.2f}s); verified by ours: {sum(ours_out)}; "
          f"by limit: {sum(limit_out)}; ours agrees with naive on {agree}/{len(sample)}")
    for name, rate in rates.items():
        print(f"  {name:>5}: {rate:12.0f} claims/s")
    print(f"  ours / naive = {rates['ours'] / rates['naive']:.1f}x   (goal >= 10x)")
    print(f"  ours / limit = {100 * rates['ours'] / rates['limit']:.0f}%   (goal >= 50%)")

    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "proofgraph.cli", "check", str(args.data), "--json",
                 "--out", str(Path(tmp) / "out.jsonl"), "--no-progress"],
                capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"CLI failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
            return 1
        summary = json.loads(proc.stdout)
        print(f"end to end: `proofgraph check` {summary['solutions']} solutions, "
              f"{summary['claims']} claims (annotations + prose) in {wall:.1f}s wall: "
              f"{summary['claims'] / wall:.0f} claims/s incl. start-up "
              f"({summary['claims_per_s']:.0f} claims/s inside the run)")
        print(f"  verdicts: {summary['verdicts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
