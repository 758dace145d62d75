"""What a prose run's operands are: ground tests of one link, the links of a running total, and
the prose before a run's first operand that makes it something other than the value compared.

Pure functions of tokens and relations, used by :mod:`formalizer.extract`:
:func:`ground_kind` / :func:`holds` / :func:`fails` (one link as ground arithmetic),
:func:`running_total` (``4 * 5 = 20 + 10 = 30``: the writer carries a value forward),
:func:`prose_argument` (``the price of 2 apples = 4``, ``a 20% tip = $9.12``, ``Box 1 = 12``:
why the first operand is not what its relation speaks of) and :func:`shares_of_wholes`
(``3/3 - 2/3 = 1/3 of $150``: a share next to the whole it is of).
"""

from __future__ import annotations

import math

from formalizer.lexical import NUMBER_WORDS, OPERATOR_WORDS, STOP_WORDS
from formalizer.regions import render
from formalizer.tokens import Tok
from formalizer.units import is_unit_word
from prover.arith.ast import Bin, Expr, Num, Relation, variables
from prover.arith.check import check_ground
from prover.arith.evaluate import evaluate
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain


def ground_kind(link: str) -> str | None:
    """The verdict kind of ``link`` as ground arithmetic; None when it does not parse as one
    relation or needs more than exact evaluation."""
    try:
        relations = parse_chain(link)
    except (ArithSyntaxError, TooLargeError):
        return None
    if len(relations) != 1:
        return None
    verdict = check_ground(relations[0])
    return None if verdict is None else verdict.kind


def holds(link: str) -> bool:
    """True when ``link`` parses and holds as ground arithmetic (False when unknown)."""
    return ground_kind(link) in ("verified", "verified_approx")


def fails(link: str) -> bool:
    """True when ``link`` parses and is refuted as ground arithmetic."""
    return ground_kind(link) == "refuted"


def ground_fails(rel: Relation) -> bool | None:
    """Whether ``rel`` is refuted as ground arithmetic; None when it is not ground arithmetic."""
    verdict = check_ground(rel)
    return None if verdict is None else verdict.kind == "refuted"


def _leading_literal(expr: Expr) -> Num | None:
    """The literal a compound expression is written to start with and then goes on from with
    ``+``, ``-`` or ``*`` (``20`` in ``20 + 10`` and in ``20 * 3 - 1``), or None when ``expr``
    is a lone literal, starts with anything else, or starts with a fraction (``385/6``: a
    value written as a fraction, never a total carried on)."""
    if not isinstance(expr, Bin) or expr.op not in ("+", "-", "*", "/"):
        return None
    while isinstance(expr, Bin) and expr.op in ("+", "-", "*", "/"):
        if expr.op == "/" and isinstance(expr.left, Num):
            return None
        expr = expr.left
    return expr if isinstance(expr, Num) else None


def running_total(rel: Relation) -> bool:
    """``rel`` is a link of a running total (``4 * 5 = 20 + 10 = 30``): a ground ``=`` that
    fails as an equation, whose right side starts with a literal that is exactly the left
    side's rational value and then goes on with an operator. The writer carries the value
    forward; the link is not an equation the text asserts. A left side without a rational
    value (``2\\sqrt{7}``) is never a running total."""
    if rel.op != "=" or variables(rel) or not ground_fails(rel):
        return False
    lead = _leading_literal(rel.right)
    if lead is None:
        return False
    try:
        return lead.value == evaluate(rel.left)
    except (ArithmeticError, KeyError, ValueError):  # no rational value (a radical, too large)
        return False


_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
# nouns naming a function of what follows "of" ("the units digit of 3^4", "the remainder of
# 17/5"): a failing link from that operand says nothing of the noun's value
_ARGUMENT_NOUNS = frozenset(
    "digit digits remainder quotient floor ceiling part square cube root reciprocal inverse "
    "factorial log logarithm sine cosine tangent absolute divisor divisors factor factors "
    "multiple multiples residue exponent negative opposite".split())


# the words after a noun that name what its quantity is of, on or for ("the price of 2 apples",
# "the tax on $80", "shipping for 3 items"): the number after them is not the noun's value
_OF_WORDS = frozenset({"of", "on", "for"})


