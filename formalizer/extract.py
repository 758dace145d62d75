"""Deterministic claim extraction from one CoT step (no model).

Two sources of claims: calculator annotations ``<<expr=value>>`` and the equations visible in
the prose around them (after the annotations are removed), which are separate claims because
the prose can be wrong while the annotation is right (GSM8K: ``8*3 = <<80*3=240>>240``).
A prose equation is the maximal run of math tokens around a relation symbol; unit words between
a number and an operator (``5 apples + 3 apples = 8``) are skipped, everything else ends the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from formalizer.lexical import guard_run, prepare_prose, unreadable_next_to
from formalizer.normalize import normalize_math
from formalizer.reading import claim_reading
from formalizer.units import UnitsProblem, convert_pair, is_unit_word
from prover.arith.ast import Relation, format_number
from prover.arith.check import check_ground
from prover.arith.parse import NAMED_FUNCTIONS, ArithSyntaxError, TooLargeError, parse_chain

ClaimSource = Literal["annotation", "equation"]

_ANNOTATION = re.compile(r"<<([^<>\n]*)>>")
_PROSE_TOKEN = re.compile(
    r"(?P<word>\d{1,2}:[0-5]\d(?::[0-5]\d)?(?:\s?[ap]\.?m\.?)?(?![\d:(])"
    r"|\d+(?:\.\d+)?-[A-Za-z]{2,}[\w'’]*(?:-[\w'’]+)*"
    r"|[A-Za-z_][A-Za-z_0-9'’]*(?:-[A-Za-z][\w'’]*)*)"
    r"|(?P<num>(?:\d+\.\d+…|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?%?)"
    r"|(?P<rel>~=|<=|>=|!=|==|=|<|>)"
    r"|(?P<op>\*\*|//|[-+*/^]|!(?!=))"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<other>\S)"
)
_TIMES_WORDS = {"x", "X"}
_NEVER_VARS = {"a", "I"}
_SUBSCRIPTED = re.compile(r"[A-Za-z]_[A-Za-z0-9]{1,12}")
_SEGMENT_NAME = re.compile(r"[A-Z]{2,3}")
_GLUED_LETTERS = re.compile(r"(?<![\w.])(\d+)([a-z]{2,3})(?![\w(])")
_GLUED_MIXED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([A-Za-z]{2,})(?![\w(])")
_GLUED_OK = frozenset("st nd rd th am pm".split())
_LONE_LETTER = re.compile(r"(?<![\w\\])([a-z])(?![\w(])")
# a number after one of these words is a label (``from step 6``, ``equation 2``), not a value
_LABEL_WORDS = frozenset(
    "step steps equation equations eq eqn line lines case cases part parts lemma condition "
    "conditions item row column figure problem question rule property option answer".split())
_MAX_UNIT_WORDS = 3
_NOT_UNITS = frozenset(
    "so is are was were be been then and or but which that because since gives give makes make "
    "made equals equal means mean has have had he she it they we you i there here this these "
    "those for to in on at by with from the total gets get got will would can could spent sold "
    "left remaining altogether now thus hence therefore if when while as than more less fewer "
    "additional extra old".split())
MAX_STEP_CHARS = 20_000
MAX_CLAIMS_PER_STEP = 200


@dataclass(frozen=True)
class RawClaim:
    """One claim as found in the text: its source span and the parsed relations, or why not."""

    source: ClaimSource
    text: str
    relations: tuple[Relation, ...] = ()
    error: str | None = None
    too_large: bool = False
    reading: str = ""  # how it was read (formalizer.reading.READINGS); "" means by its source


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str
    start: int
    end: int


def _parse(source: ClaimSource, text: str, functions: frozenset[str] = frozenset()) -> RawClaim:
    try:
        return RawClaim(source, text, tuple(parse_chain(text, functions)))
    except TooLargeError as err:
        return RawClaim(source, text, error=str(err), too_large=True)
    except ArithSyntaxError as err:
        return RawClaim(source, text, error=str(err))


def _tokenize(text: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "other", m.group(), m.start(), m.end())
            for m in _PROSE_TOKEN.finditer(text)]


def _touches(a: _Tok | None, b: _Tok | None) -> bool:
    """True when ``a`` ends exactly where ``b`` starts (no white space between)."""
    return a is not None and b is not None and a.end == b.start


def _is_var(tokens: list[_Tok], i: int, bound: set[str]) -> bool:
    """Is the word at ``i`` a variable? Bound names always are; a single letter is one when it
    stands next to a relation or operator, or against a number (``2x``), unless it reads as a
    unit after a number (``10 m``, ``ml/L``)."""
    tok = tokens[i]
    if tok.value in bound or _SUBSCRIPTED.fullmatch(tok.value):
        return True  # S_14, a_n: a subscript makes a name
    if len(tok.value) != 1 and tok.value != "pi" and not (
            _SEGMENT_NAME.fullmatch(tok.value) and not is_unit_word(tok.value)):
        return False  # one letter, pi, or a segment/point name such as AC or ABC
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if any(t is not None and t.kind == "rel" for t in (prev, nxt)):
        return True
    if tok.value in _NEVER_VARS:
        if nxt is not None and nxt.kind == "op" and nxt.value in "+*/^" and nxt.value:
            return True  # "a + b": an article never stands before an operator
        return _touches(prev, tok) and prev is not None and prev.kind in ("op", "num")
    if prev is not None and prev.kind == "num":
        return _touches(prev, tok)  # "2x" is 2·x; "10 m" is a unit
    if prev is not None and prev.value == "/" and i >= 2 and tokens[i - 2].kind == "word" and (
            _touches(tokens[i - 2], prev) and _touches(prev, tok)):
        return False  # ml/L, m/s: a compound unit
    return any(t is not None and t.kind in ("op", "lp", "rp") for t in (prev, nxt))


def _classify(tokens: list[_Tok], bound: set[str], functions: frozenset[str] = frozenset(),
              text: str = "") -> list[str]:
    """Per token: math, var, times, unit (``/hour``), label, word or stop."""
    kinds: list[str] = []
    n = len(tokens)
    applied: list[bool] = []  # per open parenthesis: is it a function's argument list?
    bars = sum(t.value == "|" for t in tokens)
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok.kind == "lp":
            applied.append(prev is not None and kinds[-1] == "math" and prev.kind == "word"
                           and _touches(prev, tok))
        elif tok.kind == "rp" and applied:
            applied.pop()
        if tok.kind == "num" and prev is not None and prev.value.lower() in _LABEL_WORDS:
            kinds.append("stop")  # "from step 6 - ...": a reference, not the number 6
        elif tok.kind == "op" and tok.value == "-" and _list_dash(text, tok):
            kinds.append("stop")  # a list bullet, not a minus
        elif tok.kind in ("num", "op", "lp", "rp", "rel") or (
                tok.kind == "word" and nxt is not None and nxt.kind == "lp"
                and _touches(tok, nxt) and (tok.value in functions or tok.value == "sqrt"
                                            or tok.value in NAMED_FUNCTIONS)):
            kinds.append("math")
        elif tok.value == "," and applied and applied[-1]:
            kinds.append("math")  # "f(i, j)", "binom(9, 2)": an argument separator
        elif tok.value == "|" and bars >= 2 and bars % 2 == 0:
            kinds.append("math")  # |x - 3|: absolute value
        elif tok.kind == "word":
            if tok.value in _TIMES_WORDS and prev is not None and prev.kind in (
                    "num", "rp", "word") and nxt is not None and nxt.kind in ("num", "lp") and (
                    not _touches(prev, tok)):
                kinds.append("times")  # "8 x 12"; but "3x(1/3)" is 3·x·(1/3)
            elif tok.value == "of" and prev is not None and nxt is not None and nxt.kind in (
                    "num", "lp") and (prev.value.endswith("%") or (
                    prev.kind == "num" and i >= 2 and tokens[i - 2].value == "/")):
                kinds.append("times")  # "20% of 50", "1/3 of 36"
            elif _is_var(tokens, i, bound):
                kinds.append("var")
            else:
                kinds.append("word")
        elif tok.value == ":" and _ratio_colon(tokens, i):
            kinds.append("ratio")
        else:
            kinds.append("stop")
    # a per-unit such as "/hour" or "/lily" is part of the unit, not a division
    for i in range(n - 1):
        if tokens[i].value == "/" and kinds[i + 1] == "word" and _touches(tokens[i], tokens[i + 1]):
            kinds[i] = "unit"
    _mark_labels(tokens, kinds)
    return kinds


def _list_dash(text: str, tok: _Tok) -> bool:
    """A ``-`` that opens a line (after optional spaces) and is followed by a space is a bullet."""
    if not text or tok.end >= len(text) or not text[tok.end].isspace():
        return False
    line_start = text.rfind("\n", max(0, tok.start - 40), tok.start)
    before = text[line_start + 1:tok.start] if line_start >= 0 else (
        text[:tok.start] if tok.start <= 40 else "x")
    return before.strip() == ""


def _mark_labels(tokens: list[_Tok], kinds: list[str]) -> None:
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


_UNIT_KINDS = ("word", "unit", "label")
_MATH_KINDS = ("math", "var", "times", "ratio")


def _ratio_colon(tokens: list[_Tok], i: int) -> bool:
    """``7980 : 420`` (spaced, numbers around) is a division; ``Step 2: 5`` and ``50:40`` are
    not read as one."""
    if i == 0 or i + 1 >= len(tokens):
        return False
    prev, tok, nxt = tokens[i - 1], tokens[i], tokens[i + 1]
    return prev.kind == "num" and nxt.kind == "num" and not (
        _touches(prev, tok) or _touches(tok, nxt))


def _skip_units(tokens: list[_Tok], kinds: list[str], start: int, step: int) -> int | None:
    """Skip a run of a few unit words starting at ``start`` (moving by ``step``).

    Returns the index of the token past the run when the run sits between a value (number or
    ')') and an operator, relation or ')', e.g. ``5 apples + ...``; otherwise None.
    """
    j, count = start, 0
    while 0 <= j < len(tokens) and kinds[j] in _UNIT_KINDS and count < _MAX_UNIT_WORDS:
        if tokens[j].value.lower() in _NOT_UNITS:
            return None
        j += step
        count += 1
    if not 0 <= j < len(tokens):
        return None
    b, a = (j, start + 1) if step < 0 else (start - 1, j)
    if tokens[b].kind in ("num", "rp") and (
            tokens[a].kind in ("op", "rel", "rp") or kinds[a] in ("times", "ratio")):
        return j
    return None


def _adjacent_numbers(a: _Tok, b: _Tok) -> bool:
    """Two values in a row (``= 12 5 minute``) end a math run; ``2(8)`` is a product."""
    if a.kind in ("num", "rp") and b.kind == "num":
        return True
    return a.kind in ("num", "rp") and b.kind == "lp" and not _touches(a, b)


def _continues_left(tokens: list[_Tok], kinds: list[str], lo: int) -> bool:
    """True when an operator stands a few words before the run: ``3 x the height of 12 = 36``
    means the left side goes on through prose, so the run alone would be a wrong claim."""
    if tokens[lo].kind == "op" and tokens[lo].value == "-" and lo > 0 and (
            tokens[lo - 1].kind not in ("rel", "lp")) and not (
            lo + 1 < len(tokens) and _touches(tokens[lo], tokens[lo + 1])
            and not _touches(tokens[lo - 1], tokens[lo])):
        return True  # "10 cows - 6 drowned = 4": a binary minus whose left side is prose
    if lo > 0 and _adjacent_numbers(tokens[lo - 1], tokens[lo]):
        return True  # "4 (x - 6) = 30" or "(1/2) 18 = 9": the run was cut inside a product
    for j in range(lo - 1, max(lo - 5, -1), -1):
        if kinds[j] == "stop" or tokens[j].kind in ("num", "rel"):
            return False
        if kinds[j] == "unit":
            continue
        if tokens[j].kind == "op" or kinds[j] == "times" or tokens[j].value in _TIMES_WORDS:
            return True
    return False


def _operands(tokens: list[_Tok], lo: int, hi: int) -> list[tuple[int, int]]:
    """Index ranges of the operands between the relations of a run."""
    spans, start = [], lo
    for k in range(lo, hi):
        if tokens[k].kind == "rel":
            spans.append((start, k))
            start = k + 1
    spans.append((start, hi))
    return spans


def _lone_number(tokens: list[_Tok], kinds: list[str], span: tuple[int, int]) -> bool:
    parts = [i for i in range(*span) if kinds[i] not in _UNIT_KINDS]
    return len(parts) == 1 and tokens[parts[0]].kind == "num"


def _unit_after(tokens: list[_Tok], kinds: list[str], span: tuple[int, int]) -> str | None:
    """The unit word written after an operand's number (``2.5 years``), if any."""
    end = span[1]
    if end < len(tokens) and kinds[end - 1] in _UNIT_KINDS:
        return tokens[end - 1].value.lower()
    if end < len(tokens) and kinds[end] in _UNIT_KINDS and tokens[end].kind == "word":
        return tokens[end].value.lower()
    return None


