"""Z3 proof goals (``hypotheses ⊢ conclusion``), their deterministic print, the tactic grammar.

A goal is a frozen pair of Z3 terms living in its theorem's context; its text is a
deterministic SMT-LIB print (:func:`smt`: recursive functions by name, no ``let`` sharing,
bound variables by their binder names), so identical goals from different paths print alike.
Tactics are parsed by :func:`parse_tactic` (never evaluated) and act on ONE goal, returning the
goals that replace it: the structural ones in :mod:`prover.z3.structural`, the solver-backed
ones (``z3`` and the named Z3 tactics) through :mod:`prover.z3.env`, which owns the budgets.
Grammar (``HYP`` is ``3`` or ``h3``)::

    z3 | intro | split | <named z3 tactic>
    induction SYM | induction2 SYM          (SYM an Int constant with a hypothesis SYM >= t)
    cases TERM | have TERM                  (TERM a Bool SMT-LIB term)
    unfold SYM [at HYP]                     (SYM a define-fun-rec function)
    instantiate HYP TERM+                   (HYP a forall hypothesis)
    residues SYM M | mod-eval               (residue split and rewrite: prover.z3.modular)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import z3

from prover.z3.terms import uninterpreted_symbols, walk
from prover.z3.theorem import (
    SExprError,
    Theorem,
    quote_symbol,
    read_one,
    read_sexprs,
    show,
    unquote_symbol,
)

__all__ = ["walk"]  # re-exported: the tactic modules take it from here

MAX_TACTIC_CHARS = 4000
_HYP = re.compile(r"h?(\d+)\Z")
_SUFFIX = re.compile(r"_\d+\Z")
_UNINTERPRETED = (z3.Z3_OP_UNINTERPRETED, z3.Z3_OP_RECURSIVE)
_HEADS = {  # SMT-LIB heads of parameter-free operators (saves a decl print per node)
    z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*", z3.Z3_OP_UMINUS: "-",
    z3.Z3_OP_DIV: "/", z3.Z3_OP_IDIV: "div", z3.Z3_OP_MOD: "mod", z3.Z3_OP_REM: "rem",
    z3.Z3_OP_POWER: "^", z3.Z3_OP_LE: "<=", z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=",
    z3.Z3_OP_GT: ">", z3.Z3_OP_EQ: "=", z3.Z3_OP_DISTINCT: "distinct", z3.Z3_OP_AND: "and",
    z3.Z3_OP_OR: "or", z3.Z3_OP_NOT: "not", z3.Z3_OP_IMPLIES: "=>", z3.Z3_OP_XOR: "xor",
    z3.Z3_OP_ITE: "ite", z3.Z3_OP_TO_REAL: "to_real", z3.Z3_OP_TO_INT: "to_int",
    z3.Z3_OP_IS_INT: "is_int", z3.Z3_OP_ABS: "abs",
}
STRUCTURAL = ("induction", "induction2", "cases", "have", "unfold", "instantiate", "intro",
              "split", "residues", "mod-eval")


class TacticError(Exception):
    """The tactic does not apply; the message becomes ``Failed(reason)``."""


# --------------------------------------------------------------------------- printing
def smt(expr: z3.ExprRef, bound: tuple[str, ...] = (),
        avoid: frozenset[str] = frozenset()) -> str:
    """Deterministic SMT-LIB text of ``expr``. ``bound`` holds the enclosing binder names
    (outermost first) for de Bruijn variables; a binder whose name is in ``avoid`` (the free
    constants around it) or already bound is printed renamed, so the text is unambiguous."""
    if z3.is_quantifier(expr):
        names: list[str] = []
        for i in range(expr.num_vars()):
            name = quote_symbol(expr.var_name(i))
            if name in avoid or name in bound or name in names:
                name = fresh_name(name, {*avoid, *bound, *names})
            names.append(name)
        binders = " ".join(f"({n} {expr.var_sort(i).sexpr()})" for i, n in enumerate(names))
        kind = "forall" if expr.is_forall() else "exists" if expr.is_exists() else "lambda"
        return f"({kind} ({binders}) {smt(expr.body(), bound + tuple(names), avoid)})"
    if z3.is_var(expr):
        index = z3.get_var_index(expr)
        return bound[-1 - index] if index < len(bound) else f"(:var {index})"
    if z3.is_int_value(expr):  # digit strings: no int conversion, so no 4300-digit limit
        text = expr.as_string()
        return f"(- {text[1:]})" if text.startswith("-") else text
    if z3.is_rational_value(expr):
        top, den = expr.numerator().as_string(), expr.denominator().as_string()
        negative, top = top.startswith("-"), top.lstrip("-")
        num = f"{top}.0" if den == "1" else f"(/ {top}.0 {den}.0)"
        return f"(- {num})" if negative else num
    if not z3.is_app(expr) or z3.is_algebraic_value(expr):
        return expr.sexpr()
    decl = expr.decl()
    kind = decl.kind()
    if kind in _UNINTERPRETED:
        head = quote_symbol(decl.name())
    elif kind in _HEADS:
        head = _HEADS[kind]
    else:
        head = show(read_sexprs(decl.sexpr())[0][1])  # SMT-LIB spelling: ite, not "if"
    args = " ".join(smt(arg, bound, avoid) for arg in expr.children())
    return f"({head} {args})" if args else head


# --------------------------------------------------------------------------- goals
@dataclass(frozen=True, eq=False)
class Goal:
    """``hyps ⊢ concl`` in a theorem's context; ``text`` is its print (``h0: ...``, ``⊢ ...``)."""

    hyps: tuple[z3.BoolRef, ...]
    concl: z3.BoolRef
    text: str = field(init=False)

    def __post_init__(self) -> None:
        avoid = frozenset(quote_symbol(n) for n in constants(self.terms()))
        lines = [f"h{i}: {smt(h, avoid=avoid)}" for i, h in enumerate(self.hyps)]
        object.__setattr__(self, "text", "\n".join([*lines, f"⊢ {smt(self.concl, avoid=avoid)}"]))

    def terms(self) -> tuple[z3.ExprRef, ...]:
        """The hypotheses and the conclusion."""
        return (*self.hyps, self.concl)


