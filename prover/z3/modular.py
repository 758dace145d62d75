"""Residue arithmetic for the Z3 prover: the ``residues`` case split and the ``mod-eval`` rewrite.

``residues x m`` (x an Int constant, 2 <= m <= :data:`MAX_RESIDUES`) replaces the goal by m
goals, the r-th with x := m*q + r (q fresh). Sound by Euclidean division: every integer x is
m*(x div m) + (x mod m) with 0 <= x mod m < m, so a counter-example to the goal is one to some
case.

``mod-eval`` rewrites every ``(mod P m)`` (m a positive numeral, P an Int polynomial over
constants and other Int atoms) whose value is fixed: P is expanded into monomials (exact
integer arithmetic here); when every non-constant coefficient is divisible by m, P = m*W + c
with W an integer polynomial, so ``(mod P m)`` is ``c mod m``. Each identity is re-checked by
Z3's own rewriter (P - (m*W + c) expands to 0) before it is used, and kept in the closure
record. A rewritten formula without constants is simplified (unless it holds a power this
module would not expand or a recursive function); a conclusion that becomes ``true`` (or a
hypothesis that becomes ``false``) closes the goal, and a conclusion that becomes ``false``
with every hypothesis ``true`` fails the tactic, naming the residues: that case is a
counter-example. Nothing here calls a solver, and nothing is expanded above
:data:`MAX_MONOMIALS` estimated monomials, so these tactics run in-process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import z3

from prover.z3.goals import Goal, TacticError, constants, fresh_name, make_goal, smt, walk
from prover.z3.theorem import Theorem

MAX_RESIDUES = 32
MAX_MONOMIALS = 4000
MAX_POWER = 64


# --------------------------------------------------------------------------- residues x m
def residues(theorem: Theorem, goal: Goal, name: str, modulus: int) -> list[Goal]:
    """The m goals of ``residues name modulus`` (see the module docstring)."""
    if not 2 <= modulus <= MAX_RESIDUES:
        raise TacticError(f"residues: the modulus must be in 2..{MAX_RESIDUES}, got {modulus}")
    var = constants(goal.terms()).get(name)
    if var is None or not z3.is_int(var):
        raise TacticError(f"residues: {name} is not an Int constant of the goal")
    taken = set(constants(goal.terms())) | theorem.reserved
    q = z3.Int(fresh_name(name, taken), theorem.ctx)
    out = []
    for r in range(modulus):
        value = modulus * q + r if r else modulus * q
        terms = [z3.substitute(t, (var, value)) for t in goal.terms()]
        out.append(make_goal(terms[:-1], terms[-1]))
    return out


# --------------------------------------------------------------------------- polynomials
def _size(term: z3.ExprRef) -> int:
    """An upper bound on the monomials of ``term`` expanded (atoms count 1)."""
    if not z3.is_app(term) or term.num_args() == 0:
        return 1
    kind = term.decl().kind()
    if kind in (z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_UMINUS):
        return sum(_size(a) for a in term.children())
    if kind == z3.Z3_OP_MUL:
        total = 1
        for a in term.children():
            total *= _size(a)
            if total > MAX_MONOMIALS:
                return total
        return total
    if kind == z3.Z3_OP_POWER and z3.is_int_value(term.arg(1)):
        exponent = term.arg(1).as_long()
        base = _size(term.arg(0))
        if not 0 <= exponent <= MAX_POWER:
            return MAX_MONOMIALS + 1
        return 1 if base == 1 else min(base ** exponent, MAX_MONOMIALS + 1)
    return 1  # an atom: a constant, a function application, a mod, ...


Poly = dict[tuple[int, ...], int]
"""A polynomial: sorted atom ids (with repeats) -> integer coefficient, no zero entries."""


def _add(a: Poly, b: Poly, sign: int = 1) -> Poly:
    out = dict(a)
    for mono, coeff in b.items():
        out[mono] = out.get(mono, 0) + sign * coeff
    return {m: c for m, c in out.items() if c}


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            mono = tuple(sorted(ma + mb))
            out[mono] = out.get(mono, 0) + ca * cb
    return {m: c for m, c in out.items() if c}


def expand(term: z3.ExprRef, atoms: dict[int, z3.ExprRef]) -> Poly:
    """``term`` (Int) expanded into monomials over its atoms (every sub-term that is not
    +, -, * or ^ with a numeral exponent; recorded in ``atoms`` by AST id). Call only after
    :func:`_size` bounded the result."""
    if z3.is_int_value(term):
        value = term.as_long()
        return {(): value} if value else {}
    kind = term.decl().kind() if z3.is_app(term) else None
    if kind == z3.Z3_OP_ADD:
        out: Poly = {}
        for arg in term.children():
            out = _add(out, expand(arg, atoms))
        return out
    if kind == z3.Z3_OP_SUB:
        first, *rest = term.children()
        out = expand(first, atoms)
        for arg in rest:
            out = _add(out, expand(arg, atoms), -1)
        return out
    if kind == z3.Z3_OP_UMINUS:
        return _add({}, expand(term.arg(0), atoms), -1)
    if kind == z3.Z3_OP_MUL:
        out = {(): 1}
        for arg in term.children():
            out = _mul(out, expand(arg, atoms))
        return out
    if kind == z3.Z3_OP_POWER and z3.is_int_value(term.arg(1)) \
            and 0 <= term.arg(1).as_long() <= MAX_POWER:
        base, out = expand(term.arg(0), atoms), {(): 1}
        for _ in range(term.arg(1).as_long()):
            out = _mul(out, base)
        return out
    atoms[term.get_id()] = term
    return {(term.get_id(),): 1}


def _term(poly: Poly, atoms: dict[int, z3.ExprRef], ctx: z3.Context) -> z3.ArithRef:
    """``poly`` as a Z3 Int term (monomials in a fixed order)."""
    parts = []
    for mono, coeff in sorted(poly.items(), key=lambda item: (len(item[0]), item[0])):
        factors = [atoms[i] for i in mono]
        if coeff != 1 or not factors:
            factors.insert(0, z3.IntVal(coeff, ctx))
        parts.append(factors[0] if len(factors) == 1 else z3.Product(*factors))
    if not parts:
        return z3.IntVal(0, ctx)
    return parts[0] if len(parts) == 1 else z3.Sum(*parts)


def _z3_expands_to_zero(term: z3.ArithRef) -> bool:
    """Z3's own rewriter (sum of monomials, to a fixpoint) brings ``term`` to 0."""
    for _ in range(8):
        simpler = z3.simplify(term, som=True)
        if z3.is_int_value(simpler):
            return simpler.as_long() == 0
        if simpler.eq(term):
            return False
        term = simpler
    return False


