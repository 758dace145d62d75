"""Z3 backend for arithmetic claims with unknowns: premises ⊢ claim with evidence.

Real sort by default (integers only when the caller says so, and then division is still real
division); a division whose denominator may be zero is never verified; a counter-model is
reported in plain exact numbers (bounded: a 4,400-digit value is abbreviated, never a crash);
``unknown`` from Z3 becomes a typed unknown verdict. Every query goes through
:func:`prover.z3.gateway.solve` (hard wall-clock guard; exponent terms run in a killable worker).

The vacuous-premises contract (one rule, decided here, for every caller): ``verified`` means
the claim follows, and premises it follows from were shown satisfiable. When the unsat core of
``premises ∧ ¬claim`` uses premises, they are checked for satisfiability (remembered per
premises): unsat gives ``unknown: vacuous-premises``, an undecided check the reason Z3 gave. A
claim proved with no premise in the core is true on its own and is ``verified`` by default
even if the premises contradict each other (the step checker relies on it: a true identity is
not an error of the solution). ``check(..., require_satisfiable=True)`` (the LLM-steps checker)
never says ``verified`` under premises with constraints not shown satisfiable, whatever the
core.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from prover.arith.ast import Expr, Neg, Num, Relation, Var, format_number, to_infix, variables
from prover.arith.evaluate import denominators, is_ground
from prover.arith.premises import Premises, premises_key, stated_tolerance
from prover.records.verdicts import UnknownReason, Verdict, unknown
from prover.z3.contexts import fresh_context
from prover.z3.gateway import Limits, SatResult, model_value, safe_exponent, solve, z3_version

Z3_VERSION = z3_version()
__all__ = ["Z3_VERSION", "Z3ArithBackend", "model_value", "to_z3"]


def to_z3(expr: Expr, env: dict[str, z3.ArithRef], ctx: z3.Context,
          opaque: list[bool] | None = None) -> z3.ArithRef:
    """The Z3 term of ``expr`` in ``ctx``; variables come from ``env``, literals are exact.
    A power :func:`prover.z3.gateway.safe_exponent` does not accept (what
    :func:`prover.z3.gateway.needs_isolation` looks for) appends True to ``opaque``."""
    if isinstance(expr, Num):
        v = expr.value
        return z3.RealVal(f"{v.numerator}/{v.denominator}", ctx)
    if isinstance(expr, Var):
        return env[expr.name]
    if isinstance(expr, Neg):
        return -to_z3(expr.arg, env, ctx, opaque)
    left, right = to_z3(expr.left, env, ctx, opaque), to_z3(expr.right, env, ctx, opaque)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "*":
        return left * right
    if expr.op in ("/", "//"):
        quotient = _real(left) / _real(right)  # never SMT integer division
        return quotient if expr.op == "/" else z3.ToReal(z3.ToInt(quotient))
    if opaque is not None and not safe_exponent(right):
        opaque.append(True)
    return left**right


def _real(term: z3.ArithRef) -> z3.ArithRef:
    return z3.ToReal(term) if term.is_int() else term


class Z3ArithBackend:
    """Decides claims with Z3 in a private context (never z3's global default context)."""

    def __init__(self, timeout_ms: int, rlimit: int) -> None:
        self.ctx = fresh_context()
        self.timeout_ms = timeout_ms
        self.rlimit = rlimit
        self.limits = Limits(timeout_ms, rlimit)
        self._premises: list[z3.BoolRef] = []
        self._tracked: list[tuple[str, z3.BoolRef]] = []
        self._opaque: list[bool] = []  # translated terms so far hold an exponent term
        self._premises_opaque = False  # the premises alone do
        self._bases: dict[tuple, SatResult] = {}  # premises key -> decided satisfiability
        self._current = Premises()  # the premises being checked (their key: only in _base)
        # translations: of a check's own terms (by node identity, cleared per check) and of
        # premises across checks (by relation, sort switch and the values of its names)
        self._check_terms: dict[int, tuple[Expr, z3.ArithRef, bool]] = {}
        self._premise_terms: dict[tuple, tuple[z3.BoolRef, bool]] = {}

    # ------------------------------------------------------------------ translation
    def _term(self, expr: Expr, env: dict[str, z3.ArithRef]) -> z3.ArithRef:
        """``to_z3`` of ``expr`` in the current check's environment, built once per check (the
        claim's sides are read by the query, the counter-model and the tolerance check)."""
        hit = self._check_terms.get(id(expr))
        if hit is not None and hit[0] is expr:
            if hit[2]:
                self._opaque.append(True)
            return hit[1]
        opaque: list[bool] = []
        term = to_z3(expr, env, self.ctx, opaque)
        self._opaque.extend(opaque)
        self._check_terms[id(expr)] = (expr, term, bool(opaque))
        return term

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

    def _solve(self, extra: list[z3.BoolRef], evaluate: list[z3.ExprRef] = (),
               claim: bool = True) -> SatResult:
        """One gateway call. Whether it needs the isolate worker is known from translation
        (every term of a check is built before its queries, so ``_opaque`` covers them, at worst
        over-approximating): the gateway need not print the terms to find out."""
        return solve([*self._premises, *extra], ctx=self.ctx, limits=self.limits,
                     tracked=self._tracked, evaluate=list(evaluate), want_model=False,
                     isolate=bool(self._opaque) if claim else self._premises_opaque)

    # ------------------------------------------------------------------ checking
    def check(self, rel: Relation, premises: Premises, *,
              require_satisfiable: bool = False) -> Verdict:
        """Decide ``premises ⊢ rel``; see the module docstring for the verdict rules (and the
        vacuous-premises contract ``require_satisfiable`` selects)."""
        try:
            env = self._translate(premises, variables(rel))
            self._rel(rel, env)  # translate the claim first: _opaque then covers every query
            return self._decide(rel, premises, env, require_satisfiable)
        except z3.Z3Exception as err:
            return unknown(UnknownReason.BACKEND_ERROR, str(err))

    def satisfiable(self, premises: Premises) -> bool | None:
        """Whether ``premises`` can all hold at once; None when Z3 cannot tell within the
        limits (or fails). Remembered per premises, like the check of a claim's premises."""
        try:
            self._translate(premises, set())
            base = self._base()
        except z3.Z3Exception:
            return None
        return None if base.status == "unknown" else not base.unsat

    def _translate(self, premises: Premises, names: set[str]) -> dict[str, z3.ArithRef]:
        """Set up a check: the environment of ``names`` and the premises' names, and the
        premises translated and tracked. Raises what Z3 raises."""
        names = set(names)
        for c in premises.constraints:
            names |= variables(c)
        env = self._env(names, premises)
        self._current = premises
        self._premises: list[z3.BoolRef] = []
        self._opaque = []
        self._check_terms = {}
        self._tracked = [(f"premise_{i}", self._premise(c, env, premises))
                         for i, c in enumerate(premises.constraints)]
        self._premises_opaque = bool(self._opaque)
        self._check_terms = {}  # a premise's nodes may recur in the claim: translated afresh
        return env

    def _premise(self, rel: Relation, env: dict[str, z3.ArithRef],
                 premises: Premises) -> z3.BoolRef:
        """The translation of the constraint ``rel``, remembered across checks of this context:
        it depends only on ``rel``, the integer switch and the values of its names (the same
        hash-consed Z3 term either way; this saves rebuilding it for every claim)."""
        names = variables(rel)
        try:
            key = (rel, premises.integer, tuple(sorted(
                (n, premises.values.get(n)) for n in names)))
            hit = self._premise_terms.get(key)
        except TypeError:  # an unhashable part: translate without the memo
            return self._rel(rel, env)
        if hit is None:
            before = len(self._opaque)
            hit = (self._rel(rel, env), len(self._opaque) > before)
            if len(self._premise_terms) >= _BASE_MEMO_SIZE:
                self._premise_terms.clear()
            self._premise_terms[key] = hit
        elif hit[1]:
            self._opaque.append(True)
        return hit[0]

    def _decide(self, rel: Relation, premises: Premises, env: dict[str, z3.ArithRef],
                require_satisfiable: bool = False) -> Verdict:
        """The division guard, then one query: premises ∧ ¬claim. Unsat is ``verified`` (when
        its core uses premises, only after they are shown satisfiable: else ``vacuous``); sat
        is ``refuted`` with the model, which itself shows the premises satisfiable, so a
        refutation costs no separate satisfiability call."""
        verdict = self._division_guard(rel, premises, env)
        if verdict is not None:
            return verdict
        exact = Relation("=", rel.left, rel.right) if rel.op == "~=" else rel
        shown = self._shown(rel, env)
        negated = self._solve([z3.Not(self._rel(exact, env))], [t for _, t in shown])
        if negated.unsat:
            used = sorted((t for t in negated.core if t.startswith("premise_")),
                          key=lambda tag: int(tag.rsplit("_", 1)[1]))  # premise order
            if used or (require_satisfiable and premises.constraints):
                # it follows from the premises: only if they can hold at all
                base = self._base()
                if base.unsat:
                    return unknown(UnknownReason.VACUOUS, "the premises contradict each other")
                if base.status == "unknown":
                    detail = "Z3 could not show the premises can hold"
                    verdict = _unknown(base)
                    return unknown(verdict.reason or UnknownReason.BACKEND_ERROR,
                                   f"{detail}: {verdict.detail}" if verdict.detail else detail)
            core = [to_infix(premises.constraints[int(t.rsplit("_", 1)[1])]) for t in used]
            return Verdict("verified", evidence={"method": "z3 unsat", "premises_used": core})
        if negated.status == "unknown":
            return _unknown(negated)
        evidence = self._evidence(shown, negated.values)
        tol = stated_tolerance(rel)
        if tol is not None:
            approx = self._solve([z3.Not(self._rel(Relation("~=", rel.left, rel.right), env))])
            if approx.unsat:
                return Verdict("verified_approx", evidence=evidence, tolerance=format_number(tol))
            if approx.status == "unknown":
                return _unknown(approx)
            evidence["tolerance"] = format_number(tol)
        return Verdict("refuted", evidence=evidence)

    def _base(self) -> SatResult:
        """Whether the premises alone are satisfiable, asked once per premises: the answer
        depends only on the constraints, the integer switch and the values of their names
        (:func:`prover.arith.premises.premises_key`), so a decided answer (sat, unsat, or Z3 giving up by itself) is
        remembered and the next claim under the same premises costs no solver call. An answer a
        limit cut short (budget, timeout) is not remembered."""
        key = premises_key(self._current)
        cached = self._bases.get(key) if key is not None else None
        if cached is not None:
            return cached
        base = self._solve([], claim=False)
        decided = base.status != "unknown" or base.reason is UnknownReason.UNDECIDABLE
        if key is not None and decided:
            if len(self._bases) >= _BASE_MEMO_SIZE:
                self._bases.clear()
            self._bases[key] = base
        return base

    def _shown(self, rel: Relation, env: dict[str, z3.ArithRef]) -> list[tuple[str, z3.ExprRef]]:
        """The terms a counter-model shows: each unknown, then the two sides."""
        shown = [(n, v) for n, v in env.items() if not z3.is_rational_value(v)]
        return [*shown, ("lhs", self._term(rel.left, env)), ("rhs", self._term(rel.right, env))]

    @staticmethod
    def _evidence(shown: list[tuple[str, z3.ExprRef]], values: tuple[str, ...]) -> dict:
        named = dict(zip([n for n, _ in shown], values, strict=True))
        evidence: dict = {}
        model = {n: named[n] for n, _ in shown[:-2]}
        if model:
            evidence["model"] = model
        evidence["lhs"], evidence["rhs"] = named["lhs"], named["rhs"]
        return evidence

    def _division_guard(self, rel: Relation, premises: Premises,
                        env: dict[str, z3.ArithRef]) -> Verdict | None:
        """Refute when the premises force a zero denominator; unknown when they allow one."""
        dens = [d for d in denominators(rel.left) + denominators(rel.right)
                if not is_ground(d, premises.values)]
        for den in dens:
            term = self._term(den, env)
            may_be_zero = self._solve([term == 0])
            if may_be_zero.status == "unknown":
                reason = may_be_zero.reason or UnknownReason.BACKEND_ERROR
                return unknown(reason, "division guard: " + to_infix(den))
            if may_be_zero.unsat:
                continue
            if self._solve([term != 0]).unsat:
                return Verdict("refuted", evidence={"division_by_zero": to_infix(den)},
                               detail="the premises force this denominator to zero")
            return unknown(UnknownReason.DIVISION_BY_ZERO,
                           f"the denominator {to_infix(den)} may be zero under the premises")
        return None


_BASE_MEMO_SIZE = 1024


def _unknown(result: SatResult) -> Verdict:
    return unknown(result.reason or UnknownReason.BACKEND_ERROR, result.raw_reason)
