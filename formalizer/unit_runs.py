"""The units reading of a math run (:func:`lexical_reading`): what :mod:`formalizer.lexical`
found unread in or next to the run, and its links stated in one unit through the registry of
:mod:`formalizer.units` where two different units meet.
"""

from __future__ import annotations

import re

from formalizer.claims import REL_IN, RawClaim, links_claim
from formalizer.lexical import guard_run, unreadable_next_to
from formalizer.operands import fails, ground_kind, holds
from formalizer.regions import operands, render
from formalizer.tokens import Tok
from formalizer.units import Conversion, UnitsProblem, convert_pair, is_unit_word, lone_quantity
from prover.arith.ast import format_number

_UNIT_WORD = re.compile(r"[A-Za-z¢]+")
# a step about a scale: a map, a drawing, a model ("1 inch represents 50 miles")
_SCALE_WORDS = re.compile(r"\b(?:scale|maps?|represents?|drawings?|blueprints?|models?)\b",
                          re.IGNORECASE)


def _unit_then_plain(left: str, right: str) -> bool:
    """The left side of a link names a unit of the registry and the right side none."""
    def united(side: str) -> bool:
        return any(is_unit_word(w) for w in _UNIT_WORD.findall(side))
    return united(left) and not united(right)


def _scale_correspondence(raw: list[str], sides: tuple[str, str], op: str,
                          pair: Conversion) -> bool:
    """``raw`` (two lone quantities in different units: ``1 inch``, ``50 miles``) may state a
    scale: the link is ``=`` and the right side, in one unit with the left through the
    registry's factors, is larger than the left (what a map or model stands for is larger
    than the drawing). False when either side is not a lone quantity or does not evaluate."""
    if op != "=" or not (lone_quantity(raw[0]) and lone_quantity(raw[1])):
        return False
    return ground_kind(f"({sides[0]}) * ({format_number(pair.left, exact=True)}) < "
                        f"({sides[1]}) * ({format_number(pair.right, exact=True)})") == "verified"


def lexical_reading(text: str, tokens: list[Tok], kinds: list[str], lo: int, hi: int,
                     span: str) -> list[RawClaim] | None:
    """The run as :mod:`formalizer.lexical` and :mod:`formalizer.units` read it: an unknown
    claim when something in or next to it was not understood, the links converted with the
    units registry when two different units meet, or None (the run is read as before). A chain
    whose last link sets a quantity in a unit against a bare number followed by a word the
    registry does not read (``4 * 50 = 200 cm = 2 m``: ``m`` is never read as a unit) yields
    its other links as a claim and that link as an unknown one."""
    if not REL_IN.search(span):
        problem = unreadable_next_to(tokens, lo, hi)
        return None if problem is None else [RawClaim("equation", span or text[
            tokens[max(lo - 1, 0)].start:tokens[min(hi, len(tokens) - 1)].end], error=problem)]
    dropped = [i for i in range(lo, hi) if kinds[i] in ("word", "label")
               and tokens[i].kind == "word"]
    problem = guard_run(tokens, dropped, lo, hi)
    if problem is None and any(kinds[i] == "label" and tokens[i].kind == "lp" and (
            tokens[i - 1].end == tokens[i].start) for i in range(max(lo, 1), hi)):
        problem = "a value times a quantity named in words ('3(number of trucks)')"
    if problem is not None:
        return [RawClaim("equation", span, error=problem)]
    if not any(tokens[k].kind == "word" and is_unit_word(tokens[k].value)
               for k in range(lo, min(hi + 1, len(tokens)))):
        return None  # no unit of the registry: the numbers are compared as before
    lo += tokens[lo].kind == "rel"  # "Lena = 3.5 hours = 210 minutes": the prose side is a label
    hi -= tokens[hi - 1].kind == "rel"
    spans = [(a, b) for a, b in operands(tokens, lo, hi) if a < b]
    if len(spans) < 2 or len(spans) != sum(tokens[k].kind == "rel" for k in range(lo, hi)) + 1:
        return None
    raw = [text[tokens[a].start:tokens[b - 1].end] for a, b in spans]
    if hi < len(tokens) and tokens[hi].kind == "word" and is_unit_word(tokens[hi].value):
        j = hi + 1  # "= 75 minutes", "= 60 minutes/day": the unit after the run
        while j + 1 < len(tokens) and tokens[j].value.lower() in ("/", "per") and (
                tokens[j + 1].kind == "word"):
            j += 2
        raw[-1] += " " + text[tokens[hi].start:tokens[j - 1].end]
    rendered = [render(tokens, kinds, a, b) for a, b in spans]
    links, converted = [], False
    for k in range(len(spans) - 1):
        op = tokens[spans[k][1]].value
        pair = convert_pair(raw[k], raw[k + 1])
        if isinstance(pair, UnitsProblem):
            return [RawClaim("equation", span, error=pair.reason)]
        left, right = rendered[k], rendered[k + 1]
        unstated = pair is None and _unit_then_plain(raw[k], raw[k + 1]) and fails(
            f"{left} {op} {right}")
        if unstated and len(raw) == 2:
            # "2 weeks = 14" (days), "2 dozen + 4 = 28": one link, a side with units, then a
            # bare number whose unit is not stated; compared as labels the link fails, but the
            # number may be in another unit or a count, so it is not read as an error
            return [RawClaim("equation", span, error=(
                f"'{raw[k].strip()}' carries a unit and '{raw[k + 1].strip()}' none: the "
                "number may be in another unit or a count, not compared"))]
        if unstated and k == len(spans) - 2 and hi < len(tokens) and tokens[hi].kind == "word":
            # "4 * 50 = 200 cm = 2 m": the last number is labelled by a word the registry does
            # not read as a unit; the links before it are read as written
            labelled = f"{raw[k].strip()} = {raw[k + 1].strip()} {tokens[hi].value}"
            return [links_claim(links, span), RawClaim("equation", span, error=(
                f"'{labelled}': the last number is labelled by a word that is not read as a "
                "unit; the two quantities are not compared"))]
        if isinstance(pair, Conversion) and len(raw) == 2 and _SCALE_WORDS.search(text) and (
                _scale_correspondence(raw, (left, right), op, pair)):
            # "On the map, 1 inch = 50 miles": in a step about a scale, two lone quantities
            # whose right side exceeds the left side converted state the scale, not a
            # conversion ("3 feet = 30 inches" on a map is still a refuted conversion)
            return [RawClaim("equation", span, error=(
                f"'{raw[0].strip()} = {raw[1].strip()}' in a step about a scale: a scale "
                "correspondence, not a unit conversion; not compared"))]
        if pair is not None and pair.fallback and holds(f"{left} {op} {right}"):
            pair = None  # "16 + 12 = 28 million": the counting word is a label
        converted |= pair is not None
        if pair is not None:  # both sides in one unit, with the registry's factors
            left, right = (f"({side}) * ({format_number(f, exact=True)})" if f != 1 else side
                           for side, f in ((left, pair.left), (right, pair.right)))
        links.append(f"{left} {op} {right}")
    if not converted:
        return None
    return [links_claim(links, span)]
