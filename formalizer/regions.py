"""Math runs around a relation: where a claim starts and ends, and how it is spelled.

:func:`region` grows the maximal run of math tokens around a relation, skipping a few unit
words between a value and an operator (``5 apples + 3 apples = 8``); :func:`shape` reads the
first relation as a person does (a unit conversion, a label side, a named quantity);
:func:`render` spells a run as the arithmetic parser's text. Every loop is bounded by the
token count.
"""

from __future__ import annotations

from formalizer.tokens import MATH_KINDS, TIMES_WORDS, UNIT_KINDS, Tok, touches

_MAX_UNIT_WORDS = 3
_MAX_GROUP = 80  # tokens scanned for the end of a parenthesis after a run
_NOT_UNITS = frozenset(
    "so is are was were be been then and or but which that because since gives give makes make "
    "made equals equal means mean has have had he she it they we you i there here this these "
    "those for to in on at by with from the total gets get got will would can could spent sold "
    "left remaining altogether now thus hence therefore if when while as than more less fewer "
    "additional extra old remainder remainders rem".split())
# "17 / 5 = 3 remainder 2", "= 3 R 2": a quotient whose remainder follows is no exact division
_REMAINDER_WORDS = frozenset("remainder remainders rem r".split())


def _skip_units(tokens: list[Tok], kinds: list[str], start: int, step: int) -> int | None:
    """Skip a run of a few unit words starting at ``start`` (moving by ``step``).

    Returns the index of the token past the run when the run sits between a value (number or
    ')') and an operator, relation or ')', e.g. ``5 apples + ...``; otherwise None.
    """
    j, count = start, 0
    while 0 <= j < len(tokens) and kinds[j] in UNIT_KINDS and count < _MAX_UNIT_WORDS:
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


def _adjacent_numbers(a: Tok, b: Tok) -> bool:
    """Two values in a row (``= 12 5 minute``) end a math run; ``2(8)`` is a product."""
    if a.kind in ("num", "rp") and b.kind == "num":
        return True
    return a.kind in ("num", "rp") and b.kind == "lp" and not touches(a, b)


def continues_left(tokens: list[Tok], kinds: list[str], lo: int) -> bool:
    """True when an operator stands a few words before the run: ``3 x the height of 12 = 36``
    means the left side goes on through prose, so the run alone would be a wrong claim."""
    if tokens[lo].kind == "op" and tokens[lo].value == "-" and lo > 0 and (
            tokens[lo - 1].kind not in ("rel", "lp")) and not (
            lo + 1 < len(tokens) and touches(tokens[lo], tokens[lo + 1])
            and not touches(tokens[lo - 1], tokens[lo])):
        return True  # "10 cows - 6 drowned = 4": a binary minus whose left side is prose
    if lo > 0 and _adjacent_numbers(tokens[lo - 1], tokens[lo]):
        return True  # "4 (x - 6) = 30" or "(1/2) 18 = 9": the run was cut inside a product
    for j in range(lo - 1, max(lo - 5, -1), -1):
        if kinds[j] == "stop" or tokens[j].kind in ("num", "rel"):
            return False
        if kinds[j] == "unit":
            continue
        if tokens[j].kind == "op" or kinds[j] == "times" or tokens[j].value in TIMES_WORDS:
            return True
    return False


def continues_right(tokens: list[Tok], kinds: list[str], hi: int) -> bool:
    """True when the run ``[..., hi)`` ends on a value and a parenthesis of math follows
    (``S = 49^2 (1 + 2^2 + ...)``, ``= 4 (x - 6)``): the last operand goes on as a product, so
    the run alone would be a wrong claim. A parenthesis with words (``= 12 (5 minutes)``), one
    lone number (an equation label ``(1)``, unless an operator follows it) or no closing bracket
    in reach is no product."""
    if hi <= 0 or hi >= len(tokens) or kinds[hi] == "label" or tokens[hi].kind != "lp" or (
            not _adjacent_numbers(tokens[hi - 1], tokens[hi])):
        return False
    depth, inside = 0, []
    for j in range(hi, min(len(tokens), hi + _MAX_GROUP)):
        depth += (tokens[j].kind == "lp") - (tokens[j].kind == "rp")
        if depth == 0:
            if len(inside) == 1 and j + 1 < len(tokens) and tokens[j + 1].kind == "op":
                return True  # "= 4 (72) + 1": a label never goes on with an operator
            return len(inside) > 1 and not any(
                t.kind == "word" and k in UNIT_KINDS for t, k in inside)
        if j > hi:
            inside.append((tokens[j], kinds[j]))
    return False