def _shape(tokens: list[_Tok], kinds: list[str], lo: int, hi: int) -> tuple[int, str | None]:
    """Read the first relation of a run the way a person does: ``2.5 years = 30 months`` is a
    unit conversion (not arithmetic), ``8 batches = 5.5 * 8`` labels the right side, and
    ``section 2 = x + 200`` names a quantity. Returns (new start, error or None)."""
    if tokens[lo].kind == "rel":
        lo += 1
    ops = _operands(tokens, lo, hi)
    if len(ops) < 2 or not _lone_number(tokens, kinds, ops[0]):
        return lo, None
    first, second = ops[0], ops[1]
    unit1, unit2 = _unit_after(tokens, kinds, first), _unit_after(tokens, kinds, second)
    if unit1 is not None:
        if _lone_number(tokens, kinds, second):
            if unit2 is not None and unit1.rstrip("s") != unit2.rstrip("s"):
                return lo, f"unit conversion ({unit1} -> {unit2})"
            return lo, None
        return second[0], None  # "8 batches = 5.5 * 8": the left side is a label
    if first[0] > 0 and kinds[first[0] - 1] == "word" and any(
            kinds[i] == "var" for i in range(*second)):
        return lo, f"'{tokens[first[0] - 1].value} {tokens[first[0]].value}' names a quantity"
    return lo, None


