"""Deterministic claim extraction from one CoT step (no model).

Two sources of claims: calculator annotations ``<<expr=value>>`` and the equations visible in
the prose around them (after the annotations are removed), which are separate claims because
the prose can be wrong while the annotation is right (GSM8K: ``8*3 = <<80*3=240>>240``).
A prose equation is the maximal run of math tokens around a relation symbol; unit words between
a number and an operator (``5 apples + 3 apples = 8``) are skipped, everything else ends the run.
The pieces: :mod:`formalizer.tokens` (tokens and their roles), :mod:`formalizer.regions` (math
runs and their spelling), :mod:`formalizer.lexical` (what around a run was understood),
:mod:`formalizer.plus_minus` (``±``), :mod:`formalizer.operands` (running totals, an operand
that prose makes other than the value compared) and :mod:`formalizer.reading` (asserted or
supposed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from formalizer.latex import GREEK_NAMES
from formalizer.lexical import (
    guard_run,
    prepare_prose,
    unreadable_next_to,
)
from formalizer.normalize import normalize_math
from formalizer.operands import (
    fails,
    ground_fails,
    ground_kind,
    holds,
    prose_argument,
    running_total,
)
from formalizer.plus_minus import SIGNS, read_plus_minus
from formalizer.reading import claim_reading, conditional, sentence_ends
from formalizer.regions import continues_left, continues_right, operands, region, render, shape
from formalizer.tokens import Tok, classify, tokenize
from formalizer.units import Conversion, UnitsProblem, convert_pair, is_unit_word, lone_quantity
from prover.arith.ast import Relation, format_number, variables
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain

ClaimSource = Literal["annotation", "equation"]

_ANNOTATION = re.compile(r"<<([^<>\n]*)>>")
# the look-behind guarding a number's start follows its first digit (``\d(?<![\w.]\d)`` is
# ``(?<![\w.])\d``): the scan then skips from digit to digit
_GLUED_LETTERS = re.compile(r"(\d(?<![\w.]\d)\d*)([a-z]{2,3})(?![\w(])")
_GLUED_MIXED = re.compile(r"(\d(?<![\w.]\d)\d*(?:\.\d+)?)([A-Za-z]{2,})(?![\w(])")
_GLUED_OK = frozenset("st nd rd th am pm".split())
_GLUED_INLINE = re.compile(r"(\d)(\\\(|\$(?=[A-Za-z\\]))")
_LONE_LETTER = re.compile(r"(?<![\w\\])([a-z])(?![\w(])")
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
    # the sentence of the step it stands in (-1: an annotation) and whether it is said under a
    # supposition (formalizer.reading.conditional): its bindings then end with that sentence
    sentence: int = -1
    conditional: bool = False


def _parse(source: ClaimSource, text: str, functions: frozenset[str] = frozenset()) -> RawClaim:
    try:
        return RawClaim(source, text, tuple(parse_chain(text, functions)))
    except TooLargeError as err:
        return RawClaim(source, text, error=str(err), too_large=True)
    except ArithSyntaxError as err:
        return RawClaim(source, text, error=str(err))


_BINARY_EDGE = re.compile(r"^\s*(?:\*\*|//|[*/^+])|(?:\*\*|//|[-*/^+])\s*$")
_EMPTY_SIDE = re.compile(r"^\s*(?:~=|<=|>=|!=|==|=|<|>)+|(?:~=|<=|>=|!=|==|=|<|>)+\s*$")
_REL_IN = re.compile(r"~=|<=|>=|!=|==|=|<|>")


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


def _lexical_reading(text: str, tokens: list[Tok], kinds: list[str], lo: int, hi: int,
                     span: str) -> list[RawClaim] | None:
    """The run as :mod:`formalizer.lexical` and :mod:`formalizer.units` read it: an unknown
    claim when something in or next to it was not understood, the links converted with the
    units registry when two different units meet, or None (the run is read as before). A chain
    whose last link sets a quantity in a unit against a bare number followed by a word the
    registry does not read (``4 * 50 = 200 cm = 2 m``: ``m`` is never read as a unit) yields
    its other links as a claim and that link as an unknown one."""
    if not _REL_IN.search(span):
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
            return [_links_claim(links, span), RawClaim("equation", span, error=(
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
    return [_links_claim(links, span)]


def _links_claim(links: list[str], span: str) -> RawClaim:
    """One claim spelled ``span`` of the ``links`` (each ``left op right``, as read), or an
    error claim for the first link that does not parse."""
    relations: list[Relation] = []
    for link in links:
        parsed = _parse("equation", link)
        if parsed.error is not None:
            return RawClaim("equation", span, error=parsed.error, too_large=parsed.too_large)
        relations.extend(parsed.relations)
    return RawClaim("equation", span, tuple(relations))


# after a closing "!": the sentence ends (end of text, a new sentence, a line break)
_SENTENCE_AFTER = re.compile(r"[ \t]*(?:$|\n|\s+[A-Z\"'(])")


def _exclamation(text: str, tokens: list[Tok], hi: int) -> bool:
    """The run ends in a ``!`` that may close the sentence (``So 2 + 2 = 4! Now ...``) rather
    than write a factorial: it ends the text, its line, or comes before a new sentence."""
    last = tokens[hi - 1]
    return last.value == "!" and _SENTENCE_AFTER.match(text, last.end) is not None


def _bang_read(claim: RawClaim) -> RawClaim:
    """``claim`` whose last ``!`` may be an exclamation mark: kept when no link fails with the
    factorial (``6 * 5! = 6!``) or every failing link fails without it too (``2 + 2 = 5!``);
    else (``2 + 2 = 4!``, or a link in unknowns such as ``n = 4!``) an unknown claim, never a
    refutation or a binding of the factorial's value."""
    if not claim.relations or not claim.text.rstrip().endswith("!"):
        return claim
    failing = [ground_fails(rel) for rel in claim.relations]
    if not any(failing) and None not in failing:
        return claim
    plain = _parse(claim.source, claim.text.rstrip()[:-1])
    if None not in failing and plain.error is None and len(plain.relations) == len(failing) and all(
            ground_fails(rel) for rel, failed in zip(plain.relations, failing, strict=True)
            if failed):
        return claim
    return RawClaim(claim.source, claim.text, error=(
        "the last '!' may end the sentence (an exclamation mark) or be a factorial: "
        "the two readings differ, not compared"))