def _share_of_whole(tokens: list[Tok], kinds: list[str], start: int, first: int,
                    end: int) -> str | None:
    """Why a lone percentage or proper fraction (``2/3``) before the run's first relation is
    not the value compared, or None: the first link ``tokens[start:end]`` fails as written,
    and either the share names a quantity in prose (``a 20% tip = $9.12``, ``10 liters with
    2/3 water = 20/3 liters``: the tip is 20% of a whole) or the other side is a whole count
    of named things (``25% = 10 students``: 25% of the class), or a whole number set equal to
    a plain share (:func:`_plain_share`: ``1/3 = 10 are red``). A lone share against a bare
    number (``20% = 0.3``, ``2/3 = 0.6``) or a division worked out (``4/12 = 3``) is compared
    as written."""
    share_end = _share_end(tokens, start)
    if share_end is None:
        return None
    between = range(share_end, first)
    if any(kinds[k] not in ("word", "label") for k in between):
        return None  # "20% * 50 = 10": an expression, read as written
    named = any(tokens[k].kind == "word" for k in between)
    other = tokens[first + 1] if first + 2 == end else None
    whole = other is not None and other.kind == "num" and other.value.isdigit()
    # a plain share set equal to a count (``1/3 = 10 are red``, ``25% = 10``): no reading of
    # the text makes that an equation of numbers; the whole is named elsewhere
    counted = whole and (
        (end < len(tokens) and tokens[end].kind == "word"
         and _alphabetic_label(tokens[end].value))
        or (tokens[first].value == "=" and int(other.value) >= 1
            and _plain_share(tokens, start)))
    if not (named or counted) or not fails(render(tokens, kinds, start, end)):
        return None
    share = "".join(tok.value for tok in tokens[start:share_end])
    return f"'{share}' is a share of a whole the text names in prose, not the value compared"


def _share_end(tokens: list[Tok], start: int) -> int | None:
    """The end of the share written at ``start``: a percentage (``20%``) or a proper fraction
    of whole numbers (``2 / 3``); None when none starts there."""
    if tokens[start].kind != "num":
        return None
    if tokens[start].value.endswith("%"):
        return start + 1
    if start + 2 < len(tokens) and tokens[start + 1].value == "/" and (
            tokens[start + 2].kind == "num") and tokens[start].value.isdigit() and (
            tokens[start + 2].value.isdigit()) and (
            0 < int(tokens[start].value) < int(tokens[start + 2].value)):
        return start + 3
    return None


#: the largest denominator of a share written alone (``1/3``, ``5/12``); ``8/1000`` or
#: ``20/30`` against a count is a division, and a wrong one (``4/12 = 3``) is an error
_SHARE_DENOMINATOR_MAX = 12


def _plain_share(tokens: list[Tok], start: int) -> bool:
    """The share at ``start`` (:func:`_share_end`) is one a text names a part of a whole by: a
    percentage under 100%, or a proper fraction in lowest terms with a denominator of at most
    :data:`_SHARE_DENOMINATOR_MAX` (not a division worked out: ``2/4``, ``20/30``)."""
    value = tokens[start].value
    if value.endswith("%"):
        try:
            return float(value[:-1]) < 100
        except ValueError:
            return False
    top, bottom = int(value), int(tokens[start + 2].value)  # _share_end: whole numbers
    return math.gcd(top, bottom) == 1 and bottom <= _SHARE_DENOMINATOR_MAX


def _alphabetic_label(word: str) -> bool:
    """``word`` may label a count (``students``): a word, not one that ends the clause."""
    return word.isalpha() and word.lower() not in STOP_WORDS


# words between "of" and its number ("25% of the remaining 16", "half of those 30")
_DETERMINERS = frozenset(
    "the a an remaining other rest first last these those her his their its original "
    "initial total".split())


