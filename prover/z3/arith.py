"""Z3 backend for arithmetic claims with unknowns: premises ⊢ claim with evidence.

Real sort by default (integers only when the caller says so, and then division is still real
division); a division whose denominator may be zero is never verified; a counter-model is
reported in plain exact numbers; ``unknown`` from Z3 becomes a typed unknown verdict.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from prover.arith.ast import Expr, Neg, Num, Relation, Var, format_number, to_infix, variables
from prover.arith.check import Premises, stated_tolerance
from prover.arith.evaluate import denominators, is_ground
from prover.verdicts import UnknownReason, Verdict, unknown

Z3_VERSION = z3.get_version_string()


def unknown_reason(solver: z3.Solver) -> UnknownReason:
    """Map ``reason_unknown()`` to a typed reason (timeout, budget, undecidable fragment)."""
    text = solver.reason_unknown().lower()
    if "timeout" in text:
        return UnknownReason.TIMEOUT
    if "canceled" in text or "resource" in text or "rlimit" in text or "memory" in text:
        return UnknownReason.BUDGET
    return UnknownReason.UNDECIDABLE


def model_value(value: z3.ExprRef) -> str:
    """A model value in plain exact numbers (algebraic numbers as 12-digit decimals)."""
    if z3.is_rational_value(value):
        return format_number(Fraction(value.numerator_as_long(), value.denominator_as_long()))
    if z3.is_int_value(value):
        return str(value.as_long())
    if z3.is_algebraic_value(value):
        return value.as_decimal(12).rstrip("?") + " (algebraic)"
    return str(value)


def to_z3(expr: Expr, env: dict[str, z3.ArithRef], ctx: z3.Context) -> z3.ArithRef:
    """The Z3 term of ``expr`` in ``ctx``; variables come from ``env``, literals are exact."""
    if isinstance(expr, Num):
        v = expr.value
        return z3.RealVal(f"{v.numerator}/{v.denominator}", ctx)
    if isinstance(expr, Var):
        return env[expr.name]
    if isinstance(expr, Neg):
        return -to_z3(expr.arg, env, ctx)
    left, right = to_z3(expr.left, env, ctx), to_z3(expr.right, env, ctx)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "*":
        return left * right
    if expr.op in ("/", "//"):
        quotient = _real(left) / _real(right)  # never SMT integer division
        return quotient if expr.op == "/" else z3.ToReal(z3.ToInt(quotient))
    return left**right


def _real(term: z3.ArithRef) -> z3.ArithRef:
    return z3.ToReal(term) if term.is_int() else term


class Z3ArithBackend:
    """Decides claims with Z3 in a private context (never z3's global default context)."""

    def __init__(self, timeout_ms: int, rlimit: int) -> None:
        self.ctx = z3.Context()
        self.timeout_ms = timeout_ms
        self.rlimit = rlimit

    # ------------------------------------------------------------------ translation
    def _term(self, expr: Expr, env: dict[str, z3.ArithRef]) -> z3.ArithRef:
        return to_z3(expr, env, self.ctx)

    def _rel(self, rel: Relation, env: dict[str, z3.ArithRef]) -> z3.BoolRef:
        lhs, rhs = self._term(rel.left, env), self._term(rel.right, env)
        op = rel.op
        if op == "=":
            return lhs == rhs
        if op == "~=":
            tol = stated_tolerance(rel) or Fraction(1, 2)
            bound = z3.RealVal(f"{tol.numerator}/{tol.denominator}", self.ctx)
            diff = lhs - rhs
            return z3.And(diff <= bound, -diff <= bound)
        return {"!=": lhs != rhs, "<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs,
                ">=": lhs >= rhs}[op]

    def _env(self, names: set[str], premises: Premises) -> dict[str, z3.ArithRef]:
        env: dict[str, z3.ArithRef] = {}
        for name in sorted(names):
            if name in premises.values:
                v = premises.values[name]
                env[name] = z3.RealVal(f"{v.numerator}/{v.denominator}", self.ctx)
            elif premises.integer:
                env[name] = z3.Int(name, self.ctx)
            else:
                env[name] = z3.Real(name, self.ctx)
        return env

    def _solver(self) -> z3.Solver:
        solver = z3.Solver(ctx=self.ctx)
        solver.set("timeout", self.timeout_ms)
        solver.set("rlimit", self.rlimit)
        return solver

    # ------------------------------------------------------------------ checking
    def check(self, rel: Relation, premises: Premises) -> Verdict:
        """Decide ``premises ⊢ rel``; see the module docstring for the verdict rules."""
        names = variables(rel)
        for c in premises.constraints:
            names |= variables(c)
        env = self._env(names, premises)
        solver = self._solver()
        trackers: dict[str, Relation] = {}
        for i, c in enumerate(premises.constraints):
            tag = z3.Bool(f"premise_{i}", self.ctx)
            trackers[str(tag)] = c
            solver.assert_and_track(self._rel(c, env), tag)
        try:
            return self._decide(rel, premises, env, solver, trackers)
        except z3.Z3Exception as err:
            return unknown(UnknownReason.BACKEND_ERROR, str(err))

    def _decide(self, rel: Relation, premises: Premises, env: dict[str, z3.ArithRef],
                solver: z3.Solver, trackers: dict[str, Relation]) -> Verdict:
        verdict = self._division_guard(rel, premises, env, solver)
        if verdict is not None:
            return verdict
        state = solver.check()
        if state == z3.unsat:
            return unknown(UnknownReason.VACUOUS, "the premises contradict each other")
        if state == z3.unknown:
            return unknown(unknown_reason(solver), solver.reason_unknown())
        exact = Relation("=", rel.left, rel.right) if rel.op == "~=" else rel
        solver.push()
        solver.add(z3.Not(self._rel(exact, env)))
        state = solver.check()
        if state == z3.unsat:
            used = sorted((str(t) for t in solver.unsat_core() if str(t) in trackers),
                          key=lambda tag: int(tag.rsplit("_", 1)[1]))  # premise order
            core = [to_infix(trackers[tag]) for tag in used]
            return Verdict("verified", evidence={"method": "z3 unsat", "premises_used": core})
        if state == z3.unknown:
            return unknown(unknown_reason(solver), solver.reason_unknown())
        evidence = self._evidence(rel, env, solver.model())
        solver.pop()
        tol = stated_tolerance(rel)
        if tol is not None:
            solver.add(z3.Not(self._rel(Relation("~=", rel.left, rel.right), env)))
            state = solver.check()
            if state == z3.unsat:
                return Verdict("verified_approx", evidence=evidence, tolerance=format_number(tol))
            if state == z3.unknown:
                return unknown(unknown_reason(solver), solver.reason_unknown())
            evidence["tolerance"] = format_number(tol)
        return Verdict("refuted", evidence=evidence)

    def _evidence(self, rel: Relation, env: dict[str, z3.ArithRef], model: z3.ModelRef) -> dict:
        unknowns = {n: v for n, v in env.items() if not z3.is_rational_value(v)}
        evidence: dict = {}
        if unknowns:
            evidence["model"] = {n: model_value(model.eval(v, model_completion=True))
                                 for n, v in unknowns.items()}
        evidence["lhs"] = model_value(model.eval(self._term(rel.left, env), model_completion=True))
        evidence["rhs"] = model_value(model.eval(self._term(rel.right, env),
                                                 model_completion=True))
        return evidence

    def _division_guard(self, rel: Relation, premises: Premises, env: dict[str, z3.ArithRef],
                        solver: z3.Solver) -> Verdict | None:
        """Refute when the premises force a zero denominator; unknown when they allow one."""
        dens = [d for d in denominators(rel.left) + denominators(rel.right)
                if not is_ground(d, premises.values)]
        for den in dens:
            term = self._term(den, env)
            solver.push()
            solver.add(term == 0)
            may_be_zero = solver.check()
            solver.pop()
            if may_be_zero == z3.unknown:
                return unknown(unknown_reason(solver), "division guard: " + to_infix(den))
            if may_be_zero == z3.unsat:
                continue
            solver.push()
            solver.add(term != 0)
            must_be_zero = solver.check() == z3.unsat
            solver.pop()
            if must_be_zero:
                return Verdict("refuted", evidence={"division_by_zero": to_infix(den)},
                               detail="the premises force this denominator to zero")
            return unknown(UnknownReason.DIVISION_BY_ZERO,
                           f"the denominator {to_infix(den)} may be zero under the premises")
        return None
