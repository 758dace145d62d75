"""Theorem rows for the Z3 prover: read, validate and parse ``{"id", "smt2", "goal"}``.

A row's ``smt2`` holds SMT-LIB2 declarations, ``define-fun``/``define-fun-rec`` definitions and
hypothesis ``assert``s; ``goal`` is one SMT-LIB2 Bool term. :func:`parse_theorem` parses both
with Z3's own SMT-LIB parser in a FRESH ``z3.Context()`` (recursive definitions are global to a
context, so two theorems defining ``sum`` differently never meet) and keeps what later tactics
need: every declared symbol's ``FuncDecl`` (so user terms such as ``cases φ`` parse against the
theorem) and each recursive function's body (for ``unfold``). Text is only ever parsed, never
evaluated. A bad row raises :class:`TheoremError` naming the row id and the cause.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from prover.sexpr import (  # re-exported: the one S-expression reader
    MAX_SEXPR_DEPTH,
    SExpr,
    SExprError,
    quote_symbol,
    read_one,
    read_sexprs,
    show,
    unquote_symbol,
)
from prover.z3.contexts import new_context
from prover.z3.gateway import error_text

__all__ = ["MAX_SEXPR_DEPTH", "RecDef", "SExpr", "SExprError", "Theorem", "TheoremError",
           "iter_rows", "load_theorems", "parse_theorem", "quote_symbol", "read_one",
           "read_sexprs", "show", "unquote_symbol", "z3_message"]

_ALLOWED = frozenset({"set-logic", "set-info", "declare-sort", "define-sort", "declare-const",
                      "declare-fun", "define-fun", "define-fun-rec", "define-funs-rec", "assert"})


class TheoremError(ValueError):
    """A theorem row that cannot be used: ``theorem_id`` names the row, the message says why
    (a missing key, an SMT-LIB parse error from Z3, a goal that is not Bool...)."""

    def __init__(self, theorem_id: str, message: str) -> None:
        super().__init__(f"theorem {theorem_id!r}: {message}")
        self.theorem_id = theorem_id
        self.detail = message


# --------------------------------------------------------------------------- theorems
@dataclass(frozen=True)
class RecDef:
    """A recursive function: its ``decl`` and ``body`` over de Bruijn variables (``Var(0)`` is
    the LAST parameter), so ``z3.substitute_vars(body, *reversed(args))`` is one unfolding."""

    name: str
    decl: z3.FuncDeclRef
    body: z3.ExprRef
    arity: int

    def instance(self, args: Sequence[z3.ExprRef]) -> z3.ExprRef:
        """The body with the parameters replaced by ``args`` (one unfolding step)."""
        if self.arity == 0:
            return self.body
        return z3.substitute_vars(self.body, *reversed(list(args)))


@dataclass
class Theorem:
    """A parsed row: ``hypotheses ⊢ conclusion`` in the private ``ctx``.

    ``symbols`` maps every declared name (constants, functions, recursive functions) to its
    ``FuncDecl``; ``macros`` is the text of the ``define-sort``/``define-fun`` commands (parser
    macros, replayed before each user term); ``reserved`` holds every name the row declares, so
    fresh constants never clash with them. Not thread-safe: one context, one user at a time.
    """

    id: str
    row: dict[str, Any]
    ctx: z3.Context
    hypotheses: tuple[z3.BoolRef, ...]
    conclusion: z3.BoolRef
    symbols: dict[str, z3.FuncDeclRef]
    sorts: dict[str, z3.SortRef]
    rec_defs: dict[str, RecDef]
    macros: str = ""
    reserved: frozenset[str] = field(default_factory=frozenset)
    #: Bool terms already checked against the recursive definitions, by AST id: the term (held
    #: so its id is never reused) and whether the definitions contradict themselves on it
    #: (see prover.z3.tactics.definitions_contradict)
    definitions_checked: dict[int, tuple[z3.ExprRef, bool]] = field(default_factory=dict,
                                                                    repr=False)

    def parse_term(self, text: str, extra: Mapping[str, z3.ExprRef] | None = None,
                   bool_only: bool = False) -> z3.ExprRef:
        """Parse one SMT-LIB term against the theorem's declarations plus ``extra`` constants
        (e.g. fresh ones a goal introduced). Raises :class:`SExprError` / ``ValueError``."""
        text = show(read_one(text))  # exactly one term, as read: no smuggled commands
        decls: dict[str, Any] = dict(self.symbols)
        for name, const in (extra or {}).items():
            decls.setdefault(name, const.decl())
        probe = f"{self.macros} (assert (= {text} {text}))"
        try:
            parsed = z3.parse_smt2_string(probe, sorts=self.sorts, decls=decls, ctx=self.ctx)
        except z3.Z3Exception as exc:
            raise ValueError(z3_message(exc)) from None
        if len(parsed) != 1:
            raise ValueError(f"expected one term, parsed {len(parsed)}")
        term = parsed[0].arg(0)
        if bool_only and not z3.is_bool(term):
            raise ValueError(f"not a Bool term: {text} has sort {term.sort()}")
        return term


def z3_message(exc: z3.Z3Exception) -> str:
    """Z3's error text, decoded and trimmed (see :func:`prover.z3.gateway.error_text`)."""
    return error_text(exc)