def _region(tokens: list[_Tok], kinds: list[str], r: int) -> tuple[int, int]:
    """Maximal math run [lo, hi) around the relation at ``r``, skipping unit words."""
    lo = r
    while lo - 1 >= 0:
        k = kinds[lo - 1]
        if kinds[lo] != "label" and _adjacent_numbers(tokens[lo - 1], tokens[lo]):
            break
        if k in _MATH_KINDS or k == "label":
            lo -= 1
        elif k in _UNIT_KINDS and (j := _skip_units(tokens, kinds, lo - 1, -1)) is not None:
            lo = j
        else:
            break
    hi = r + 1
    while hi < len(tokens):
        k = kinds[hi]
        if k != "label" and _adjacent_numbers(tokens[hi - 1], tokens[hi]):
            break
        if k in _MATH_KINDS or k == "label":
            hi += 1
        elif k in _UNIT_KINDS and (j := _skip_units(tokens, kinds, hi, 1)) is not None:
            hi = j
        else:
            break
    return lo, hi


def _render(tokens: list[_Tok], kinds: list[str], lo: int, hi: int) -> str:
    """Math text of a run: units dropped, ``x`` and ``:`` spelled as operators, and a tight
    fraction such as ``1/5`` grouped, as a reader groups it (``28 / 1/5`` is 28 ÷ 1/5)."""
    parts: list[str] = []
    i = lo
    while i < hi:
        tok, kind = tokens[i], kinds[i]
        if kind in _UNIT_KINDS:
            i += 1
            continue
        if (tok.kind == "num" and i + 2 < hi and tokens[i + 1].value == "/"
                and tokens[i + 2].kind == "num" and _touches(tok, tokens[i + 1])
                and _touches(tokens[i + 1], tokens[i + 2]) and not tok.value.endswith("%")):
            parts.append(f"({tok.value}/{tokens[i + 2].value})")
            i += 3
            continue
        parts.append({"times": "*", "ratio": "/"}.get(kind, tok.value))
        i += 1
    return _trim_parens(" ".join(parts))


