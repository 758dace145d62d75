"""Symbolic mutations of a Z3 theorem row, on its S-expressions (never evaluated, only rebuilt).

A theorem is ``hypotheses ⊢ goal`` (:mod:`prover.z3.theorem`). Operators (:data:`OPS`):

- ``drop_hyp``: weaken the hypotheses by dropping one ``assert``;
- ``tighten``: a non-strict bound ``<=``/``>=`` in the goal (strengthens it) or in a hypothesis
  (strengthens the hypotheses) becomes strict;
- ``shift_const``: a numeral of the goal or a hypothesis moves by ±1;
- ``conjoin``: the goal ``G`` becomes ``G ∧ G[x := x + 1]`` for an Int constant ``x``;
- ``rewrite``: one subterm of the goal or a hypothesis is replaced by a term the caller must
  first prove equal under the original's hypotheses (``equality``): one unfolding of a
  recursive function's definition, a distribution of ``*`` over ``+``, or (in the goal) a
  side of an equality hypothesis ``a = b`` by the other; reordered arguments of ``+``/``*``
  only when none of these applies;
- ``negate``: the goal becomes its negation.

Sub-terms under binders (``forall``, ``exists``, ``let``, ``!``) are left alone, so no rewrite
captures a bound name. The printed text is canonical (:func:`canonical`): single spaces, the
same printer for every row, so equal theorems hash equal.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prover.z3.theorem import SExpr, read_one, read_sexprs, show

OPS: tuple[str, ...] = ("drop_hyp", "tighten", "shift_const", "conjoin", "rewrite", "negate")
_BINDERS = frozenset({"forall", "exists", "let", "!", "lambda", "match"})
_STRICT = {">=": ">", "<=": "<"}
_INT = re.compile(r"\d+\Z")
_DEC = re.compile(r"\d+\.\d+\Z")
Path = tuple[int, ...]


@dataclass(frozen=True)
class Parts:
    """A row as S-expressions: its commands (declarations, definitions, asserts) and goal."""

    commands: tuple[SExpr, ...]
    goal: SExpr

    @classmethod
    def of(cls, row: dict[str, Any]) -> Parts:
        """Read ``row['smt2']`` and ``row['goal']`` (raises ``SExprError`` on bad text)."""
        return cls(tuple(read_sexprs(row["smt2"])), read_one(row["goal"]))

    def hyp_indices(self) -> list[int]:
        """Positions of the ``assert`` commands."""
        return [i for i, c in enumerate(self.commands) if isinstance(c, list) and c[:1] == ["assert"]]

    def texts(self) -> tuple[str, str]:
        """Canonical ``(smt2, goal)``."""
        return canonical(self.commands), show(self.goal)


@dataclass(frozen=True)
class Candidate:
    """A mutated theorem; ``equality`` (``(= old new)``) must be proved before the candidate is
    a rewrite of the original (None for the other operators)."""

    op: str
    detail: dict[str, Any]
    parts: Parts = field(repr=False)
    equality: str | None = None


def canonical(commands: Sequence[SExpr]) -> str:
    """The commands printed with single spaces, one space between commands."""
    return " ".join(show(c) for c in commands)


# --------------------------------------------------------------------------- tree helpers
def subterms(sx: SExpr, path: Path = ()) -> Iterator[tuple[Path, SExpr]]:
    """``(path, subterm)`` pre-order, not descending into binders."""
    yield path, sx
    if isinstance(sx, list) and sx and not (isinstance(sx[0], str) and sx[0] in _BINDERS):
        for i, child in enumerate(sx[1:], start=1):
            yield from subterms(child, (*path, i))


def replace(sx: SExpr, path: Path, new: SExpr) -> SExpr:
    """``sx`` with the subterm at ``path`` replaced by ``new`` (a copy; ``sx`` is unchanged)."""
    if not path:
        return new
    assert isinstance(sx, list)
    out = list(sx)
    out[path[0]] = replace(sx[path[0]], path[1:], new)
    return out


def substitute(sx: SExpr, names: dict[str, SExpr]) -> SExpr | None:
    """Replace free symbols by terms; None when a binder would make that unsafe."""
    if isinstance(sx, str):
        return names.get(sx, sx)
    if sx and isinstance(sx[0], str) and sx[0] in _BINDERS:
        return None
    out = [substitute(child, names) for child in sx]
    return None if any(child is None for child in out) else out


def numeral(sx: SExpr) -> tuple[int | float, bool] | None:
    """(value, is_decimal) of an Int/Real literal, including ``(- n)``; else None."""
    if isinstance(sx, str):
        if _INT.match(sx):
            return int(sx), False
        if _DEC.match(sx):
            return float(sx), True
        return None
    if len(sx) == 2 and sx[0] == "-" and isinstance(sx[1], str):
        inner = numeral(sx[1])
        return None if inner is None else (-inner[0], inner[1])
    return None


def literal(value: int, decimal: bool) -> SExpr:
    """SMT-LIB spelling of an integer value (``(- 1)`` for negatives, ``2.0`` for Reals)."""
    text = f"{abs(value)}.0" if decimal else str(abs(value))
    return text if value >= 0 else ["-", text]


# --------------------------------------------------------------------------- sites
def _sites(parts: Parts) -> Iterator[tuple[str, int | None, Path, SExpr]]:
    """``(where, command index, path, subterm)`` over the goal then each hypothesis body."""
    for path, sub in subterms(parts.goal):
        yield "goal", None, path, sub
    for k, index in enumerate(parts.hyp_indices()):
        for path, sub in subterms(parts.commands[index][1], (1,)):
            yield f"hyp {k}", index, path, sub


def _at(parts: Parts, index: int | None, path: Path, new: SExpr) -> Parts:
    if index is None:
        return Parts(parts.commands, replace(parts.goal, path, new))
    commands = list(parts.commands)
    commands[index] = replace(commands[index], path, new)
    return Parts(tuple(commands), parts.goal)


def _drop_hyp(parts: Parts) -> list[Candidate]:
    out = []
    for k, index in enumerate(parts.hyp_indices()):
        commands = parts.commands[:index] + parts.commands[index + 1:]
        out.append(Candidate("drop_hyp", {"hyp": k, "dropped": show(parts.commands[index][1])},
                             Parts(commands, parts.goal)))
    return out


def _tighten(parts: Parts) -> list[Candidate]:
    out = []
    for where, index, path, sub in _sites(parts):
        if isinstance(sub, list) and len(sub) == 3 and sub[0] in _STRICT:
            new = [_STRICT[sub[0]], *sub[1:]]
            out.append(Candidate("tighten", {"where": where, "from": show(sub), "to": show(new)},
                                 _at(parts, index, path, new)))
    return out


def _shift_const(parts: Parts, rng: random.Random) -> list[Candidate]:
    out = []
    for where, index, path, sub in _sites(parts):
        found = numeral(sub)
        if found is None or (path and numeral(_get(parts, index, path[:-1])) is not None):
            continue
        value, decimal = found
        if value != int(value):
            continue
        new = literal(int(value) + rng.choice((-1, 1)), decimal)
        out.append(Candidate("shift_const", {"where": where, "from": show(sub), "to": show(new)},
                             _at(parts, index, path, new)))
    return out


def _get(parts: Parts, index: int | None, path: Path) -> SExpr:
    node = parts.goal if index is None else parts.commands[index]
    for i in path:
        assert isinstance(node, list)
        node = node[i]
    return node


def int_constants(parts: Parts) -> list[str]:
    """Names declared ``(declare-const x Int)`` (or a 0-ary ``declare-fun``), in order."""
    out = []
    for c in parts.commands:
        if isinstance(c, list) and len(c) >= 3 and isinstance(c[1], str) and (
                (c[0] == "declare-const" and c[2] == "Int") or
                (c[0] == "declare-fun" and c[2] == [] and c[3:] == ["Int"])):
            out.append(c[1])
    return out


def _mentions(sx: SExpr, name: str) -> bool:
    return any(sub == name for _, sub in subterms(sx))


def _conjoin(parts: Parts) -> list[Candidate]:
    out = []
    for name in int_constants(parts):
        if not _mentions(parts.goal, name):
            continue
        shifted = substitute(parts.goal, {name: ["+", name, "1"]})
        if shifted is None:
            continue
        out.append(Candidate("conjoin", {"conjunct": show(shifted), "shifted": name},
                             Parts(parts.commands, ["and", parts.goal, shifted])))
    return out


def _rec_defs(parts: Parts) -> dict[str, tuple[list[str], SExpr]]:
    """``define-fun-rec`` name -> (parameter names, body) for bodies free of binders."""
    out = {}
    for c in parts.commands:
        if isinstance(c, list) and len(c) == 5 and c[0] == "define-fun-rec" and isinstance(
                c[1], str) and isinstance(c[2], list) and substitute(c[4], {}) is not None:
            params = [p[0] for p in c[2] if isinstance(p, list) and isinstance(p[0], str)]
            out[c[1]] = (params, c[4])
    return out


def _rewrites(sub: SExpr, defs: dict[str, tuple[list[str], SExpr]]) -> list[tuple[str, SExpr]]:
    """Equal-by-proof replacements of one subterm: (rule, new term)."""
    if not isinstance(sub, list) or not sub or not isinstance(sub[0], str):
        return []
    head, args = sub[0], sub[1:]
    out: list[tuple[str, SExpr]] = []
    if head in defs and len(args) == len(defs[head][0]):
        params, body = defs[head]
        unfolded = substitute(body, dict(zip(params, args, strict=True)))
        if unfolded is not None:
            out.append((f"unfold {head}", unfolded))
    if head == "*" and len(args) == 2:
        for i in (0, 1):
            other, total = args[1 - i], args[i]
            if isinstance(total, list) and total[:1] == ["+"]:
                terms = [["*", other, t] if i == 1 else ["*", t, other] for t in total[1:]]
                out.append(("distribute * over +", ["+", *terms]))
    if head in ("+", "*") and len(args) >= 2 and args != args[::-1]:
        out.append((f"commute {head}", [head, *args[::-1]]))
    return out


def _hyp_equalities(parts: Parts) -> list[tuple[str, SExpr, SExpr]]:
    """(rule, a, b) for each hypothesis ``(= a b)``, in both directions."""
    out = []
    for k, index in enumerate(parts.hyp_indices()):
        body = parts.commands[index][1]
        if isinstance(body, list) and len(body) == 3 and body[0] == "=":
            out += [(f"hyp {k}", body[1], body[2]), (f"hyp {k}", body[2], body[1])]
    return out


def _rewrite(parts: Parts) -> list[Candidate]:
    defs = _rec_defs(parts)
    out = []
    for where, index, path, sub in _sites(parts):
        found = _rewrites(sub, defs)
        if index is None:  # a hypothesis a = b rewrites the goal (never itself)
            found += [(rule, b) for rule, a, b in _hyp_equalities(parts) if a == sub]
        for rule, new in found:
            equality = show(["=", sub, new])
            out.append(Candidate("rewrite", {"where": where, "rule": rule, "equality": equality},
                                 _at(parts, index, path, new), equality))
    deeper = [c for c in out if not c.detail["rule"].startswith("commute")]
    return deeper or out  # reordering arguments only where nothing else applies


def _negate(parts: Parts) -> list[Candidate]:
    goal = parts.goal
    new = goal[1] if isinstance(goal, list) and len(goal) == 2 and goal[0] == "not" else \
        ["not", goal]
    return [Candidate("negate", {"from": show(goal), "to": show(new)},
                      Parts(parts.commands, new))]


_MAKERS: dict[str, Callable[[Parts, random.Random], list[Candidate]]] = {
    "drop_hyp": lambda p, r: _drop_hyp(p), "tighten": lambda p, r: _tighten(p),
    "shift_const": _shift_const, "conjoin": lambda p, r: _conjoin(p),
    "rewrite": lambda p, r: _rewrite(p), "negate": lambda p, r: _negate(p),
}


def candidates(parts: Parts, op: str, rng: random.Random) -> list[Candidate]:
    """Every mutant of ``parts`` by ``op`` (deterministic given ``rng``)."""
    if op not in _MAKERS:
        raise ValueError(f"unknown mutation {op!r}; choose one of {', '.join(OPS)}")
    original = parts.texts()
    return [c for c in _MAKERS[op](parts, rng) if c.parts.texts() != original]


def sample(parts: Parts, count: int, rng: random.Random,
           ops: Sequence[str] = OPS) -> list[Candidate]:
    """Up to ``count`` distinct mutants: operators in a shuffled round-robin, a random site
    each time (so a theorem's mutants differ in kind). Deterministic given ``rng``."""
    order = list(ops)
    rng.shuffle(order)
    pools = {op: candidates(parts, op, rng) for op in order}
    out: list[Candidate] = []
    seen = {parts.texts()}
    while len(out) < count and any(pools.values()):
        for op in order:
            if len(out) >= count or not pools[op]:
                continue
            pick = pools[op].pop(rng.randrange(len(pools[op])))
            if pick.parts.texts() not in seen:
                seen.add(pick.parts.texts())
                out.append(pick)
    return out
