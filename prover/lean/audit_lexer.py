"""A Lean 4 lexer for the audit: tokens with comments and string/char literal contents removed.

Drops ``--`` line comments, nested ``/- ... -/`` block comments (doc comments ``/-- -/`` and
``/-! -/`` too), string literals (escapes, raw strings ``r#"..."#``; the ``{...}`` parts of
interpolated ``s!``/``m!``/``f!`` strings are read as code) and char literals; returns
identifiers (``«a b»`` and dotted names as one token), numbers and one-character symbols with
offsets, lines and columns. No token table: it is not Lean's parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is ident | number | symbol | string | char; ``text`` is the
    identifier without ``«»`` escapes (so ``«sorry»`` reads ``sorry``)."""

    kind: str
    text: str
    start: int
    end: int
    line: int
    col: int


class LexError(ValueError):
    """An unterminated comment, string or ``«`` escape."""


_SUBSCRIPTS = {*range(0x2080, 0x208D), *range(0x2090, 0x209D), *range(0x1D62, 0x1D6B)}


def _letter_like(ch: str) -> bool:
    code = ord(ch)
    return ((0x3B1 <= code <= 0x3C9 and code != 0x3BB) or (0x391 <= code <= 0x3A9
            and code not in (0x3A0, 0x3A3)) or 0x3CA <= code <= 0x3FB
            or 0x1F00 <= code <= 0x1FFE or 0x2100 <= code <= 0x214F
            or 0x1D49C <= code <= 0x1D59F)


def _ident_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_") or _letter_like(ch) or (
        not ch.isascii() and unicodedata.category(ch).startswith("L") and ch not in "λΠΣ")


def _ident_rest(ch: str) -> bool:
    return (_ident_start(ch) or ch.isdigit() or ch in "'!?" or ord(ch) in _SUBSCRIPTS)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text, self.n = text, len(text)
        self.out: list[Token] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo]

    def emit(self, kind: str, text: str, start: int, end: int) -> None:
        line, col = self.pos(start)
        self.out.append(Token(kind, text, start, end, line, col))

    def block_comment(self, i: int) -> int:
        level, i = 1, i + 2
        while i < self.n and level:
            if self.text.startswith("/-", i):
                level, i = level + 1, i + 2
            elif self.text.startswith("-/", i):
                level, i = level - 1, i + 2
            else:
                i += 1
        if level:
            raise LexError(f"unterminated comment at {self.pos(self.n)}")
        return i

    def string(self, i: int, interpolated: bool) -> int:
        """Skip the string opening at ``i``; code inside ``{}`` of interpolated strings is
        lexed. Returns the offset after the closing quote."""
        start, i = i, i + 1
        while i < self.n:
            ch = self.text[i]
            if ch == "\\":
                i += 2
            elif ch == '"':
                self.emit("string", "", start, i + 1)
                return i + 1
            elif ch == "{" and interpolated:
                i = self.code(i + 1, stop="}")
                i += 1
            else:
                i += 1
        raise LexError(f"unterminated string at line {self.pos(start)[0]}")

    def raw_string(self, i: int) -> int | None:
        m = re.compile(r'r(#*)"').match(self.text, i)
        if not m:
            return None
        close = '"' + m.group(1)
        end = self.text.find(close, m.end())
        if end < 0:
            raise LexError(f"unterminated raw string at line {self.pos(i)[0]}")
        self.emit("string", "", i, end + len(close))
        return end + len(close)

    def code(self, i: int, stop: str | None = None) -> int:
        """Lex from ``i`` to the end (or to the ``stop`` char at depth 0)."""
        text, depth = self.text, 0
        while i < self.n:
            ch = text[i]
            if ch.isspace():
                i += 1
            elif text.startswith("--", i):
                end = text.find("\n", i)
                i = self.n if end < 0 else end
            elif text.startswith("/-", i):
                i = self.block_comment(i)
            elif ch == '"':
                prev = self.out[-1] if self.out else None
                interp = (prev is not None and prev.end == i and prev.kind == "ident"
                          and prev.text.endswith("!"))
                i = self.string(i, interp)
            elif ch == "r" and (raw := self.raw_string(i)) is not None:
                i = raw
            elif ch == "'" and (end := self.char_literal(i)) is not None:
                self.emit("char", "", i, end)
                i = end
            elif _ident_start(ch) or ch == "«":
                i = self.ident(i)
            elif ch.isdigit():
                m = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|"
                               r"[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").match(text, i)
                assert m is not None
                self.emit("number", m.group(), i, m.end())
                i = m.end()
            else:
                if stop is not None:
                    if ch == "{":
                        depth += 1
                    elif ch == stop:
                        if depth == 0:
                            return i
                        depth -= 1
                self.emit("symbol", ch, i, i + 1)
                i += 1
        if stop is not None:
            raise LexError("unterminated string interpolation")
        return i

    def char_literal(self, i: int) -> int | None:
        prev = self.text[i - 1] if i else " "
        if _ident_rest(prev) and prev not in "!?":
            return None  # a prime in a name: h'
        m = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'").match(
            self.text, i)
        return m.end() if m else None

    def ident(self, i: int) -> int:
        start, parts = i, []
        while True:
            if self.text.startswith("«", i):
                end = self.text.find("»", i + 1)
                if end < 0:
                    raise LexError(f"unterminated « at line {self.pos(i)[0]}")
                parts.append(self.text[i + 1:end])
                i = end + 1
            else:
                j = i + 1
                while j < self.n and _ident_rest(self.text[j]):
                    j += 1
                parts.append(self.text[i:j])
                i = j
            if (i + 1 < self.n and self.text[i] == "." and
                    (_ident_start(self.text[i + 1]) or self.text[i + 1] == "«")):
                i += 1
                continue
            break
        self.emit("ident", ".".join(parts), start, i)
        return i


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` with comments and string/char literal contents removed.
    Raises LexError on an unterminated comment, string or ``«``."""
    lexer = _Lexer(text)
    lexer.code(0)
    return lexer.out


def strip_comments(text: str) -> str:
    """``text`` with every comment replaced by spaces (newlines kept, so offsets, lines and
    columns stay valid). Raises LexError."""
    out, i, n = [], 0, len(text)
    lexer = _Lexer(text)
    while i < n:
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith("/-", i):
            end = lexer.block_comment(i)
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        else:
            out.append(text[i])
            i += 1
            continue
        out.append("".join(c if c == "\n" else " " for c in text[i:end]))
        i = end
    return "".join(out)


__all__ = ["LexError", "Token", "strip_comments", "tokenize"]
