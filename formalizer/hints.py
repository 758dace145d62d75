"""Cheap tests that let a step skip a slow pattern scan without changing what it finds.

A pattern with many word alternatives and ``IGNORECASE`` costs Python's ``re`` a try of every
alternative at every position. When every match of such a pattern contains one of a few words
(its hints), an ASCII text that contains none of them cannot match, and a substring test says
so many times faster. ``tests/test_speed_extract.py`` checks each pattern against its hints.
"""

from __future__ import annotations


def absent(hints: tuple[str, ...], text: str, pos: int = 0, endpos: int | None = None) -> bool:
    """True when no match of a pattern can lie in ``text[pos:endpos]``: the text is ASCII and
    none of ``hints`` (lower case; every match of the pattern contains one of them) occurs in
    it, case-insensitively. A cheap test before a scan; False means "run the pattern"."""
    if not text.isascii():
        return False  # IGNORECASE folds a few non-ASCII letters onto ASCII ones (ſ, ı, K)
    low = text[pos:endpos].lower()
    for hint in hints:
        if hint in low:
            return False
    return True
