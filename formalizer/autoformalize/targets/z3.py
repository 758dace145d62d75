"""The Z3 target: a candidate is SMT-LIB declarations, definitions and hypothesis ``assert``s
followed by one ``GOAL: <term>`` line, i.e. the prover's theorem row ``{smt2, goal}``.

Type check = :func:`prover.z3.theorem.parse_theorem` (Z3's own SMT-LIB parser and sort
checker in a fresh context; only declaration/definition/assert commands are allowed; nothing
is evaluated). Vacuous = the hypotheses are unsat; negation provable = hypotheses ⊢ ¬goal
(hypotheses ∧ goal unsat) within the timeout. Two candidates are equivalent when they declare
the same symbols with the same sorts (and identical recursive definitions) and both
``hyps_A ↔ hyps_B`` and ``goal_A ↔ goal_B`` are proved valid; Z3 ``unknown`` is not equivalent.
(The weaker ``(hyps_A → goal_A) ↔ (hyps_B → goal_B)`` would merge ANY two valid statements over
the same symbols, e.g. a vacuous one with a faithful one, so it is not used.) Parser coercions
Real→Int and Bool→Int that the text did not write are sort errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from formalizer.autoformalize.targets.base import Candidate, Equivalence, Item, strip_fences
from prover.z3.compare import check_sat, implicit_coercions, theorems_equivalent
from prover.z3.gateway import z3_version
from prover.z3.theorem import (
    SExpr,
    SExprError,
    Theorem,
    TheoremError,
    parse_theorem,
    read_one,
    read_sexprs,
    show,
)

_GOAL = re.compile(r"^\s*GOAL\s*:\s*", re.IGNORECASE | re.MULTILINE)
_INFIX = {"+": "+", "-": "-", "*": "·", "/": "/", "div": "div", "mod": "mod", "=": "=",
          "<": "<", "<=": "≤", ">": ">", ">=": "≥", "and": "and", "or": "or", "=>": "implies"}


def split_candidate(text: str) -> tuple[str, str]:
    """``(smt2, goal)`` from a completion: everything before the last ``GOAL:`` line, and the
    rest. Raises ValueError when there is no ``GOAL:`` line or no goal term."""
    body = strip_fences(text)
    matches = list(_GOAL.finditer(body))
    if not matches:
        raise ValueError("no 'GOAL: <term>' line")
    last = matches[-1]
    goal = body[last.end():].strip()
    if not goal:
        raise ValueError("the GOAL: line has no term")
    return body[: last.start()].strip(), goal


def render_term(sx: SExpr) -> str:
    """Infix text of an SMT-LIB term for humans (``(> (* x x) 4)`` -> ``x·x > 4``)."""
    if isinstance(sx, str):
        return sx
    if not sx:
        return "()"
    head, args = sx[0], [render_term(a) for a in sx[1:]]
    if head == "not" and len(args) == 1:
        return f"not ({args[0]})"
    if head == "-" and len(args) == 1:
        return f"-{args[0]}"
    if isinstance(head, str) and head in _INFIX and len(args) >= 2:
        parts = [a if isinstance(s, str) else f"({a})" for a, s in zip(args, sx[1:], strict=True)]
        return f" {_INFIX[head]} ".join(parts)
    if head == "ite" and len(args) == 3:
        return f"if {args[0]} then {args[1]} else {args[2]}"
    if isinstance(head, str):
        return f"{head}({', '.join(args)})"
    return show(sx)


class Z3Target:
    """See the module docstring."""

    name = "z3"
    repair_prompt = "repair_z3.txt"
    backtranslate_prompt = "backtranslate_z3.txt"

    def prompt_name(self, item: Item) -> str:
        return "formalize_z3.txt"

    def prompt_values(self, item: Item) -> dict[str, str]:
        return {"statement": item.text}

    def extract(self, raw: str, item: Item) -> tuple[str | None, str | None]:
        """Canonical text ``<commands, one a line>\\nGOAL: <term>`` or an error message."""
        try:
            smt2, goal = split_candidate(raw)
            commands = read_sexprs(smt2)
            term = read_one(goal)
        except (ValueError, SExprError) as exc:
            return None, f"SMT-LIB syntax: {exc}"
        lines = [show(c) for c in commands] + [f"GOAL: {show(term)}"]
        return "\n".join(lines), None

    @staticmethod
    def row(candidate: Candidate) -> dict[str, str]:
        """The prover's theorem row ``{smt2, goal}`` of an extracted candidate."""
        assert candidate.formal is not None
        smt2, goal = split_candidate(candidate.formal)
        return {"smt2": " ".join(smt2.splitlines()), "goal": goal}

    def typecheck(self, item: Item, candidates: Sequence[Candidate]) -> None:
        """Parse and sort-check each candidate's row with Z3 (``check`` and ``parsed`` set)."""
        for cand in candidates:
            if cand.formal is None:
                continue
            row = {"id": f"{item.id}#{cand.index}", **self.row(cand)}
            try:
                cand.parsed = parse_theorem(row)
            except TheoremError as exc:
                cand.check = {"status": "error", "error": exc.detail}
                continue
            coerced = implicit_coercions(cand.parsed, cand.formal)
            if coerced:
                cand.check = {"status": "error", "error": "sort mismatch: " + coerced}
                continue
            cand.check = {"status": "ok", "checker": "z3 SMT-LIB parser + sort check"}
            cand.info["row"] = {"smt2": row["smt2"], "goal": row["goal"]}

    def equivalent(self, a: Candidate, b: Candidate, timeout_ms: int) -> Equivalence:
        """Aligned symbols, then ``hA ↔ hB`` and ``gA ↔ gB`` proved valid within ``timeout_ms``."""
        ta, tb = a.parsed, b.parsed
        assert isinstance(ta, Theorem) and isinstance(tb, Theorem)
        same, why = theorems_equivalent(ta, tb, timeout_ms)
        return Equivalence(same, why)

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        """``vacuous`` (hypotheses unsat) and ``negation_provable`` (hyps ∧ goal unsat), each
        ``{"value": bool | None, "detail": ...}`` (None = z3 unknown within the timeout)."""
        th = candidate.parsed
        assert isinstance(th, Theorem)
        vac, why = check_sat(th, list(th.hypotheses), timeout_ms)
        neg, why_neg = check_sat(th, [*th.hypotheses, th.conclusion], timeout_ms)
        if vac == "unsat":
            why_neg, neg = "", "unsat"
        flags = {
            "vacuous": _flag(vac, "the hypotheses are unsatisfiable", why,
                             "the hypotheses are satisfiable"),
            "negation_provable": _flag(neg, "hypotheses ⊢ ¬goal: the statement is false as "
                                       "formalized", why_neg, "the goal is consistent with the "
                                       "hypotheses"),
        }
        if vac == "unsat":
            flags["negation_provable"]["detail"] += " (vacuously: the hypotheses are unsat)"
        return flags

    def render(self, candidate: Candidate) -> str:
        """``Given x: Int, y: Real; assuming A; and B; prove G`` in infix notation."""
        if candidate.formal is None:
            return ""
        smt2, goal = split_candidate(candidate.formal)
        decls, assumptions = [], []
        for cmd in read_sexprs(smt2):
            if not isinstance(cmd, list) or len(cmd) < 2:
                continue
            head = cmd[0]
            if head == "declare-const" and len(cmd) == 3:
                decls.append(f"{cmd[1]}: {show(cmd[2])}")
            elif head == "declare-fun" and len(cmd) == 4:
                decls.append(f"{cmd[1]}: {show(cmd[2])} → {show(cmd[3])}")
            elif head in ("define-fun", "define-fun-rec") and len(cmd) == 5:
                params = ", ".join(str(p[0]) for p in cmd[2] if isinstance(p, list) and p)
                decls.append(f"{cmd[1]}({params}) := {render_term(cmd[4])}")
            elif head == "assert" and len(cmd) == 2:
                assumptions.append(render_term(cmd[1]))
        parts = []
        if decls:
            parts.append("Given " + ", ".join(decls))
        if assumptions:
            parts.append("assuming " + "; and ".join(assumptions))
        parts.append("prove " + render_term(read_one(goal)))
        return "; ".join(parts)

    def describe(self) -> dict[str, Any]:
        return {"target": "z3", "z3_version": z3_version()}


def _flag(status: str, yes: str, unknown_reason: str, no: str) -> dict[str, Any]:
    if status == "unsat":
        return {"value": True, "detail": yes}
    if status == "sat":
        return {"value": False, "detail": no}
    return {"value": None, "detail": f"not decided (z3 unknown: {unknown_reason or 'timeout'})"}
