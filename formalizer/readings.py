"""Second readings of a refuted ground claim that CoT text commonly intends.

Two conventions are tried, and only when the text itself signals them: ``%`` used as a unit
label (``(75/100)*100 = 75%``, ``50 - 20 = 30%``), and integer division where the step speaks
of a remainder (``13 / 6 = 2 ... with a remainder of 1``). A second reading that holds is
reported as verified with the reading named in the evidence; otherwise the refutation stands.
"""

from __future__ import annotations

import re
from fractions import Fraction

from prover.arith.ast import Bin, Expr, Neg, Relation
from prover.arith.check import check_ground
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain
from prover.verdicts import Verdict

_REMAINDER = re.compile(r"\bremainder\b|\bleft over\b|\bremaining\b|\bfull\b|\bwhole\b",
                        re.IGNORECASE)


def _floor_division(expr: Expr) -> Expr:
    """The same expression with its top-level division read as floor division."""
    if isinstance(expr, Bin) and expr.op == "/":
        return Bin("//", expr.left, expr.right)
    if isinstance(expr, Neg):
        return Neg(_floor_division(expr.arg))
    return expr


def _with_reading(verdict: Verdict, reading: str) -> Verdict:
    evidence = dict(verdict.evidence)
    evidence["reading"] = reading
    return Verdict(verdict.kind, evidence=evidence, tolerance=verdict.tolerance)


def reread(rel: Relation, refuted: Verdict, raw_text: str, index: int, step_text: str,
           values: dict[str, Fraction]) -> Verdict:
    """Return a verified verdict under a signalled second reading, else ``refuted`` unchanged."""
    if "%" in raw_text:
        try:
            plain = parse_chain(raw_text.replace("%", ""))
        except (ArithSyntaxError, TooLargeError):
            plain = []
        if len(plain) > index:
            verdict = check_ground(plain[index], values)
            if verdict is not None and verdict.is_verified:
                return _with_reading(verdict, "% as a unit label (75% meaning the number 75)")
    if rel.op == "=" and _REMAINDER.search(step_text):
        floored = Relation("=", _floor_division(rel.left), _floor_division(rel.right))
        if floored != rel:
            verdict = check_ground(floored, values)
            if verdict is not None and verdict.kind == "verified":
                return _with_reading(verdict, "integer division (the step speaks of a remainder)")
    return refuted
