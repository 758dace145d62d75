"""Symbolic mutations of one CoT solution's step texts (labelled negatives for step-level data).

A step's *computations* are found in its text: each calculator annotation ``<<48/2=24>>`` with
the number shown after it and, when the prose just before states the same operands, the prose
operands and operators (``48/2 = <<48/2=24>>24``); and bare prose equations ``48 + 24 = 70``.
Every token of a computation is a *group* of text spans that spell the same value, so a
mutation edits all of them at once and the step stays self-consistent (``48/3 = <<48/3=24>>24``).

Operators (:data:`OPS`): ``number`` (an operand or the result moves by 2..9), ``operator``
(``+``↔``-``, ``*``↔``/``), ``unit`` (a conversion factor replaced by a wrong one: 60→100 in a
minutes/hours step, 1000→100 for km/m, ...), ``off_by_one`` (the result ±1), ``drop_step`` and
``repeat_step``. Only the mutated step changes; later steps keep their stated text. The first
four (:data:`VALUE_OPS`) target one step; the label of any mutant is still decided by the step
checker, never assumed here. Everything is a pure function of the steps and the ``Random``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

OPS: tuple[str, ...] = ("number", "operator", "unit", "off_by_one", "drop_step", "repeat_step")
VALUE_OPS = frozenset({"number", "operator", "unit", "off_by_one"})

Span = tuple[int, int]
_NUM = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
_NUM_RE = re.compile(rf"(?<![\w.]){_NUM}")
_ANNOTATION = re.compile(r"<<([^<>\n=]*)=\s*(-?" + _NUM + r")\s*>>")
_VISIBLE = re.compile(rf"\$?({_NUM})")
_ANN_OP = re.compile(r"[-+*/]")
_PROSE_OP = re.compile(r"(?<=\s)[xX](?=\s)|[-+*/×÷−–]")
_PROSE_EQ = re.compile(rf"(?<![\w.,$]){_NUM}%?(?:\s*(?:[-+*/×÷−–]|\s[xX]\s)\s*\$?{_NUM}%?)+"
                       rf"\s*=\s*\$?({_NUM})(?!\w|\.\d)")
_SWAP = {"+": "-", "-": "+", "−": "+", "–": "+", "*": "/", "/": "*", "x": "/", "X": "/",
         "×": "÷", "÷": "×"}

# conversion factor -> (the wrong factor used instead, words that mark a step about that unit)
UNIT_CONFUSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "60": ("100", ("minute", "hour", "second", "min", "hr")),
    "3600": ("1000", ("second", "hour")),
    "1000": ("100", ("km", "kilomet", "meter", "metre", "gram", "kg", "ml", "liter", "litre")),
    "100": ("1000", ("cent", "cm", "meter", "metre", "dollar")),
    "12": ("10", ("inch", "feet", "foot", "month", "year", "dozen")),
    "24": ("12", ("hour", "day")),
    "7": ("5", ("day", "week")),
    "52": ("48", ("week", "year")),
    "16": ("12", ("ounce", "pound", "oz")),
    "365": ("360", ("day", "year")),
}


@dataclass(frozen=True)
class Computation:
    """One computation of a step: each operand, operator and the result as a group of spans."""

    operands: tuple[tuple[Span, ...], ...]
    operators: tuple[tuple[Span, ...], ...]
    result: tuple[Span, ...]


@dataclass(frozen=True)
class Mutation:
    """A mutant: ``steps`` is the whole mutated solution; ``step`` the index (in the mutant) of
    the changed step; ``source``/``target`` the replaced token or step text (None if none)."""

    op: str
    step: int
    source: str | None
    target: str | None
    steps: tuple[str, ...] = field(repr=False)

    def record(self) -> dict[str, Any]:
        """The row's ``mutation`` field."""
        return {"op": self.op, "step": self.step, "from": self.source, "to": self.target}