def _head(cmd: SExpr) -> str:
    if not isinstance(cmd, list) or not cmd or not isinstance(cmd[0], str):
        raise SExprError(f"not a command: {show(cmd)[:80]}")
    return cmd[0]


def _params(sx: SExpr) -> list[tuple[str, str]]:
    """``((x Int) (y Real))`` as ``[("x", "Int"), ("y", "Real")]`` (sort text kept)."""
    if not isinstance(sx, list):
        raise SExprError(f"bad parameter list {show(sx)}")
    out = []
    for p in sx:
        if not (isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)):
            raise SExprError(f"bad parameter {show(p)}")
        out.append((p[0], show(p[1])))
    return out


@dataclass
class _Probes:
    """Extra asserts appended to the row so one Z3 parse reveals every declaration."""

    texts: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, name, arity)
    macros: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def add(self, kind: str, name: str, arity: int, text: str) -> None:
        self.texts.append(text)
        self.kinds.append((kind, name, arity))


def _rec_probe(name: str, params: list[tuple[str, str]], body: SExpr) -> str:
    app = name if not params else f"({name} {' '.join(p for p, _ in params)})"
    eq = f"(= {app} {show(body)})"
    if not params:
        return f"(assert {eq})"
    binders = " ".join(f"({p} {s})" for p, s in params)
    return f"(assert (forall ({binders}) {eq}))"


def _collect(cmds: list[SExpr]) -> _Probes:
    """One probe per declared symbol, and the macro commands, from the row's commands."""
    probes = _Probes()
    for cmd in cmds:
        head = _head(cmd)
        if head not in _ALLOWED:
            raise SExprError(f"command {head!r} is not allowed in a theorem row")
        assert isinstance(cmd, list)
        if head in ("define-fun", "define-sort"):
            probes.macros.append(show(cmd))
        if head in ("set-logic", "set-info", "assert"):
            continue
        if head == "define-funs-rec":
            if len(cmd) != 3 or not isinstance(cmd[1], list) or not isinstance(cmd[2], list) \
                    or len(cmd[1]) != len(cmd[2]):
                raise SExprError("malformed define-funs-rec")
            for sig, body in zip(cmd[1], cmd[2], strict=True):
                if not (isinstance(sig, list) and len(sig) == 3 and isinstance(sig[0], str)):
                    raise SExprError(f"bad signature {show(sig)}")
                params = _params(sig[1])
                probes.add("rec", sig[0], len(params), _rec_probe(sig[0], params, body))
                probes.names.add(sig[0])
            continue
        if len(cmd) < 2 or not isinstance(cmd[1], str):
            raise SExprError(f"malformed {head}")
        name = cmd[1]
        probes.names.add(name)
        if head == "define-fun-rec":
            if len(cmd) != 5:
                raise SExprError(f"malformed define-fun-rec {name}")
            params = _params(cmd[2])
            probes.add("rec", name, len(params), _rec_probe(name, params, cmd[4]))
        elif head == "declare-const" or (head == "declare-fun" and cmd[2:3] == [[]]):
            probes.add("const", name, 0, f"(assert (= {name} {name}))")
        elif head == "declare-fun":
            if len(cmd) != 4 or not isinstance(cmd[2], list):
                raise SExprError(f"malformed declare-fun {name}")
            binders = " ".join(f"(|p!{i}| {show(s)})" for i, s in enumerate(cmd[2]))
            app = f"({name} {' '.join(f'|p!{i}|' for i in range(len(cmd[2])))})"
            probes.add("fun", name, len(cmd[2]),
                       f"(assert (forall ({binders}) (= {app} {app})))")
        elif head == "declare-sort":
            if cmd[2:] not in ([], ["0"]):
                raise SExprError(f"only 0-ary sorts are supported: {show(cmd)}")
            probe = quote_symbol(f"sort!{unquote_symbol(name)}")  # |S T| -> |sort!S T|
            probes.add("sort", name, 0,
                       f"(declare-const {probe} {name}) (assert (= {probe} {probe}))")
    return probes