def _running_totals(claims: list[RawClaim]) -> list[RawClaim]:
    """``claims`` with the running-total links of a chain (every link but the chain's last that
    :func:`formalizer.operands.running_total` accepts) moved to an unknown claim of their own:
    the links before and after them (``4 * 5`` against ``20``... and ``20 + 10 = 30``) are
    still checked as written, and a link whose carried value is not the left side's value
    (``4 * 5 = 21 + 10``) stays refuted."""
    out: list[RawClaim] = []
    for claim in claims:
        links = claim.relations
        carried = [k for k, rel in enumerate(links[:-1]) if running_total(rel)]
        if not carried:
            out.append(claim)
            continue
        kept = tuple(rel for k, rel in enumerate(links) if k not in carried)
        if kept:
            out.append(RawClaim(claim.source, claim.text, kept, claim.error, claim.too_large))
        out.append(RawClaim(claim.source, claim.text, error=(
            "a running total: the right side goes on from the left side's value "
            "('4 * 5 = 20 + 10 = 30'), not an equation of the two sides")))
    return out


def _far_end_prose(tokens: list[Tok], kinds: list[str], lo: int, hi: int,
                   functions: frozenset[str]) -> RawClaim | None:
    """``3/4 of a skein * 364 yards = 364 / 4 = 273``: the first operand runs on through prose,
    but the links between complete expressions after it are claims as written."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    if len(rels) < 2:
        return None
    rest = _EMPTY_SIDE.sub("", render(tokens, kinds, rels[0] + 1, hi)).strip()
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
        if word in GREEK_NAMES:
            return m.group(1) + "*" + word  # "2theta" from 2\\theta
        if is_unit_word(word) or word.lower() in _GLUED_OK:
            return m.group(0)
        return m.group(1) + " \ufffd "

    return _GLUED_MIXED.sub(unread, _GLUED_LETTERS.sub(split, text))


def _parse_claims(text: str, functions: frozenset[str]) -> list[RawClaim]:
    """The claim of a prose span; with ``±`` (:mod:`formalizer.plus_minus`) the links read and,
    as a separate unknown claim, the links that were not."""
    if not any(sign in text for sign in SIGNS):
        return [_parse("equation", text, functions)]
    relations, problems = read_plus_minus(text, functions)
    out = [RawClaim("equation", text, tuple(relations))] if relations else []
    if problems:
        out.append(RawClaim("equation", text, error=problems[0]))
    return out


def _with_readings(found: list[RawClaim], text: str, start: int, end: int,
                   ends: list[int]) -> list[RawClaim]:
    """Each claim with its reading (:func:`formalizer.reading.claim_reading`) and its sentence
    (:func:`formalizer.reading.conditional`; ``ends`` are the step's sentence ends); a chain
    whose ground links would be read apart from its links in names (``For u = 0: x = 10^2 =
    1000``: the arithmetic is false in every case) is split in two."""
    out: list[RawClaim] = []

    def read(claim: RawClaim, reading: str,
             relations: tuple[Relation, ...] | None = None) -> RawClaim:
        sentence, supposed = conditional(text, ends, start, reading)
        # the fields of dataclasses.replace(claim, ...), built directly (one claim each)
        return RawClaim(claim.source, claim.text,
                        claim.relations if relations is None else relations, claim.error,
                        claim.too_large, reading, sentence, supposed)

    for claim in found:
        ground: list[Relation] = []
        named: list[Relation] = []
        for rel in claim.relations:
            (named if variables(rel) else ground).append(rel)
        reading = claim_reading(text, start, end, ground=bool(ground) and not named)
        if ground and named and claim_reading(text, start, end, ground=True) != reading:
            out.append(read(claim, reading, relations=tuple(named)))
            out.append(read(claim, claim_reading(text, start, end, ground=True),
                            relations=tuple(ground)))
        else:
            out.append(read(claim, reading))
    return out


def prose_claims(visible: str, bound: set[str],
                 functions: frozenset[str] = frozenset()) -> list[RawClaim]:
    """Equations and comparisons in prose (annotations already removed); ``functions`` are the
    letters the solution applies as functions (:func:`formalizer.names.function_names`)."""
    # "70 ≤ 24\( K \)": a number glued to inline math multiplies it (never "70 ≤ 24")
    if "$" in visible or "\\(" in visible:  # in every match of _GLUED_INLINE
        visible = _GLUED_INLINE.sub(r"\1*\2", visible)
    text = prepare_prose(visible)
    if not any(c in text for c in "=<>"):
        return []
    if "C(" in text and _COMBINATORICS.search(visible):
        text = _C_OF_PAIR.sub("binom(", text)  # C(9, 2) where the step counts combinations
    text = _glued_products(text)
    tokens = tokenize(text)
    kinds = classify(tokens, bound, functions, text)
    claims: list[RawClaim] = []
    ends = sentence_ends(text)
    after = 0  # the next relation to read starts at or after this token
    for r in [k for k, tok in enumerate(tokens) if tok.kind == "rel"]:
        if r < after:
            continue  # inside the run just read
        lo, hi = region(tokens, kinds, r)
        run_end, before = hi, len(claims)
        if continues_right(tokens, kinds, hi):
            # "S = 49^2 (1 + 2^2 + ...)": the run was cut inside a product; its last operand is
            # not what the text says, the links before it are
            claims.append(RawClaim("equation", render(tokens, kinds, lo, hi) + " (…",
                                   error="the last operand goes on as a product ('4 (1 + 9)')"))
            hi = max(k for k in range(lo, hi) if tokens[k].kind == "rel")
        span = _EMPTY_SIDE.sub("", render(tokens, kinds, lo, hi)).strip()
        argument = prose_argument(tokens, kinds, lo, hi)
        lexical = None if argument else _lexical_reading(text, tokens, kinds, lo, hi, span)
        if argument is not None:
            # "the square of 5 = 25": the first operand is not what is compared; the links
            # after it are claims as written ("the cost of 3 shirts = 3 * 5 = 15")
            claims.append(RawClaim("equation", span, error=argument))
            tail = _far_end_prose(tokens, kinds, lo, hi, functions)
            if tail is not None:
                claims.append(tail)
        elif lexical is not None:
            claims.extend(lexical)  # not read as written, or a quantity with units
        elif not _REL_IN.search(span):
            pass  # one side is all prose ("the total = 5"): nothing to check
        elif _BINARY_EDGE.search(span) or (tokens[lo].kind != "rel"
                                           and continues_left(tokens, kinds, lo)):
            # the math runs on through words we cannot read: report, never guess a side
            claims.append(RawClaim("equation", span, error="an operand is prose, not math"))
            tail = _far_end_prose(tokens, kinds, lo, hi, functions)
            if tail is not None:
                claims.append(tail)
        else:
            start, problem = shape(tokens, kinds, lo, hi)
            if problem is not None:
                claims.append(RawClaim("equation", span, error=problem))
            elif start != lo:
                rest = _EMPTY_SIDE.sub("", render(tokens, kinds, start, hi)).strip()
                if _REL_IN.search(rest):
                    claims.append(_parse("equation", rest, functions))
            else:
                claims.extend(_parse_claims(span, functions))
        if len(claims) > before:
            claims[before:] = _running_totals(claims[before:])
        if len(claims) > before and lo < hi and _exclamation(text, tokens, hi):
            claims[before:] = [_bang_read(claim) for claim in claims[before:]]
        if len(claims) > before and lo < hi:
            claims[before:] = _with_readings(claims[before:], text, tokens[lo].start,
                                             tokens[hi - 1].end, ends)
        after = max(run_end, r + 1)
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
