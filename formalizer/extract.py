"""Deterministic claim extraction from one CoT step (no model).

Two sources of claims: calculator annotations ``<<expr=value>>`` and the equations visible in
the prose around them (after the annotations are removed), which are separate claims because
the prose can be wrong while the annotation is right (GSM8K: ``8*3 = <<80*3=240>>240``).
A prose equation is the maximal run of math tokens around a relation symbol; unit words between
a number and an operator (``5 apples + 3 apples = 8``) are skipped, everything else ends the run.
The pieces: :mod:`formalizer.claims` (the claim found), :mod:`formalizer.tokens` (tokens and
their roles), :mod:`formalizer.regions` (math runs and their spelling),
:mod:`formalizer.lexical` (what around a run was understood), :mod:`formalizer.unit_runs` (a
run's units),
:mod:`formalizer.plus_minus` (``±``), :mod:`formalizer.operands` (running totals, an operand
that prose makes other than the value compared) and :mod:`formalizer.reading` (asserted or
supposed).
"""

from __future__ import annotations

import re

from formalizer.claims import EMPTY_SIDE, REL_IN, RawClaim, parse_claim
from formalizer.latex import GREEK_NAMES
from formalizer.lexical import prepare_prose
from formalizer.normalize import normalize_math
from formalizer.operands import (
    ground_fails,
    prose_argument,
    running_total,
    shares_of_wholes,
)
from formalizer.plus_minus import SIGNS, read_plus_minus
from formalizer.reading import claim_reading, conditional, sentence_ends
from formalizer.regions import continues_left, continues_right, region, render, shape
from formalizer.tokens import Tok, classify, tokenize
from formalizer.unit_runs import lexical_reading
from formalizer.units import is_unit_word
from prover.arith.ast import Relation, variables

__all__ = ["MAX_CLAIMS_PER_STEP", "MAX_STEP_CHARS", "RawClaim", "extract_claims",
           "prose_claims"]

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


_BINARY_EDGE = re.compile(r"^\s*(?:\*\*|//|[*/^+])|(?:\*\*|//|[-*/^+])\s*$")


def _set_aside(claim: RawClaim, reasons: dict[int, str]) -> list[RawClaim]:
    """``claim`` without its links at the positions of ``reasons``, then an unknown claim per
    distinct reason: the other links are still checked as written. A claim whose links do not
    line up with the positions (an error, too few links) is one unknown claim."""
    if not reasons:
        return [claim]
    if claim.error is not None or max(reasons) >= len(claim.relations):
        return [RawClaim(claim.source, claim.text, error=claim.error or next(iter(
            reasons.values())), too_large=claim.too_large)]
    kept = tuple(rel for k, rel in enumerate(claim.relations) if k not in reasons)
    out = [RawClaim(claim.source, claim.text, kept)] if kept else []
    return out + [RawClaim(claim.source, claim.text, error=why)
                  for why in dict.fromkeys(reasons.values())]


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
    plain = parse_claim(claim.source, claim.text.rstrip()[:-1])
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
    return [part for claim in claims for part in _set_aside(claim, {
        k: _RUNNING_TOTAL for k, rel in enumerate(claim.relations[:-1]) if running_total(rel)})]


_RUNNING_TOTAL = ("a running total: the right side goes on from the left side's value "
                  "('4 * 5 = 20 + 10 = 30'), not an equation of the two sides")


def _far_end_prose(tokens: list[Tok], kinds: list[str], lo: int, hi: int,
                   functions: frozenset[str]) -> RawClaim | None:
    """``3/4 of a skein * 364 yards = 364 / 4 = 273``: the first operand runs on through prose,
    but the links between complete expressions after it are claims as written."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    if len(rels) < 2:
        return None
    rest = EMPTY_SIDE.sub("", render(tokens, kinds, rels[0] + 1, hi)).strip()
    if not REL_IN.search(rest) or _BINARY_EDGE.search(rest):
        return None
    return parse_claim("equation", rest, functions)


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
        return [parse_claim("equation", text, functions)]
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
        span = EMPTY_SIDE.sub("", render(tokens, kinds, lo, hi)).strip()
        argument = prose_argument(tokens, kinds, lo, hi)
        lexical = None if argument else lexical_reading(text, tokens, kinds, lo, hi, span)
        if argument is not None:
            # "the square of 5 = 25": the first operand is not what is compared; the links
            # after it are claims as written ("the cost of 3 shirts = 3 * 5 = 15")
            claims.append(RawClaim("equation", span, error=argument))
            tail = _far_end_prose(tokens, kinds, lo, hi, functions)
            if tail is not None:
                claims.append(tail)
        elif lexical is not None:
            claims.extend(lexical)  # not read as written, or a quantity with units
        elif not REL_IN.search(span):
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
            wholes = shares_of_wholes(tokens, kinds, start, hi) if problem is None else {}
            if problem is not None:
                claims.append(RawClaim("equation", span, error=problem))
            elif wholes:
                # the run's relations from ``start`` (one there opens no link of its own)
                rels = [k for k in range(start + 1, hi) if tokens[k].kind == "rel"]
                rest = EMPTY_SIDE.sub("", render(tokens, kinds, start, hi)).strip()
                claims.extend(_set_aside(parse_claim("equation", rest, functions),
                                         {rels.index(r): why for r, why in wholes.items()}))
            elif start != lo:
                rest = EMPTY_SIDE.sub("", render(tokens, kinds, start, hi)).strip()
                if REL_IN.search(rest):
                    claims.append(parse_claim("equation", rest, functions))
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
    claims = [parse_claim("annotation", normalize_math(m.group(1)))
              for m in _ANNOTATION.finditer(step)][:MAX_CLAIMS_PER_STEP]
    visible = _ANNOTATION.sub(" ", step) if claims else step
    return claims + prose_claims(visible, bound, functions)
