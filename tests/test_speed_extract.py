"""The shortcuts of the reading layer answer as the full scans do (formalizer.hints)."""

from __future__ import annotations

import itertools
import re

import pytest

from formalizer import names, reading, step_scope
from formalizer.hints import absent

# each pattern with the words one of which every match of it contains (formalizer.hints)
HINTED = [
    (reading._CONSEQUENCE, reading._CONSEQUENCE_HINTS),
    (reading._HYPOTHESIS, reading._HYPOTHESIS_HINTS),
    (reading._LOCUS, reading._LOCUS_HINTS),
    (reading._REDUCTIO, reading._REDUCTIO_HINTS),
    (reading._REJECTED_BEFORE, reading._REJECTED_BEFORE_HINTS),
    (reading._CONDITION, reading._CONDITION_HINTS),
    (reading._REDUCTIO_STEP, reading._REDUCTIO_STEP_HINTS),
    (step_scope.DECLARATION, step_scope.DECLARATION_HINTS),
    (step_scope.HYPOTHETICAL, step_scope.HYPOTHETICAL_HINTS),
    (names._INTEGER_DECL, names._INTEGER_HINTS),
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
                assert not absent(hints, text), (pattern.pattern[:40], text)
    assert matched >= 20  # the phrases exercise the pattern


def test_absent_scans_only_ascii_text() -> None:
    """A non-ASCII text is always scanned: IGNORECASE folds 'ſ' onto 's'."""
    assert reading._HYPOTHESIS.search("ſet x = 1")
    assert not absent(reading._HYPOTHESIS_HINTS, "ſet x = 1")
    assert absent(reading._HYPOTHESIS_HINTS, "Natalia sold 48 / 2 = 24 clips")
    assert not absent(reading._HYPOTHESIS_HINTS, "Hypothetically x = 1", 0, 14)
    assert absent(reading._HYPOTHESIS_HINTS, "x = 1 hypothetically", 0, 5)


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


def _corpus() -> list[str]:
    """Every string of the JSON and JSON Lines files in tests/data (problems, steps, LaTeX
    competition solutions, FOL), and texts at the edges of the shortcuts."""
    import json
    from pathlib import Path

    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((Path(__file__).parent / "data").glob("*.json*")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            for line in text.splitlines():
                if line.strip():
                    walk(json.loads(line))
        else:
            walk(json.loads(text))
    out += ["2pii = x", "z = 3i", "x - i", "i^2 = -1", "i ^ {2}", "\\sqrt{-4}", "sqrt(-3)",
            "a complex root", "imaginary part", "Hi, Mississippi taxi", "ſolution is false",
            "x = 2 (FALSE)", "this is ıf x = 1", "Let x be the number", "let y represent",
            "Say z is 4", "n is a positive integer", "k \\in \\mathbb{Z}", "Integers a, b",
            "the function f", "polynomials f_1, f_2", "the sequence x_1, x_2", "f(x) = 2x",
            "P(x)", "T(2) = 3, T(3) = 2T(2) + 1", "FOR x = 2", "ẞ if x = 1", "for(n=1"]
    return out


def test_the_step_and_solution_shortcuts_answer_as_the_full_scans_do() -> None:
    """reductio_step, the step flags, the declarations, the names a solution uses as
    functions or integers and the imaginary unit: the same answer with and without the
    shortcuts, on every text of tests/data."""
    from formalizer.stepcheck import _StepFlags

    texts = _corpus()
    assert len(texts) > 4000
    for text in texts:
        head = text[:20_000]
        assert reading.reductio_step(text) == bool(reading._REDUCTIO_STEP.search(head)), text
        assert _StepFlags(text).hypothetical == bool(step_scope.HYPOTHETICAL.search(text))
        declared = absent(step_scope.DECLARATION_HINTS, text)
        assert not declared or not step_scope.DECLARATION.search(text), text
        assert names.uses_imaginary_unit([text]) == bool(names._IMAGINARY.search(head)), text
        assert names.integer_names([text]) == frozenset(
            letter for m in names._INTEGER_DECL.finditer(head)
            for letter in re.findall(r"[A-Za-z]", next((g for g in m.groups() if g), "")
                                     .replace("and", " "))), text
        full = {names._name(m) for m in names._DEFINED.finditer(text)
                if not m.group(2) or m.group(1) in names._FUNCTION_LETTERS}
        full |= {names._name(m) for m in names._DECLARED.finditer(text) if not m.group(2) or (
            m.group(1) in names._FUNCTION_LETTERS
            and not m.group(0).lower().startswith("sequence"))}
        full |= {names._name(m) for m in names._APPLIED.finditer(text)
                 if m.group(1) in names._FUNCTION_LETTERS}
        assert names.function_names([text]) == frozenset(
            full | names._applied_to_values([text])), text
