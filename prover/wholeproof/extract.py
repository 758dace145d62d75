"""Getting the proof out of a model's answer: a typed result, never an exception.

``block`` answers: the LAST fenced block whose tag is accepted (``lean4``/``lean`` by default;
reasoning models write drafts first, Kimina's own extractor also takes the last one); when the
answer ends inside such a block (a length cut), that unterminated block is used and flagged.
Text after a ``</think>`` tag is preferred when one is present. ``continue`` answers: the
prompt's opened code plus the completion up to its closing fence. No usable code gives an
:class:`Extraction` with ``proof`` None and a ``failure`` kind: ``no-code-block``,
``empty-code-block`` or ``empty-proof``.

Z3 scripts (:func:`script_lines`): one tactic per line; blank lines and comment lines (``;``,
``#``, ``--``, ``//``) dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[ \t]*$", re.M)
_COMMENT = re.compile(r"^\s*(;|#|--|//)")


@dataclass(frozen=True)
class Extraction:
    """The proof text (None when there is none), the failure kind, and notes (e.g.
    ``unterminated-block``, ``blocks=3``)."""

    proof: str | None
    failure: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"ok": self.proof is not None}
        if self.failure:
            out["failure"] = self.failure
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _blocks(text: str, tags: Sequence[str]) -> tuple[list[str], str | None]:
    """Complete blocks with an accepted tag, and the body of a final unterminated one."""
    found: list[str] = []
    fences = list(_FENCE.finditer(text))
    i = 0
    while i < len(fences):
        opening = fences[i]
        tag = opening.group(1).lower()
        if i + 1 < len(fences):
            closing = fences[i + 1]
            if tag in tags and closing.group(1) == "":
                found.append(text[opening.end():closing.start()].strip("\n"))
            i += 2
            continue
        tail = text[opening.end():].strip("\n") if tag in tags else None
        return found, tail
    return found, None


def extract_block(answer: str, tags: Sequence[str] = ("lean4", "lean")) -> Extraction:
    """The last accepted fenced block of ``answer`` (see the module docstring)."""
    tags = tuple(t.lower() for t in tags)
    if "</think>" in answer:
        after = answer.rsplit("</think>", 1)[1]
        blocks, tail = _blocks(after, tags)
        if blocks or tail:
            return _pick(blocks, tail)
    blocks, tail = _blocks(answer, tags)
    return _pick(blocks, tail)


def _pick(blocks: list[str], tail: str | None) -> Extraction:
    notes = (f"blocks={len(blocks)}",) if len(blocks) > 1 else ()
    if tail is not None and tail.strip():
        return Extraction(tail, None, (*notes, "unterminated-block"))
    if not blocks:
        return Extraction(None, "no-code-block")
    if not blocks[-1].strip():
        return Extraction(None, "empty-code-block", notes)
    return Extraction(blocks[-1], None, notes)


def extract_continuation(opened: str, completion: str) -> Extraction:
    """``opened`` (the code the prompt opened) plus ``completion`` up to its closing fence."""
    end = completion.find("```")
    body = completion if end < 0 else completion[:end]
    if not body.strip():
        return Extraction(None, "empty-proof")
    notes = ("unterminated-block",) if end < 0 else ()
    return Extraction(opened + body.rstrip(), None, notes)


def script_lines(text: str) -> list[str]:
    """The tactics of a Z3 script: non-blank, non-comment lines, stripped."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not _COMMENT.match(line)]
