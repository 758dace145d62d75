"""Quantities with units, read with the ``pint`` units registry (its conversions, not ours).

Contract: :func:`convert_pair` takes the two sides of one link of a claim as written
(``"1.25 hours"``, ``"75 minutes"``; ``".4 liters * 1000 ml/liter"``, ``"400 ml"``) and returns
None when the sides carry the same registry units or one side carries none (the numbers are
compared as they are, the words are labels), a :class:`Conversion` (the exact factor from pint's
registry by which the left side is multiplied to be in the right side's unit: 60 for hours to
minutes), or a :class:`UnitsProblem` saying why the link cannot be compared: dimensions the
registry cannot relate, a sum or a unit-less number among different units (``2 hours * 60``:
the 60 may be a conversion factor), or calendar units whose length is a convention. A link with
units is thus verified or refuted only through the registry's factors, else it is ``unknown``.

The registry is pint's default one with exact rational arithmetic, plus the few definitions
word problems need that pint does not ship (:data:`EXTRA_DEFINITIONS`: currency and counting
words such as ``dozen``).
Words that pint defines but that mostly are plain English in word problems (``a`` is the annum,
``bag`` a cement bag, ``quarter`` a mass) are never read as units (:data:`NOT_UNITS`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

from prover.arith.ast import format_number

# pint ships no currency (exchange rates are not physics) and no counting words, so the ones a
# word problem uses are defined here. "dollar" is a dimension of its own, so pint never relates
# money to anything but money. A counting word against a plain number is the count it stands
# for ("3 dozen = 36"); elsewhere it labels the numbers ("16 + 12 = 28 million").
EXTRA_DEFINITIONS = (
    "dollar = [currency] = usd = dollars",
    "cent = dollar / 100 = ¢ = cents",
    "dozen = 12",
    "thousand = 1000",
    "million = 1000000",
    "billion = 1000000000",
)
# English words pint also knows as units (a = annum, at = technical atmosphere, bag of cement,
# quarter = 1/4 hundredweight, "4th" = 4 thou, ...): in word problems they are not those units.
# Single letters are never read as units either (``S`` would be a siemens).
NOT_UNITS = frozenset(
    "th st nd rd at are bag bags quarter quarters point points stone stones me us in it pi "
    "bit bits byte bytes degree degrees deg percent gross score do am pm cc as is ar ha "
    "tonne".split())
# dimensions a word problem converts between; anything else (current, luminosity...) is a misread
_DIMENSIONS = ("[time]", "[length]", "[mass]", "[currency]", "[temperature]")
_PREFIXES = frozenset({"", "kilo", "centi", "milli"})  # "nd" would be a nano-day
_COUNTING = frozenset({"dozen", "thousand", "million", "billion"})
# calendar units whose length pint fixes by convention (the Julian year of 365.25 days, the
# month as a twelfth of it) while a word problem may mean 365 days or 30 days or 4 weeks
CALENDAR = frozenset({"year", "month", "decade", "century", "millennium", "leap_year",
                      "common_year", "julian_year", "gregorian_year", "eon"})
_LONE = re.compile(r"^\s*\(?\s*(\d+(?:\.\d+)?|\.\d+)\s*\)?\s+([A-Za-z¢][A-Za-z\s/-]*?)\s*$")
_WORD = re.compile(r"[A-Za-z¢]+")


@dataclass(frozen=True)
class UnitsProblem:
    """Why a claim with units is not compared: the reader's reason for ``unknown``."""

    reason: str


@cache
def registry() -> Any:
    """pint's default registry with exact (Fraction) magnitudes and the extra definitions,
    loaded once per process on the first word that may be a unit. pint's own cache of its parsed
    definition files (``cache_folder=":auto:"``, the user's cache directory) makes a load after
    the first about ten times faster; where that folder cannot be used, it loads without it."""
    import pint

    try:
        ureg = pint.UnitRegistry(non_int_type=Fraction, autoconvert_offset_to_baseunit=False,
                                 cache_folder=":auto:")
    except Exception:  # noqa: BLE001 - an unusable or corrupt cache: load without it
        ureg = pint.UnitRegistry(non_int_type=Fraction, autoconvert_offset_to_baseunit=False)
    for line in EXTRA_DEFINITIONS:
        ureg.define(line)
    return ureg


