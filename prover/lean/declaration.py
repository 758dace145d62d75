"""Lean declaration text: the statement part of ``theorem X : T := proof`` (split at the first
``:=`` outside brackets, comments and strings) and the ``:= by sorry`` command that opens a
theorem's root goal. Text only: nothing here talks to Lean.
"""

from __future__ import annotations

from prover.lean.header import comment_end

_OPENERS, _CLOSERS = "([{⟨⦃", ")]}⟩⦄"


def split_declaration(text: str) -> tuple[str, str | None]:
    """``(head, rest)`` around the first ``:=`` outside brackets, comments and strings
    (``rest`` is None when there is none): the statement text of ``theorem X : T := proof``."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        if text.startswith(("--", "/-"), i):
            i = comment_end(text, i)
            continue
        char = text[i]
        if char == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(":=", i):
            return text[:i].rstrip(), text[i + 2:]
        i += 1
    return text.rstrip(), None


def statement_head(statement: str) -> str:
    """The statement without any ``:= ...`` part (``theorem X (a : Nat) : a = a``)."""
    head = split_declaration(statement)[0].strip()
    if not head:
        raise ValueError("empty theorem statement")
    return head


def sorry_command(statement: str) -> str:
    """``<head> := by sorry``: the command whose single sorry is the theorem's root goal."""
    return f"{statement_head(statement)} := by sorry"