def _trim_parens(text: str) -> str:
    """Drop unmatched parentheses at the ends of a span (``(so 48/2 = 24)`` -> ``48/2 = 24``)."""
    text = text.strip()
    for _ in range(64):
        opens, closes = text.count("("), text.count(")")
        if closes > opens and text.endswith(")"):
            text = text[:-1].rstrip()
        elif opens > closes and text.startswith("("):
            text = text[1:].lstrip()
        else:
            break
    return text


_BINARY_EDGE = re.compile(r"^\s*(?:\*\*|//|[*/^+])|(?:\*\*|//|[-*/^+])\s*$")
_EMPTY_SIDE = re.compile(r"^\s*(?:~=|<=|>=|!=|==|=|<|>)+|(?:~=|<=|>=|!=|==|=|<|>)+\s*$")
_REL_IN = re.compile(r"~=|<=|>=|!=|==|=|<|>")


def _holds(link: str) -> bool:
    """True when ``link`` parses and holds as ground arithmetic (False when unknown)."""
    parsed = _parse("equation", link)
    if parsed.error is not None or len(parsed.relations) != 1:
        return False
    verdict = check_ground(parsed.relations[0])
    return verdict is not None and verdict.is_verified


def _lexical_reading(text: str, tokens: list[_Tok], kinds: list[str], lo: int, hi: int,
                     span: str) -> RawClaim | None:
    """The run as :mod:`formalizer.lexical` and :mod:`formalizer.units` read it: an unknown
    claim when something in or next to it was not understood, the links converted with the
    units registry when two different units meet, or None (the run is read as before)."""
    if not _REL_IN.search(span):
        problem = unreadable_next_to(tokens, lo, hi)
        return None if problem is None else RawClaim("equation", span or text[
            tokens[max(lo - 1, 0)].start:tokens[min(hi, len(tokens) - 1)].end], error=problem)
    dropped = [i for i in range(lo, hi) if kinds[i] in ("word", "label")
               and tokens[i].kind == "word"]
    problem = guard_run(tokens, dropped, lo, hi)
    if problem is None and any(kinds[i] == "label" and tokens[i].kind == "lp" and (
            tokens[i - 1].end == tokens[i].start) for i in range(max(lo, 1), hi)):
        problem = "a value times a quantity named in words ('3(number of trucks)')"
    if problem is not None:
        return RawClaim("equation", span, error=problem)
    if not any(tokens[k].kind == "word" and is_unit_word(tokens[k].value)
               for k in range(lo, min(hi + 1, len(tokens)))):
        return None  # no unit of the registry: the numbers are compared as before
    lo += tokens[lo].kind == "rel"  # "Lena = 3.5 hours = 210 minutes": the prose side is a label
    hi -= tokens[hi - 1].kind == "rel"
    spans = [(a, b) for a, b in _operands(tokens, lo, hi) if a < b]
    if len(spans) < 2 or len(spans) != sum(tokens[k].kind == "rel" for k in range(lo, hi)) + 1:
        return None
    raw = [text[tokens[a].start:tokens[b - 1].end] for a, b in spans]
    if hi < len(tokens) and tokens[hi].kind == "word" and is_unit_word(tokens[hi].value):
        j = hi + 1  # "= 75 minutes", "= 60 minutes/day": the unit after the run
        while j + 1 < len(tokens) and tokens[j].value.lower() in ("/", "per") and (
                tokens[j + 1].kind == "word"):
            j += 2
        raw[-1] += " " + text[tokens[hi].start:tokens[j - 1].end]
    rendered = [_render(tokens, kinds, a, b) for a, b in spans]
    links, converted = [], False
    for k in range(len(spans) - 1):
        op = tokens[spans[k][1]].value
        pair = convert_pair(raw[k], raw[k + 1])
        if isinstance(pair, UnitsProblem):
            return RawClaim("equation", span, error=pair.reason)
        left, right = rendered[k], rendered[k + 1]
        if pair is not None and pair.fallback and _holds(f"{left} {op} {right}"):
            pair = None  # "16 + 12 = 28 million": the counting word is a label
        converted |= pair is not None
        if pair is not None:  # both sides in one unit, with the registry's factors
            left, right = (f"({side}) * ({format_number(f, exact=True)})" if f != 1 else side
                           for side, f in ((left, pair.left), (right, pair.right)))
        links.append(f"{left} {op} {right}")
    if not converted:
        return None
    relations: list[Relation] = []
    for link in links:
        parsed = _parse("equation", link)
        if parsed.error is not None:
            return RawClaim("equation", span, error=parsed.error, too_large=parsed.too_large)
        relations.extend(parsed.relations)
    return RawClaim("equation", span, tuple(relations))


