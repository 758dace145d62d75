"""Read an arithmetic claim's SMT-LIB2 formal form (as :func:`prover.arith.ast.to_smt` prints
it) back into a :class:`~prover.arith.ast.Relation`, under the infix parser's bounds: too long
or too deep is :class:`~prover.arith.parse.TooLargeError`, any other malformed text
:class:`~prover.arith.parse.ArithSyntaxError`."""

from __future__ import annotations

import re

from prover.arith.ast import REL_OPS, SMT_BIN, SMT_REL, App, Bin, Const, Expr, Neg, Relation, Var
from prover.arith.parse import (
    CONSTANTS,
    MAX_TOKENS,
    ArithSyntaxError,
    TooLargeError,
    make_number,
)
from prover.sexpr import SExpr, SExprError, read_one

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