@cache
def unit_name(word: str) -> str | None:
    """The registry's canonical name of ``word`` read as a unit, or None when it is not one."""
    low = word.lower()
    if low in NOT_UNITS or not _WORD.fullmatch(word) or not 1 < len(word) <= 24:
        return None
    ureg = registry()
    for candidate in dict.fromkeys((word, low)):
        try:
            parses = ureg.parse_unit_name(candidate)
            name = str(ureg.get_name(candidate))
        except Exception:  # noqa: BLE001 - pint raises several kinds for unknown names
            continue
        if not name or name.lower() in NOT_UNITS or not any(
                prefix in _PREFIXES and (prefix + unit) == name for prefix, unit, _ in parses):
            continue  # "nd" would be a nano-day: only everyday prefixes are read
        dims = ureg.get_dimensionality(name)
        if (dims and all(key in _DIMENSIONS for key in dims)) or name in _COUNTING:
            return name
    return None


def is_unit_word(word: str) -> bool:
    """True when ``word`` names a unit of the registry (``hours``, ``ft``, ``cents``, ``dozen``)."""
    return unit_name(word) is not None


def registry_factor(word: str) -> str | None:
    """The plain number a counting word stands for (``dozen`` -> ``12``), from the registry."""
    name = unit_name(word)
    if name is None:
        return None
    ureg = registry()
    if ureg.get_dimensionality(name):
        return None
    value = Fraction(ureg.Quantity(Fraction(1), name).to("dimensionless").magnitude)
    return format_number(value, exact=True)


def _units_in(text: str) -> list[str]:
    found: list[str] = []
    for word in _WORD.findall(text):
        name = unit_name(word)
        if name is not None:
            found.append(name)
    return found


def lone_quantity(text: str) -> tuple[str, str] | None:
    """``(number, unit name)`` when ``text`` is one number followed by one registry unit (label
    words around the unit allowed: ``3 dozen eggs``)."""
    m = _LONE.match(text)
    if m is None:
        return None
    units = _units_in(m.group(2))
    if len(set(units)) != 1:
        return None
    return m.group(1), units[0]


_PLAIN = re.compile(r"^\s*\(?\s*(\d+(?:\.\d+)?|\.\d+)\s*\)?\s*$")
_SIDE_TOKEN = re.compile(r"((?:\d+(?:\.\d+)?|\.\d+)(?:/\d+(?:\.\d+)?)?)|([A-Za-z¢]+)|(\S)")


@dataclass(frozen=True)
class Conversion:
    """Multiply the left side by ``left`` and the right side by ``right`` to state both in one
    unit (factors from the registry)."""

    left: Fraction
    right: Fraction
    fallback: bool = False  # a counting word as a label first, its count only if that fails


@dataclass
class _Side:
    """The registry units of one side: net exponent per unit name, whether the side is a plain
    product/quotient of quantities, and whether every number in it carries a unit."""

    exponents: Counter[str]
    names: set[str]
    product: bool = True
    all_numbers_united: bool = True


def _term_units(text: str) -> tuple[Counter[str], set[str], bool, bool]:
    """Net unit exponents of one product/quotient term, its unit names, whether it is a plain
    product, and whether every number in it carries a unit."""
    exponents: Counter[str] = Counter()
    names: set[str] = set()
    product, united = True, True
    sign, slash, numbers, has_unit = 1, False, 0, True
    for m in _SIDE_TOKEN.finditer(text):
        number, word, sym = m.groups()
        if number is not None:
            united &= has_unit or not numbers
            numbers += 1
            sign, slash, has_unit = (-1 if slash else 1), False, False
        elif word is not None:
            if word.lower() == "per":
                slash = True
                continue
            if word in ("x", "X"):
                slash = False
                continue
            name = unit_name(word)
            if name is not None:
                exponents[name] += -sign if slash else sign
                names.add(name)
                has_unit = True
            slash = False if name is not None else slash
        elif sym == "*":
            slash = False
        elif sym == "/":
            slash = True
        elif sym in "^()%:":
            product = False
    united &= has_unit or not numbers
    return exponents, names, product, united


def _side(text: str) -> _Side:
    """A sum of terms in one unit is in that unit; terms in different units are not a
    product (not converted)."""
    terms = [t for t in re.split(r"(?<=[\w)%.])\s*[-+]\s*", text) if t.strip()]
    side = _Side(Counter(), set())
    seen = False
    for term in terms:
        exponents, names, product, united = _term_units(term)
        side.names |= names
        side.product &= product
        side.all_numbers_united &= united
        if not names:
            continue  # "1 + .5 + 1.5 dozen": a bare number in a sum takes the sum's unit
        if not seen:
            side.exponents, seen = exponents, True
        elif exponents != side.exponents:
            side.product = False
    return side


