"""The line language an LLM writes to formalize a word problem and its CoT steps, and the choice
among sampled outputs.

Problem (once): ``GIVEN name = <expr>`` (a named quantity), ``GIVEN <expr> <rel> <expr>`` (a
stated relation) or ``GIVEN name`` (an unknown quantity). Step: ``DEF name = <expr>`` (a new
quantity the step computes), ``CLAIM <expr> <rel> <expr>`` (a relation the step states; a chain
``a = b = c`` is two claims), or ``NONE``. Expressions use the infix syntax of
:mod:`prover.arith.parse` (``+ - * / ^ %``, parentheses, ``sqrt``); relations are
``= != < <= > >= ~=``. Text is only ever parsed, never evaluated. A line that does not parse is
kept as a ``bad`` line with the reason, so one malformed line never hides the others.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from prover.arith.ast import Expr, Relation, Var, to_smt, variables
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain, parse_expr

LineKind = Literal["given", "def", "claim", "none", "bad"]
MAX_LINES = 40
MAX_LINE_CHARS = 500
_NAME = r"[A-Za-z_][A-Za-z_0-9]*"
_KEYWORD = re.compile(r"^\s*(GIVEN|DEF|CLAIM|NONE)\b\s*(.*)$", re.IGNORECASE)
_DEF = re.compile(rf"^({_NAME})\s*=(?!=)\s*(.+)$")
_BARE_NAME = re.compile(rf"^{_NAME}$")
_RESERVED = frozenset({"sqrt", "GIVEN", "DEF", "CLAIM", "NONE"})


@dataclass(frozen=True)
class FormalLine:
    """One parsed line: ``relations`` (GIVEN/CLAIM; DEF as ``name = expr``), ``name`` (DEF, or a
    bare GIVEN declaration), ``error`` (why a ``bad`` line was rejected)."""

    kind: LineKind
    source: str
    relations: tuple[Relation, ...] = ()
    name: str | None = None
    error: str | None = None
    too_large: bool = False

    def names(self) -> set[str]:
        """Every name the line mentions (the defined or declared name included)."""
        found = {self.name} if self.name else set()
        for rel in self.relations:
            found |= variables(rel)
        return found

    def canonical(self) -> str:
        """A spelling-independent key (kind + SMT-LIB form) used to vote among samples."""
        if self.kind == "bad":
            return f"bad {self.source}"
        body = " ".join(to_smt(rel) for rel in self.relations)
        return f"{self.kind} {self.name or ''} {body}".strip()


def _bad(source: str, error: str, too_large: bool = False) -> FormalLine:
    return FormalLine("bad", source, error=error, too_large=too_large)


def parse_line(text: str, allowed: frozenset[str]) -> FormalLine:
    """Parse one output line whose keyword is in ``allowed`` (``given``/``def``/``claim``/
    ``none``); any other line, or a body that does not parse, becomes a ``bad`` line."""
    source = text.strip()
    if len(source) > MAX_LINE_CHARS:
        return _bad(source[:MAX_LINE_CHARS], f"line longer than {MAX_LINE_CHARS} characters", True)
    match = _KEYWORD.match(source)
    if match is None:
        return _bad(source, "expected a line starting with " + "/".join(
            k.upper() for k in sorted(allowed)))
    keyword, body = match.group(1).lower(), match.group(2).strip()
    if keyword not in allowed:
        return _bad(source, f"{keyword.upper()} is not allowed here")
    try:
        if keyword == "none":
            return FormalLine("none", source) if not body else _bad(source, "text after NONE")
        if keyword == "def":
            parts = _DEF.match(body)
            if parts is None:
                return _bad(source, "expected DEF name = <expression>")
            name = parts.group(1)
            if name in _RESERVED:
                return _bad(source, f"{name!r} is a reserved word")
            expr: Expr = parse_expr(parts.group(2))
            return FormalLine("def", source, (Relation("=", Var(name), expr),), name=name)
        if keyword == "given" and _BARE_NAME.match(body) and body not in _RESERVED:
            return FormalLine("given", source, (), name=body)
        relations = tuple(parse_chain(body))
    except TooLargeError as err:
        return _bad(source, str(err), True)
    except ArithSyntaxError as err:
        return _bad(source, f"{keyword.upper()}: {err}")
    reserved = set().union(*(variables(r) for r in relations)) & _RESERVED
    if reserved:
        return _bad(source, f"reserved word(s) {sorted(reserved)} used as names")
    return FormalLine(keyword, source, relations)  # type: ignore[arg-type]


def parse_block(text: str, allowed: frozenset[str]) -> list[FormalLine]:
    """All non-empty lines of one model output (at most :data:`MAX_LINES`; more is an error
    line)."""
    lines = [line for line in text.splitlines() if line.strip()]
    out = [parse_line(line, allowed) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        out.append(_bad(f"... {len(lines) - MAX_LINES} more lines", f"more than {MAX_LINES} lines"))
    return out


GIVEN_KINDS = frozenset({"given"})
STEP_KINDS = frozenset({"def", "claim", "none"})


def unbound_names(lines: Iterable[FormalLine], known: set[str]) -> list[tuple[int, set[str]]]:
    """``(line index, names)`` for each line that uses a name neither in ``known`` nor defined by
    an earlier accepted DEF of the same block (a DEF's own name is not a use; a DEF that uses an
    unbound name is rejected and defines nothing)."""
    scope = set(known)
    missing: list[tuple[int, set[str]]] = []
    for index, line in enumerate(lines):
        # a DEF uses the names of its right side only (``DEF x = x + 1`` uses x)
        used = variables(line.relations[0].right) if line.kind == "def" else line.names()
        if line.kind in ("def", "claim") and used - scope:
            missing.append((index, used - scope))
            continue  # a rejected DEF binds nothing: later lines on its name are unbound too
        if line.kind == "def" and line.name:
            scope.add(line.name)
    return missing


@dataclass(frozen=True)
class Choice:
    """The output chosen among ``samples`` raw samples and why: ``rule`` is ``majority`` (the
    most frequent well-formed reading, ties to the higher logprob), ``partial`` (no sample fully
    well-formed: the one with most usable lines) or ``empty`` (no samples)."""

    text: str
    lines: list[FormalLine]
    logprob: float | None
    rule: str
    votes: int
    well_formed: int
    samples: int

    def describe(self) -> dict[str, object]:
        """The JSON record of the choice (without the lines themselves)."""
        return {"rule": self.rule, "votes": self.votes, "well_formed": self.well_formed,
                "samples": self.samples}


def _usable(lines: Sequence[FormalLine], known: set[str] | None) -> int:
    """How many lines parse and (when ``known`` is given) use only bound names."""
    missing = {i for i, _ in unbound_names(lines, known)} if known is not None else set()
    return sum(1 for i, line in enumerate(lines) if line.kind != "bad" and i not in missing)


def choose(samples: Sequence[tuple[str, float]], allowed: frozenset[str],
           known: set[str] | None = None) -> Choice:
    """Pick one sample: majority over well-formed samples (every line parses, every name is
    bound given ``known``), keyed by :meth:`FormalLine.canonical`; else the sample with the most
    usable lines; ties go to the higher logprob, then to the earlier sample."""
    if not samples:
        return Choice("", [], None, "empty", 0, 0, 0)
    parsed = [(text, float(lp), parse_block(text, allowed)) for text, lp in samples]
    scored = [(_usable(lines, known), text, lp, lines) for text, lp, lines in parsed]
    good = [(text, lp, lines) for usable, text, lp, lines in scored
            if lines and usable == len(lines)]
    if good:
        keys = [tuple(line.canonical() for line in lines) for _, _, lines in good]
        votes = Counter(keys)
        best_lp: dict[tuple[str, ...], float] = {}
        for key, (_, lp, _) in zip(keys, good, strict=True):
            best_lp[key] = max(lp, best_lp.get(key, lp))
        winner = max(votes, key=lambda key: (votes[key], best_lp[key]))
        index = max((i for i, k in enumerate(keys) if k == winner),
                    key=lambda i: (good[i][1], -i))
        text, lp, lines = good[index]
        return Choice(text, lines, lp, "majority", votes[winner], len(good), len(samples))
    index = max(range(len(scored)), key=lambda i: (scored[i][0], scored[i][2], -i))
    _, text, lp, lines = scored[index]
    return Choice(text, lines, lp, "partial", 1, 0, len(samples))
