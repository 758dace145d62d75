"""What a solution's text says about its names: which letters it uses as functions, which it
declares integral, and whether ``i`` is the imaginary unit. Each is read once per solution
(:mod:`formalizer.stepcheck`) from the problem and all steps, before any claim is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from formalizer.hints import absent

_FUNCTION_LETTERS = frozenset("fghFGHPQTSNLRDEM")
# a function's name: a letter, optionally with a subscript ("f_1", "f_{2}", "P_n")
_NAME = r"([A-Za-z])(?:_\{?\s*(\w{1,3})\s*\}?)?"
_APPLIED = re.compile(r"(?<![A-Za-z\\_])" + _NAME + r"\s*\(\s*[A-Za-z]")
# letters that name a function at values ("p(1) = 0, p(2) = 3", "d(12) = 6"); a coefficient
# or variable letter stays a factor ("a(-1)^3 + b(-1)^2 + c(-1) + d", "(57 - 8i)(-6 + ...)")
_VALUE_FUNCTION_LETTERS = _FUNCTION_LETTERS | frozenset("pqdse")
# a letter or a Greek letter applied to a whole number alone: "f(2)", "T(-1)", "\\tau(6)"
_APPLIED_VALUE = re.compile(
    r"(?<![A-Za-z_])(?:\\?(phi|varphi|tau|sigma|mu|nu|lambda|omega|Omega|Gamma|psi|theta|rho)"
    r"|(?<!\\)([A-Za-z]))(?:_\{?\s*(\w{1,3})\s*\}?)?\s*\(\s*(-?\s*\d{1,9})\s*\)")
_DEFINED = re.compile(r"(?<![A-Za-z\\_])" + _NAME +
                      r"\s*\(\s*[a-z]\s*(?:,\s*[a-z]\s*)*\)\s*=")
_DECLARED = re.compile(r"\b(?:function|polynomial|sequence)s?\s+\\?\(?\$?\s*" + _NAME +
                       r"(?![\w{])")


def function_names(texts: Iterable[str]) -> frozenset[str]:
    """Names the text uses as functions: declared (``the function f``, ``polynomials
    f_1, f_2``), defined (``f(x) = ...``), or a conventional function letter applied to a name
    (``f(n)``, ``P(x)``, ``f_1(x)``); a subscripted name only on a conventional function
    letter and never as a sequence's term, spelled as the parser reads it (``f_{1}`` ->
    ``f_1``). Any other letter before ``(`` stays a factor (``x(x+1)``, ``a(b+c)``,
    ``x_1(1 - x_2)`` in "the sequence x_1, x_2")."""
    names: set[str] = set()
    for text in texts:
        # each scan only where its pattern can match: _DEFINED and _APPLIED need "(" (and
        # _DEFINED "="), _DECLARED one of its words (all three are case-sensitive)
        if "(" in text:
            if "=" in text:
                names.update(_name(m) for m in _DEFINED.finditer(text)
                             if not m.group(2) or m.group(1) in _FUNCTION_LETTERS)
            names.update(_name(m) for m in _APPLIED.finditer(text)
                         if m.group(1) in _FUNCTION_LETTERS)
        if "function" in text or "polynomial" in text or "sequence" in text:
            # "the sequence x_1, x_2": its terms are numbers, never functions
            names.update(_name(m) for m in _DECLARED.finditer(text) if not m.group(2) or (
                m.group(1) in _FUNCTION_LETTERS
                and not m.group(0).lower().startswith("sequence")))
    names.update(_applied_to_values(texts))
    return frozenset(names)


def _applied_to_values(texts: Iterable[str]) -> set[str]:
    """Names (a letter or a Greek letter, optionally subscripted) the text applies to two
    different whole numbers: ``T(2) = 3, T(3) = 2T(2) + 1``, ``\\tau(6)`` and ``\\tau(12)``.
    Read as products (T·2, T·3) such values tie one number T to both and refute a true
    recurrence; applied to one number only, ``T(2)`` stands for one unknown either way, so
    ``P(1.05)``, ``x(3)``, ``\\pi(5)^2`` and ``P(1 + r)`` stay products."""
    values: dict[str, set[str]] = {}
    for text in texts:
        if "(" not in text:
            continue
        for m in _APPLIED_VALUE.finditer(text):
            name = (m.group(1) or m.group(2)) + ("_" + m.group(3) if m.group(3) else "")
            values.setdefault(name, set()).add(re.sub(r"\s", "", m.group(4)))
    return {name for name, args in values.items() if len(args) >= 2 and (
        len(name.split("_")[0]) > 1 or name[0] in _VALUE_FUNCTION_LETTERS)}


def _name(m: re.Match[str]) -> str:
    """The name a :data:`_NAME` match spells as the parser reads it (``f_{1}`` -> ``f_1``)."""
    return m.group(1) + ("_" + m.group(2) if m.group(2) else "")


_INTEGER_DECL = re.compile(
    r"(?<![\\\w])([A-Za-z](?:\s*(?:,|and)\s*[A-Za-z])*)\$?\\?\)?\s+(?:is|are|be|must be)\s+"
    r"(?:an?\s+|both\s+|all\s+)?(?:(?:positive|negative|nonnegative|non-negative|odd|even|"
    r"distinct|consecutive)\s+)*(?:integers?|whole numbers?|natural numbers?)\b"
    r"|(?:integers?|whole numbers?)\s+\$?\\?\(?\s*([A-Za-z](?:\s*,\s*[A-Za-z])*)\b"
    r"|([A-Za-z])\s*\\in\s*\\mathbb\s*\{?[ZN]", re.IGNORECASE)
# words one of which every match of _INTEGER_DECL contains (formalizer.hints)
_INTEGER_HINTS = ("integer", "whole number", "natural number", "\\in")
_IMAGINARY = re.compile(r"\bi\s*\^\s*\{?2|\d\s*i\b|[-+]\s*i\b|\bimaginary\b|\bcomplex\b|pi\s*i\b|"
                        r"sqrt\{?\(?-\d|\\sqrt\{-")


def integer_names(texts: Iterable[str]) -> frozenset[str]:
    """Names the text declares integral (``n is a positive integer``, ``integers a, b``,
    ``k \\in \\mathbb{Z}``): only these may be read over the integers."""
    names: set[str] = set()
    for text in texts:
        head = text[:20_000]
        if absent(_INTEGER_HINTS, head):  # no declaration can match without one of these
            continue
        for m in _INTEGER_DECL.finditer(head):
            group = next((g for g in m.groups() if g), "")
            names.update(re.findall(r"[A-Za-z]", group.replace("and", " ")))
    return frozenset(names)


# an "i" that a word boundary follows: in every match of _IMAGINARY's alternatives without
# one of _IMAGINARY_WORDS ("i^2", "3i", "+ i", "pi i")
_I_ALONE = re.compile(r"i\b")
_IMAGINARY_WORDS = ("^", "imaginary", "complex", "sqrt")


def uses_imaginary_unit(texts: Iterable[str]) -> bool:
    """True when the text uses ``i`` as the imaginary unit (``i^2``, ``3 + 4i``, complex)."""
    for text in texts:
        head = text[:20_000]
        if (any(word in head for word in _IMAGINARY_WORDS) or _I_ALONE.search(head)) and (
                _IMAGINARY.search(head)):
            return True
    return False
