"""The tokenizer of FOLIO-style first-order formulas: :func:`tokenize` cuts a text into parallel
lists of token kinds, texts and start/end offsets, ending with one ``EOF`` token.

Kinds: the operator kinds (``FORALL EXISTS NOT AND OR XOR IMP IFF``, the comparisons
``= ≠ < ≤ > ≥``, ``+ - * /``, ``( ) , .``), ``NUM`` (a decimal literal), ``NAME`` and ``BAD``
(an unknown symbol: tokenizing stops there, so the parser reports it at its position).
Whitespace is dropped. ASCII spellings: ``forall``/``all``, ``exists``, ``~ ! not``,
``& ^ and``, ``| or``, ``xor``, ``-> =>``, ``<-> <=> ⟷ ⟺``, ``!= <= >=``. Names are Unicode
words (``Świętokrzyskie``) and may hold an apostrophe before letters (``Hachiko’s``).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"[0-9]+(?:\.[0-9]+)?|[^\W\d][\w]*(?:['’][^\W\d_]+)*|<->|<=>|->|=>|<=|>=|!=|\s+|.",
    re.S,
)
"""Names are Unicode words (``Świętokrzyskie``) that may hold apostrophes followed by letters
(``Hachiko’s``, ``hachiko's``): ``'`` and ``’`` are no operators, so this is unambiguous."""
_OPS = {
    "∀": "FORALL", "∃": "EXISTS", "¬": "NOT", "~": "NOT", "!": "NOT",
    "∧": "AND", "&": "AND", "^": "AND", "∨": "OR", "|": "OR", "⊕": "XOR",
    "→": "IMP", "->": "IMP", "=>": "IMP", "⇒": "IMP",
    "↔": "IFF", "<->": "IFF", "<=>": "IFF", "⇔": "IFF", "⟷": "IFF", "⟺": "IFF",
    "⟶": "IMP", "⟹": "IMP",
    "=": "=", "≠": "≠", "!=": "≠", "<": "<", "≤": "≤", "<=": "≤", ">": ">", "≥": "≥", ">=": "≥",
    "+": "+", "-": "-", "−": "-", "*": "*", "/": "/",
    "(": "(", ")": ")", ",": ",", ".": ".",
}  # fmt: skip
_KEYWORDS = {
    "forall": "FORALL", "all": "FORALL", "exists": "EXISTS", "not": "NOT",
    "and": "AND", "or": "OR", "xor": "XOR",
}  # fmt: skip


def tokenize(text: str) -> tuple[list[str], list[str], list[int], list[int]]:
    """``(kinds, texts, starts, ends)`` of the tokens of ``text``, the last one ``EOF`` (empty
    text, at ``len(text)``); a ``BAD`` token ends the list before ``EOF``. Never raises."""
    kinds: list[str] = []
    vals: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for val in _TOKEN.findall(text):  # the alternatives tile the text exactly
        start, pos = pos, pos + len(val)
        first = val[0]
        if first.isspace():
            continue
        kind = _OPS.get(val)
        if kind is None:
            if "0" <= first <= "9":
                kind = "NUM"
            elif first == "_" or first.isalpha():
                kind = _KEYWORDS.get(val, "NAME")
            else:
                kind = "BAD"
        kinds.append(kind)
        vals.append(val)
        starts.append(start)
        ends.append(pos)
        if kind == "BAD":
            break
    kinds.append("EOF")
    vals.append("")
    starts.append(len(text))
    ends.append(len(text))
    return kinds, vals, starts, ends
