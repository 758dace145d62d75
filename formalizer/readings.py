"""Second readings of a refuted ground claim that CoT text commonly intends.

Two conventions are tried, and only when the text itself signals them: ``%`` used as a unit
label on a computed result that the text treats as a percentage (``(75/100)*100 = 75%``
scales by 100, ``100 - 5 = 95%`` takes a complement, ``50 - 20 = 30%`` sits in a step that
speaks of percentages; see :func:`percent_label_applies` and :func:`percent_is_meant`), and
integer division where the step speaks of a remainder (``13 / 6 = 2 ... with a remainder
of 1``). A second reading that holds is reported as verified with the reading named in the
evidence; otherwise the refutation stands.
"""

from __future__ import annotations

import re
from fractions import Fraction

from formalizer.latex import repeating_fraction
from formalizer.lexical import STOP_WORDS
from prover.arith.ast import Bin, Expr, Neg, Num, Relation, Var
from prover.arith.check import check_ground
from prover.arith.evaluate import evaluate
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain
from prover.records.verdicts import UnknownReason, Verdict, unknown

_REMAINDER = re.compile(r"\bremainder\b|\bleft over\b|\bremaining\b|\bfull\b|\bwhole\b",
                        re.IGNORECASE)


def _integer_division(expr: Expr, values: dict[str, Fraction], toward_zero: bool) -> Expr:
    """The same expression with its top-level division read as integer division: the floor
    (``13 / 6`` is ``2``, ``-161 / 13`` is ``-13`` with remainder ``8``) or, with
    ``toward_zero`` and a negative quotient, the ceiling (``-161 / 13`` is ``-12`` with
    remainder ``-5``): both conventions are in use for a negative quotient."""
    if isinstance(expr, Bin) and expr.op == "/":
        if toward_zero:
            try:
                negative = evaluate(expr, values) < 0
            except (ArithmeticError, ValueError, KeyError):
                negative = False  # no exact value: the floor reading only
            if negative:  # -(-a // b) is the ceiling of a / b
                return Neg(Bin("//", Neg(expr.left), expr.right))
        return Bin("//", expr.left, expr.right)
    if isinstance(expr, Neg):
        return Neg(_integer_division(expr.arg, values, toward_zero))
    return expr


_RELATION = re.compile(r"~=|<=|>=|!=|==|=|<|>")
_LONE_PERCENT = re.compile(r"^\(?\s*(?:\d+(?:\.\d+)?|\.\d+)\s*%\s*\)?$")
_LONE_NUMBER = re.compile(r"^\(?\s*-?\s*(?:\d+(?:\.\d+)?|\.\d+)\s*\)?$")


def percent_label_applies(raw_text: str, index: int) -> bool:
    """Is ``%`` a label on the result of link ``index`` of ``raw_text``? Only when one side is
    a lone ``N%`` (the stated result) and the other a computation without ``%``
    (``(75/100)*100 = 75%``), or each side has exactly one ``%`` not in a denominator
    (``9/27 * 100% = 33.333%``); never for ``3 = 3%`` (two literals), ``10% * 10% = 100`` or
    ``10% of 200 = 2000`` (the % is an operand, so it means /100)."""
    operands = [part.strip() for part in _RELATION.split(raw_text)]
    if index + 1 >= len(operands):
        return False
    pair = operands[index], operands[index + 1]
    if all(side.count("%") == 1 and not re.search(r"/\s*\(?\s*[\d.]+\s*%", side)
           for side in pair):
        return True  # "9 / 27 * 100% = 33.333%": one percentage on each side, both scaled
    for label, other in (pair, pair[::-1]):
        if _LONE_PERCENT.match(label) and "%" not in other and other and (
                not _LONE_NUMBER.match(other)):
            return True
    return False


# the step speaks of percentages: a percent word, or a "%" beyond those of the claim itself
_PERCENT_WORD = re.compile(r"\bper\s?cent|\bpercentage|\bpercentile|\\%|%", re.IGNORECASE)


def _on_the_whole(expr: Expr) -> bool:
    """Does ``expr`` work on 100 as the whole: scale by it (``3/4 * 100``, ``100(x/y)``), take
    a complement of it (``100 - 5``) or share it out (``100 / 4``)?"""
    if isinstance(expr, Bin):
        if (isinstance(expr.left, Num) and expr.left.value == 100 and expr.op in ("*", "-", "/")
                ) or (expr.op == "*" and isinstance(expr.right, Num) and expr.right.value == 100):
            return True
        return _on_the_whole(expr.left) or _on_the_whole(expr.right)
    if isinstance(expr, Neg):
        return _on_the_whole(expr.arg)
    return False


