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

import z3

from formalizer.autoformalize.targets.base import Candidate, Equivalence, Item, strip_fences
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


def _signature(decl: z3.FuncDeclRef) -> str:
    dom = " ".join(str(decl.domain(i)) for i in range(decl.arity()))
    return f"({dom}) {decl.range()}" if decl.arity() else str(decl.range())


def _solve(ctx: z3.Context, formulas: Sequence[z3.BoolRef], timeout_ms: int) -> tuple[str, str]:
    """``(sat|unsat|unknown, reason)`` of the conjunction of ``formulas``."""
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", timeout_ms)
    solver.add(*formulas)
    try:
        result = solver.check()
    except z3.Z3Exception as exc:
        return "unknown", str(exc)
    if result == z3.unknown:
        return "unknown", solver.reason_unknown()
    return str(result), ""


def implicit_coercions(theorem: Theorem, text: str) -> str:
    """A message when Z3's parser silently coerced a sort the text did not convert: Real to
    Int (``to_int``) or Bool to Int (``ite b 1 0``); empty when there is none. (Int to Real
    promotion, as in SMT-LIB's mixed Int/Real logics, is accepted.)"""
    seen: set[int] = set()
    counts = {"to_int": 0, "ite": 0}
    stack: list[z3.ExprRef] = [*theorem.hypotheses, theorem.conclusion]
    stack.extend(rec.body for rec in theorem.rec_defs.values())
    while stack:
        expr = stack.pop()
        key = expr.get_id()
        if key in seen:
            continue
        seen.add(key)
        if z3.is_quantifier(expr):
            stack.append(expr.body())
            continue
        if not z3.is_app(expr):
            continue
        kind = expr.decl().kind()
        if kind == z3.Z3_OP_TO_INT:
            counts["to_int"] += 1
        elif kind == z3.Z3_OP_ITE and z3.is_int_value(expr.arg(1)) and z3.is_int_value(expr.arg(2)):
            counts["ite"] += 1
        stack.extend(expr.children())
    tokens = re.findall(r"[^\s()]+", text)
    problems = []
    if counts["to_int"] > tokens.count("to_int"):
        problems.append("a Real term is used where an Int is required (z3 inserted to_int)")
    if counts["ite"] > tokens.count("ite"):
        problems.append("a Bool term is used where a number is required (z3 inserted ite)")
    return "; ".join(problems)


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
        sig_a = {n: _signature(d) for n, d in ta.symbols.items()}
        sig_b = {n: _signature(d) for n, d in tb.symbols.items()}
        if sig_a != sig_b:
            diff = sorted(set(sig_a.items()) ^ set(sig_b.items()))
            return Equivalence(False, "different declared symbols: " + ", ".join(
                f"{n}: {s}" for n, s in diff[:6]))
        for name, rec in ta.rec_defs.items():
            other = tb.rec_defs.get(name)
            if other is None or not other.body.translate(ta.ctx).eq(rec.body):
                return Equivalence(False, f"recursive definition of {name} differs")
        ctx = ta.ctx
        hyps_a = z3.And(*ta.hypotheses, ctx)
        hyps_b = z3.And(*[h.translate(ctx) for h in tb.hypotheses], ctx)
        goal_b = tb.conclusion.translate(ctx)
        for what, left, right in (("hypotheses", hyps_a, hyps_b),
                                  ("goals", ta.conclusion, goal_b)):
            status, reason = _solve(ctx, [z3.Not(left == right)], timeout_ms)
            if status == "sat":
                return Equivalence(False, f"the {what} differ (z3 found a model where exactly "
                                   "one holds)")
            if status != "unsat":
                return Equivalence(False, f"not decided: {what} (z3 unknown: "
                                   f"{reason or 'timeout'})")
        return Equivalence(True, "z3 proved hyps_A ↔ hyps_B and goal_A ↔ goal_B")

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        """``vacuous`` (hypotheses unsat) and ``negation_provable`` (hyps ∧ goal unsat), each
        ``{"value": bool | None, "detail": ...}`` (None = z3 unknown within the timeout)."""
        th = candidate.parsed
        assert isinstance(th, Theorem)
        vac, why = _solve(th.ctx, list(th.hypotheses), timeout_ms)
        neg, why_neg = _solve(th.ctx, [*th.hypotheses, th.conclusion], timeout_ms)
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
        return {"target": "z3", "z3_version": z3.get_version_string()}


def _flag(status: str, yes: str, unknown_reason: str, no: str) -> dict[str, Any]:
    if status == "unsat":
        return {"value": True, "detail": yes}
    if status == "sat":
        return {"value": False, "detail": no}
    return {"value": None, "detail": f"not decided (z3 unknown: {unknown_reason or 'timeout'})"}
