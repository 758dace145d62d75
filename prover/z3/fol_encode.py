"""Encoding of one entailment row into Z3: sort inference, then formulas over one context.

One uninterpreted sort ``Entity``; predicate ``P`` of arity n is the function ``P/n``; names used
in arithmetic are Reals, and a name used both ways raises :class:`FolSortError`. Also turns a
Z3 model back into plain JSON (universe, constants, predicate tuples, exact real values).
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import z3

from prover.fol import syntax as S
from prover.fol.syntax import FolSortError
from prover.z3.gateway import model_value

Key = tuple[str, Any]  # ("c", constant name) or ("v", binder number)
MAX_TUPLES = 2000  # per predicate, when listing a model
_ENTITY, _REAL = "entity", "real"
_ROLE = {_ENTITY: "an entity (predicate argument)", _REAL: "a number (arithmetic)"}
_CMP = {"=": operator.eq, "≠": operator.ne, "<": operator.lt, "≤": operator.le,
        ">": operator.gt, "≥": operator.ge}  # fmt: skip
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


class Encoder:
    """Sort inference (pass 1, all formulas) then Z3 encoding (pass 2) of one row."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.entity = z3.DeclareSort("Entity", ctx)
        self.parent: dict[Key, Key] = {}
        self.sort: dict[Key, str | None] = {}
        self.binders: list[Key] = []
        self.consts: dict[tuple[str, str], Any] = {}  # (sort, name) -> z3 constant
        self.preds: dict[tuple[str, int], Any] = {}
        self.label = ""
        self._next_binder = 0

    # ------------------------------------------------------------ pass 1: sorts

    def _find(self, key: Key) -> Key:
        self.sort.setdefault(key, None)
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def _fix(self, key: Key, sort: str, t: S.Var | S.Const) -> None:
        root = self._find(key)
        have = self.sort[root]
        if have is None:
            self.sort[root] = sort
        elif have != sort:
            msg = f"name {t.name!r} is used as {_ROLE[sort]} at {t.pos} but as {_ROLE[have]}"
            err = FolSortError(msg + " elsewhere", max(t.pos, 0), _ROLE[have], t.name)
            err.formula = self.label
            raise err

    def _name_key(self, t: S.Term, env: dict[str, Key]) -> Key | None:
        """Key of a bare name (after constraining sub-terms of compound terms to Real)."""
        if isinstance(t, (S.Var, S.Const)):
            return env[t.name] if isinstance(t, S.Var) else ("c", t.name)
        subs = (t.arg,) if isinstance(t, S.Neg) else ()
        subs = (t.left, t.right) if isinstance(t, S.Arith) else subs
        for sub in subs:
            key = self._name_key(sub, env)
            if key is not None:
                self._fix(key, _REAL, sub)  # type: ignore[arg-type]
        return None

    def infer(self, f: S.Formula, env: dict[str, Key]) -> None:
        """Record the sort constraints of ``f``; binders are numbered in walk order."""
        if isinstance(f, S.Pred):
            for a in f.args:
                if not isinstance(a, S.Num):
                    self._fix(self._name_key(a, env), _ENTITY, a)  # type: ignore[arg-type]
        elif isinstance(f, S.Cmp):
            lk, rk = self._name_key(f.left, env), self._name_key(f.right, env)
            if f.op in ("=", "≠") and lk is not None and rk is not None:
                lr, rr = self._find(lk), self._find(rk)
                if lr != rr:
                    if self.sort[lr] is not None:
                        self._fix(rr, self.sort[lr], f.right)  # type: ignore[arg-type]
                    self.parent[lr] = rr
                return
            for key, side in ((lk, f.left), (rk, f.right)):
                if key is not None:
                    self._fix(key, _REAL, side)  # type: ignore[arg-type]
        elif not isinstance(f, (S.Forall, S.Exists)):
            for sub in S.subformulas(f):
                self.infer(sub, env)
        else:
            key = ("v", len(self.binders))
            self.binders.append(key)
            self.infer(f.body, {**env, f.var: key})

    def sort_of(self, key: Key) -> str:
        """Resolved sort; names never constrained (or only equated) are entities."""
        return self.sort[self._find(key)] or _ENTITY

    # ------------------------------------------------------------ pass 2: Z3 terms

    def const(self, name: str, sort: str) -> Any:
        """The memoized free constant ``name`` of ``sort``."""
        if (sort, name) not in self.consts:
            z3sort = self.entity if sort == _ENTITY else z3.RealSort(self.ctx)
            self.consts[(sort, name)] = z3.Const(name, z3sort)
        return self.consts[(sort, name)]

    def term(self, t: S.Term, env: dict[str, Any]) -> Any:
        """Z3 term (divisions are real divisions; guards come from ``well_definedness``)."""
        if isinstance(t, S.Var):
            return env[t.name]
        if isinstance(t, S.Const):
            return self.const(t.name, self.sort_of(("c", t.name)))
        if isinstance(t, S.Num):
            return z3.RealVal(f"{t.value.numerator}/{t.value.denominator}", self.ctx)
        if isinstance(t, S.Neg):
            return -self.term(t.arg, env)
        return _ARITH[t.op](self.term(t.left, env), self.term(t.right, env))

    def formula(self, f: S.Formula, env: dict[str, Any]) -> Any:
        """Z3 Boolean for ``f`` (call in the same order as :meth:`infer`)."""
        ctx = self.ctx
        if isinstance(f, S.Pred):
            n = len(f.args)
            if (f.name, n) not in self.preds:
                sig = [self.entity] * n + [z3.BoolSort(ctx)]
                name = f"{f.name}/{n}"
                self.preds[(f.name, n)] = z3.Function(name, *sig) if n else z3.Bool(name, ctx)
            if not n:
                return self.preds[(f.name, 0)]
            args = [
                self.const(S.decimal_text(a.value), _ENTITY)
                if isinstance(a, S.Num)
                else self.term(a, env)
                for a in f.args
            ]
            return self.preds[(f.name, n)](*args)
        if isinstance(f, S.Cmp):
            return _CMP[f.op](self.term(f.left, env), self.term(f.right, env))
        if isinstance(f, (S.And, S.Or)):
            parts = [self.formula(a, env) for a in f.args]
            return z3.And(parts) if isinstance(f, S.And) else z3.Or(parts)
        if isinstance(f, S.Not):
            return z3.Not(self.formula(f.arg, env), ctx)
        if isinstance(f, (S.Xor, S.Implies, S.Iff)):
            left, right = self.formula(f.left, env), self.formula(f.right, env)
            if isinstance(f, S.Iff):
                return left == right
            return (z3.Xor if isinstance(f, S.Xor) else z3.Implies)(left, right, ctx)
        key = self.binders[self._next_binder]
        self._next_binder += 1
        sort = self.entity if self.sort_of(key) == _ENTITY else z3.RealSort(ctx)
        var = z3.Const(f"{f.var}!{key[1]}", sort)
        body = self.formula(f.body, {**env, f.var: var})
        return (z3.ForAll if isinstance(f, S.Forall) else z3.Exists)([var], body)


