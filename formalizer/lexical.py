"""What the prose reader understands, as a positive list, and the guard built on it.

A verdict may only come from text the checker read as written. The prose extractor
(:mod:`formalizer.extract`) finds a math run around a relation and drops what it takes for
labels; this module decides whether the run's surroundings are understood:

* :func:`prepare_prose` is the reader's view of a step: notation it cannot read (hex/binary
  literals such as ``0x10``, digit groups with ``_``, invisible format characters, digits of other
  scripts) becomes U+FFFD before normalization, so nothing unread is ever taken for a number or
  an operator; the few operator words it does read (``3 times 4``, ``12 divided by 4``,
  ``half of 10``, ``twice 8``, ``7 mod 3``, ``20 percent``) are spelled as math where the
  phrase ends at a relation or a clause end (``dozen`` is a unit of :mod:`formalizer.units`).
* :func:`guard_run` accepts a run only when every token around and inside it is understood:
  punctuation from :data:`SEPARATORS`, alphabetic label words, units of the registry. Anything
  else next to an operand — an unknown character, a glued token (``2,00``), a number a word or
  two away (``5 more than 3 = 8``), an operator word that was not read — returns the reason the
  claim is ``unknown: not-formalized``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import Protocol

from formalizer.normalize import normalize_math
from formalizer.units import is_unit_word, mark_currency

UNREAD = "\ufffd"
# punctuation the reader understands as a boundary of an operand (never part of it)
SEPARATORS = frozenset(",;:.!?()[]\"'“”‘’")
_OPENERS = frozenset("([\"'“‘:")
_CLOSERS = frozenset(",;:.!?)]\"'”’")
# words whose arithmetic meaning the reader knows; one next to an operand that was not read as
# math (see _WORD_OPERATORS) means the operand continues in words
OPERATOR_WORDS = frozenset(
    "times divided multiplied plus minus mod modulo over than squared cubed root roots power "
    "powers percent doubled tripled halved sin cos tan sinh cosh tanh arcsin arccos arctan log "
    "ln sqrt".split())
# words that end a clause: an operand never runs through them (``48 pieces because 32 + 16``);
# ``and``/``or``/``to`` only when no value stands right before them (``3 and 4 = 7`` joins)
STOP_WORDS = frozenset(
    "so is are was were be been then and or but which that because since gives give makes make "
    "made equals equal means mean has have had he she it they we you i there here this these "
    "those for to in on at with from the total gets get got will would can could spent sold "
    "left remaining altogether now thus hence therefore if when while as each every a an "
    "his her their its our my your".split())
_JOINERS = frozenset({"and", "or", "to"})
NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred hundreds thousand thousands million millions billion half halves twice "
    "thrice double triple quadruple third thirds quarter quarters fourth fourths fifth fifths "
    "dozen dozens".split())
_SCAN_WORDS = 2
# after a number these count parts of something, not things: "= 10 halves" is 5 wholes
PART_WORDS = frozenset("halves thirds fourths fifths sixths eighths tenths hundredths "
                       "thousandths".split())
_NUM = r"(?<![\w.])(\d+(?:\.\d+)?)(?!\w)(?!\.\d)"
_BEFORE_OK = r"(?<![-+*/^%(]\s)(?<![-+*/^%(])"
# a word operator is read only where its phrase ends at a relation or at the end of a clause
# ("3 times 4 = 12"), not before more words ("20 times 2 people have reappeared")
_AFTER_END = r"(?=\s*(?:[=<>~!]|[.,;:!?)](?!\d)|$))"
# 0x10, 2_000, a clock time "0900", 10' (feet, minutes, a prime: not a quote). Every match opens
# with a digit or a quote, consumed first so the scan skips to one; the look-behinds that guard
# the match's start are written after it (``0(?<![\w.]0)`` is ``(?<![\w.])0``)
_NOTATION = re.compile(r"[\d'’](?:(?<=0)(?<![\w.]0)[xXbBoO][0-9A-Fa-f_]+\b"
                       r"|(?<=\d)\d*(?:_\d+)+\b|(?<=\d)_\w*"
                       r"|(?<=0)(?<![\w.,!}]0)\d+(?![\d.,])"
                       r"|(?<=\d['’])(?![A-Za-z]))")
_PERCENT_WORD = re.compile(r"(?<=\d)\s*(?:percent|per cent)\b", re.IGNORECASE)


class Token(Protocol):
    """What the guard needs of an extractor token."""

    kind: str
    value: str
    start: int
    end: int


def _binary(word: str) -> re.Pattern[str]:
    return re.compile(_BEFORE_OK + _NUM + rf"\s+{word}\s+" + _NUM + _AFTER_END, re.IGNORECASE)


# ``a WORD b`` read as ``(a op b)`` only when no other operator stands against a or b, so
# precedence between words and symbols is never guessed (``2 + 3 times 4`` stays unread)
_WORD_OPERATORS: list[tuple[str, re.Pattern[str], str]] = [
    ("times", _binary("times"), r"(\1 * \2)"),
    ("multiplied", _binary(r"multiplied\s+by"), r"(\1 * \2)"),
    ("divided", _binary(r"divided\s+by"), r"(\1 / \2)"),
    ("plus", _binary("plus"), r"(\1 + \2)"),
    ("minus", _binary("minus"), r"(\1 - \2)"),
    ("mod", _binary(r"(?:mod|modulo)"), r"(\1 - \2 * (\1 // \2))"),
]
_FRACTION_WORDS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "quarter": Fraction(1, 4)}
_FRACTION_OF = re.compile(r"(?<![\w.])(?:(?:a|one)\s+)?(half|third|quarter)\s+of\s+" + _NUM
                          + _AFTER_END, re.IGNORECASE)
_TWICE = re.compile(_BEFORE_OK + r"(?<![\w.])(twice|double)\s+" + _NUM + _AFTER_END,
                    re.IGNORECASE)


def _fraction_of(m: re.Match[str]) -> str:
    frac = _FRACTION_WORDS[m.group(1).lower()]
    return f"({frac.numerator}/{frac.denominator} * {m.group(2)})"


def read_words(text: str) -> str:
    """Spell the operator words the reader knows as math (normalized text in, text out)."""
    low = text.lower()
    if "cent" in low:
        text = _PERCENT_WORD.sub("%", text)
    for word, pattern, repl in _WORD_OPERATORS:
        if word in low:
            text = pattern.sub(repl, text)
    if " of " in low:
        text = _FRACTION_OF.sub(_fraction_of, text)
    if "twice" in low or "double" in low:
        text = _TWICE.sub(lambda m: f"(2 * {m.group(2)})", text)
    return text


def _unreadable_char(ch: str) -> bool:
    """Characters that would be misread if left as they are: invisible format characters and
    digits of other scripts (``\\d`` matches them, the reader does not know them)."""
    if ch.isascii():
        return False
    category = unicodedata.category(ch)
    return category in ("Cf", "Nd", "No", "Co", "Cn") or ch == UNREAD


def prepare_prose(visible: str) -> str:
    """The reader's view of a step's prose: unreadable notation marked, math normalized
    (:func:`formalizer.normalize.normalize_math`), operator words read."""
    text = visible
    if "0" in text or "_" in text or "'" in text or "’" in text:  # one is in every match
        text = _NOTATION.sub(UNREAD, text)
    text = mark_currency(text)
    text = normalize_math(text)
    if not text.isascii():
        text = "".join(UNREAD if _unreadable_char(ch) else ch for ch in text)
    return read_words(text)


def _is_value(tok: Token) -> bool:
    return tok.kind in ("num", "rp") or tok.value.endswith("%")


def _glued(tokens: Sequence[Token], i: int, j: int) -> bool:
    return 0 <= i < len(tokens) and 0 <= j < len(tokens) and tokens[i].end == tokens[j].start


_ALPHABETIC = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")


def _alphabetic(word: str) -> bool:
    return bool(_ALPHABETIC.fullmatch(word))


def _word_problem(word: str) -> str | None:
    low = word.lower()
    if low in OPERATOR_WORDS or (low in NUMBER_WORDS and not is_unit_word(low)):
        return f"the word {word!r} next to an operand was not read as math"
    return None


_PREPOSITIONS = frozenset({"by", "of", "than", "from", "to", "into", "over", "with"})


def _ends_a_relation(tokens: Sequence[Token], i: int) -> bool:
    """``15 >= 12 and 3 != 4``: the value at ``i`` closes a claim of its own."""
    while i >= 0 and tokens[i].kind in ("num", "op", "lp", "rp", "word"):
        if tokens[i].kind == "word" and not is_unit_word(tokens[i].value):
            return False
        i -= 1
    return i >= 0 and tokens[i].kind == "rel"


_LETTER_NAME = re.compile(r"[A-Za-z](?:_\w{1,3})?")


def _starts_a_relation(tokens: Sequence[Token], i: int) -> bool:
    """``so 5 * 2 = 10``, ``and 2x = 6``: the math from ``i`` on (numbers, operators,
    parentheses, one-letter names) reaches a relation of its own."""
    while i < len(tokens) and (tokens[i].kind in ("num", "op", "lp", "rp") or (
            tokens[i].kind == "word" and _LETTER_NAME.fullmatch(tokens[i].value))):
        i += 1
    return i < len(tokens) and tokens[i].kind == "rel"


def _across_stop(tokens: Sequence[Token], i: int, start: int, step: int) -> str | None:
    """A stop word ends the operand unless math dangles across it: ``3 and 4 = 7`` (``and``
    joins two numbers), ``0.1 + 1 so 0 = 10.1`` (an expression without a relation runs into
    the claim), ``= 10 so .1`` (a number that starts no claim of its own follows it). Returns
    why the run is not read, or None: ``1 in 4 = 25%`` (``in`` right between two lone numbers,
    the second before the relation, writes a ratio, not a number)."""
    low = tokens[i].value.lower()
    if step < 0:
        before = i - 1
        if 0 <= before and tokens[before].kind == "op":
            return f"an operator '{tokens[before].value}' dangles before '{tokens[i].value}'"
        if not (0 <= before and _is_value(tokens[before])) or _ends_a_relation(tokens, before):
            return None
        joined = low in _JOINERS and tokens[start + 1].kind == "num"
        if low == "in" and i == start and tokens[before].kind == "num" and (
                tokens[start + 1].kind == "num") and start + 2 < len(tokens) and (
                tokens[start + 2].kind == "rel"):
            return (f"'{tokens[before].value} in {tokens[start + 1].value}' is a ratio, "
                    "not a number")
        dangling = tokens[before].kind == "rp" or (
            before >= 1 and tokens[before - 1].kind == "op")
        if joined or dangling:
            return f"math runs across '{tokens[i].value}' into the operand"
        return None
    after = i + 1
    if after < len(tokens) and _is_value(tokens[after]) and not _starts_a_relation(tokens, after):
        return f"a number after '{tokens[i].value}' may continue the operand"
    if low == "and" and after < len(tokens) and tokens[after].kind == "lp":
        return "'and (...)' may continue the operand (a mixed number: '16 and (2/3)')"
    return None


def _scan(tokens: Sequence[Token], start: int, step: int) -> str | None:
    """Look outward from an operand edge over a couple of words. Before the operand, a number
    word or an operator word acting on it (``3 times 4 = ...``, ``12 divided by 4 = ...``)
    means the operand goes on in words; on either side, a value one word away (``3 fois 4``,
    ``= 12 apples 5``) does too. A stop word (``because``, ``so``) ends the look."""
    i, words, operator = start, 0, False
    while 0 <= i < len(tokens) and tokens[i].kind == "word" and words < _SCAN_WORDS:
        low = tokens[i].value.lower()
        operator |= low in OPERATOR_WORDS
        if any(ch.isdigit() for ch in low):
            return f"'{tokens[i].value}' next to an operand mixes letters and digits"
        acts = words == 0 or tokens[i - step].value.lower() in _PREPOSITIONS
        if step < 0 and acts and low in NUMBER_WORDS and not is_unit_word(low):
            return f"the number word {tokens[i].value!r} before an operand was not read"
        if step > 0 and words == 0 and low in PART_WORDS:
            return f"'{tokens[i].value}' after the operand counts parts, not wholes"
        if step < 0 and acts and low in OPERATOR_WORDS:
            return f"the word {tokens[i].value!r} before an operand was not read as math"
        if low in STOP_WORDS:
            return _across_stop(tokens, i, start, step)
        if words == 0 and step > 0 and is_unit_word(tokens[i].value) and not (
                i + 1 < len(tokens) and _is_value(tokens[i + 1])):
            return None  # the operand's unit ("= 75 minutes"), not "= 1 hour 30 minutes"
        i += step
        words += 1
    if step < 0 and 0 < i < len(tokens) and tokens[i].value == "." and (
            _glued(tokens, i - 1, i) and tokens[i - 1].kind == "num") and words <= 1 and (
            tokens[start + 1].kind == "num"):
        return "a number with a point stands a word from the operand ('0. apples 1')"
    if (words <= 1 or operator) and 0 <= i < len(tokens) and (_is_value(tokens[i]) or (
            step < 0 and tokens[i].kind in ("op", "lp")) or (
            step > 0 and tokens[i].kind == "lp")):
        what = "a number" if _is_value(tokens[i]) else f"'{tokens[i].value}'"
        return f"{what} stands a word from the operand: the operand may go on in prose"
    return None


def _edge(tokens: Sequence[Token], edge: int, out: int, step: int) -> str | None:
    """Check the token ``out`` just outside the run's edge token ``edge``."""
    if not 0 <= out < len(tokens):
        return None
    tok = tokens[out]
    allowed = _OPENERS if step < 0 else _CLOSERS
    if _glued(tokens, min(edge, out), max(edge, out)):
        if tok.kind in ("word", "other") and tok.value in allowed:
            here, beyond = out, out + step
            while _glued(tokens, min(here, beyond), max(here, beyond)) and (
                    tokens[beyond].kind == "other" and tokens[beyond].value in SEPARATORS):
                here, beyond = beyond, beyond + step  # "110.,1": a run of punctuation
            if _glued(tokens, min(here, beyond), max(here, beyond)) and (tokens[beyond].kind in (
                    ("num",) if step < 0 else ("num", "word")) or (
                    tokens[beyond].kind == "other" and tokens[beyond].value not in SEPARATORS)):
                return f"'{tok.value}' glues the operand to '{tokens[beyond].value}'"
            if step > 0 and tok.value == "." and 0 <= beyond < len(tokens) and (
                    tokens[beyond].value == UNREAD):
                return "unread notation just after the point ('0. <unread>') may continue it"
            if step > 0 and tok.value == "." and 0 <= beyond < len(tokens):
                nxt = beyond + (tokens[beyond].kind == "word"
                                and tokens[beyond].value.lower() not in STOP_WORDS)
                if (nxt < len(tokens) and _is_value(tokens[nxt])) or any(
                        ch.isdigit() for ch in tokens[beyond].value):
                    return "a number just after the point may continue the operand ('110. 1')"
            return None
        if tok.kind == "word" and step > 0 and is_unit_word(tok.value):
            beyond = out + 1  # "5km", "30min"; not "10hours.1"
            if beyond < len(tokens) and ((_glued(tokens, out, beyond) and tokens[beyond].kind not in (
                    "rel", "op", "rp")) or _is_value(tokens[beyond])):
                return f"'{tok.value}' is glued to the operand and followed by "\
                       f"'{tokens[beyond].value}'"
            return None
        if tok.kind in ("word", "other", "num"):
            return f"'{tok.value}' is glued to the operand"
        return None
    if tok.kind == "other":
        if tok.value not in SEPARATORS:
            return f"the character {tok.value!r} next to an operand is not understood"
        beyond = out + step
        if 0 <= beyond < len(tokens) and tokens[beyond].kind == "op" and tok.value in ",;:.":
            return f"an operator '{tokens[beyond].value}' runs into the operand through '{tok.value}'"
        if step < 0 and tok.value == "," and 0 <= beyond and tokens[beyond].kind == "num" and (
                _glued(tokens, beyond, out)) and tokens[edge].kind == "num":
            return "a number split by ', ' ('14, 400'): cannot tell where the operand starts"
        return None
    if tok.kind == "num":
        return "two numbers in a row: cannot tell where the operand starts or ends"
    if tok.kind == "word":
        return _scan(tokens, out, step)
    return None


