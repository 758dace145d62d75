"""The FOL syntax in one import: the AST (:mod:`prover.fol.nodes`), its canonical printer
(:mod:`prover.fol.printer`), and the well-definedness condition of a formula's divisions.

Callers use this module as ``S`` (``S.Pred``, ``S.to_text``, ``S.well_definedness``);
:func:`prover.fol.parser.parse_formula` reads the printed text back to an equal AST.
"""

from __future__ import annotations

from prover.fol.nodes import (
    ARITH_OPS,
    COMPARISONS,
    EXTENDED_NAME,
    FORMULA_TYPES,
    KEYWORDS,
    NON_FINITE,
    STRICT_NAME,
    TERM_TYPES,
    And,
    Arith,
    Cmp,
    Const,
    Exists,
    FolSortError,
    FolSyntaxError,
    Forall,
    Formula,
    Iff,
    Implies,
    Neg,
    Node,
    Not,
    Num,
    Or,
    Pred,
    Term,
    Var,
    Xor,
    decimal_text,
)
from prover.fol.printer import to_text

__all__ = ["ARITH_OPS", "COMPARISONS", "EXTENDED_NAME", "FORMULA_TYPES", "KEYWORDS",
           "NON_FINITE", "STRICT_NAME", "TERM_TYPES", "And", "Arith", "Cmp", "Const", "Exists",
           "FolSortError", "FolSyntaxError", "Forall", "Formula", "Iff", "Implies", "Neg",
           "Node", "Not", "Num", "Or", "Pred", "Term", "Var", "Xor", "decimal_text",
           "subformulas", "to_text", "well_definedness"]


def subformulas(f: Not | And | Or | Xor | Implies | Iff) -> tuple[Formula, ...]:
    """Immediate subformulas of a connective, left to right."""
    if isinstance(f, Not):
        return (f.arg,)
    return f.args if isinstance(f, (And, Or)) else (f.left, f.right)


def _wd_terms(*terms: Term) -> list[Formula]:
    out: list[Formula] = []
    for t in terms:
        if isinstance(t, Neg):
            out += _wd_terms(t.arg)
        elif isinstance(t, Arith):
            out += _wd_terms(t.left, t.right)
            if t.op == "/" and not (isinstance(t.right, Num) and t.right.value != 0):
                out.append(Cmp("≠", t.right, Num(0)))
    return out


def _conj(parts: list[Formula]) -> Formula | None:
    parts = list(dict.fromkeys(parts))
    return None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))


def well_definedness(f: Formula) -> Formula | None:
    """Condition under which every division in ``f`` has a nonzero denominator where it is
    evaluated, or ``None`` if ``f`` divides only by nonzero literals. Left to right, like
    Event-B's WD: in ``A ∧ B``, ``A ∨ B`` and ``A → B`` the guards of ``B`` are required only
    where ``A`` leaves the value open; ``∀x``/``∃x`` give ``∀x`` over the body's condition."""
    if isinstance(f, Pred):
        return None
    if isinstance(f, Cmp):
        return _conj(_wd_terms(f.left, f.right))
    if isinstance(f, (Forall, Exists)):
        body = well_definedness(f.body)
        return None if body is None else Forall(f.var, body)
    ops = subformulas(f)
    parts: list[Formula] = []
    for i, sub in enumerate(ops):
        w = well_definedness(sub)
        if w is not None and (i == 0 or isinstance(f, (Not, Xor, Iff))):
            parts.append(w)
        elif w is not None:
            before = ops[0] if i == 1 else type(f)(ops[:i])  # type: ignore[call-arg]
            parts.append(Or((before, w)) if isinstance(f, Or) else Implies(before, w))
    return _conj(parts)
