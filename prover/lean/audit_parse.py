"""Reading what the audit is given, on Lean tokens: the theorem statement (a leading docstring,
attributes and a ``:= ...`` part allowed), the header (its imports; a trailing docstring cut
off), and the submitted proof in one of three forms, plus the text checks on them.

Proof forms: ``tactics`` (a search's tactic path, rendered ``head := by`` + the tactics),
``term`` (the text after ``:=``, e.g. ``by simp`` or a multi-line term, compiled VERBATIM
after the statement: nothing is rewritten), ``declaration`` (a whole declaration or file:
allowed preamble commands, then the declaration of the statement's name, whose statement must
equal the one asked token by token; its text after ``:=`` is then compiled verbatim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from prover.lean.lint import (
    BANNED_OPTIONS,
    PREAMBLE_COMMANDS,
    LexError,
    Token,
    lint_tokens,
    segments,
    tokenize,
    uses_native,
)

MATHLIB_CLOSURE = ("Mathlib", "Aesop", "Batteries", "Qq", "ProofWidgets", "Plausible",
                   "ImportGraph", "LeanSearchClient", "Init", "Std", "Lean")
"""Module roots that ``import Mathlib`` already brings in (a submission may repeat them)."""
THEOREM_KINDS = ("theorem", "lemma", "example")


class StatementError(ValueError):
    """The statement is not a ``theorem``/``lemma``/``example`` the audit can read."""


@dataclass(frozen=True)
class Statement:
    """``head``: the statement from its keyword to before ``:=`` (leading comments and
    docstrings dropped); ``name``: the constant (None for ``example``), as written
    (``«a b»`` kept) for use after ``_root_.``."""

    head: str
    kind: str
    name: str | None
    tokens: tuple[Token, ...]


def _decl_cut(tokens: Sequence[Token], start: int) -> int:
    """Index of the ``:`` of the first ``:=`` at bracket depth 0 at or after ``start`` (or
    len(tokens) when there is none)."""
    depth = 0
    for i in range(start, len(tokens)):
        text = tokens[i].text
        if text in "([{⟨⦃" and tokens[i].kind == "symbol":
            depth += 1
        elif text in ")]}⟩⦄" and tokens[i].kind == "symbol":
            depth = max(0, depth - 1)
        elif (depth == 0 and text == ":" and i + 1 < len(tokens) and tokens[i + 1].text == "="
              and tokens[i + 1].start == tokens[i].end):
            return i
    return len(tokens)


def _keyword_index(tokens: Sequence[Token], first: int, last: int) -> int | None:
    for i in range(first, last):
        if tokens[i].kind == "ident" and tokens[i].text in THEOREM_KINDS:
            return i
    return None


def parse_statement(text: str) -> Statement:
    """The statement's head, kind and name. Raises StatementError."""
    try:
        tokens = tokenize(text)
    except LexError as exc:
        raise StatementError(f"cannot read the statement: {exc}") from None
    segs = segments(tokens)
    if not segs:
        raise StatementError("empty theorem statement")
    seg = segs[0]
    if seg.keyword not in THEOREM_KINDS:
        raise StatementError(f"not a `theorem`, `lemma` or `example` statement (starts with "
                             f"`{seg.keyword or tokens[0].text}`)")
    if len(segs) > 1:
        raise StatementError(f"the statement holds more than one command "
                             f"(`{segs[1].keyword}`)")
    kw = _keyword_index(tokens, seg.first, seg.last)
    assert kw is not None
    cut = _decl_cut(tokens, kw)
    if cut <= kw + 1:
        raise StatementError("empty theorem statement")
    head = text[tokens[kw].start:tokens[cut - 1].end]
    name = None
    if tokens[kw].text != "example":
        if tokens[kw + 1].kind != "ident":
            raise StatementError("the theorem has no name")
        name = text[tokens[kw + 1].start:tokens[kw + 1].end]
    return Statement(head, tokens[kw].text, name, tuple(tokens[kw:cut]))


def header_imports(header: str) -> list[str]:
    """Module names imported by ``header``."""
    tokens = tokenize(header)
    return [t.text for i, t in enumerate(tokens)
            if i and tokens[i - 1].text == "import" and t.kind == "ident"]