def guard_run(tokens: Sequence[Token], dropped: Sequence[int], lo: int, hi: int) -> str | None:
    """Why the run ``tokens[lo:hi]`` was not read as written, or None when it was.

    ``dropped`` holds the indices of words inside the run that the extractor drops as labels.
    """
    for i in dropped:
        word = tokens[i].value
        if not _alphabetic(word):
            return f"'{word}' inside the claim is not a word the reader knows"
        if word.lower() == "of":  # "1/3 of Solomon = 66/3": a part of a quantity in prose
            return "'of' inside the claim: a part of a quantity named in prose, not a number"
        problem = _word_problem(word)
        if problem is not None:
            return problem
    if lo >= hi:
        return None
    # a side that is all prose ("Chicken + stuffing = 72 + 24") is not checked: its edge is free
    left = None if tokens[lo].kind == "rel" else _edge(tokens, lo, lo - 1, -1)
    if left is not None:
        return left
    right = None if tokens[hi - 1].kind == "rel" else _edge(tokens, hi - 1, hi, 1)
    if right is not None:
        return right
    return _percent_of_prose(tokens, lo, hi)


def _percent_of_prose(tokens: Sequence[Token], lo: int, hi: int) -> str | None:
    """``48 = 100% + 20% = 120% of the actual number``: the percentages are of a quantity named
    in prose, so an operand that is a plain amount (``48``) cannot be compared with them. (A
    computed percentage, ``(75/100)*100 = 75% of the flowers``, is left to the reader of ``%``
    as a label.)"""
    if not (0 < hi < len(tokens) and tokens[hi - 1].value.endswith("%")
            and tokens[hi].value.lower() == "of"):
        return None
    operand: list[Token] = []
    for tok in [*tokens[lo:hi], None]:
        if tok is None or tok.kind == "rel":
            values = [t for t in operand if t.kind not in ("word", "other")]
            if len(values) == 1 and values[0].kind == "num" and not values[0].value.endswith("%"):
                return (f"'{values[0].value}' is compared with a percentage of a quantity named "
                        "in prose ('% of ...'): not numbers to compare")
            operand = []
        else:
            operand.append(tok)
    return None


def unreadable_next_to(tokens: Sequence[Token], lo: int, hi: int) -> str | None:
    """For a relation one of whose sides is empty: the unread character that emptied it."""
    for i in (lo - 1, hi):
        if 0 <= i < len(tokens) and tokens[i].kind == "other" and tokens[i].value not in SEPARATORS:
            return f"the character {tokens[i].value!r} next to a relation is not understood"
    return None
