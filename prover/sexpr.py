"""The one S-expression reader (SMT-LIB text): bounded, iterative, no z3.

:func:`read_sexprs` tokenizes with one regular expression (symbols, ``|quoted symbols|``,
``"strings"``, comments) and builds nested lists with an explicit stack, so no input can
overflow the Python stack; nesting deeper than :data:`MAX_SEXPR_DEPTH` is an
:class:`SExprError` (a clear error line, never a RecursionError downstream in printers or in
Z3's own recursive parser).
"""

from __future__ import annotations

import re
from typing import Union

SExpr = Union[str, list["SExpr"]]  # noqa: UP007 -- a recursive alias needs a runtime Union

_TOKEN = re.compile(r"""\s+|;[^\n]*|\(|\)|\|[^|]*\||"(?:[^"]|"")*"|[^\s()|";]+""")
_SIMPLE_SYMBOL = re.compile(r"[A-Za-z~!@$%^&*_+=<>.?/\-][A-Za-z0-9~!@$%^&*_+=<>.?/\-]*\Z")
MAX_SEXPR_DEPTH = 256
"""Deepest S-expression nesting accepted."""


class SExprError(ValueError):
    """Text that is not a sequence of well-formed S-expressions."""


def read_sexprs(text: str) -> list[SExpr]:
    """The S-expressions of ``text`` (atoms keep their quoting: ``|a b|``, ``"s"``); comments
    are dropped. Iterative, and nesting deeper than :data:`MAX_SEXPR_DEPTH` is an
    :class:`SExprError`, so no input can overflow the stack here or downstream."""
    if "\x00" in text:  # Z3's C API reads a string only up to its first NUL
        raise SExprError(f"NUL character at offset {text.index(chr(0))}")
    stack: list[list[SExpr]] = [[]]
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SExprError(f"unterminated quoted symbol or string at offset {pos}")
        token, pos = match.group(), match.end()
        if token[0].isspace() or token[0] == ";":
            continue
        if token == "(":
            if len(stack) > MAX_SEXPR_DEPTH:
                raise SExprError(f"nested deeper than {MAX_SEXPR_DEPTH} levels at offset "
                                 f"{pos - 1}")
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise SExprError(f"unbalanced ')' at offset {pos - 1}")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        raise SExprError("unbalanced '(': missing ')'")
    return stack[0]


def read_one(text: str) -> SExpr:
    """Exactly one S-expression (a term), else :class:`SExprError`."""
    items = read_sexprs(text)
    if len(items) != 1:
        raise SExprError(f"expected one term, found {len(items)}")
    return items[0]


def show(sexpr: SExpr) -> str:
    """SMT-LIB text of an S-expression (the inverse of :func:`read_sexprs`, up to spacing)."""
    if isinstance(sexpr, str):
        return sexpr
    return "(" + " ".join(show(item) for item in sexpr) + ")"


def quote_symbol(name: str) -> str:
    """``name`` as an SMT-LIB symbol, ``|quoted|`` when it is not a simple symbol."""
    return name if _SIMPLE_SYMBOL.match(name) else f"|{name}|"


def unquote_symbol(atom: str) -> str:
    """The name an SMT-LIB symbol atom denotes (``|a b|`` -> ``a b``)."""
    return atom[1:-1] if len(atom) >= 2 and atom[0] == atom[-1] == "|" else atom
