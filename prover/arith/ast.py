"""Arithmetic claim AST and its formal form (an SMT-LIB2 term).

Expressions are small frozen dataclasses over exact rationals; a claim is a :class:`Relation`
between two expressions. ``to_smt`` prints the formal form and :mod:`prover.arith.parse`
reads it back to an equal AST.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

BinOpName = Literal["+", "-", "*", "/", "//", "^"]
RelOpName = Literal["=", "!=", "<", "<=", ">", ">=", "~="]

REL_OPS: tuple[RelOpName, ...] = ("=", "!=", "<", "<=", ">", ">=", "~=")
SMT_REL = {"=": "=", "!=": "distinct", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "~=": "approx"}
SMT_BIN = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "^"}


@dataclass(frozen=True, slots=True)
class Num:
    """A rational literal; ``text`` is the canonical decimal spelling as stated (digits kept)."""

    value: Fraction
    text: str

    @property
    def decimals(self) -> int | None:
        """Digits after the point as stated (0 for integers), None if not a plain decimal."""
        if "/" in self.text:
            return None
        _, _, frac = self.text.rstrip("…").partition(".")
        return len(frac)

    @property
    def truncated(self) -> bool:
        """Written with trailing dots (``3.363...``): the digits were cut off, not rounded."""
        return self.text.endswith("…")


@dataclass(frozen=True, slots=True)
class Var:
    """A named quantity (bound by a definition, or an unknown for Z3)."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Bin:
    """A binary operation; ``^`` is exponentiation, ``//`` floor division (as written)."""

    op: BinOpName
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class App:
    """A function applied to arguments: ``f(x)``, ``sin(30)``, ``binom(9, 2)``, ``abs(x)``.

    Never a product. Only a few names have exact values (:mod:`prover.arith.evaluate`); every
    other application is uninterpreted: two applications are equal when they are the same term.
    """

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Const:
    """A named mathematical constant (``pi``): a symbol, never bound to a stated value."""

    name: str


Expr = Num | Var | Neg | Bin | App | Const


@dataclass(frozen=True, slots=True)
class Relation:
    """A claim ``left op right``; ``~=`` is a stated approximation (≈, "about")."""

    op: RelOpName
    left: Expr
    right: Expr


# the divisor of a written percentage ("66.7%" is Bin("/", 66.7, PERCENT)): one shared object,
# so that a stated percentage is told from a division written "66.7/100" (by identity)
PERCENT = Num(Fraction(100), "100")


def num(value: int | str | Fraction) -> Num:
    """Build a literal from an int, a decimal string or a Fraction (canonical text)."""
    if isinstance(value, str):
        return Num(Fraction(value), value)
    frac = Fraction(value)
    return Num(frac, format_number(frac, exact=True))