def clean_header(header: str) -> str:
    """``header`` without a docstring after its last command (PutnamBench headers end in the
    theorem's docstring; a doc comment alone is not a command). Other text is kept."""
    try:
        tokens = tokenize(header)
    except LexError:
        return header
    tail_from = tokens[-1].end if tokens else 0
    doc = header.find("/--", tail_from)
    return header[:doc].rstrip() if doc >= 0 else header


def header_namespace(header: str) -> str:
    """The namespace still open at the end of ``header`` (``namespace A`` ... ``end A``), ``""``
    for none: a theorem stated after it is the constant ``A.name``."""
    try:
        tokens = tokenize(header)
    except LexError:
        return ""
    stack: list[str] = []
    for seg in segments(tokens):
        span = tokens[seg.first:seg.last]
        at = next((i for i, t in enumerate(span) if t.text == seg.keyword), None)
        if at is None:
            continue
        name = span[at + 1].text if at + 1 < len(span) and span[at + 1].kind == "ident" else ""
        if seg.keyword == "namespace" and name:
            stack.append(name)
        elif seg.keyword == "section":
            stack.append("")
        elif seg.keyword == "end" and stack:
            stack.pop()
    return ".".join(part for part in stack if part)


def covered(module: str, imports: Sequence[str]) -> bool:
    """True when ``import module`` adds nothing to a header importing ``imports``."""
    return module in imports or ("Mathlib" in imports and
                                 module.split(".")[0] in MATHLIB_CLOSURE)


def _same_statement(asked: Sequence[Token], given: Sequence[Token]) -> bool:
    def norm(tokens: Sequence[Token]) -> list[tuple[str, str]]:
        out = [(t.kind, t.text) for t in tokens]
        if out and out[0][1] == "lemma":
            out[0] = ("ident", "theorem")
        return out
    return norm(asked) == norm(given)


@dataclass
class Submission:
    """The proof as read: ``form``, the compiled ``source`` (without the header), the
    ``header`` actually used, the text-check problems (``statement`` / ``lint``), and
    whether it asks for native code and which helper names it declares."""

    form: str
    source: str = ""
    header: str = ""
    statement_problems: list[str] = field(default_factory=list)
    lint_problems: list[str] = field(default_factory=list)
    native: bool = False
    helpers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render_tactics(head: str, tactics: Sequence[str]) -> str:
    """``head := by tac`` for one one-line tactic, else the tactics indented by two."""
    body = "\n".join(tactics)
    lines = body.split("\n")
    if len(lines) == 1:
        return f"{head} := by {body}"
    return f"{head} := by\n" + "\n".join(f"  {line}" if line.strip() else "" for line in lines)


def read_submission(stmt: Statement, proof: str | None, tactics: Sequence[str] | None,
                    header: str, *, allow_native: bool, max_chars: int) -> Submission:
    """Read ``proof`` (or ``tactics`` when ``proof`` is None) against ``stmt`` and run the
    text checks. Never raises: every problem is recorded on the result."""
    header = clean_header(header)
    text = "\n".join(tactics or ()) if proof is None else proof
    form = "tactics" if proof is None else "term"
    if len(text) > max_chars:
        sub = Submission(form, header=header)
        sub.lint_problems.append(f"proof longer than {max_chars} characters")
        return sub
    try:
        tokens = tokenize(text)
    except LexError as exc:
        sub = Submission(form, header=header)
        sub.lint_problems.append(f"cannot read the proof: {exc}")
        return sub
    if not tokens:
        sub = Submission(form, header=header)
        sub.lint_problems.append("empty proof")
        return sub
    segs = segments(tokens)
    if proof is not None and segs[0].keyword not in ("", "by"):
        if any(s.keyword in (*THEOREM_KINDS, "import") for s in segs):
            return _declaration(stmt, text, tokens, header, allow_native)
    if proof is not None and len(tokens) > 1 and tokens[0].text == ":" and \
            tokens[1].text == "=" and tokens[1].start == tokens[0].end:
        text, tokens = text[tokens[1].end:], tokens[2:]  # the proof was given with its `:=`
        if not tokens:
            sub = Submission(form, header=header)
            sub.lint_problems.append("empty proof")
            return sub
    sub = Submission(form, header=header, native=uses_native(tokens))
    sub.lint_problems += lint_tokens(tokens, allow_native=allow_native)
    sub.source = (render_tactics(stmt.head, tactics or ()) if proof is None
                  else f"{stmt.head} := {text.strip()}")
    return sub