def percent_is_meant(plain: Relation, raw_text: str, index: int, step_text: str) -> bool:
    """Does the text treat the ``%``-labelled number of link ``index`` as a percentage, so that
    reading ``%`` as its label is faithful? Yes when a side of ``%`` itself is a percentage
    (``9/27 * 100% = 33.333%``: one ``%`` on each side), when the computation works on 100 as
    the whole (``(75/100)*100 = 75%``, ``100 - 5 = 95%``, ``100 / 4 = 25%``), or when the
    step speaks of percentages outside the claim (a percent word, or a ``%`` the claim's chain
    does not hold: ``the rate is 25%; 100 - 75 = 25%``). A plain sum suddenly followed by
    ``%`` (``-0 + 798 = 798%``) is not: the label would be a guess that makes a false claim
    true."""
    operands = [part.strip() for part in _RELATION.split(raw_text)]
    pair = operands[index], operands[index + 1]
    if all("%" in side for side in pair):
        return True
    if _on_the_whole(plain.left) or _on_the_whole(plain.right):
        return True
    words = [m.group(0) for m in _PERCENT_WORD.finditer(step_text)]
    return len(words) > raw_text.count("%") or any("%" not in w for w in words)


def _with_reading(verdict: Verdict, reading: str) -> Verdict:
    evidence = dict(verdict.evidence)
    evidence["reading"] = reading
    return Verdict(verdict.kind, evidence=evidence, tolerance=verdict.tolerance)


def _whole(expr: Expr) -> int | None:
    """The value of a whole-number literal written with digits only, else None."""
    if isinstance(expr, Num) and expr.value.denominator == 1 and expr.text.isdigit():
        return int(expr.value)
    return None


# a word right before two whole numbers glued by "-" ("ages 6-8", "Items 1-10")
_NAMED_RANGE = re.compile(r"([A-Za-z]{2,})\s+(\d+-\d+)(?![\w.])")


def _range_name(word: str) -> bool:
    """``word`` may name a range (``ages``, ``Items``, ``Grades``): a plural or capitalised word
    that does not end a clause; a verb (``contributed 6-18``) is none."""
    return word.lower() not in STOP_WORDS and (word[0].isupper() or (
        word.endswith("s") and not word.endswith(("ss", "us", "is"))))


def _range_count(rel: Relation, step_text: str) -> bool:
    """``Pages 10-20 = 11``, ``in 2020-2021 = 1 year``: one side is two whole numbers glued by a
    hyphen, the smaller first (``10-20``, no spaces), the other a whole number that is the
    range's length or its inclusive count; or the glued range comes right after a word that
    may name it (:func:`_range_name`: ``ages 6-8 = 4 kids``, and the stated number is what it
    holds). As a subtraction the claim is false; as a range it may hold, and the text alone
    cannot tell which is meant. Never where a calculator annotation computes the subtraction
    (``contributed 6-18=<<6-18=24>>24``)."""
    if rel.op != "=":
        return False
    for side, other in ((rel.left, rel.right), (rel.right, rel.left)):
        stated = _whole(other)
        if stated is None or not (isinstance(side, Bin) and side.op == "-"):
            continue
        low, high = _whole(side.left), _whole(side.right)
        if low is None or high is None or low >= high:
            continue
        if re.search(rf"<<\s*{low}\s*-\s*{high}\b", step_text):
            continue  # a calculator annotation computes that subtraction: never a range
        glued = re.compile(rf"(?<![\w.^/*+\-]){low}-{high}(?![\w.])")
        if stated in (high - low, high - low + 1) and glued.search(step_text):
            return True  # the claim's own text is re-spaced ("10 - 20")
        if any(_range_name(m.group(1)) for m in _NAMED_RANGE.finditer(step_text)
               if m.group(2) == f"{low}-{high}"):
            return True  # "ages 6-8 = 4 kids": what a named range holds, any count
    return False


def _factors(expr: Expr) -> list[str] | None:
    """The names of a product of names (``a * b * c``), or None."""
    if isinstance(expr, Var):
        return [expr.name]
    if isinstance(expr, Bin) and expr.op == "*":
        left, right = _factors(expr.left), _factors(expr.right)
        return left + right if left is not None and right is not None else None
    return None


def _digits_side_by_side(rel: Relation, step_text: str, values: dict[str, Fraction]) -> bool:
    """``a = 4, b = 5``, then ``the number ab = 45``: single letters written side by side whose
    values are digits and whose digits, read in order, are the stated whole number. As a
    product the claim is false; as the digits of a number (``\\overline{ab}``) it holds."""
    if rel.op != "=":
        return False
    for side, other in ((rel.left, rel.right), (rel.right, rel.left)):
        names = _factors(side)
        if names is None or len(names) < 2 or not isinstance(other, Num) or any(
                len(n) != 1 for n in names):
            continue
        if any(n not in values or values[n].denominator != 1 or not 0 <= values[n] <= 9
               for n in names):
            continue
        number = "".join(str(int(values[n])) for n in names)
        if Fraction(int(number)) != other.value:
            continue
        glued = re.compile(r"(?<![A-Za-z\\])" + "".join(names) + r"(?![A-Za-z])[\s$)\\]*=")
        if glued.search(step_text):
            return True
    return False