def format_number(value: Fraction, *, exact: bool = False) -> str:
    """Plain spelling of a rational: ``12``, ``0.25``, ``-7/3``; with ``exact=False`` a
    non-terminating value gets a decimal approximation appended (``7/3 (≈2.333333)``)."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den == 1 and max(twos, fives) <= 40:
        places = max(twos, fives)
        scaled = abs(value.numerator) * (10**places // value.denominator)
        digits = str(scaled).rjust(places + 1, "0")
        sign = "-" if value < 0 else ""
        return f"{sign}{digits[:-places]}.{digits[-places:]}"
    text = f"{value.numerator}/{value.denominator}"
    if exact:
        return text
    try:
        approx = f"{float(value):.6g}"
    except OverflowError:
        approx = "huge"
    return f"{text} (≈{approx})"


def variables(node: Expr | Relation) -> set[str]:
    """Names of all :class:`Var` nodes below ``node`` (iterative: deep trees are fine)."""
    found: set[str] = set()
    stack: list[Expr | Relation] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        cur = pop()
        kind = type(cur)  # exact types first (the common case, no isinstance chain)
        if kind is Num:
            continue
        if kind is Bin or kind is Relation:
            push(cur.left)  # type: ignore[union-attr]
            push(cur.right)  # type: ignore[union-attr]
        elif kind is Var:
            found.add(cur.name)  # type: ignore[union-attr]
        elif isinstance(cur, Var):
            found.add(cur.name)
        elif isinstance(cur, Neg):
            push(cur.arg)
        elif isinstance(cur, (Bin, Relation)):
            stack.extend((cur.left, cur.right))
        elif isinstance(cur, App):
            stack.extend(cur.args)
    return found


def walk(node: Expr | Relation) -> Iterator[Expr | Relation]:
    """Every node below ``node`` (itself included), each once per occurrence, in no set order."""
    stack: list[Expr | Relation] = [node]
    while stack:
        cur = stack.pop()
        yield cur
        if isinstance(cur, (Bin, Relation)):
            stack.extend((cur.left, cur.right))
        elif isinstance(cur, Neg):
            stack.append(cur.arg)
        elif isinstance(cur, App):
            stack.extend(cur.args)


def is_opaque(node: Expr | Relation) -> bool:
    """True when ``node`` contains a function application or a named constant (nodes the
    exact evaluator and the Z3 translation may not interpret)."""
    stack: list[Expr | Relation] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        cur = pop()
        kind = type(cur)  # exact types first (the common case, no isinstance chain)
        if kind is Num or kind is Var:
            continue
        if kind is Bin or kind is Relation:
            push(cur.left)  # type: ignore[union-attr]
            push(cur.right)  # type: ignore[union-attr]
        elif isinstance(cur, (App, Const)):
            return True
        elif isinstance(cur, Neg):
            push(cur.arg)
        elif isinstance(cur, (Bin, Relation)):
            stack.extend((cur.left, cur.right))
    return False


def _smt_number(n: Num) -> str:
    text = n.text
    if text.isdigit():  # a plain integer (the common case)
        return text
    text = text.rstrip("…")
    if text.startswith("-"):
        return f"(- {text[1:]})"
    if "/" in text:
        a, b = text.split("/")
        return f"(/ {a} {b})"
    return text


def to_smt(node: Expr | Relation) -> str:
    """The formal form: an SMT-LIB2 term (``approx`` stands for a stated rounding ``≈``)."""
    kind = type(node)  # exact types (the node classes have no subclasses)
    if kind is Num:
        return _smt_number(node)  # type: ignore[arg-type]
    if kind is Bin:
        if node.op == "//":  # floor division, spelled in SMT-LIB's Reals_Ints theory
            return f"(to_int (/ {to_smt(node.left)} {to_smt(node.right)}))"  # type: ignore[union-attr]
        return f"({SMT_BIN[node.op]} {to_smt(node.left)} {to_smt(node.right)})"  # type: ignore[union-attr,index]
    if kind is Var or kind is Const:
        return node.name  # type: ignore[union-attr]
    if kind is App:
        return f"({node.name} {' '.join(to_smt(a) for a in node.args)})"  # type: ignore[union-attr]
    if kind is Neg:
        return f"(- {to_smt(node.arg)})"  # type: ignore[union-attr]
    return f"({SMT_REL[node.op]} {to_smt(node.left)} {to_smt(node.right)})"  # type: ignore[union-attr,index]


_INFIX_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "^": 4}
_REL_TEXT = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "~=": "≈"}


def to_infix(node: Expr | Relation, parent_prec: int = 0) -> str:
    """Readable infix text with only the parentheses needed, e.g. ``48 / 2 = 24``."""
    if isinstance(node, Relation):
        return f"{to_infix(node.left)} {_REL_TEXT[node.op]} {to_infix(node.right)}"
    if isinstance(node, Num):
        text = node.text
        return f"({text})" if (text.startswith("-") or "/" in text) and parent_prec else text
    if isinstance(node, (Var, Const)):
        return node.name
    if isinstance(node, App):
        return f"{node.name}({', '.join(to_infix(a) for a in node.args)})"
    if isinstance(node, Neg):
        inner = to_infix(node.arg, 3)
        return f"(-{inner})" if parent_prec else f"-{inner}"
    prec = _INFIX_PREC[node.op]
    left = to_infix(node.left, prec + (1 if node.op == "^" else 0))  # ^ is right-assoc
    right = to_infix(node.right, prec + (0 if node.op == "^" else 1))
    text = f"{left} {node.op} {right}"
    return f"({text})" if prec < parent_prec else text
