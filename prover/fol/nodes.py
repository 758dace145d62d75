"""AST of first-order formulas with arithmetic comparison atoms: the name rules, the syntax
errors, and the node dataclasses.

Nodes are small frozen dataclasses that validate themselves on construction (a bad name or a
non-terminating number raises ValueError). Names: a bound variable is a :class:`Var`, any other
name in term position is a :class:`Const`. Predicate names and predicate arguments may use
FOLIO's extended spelling (``Non-Rare(x)``, ``l-2021``, ``mrs.smith``, ``c++``); names inside
arithmetic must be plain identifiers. Numbers are exact non-negative decimals (``Fraction`` with
a terminating decimal expansion, spelled by :func:`decimal_text`); ``-3`` is ``Neg(Num(3))``.
Source positions (``pos``) are carried for error messages only and take no part in equality.
``node.to_text()`` prints through :mod:`prover.fol.printer`.
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
        """Canonical unicode text (see :func:`prover.fol.printer.to_text`)."""
        from prover.fol.printer import to_text  # the printer imports these nodes

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