def _repeated(expr: Expr, glued: set[tuple[str, str]]) -> Expr:
    """``expr`` with every product ``a.b * p`` whose two literals are written glued in the step
    (``0.1(6)``, a pair of ``glued``) read as the repeating decimal ``a.bppp...``."""
    if isinstance(expr, Bin):
        left, right = _repeated(expr.left, glued), _repeated(expr.right, glued)
        if (expr.op == "*" and isinstance(left, Num) and isinstance(right, Num)
                and (left.text, right.text) in glued):
            whole, fixed = left.text.split(".")
            value = repeating_fraction(whole, fixed, right.text)
            return Num(value, f"{left.text}({right.text})")
        return Bin(expr.op, left, right)
    if isinstance(expr, Neg):
        return Neg(_repeated(expr.arg, glued))
    return expr


# "0.1(6)", "2.3(45)": a decimal glued to a parenthesised digit group
_GLUED_PERIOD = re.compile(r"(?<![\d.])(\d+\.\d{1,12})\((\d{1,12})\)")


def _glued_period(rel: Relation, step_text: str, values: dict[str, Fraction]) -> bool:
    """``1/6 = 0.1(6)``: a decimal glued to a parenthesised digit group is a product
    (``2.5(4) = 10``) or a repeating decimal with its period in parentheses (0.1666...). True
    when the claim, false with the product, holds with the glued literals of the step read as
    the repeating decimal; a claim false under both readings (``1/6 = 0.1(7)``) is not."""
    glued = {(m.group(1), m.group(2)) for m in _GLUED_PERIOD.finditer(step_text)}
    if not glued:
        return False
    again = Relation(rel.op, _repeated(rel.left, glued), _repeated(rel.right, glued))
    if again == rel:
        return False
    verdict = check_ground(again, values)
    return verdict is not None and verdict.is_verified


def reread(rel: Relation, refuted: Verdict, raw_text: str, index: int, step_text: str,
           values: dict[str, Fraction]) -> Verdict:
    """Return a verified verdict under a signalled second reading, ``unknown`` where a reading
    the text may intend makes the claim true (a glued range), else ``refuted`` unchanged."""
    if _digits_side_by_side(rel, step_text, values):
        return unknown(UnknownReason.NOT_FORMALIZED,
                       "letters written side by side with one-digit values may be the digits of "
                       "a number (their digits in order are the stated value); as a product the "
                       "claim is false")
    if _glued_period(rel, step_text, values):
        return unknown(UnknownReason.NOT_FORMALIZED,
                       "a decimal glued to a parenthesised digit group ('0.1(6)') may be a "
                       "repeating decimal (then the claim holds) or a product (then it is "
                       "false); the text does not tell which is meant")
    if _range_count(rel, step_text):
        return unknown(UnknownReason.NOT_FORMALIZED,
                       "two whole numbers glued by '-' with the smaller first may name a range "
                       "(its length or count is the stated value); as a subtraction the claim "
                       "is false")
    if "%" in raw_text:
        try:
            plain = parse_chain(raw_text.replace("%", ""))
        except (ArithSyntaxError, TooLargeError):
            plain = []
        if len(plain) > index:
            verdict = check_ground(plain[index], values)
            if verdict is not None and verdict.is_verified:
                if not percent_label_applies(raw_text, index):
                    # true with % as a label, false with % as /100, and the text does not say
                    # which: no verdict either way
                    return unknown(UnknownReason.NOT_FORMALIZED,
                                   "'%' as /100 makes the claim false and as a label true; the "
                                   "text does not tell which is meant")
                if not percent_is_meant(plain[index], raw_text, index, step_text):
                    return unknown(UnknownReason.NOT_FORMALIZED,
                                   "'%' read as a label is not supported by the step (no "
                                   "work on 100 as the whole, no percentage elsewhere); as "
                                   "/100 the claim is false")
                return _with_reading(verdict, "% as a unit label (75% meaning the number 75)")
    if rel.op == "=" and _REMAINDER.search(step_text):
        for toward_zero in (False, True):
            floored = Relation("=", _integer_division(rel.left, values, toward_zero),
                               _integer_division(rel.right, values, toward_zero))
            if floored == rel:
                continue
            verdict = check_ground(floored, values)
            if verdict is not None and verdict.kind == "verified":
                return _with_reading(verdict, "integer division (the step speaks of a remainder)")
    return refuted
