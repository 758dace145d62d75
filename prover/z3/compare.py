"""Z3 checks the autoformalizer's targets need (so formalizer/ never imports z3): sort checks
of a parsed theorem, equivalence of two candidates, vacuity flags, FOL sort checks and FOL
equivalence. Every solver call goes through :func:`prover.z3.gateway.solve`."""

from __future__ import annotations

import re
from collections.abc import Sequence

import z3

from prover.fol import syntax as S
from prover.z3.contexts import new_context
from prover.z3.fol_encode import Encoder
from prover.z3.gateway import Limits, SatResult, solve
from prover.z3.theorem import Theorem


def _limits(timeout_ms: int) -> Limits:
    return Limits(max(1, timeout_ms), rlimit=max(1, timeout_ms) * 25_000)


def status_of(result: SatResult) -> tuple[str, str]:
    """``(sat|unsat|unknown, reason)`` of a gateway result."""
    reason = result.reason.value if result.reason else ""
    return result.status, (f"{reason}: {result.raw_reason}" if result.raw_reason else reason)


def check_sat(theorem: Theorem, formulas: Sequence[z3.BoolRef],
              timeout_ms: int) -> tuple[str, str]:
    """Satisfiability of ``formulas`` in ``theorem``'s context."""
    return status_of(solve(list(formulas), ctx=theorem.ctx, limits=_limits(timeout_ms),
                           want_model=False))


def signature(decl: z3.FuncDeclRef) -> str:
    """``(Int Int) Bool`` / ``Int``: a declaration's sort signature."""
    dom = " ".join(str(decl.domain(i)) for i in range(decl.arity()))
    return f"({dom}) {decl.range()}" if decl.arity() else str(decl.range())


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


def theorems_equivalent(ta: Theorem, tb: Theorem, timeout_ms: int) -> tuple[bool, str]:
    """Aligned symbols, then ``hA ↔ hB`` and ``gA ↔ gB`` proved valid within ``timeout_ms``."""
    sig_a = {n: signature(d) for n, d in ta.symbols.items()}
    sig_b = {n: signature(d) for n, d in tb.symbols.items()}
    if sig_a != sig_b:
        diff = sorted(set(sig_a.items()) ^ set(sig_b.items()))
        return False, "different declared symbols: " + ", ".join(f"{n}: {s}" for n, s in diff[:6])
    for name, rec in ta.rec_defs.items():
        other = tb.rec_defs.get(name)
        if other is None or not other.body.translate(ta.ctx).eq(rec.body):
            return False, f"recursive definition of {name} differs"
    ctx = ta.ctx
    hyps_a = z3.And(*ta.hypotheses, ctx)
    hyps_b = z3.And(*[h.translate(ctx) for h in tb.hypotheses], ctx)
    goal_b = tb.conclusion.translate(ctx)
    for what, left, right in (("hypotheses", hyps_a, hyps_b), ("goals", ta.conclusion, goal_b)):
        status, reason = check_sat(ta, [z3.Not(left == right)], timeout_ms)
        if status == "sat":
            return False, f"the {what} differ (z3 found a model where exactly one holds)"
        if status != "unsat":
            return False, f"not decided: {what} (z3 unknown: {reason or 'timeout'})"
    return True, "z3 proved hyps_A ↔ hyps_B and goal_A ↔ goal_B"


def fol_sort_check(formulas: Sequence[S.Formula]) -> None:
    """Infer the sorts of ``formulas`` together; raises FolSortError (``.formula`` names the
    1-based formula) when a name is used both as an entity and as a number."""
    encoder = Encoder(new_context())
    for i, f in enumerate(formulas):
        encoder.label = f"formula {i + 1}"
        encoder.infer(f, {})


def fol_equivalent(premises_a: Sequence[S.Formula], conclusion_a: S.Formula,
                   premises_b: Sequence[S.Formula], conclusion_b: S.Formula,
                   timeout_ms: int) -> tuple[bool, str]:
    """Premise conjunctions and conclusions proved equivalent (raises FolSyntaxError when the
    sorts of the two translations disagree)."""
    ctx = new_context()
    encoder = Encoder(ctx)
    formulas = [*premises_a, conclusion_a, *premises_b, conclusion_b]
    for f in formulas:
        encoder.infer(f, {})
    z = [encoder.formula(f, {}) for f in formulas]
    n = len(premises_a)
    pa, ca, pb, cb = z[:n], z[n], z[n + 1:-1], z[-1]
    for what, left, right in (("premises", z3.And(*pa, ctx), z3.And(*pb, ctx)),
                              ("conclusions", ca, cb)):
        result = solve([z3.Not(left == right)], ctx=ctx, limits=_limits(timeout_ms),
                       want_model=False)
        if result.sat:
            return False, f"the {what} differ (z3 found a counter-model)"
        if not result.unsat:
            return False, f"not decided: {what} (z3 unknown: {status_of(result)[1] or 'timeout'})"
    return True, "z3 proved the premises and the conclusions equivalent"