def make_goal(hyps: Iterable[z3.BoolRef], concl: z3.BoolRef) -> Goal:
    """A goal with duplicate hypotheses (same AST) dropped, order kept."""
    seen: set[int] = set()
    kept = []
    for h in hyps:
        if h.get_id() not in seen:
            seen.add(h.get_id())
            kept.append(h)
    return Goal(tuple(kept), concl)


def is_trivial(goal: Goal) -> bool:
    """The conclusion is ``true`` or a hypothesis, or a hypothesis is ``false``."""
    if z3.is_true(goal.concl) or any(z3.is_false(h) for h in goal.hyps):
        return True
    return any(h.eq(goal.concl) for h in goal.hyps)


@dataclass(frozen=True, eq=False)
class Z3Goals:
    """A Z3 state's handle: the open goals (first = current) and how earlier goals closed."""

    theorem: Theorem
    goals: tuple[Goal, ...]
    closed: tuple[dict[str, Any], ...] = ()


def constants(terms: Iterable[z3.ExprRef]) -> dict[str, z3.ExprRef]:
    """The free uninterpreted constants of ``terms`` by name, in first-occurrence order."""
    return uninterpreted_symbols(terms, consts_only=True)


def mentions(term: z3.ExprRef, const: z3.ExprRef) -> bool:
    """Whether ``const`` occurs in ``term``."""
    return any(t.eq(const) for t in walk([term]))


def fresh_name(base: str, taken: Iterable[str]) -> str:
    """``base_i`` for the smallest i >= 1 not in ``taken`` (a previous ``_i`` suffix is dropped)."""
    stem, used = _SUFFIX.sub("", base), set(taken)
    i = 1
    while f"{stem}_{i}" in used:
        i += 1
    return f"{stem}_{i}"


# --------------------------------------------------------------------------- tactic grammar
@dataclass(frozen=True)
class TacticCall:
    """A parsed tactic: ``kind`` is ``z3``, a structural tactic or ``named``; ``name`` the
    symbol (variable, function, Z3 tactic), ``terms`` the SMT-LIB term texts, ``hyp`` an index."""

    kind: str
    name: str = ""
    terms: tuple[str, ...] = ()
    hyp: int | None = None


def _hyp_index(atom: str) -> int:
    match = _HYP.match(atom)
    if match is None:
        raise TacticError(f"expected a hypothesis number like h0, got {atom!r}")
    return int(match.group(1))


def _symbol(rest: str, what: str) -> str:
    words = rest.split()
    if len(words) != 1 or words[0].startswith(("(", ")")):
        raise TacticError(f"expected one {what} name, got {rest!r}")
    return words[0]


def parse_tactic(text: str, named: Iterable[str]) -> TacticCall:
    """Parse one tactic line (grammar in the module docstring); ``named`` lists the accepted
    Z3 tactic names. Raises :class:`TacticError` for anything else."""
    text = text.strip()
    if not text:
        raise TacticError("empty tactic")
    if len(text) > MAX_TACTIC_CHARS or "\n" in text:
        raise TacticError(f"a tactic is one line of at most {MAX_TACTIC_CHARS} characters")
    head, rest = (text.split(None, 1) + [""])[:2]
    rest = rest.strip()
    if head in ("z3", "intro", "split", "mod-eval") or head in named:
        if rest:
            raise TacticError(f"{head} takes no arguments")
        return TacticCall("named" if head in named else head, head)
    try:
        if head in ("induction", "induction2"):
            return TacticCall(head, unquote_symbol(_symbol(rest, "variable")))
        if head in ("cases", "have"):
            return TacticCall(head, terms=(show(read_one(rest)),))
        if head == "residues":
            words = rest.split()
            if len(words) != 2 or not (words[1].isascii() and words[1].isdigit()
                                       and len(words[1]) <= 4):
                raise TacticError("usage: residues SYM M (M a small positive integer)")
            return TacticCall(head, unquote_symbol(_symbol(words[0], "variable")),
                              terms=(words[1],))
        if head == "unfold":
            words = rest.split()
            if len(words) == 3 and words[1] == "at":
                return TacticCall(head, unquote_symbol(_symbol(words[0], "function")),
                                  hyp=_hyp_index(words[2]))
            return TacticCall(head, unquote_symbol(_symbol(rest, "function")))
        if head == "instantiate":
            items = read_sexprs(rest)
            if len(items) < 2 or not isinstance(items[0], str):
                raise TacticError("usage: instantiate HYP TERM...")
            return TacticCall(head, terms=tuple(show(t) for t in items[1:]),
                              hyp=_hyp_index(items[0]))
    except SExprError as exc:
        raise TacticError(f"{head}: bad SMT-LIB term: {exc}") from None
    raise TacticError(f"unknown tactic {head!r}")
