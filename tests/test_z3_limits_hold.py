"""A solution's check ends within its limits even when Z3 would not heed an interrupt: large
natural exponents and radical products go to the killable isolate worker, and their SMT-LIB text
is printed without asserting them in this process (two real ProcessBench rows that once ran for
minutes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import z3

from prover.z3.gateway import MAX_SAFE_EXPONENT, needs_isolation, safe_exponent
from prover.z3.isolated import smt2_text

ROWS = Path(__file__).parent / "data" / "processbench_slow_rows.json"
ROOT = Path(__file__).resolve().parent.parent

CHECK_ROW = """
import json, sys
from formalizer.stepcheck import Solution, StepChecker
row = json.loads(sys.stdin.read())
result, _ = StepChecker().check(Solution(row["id"], row["problem"], row["steps"]))
verdicts = [c["verdict"] for s in result["steps"] for c in s["claims"]]
print(json.dumps({"first_error": result["first_error"], "verdicts": verdicts}))
"""


@pytest.mark.parametrize("row", json.loads(ROWS.read_text()), ids=lambda row: row["id"])
def test_a_row_that_once_hung_in_z3_ends(row: dict) -> None:
    # the old code ran for minutes on each; the bound is far above the ~2 s these take now
    proc = subprocess.run([sys.executable, "-c", CHECK_ROW], input=json.dumps(row), text=True,
                          capture_output=True, timeout=180, cwd=ROOT, check=True)
    out = json.loads(proc.stdout)
    assert out["verdicts"], "the row's claims were read"
    if row["label"] == -1:  # a correct solution is never flagged
        assert out["first_error"] is None


def test_large_or_non_natural_exponents_are_isolated() -> None:
    ctx = z3.Context()
    x = z3.Real("x", ctx)
    assert safe_exponent(z3.IntVal(MAX_SAFE_EXPONENT, ctx))
    assert not safe_exponent(z3.IntVal(MAX_SAFE_EXPONENT + 1, ctx))
    assert not safe_exponent(z3.RealVal("1/2", ctx))
    assert not needs_isolation([x**3 == 8])
    assert needs_isolation([x**2010 == x + 1])
    assert needs_isolation([x ** z3.RealVal("1/2", ctx) == 2])


def test_smt2_text_round_trips_without_a_solver() -> None:
    ctx = z3.Context()
    x, tag = z3.Real("x", ctx), z3.Bool("t", ctx)
    formulas = [x * x == 2, z3.Implies(tag, x > 0)]
    text = smt2_text(formulas, ctx)
    assert "(check-sat)" not in text
    parsed = list(z3.parse_smt2_string(text, ctx=ctx))
    assert [str(f) for f in parsed] == [str(f) for f in formulas]