def operands(tokens: list[Tok], lo: int, hi: int) -> list[tuple[int, int]]:
    """Index ranges of the operands between the relations of a run."""
    spans, start = [], lo
    for k in range(lo, hi):
        if tokens[k].kind == "rel":
            spans.append((start, k))
            start = k + 1
    spans.append((start, hi))
    return spans


def _lone_number(tokens: list[Tok], kinds: list[str], span: tuple[int, int]) -> bool:
    parts = [i for i in range(*span) if kinds[i] not in UNIT_KINDS]
    return len(parts) == 1 and tokens[parts[0]].kind == "num"


def _unit_after(tokens: list[Tok], kinds: list[str], span: tuple[int, int]) -> str | None:
    """The unit word written after an operand's number (``2.5 years``), if any."""
    end = span[1]
    if end < len(tokens) and kinds[end - 1] in UNIT_KINDS:
        return tokens[end - 1].value.lower()
    if end < len(tokens) and kinds[end] in UNIT_KINDS and tokens[end].kind == "word":
        return tokens[end].value.lower()
    return None


def shape(tokens: list[Tok], kinds: list[str], lo: int, hi: int) -> tuple[int, str | None]:
    """Read the first relation of a run the way a person does: ``2.5 years = 30 months`` is a
    unit conversion (not arithmetic), ``8 batches = 5.5 * 8`` labels the right side, and
    ``section 2 = x + 200`` names a quantity. Returns (new start, error or None)."""
    if tokens[lo].kind == "rel":
        lo += 1
    if _remainder_after(tokens, hi):
        return lo, "a quotient with a remainder ('17 / 5 = 3 remainder 2') is no exact division"
    if _cut_ratio(tokens, kinds, lo, hi):
        return lo, "a ratio ('B : G = 1 : 4') whose left side is cut: the run is only part of it"
    ops = operands(tokens, lo, hi)
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


def _remainder_after(tokens: list[Tok], hi: int) -> bool:
    """The run is followed by a remainder word and a value (``= -12 remainder -5``)."""
    return hi + 1 < len(tokens) and tokens[hi].value.lower() in _REMAINDER_WORDS and (
        tokens[hi + 1].kind == "num" or tokens[hi + 1].value == "-")


def _cut_ratio(tokens: list[Tok], kinds: list[str], lo: int, hi: int) -> bool:
    """``B : G = 1 : 4``, ``B:G = 1:4``, ``the ratio of B to G = 1 : 4``: the right side is a
    ratio (a ``:`` between numbers inside the run or right after it) but the left side is a
    lone name, so the run holds only part of what the text equates (``G = 1/4`` is not said)."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    if not rels:
        return False
    end = rels[1] if len(rels) > 1 else hi  # the operand right of the first relation
    after = end == hi and hi + 1 < len(tokens) and tokens[hi].value == ":" and (
        tokens[hi + 1].kind == "num")
    if not (after or any(kinds[k] == "ratio" for k in range(rels[0], end))):
        return False
    left = [k for k in range(lo, rels[0]) if kinds[k] not in UNIT_KINDS]
    return len(left) == 1 and tokens[left[0]].kind == "word"


def region(tokens: list[Tok], kinds: list[str], r: int) -> tuple[int, int]:
    """Maximal math run [lo, hi) around the relation at ``r``, skipping unit words."""
    lo = r
    while lo - 1 >= 0:
        k = kinds[lo - 1]
        if kinds[lo] != "label" and _adjacent_numbers(tokens[lo - 1], tokens[lo]):
            break
        if k in MATH_KINDS or k == "label":
            lo -= 1
        elif k in UNIT_KINDS and (j := _skip_units(tokens, kinds, lo - 1, -1)) is not None:
            lo = j
        else:
            break
    hi = r + 1
    while hi < len(tokens):
        k = kinds[hi]
        if k != "label" and _adjacent_numbers(tokens[hi - 1], tokens[hi]):
            break
        if k in MATH_KINDS or k == "label":
            hi += 1
        elif k in UNIT_KINDS and (j := _skip_units(tokens, kinds, hi, 1)) is not None:
            hi = j
        else:
            break
    return lo, hi


def render(tokens: list[Tok], kinds: list[str], lo: int, hi: int) -> str:
    """Math text of a run: units dropped, ``x`` and ``:`` spelled as operators, and a tight
    fraction such as ``1/5`` grouped, as a reader groups it (``28 / 1/5`` is 28 ÷ 1/5)."""
    parts: list[str] = []
    i = lo
    while i < hi:
        tok, kind = tokens[i], kinds[i]
        if kind in UNIT_KINDS:
            i += 1
            continue
        if (tok.kind == "num" and i + 2 < hi and tokens[i + 1].value == "/"
                and tokens[i + 2].kind == "num" and touches(tok, tokens[i + 1])
                and touches(tokens[i + 1], tokens[i + 2]) and not tok.value.endswith("%")):
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

