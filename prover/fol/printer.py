"""The canonical printer of the FOL AST: ``to_text(node)`` prints the unicode syntax
(``∀ ∃ ¬ ∧ ∨ ⊕ → ↔``, ``= ≠ < ≤ > ≥``, ``+ - * /``) that
:func:`prover.fol.parser.parse_formula` reads back to an equal AST, with the fewest
parentheses that keep it so. Raises ValueError for an AST that has no spelling.
"""

from __future__ import annotations

from prover.fol.nodes import (
    STRICT_NAME,
    TERM_TYPES,
    And,
    Arith,
    Cmp,
    Const,
    Exists,
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

_F_IFF, _F_IMP, _F_OR, _F_AND, _F_NOT, _F_ATOM = 1, 2, 3, 4, 5, 6
_T_ADD, _T_MUL, _T_NEG, _T_ATOM = 1, 2, 3, 4
_QUANT = {Forall: "∀", Exists: "∃"}


def _name(t: Var | Const, bound: frozenset[str], *, arithmetic: bool) -> str:
    if isinstance(t, Const) and t.name in bound:
        raise ValueError(f"constant {t.name!r} is shadowed by a bound variable")
    if isinstance(t, Var) and t.name not in bound:
        raise ValueError(f"variable {t.name!r} is not bound")
    if arithmetic and not STRICT_NAME.match(t.name):
        raise ValueError(f"name {t.name!r} cannot be printed inside arithmetic")
    return t.name


def _term(t: Term, bound: frozenset[str]) -> tuple[str, int]:
    if isinstance(t, (Var, Const)):
        return _name(t, bound, arithmetic=True), _T_ATOM
    if isinstance(t, Num):
        return decimal_text(t.value), _T_ATOM
    if isinstance(t, Neg):
        text, prec = _term(t.arg, bound)
        return "-" + (text if prec >= _T_NEG else f"({text})"), _T_NEG
    if isinstance(t, Arith):
        prec = _T_ADD if t.op in "+-" else _T_MUL
        lt, lp = _term(t.left, bound)
        rt, rp = _term(t.right, bound)
        lt = lt if lp >= prec else f"({lt})"
        rt = rt if rp > prec else f"({rt})"
        return f"{lt} {t.op} {rt}", prec
    raise TypeError(f"not a term: {t!r}")


def _wrap(part: tuple[str, int, bool], ok: bool, open_ok: bool) -> tuple[str, bool]:
    text, _prec, is_open = part
    if not ok or (is_open and not open_ok):
        return f"({text})", False
    return text, is_open


def _formula(f: Formula, bound: frozenset[str]) -> tuple[str, int, bool]:
    """Return (text, precedence, open); ``open`` means a quantifier body ends the text."""
    if isinstance(f, Pred):
        if not f.args:
            plain = STRICT_NAME.match(f.name) and f.name not in bound
            return (f.name if plain else f"{f.name}()"), _F_ATOM, False
        args = []
        for a in f.args:
            if isinstance(a, Num):
                args.append(decimal_text(a.value))
            else:
                args.append(_name(a, bound, arithmetic=False))
        return f"{f.name}({', '.join(args)})", _F_ATOM, False
    if isinstance(f, Cmp):
        return f"{_term(f.left, bound)[0]} {f.op} {_term(f.right, bound)[0]}", _F_ATOM, False
    if isinstance(f, Not):
        inner = _formula(f.arg, bound)
        ok = inner[1] >= _F_NOT and not isinstance(f.arg, Cmp)
        text, is_open = _wrap(inner, ok, True)
        return "¬" + text, _F_NOT, is_open
    if isinstance(f, (Forall, Exists)):
        inner_bound = bound | {f.var}
        body = _formula(f.body, inner_bound)
        simple = isinstance(f.body, (Pred, Not, Forall, Exists))
        text = body[0] if simple else f"({body[0]})"
        return f"{_QUANT[type(f)]}{f.var} {text}", _F_ATOM, True
    if isinstance(f, (And, Or)):
        prec, sym = (_F_AND, " ∧ ") if isinstance(f, And) else (_F_OR, " ∨ ")
        parts: list[str] = []
        is_open = False
        last = len(f.args) - 1
        for i, a in enumerate(f.args):
            sub = _formula(a, bound)
            ok = sub[1] > prec or (i == 0 and isinstance(f, Or) and isinstance(a, Xor))
            ok = ok and not (isinstance(f, Or) and isinstance(a, And))  # readability
            text, is_open = _wrap(sub, ok, i == last)
            parts.append(text)
        return sym.join(parts), prec, is_open
    if isinstance(f, Xor):
        left = _formula(f.left, bound)
        right = _formula(f.right, bound)
        lt, _ = _wrap(left, left[1] >= _F_OR and not isinstance(f.left, And), False)
        rt, is_open = _wrap(right, right[1] > _F_OR and not isinstance(f.right, And), True)
        return f"{lt} ⊕ {rt}", _F_OR, is_open
    if isinstance(f, (Implies, Iff)):
        prec, sym = (_F_IMP, " → ") if isinstance(f, Implies) else (_F_IFF, " ↔ ")
        left = _formula(f.left, bound)
        right = _formula(f.right, bound)
        lt, _ = _wrap(left, left[1] > prec, False)
        rt, is_open = _wrap(right, right[1] >= prec, True)
        return f"{lt}{sym}{rt}", prec, is_open
    raise TypeError(f"not a formula: {f!r}")


def _var_names(t: Term) -> set[str]:
    if isinstance(t, Var):
        return {t.name}
    if isinstance(t, Neg):
        return _var_names(t.arg)
    if isinstance(t, Arith):
        return _var_names(t.left) | _var_names(t.right)
    return set()


def to_text(node: Node) -> str:
    """Canonical unicode text of a formula or term; parsing it gives back an equal AST.

    Raises ``ValueError`` for ASTs that have no spelling (e.g. a ``Const`` named like a
    variable bound around it, or an extended name such as ``a-b`` inside arithmetic).
    """
    if isinstance(node, TERM_TYPES):  # a lone term may mention variables bound elsewhere
        return _term(node, frozenset(_var_names(node)))[0]
    return _formula(node, frozenset())[0]