def _named_by_a_label(tokens: list[Tok], kinds: list[str], lo: int, start: int, first: int,
                      end: int) -> str | None:
    """Why a lone whole number right after a capitalised noun (``Box 1 = 12``, ``Round 2 = 15
    points``) is not the value compared, or None: the noun and the number name a quantity (an
    index, not an amount) and the first link ``tokens[start:end]`` fails as written. A word
    that ends a clause, counts or operates (``is``, ``twice``, ``times``), or a lower-case word
    (a verb as often as a label: ``costs 10 = 12``) is no such label."""
    if start != lo or lo < 1 or first != start + 1 or kinds[lo - 1] != "word":
        return None
    word, number = tokens[lo - 1].value, tokens[start].value
    if not (word.isalpha() and word[0].isupper() and number.isdigit()) or (
            word.lower() in STOP_WORDS | NUMBER_WORDS) or word.lower() in (
            OPERATOR_WORDS | _OF_WORDS) or is_unit_word(word):
        return None
    if not fails(render(tokens, kinds, start, end)):
        return None
    return f"'{word} {number}' names a quantity (a label and its number), not the value compared"


def _count_against_number(tokens: list[Tok], kinds: list[str], lo: int, start: int, first: int,
                          end: int) -> str | None:
    """Why a count of named things set against a bare number (``1 ticket = $5``, ``3 apples =
    6``: the ``$`` is gone before tokens are read) is not compared, or None: the run starts
    with a whole number and label words (no unit of the registry, which converts units
    itself), its first link is ``=`` to one number, that number is not followed by one of the
    same labels (``3 apples = 6 apples`` is compared), and the link fails as written. The
    number may be a price, a total or another unit's amount; the text does not say which."""
    if start != lo or tokens[start].kind != "num" or first + 2 != end or (
            tokens[first].value != "=" or tokens[first + 1].kind != "num"):
        return None
    labels = [tokens[k].value.lower() for k in range(start + 1, first)]
    if not labels or any(tokens[k].kind != "word" or kinds[k] != "word"
                         for k in range(start + 1, first)):
        return None
    if any(word in STOP_WORDS or is_unit_word(word) for word in labels):
        return None
    if end < len(tokens) and tokens[end].kind == "word" and tokens[end].value.lower() in labels:
        return None
    if not fails(render(tokens, kinds, start, end)):
        return None
    return (f"'{tokens[start].value} {' '.join(labels)} = {tokens[first + 1].value}': a count "
            "of named things set against a number whose kind is not stated (a price, a "
            "total); not compared")


