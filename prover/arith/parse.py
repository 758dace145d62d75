"""Parsers for arithmetic claims: infix text (``48/2 = 24``) and the SMT-LIB2 formal form.

Both are hand-written and bounded: at most :data:`MAX_TOKENS` tokens, :data:`MAX_DEPTH`
nested parentheses and :data:`MAX_LITERAL_DIGITS` digits in a literal. Exceeding a bound raises
:class:`TooLargeError` at once (never a hang or a RecursionError); any other malformed input
raises :class:`ArithSyntaxError` with the character position.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from prover.arith.ast import (
    REL_OPS,
    SMT_BIN,
    SMT_REL,
    App,
    Bin,
    Const,
    Expr,
    Neg,
    Num,
    Relation,
    Var,
    format_number,
)
from prover.sexpr import SExpr, SExprError, read_one

MAX_TOKENS = 600
MAX_DEPTH = 48
MAX_LITERAL_DIGITS = 400


class ArithSyntaxError(ValueError):
    """Malformed arithmetic text; ``position`` is a 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at {position}")
        self.position = position


class TooLargeError(ValueError):
    """The input exceeds a size bound (literal digits, tokens, nesting, magnitude)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.\d+…|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<ident>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|//|<=|>=|!=|==|~=|[-+*/^%()=<>!,|]))"
)
_REL_SPELLINGS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
                  "~=": "~="}
_FUNCTIONS = {"sqrt"}
# names that are always functions when applied (``sin(30)``, never sin·30)
NAMED_FUNCTIONS = frozenset(("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
                             "arctan", "sinh", "cosh", "tanh", "log", "ln", "lg", "exp", "binom",
                             "abs", "factorial", "gcd", "lcm", "floor",
                             "ceil", "residue"))
CONSTANTS = frozenset(("pi",))


def make_number(digits: str, position: int = 0) -> Num:
    """Literal from a decimal spelling (``12``, ``0.50``, ``.5``, ``1.5e3``), size bounded.

    Scientific notation is spelled out as a plain decimal (``1.5e3`` -> ``1500``) so the
    stated precision of the formal form is what the number means.
    """
    if digits.endswith("…"):  # "3.363...": truncated digits, the value as written
        plain = make_number(digits[:-1], position)
        return Num(plain.value, plain.text + "…")
    mantissa, _, exponent = digits.lower().partition("e")
    if len(mantissa) - mantissa.count(".") > MAX_LITERAL_DIGITS or (
            exponent and len(exponent.lstrip("+-")) > 6) or (
            exponent and abs(int(exponent)) > MAX_LITERAL_DIGITS):
        raise TooLargeError(f"number literal with more than {MAX_LITERAL_DIGITS} digits")
    text = "0" + mantissa if mantissa.startswith(".") else mantissa
    if exponent:
        value = Fraction(text) * Fraction(10) ** int(exponent)
        return Num(value, format_number(value, exact=True))
    if text.isascii() and text.isdigit():  # an integer: Fraction(int) skips the string parse
        return Num(Fraction(int(text)), text)
    return Num(Fraction(text), text)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ArithSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup or "op"
        value = m.group(kind)
        start = m.start(kind)
        tokens.append((kind, value, start))
        if len(tokens) > MAX_TOKENS:
            raise TooLargeError(f"expression longer than {MAX_TOKENS} tokens")
        pos = m.end()
    return tokens


class _InfixParser:
    """Precedence climbing over tokens: relations < + - < * / implicit < unary - < ^ < %."""

    def __init__(self, text: str, functions: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.functions = functions | NAMED_FUNCTIONS
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.percents: set[int] = set()  # ids of nodes written as a bare ``p%``
        self.has_percent: set[int] = set()  # ids of nodes with a percent anywhere below

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _pos(self) -> int:
        tok = self._peek()
        return tok[2] if tok else len(self.text)

    def _accept(self, *values: str) -> str | None:
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in values:
            self.i += 1
            return tok[1]
        return None

    def chain(self) -> list[Relation]:
        first = self.expr()
        rels: list[Relation] = []
        left = first
        while (tok := self._peek()) and tok[0] == "op" and tok[1] in _REL_SPELLINGS:
            self.i += 1
            right = self.expr()
            rels.append(Relation(_REL_SPELLINGS[tok[1]], left, right))  # type: ignore[arg-type]
            left = right
        if self._peek() is not None:
            raise ArithSyntaxError(f"unexpected {self._peek()[1]!r}", self._pos())  # type: ignore[index]
        if not rels:
            raise ArithSyntaxError("expected a relation (=, <, ≤, ...)", len(self.text))
        return rels

    def expr(self) -> Expr:
        node = self.term()
        while (op := self._accept("+", "-")) is not None:
            right = self.term()
            if id(right) in self.percents and id(node) not in self.has_percent:
                # CoT usage: "1000 - 20%" is 1000 less 20% of itself, i.e. 1000 * (1 - 20/100);
                # "100% - 40%" stays a difference of percentages
                node = Bin("*", node, Bin(op, Num(Fraction(1), "1"), right))  # type: ignore[arg-type]
                continue  # an amount, not a percentage
            if id(right) in self.has_percent or id(node) in self.has_percent:
                node = Bin(op, node, right)  # type: ignore[arg-type]
                self.has_percent.add(id(node))
            else:
                node = Bin(op, node, right)  # type: ignore[arg-type]
        return node

    def term(self) -> Expr:
        node = self.unary()
        divided = False  # the last operator was an explicit division
        while True:
            op = self._accept("*", "/", "//")
            if op is not None:
                node = Bin(op, node, self.unary())  # type: ignore[arg-type]
                divided = op != "*"
                continue
            tok = self._peek()
            if tok and (tok[0] == "ident" or (tok[0] == "op" and tok[1] == "(")):
                if divided:  # 4√3/6√3, 1/2x: (a/b)c by precedence, a/(bc) as often meant
                    raise ArithSyntaxError("a product written after '/' is ambiguous "
                                           "(a/bc: (a/b)c or a/(bc))", self._pos())
                node = Bin("*", node, self.power())  # implicit multiplication: 2x, 3(4+5)
                continue
            return node

    def unary(self) -> Expr:
        if self._accept("-") is not None:
            return Neg(self.unary())
        if self._accept("+") is not None:
            return self.unary()
        return self.power()

    def power(self) -> Expr:
        base = self.postfix()
        if self._accept("^", "**") is not None:
            return Bin("^", base, self.unary())
        return base

    def postfix(self) -> Expr:
        node = self.atom()
        while True:
            if self._accept("!") is not None:
                node = App("factorial", (node,))
                continue
            if self._accept("%") is None:
                return node
            node = Bin("/", node, Num(Fraction(100), "100"))
            self.percents.add(id(node))
            self.has_percent.add(id(node))

    def atom(self) -> Expr:
        tok = self._peek()
        if tok is None:
            raise ArithSyntaxError("expected a number, a name or '('", len(self.text))
        kind, value, pos = tok
        if kind == "num":
            self.i += 1
            return make_number(value, pos)
        if kind == "ident":
            self.i += 1
            if value in _FUNCTIONS and self._accept("(") is not None:
                arg = self._parenthesised(pos)
                return Bin("^", arg, Num(Fraction(1, 2), "0.5"))
            if value.lower() in ("nan", "inf", "infinity"):
                raise ArithSyntaxError(f"{value!r} is not a number", pos)
            if value in CONSTANTS:
                return Const(value)
            nxt = self._peek()
            if nxt is not None and nxt[1] == "(" and (value in self.functions
                                                       or self._comma_follows()):
                self.i += 1
                return App(value, self._arguments(pos))
            return Var(value)
        if value == "|":
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise TooLargeError(f"more than {MAX_DEPTH} nested parentheses")
            inner = self.expr()
            if self._accept("|") is None:
                raise ArithSyntaxError("expected a closing '|'", self._pos())
            self.depth -= 1
            return App("abs", (inner,))
        if value == "(":
            self.i += 1
            return self._parenthesised(pos)
        raise ArithSyntaxError(f"expected a number, a name or '(' but found {value!r}", pos)

    def _comma_follows(self) -> bool:
        """Does the parenthesis at the cursor hold a top-level comma (``C(9, 2)``)?"""
        depth = 0
        for kind, value, _ in self.tokens[self.i:]:
            if kind != "op":
                continue
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif value == "," and depth == 1:
                return True
        return False

    def _arguments(self, pos: int) -> tuple[Expr, ...]:
        """Comma-separated arguments up to the closing ``)`` (the ``(`` is consumed)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLargeError(f"more than {MAX_DEPTH} nested parentheses")
        args = [self.expr()]
        while self._accept(",") is not None:
            args.append(self.expr())
        if self._accept(")") is None:
            raise ArithSyntaxError("expected ')'", self._pos())
        self.depth -= 1
        return tuple(args)

    def _parenthesised(self, pos: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLargeError(f"more than {MAX_DEPTH} nested parentheses")
        node = self.expr()
        if self._accept(")") is None:
            raise ArithSyntaxError("expected ')'", self._pos())
        self.depth -= 1
        return node


def parse_chain(text: str, functions: frozenset[str] = frozenset()) -> list[Relation]:
    """Parse ``a = b = c`` (any relations) into consecutive claims ``[a = b, b = c]``.

    ``functions`` names single letters the text uses as functions (``f(x)`` is then an
    application, never f·x); :data:`NAMED_FUNCTIONS` always are. Parses are remembered
    (the relations are immutable; the extractor often parses the same text twice)."""
    return list(_parse_chain(text, functions))


@lru_cache(maxsize=8192)
def _parse_chain(text: str, functions: frozenset[str]) -> tuple[Relation, ...]:
    _check_depth(text)
    return tuple(_InfixParser(text, functions).chain())


def parse_expr(text: str) -> Expr:
    """Parse one arithmetic expression (no relation)."""
    _check_depth(text)
    parser = _InfixParser(text)
    node = parser.expr()
    if parser._peek() is not None:
        raise ArithSyntaxError(f"unexpected {parser._peek()[1]!r}", parser._pos())  # type: ignore[index]
    return node


def _check_depth(text: str) -> None:
    """Reject deep nesting before parsing, so the recursive parser never nears the stack limit."""
    depth = peak = 0
    for ch in text:
        if ch == "(":
            depth += 1
            peak = max(peak, depth)
            if peak > MAX_DEPTH:
                raise TooLargeError(f"more than {MAX_DEPTH} nested parentheses")
        elif ch == ")":
            depth -= 1


# ---------------------------------------------------------------- SMT-LIB2 formal form

_SMT_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_SMT_REL_INV = {v: k for k, v in SMT_REL.items()}
_SMT_BIN_INV = {v: k for k, v in SMT_BIN.items()}
_DECIMAL = re.compile(r"\d+(\.\d+)?")


def _read_sexpr(text: str) -> SExpr:
    """The one term of ``text`` by :func:`prover.sexpr.read_one`; too many tokens or too deep
    a nesting is :class:`TooLargeError`, any other malformed text :class:`ArithSyntaxError`."""
    if len(_SMT_TOKEN.findall(text)) > 4 * MAX_TOKENS:
        raise TooLargeError("formal form too long")
    try:
        return read_one(text)
    except SExprError as err:
        if "nested deeper" in str(err):
            raise TooLargeError("formal form nested too deeply") from None
        raise ArithSyntaxError(str(err), len(text)) from None


def _from_sexpr(node: SExpr) -> Expr:
    if isinstance(node, str):
        if _DECIMAL.fullmatch(node):
            return make_number(node)
        if node in CONSTANTS:
            return Const(node)
        if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", node):
            return Var(node)
        raise ArithSyntaxError(f"bad atom {node!r}", 0)
    assert isinstance(node, list)
    if not node or not isinstance(node[0], str):
        raise ArithSyntaxError("expected an operator", 0)
    head, args = node[0], node[1:]
    if head == "-" and len(args) == 1:
        return Neg(_from_sexpr(args[0]))
    if head == "to_int" and len(args) == 1:
        inner = args[0]
        if isinstance(inner, list) and len(inner) == 3 and inner[0] == "/":
            return Bin("//", _from_sexpr(inner[1]), _from_sexpr(inner[2]))
    if head in _SMT_BIN_INV and len(args) == 2:
        return Bin(_SMT_BIN_INV[head], _from_sexpr(args[0]), _from_sexpr(args[1]))  # type: ignore[arg-type]
    if args and re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", head) and head not in _SMT_REL_INV:
        return App(head, tuple(_from_sexpr(a) for a in args))
    raise ArithSyntaxError(f"unsupported term ({head} ...) with {len(args)} arguments", 0)


def parse_smt(text: str) -> Relation:
    """Read a formal form printed by :func:`prover.arith.ast.to_smt` back into a Relation."""
    node = _read_sexpr(text)
    if not isinstance(node, list) or len(node) != 3 or node[0] not in _SMT_REL_INV:
        raise ArithSyntaxError("expected (rel lhs rhs)", 0)
    op = _SMT_REL_INV[node[0]]  # type: ignore[index]
    assert op in REL_OPS
    return Relation(op, _from_sexpr(node[1]), _from_sexpr(node[2]))  # type: ignore[arg-type]