def _ratio(left: _Side, right: _Side) -> Fraction | UnitsProblem:
    """The exact dimensionless factor (left units)/(right units) from the registry."""
    net = Counter(left.exponents)
    net.subtract(right.exponents)
    ureg = registry()
    calendar = any(net[name] for name in net if name in CALENDAR)
    other_time = any(net[name] for name in net if name not in CALENDAR
                     and "[time]" in ureg.get_dimensionality(name))
    if calendar and other_time:
        return UnitsProblem("the length of a calendar month or year is a convention the text "
                            "does not state")
    quantity = ureg.Quantity(Fraction(1), "dimensionless")
    for name, exp in net.items():
        if exp:
            quantity = quantity * ureg.Quantity(Fraction(1), name) ** exp
    try:
        return Fraction(quantity.to("dimensionless").magnitude)
    except Exception:  # noqa: BLE001 - DimensionalityError and friends
        return UnitsProblem(f"{', '.join(sorted(left.names))} and "
                            f"{', '.join(sorted(right.names))} cannot be related "
                            "(different dimensions)")


def _counted(left: str, right: str) -> Conversion | None:
    """``3 dozen = 36``: a lone quantity of a counting unit (no dimension) against a plain number
    is the count it stands for; elsewhere ``dozen`` labels the numbers (``3+2+2 = 7 dozen``)."""
    for k, (quantity_text, other_text) in enumerate(((left, right), (right, left))):
        quantity = lone_quantity(quantity_text)
        if quantity is None or _PLAIN.match(other_text) is None:
            continue
        size = registry_factor(quantity[1])
        if size is None:
            continue
        f = Fraction(size)
        return Conversion(f, Fraction(1)) if k == 0 else Conversion(Fraction(1), f)
    return None


def _count_label(sides: tuple[_Side, _Side], texts: tuple[str, str]) -> Conversion | None:
    """``16 + 12 = 28 million`` (a label) or ``1000 + 1000 = 2 thousand`` (a count): a lone
    quantity of a counting word against a side without units is read as a label, and as its
    count where the label reading fails (never a count of a sum: ``3 + 4 dozen``)."""
    for k in (0, 1):
        mine, other = sides[k], sides[1 - k]
        counting = [name for name in mine.names if name in _COUNTING]
        if other.names or len(mine.names) != 1 or not counting or (
                lone_quantity(texts[k]) is None):
            continue
        size = Fraction(registry_factor(counting[0]) or 1)
        return Conversion(*((size, Fraction(1)) if k == 0 else (Fraction(1), size)),
                          fallback=True)
    return None


def convert_pair(left: str, right: str) -> Conversion | UnitsProblem | None:
    """How to state the two sides of one link in one unit (see the module doc): None when the
    sides carry the same registry units or one carries none (the words are labels)."""
    counted = _counted(left, right)
    if counted is not None:
        return counted
    sides = _side(left), _side(right)
    if not sides[0].names or not sides[1].names or sides[0].exponents == sides[1].exponents:
        return _count_label(sides, (left, right))
    for text, side in zip((left, right), sides, strict=True):
        if not side.product:
            return UnitsProblem(f"different units meet and '{text.strip()}' is not a product "
                                "of quantities: not converted")
        if not side.all_numbers_united:
            return UnitsProblem(f"different units meet and a number in '{text.strip()}' has no "
                                "unit (it may be a conversion factor): not converted")
    ratio = _ratio(*sides)
    if isinstance(ratio, UnitsProblem):
        return ratio
    return Conversion(ratio, Fraction(1))


_CURRENCY_WORDS = re.compile(r"¢|\bcents?\b", re.IGNORECASE)
_DOLLAR_AMOUNT = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?|\.\d+)")


def mark_currency(text: str) -> str:
    """Where a step speaks of cents as well as dollars, spell ``$2.50`` as ``2.50 dollars`` so
    the two currencies are compared through the registry; elsewhere ``$`` is the only currency
    and normalization drops it as before."""
    if "$" not in text or not _CURRENCY_WORDS.search(text):
        return text
    return _DOLLAR_AMOUNT.sub(lambda m: f"{m.group(1)} dollars", text).replace("¢", " cents")