def prose_argument(tokens: list[Tok], kinds: list[str], lo: int, hi: int) -> str | None:
    """Why the run's first operand is not the value its first relation speaks of, or None:
    a number glued to an ordinal suffix (``the 10th triangular number = 55``: a position), a
    lone number after ``<noun> of|on|for`` (``the square of 5 = 25``, ``the price of 2 apples =
    4``, ``the tax on $80 = 0.08 * 80``, ``shipping for 3 items = $4.50``: what the quantity
    named in prose is of, on or for; after ``on``/``for`` only when the first link fails), a
    share named in prose (:func:`_share_of_whole`), a capitalised label and its index
    (:func:`_named_by_a_label`), a count of named things against a bare number
    (:func:`_count_against_number`), a number after ``of`` and determiners whose first link fails
    (``25% of the remaining 16 = 4``), a lone number after ``at`` whose first link fails
    (``3 shirts at $12 = $36``: a price or a rate), or an expression after a function noun
    whose first link fails (``the units digit of 3^4 = 1``)."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    if not rels or rels[0] == lo:
        return None
    first = rels[0]
    end = rels[1] if len(rels) > 1 else hi  # the end of the first link
    start = lo + (tokens[lo].value == "-" and first > lo + 1)  # "the absolute value of -3"
    if tokens[start].kind != "num" and kinds[start] != "var":
        return None
    nxt = tokens[start + 1]
    if tokens[start].kind == "num" and nxt.kind == "word" and (
            nxt.value.lower() in _ORDINAL_SUFFIXES) and tokens[start].end == nxt.start:
        return (f"'{tokens[lo].value}{nxt.value}' is an ordinal (a position), not the value "
                "compared")
    share = _share_of_whole(tokens, kinds, start, first, end)
    if share is not None:
        return share
    named = _named_by_a_label(tokens, kinds, lo, start, first, end) or _count_against_number(
        tokens, kinds, lo, start, first, end)
    if named is not None:
        return named
    at = lo - 1  # back over determiners to "of", "on" or "for"
    while at >= 0 and kinds[at] == "word" and tokens[at].value.lower() in _DETERMINERS:
        at -= 1
    if lo - 1 > at >= 0 and kinds[at] == "word" and tokens[at].value.lower() in _OF_WORDS and (
            tokens[start].kind == "num") and fails(render(tokens, kinds, start, end)):
        return (f"'{tokens[at].value} ... {tokens[start].value}': the number is what a part or "
                "a quantity named in prose is taken of, not its value")
    if lo >= 1 and kinds[lo - 1] == "word" and tokens[lo - 1].value.lower() == "at" and (
            tokens[start].kind == "num") and all(
            kinds[k] in ("word", "label") and not is_unit_word(tokens[k].value)
            for k in range(start + 1, first)) and fails(render(tokens, kinds, start, end)):
        return (f"'at {tokens[start].value}': the number after 'at' is a price or a rate "
                "('3 shirts at $12 = $36'), not the value compared")
    if lo < 2 or kinds[lo - 1] != "word" or tokens[lo - 1].value.lower() not in _OF_WORDS or (
            tokens[lo - 2].kind != "word"):
        return None
    noun, of = tokens[lo - 2].value.lower(), tokens[lo - 1].value.lower()
    if noun in NUMBER_WORDS:
        return None  # "a third of 12": read (or refused) by the lexical reader
    lone = sum(kinds[k] not in ("word", "label") for k in range(start, first)) == 1
    if lone and tokens[start].kind != "num" and noun not in _ARGUMENT_NOUNS:
        return None  # "the value of x = 3" says what x is
    if lone and len(rels) > 1 and any(kinds[k] in ("word", "label") for k in range(start, first)):
        return None  # "Area of 1 bedroom = 11 * 11 = 121": the count's links are read as before
    if lone and of != "of" and not fails(render(tokens, kinds, start, end)):
        return None  # "on sale for 20% = 0.2 off": a link that holds is read as written
    if lone:
        return (f"'{noun} {of} {tokens[lo].value}': the number is what the quantity named in "
                f"prose is {of}, not its value")
    if noun in _ARGUMENT_NOUNS and fails(render(tokens, kinds, lo, end)):
        return (f"'{noun} of ...': the operand is the argument of a quantity named in prose, "
                "not its value")
    return None


def shares_of_wholes(tokens: list[Tok], kinds: list[str], lo: int,
                     hi: int) -> dict[int, str]:
    """``3/3 - 2/3 = 1/3 of $150 left``, ``1 - 2/3 = 1/3 of 90 = 30``: the links of the run
    ``tokens[lo:hi]`` whose right side is a share (a proper fraction or a percentage) ``of`` a
    number and that fail as written (``1/3 = 50``) but hold with the share alone (``3/3 - 2/3
    = 1/3``): the number may name the whole the share is of rather than a factor. Each as its
    relation's token index and why the link is not compared."""
    rels = [k for k in range(lo, hi) if tokens[k].kind == "rel"]
    out: dict[int, str] = {}
    for i, rel in enumerate(rels):
        end = rels[i + 1] if i + 1 < len(rels) else hi
        of = end - 2
        if of - 1 <= rel or tokens[end - 1].kind != "num" or kinds[of] != "times" or (
                tokens[of].value.lower() != "of"):
            continue
        share = of - 1 if tokens[of - 1].value.endswith("%") else of - 3
        if share != rel + 1 or _share_end(tokens, share) != of:
            continue
        left = rels[i - 1] + 1 if i else lo
        if left < rel and fails(render(tokens, kinds, left, end)) and holds(
                render(tokens, kinds, left, of)):
            named = " ".join(tok.value for tok in tokens[share:end])
            out[rel] = (f"'{named}' may be a share and the whole it is of, not the share times "
                        "that number: the link holds for the share alone; not compared")
    return out
