"""Deterministic claim extraction from one CoT step (no model).

Two sources of claims: calculator annotations ``<<expr=value>>`` and the equations visible in
the prose around them (after the annotations are removed), which are separate claims because
the prose can be wrong while the annotation is right (GSM8K: ``8*3 = <<80*3=240>>240``).
A prose equation is the maximal run of math tokens around a relation symbol; unit words between
a number and an operator (``5 apples + 3 apples = 8``) are skipped, everything else ends the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from formalizer.normalize import normalize_math
from prover.arith.ast import Relation
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain

ClaimSource = Literal["annotation", "equation"]

_ANNOTATION = re.compile(r"<<([^<>\n]*)>>")
_PROSE_TOKEN = re.compile(
    r"(?P<word>\d{1,2}:[0-5]\d(?::[0-5]\d)?(?:\s?[ap]\.?m\.?)?(?![\d:(])"
    r"|\d+(?:\.\d+)?-[A-Za-z]{2,}[\w'’]*(?:-[\w'’]+)*"
    r"|[A-Za-z_][A-Za-z_0-9'’]*(?:-[A-Za-z][\w'’]*)*)"
    r"|(?P<num>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?%?)"
    r"|(?P<rel>~=|<=|>=|!=|==|=|<|>)"
    r"|(?P<op>\*\*|//|[-+*/^])"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<other>\S)"
)
_TIMES_WORDS = {"x", "X"}
_NEVER_VARS = {"a", "I"}
_MAX_UNIT_WORDS = 3
_NOT_UNITS = frozenset(
    "so is are was were be been then and or but which that because since gives give makes make "
    "made equals equal means mean has have had he she it they we you i there here this these "
    "those for to in on at by with from the total gets get got will would can could spent sold "
    "left remaining altogether now thus hence therefore if when while as than".split())
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


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str
    start: int
    end: int


def _parse(source: ClaimSource, text: str) -> RawClaim:
    try:
        return RawClaim(source, text, tuple(parse_chain(text)))
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
    if tok.value in bound:
        return True
    if len(tok.value) != 1:
        return False
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if any(t is not None and t.kind == "rel" for t in (prev, nxt)):
        return True
    if tok.value in _NEVER_VARS:
        return _touches(prev, tok) and prev is not None and prev.kind in ("op", "num")
    if prev is not None and prev.kind == "num":
        return _touches(prev, tok)  # "2x" is 2·x; "10 m" is a unit
    if prev is not None and prev.value == "/" and i >= 2 and tokens[i - 2].kind == "word" and (
            _touches(tokens[i - 2], prev) and _touches(prev, tok)):
        return False  # ml/L, m/s: a compound unit
    return any(t is not None and t.kind in ("op", "lp", "rp") for t in (prev, nxt))


def _classify(tokens: list[_Tok], bound: set[str]) -> list[str]:
    """Per token: math, var, times, unit (``/hour``), word or stop."""
    kinds: list[str] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok.kind in ("num", "op", "lp", "rp", "rel") or (
                tok.value == "sqrt" and nxt is not None and nxt.kind == "lp"):
            kinds.append("math")
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
    return kinds


_UNIT_KINDS = ("word", "unit")
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
            tokens[lo - 1].kind not in ("rel", "lp")):
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
        if _adjacent_numbers(tokens[lo - 1], tokens[lo]):
            break
        if k in _MATH_KINDS:
            lo -= 1
        elif k in _UNIT_KINDS and (j := _skip_units(tokens, kinds, lo - 1, -1)) is not None:
            lo = j
        else:
            break
    hi = r + 1
    while hi < len(tokens):
        k = kinds[hi]
        if _adjacent_numbers(tokens[hi - 1], tokens[hi]):
            break
        if k in _MATH_KINDS:
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


def prose_claims(visible: str, bound: set[str]) -> list[RawClaim]:
    """Equations and comparisons in prose (annotations already removed)."""
    text = normalize_math(visible)
    if not any(c in text for c in "=<>"):
        return []
    tokens = _tokenize(text)
    kinds = _classify(tokens, bound)
    claims: list[RawClaim] = []
    r = 0
    while r < len(tokens):
        if tokens[r].kind != "rel":
            r += 1
            continue
        lo, hi = _region(tokens, kinds, r)
        span = _EMPTY_SIDE.sub("", _render(tokens, kinds, lo, hi)).strip()
        if not _REL_IN.search(span):
            pass  # one side is all prose ("the total = 5"): nothing to check
        elif _BINARY_EDGE.search(span) or (tokens[lo].kind != "rel"
                                           and _continues_left(tokens, kinds, lo)):
            # the math runs on through words we cannot read: report, never guess a side
            claims.append(RawClaim("equation", span, error="an operand is prose, not math"))
        else:
            start, problem = _shape(tokens, kinds, lo, hi)
            if problem is not None:
                claims.append(RawClaim("equation", span, error=problem))
            elif start != lo:
                rest = _EMPTY_SIDE.sub("", _render(tokens, kinds, start, hi)).strip()
                if _REL_IN.search(rest):
                    claims.append(_parse("equation", rest))
            else:
                claims.append(_parse("equation", span))
        r = max(hi, r + 1)
        if len(claims) >= MAX_CLAIMS_PER_STEP:
            break
    return claims


def extract_claims(step: str, bound: set[str] | None = None) -> list[RawClaim]:
    """All claims of one step, annotations first in order of appearance, then prose equations.

    ``bound`` holds names defined by earlier steps (so multi-letter names are read as variables).
    A step longer than :data:`MAX_STEP_CHARS` yields one too-large claim instead of being scanned.
    """
    if len(step) > MAX_STEP_CHARS:
        return [RawClaim("equation", step[:80] + "…", error="step too long to scan",
                         too_large=True)]
    bound = bound or set()
    claims = [_parse("annotation", normalize_math(m.group(1)))
              for m in _ANNOTATION.finditer(step)][:MAX_CLAIMS_PER_STEP]
    visible = _ANNOTATION.sub(" ", step) if claims else step
    return claims + prose_claims(visible, bound)