def _read_row(row: Mapping[str, Any]) -> tuple[str, str, str]:
    if not isinstance(row, Mapping):
        raise TheoremError("?", f"a theorem row must be a JSON object, got {type(row).__name__}")
    tid = row.get("id")
    if not isinstance(tid, str) or not tid:
        raise TheoremError(str(tid) if tid is not None else "?", "missing or empty key 'id'")
    for key in ("smt2", "goal"):
        if not isinstance(row.get(key), str):
            raise TheoremError(tid, f"missing key {key!r} (a string)")
    return tid, row["smt2"], row["goal"]


def parse_theorem(row: Mapping[str, Any]) -> Theorem:
    """Parse and validate a row in a fresh ``z3.Context()``; see the module docstring."""
    tid, smt2, goal_text = _read_row(row)
    try:
        cmds = read_sexprs(smt2)
        goal_sx = read_one(goal_text)
        probes = _collect(cmds)
    except SExprError as exc:
        raise TheoremError(tid, f"SMT-LIB syntax: {exc}") from None
    ctx = new_context()
    # Z3 parses exactly the commands read above (never the raw text: a comment, a NUL or any
    # other spot where its reader and ours could disagree cannot hide or add an assertion)
    text = " ".join([*map(show, cmds), *probes.texts, f"(assert {show(goal_sx)})"])
    try:
        parsed = list(z3.parse_smt2_string(text, ctx=ctx))
    except z3.Z3Exception as exc:
        raise TheoremError(tid, f"z3 parse error: {z3_message(exc)}") from None
    n_hyps = len(parsed) - len(probes.texts) - 1
    asserted = sum(1 for cmd in cmds if _head(cmd) == "assert")
    if n_hyps != asserted:  # our reading and Z3's disagree: no verdict may rest on either
        expected = asserted + len(probes.texts) + 1
        raise TheoremError(tid, f"z3 read {len(parsed)} assertions where the row, its "
                                f"declarations and the goal give {expected}")
    hyps, probe_terms, goal = parsed[:n_hyps], parsed[n_hyps:-1], parsed[-1]
    if not z3.is_bool(goal):
        raise TheoremError(tid, f"the goal is not Bool (sort {goal.sort()})")
    symbols: dict[str, z3.FuncDeclRef] = {}
    sorts: dict[str, z3.SortRef] = {}
    rec_defs: dict[str, RecDef] = {}
    for (kind, name, arity), term in zip(probes.kinds, probe_terms, strict=True):
        inner = term.body() if z3.is_quantifier(term) else term
        if kind == "sort":
            sorts[unquote_symbol(name)] = inner.arg(0).sort()  # Z3's name: no bars
            continue
        decl = inner.arg(0).decl()
        symbols[decl.name()] = decl
        if kind == "rec":
            rec_defs[decl.name()] = RecDef(decl.name(), decl, inner.arg(1), arity)
    reserved = frozenset({unquote_symbol(n) for n in probes.names} | set(symbols) | set(sorts))
    return Theorem(tid, dict(row), ctx, tuple(hyps), goal, symbols, sorts, rec_defs,
                   " ".join(probes.macros), reserved)


def iter_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped); a bad line raises
    :class:`TheoremError` with its line number."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TheoremError(f"line {number}", f"invalid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise TheoremError(f"line {number}", "a theorem row must be a JSON object")
            yield row


def load_theorems(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All rows of a JSONL file, each validated by :func:`parse_theorem` (parsed once, then
    dropped: callers build a fresh :class:`Theorem` per use). Duplicate ids are an error."""
    rows, seen = [], set()
    for row in iter_rows(path):
        parse_theorem(row)
        if row["id"] in seen:
            raise TheoremError(row["id"], "duplicate id")
        seen.add(row["id"])
        rows.append(row)
    return rows
