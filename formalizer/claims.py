"""A claim as the extractor finds it in a step's text, and how one is built from math text.

:class:`RawClaim` is what :mod:`formalizer.extract` yields and :mod:`formalizer.stepcheck`
checks: its source span and parsed relations, or why it was not read, with how it was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from prover.arith.ast import Relation
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain

ClaimSource = Literal["annotation", "equation"]
# a relation symbol at either end of a span (an empty side), and one anywhere in it
EMPTY_SIDE = re.compile(r"^\s*(?:~=|<=|>=|!=|==|=|<|>)+|(?:~=|<=|>=|!=|==|=|<|>)+\s*$")
REL_IN = re.compile(r"~=|<=|>=|!=|==|=|<|>")


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


def parse_claim(source: ClaimSource, text: str, functions: frozenset[str] = frozenset()) -> RawClaim:
    """The claim of the math text ``text`` (a chain of relations), or one saying why it does
    not parse (too large, or not math)."""
    try:
        return RawClaim(source, text, tuple(parse_chain(text, functions)))
    except TooLargeError as err:
        return RawClaim(source, text, error=str(err), too_large=True)
    except ArithSyntaxError as err:
        return RawClaim(source, text, error=str(err))


def links_claim(links: list[str], span: str) -> RawClaim:
    """One claim spelled ``span`` of the ``links`` (each ``left op right``, as read), or an
    error claim for the first link that does not parse."""
    relations: list[Relation] = []
    for link in links:
        parsed = parse_claim("equation", link)
        if parsed.error is not None:
            return RawClaim("equation", span, error=parsed.error, too_large=parsed.too_large)
        relations.extend(parsed.relations)
    return RawClaim("equation", span, tuple(relations))