def _declaration(stmt: Statement, text: str, tokens: list[Token], header: str,
                 allow_native: bool) -> Submission:
    sub = Submission("declaration", header=header, native=uses_native(tokens))
    segs = segments(tokens)
    target = None
    for index, seg in enumerate(segs):
        kw = _keyword_index(tokens, seg.first, seg.last) if seg.keyword in THEOREM_KINDS \
            else None
        if kw is None or seg.keyword != tokens[kw].text:
            continue
        name = tokens[kw + 1].text if seg.keyword != "example" and kw + 1 < seg.last else None
        wanted = stmt.name and tokenize(stmt.name)[0].text
        if (seg.keyword == "example") == (stmt.kind == "example") and name == wanted:
            target = (index, kw)
            break
    if target is None:
        found = [s.keyword for s in segs]
        sub.statement_problems.append(
            f"the submission declares no {stmt.kind} `{stmt.name or ''}` (its commands: "
            f"{', '.join(found)})".replace(" ``", ""))
        return sub
    index, kw = target
    seg = segs[index]
    imports: list[str] = []
    preamble: list[str] = []
    for before in segs[:index]:
        span = tokens[before.first:before.last]
        if before.keyword == "import":
            imports += [t.text for t in span[1:] if t.kind == "ident"]
            continue
        if before.keyword not in PREAMBLE_COMMANDS:
            sub.lint_problems.append(f"command `{before.keyword}` before the declaration is "
                                     "not allowed in a proof")
        for tok in span[1:]:  # a line starting at column 0 inside it: a command we do not know
            if tok.col == 0 and tok.line != span[0].line:
                sub.lint_problems.append(f"unknown command `{tok.text}` before the declaration "
                                         f"(line {tok.line})")
                break
        sub.lint_problems += lint_tokens(span, allow_native=allow_native, commands_allowed=True)
        at = _keyword_index(tokens, before.first, before.last)
        if before.keyword in ("theorem", "lemma") and at is not None and at + 1 < before.last:
            sub.helpers.append(text[tokens[at + 1].start:tokens[at + 1].end])
        preamble.append(text[span[0].start:span[-1].end])
    trailing = []
    for after in segs[index + 1:]:
        sub.lint_problems.append(f"command `{after.keyword}` after the declaration (line "
                                 f"{tokens[after.first].line}) is not allowed in a proof")
        span = tokens[after.first:after.last]
        sub.lint_problems += lint_tokens(span, allow_native=allow_native, commands_allowed=True)
        trailing.append(text[span[0].start:span[-1].end])
    prefix = tokens[seg.first:kw]
    for tok in prefix:
        if tok.kind == "ident" and tok.text in ("private", "protected", "scoped", "local"):
            sub.lint_problems.append(f"modifier `{tok.text}` on the declaration")
    sub.lint_problems += lint_tokens(list(prefix), allow_native=allow_native,
                                     commands_allowed=True)
    cut = _decl_cut(tokens, kw)
    if cut >= seg.last:
        sub.lint_problems.append("the declaration has no `:=` proof")
        return sub
    if not _same_statement(stmt.tokens, tokens[kw:cut]):
        sub.statement_problems.append(
            f"statement changed: submitted {' '.join(t.text for t in tokens[kw:cut])!r}, "
            f"expected {' '.join(t.text for t in stmt.tokens)!r}")
    body = tokens[cut + 2:seg.last]
    sub.lint_problems += lint_tokens(body, allow_native=allow_native)
    asked = header_imports(header) if header.strip() else []
    if imports and not header.strip():
        header = "\n".join(f"import {m}" for m in imports)
        sub.notes.append("no header given: the submission's imports are the header")
    else:
        for module in imports:
            if not covered(module, asked):
                sub.lint_problems.append(f"`import {module}` is not in the task's header")
    sub.header = header
    prefix_text = text[prefix[0].start:tokens[kw].start] if prefix else ""
    body_text = text[tokens[cut + 1].end:tokens[seg.last - 1].end] if body else ""
    if not body:
        sub.lint_problems.append("empty proof")
    sub.source = "\n\n".join([*preamble, f"{prefix_text}{stmt.head} :={body_text}", *trailing])
    return sub


__all__ = ["BANNED_OPTIONS", "Statement", "StatementError", "Submission", "clean_header",
           "covered", "header_imports", "header_namespace", "parse_statement", "read_submission",
           "render_tactics"]
