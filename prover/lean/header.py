"""Lean source text around a theorem: the header's import block (what a REPL process imports
once) and declaration docstrings (which must neither end a header command nor start a
statement). Comment- and string-aware, never a regex over raw text."""

from __future__ import annotations

import re

_IMPORT = re.compile(r"(?:prelude|import)(?![\w'!?.])")


def comment_end(text: str, i: int) -> int:
    """The index just after the comment starting at ``i`` (``--`` line or nested ``/- -/``)."""
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    level, i = 1, i + 2
    while i < len(text) and level:
        if text.startswith("/-", i):
            level, i = level + 1, i + 2
        elif text.startswith("-/", i):
            level, i = level - 1, i + 2
        else:
            i += 1
    return i


def _skip_blank(text: str, i: int, *, docs: bool) -> int:
    """Skip whitespace and plain comments from ``i`` (doc comments ``/--``, ``/-!`` too when
    ``docs``); returns the first index of anything else."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i) or (text.startswith("/-", i) and (
                docs or not text.startswith(("/--", "/-!"), i))):
            i = comment_end(text, i)
        else:
            return i
    return i


def split_header(header: str) -> tuple[str, str]:
    """``(imports, rest)`` of a REPL header: ``imports`` is the leading ``prelude``/``import``
    block (the only part that must start a fresh environment and the expensive one), one
    ``import X`` per line, normalised (duplicates dropped, order kept); ``rest`` is everything
    after it (``open``, ``variable``, ``namespace``...), run as a command on top of it."""
    i, seen = _skip_blank(header, 0, docs=False), []
    while (match := _IMPORT.match(header, i)) is not None:
        keyword = match.group(0)
        j = _skip_blank(header, match.end(), docs=False)
        if keyword == "prelude":
            seen.append("prelude")
            i = _skip_blank(header, j, docs=False)
            continue
        name = re.match(r"(?:runtime\s+)?[^\s/-][^\s]*", header[j:])
        if name is None:
            break
        seen.append(f"import {name.group(0)}")
        i = _skip_blank(header, j + name.end(), docs=False)
    return "\n".join(dict.fromkeys(seen)), header[i:].strip()


def _doc_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ``/-- ... -/`` declaration docstring outside strings/comments."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("--", i) or text.startswith("/-", i):
            end = comment_end(text, i)
            if text.startswith("/--", i) and not text.startswith("/--/", i):
                spans.append((i, end))
            i = end
        elif text[i] == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        else:
            i += 1
    return spans


def detach_docstrings(header: str, statement: str) -> tuple[str, str, str]:
    """``(header, statement, doc)`` with the declaration docstring moved out of the way.

    PutnamBench puts the theorem's ``/-- ... -/`` at the END of its header (643 of 644
    headers): sent alone as the header command it is a parse error ("unexpected end of input"),
    and a statement starting with one is not ``theorem ...``. A docstring never changes the
    theorem's type, so it is cut from the header's end and from the statement's start and
    returned as ``doc`` (for the record only)."""
    docs: list[str] = []
    body = header.rstrip()
    while body.endswith("-/"):
        spans = [s for s in _doc_spans(body) if s[1] == len(body)]
        if not spans:
            break
        start = spans[0][0]
        docs.append(body[start:])
        body = body[:start].rstrip()
    header = body if docs else header
    i = _skip_blank(statement, 0, docs=False)
    while statement.startswith("/--", i) and not statement.startswith("/--/", i):
        end = comment_end(statement, i)
        docs.append(statement[i:end])
        statement = statement[:i] + statement[end:].lstrip()
        i = _skip_blank(statement, i, docs=False)
    return header, statement, "\n".join(docs)
