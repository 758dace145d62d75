"""The shortcuts of the reading layer answer as the full scans do (formalizer.reading hints)."""

from __future__ import annotations

import itertools
import re

import pytest

from formalizer import reading

# each pattern with the words one of which every match of it contains (reading._absent)
HINTED = [
    (reading._CONSEQUENCE, reading._CONSEQUENCE_HINTS),
    (reading._HYPOTHESIS, reading._HYPOTHESIS_HINTS),
    (reading._LOCUS, reading._LOCUS_HINTS),
    (reading._REDUCTIO, reading._REDUCTIO_HINTS),
    (reading._REJECTED_BEFORE, reading._REJECTED_BEFORE_HINTS),
    (reading._CONDITION, reading._CONDITION_HINTS),
]


def _phrases(pattern: re.Pattern[str]) -> list[str]:
    """Words of the pattern's source, alone and in pairs, spaced and with a period: texts a
    missing hint would let a match through unseen."""
    words = sorted(set(re.findall(r"[a-z']+", pattern.pattern.replace("\\b", " "))))
    fillers = ["x", "the", "not", "to", "that", "of", "in", "on", "be"]
    out = [*words, "e.g.x", "let's try", "plug in", "we could take", "we may put", "violated",
           "x: y", ":"]
    out += [f"{a} {b}" for a, b in itertools.product(words, [*words, *fillers])]
    out += [f"{a} {b}" for a, b in itertools.product(fillers, words)]
    return out


@pytest.mark.parametrize(("pattern", "hints"), HINTED)
def test_hints_are_necessary(pattern: re.Pattern[str], hints: tuple[str, ...]) -> None:
    """No text the pattern matches is declared free of it by its hints."""
    phrases = _phrases(pattern)
    matched = 0
    for phrase in phrases:
        for text in (phrase, phrase.upper(), f"So, {phrase}: ", f"({phrase})"):
            if pattern.search(text):
                matched += 1
                assert not reading._absent(hints, text), (pattern.pattern[:40], text)
    assert matched >= 20  # the phrases exercise the pattern


def test_absent_scans_only_ascii_text() -> None:
    """A non-ASCII text is always scanned: IGNORECASE folds 'ſ' onto 's'."""
    assert reading._HYPOTHESIS.search("ſet x = 1")
    assert not reading._absent(reading._HYPOTHESIS_HINTS, "ſet x = 1")
    assert reading._absent(reading._HYPOTHESIS_HINTS, "Natalia sold 48 / 2 = 24 clips")
    assert not reading._absent(reading._HYPOTHESIS_HINTS, "Hypothetically x = 1", 0, 14)
    assert reading._absent(reading._HYPOTHESIS_HINTS, "x = 1 hypothetically", 0, 5)


@pytest.mark.parametrize("pattern", [reading._OBJECT, reading._CASE_TAIL])
def test_tail_window_holds_every_match_of_the_end_anchored_patterns(
        pattern: re.Pattern[str]) -> None:
    """``_TAIL`` is derived, not guessed: the longest match of each end-anchored prefix pattern
    (the compiled pattern's width) plus the character its word boundary looks at fits in the
    window, and a search of the window answers as a search of the whole prefix."""
    parsed = re._parser.parse(pattern.pattern, pattern.flags)  # type: ignore[attr-defined]
    low, high = parsed.getwidth()
    assert 0 < low <= high < 64  # bounded: an unbounded pattern has no safe window
    assert high + 1 < reading._TAIL, (pattern.pattern[:40], high)
    words = re.findall(r"[a-z]{2,}", pattern.pattern)
    assert len(words) >= 8
    compared = 0
    for word, glue, pad in itertools.product(words, ["", "x", " ", "-"], [" ", " :  ", " " * 8,
                                                                      " " * 9, "( "]):
        for lead in range(0, reading._TAIL + 4, 3):
            prefix = "Then " + "y" * lead + glue + word + pad
            assert bool(pattern.search(prefix[-reading._TAIL:])) == bool(
                pattern.search(prefix)), prefix
            compared += 1
    assert compared > 1000


@pytest.mark.parametrize(("text", "expected"), [
    ("The line y = 3 is drawn", "hypothesis"),
    ("Natalia sold 48 / 2 = 24 clips.", "equation"),
    ("On the curve, the underline x = 2 holds", "equation"),
    ("We use x = 2 here", "case"),
    ("Taking x = 2 here", "case"),
    ("to the right of x = 1 we look", "hypothesis"),
    ("so 2 + 2 = 5, which is impossible.", "reductio"),
])
def test_tail_and_hinted_readings(text: str, expected: str) -> None:
    """Readings that hinge on the end-anchored prefix patterns and the hinted scans."""
    start = text.index("=") - 2
    while start > 0 and text[start - 1] not in " ":
        start -= 1
    end = text.index("=") + 3
    assert reading.claim_reading(text, start, end) == expected