# ---------------------------------------------------------------- solving


def model_json(m: Any, enc: Encoder) -> dict[str, Any]:
    """A model in plain values: universe, constants, predicate extensions, exact reals."""
    universe = m.get_universe(enc.entity)
    out: dict[str, Any] = {}
    if universe is not None:  # None when no entity occurs in the query
        out.update(universe_size=len(universe), universe=[f"e{i}" for i in range(len(universe))])
    universe = universe or []
    names = {str(e): f"e{i}" for i, e in enumerate(universe)}
    out.update(constants={}, predicates={}, reals={})
    for (sort, name), c in sorted(enc.consts.items(), key=lambda kv: kv[0][1]):
        v = m.eval(c, model_completion=True)
        if sort == _ENTITY:
            out["constants"][name] = names.get(str(v), str(v))
        elif z3.is_algebraic_value(v):  # nonlinear real arithmetic
            out["reals"][name] = "≈" + v.as_decimal(12).rstrip("?")
        else:  # exact, bounded (a huge value is abbreviated, never a crash)
            out["reals"][name] = model_value(v)
    plain = [name for name, _ in enc.preds]
    for (name, n), decl in sorted(enc.preds.items()):
        label = name if plain.count(name) == 1 else f"{name}/{n}"
        if n == 0:
            out["predicates"][label] = z3.is_true(m.eval(decl, model_completion=True))
            continue
        tuples = itertools.islice(itertools.product(universe, repeat=n), MAX_TUPLES)
        out["predicates"][label] = sorted(
            [names[str(e)] for e in tup]
            for tup in tuples
            if z3.is_true(m.eval(decl(*tup), model_completion=True))
        )
        if len(universe) ** n > MAX_TUPLES:
            out.setdefault("truncated", []).append(label)
    return out
