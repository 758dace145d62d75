"""Hand-written precedence-climbing parser for FOLIO-style first-order formulas (tokens from
:func:`prover.fol.lexer.tokenize`).

``parse_formula(text)`` returns a :mod:`prover.fol.nodes` AST or raises
:class:`FolSyntaxError` with a 0-based position and what was expected there. Nothing is ever
evaluated (no ``eval``/``exec``).

Precedence, tightest first: unary minus; ``* /``; ``+ -``; comparisons ``= ≠ < ≤ > ≥``
(not chainable); ``¬``; ``∧``; ``∨`` and ``⊕`` (one level, left-associative); ``→``
(right-associative); ``↔`` (right-associative). A quantifier's body extends as far right as
possible, so ``∀x A(x) → B(x)`` is ``∀x (A(x) → B(x))`` -- the reading FOLIO intends: all 14
such formulas in FOLIO train use ``x`` right of ``→``, where it would otherwise be free.

ASCII spellings: ``forall x`` / ``all x``, ``exists x``, ``~ ! not``, ``& ^ and``, ``| or``,
``xor``, ``-> =>``, ``<-> <=> ⟷ ⟺``, ``!= <= >=``; an NLTK-style ``.`` after a quantified variable
and one trailing ``.`` at the end of the formula are accepted. FOLIO's extended names
(``Non-Rare(x)``, ``l-2021``, ``mrs.smith``, ``c++``) are accepted as predicate names (before
``(``) and as predicate arguments; inside arithmetic ``a-b`` is a subtraction. Names are Unicode
words (``Świętokrzyskie``) and may hold an apostrophe before letters (``Hachiko’s``); several
plain words as one predicate argument are one name (``ComeFrom(x, dc universe)``).

Limits: nesting (parentheses, quantifiers, negations, AST depth) is at most :data:`MAX_DEPTH`;
each level costs at most three Python frames, far below the recursion limit. A formula longer
than :data:`MAX_CHARS` characters is rejected before tokenizing (a 100 kB formula parses in about
0.2 s); number literals are at most :data:`MAX_NUMBER_CHARS` characters. ``nan``/``inf``/
``infinity`` are neither numbers nor names.
"""

from __future__ import annotations

from fractions import Fraction

from prover.fol.lexer import tokenize
from prover.fol.nodes import (
    NON_FINITE,
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
    Not,
    Num,
    Or,
    Pred,
    Term,
    Var,
    Xor,
)

__all__ = ["MAX_CHARS", "MAX_DEPTH", "FolSortError", "FolSyntaxError", "parse_formula"]

MAX_DEPTH = 200
MAX_CHARS = 100_000
MAX_NUMBER_CHARS = 400

# binary operator kind -> (precedence, right-associative)
_BINARY = {
    "IFF": (1, True), "IMP": (2, True), "OR": (3, False), "XOR": (3, False), "AND": (4, False),
    "=": (6, False), "≠": (6, False), "<": (6, False), "≤": (6, False), ">": (6, False),
    "≥": (6, False), "+": (7, False), "-": (7, False), "*": (8, False), "/": (8, False),
}  # fmt: skip
_CMP_PREC = 6
_NOT_OPERAND = 6  # ¬ applies to a unary formula or a comparison atom

Node = Formula | Term