def residue(poly: z3.ArithRef, modulus: int) -> tuple[int, z3.ArithRef] | None:
    """(c, W) with ``poly = modulus*W + c`` an identity of integer polynomials and
    0 <= c < modulus, or None when the value of ``poly mod modulus`` is not fixed (or the
    polynomial is too large to expand). The identity found by :func:`expand` is re-checked by
    Z3's rewriter before it is returned."""
    if not z3.is_int(poly) or modulus < 1 or _size(poly) > MAX_MONOMIALS:
        return None
    atoms: dict[int, z3.ExprRef] = {}
    expanded = expand(poly, atoms)
    constant = expanded.pop((), 0)
    if any(coeff % modulus for coeff in expanded.values()):
        return None
    quotient = {mono: coeff // modulus for mono, coeff in expanded.items()}
    if constant // modulus:
        quotient[()] = constant // modulus
    c, w = constant % modulus, _term(quotient, atoms, poly.ctx)
    if not _z3_expands_to_zero(poly - (modulus * w + c)):
        return None
    return c, w


def mod_terms(terms: Iterable[z3.ExprRef]) -> list[z3.ExprRef]:
    """``(mod P m)`` sub-terms with a positive numeral m, innermost first, outside binders."""
    found = []
    for t in walk(terms):
        if z3.is_app_of(t, z3.Z3_OP_MOD) and z3.is_int_value(t.arg(1)) \
                and t.arg(1).as_long() > 0 and not _under_binder(t):
            found.append(t)
    return found[::-1]


def _under_binder(term: z3.ExprRef) -> bool:
    return any(z3.is_var(t) for t in walk([term]))


def _ground_and_tame(term: z3.ExprRef) -> bool:
    """No constants, no recursive function, every power a numeral one up to MAX_POWER: the
    rewriter evaluates it quickly."""
    for t in walk([term]):
        if not z3.is_app(t):
            return False
        kind = t.decl().kind()
        if kind in (z3.Z3_OP_UNINTERPRETED, z3.Z3_OP_RECURSIVE):
            return False
        if kind == z3.Z3_OP_POWER and not (z3.is_int_value(t.arg(1))
                                           and 0 <= t.arg(1).as_long() <= MAX_POWER):
            return False
    return True


def fixed_mods(goal: Goal) -> list[tuple[z3.ExprRef, int, z3.ArithRef]]:
    """Each ``(mod P m)`` of the goal whose value is fixed: (term, value, W)."""
    out = []
    for t in mod_terms(goal.terms()):
        found = residue(t.arg(0), t.arg(1).as_long())
        if found is not None:
            out.append((t, found[0], found[1]))
    return out


# --------------------------------------------------------------------------- mod-eval
def mod_eval(goal: Goal) -> tuple[list[Goal], dict[str, Any] | None]:
    """``mod-eval`` on ``goal``: ``([], record)`` when it closes the goal, ``([new], None)``
    when it rewrites without closing; raises :class:`TacticError` when nothing is fixed or the
    conclusion becomes false with no hypothesis mentioning a constant."""
    fixed = fixed_mods(goal)
    if not fixed:
        raise TacticError("mod-eval: no (mod P m) term with a fixed value")
    ctx = goal.concl.ctx
    pairs = [(t, z3.IntVal(c, ctx)) for t, c, _ in fixed]
    terms = [z3.substitute(t, *pairs) for t in goal.terms()]
    terms = [z3.simplify(t) if _ground_and_tame(t) else t for t in terms]
    hyps, concl = terms[:-1], terms[-1]
    identities = [{"term": smt(t), "value": c,
                   "identity": f"{smt(t.arg(0))} = {t.arg(1).as_long()} * {smt(w)} + {c}"}
                  for t, c, w in fixed]
    record = {"method": "mod-eval (polynomial identities)", "identities": identities}
    if z3.is_true(concl) or any(z3.is_false(h) for h in hyps):
        return [], record
    if z3.is_false(concl) and all(z3.is_true(h) for h in hyps):
        shown = ", ".join(f"{i['term']} = {i['value']}" for i in identities)
        raise TacticError(f"mod-eval: the conclusion is false in this case ({shown})")
    new = make_goal([h for h in hyps if not z3.is_true(h)], concl)
    if new.text == goal.text:
        raise TacticError("mod-eval: no change")
    return [new], None
