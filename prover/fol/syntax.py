"""AST of first-order formulas with arithmetic comparison atoms, and its canonical printer.

Nodes are small frozen dataclasses. ``to_text(node)`` prints the canonical unicode syntax
(``∀ ∃ ¬ ∧ ∨ ⊕ → ↔``, ``= ≠ < ≤ > ≥``, ``+ - * /``) that
:func:`prover.fol.parser.parse_formula` reads back to an equal AST.

Names: a bound variable is a :class:`Var`, any other name in term position is a :class:`Const`.
Predicate names and predicate arguments may use FOLIO's extended spelling (``Non-Rare(x)``,
``l-2021``, ``mrs.smith``, ``c++``); names inside arithmetic must be plain identifiers.
Numbers are exact non-negative decimals (``Fraction`` with a terminating decimal expansion);
``-3`` is ``Neg(Num(3))``. Source positions (``pos``) are carried for error messages only and
take no part in equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

_WORD = r"[^\W\d]\w*(?:['’][^\W\d_]+)*"  # Unicode letters; Hachiko’s
_EXTENDED = _WORD + r"(?:[-.]\w+)*\+*"  # Non-Rare, l-2021, mrs.smith, c++
STRICT_NAME = re.compile(_WORD + r"\Z")
EXTENDED_NAME = re.compile(f"{_EXTENDED}(?: {_EXTENDED})*\\Z")  # also multi-word: dc universe
KEYWORDS: frozenset[str] = frozenset({"forall", "exists", "all", "not", "and", "or", "xor"})
NON_FINITE: frozenset[str] = frozenset({"nan", "inf", "infinity"})
COMPARISONS: tuple[str, ...] = ("=", "≠", "<", "≤", ">", "≥")
ARITH_OPS: tuple[str, ...] = ("+", "-", "*", "/")


class FolSyntaxError(ValueError):
    """A formula could not be read: ``position`` is a 0-based character offset, ``expected``
    says what would have been accepted there. ``formula`` names the formula of a row
    (``"premise 2"``, ``"conclusion"``) when a caller knows it."""

    def __init__(self, message: str, position: int, expected: str) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.expected = expected
        self.formula: str | None = None


class FolSortError(FolSyntaxError):
    """A name is used both as an entity (predicate argument) and as a number (arithmetic)."""

    def __init__(self, message: str, position: int, expected: str, name: str) -> None:
        super().__init__(message, position, expected)
        self.name = name


class _Node:
    """Base of all AST nodes: gives them ``to_text()``."""

    __slots__ = ()

    def to_text(self) -> str:
        """Canonical unicode text (see :func:`to_text`)."""
        return to_text(self)  # type: ignore[arg-type]


def _check_name(name: str, *, extended: bool, what: str) -> None:
    pattern = EXTENDED_NAME if extended else STRICT_NAME
    if not isinstance(name, str) or not pattern.match(name) or name in KEYWORDS:
        raise ValueError(f"invalid {what} name {name!r}")
    if what != "predicate" and name.lower() in NON_FINITE:
        raise ValueError(f"{name!r} is reserved (non-finite number)")


# ---------------------------------------------------------------- terms


@dataclass(frozen=True, slots=True)
class Var(_Node):
    """A variable bound by an enclosing quantifier."""

    name: str
    pos: int = field(default=-1, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name, extended=False, what="variable")


@dataclass(frozen=True, slots=True)
class Const(_Node):
    """A free name: an entity constant, or a Real constant when used in arithmetic."""

    name: str
    pos: int = field(default=-1, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name, extended=True, what="constant")


@dataclass(frozen=True, slots=True)
class Num(_Node):
    """A non-negative exact decimal number."""

    value: Fraction
    pos: int = field(default=-1, compare=False, repr=False)

    def __post_init__(self) -> None:
        value = self.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = Fraction(value)
            object.__setattr__(self, "value", value)
        if not isinstance(value, Fraction) or value < 0:
            raise ValueError(f"Num needs a non-negative Fraction, got {value!r}")
        decimal_text(value)  # raises ValueError unless the decimal expansion terminates


@dataclass(frozen=True, slots=True)
class Neg(_Node):
    """Arithmetic negation ``-t``."""

    arg: Term


@dataclass(frozen=True, slots=True)
class Arith(_Node):
    """Binary arithmetic ``left op right`` with op in ``+ - * /`` (real division)."""

    op: str
    left: Term
    right: Term

    def __post_init__(self) -> None:
        if self.op not in ARITH_OPS:
            raise ValueError(f"unknown arithmetic operator {self.op!r}")


Term = Var | Const | Num | Neg | Arith

# ---------------------------------------------------------------- formulas


@dataclass(frozen=True, slots=True)
class Pred(_Node):
    """A predicate atom ``Name(a, b)``; arguments are names or numerals (entities)."""

    name: str
    args: tuple[Var | Const | Num, ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.name, extended=True, what="predicate")
        if not isinstance(self.args, tuple) or not all(
            isinstance(a, (Var, Const, Num)) for a in self.args
        ):
            raise ValueError("predicate arguments must be a tuple of Var, Const or Num")


@dataclass(frozen=True, slots=True)
class Cmp(_Node):
    """A comparison atom ``left op right`` with op in ``= ≠ < ≤ > ≥``."""

    op: str
    left: Term
    right: Term

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.op!r}")


@dataclass(frozen=True, slots=True)
class Not(_Node):
    """Negation ``¬f``."""

    arg: Formula


@dataclass(frozen=True, slots=True)
class And(_Node):
    """Conjunction of two or more formulas (flat; ``(a ∧ b) ∧ c`` keeps its inner node)."""

    args: tuple[Formula, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple) or len(self.args) < 2:
            raise ValueError("And needs a tuple of at least two formulas")


@dataclass(frozen=True, slots=True)
class Or(_Node):
    """Disjunction of two or more formulas (flat, like :class:`And`)."""

    args: tuple[Formula, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple) or len(self.args) < 2:
            raise ValueError("Or needs a tuple of at least two formulas")


@dataclass(frozen=True, slots=True)
class Xor(_Node):
    """Exclusive or ``left ⊕ right`` (left-associative, same level as ∨)."""

    left: Formula
    right: Formula


@dataclass(frozen=True, slots=True)
class Implies(_Node):
    """Implication ``left → right`` (right-associative)."""

    left: Formula
    right: Formula


@dataclass(frozen=True, slots=True)
class Iff(_Node):
    """Biconditional ``left ↔ right`` (right-associative, loosest binary connective)."""

    left: Formula
    right: Formula


@dataclass(frozen=True, slots=True)
class Forall(_Node):
    """``∀var body``; the body extends as far right as possible."""

    var: str
    body: Formula

    def __post_init__(self) -> None:
        _check_name(self.var, extended=False, what="variable")


@dataclass(frozen=True, slots=True)
class Exists(_Node):
    """``∃var body``; the body extends as far right as possible."""

    var: str
    body: Formula

    def __post_init__(self) -> None:
        _check_name(self.var, extended=False, what="variable")


Formula = Pred | Cmp | Not | And | Or | Xor | Implies | Iff | Forall | Exists
Node = Formula | Term
FORMULA_TYPES = (Pred, Cmp, Not, And, Or, Xor, Implies, Iff, Forall, Exists)
TERM_TYPES = (Var, Const, Num, Neg, Arith)

# ---------------------------------------------------------------- printing

_F_IFF, _F_IMP, _F_OR, _F_AND, _F_NOT, _F_ATOM = 1, 2, 3, 4, 5, 6
_T_ADD, _T_MUL, _T_NEG, _T_ATOM = 1, 2, 3, 4
_QUANT = {Forall: "∀", Exists: "∃"}


def decimal_text(value: Fraction) -> str:
    """Exact decimal spelling of a terminating non-negative fraction (``7/2`` -> ``3.5``)."""
    num, den = value.numerator, value.denominator
    rest, twos, fives = den, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1 or num < 0:
        raise ValueError(f"Num {value} has no terminating non-negative decimal expansion")
    k = max(twos, fives)
    digits = str(num * 10**k // den).rjust(k + 1, "0")
    return digits if k == 0 else f"{digits[:-k]}.{digits[-k:]}"


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


# ---------------------------------------------------------------- well-definedness


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