class _Parser:
    """One parse of one string; not reusable."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.kinds, self.vals, self.starts, self.ends = tokenize(text)
        self.i = 0
        self.nest = 0
        self.bound: list[str] = []
        self.depth: dict[int, int] = {}

    # ------------------------------------------------------------ helpers

    def fail(self, expected: str, at: int | None = None) -> FolSyntaxError:
        i = self.i if at is None else at
        kind, val, pos = self.kinds[i], self.vals[i], self.starts[i]
        if kind == "EOF":
            found = "end of input"
        elif kind == "BAD":
            found = f"unknown symbol {val!r}"
        else:
            found = repr(val)
        return FolSyntaxError(f"expected {expected} at {pos}, found {found}", pos, expected)

    def expect(self, kind: str, expected: str) -> None:
        if self.kinds[self.i] != kind:
            raise self.fail(expected)
        self.i += 1

    def too_deep(self, at: int) -> FolSyntaxError:
        pos = self.starts[at]
        return FolSyntaxError(
            f"formula nested deeper than {MAX_DEPTH} levels at {pos}",
            pos,
            f"at most {MAX_DEPTH} nested levels",
        )

    def enter(self) -> None:
        self.nest += 1
        if self.nest > MAX_DEPTH:
            raise self.too_deep(self.i)

    def node(self, node: Node, children: list[Node], at: int) -> Node:
        d = 1 + max((self.depth.get(id(c), 1) for c in children), default=0)
        if d > MAX_DEPTH:
            raise self.too_deep(at)
        if d > 1:
            self.depth[id(node)] = d
        return node

    def as_formula(self, n: Node, at: int) -> Formula:
        if isinstance(n, Const):  # a bare name in formula position: 0-ary predicate
            return Pred(n.name)
        if isinstance(n, TERM_TYPES):
            what = f"variable {n.name!r}" if isinstance(n, Var) else "a term"
            pos = self.starts[at]
            raise FolSyntaxError(f"expected a formula at {pos}, found {what}", pos, "a formula")
        return n  # type: ignore[return-value]

    def as_term(self, n: Node, at: int) -> Term:
        if not isinstance(n, TERM_TYPES):
            pos = self.starts[at]
            raise FolSyntaxError(f"expected a term at {pos}, found a formula", pos, "a term")
        return n

    # ------------------------------------------------------------ grammar

    def parse(self) -> Formula:
        if self.kinds[0] == "EOF":
            raise self.fail("a formula")
        result = self.as_formula(self.expr(1, "a formula"), 0)
        if self.kinds[self.i] == "." and self.kinds[self.i + 1] == "EOF":
            self.i += 1
        if self.kinds[self.i] != "EOF":
            raise self.fail("an operator or end of input")
        return result

    def expr(self, min_prec: int, want: str) -> Node:
        """Precedence climbing; right-associative chains are collected in a loop, not recursion."""
        start = self.i
        left = self.unary(want)
        kinds = self.kinds
        flat_kind = ""
        flat: list[Formula] = []
        while True:
            kind = kinds[self.i]
            info = _BINARY.get(kind)
            if info is None or info[0] < min_prec:
                break
            prec, right_assoc = info
            op_at = self.i
            self.i += 1
            if prec < _CMP_PREC:  # logical connective
                if kind != flat_kind:
                    left = self.flush(flat_kind, flat, left, op_at)
                    flat = [self.as_formula(left, start)]
                    flat_kind = kind
                r_at = self.i
                right = self.as_formula(self.expr(prec + 1, "a formula"), r_at)
                if right_assoc:
                    operands = [flat[0], right]
                    while kinds[self.i] == kind:
                        if len(operands) >= MAX_DEPTH:
                            raise self.too_deep(self.i)
                        self.i += 1
                        r_at = self.i
                        operands.append(self.as_formula(self.expr(prec + 1, "a formula"), r_at))
                    left = operands[-1]
                    for f in reversed(operands[:-1]):
                        left = self.node(
                            (Implies if kind == "IMP" else Iff)(f, left), [f, left], op_at
                        )
                    flat_kind, flat = "", []
                elif kind in ("AND", "OR"):
                    flat.append(right)
                    left = flat[0]  # placeholder until flushed
                else:  # XOR: binary, left-associative
                    left = self.node(Xor(flat[0], right), [flat[0], right], op_at)
                    flat_kind, flat = "", []
                continue
            left = self.flush(flat_kind, flat, left, op_at)
            flat_kind, flat = "", []
            r_at = self.i
            right = self.as_term(self.expr(prec + 1, "a term"), r_at)
            lhs = self.as_term(left, start)
            if prec == _CMP_PREC:
                left = self.node(Cmp(kind, lhs, right), [lhs, right], op_at)
                if kinds[self.i] in _BINARY and _BINARY[kinds[self.i]][0] == _CMP_PREC:
                    raise self.fail("a logical connective (comparisons do not chain)")
            else:
                left = self.node(Arith(kind, lhs, right), [lhs, right], op_at)
        return self.flush(flat_kind, flat, left, self.i)

    def flush(self, kind: str, flat: list[Formula], left: Node, at: int) -> Node:
        if kind in ("AND", "OR") and len(flat) >= 2:
            args = tuple(flat)
            return self.node((And if kind == "AND" else Or)(args), list(args), at)
        return left

    def unary(self, want: str) -> Node:
        kind = self.kinds[self.i]
        if kind == "NOT":
            at = self.i
            count = 0
            while self.kinds[self.i] == "NOT":
                count += 1
                self.i += 1
            op_at = self.i
            self.enter()  # every recursive descent counts towards MAX_DEPTH
            result = self.as_formula(self.expr(_NOT_OPERAND, "a formula"), op_at)
            self.nest -= 1
            for _ in range(count):
                result = self.node(Not(result), [result], at)
            return result
        if kind == "-":
            at = self.i
            count = 0
            while self.kinds[self.i] == "-":
                count += 1
                self.i += 1
            op_at = self.i
            self.enter()
            term = self.as_term(self.primary("a term"), op_at)
            self.nest -= 1
            for _ in range(count):
                term = self.node(Neg(term), [term], at)
            return term
        if kind in ("FORALL", "EXISTS"):
            at = self.i
            self.i += 1
            if self.kinds[self.i] != "NAME":
                raise self.fail("a variable name after the quantifier")
            var = self.vals[self.i]
            if var.lower() in NON_FINITE:
                raise self.fail("a variable name (not nan/inf)")
            self.i += 1
            if self.kinds[self.i] == ".":
                self.i += 1
            self.enter()
            self.bound.append(var)
            body_at = self.i
            body = self.as_formula(self.expr(1, "a formula"), body_at)
            self.bound.pop()
            self.nest -= 1
            quant = Forall if kind == "FORALL" else Exists
            return self.node(quant(var, body), [body], at)
        return self.primary(want)

    def primary(self, want: str) -> Node:
        kind = self.kinds[self.i]
        if kind == "(":
            self.i += 1
            self.enter()
            inner = self.expr(1, want)
            self.nest -= 1
            self.expect(")", "')'")
            return inner
        if kind == "NUM":
            return self.number()
        if kind == "NAME":
            name, after = self.extended_name()
            if self.kinds[after] == "(":
                return self.predicate(name, after)
            at = self.i
            self.i += 1
            return self.name_term(self.vals[at], at)
        raise self.fail(want)

    def number(self) -> Num:
        val, pos = self.vals[self.i], self.starts[self.i]
        if len(val) > MAX_NUMBER_CHARS:
            raise FolSyntaxError(
                f"number literal longer than {MAX_NUMBER_CHARS} characters at {pos}",
                pos,
                f"a number of at most {MAX_NUMBER_CHARS} characters",
            )
        self.i += 1
        if self.kinds[self.i] == "NAME" and self.starts[self.i] == self.ends[self.i - 1]:
            raise self.fail("an operator after the number")
        return Num(Fraction(val), pos)

    def name_term(self, name: str, at: int) -> Var | Const:
        if name.lower() in NON_FINITE:
            raise self.fail("a finite number or a name (nan/inf are not allowed)", at)
        pos = self.starts[at]
        return Var(name, pos) if name in self.bound else Const(name, pos)

    def extended_name(self) -> tuple[str, int]:
        """Join a name with contiguous ``-x``/``.x`` parts and trailing ``+``; return it and the
        index of the token after it (``self.i`` is not moved)."""
        kinds, starts, ends = self.kinds, self.starts, self.ends
        j = self.i + 1
        while kinds[j] in ("-", ".") and starts[j] == ends[j - 1]:
            if kinds[j + 1] not in ("NAME", "NUM") or starts[j + 1] != ends[j]:
                break
            j += 2
            while kinds[j] in ("NAME", "NUM") and starts[j] == ends[j - 1]:
                j += 1
        while kinds[j] == "+" and starts[j] == ends[j - 1]:
            j += 1
        return self.text[starts[self.i] : ends[j - 1]], j

    def _words(self, j: int) -> int:
        """The end of a run of plain names from ``j - 1`` (``captain america``) inside an
        argument list: each further word is a plain name followed by ``,``, ``)`` or a name."""
        if self.ends[j - 1] - self.starts[j - 1] != len(self.vals[j - 1]):
            return j
        while self.kinds[j] == "NAME" and self.kinds[j + 1] in ("NAME", ",", ")"):
            j += 1
        return j

    def predicate(self, name: str, lparen: int) -> Pred:
        self.i = lparen + 1
        args: list[Var | Const | Num] = []
        if self.kinds[self.i] == ")":
            self.i += 1
            return Pred(name, ())
        while True:
            kind = self.kinds[self.i]
            if kind == "NUM":
                args.append(self.number())
            elif kind == "NAME":
                arg_at = self.i
                arg, after = self.extended_name()
                self.i = after
                words = self._words(after)
                if words > after:  # a multi-word name: ``ComeFrom(x, dc universe)``
                    arg = " ".join(self.vals[arg_at:words])
                    if any(w in self.bound for w in self.vals[arg_at:words]):
                        raise self.fail("',' or ')' (a variable inside a multi-word name)",
                                        after)
                    args.append(Const(arg, self.starts[arg_at]))
                    self.i = words
                elif after == arg_at + 1:
                    args.append(self.name_term(arg, arg_at))
                else:
                    args.append(Const(arg, self.starts[arg_at]))
            else:
                raise self.fail("a name or number as predicate argument")
            if self.kinds[self.i] == ",":
                self.i += 1
                continue
            if self.kinds[self.i] == ")":
                self.i += 1
                break
            raise self.fail("',' or ')'")
        return Pred(name, tuple(args))


def parse_formula(text: str) -> Formula:
    """Parse one formula; raise :class:`FolSyntaxError` (with position and expectation) if the
    text is not a well-formed formula. Never raises ``RecursionError``."""
    if not isinstance(text, str):
        raise TypeError(f"formula text must be str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise FolSyntaxError(
            f"formula longer than {MAX_CHARS} characters", MAX_CHARS, "a shorter formula"
        )
    try:
        return _Parser(text).parse()
    except RecursionError:  # backstop; MAX_DEPTH should make this unreachable
        raise FolSyntaxError(
            "formula nested too deeply", 0, f"at most {MAX_DEPTH} nested levels"
        ) from None
