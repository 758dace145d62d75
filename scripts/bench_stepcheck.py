"""Benchmark the step checker on every GSM8K calculator annotation, side by side in one run.

    python scripts/bench_stepcheck.py --data ../shared/data/gsm8k/train.jsonl

Three checkers see the same pre-parsed claims:
  * limit  -- pure Fraction evaluation (no bounds, no verdict objects): the ceiling;
  * ours   -- proofgraph's checker (bounded exact arithmetic, Z3 only when needed, verdicts);
  * naive  -- a fresh Z3 Solver per claim (premises ⊢ claim by an unsat check).
It prints claims/s for each and the ratios ours/naive and ours/limit, then the end-to-end
CLI figure (`proofgraph check --json` on the whole file: extraction + checking + output).
Machines are noisy: compare the ratios within one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="GSM8K train.jsonl")
    parser.add_argument("--naive-every", type=int, default=1,
                        help="run the naive baseline on every k-th claim only (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the fast stages")
    parser.add_argument("--skip-cli", action="store_true", help="skip the end-to-end CLI run")
    args = parser.parse_args()

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
