"""Tokens of a step's prose and what each one is to the claim reader.

:func:`tokenize` cuts normalized prose into words, numbers, relations, operators and
parentheses; :func:`classify` names each token's role (math, var, times, ratio, unit, label,
word or stop) from its neighbours, the names bound earlier and the letters used as functions.
Both are single linear passes; :mod:`formalizer.regions` grows math runs from the roles.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from formalizer.latex import GREEK_NAMES
from formalizer.units import is_unit_word
from prover.arith.parse import NAMED_FUNCTIONS

_PROSE_TOKEN = re.compile(
    r"(?P<word>\d{1,2}:[0-5]\d(?::[0-5]\d)?(?:\s?[ap]\.?m\.?)?(?![\d:(])"
    r"|\d+(?:\.\d+)?-[A-Za-z]{2,}[\w'’]*(?:-[\w'’]+)*"
    r"|[A-Za-z_][A-Za-z_0-9'’]*(?:-[A-Za-z][\w'’]*)*)"
    r"|(?P<num>(?:\d+\.\d+…|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?%?)"
    r"|(?P<rel>~=|<=|>=|!=|==|=|<|>)"
    r"|(?P<op>\*\*|//|[-+*/^±∓]|!(?!=))"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<other>\S)"
)
TIMES_WORDS = {"x", "X"}
_MATH_TOKENS = frozenset(("num", "op", "lp", "rp", "rel"))  # token kinds that are always math
_NEVER_VARS = {"a", "I"}
# letters that abbreviate a unit after a number ("10 m", "5 g", "3 h", "2 L", "4 t")
_UNIT_LETTERS = frozenset("mgshlLtKWVJN")
_SUBSCRIPTED = re.compile(r"(?:[A-Za-z]|angle|" + "|".join(GREEK_NAMES) + r")_[A-Za-z0-9]{1,12}")
_SEGMENT_NAME = re.compile(r"[A-Z]{2,3}")
# a number after one of these words is a label (``from step 6``, ``equation 2``), not a value
_LABEL_WORDS = frozenset(
    "step steps equation equations eq eqn line lines case cases part parts lemma condition "
    "conditions item row column figure problem question rule property option answer".split())


class Tok(NamedTuple):
    """One token of prose: its kind (a group of the token pattern), text and span. Immutable
    (a named tuple: a step has thousands of tokens, and a tuple is built several times faster
    than a frozen dataclass)."""

    kind: str
    value: str
    start: int
    end: int


_new_tuple = tuple.__new__


def tokenize(text: str) -> list[Tok]:
    """The tokens of ``text`` in order (one pass of the token pattern; white space dropped)."""
    # every alternative of the pattern is a named group, so lastgroup is never None
    return [_new_tuple(Tok, (m.lastgroup, m.group(), *m.span()))
            for m in _PROSE_TOKEN.finditer(text)]


def touches(a: Tok | None, b: Tok | None) -> bool:
    """True when ``a`` ends exactly where ``b`` starts (no white space between)."""
    return a is not None and b is not None and a.end == b.start


def _is_var(tokens: list[Tok], i: int, bound: set[str]) -> bool:
    """Is the word at ``i`` a variable? Bound names always are; a single letter is one when it
    stands next to a relation or operator, or against a number (``2x``), unless it reads as a
    unit after a number (``10 m``, ``ml/L``)."""
    tok = tokens[i]
    value = tok.value
    if value in bound or ("_" in value and _SUBSCRIPTED.fullmatch(value)):
        return True  # S_14, a_n: a subscript makes a name
    if len(value) != 1 and value != "pi" and value not in GREEK_NAMES and not (
            len(value) <= 3 and _SEGMENT_NAME.fullmatch(value) and not is_unit_word(value)):
        return False  # one letter, pi, a Greek letter, or a segment/point name (AC, ABC)
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if any(t is not None and t.kind == "rel" for t in (prev, nxt)):
        return True
    if tok.value in _NEVER_VARS:
        if nxt is not None and nxt.kind == "op" and nxt.value in "+*/^" and nxt.value:
            return True  # "a + b": an article never stands before an operator
        if prev is not None and prev.kind == "op" and nxt is not None and nxt.kind in (
                "rp", "op"):
            return True  # "(1 + a)", "- a * b": an article never stands between operators
        return (touches(prev, tok) and prev is not None and prev.kind in ("op", "num")) or (
            _enclosed(tokens, i))
    if prev is not None and prev.kind == "num":
        if touches(prev, tok):
            return True  # "2x" is 2·x
        # "100 b + 10 c + d", "3 x - 2 = 7": a spaced letter that an operator follows is a
        # factor, unless the letter abbreviates a unit ("100 m/lap", "1920 g / 120 g")
        return nxt is not None and nxt.kind == "op" and tok.value not in _UNIT_LETTERS
    if prev is not None and prev.value == "/" and i >= 2 and tokens[i - 2].kind == "word" and (
            touches(tokens[i - 2], prev) and touches(prev, tok)):
        return False  # ml/L, m/s: a compound unit
    return any(t is not None and t.kind in ("op", "lp", "rp") for t in (prev, nxt))


def _enclosed(tokens: list[Tok], i: int) -> bool:
    """``((a)/(b))``, ``log(a, c)``: a letter held tight between parentheses or commas inside
    a formula (an operator, relation or parenthesis just beyond, or a function's argument list)
    is a name; the label ``(a) the first case`` is not."""
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if prev is None or nxt is None or not (touches(prev, tokens[i]) and touches(tokens[i], nxt)):
        return False
    if prev.kind != "lp" and prev.value != "," or nxt.kind != "rp" and nxt.value != ",":
        return False
    before = tokens[i - 2] if i >= 2 else None
    after = tokens[i + 2] if i + 2 < len(tokens) else None
    if before is not None and before.kind == "word" and prev.kind == "lp" and touches(before, prev):
        return True  # log(a, c)
    return (before is not None and before.kind in ("lp", "op", "rel")) or (
        after is not None and after.kind in ("op", "rel"))


def classify(tokens: list[Tok], bound: set[str], functions: frozenset[str] = frozenset(),
              text: str = "") -> list[str]:
    """Per token: math, var, times, unit (``/hour``), label, word or stop. ``text`` is the
    text the tokens were cut from (:func:`tokenize`), or "" when it is not at hand."""
    kinds: list[str] = []
    n = len(tokens)
    applied: list[bool] = []  # per open parenthesis: is it a function's argument list?
    # each "|" of the text is a token of its own (only the "other" group matches it)
    bars = text.count("|") if text else sum(t.value == "|" for t in tokens)
    append = kinds.append
    prev: Tok | None = None
    for i, tok in enumerate(tokens):
        kind, value = tok.kind, tok.value
        nxt = tokens[i + 1] if i + 1 < n else None
        if kind == "lp":
            applied.append(prev is not None and kinds[-1] == "math" and prev.kind == "word"
                           and prev.end == tok.start)
        elif kind == "rp" and applied:
            applied.pop()
        if kind == "num" and prev is not None and prev.value.lower() in _LABEL_WORDS:
            append("stop")  # "from step 6 - ...": a reference, not the number 6
        elif kind == "op" and value == "-" and _list_dash(text, tok):
            append("stop")  # a list bullet, not a minus
        elif kind in _MATH_TOKENS or (
                kind == "word" and nxt is not None and nxt.kind == "lp"
                and tok.end == nxt.start and (value in functions or value == "sqrt"
                                              or value in NAMED_FUNCTIONS)):
            append("math")
        elif value == "," and applied and applied[-1]:
            append("math")  # "f(i, j)", "binom(9, 2)": an argument separator
        elif value == "|" and bars >= 2 and bars % 2 == 0:
            append("math")  # |x - 3|: absolute value
        elif kind == "word":
            if value in TIMES_WORDS and prev is not None and prev.kind in (
                    "num", "rp", "word") and nxt is not None and nxt.kind in ("num", "lp") and (
                    prev.end != tok.start):
                append("times")  # "8 x 12"; but "3x(1/3)" is 3·x·(1/3)
            elif value == "of" and prev is not None and nxt is not None and nxt.kind in (
                    "num", "lp") and (prev.value.endswith("%") or (
                    prev.kind == "num" and i >= 2 and tokens[i - 2].value == "/")):
                append("times")  # "20% of 50", "1/3 of 36"
            elif _is_var(tokens, i, bound):
                append("var")
            else:
                append("word")
        elif value == ":" and _ratio_colon(tokens, i):
            append("ratio")
        else:
            append("stop")
        prev = tok
    # a per-unit such as "/hour" or "/lily" is part of the unit, not a division
    if not text or "/" in text:
        for i in range(n - 1):
            if tokens[i].value == "/" and kinds[i + 1] == "word" and touches(tokens[i],
                                                                            tokens[i + 1]):
                kinds[i] = "unit"
    if not text or "(" in text:  # a label opens with a parenthesis
        _mark_labels(tokens, kinds)
    return kinds


def _list_dash(text: str, tok: Tok) -> bool:
    """A ``-`` that opens a line (after optional spaces) and is followed by a space is a bullet."""
    if not text or tok.end >= len(text) or not text[tok.end].isspace():
        return False
    line_start = text.rfind("\n", max(0, tok.start - 40), tok.start)
    before = text[line_start + 1:tok.start] if line_start >= 0 else (
        text[:tok.start] if tok.start <= 40 else "x")
    return before.strip() == ""


def _mark_labels(tokens: list[Tok], kinds: list[str]) -> None:
    """``10 (last night) + 45``: a parenthesis of one to four plain words after a value is a
    label on that value, skipped like a unit."""
    n = len(tokens)
    for i in range(1, n):
        if tokens[i].kind != "lp" or tokens[i - 1].kind not in ("num", "rp"):
            continue
        j = i + 1
        while j < n and j - i <= 5 and kinds[j] == "word":
            j += 1
        if i + 1 < j < n and j - i <= 5 and tokens[j].kind == "rp":
            for k in range(i, j + 1):
                kinds[k] = "label"


UNIT_KINDS = ("word", "unit", "label")
MATH_KINDS = ("math", "var", "times", "ratio")


def _ratio_colon(tokens: list[Tok], i: int) -> bool:
    """``7980 : 420`` (spaced, numbers around) is a division; ``Step 2: 5`` and ``50:40`` are
    not read as one."""
    if i == 0 or i + 1 >= len(tokens):
        return False
    prev, tok, nxt = tokens[i - 1], tokens[i], tokens[i + 1]
    return prev.kind == "num" and nxt.kind == "num" and not (
        touches(prev, tok) or touches(tok, nxt))

