"""The parser of arithmetic claims in infix text (``48/2 = 24``); the SMT-LIB2 formal form is
read back by :mod:`prover.arith.smt_read`.

It is hand-written and bounded: at most :data:`MAX_TOKENS` tokens, :data:`MAX_DEPTH`
nested parentheses and :data:`MAX_LITERAL_DIGITS` digits in a literal. Exceeding a bound raises
:class:`TooLargeError` at once (never a hang or a RecursionError); any other malformed input
raises :class:`ArithSyntaxError` with the character position.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from prover.arith.ast import (
    PERCENT,
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


_NUM = r"(?:\d+\.\d+…|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_IDENT = r"[A-Za-z_][A-Za-z_0-9]*"
_OP = r"\*\*|//|<=|>=|!=|==|~=|[-+*/^%()=<>!,|]"
_TOKEN = re.compile(rf"\s*(?:(?P<num>{_NUM})|(?P<ident>{_IDENT})|(?P<op>{_OP}))")
# the same scan in one pass: each token is what ``_TOKEN.match`` reads at that point (an atomic
# group keeps the first alternative that matches, as ``match`` does); a text is all tokens when
# ``_ALL_TOKENS`` matches it whole, and ``_TOKEN_TEXT.findall`` then lists their spellings
_ALL_TOKENS = re.compile(rf"(?:\s*(?>{_NUM}|{_IDENT}|{_OP}))*+\s*")
_TOKEN_TEXT = re.compile(rf"\s*((?>{_NUM}|{_IDENT}|{_OP}))")
_REL_SPELLINGS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
                  "~=": "~="}
_FUNCTIONS = {"sqrt"}
# names that are always functions when applied (``sin(30)``, never sin·30)
NAMED_FUNCTIONS = frozenset(("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
                             "arctan", "sinh", "cosh", "tanh", "log", "ln", "lg", "exp", "binom",
                             "abs", "factorial", "gcd", "lcm", "floor",
                             "ceil", "residue"))
CONSTANTS = frozenset(("pi",))
# a token's kind by its first character: operators and names start with these, numbers with a
# digit or a point (the token patterns above never overlap there)
_OP_START = frozenset("*/<>!=~-+^%(),|")
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_END = ""  # the token after the last one (no operator, name or number is spelled so)
_ADDITIVE = ("+", "-")
_MULTIPLICATIVE = ("*", "/", "//")
_SIGNS = ("-", "+")
_POWER = ("^", "**")


def make_number(digits: str) -> Num:
    """Literal from a decimal spelling (``12``, ``0.50``, ``.5``, ``1.5e3``), size bounded.

    Scientific notation is spelled out as a plain decimal (``1.5e3`` -> ``1500``) so the
    stated precision of the formal form is what the number means. Literals are remembered:
    the same spelling gives the same (immutable) node."""
    return _number(digits)


@lru_cache(maxsize=4096)
def _number(digits: str) -> Num:
    """:func:`make_number` (a pure function of the spelling; errors are not remembered)."""
    if digits.isdigit() and digits.isascii():  # a plain integer (the common case)
        if len(digits) > MAX_LITERAL_DIGITS:
            raise TooLargeError(f"number literal with more than {MAX_LITERAL_DIGITS} digits")
        return Num(Fraction(int(digits)), digits)
    if digits.endswith("…"):  # "3.363...": truncated digits, the value as written
        plain = _number(digits[:-1])
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
    """``(kind, spelling, start)`` of every token; a character no token starts with raises
    :class:`ArithSyntaxError` at its position, more than :data:`MAX_TOKENS` tokens (read before
    such a character) :class:`TooLargeError`."""
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


def _token_texts(text: str) -> list[str]:
    """The spellings of :func:`_tokenize`'s tokens (same errors), in one regex pass when the
    text is all tokens, which nearly every text is."""
    if _ALL_TOKENS.fullmatch(text) is None:
        return [value for _, value, _ in _tokenize(text)]  # raises at the bad character
    values = _TOKEN_TEXT.findall(text)
    if len(values) > MAX_TOKENS:
        raise TooLargeError(f"expression longer than {MAX_TOKENS} tokens")
    return values


class _InfixParser:
    """Precedence climbing over tokens: relations < + - < * / implicit < unary - < ^ < %.

    Tokens are their spellings (``vals``, ended by :data:`_END`); a token's kind is read from
    its first character and its position (only error messages need it) from :func:`_tokenize`.
    """

    __slots__ = ("text", "functions", "vals", "n", "i", "depth", "percents", "has_percent",
                 "_starts")

    def __init__(self, text: str, functions: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.functions = functions  # besides NAMED_FUNCTIONS
        self.vals = _token_texts(text)
        self.n = len(self.vals)
        self.vals.append(_END)
        self.i = 0
        self.depth = 0
        self.percents: set[int] = set()  # ids of nodes written as a bare ``p%``
        self.has_percent: set[int] = set()  # ids of nodes with a percent anywhere below
        self._starts: list[int] | None = None

    def _start(self, index: int) -> int:
        """Character offset of token ``index`` (the text's length past the last token)."""
        if index >= self.n:
            return len(self.text)
        if self._starts is None:
            self._starts = [start for _, _, start in _tokenize(self.text)]
        return self._starts[index]

    def _pos(self) -> int:
        return self._start(self.i)

    def _accept(self, *values: str) -> str | None:
        value = self.vals[self.i]
        if value in values:
            self.i += 1
            return value
        return None

    def chain(self) -> list[Relation]:
        left = self.expr()
        rels: list[Relation] = []
        vals = self.vals
        while (value := vals[self.i]) in _REL_SPELLINGS:
            self.i += 1
            right = self.expr()
            rels.append(Relation(_REL_SPELLINGS[value], left, right))  # type: ignore[arg-type]
            left = right
        if self.i < self.n:
            raise ArithSyntaxError(f"unexpected {vals[self.i]!r}", self._pos())
        if not rels:
            raise ArithSyntaxError("expected a relation (=, <, ≤, ...)", len(self.text))
        return rels

    def expr(self) -> Expr:
        node = self.term()
        vals = self.vals
        while (op := vals[self.i]) in _ADDITIVE:
            self.i += 1
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
        vals = self.vals
        node = self.unary() if vals[self.i] in _SIGNS else self.power()
        divided = False  # the last operator was an explicit division
        while True:
            op = vals[self.i]
            if op in _MULTIPLICATIVE:
                self.i += 1
                right = self.unary() if vals[self.i] in _SIGNS else self.power()
                node = Bin(op, node, right)  # type: ignore[arg-type]
                divided = op != "*"
                continue
            if op == "(" or (op and op[0] in _IDENT_START):
                if divided:  # 4√3/6√3, 1/2x: (a/b)c by precedence, a/(bc) as often meant
                    raise ArithSyntaxError("a product written after '/' is ambiguous "
                                           "(a/bc: (a/b)c or a/(bc))", self._pos())
                node = Bin("*", node, self.power())  # implicit multiplication: 2x, 3(4+5)
                continue
            return node

    def unary(self) -> Expr:
        sign = self.vals[self.i]
        if sign == "-":
            self.i += 1
            return Neg(self.unary())
        if sign == "+":
            self.i += 1
            return self.unary()
        return self.power()

    def power(self) -> Expr:
        """An atom, its postfix ``!`` and ``%`` (in the order written), then ``^ unary``."""
        vals = self.vals
        value = vals[self.i]
        if value and value[0] not in _OP_START and value[0] not in _IDENT_START:
            self.i += 1
            node: Expr = _number(value)
        else:
            node = self.atom()
        while True:
            value = vals[self.i]
            if value == "!":
                self.i += 1
                node = App("factorial", (node,))
            elif value == "%":
                self.i += 1
                node = Bin("/", node, PERCENT)
                self.percents.add(id(node))
                self.has_percent.add(id(node))
            elif value in _POWER:
                self.i += 1
                return Bin("^", node, self.unary())
            else:
                return node

    def atom(self) -> Expr:
        index = self.i
        if index >= self.n:
            raise ArithSyntaxError("expected a number, a name or '('", len(self.text))
        value = self.vals[index]
        first = value[0]
        if first in _IDENT_START:
            self.i += 1
            if value in _FUNCTIONS and self._accept("(") is not None:
                arg = self._parenthesised()
                return Bin("^", arg, Num(Fraction(1, 2), "0.5"))
            if value.lower() in ("nan", "inf", "infinity"):
                raise ArithSyntaxError(f"{value!r} is not a number", self._start(index))
            if value in CONSTANTS:
                return Const(value)
            if self.vals[self.i] == "(" and (value in NAMED_FUNCTIONS or value in self.functions
                                              or self._comma_follows()):
                self.i += 1
                return App(value, self._arguments())
            return Var(value)
        if first not in _OP_START:
            self.i += 1
            return _number(value)
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
            return self._parenthesised()
        raise ArithSyntaxError(f"expected a number, a name or '(' but found {value!r}",
                               self._start(index))

    def _comma_follows(self) -> bool:
        """Does the parenthesis at the cursor hold a top-level comma (``C(9, 2)``)?"""
        depth = 0
        for value in self.vals[self.i:self.n]:
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif value == "," and depth == 1:
                return True
        return False

    def _arguments(self) -> tuple[Expr, ...]:
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

    def _parenthesised(self) -> Expr:
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
    if parser.i < parser.n:
        raise ArithSyntaxError(f"unexpected {parser.vals[parser.i]!r}", parser._pos())
    return node


def _check_depth(text: str) -> None:
    """Reject deep nesting before parsing, so the recursive parser never nears the stack limit."""
    if text.count("(") <= MAX_DEPTH:  # the nesting cannot be deeper than the count
        return
    depth = peak = 0
    for ch in text:
        if ch == "(":
            depth += 1
            peak = max(peak, depth)
            if peak > MAX_DEPTH:
                raise TooLargeError(f"more than {MAX_DEPTH} nested parentheses")
        elif ch == ")":
            depth -= 1