# --------------------------------------------------------------------------- finding
def _value(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _numbers(text: str, lo: int, hi: int) -> list[Span]:
    return [(m.start(), m.end()) for m in _NUM_RE.finditer(text, lo, hi)]


def _binary_ops(text: str, spans: list[Span], pattern: re.Pattern[str]) -> list[Span] | None:
    """The one operator token between each pair of consecutive numbers, or None if any gap has
    none or several (a unit slash such as ``snakes/jaguar`` does not count)."""
    ops: list[Span] = []
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        found = [(m.start(), m.end()) for m in pattern.finditer(text, end, start)
                 if not (m.group() in "/-" and m.start() > 0 and text[m.start() - 1].isalpha())]
        if len(found) != 1:
            return None
        ops.append(found[0])
    return ops


def _annotation(text: str, match: re.Match[str], prose_lo: int) -> Computation:
    """An annotation, the number shown after it, and the prose operands just before it."""
    ann = _numbers(text, match.start(1), match.end(1))
    ann_ops = _binary_ops(text, ann, _ANN_OP) or []
    result = [(match.start(2), match.end(2))] if not match.group(2).startswith("-") else []
    visible = _VISIBLE.match(text, match.end())
    if result and visible and _value(visible.group(1)) == _value(match.group(2)):
        result.append((visible.start(1), visible.end(1)))
    prose = _numbers(text, prose_lo, match.start())[-len(ann):] if ann else []
    before = text[prose[-1][1]:match.start()] if prose else ""
    coupled = (len(prose) == len(ann) and "=" in before and
               all(_value(text[a[0]:a[1]]) == _value(text[p[0]:p[1]])
                   for a, p in zip(ann, prose, strict=True)))
    if not coupled:
        return Computation(tuple((a,) for a in ann), tuple((o,) for o in ann_ops), tuple(result))
    prose_ops = _binary_ops(text, prose, _PROSE_OP) or []
    same = len(prose_ops) == len(ann_ops) and all(
        (text[a[0]:a[1]] in "+-") == (text[p[0]:p[1]] in "+-−–")
        for a, p in zip(ann_ops, prose_ops, strict=False))
    operators = [(a, p) for a, p in zip(ann_ops, prose_ops, strict=True)] if same else \
        [(a,) for a in ann_ops]
    return Computation(tuple(zip(ann, prose, strict=True)), tuple(operators), tuple(result))


def computations(text: str) -> list[Computation]:
    """Every computation of one step's text, in order (annotations, then bare prose equations
    outside them)."""
    out: list[Computation] = []
    covered: list[Span] = []
    prose_lo = 0
    for match in _ANNOTATION.finditer(text):
        out.append(_annotation(text, match, prose_lo))
        visible = _VISIBLE.match(text, match.end())
        prose_lo = visible.end() if visible else match.end()
        covered.append((match.start(), prose_lo))
    for match in _PROSE_EQ.finditer(text):
        if any(lo < match.end() and match.start() < hi for lo, hi in covered):
            continue
        nums = _numbers(text, match.start(), match.end())
        ops = _binary_ops(text, nums[:-1], _PROSE_OP) or []
        out.append(Computation(tuple((s,) for s in nums[:-1]), tuple((o,) for o in ops),
                               (nums[-1],)))
    return out


# --------------------------------------------------------------------------- editing
def _format_like(value: Decimal, original: str) -> str:
    """``value`` spelled like ``original``: same decimal places, thousands commas kept."""
    places = len(original.split(".", 1)[1]) if "." in original else 0
    spelled = f"{value:,.{places}f}" if "," in original else f"{value:.{places}f}"
    if original.startswith(".") and spelled.startswith("0."):
        spelled = spelled[1:]
    return spelled


def _edit(text: str, group: Sequence[Span], make: Callable[[str], str]) -> str:
    for start, end in sorted(group, reverse=True):
        text = text[:start] + make(text[start:end]) + text[end:]
    return text


def _shifted(value: Decimal, rng: random.Random, small: bool) -> Decimal:
    delta = Decimal(1 if small else rng.randint(2, 9))
    if rng.random() < 0.5 and value - delta >= 0:
        return value - delta
    return value + delta


def _replace_value(steps: Sequence[str], index: int, group: Sequence[Span], new: Decimal,
                   op: str) -> Mutation | None:
    text = steps[index]
    source = text[group[0][0]:group[0][1]]
    mutated = _edit(text, group, lambda old: _format_like(new, old))
    if mutated == text:
        return None
    return Mutation(op, index, source, _format_like(new, source),
                    (*steps[:index], mutated, *steps[index + 1:]))


def _number(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    comps = computations(steps[index])
    groups = [g for c in comps for g in (*c.operands, c.result) if g]
    if not groups:
        return None
    group = rng.choice(groups)
    value = _value(steps[index][group[0][0]:group[0][1]])
    return None if value is None else _replace_value(steps, index, group,
                                                     _shifted(value, rng, False), "number")


def _off_by_one(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    groups = [c.result for c in computations(steps[index]) if c.result]
    if not groups:
        return None
    group = rng.choice(groups)
    value = _value(steps[index][group[0][0]:group[0][1]])
    return None if value is None else _replace_value(steps, index, group,
                                                     _shifted(value, rng, True), "off_by_one")


def _operator(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    groups = [g for c in computations(steps[index]) for g in c.operators]
    if not groups:
        return None
    group = rng.choice(groups)
    text = steps[index]
    source = text[group[0][0]:group[0][1]]
    mutated = _edit(text, group, lambda old: _SWAP.get(old, old))
    return Mutation("operator", index, source, _SWAP.get(source, source),
                    (*steps[:index], mutated, *steps[index + 1:]))


def _unit_groups(text: str) -> list[tuple[tuple[Span, ...], str]]:
    lowered = text.lower()
    out = []
    for comp in computations(text):
        for group in comp.operands:
            spelled = text[group[0][0]:group[0][1]].replace(",", "")
            wrong, words = UNIT_CONFUSIONS.get(spelled, ("", ()))
            if wrong and any(w in lowered for w in words):
                out.append((group, wrong))
    return out


def _unit(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    found = _unit_groups(steps[index])
    if not found:
        return None
    group, wrong = rng.choice(found)
    return _replace_value(steps, index, group, Decimal(wrong), "unit")


def _drop(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    if len(steps) < 2:
        return None
    return Mutation("drop_step", index, steps[index], None,
                    (*steps[:index], *steps[index + 1:]))


def _repeat(steps: Sequence[str], index: int, rng: random.Random) -> Mutation | None:
    return Mutation("repeat_step", index + 1, None, steps[index],
                    (*steps[:index + 1], steps[index], *steps[index + 1:]))


_APPLY: dict[str, Callable[[Sequence[str], int, random.Random], Mutation | None]] = {
    "number": _number, "operator": _operator, "unit": _unit, "off_by_one": _off_by_one,
    "drop_step": _drop, "repeat_step": _repeat,
}
_APPLIES: dict[str, Callable[[str], bool]] = {
    "number": lambda t: any(c.operands or c.result for c in computations(t)),
    "operator": lambda t: any(c.operators for c in computations(t)),
    "unit": lambda t: bool(_unit_groups(t)),
    "off_by_one": lambda t: any(c.result for c in computations(t)),
    "drop_step": lambda t: bool(computations(t)),
    "repeat_step": lambda t: bool(computations(t)),
}


def mutate(steps: Sequence[str], op: str, index: int, rng: random.Random) -> Mutation | None:
    """Apply ``op`` to step ``index`` (None when it has no site there or changes nothing)."""
    if op not in _APPLY:
        raise ValueError(f"unknown mutation {op!r}; choose one of {', '.join(OPS)}")
    mutation = _APPLY[op](steps, index, rng)
    return None if mutation is None or tuple(mutation.steps) == tuple(steps) else mutation


def sample_mutations(steps: Sequence[str], count: int, rng: random.Random,
                     allowed: Sequence[int] | None = None,
                     ops: Sequence[str] = OPS) -> list[Mutation]:
    """Up to ``count`` distinct mutants: operators in a shuffled round-robin (so one solution's
    mutants differ in kind), each at a random step of ``allowed`` (default: all) where it
    applies. Deterministic given ``rng``'s state."""
    where = list(range(len(steps))) if allowed is None else list(allowed)
    order = list(ops)
    rng.shuffle(order)
    sites = {op: [i for i in where if _APPLIES[op](steps[i])] for op in order}
    out: list[Mutation] = []
    seen = {tuple(steps)}
    stalled = 0
    while len(out) < count and stalled < 3 * len(order):
        progressed = False
        for op in order:
            if len(out) >= count or not sites[op]:
                continue
            mutation = mutate(steps, op, rng.choice(sites[op]), rng)
            if mutation is not None and mutation.steps not in seen:
                seen.add(mutation.steps)
                out.append(mutation)
                progressed = True
        stalled = 0 if progressed else stalled + 1
    return out