def _far_end_prose(tokens: list[_Tok], kinds: list[str], lo: int, hi: int,
                   functions: frozenset[str]) -> RawClaim | None:
    """``3/4 of a skein * 364 yards = 364 / 4 = 273``: the first operand runs on through prose,
    but the links between complete expressions after it are claims as written."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    if len(rels) < 2:
        return None
    rest = _EMPTY_SIDE.sub("", _render(tokens, kinds, rels[0] + 1, hi)).strip()
    if not _REL_IN.search(rest) or _BINARY_EDGE.search(rest):
        return None
    return _parse("equation", rest, functions)


_COMBINATORICS = re.compile(r"\b(?:choose|combinations?|binom)", re.IGNORECASE)
_C_OF_PAIR = re.compile(r"(?<![A-Za-z_])C\((?=\s*\d+\s*,\s*\d+\s*\))")


def _glued_products(text: str) -> str:
    """``2ab - a = -3``: letters glued to a number are a product of variables when each of
    them stands alone elsewhere in the step as a variable (else they may be a unit: ``5kg``)."""
    if not _GLUED_MIXED.search(text):
        return text
    lone = set(_LONE_LETTER.findall(text)) - {"a"} | (
        {"a"} if re.search(r"(?<![\w])a\s*[-+*/^=)]|[-+*/^=(]\s*a(?![\w])", text) else set())

    def split(m: re.Match[str]) -> str:
        letters = m.group(2)
        if is_unit_word(letters) or not set(letters) <= lone:
            return m.group(0)
        return m.group(1) + "*" + "*".join(letters)

    def unread(m: re.Match[str]) -> str:
        # "0.2xA": letters glued to a number that are no unit and no variables we know
        word = m.group(2)
        if is_unit_word(word) or word.lower() in _GLUED_OK:
            return m.group(0)
        return m.group(1) + " \ufffd "

    return _GLUED_MIXED.sub(unread, _GLUED_LETTERS.sub(split, text))


def prose_claims(visible: str, bound: set[str],
                 functions: frozenset[str] = frozenset()) -> list[RawClaim]:
    """Equations and comparisons in prose (annotations already removed); ``functions`` are the
    letters the solution applies as functions (:func:`formalizer.reading.function_names`)."""
    text = prepare_prose(visible)  # normalized, unread notation marked, operator words read
    if not any(c in text for c in "=<>"):
        return []
    if "C(" in text and _COMBINATORICS.search(visible):
        text = _C_OF_PAIR.sub("binom(", text)  # C(9, 2) where the step counts combinations
    text = _glued_products(text)
    tokens = _tokenize(text)
    kinds = _classify(tokens, bound, functions, text)
    claims: list[RawClaim] = []
    r = 0
    while r < len(tokens):
        if tokens[r].kind != "rel":
            r += 1
            continue
        lo, hi = _region(tokens, kinds, r)
        before = len(claims)
        span = _EMPTY_SIDE.sub("", _render(tokens, kinds, lo, hi)).strip()
        lexical = _lexical_reading(text, tokens, kinds, lo, hi, span)
        if lexical is not None:
            claims.append(lexical)  # not read as written, or a quantity with units
        elif not _REL_IN.search(span):
            pass  # one side is all prose ("the total = 5"): nothing to check
        elif _BINARY_EDGE.search(span) or (tokens[lo].kind != "rel"
                                           and _continues_left(tokens, kinds, lo)):
            # the math runs on through words we cannot read: report, never guess a side
            claims.append(RawClaim("equation", span, error="an operand is prose, not math"))
            tail = _far_end_prose(tokens, kinds, lo, hi, functions)
            if tail is not None:
                claims.append(tail)
        else:
            start, problem = _shape(tokens, kinds, lo, hi)
            if problem is not None:
                claims.append(RawClaim("equation", span, error=problem))
            elif start != lo:
                rest = _EMPTY_SIDE.sub("", _render(tokens, kinds, start, hi)).strip()
                if _REL_IN.search(rest):
                    claims.append(_parse("equation", rest, functions))
            else:
                claims.append(_parse("equation", span, functions))
        if len(claims) > before and lo < hi:
            reading = claim_reading(text, tokens[lo].start, tokens[hi - 1].end)
            claims[before:] = [replace(c, reading=reading) for c in claims[before:]]
        r = max(hi, r + 1)
        if len(claims) >= MAX_CLAIMS_PER_STEP:
            break
    return claims


def extract_claims(step: str, bound: set[str] | None = None,
                   functions: frozenset[str] = frozenset()) -> list[RawClaim]:
    """All claims of one step, annotations first in order of appearance, then prose equations.

    ``bound`` holds names defined by earlier steps (so multi-letter names are read as variables);
    ``functions`` the letters applied as functions (``f(x)`` is then never a product). Each claim
    carries its reading (:mod:`formalizer.reading`). A step longer than :data:`MAX_STEP_CHARS`
    yields one too-large claim instead of being scanned.
    """
    if len(step) > MAX_STEP_CHARS:
        return [RawClaim("equation", step[:80] + "…", error="step too long to scan",
                         too_large=True)]
    bound = bound or set()
    claims = [_parse("annotation", normalize_math(m.group(1)))
              for m in _ANNOTATION.finditer(step)][:MAX_CLAIMS_PER_STEP]
    visible = _ANNOTATION.sub(" ", step) if claims else step
    return claims + prose_claims(visible, bound, functions)
