"""Check LLM-formalized CoT steps with Z3 twice: locally and grounded.

The problem's GIVEN lines name its quantities (Z3 Real constants) and relations. Every step's
DEF lines introduce fresh names (a DEF of a name that already exists is checked as a claim,
so a definition never overrides a given); every CLAIM is decided twice with
:class:`prover.z3.arith.Z3ArithBackend` (private context, timeout and rlimit):

* **local** — premises are the givens, every DEF so far and every earlier claim *as stated*.
  A stated claim that contradicts what came before is not added as such (that would make every
  later check vacuous): a claim ``name = expr`` rebinds ``name`` to the stated value under the
  Z3 name ``name@<step>`` for later steps of the local view, any other contradicting claim is
  dropped. So a later step is locally valid when it follows from the numbers the solution said.
* **grounded** — premises are the givens, every DEF so far and only earlier claims whose
  grounded verdict is ``verified``.

A verified claim lists what it used (the unsat core over labelled premises): ``premises`` (the
earlier step indices) and ``givens_used`` (given labels). A step that is locally valid but not
grounded because its local proof used a claim of an earlier step whose grounded verdict is not
``verified`` gets ``upstream_error``: the earliest such step, followed through that step's own
upstream error (a claim that holds only approximately, ``verified_approx``, counts as not
grounded for the steps that use its stated value). Premises that contradict each other give
``unknown: vacuous-premises``, never ``verified``; a line that does not parse or uses a name that
is neither given nor defined gives ``unknown: not-formalized`` in both views.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from formalizer.llm_steps_lang import FormalLine, unbound_names
from prover.arith.ast import Bin, Expr, Neg, Relation, Var, to_infix, to_smt, variables
from prover.arith.check import Limits, Premises
from prover.records.verdicts import UnknownReason, Verdict, unknown
from prover.z3.arith import Z3ArithBackend

_NEGATION = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_SEVERITY = ("refuted", "unknown", "verified_approx", "verified")


@dataclass(frozen=True)
class Origin:
    """Where a premise comes from: a given (``label``), a DEF (``label`` = name) or a claim
    (``label`` = formal form; ``claim`` = (step, index in the step's claims))."""

    kind: Literal["given", "def", "claim"]
    step: int | None
    label: str
    claim: tuple[int, int] | None = None


@dataclass
class _View:
    """One reading of the solution: source name -> Z3 name, and the labelled premises."""

    names: dict[str, str] = field(default_factory=dict)
    premises: list[tuple[Relation, Origin]] = field(default_factory=list)

    def rename(self, node: Expr) -> Expr:
        """``node`` with every name replaced by its current Z3 name in this view."""
        if isinstance(node, Var):
            return Var(self.names.get(node.name, node.name))
        if isinstance(node, Neg):
            return Neg(self.rename(node.arg))
        if isinstance(node, Bin):
            return Bin(node.op, self.rename(node.left), self.rename(node.right))
        return node

    def relation(self, rel: Relation) -> Relation:
        """``rel`` in this view's names."""
        return Relation(rel.op, self.rename(rel.left), self.rename(rel.right))

    def as_premises(self) -> Premises:
        """The premises for the backend (all symbolic: constants are Z3 Reals)."""
        return Premises(values={}, constraints=[rel for rel, _ in self.premises])

    def core_origins(self, verdict: Verdict) -> list[Origin]:
        """The origins of the premises in a verified verdict's unsat core (by their text)."""
        by_text: dict[str, Origin] = {}
        for rel, origin in self.premises:
            by_text.setdefault(to_infix(rel), origin)
        used = verdict.evidence.get("premises_used", []) if verdict.kind == "verified" else []
        return [by_text[text] for text in used if text in by_text]

    def rebind(self, rel: Relation, step: int, origin: Origin) -> str | None:
        """For a contradicting ``name = expr`` claim: bind ``name`` to the stated value under a
        fresh Z3 name (returned); None when neither side is a lone name."""
        if rel.op != "=":
            return None
        if isinstance(rel.left, Var):
            name, value = rel.left.name, rel.right
        elif isinstance(rel.right, Var):
            name, value = rel.right.name, rel.left
        else:
            return None
        fresh, k = f"{name}@{step}", 1
        while fresh in self.names.values():
            k += 1
            fresh = f"{name}@{step}.{k}"
        stated = self.rename(value)
        self.names[name] = fresh
        self.premises.append((Relation("=", Var(fresh), stated), origin))
        return fresh


def _unconstrained(rel: Relation, view: _View, verdict: Verdict) -> Verdict:
    """A refutation whose claim names a quantity that no premise of ``view`` constrains (a bare
    ``GIVEN x``, a name whose DEF was rejected) rests on an arbitrary counter-model: the claim
    is ``unknown``, never false."""
    if verdict.kind != "refuted" or "division_by_zero" in verdict.evidence:
        return verdict
    constrained: set[str] = set()
    for premise, _ in view.premises:
        constrained |= variables(premise)
    free = variables(rel) - constrained
    if not free:
        return verdict
    return unknown(UnknownReason.NOT_FORMALIZED,
                   f"{', '.join(sorted(free))} is constrained by nothing stated: a counter-model "
                   "could give it any value, so the claim is not refuted")


def _mode_dict(verdict: Verdict, origins: list[Origin], step: int) -> dict[str, Any]:
    out: dict[str, Any] = {"verdict": None, "reason": None, "evidence": {}, "detail": ""}
    out.update(verdict.to_dict())
    out["premises"] = sorted({o.step for o in origins if o.step is not None and o.step != step})
    out["givens_used"] = sorted({o.label for o in origins if o.kind == "given"})
    return out


def _not_formalized(line: FormalLine, detail: str, formal: str | None) -> dict[str, Any]:
    reason = UnknownReason.TOO_LARGE if line.too_large else UnknownReason.NOT_FORMALIZED
    verdict = _mode_dict(unknown(reason, detail), [], -1)
    return {"source": line.source, "kind": "unparsed" if line.kind == "bad" else line.kind,
            "formal": formal, "local": verdict, "grounded": dict(verdict), "premises": [],
            "givens_used": [], "rebinds": None, "time_s": 0.0}


def aggregate(kinds: list[str | None]) -> str:
    """Step verdict: refuted > unknown > verified_approx > verified; ``no_claims`` if none."""
    for kind in _SEVERITY:
        if kind in kinds:
            return kind
    return "no_claims"


def _given_label(line: FormalLine, rel: Relation) -> str:
    if isinstance(rel.left, Var) and rel.op == "=" and len(line.relations) == 1:
        return rel.left.name
    return to_infix(rel)


class LLMStepsChecker:
    """Decides formalized rows; owns one Z3 context (one checker per thread)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.backend = Z3ArithBackend(self.limits.timeout_ms, self.limits.rlimit)

    # ------------------------------------------------------------------ givens
    def _consistent(self, premises: list[Relation]) -> bool | None:
        """Are ``premises`` satisfiable? None when Z3 cannot tell within the limits."""
        return self.backend.satisfiable(Premises(constraints=premises))

    def givens(self, lines: list[FormalLine]) -> tuple[dict[str, Any], _View, set[str]]:
        """The row-level ``givens`` record, the starting view and the declared names."""
        view, names = _View(), set()
        facts, errors = [], []
        for line in lines:
            if line.kind == "bad":
                errors.append({"source": line.source, "error": line.error})
                continue
            names |= line.names()
            for rel in line.relations:
                label = _given_label(line, rel)
                if any(origin.label == label for _, origin in view.premises):
                    label = to_infix(rel)  # labels stay unique: a second fact about a name
                view.premises.append((rel, Origin("given", None, label)))
                facts.append({"label": label, "formal": to_smt(rel), "text": to_infix(rel)})
        for name in names:
            view.names[name] = name
        consistent = self._consistent([rel for rel, _ in view.premises])
        conflict: list[str] = []
        if consistent is False:  # a minimal conflicting subset, by deletion
            kept = list(view.premises)
            for item in list(kept):
                rest = [pair for pair in kept if pair is not item]
                if self._consistent([rel for rel, _ in rest]) is False:
                    kept = rest
            conflict = [origin.label for _, origin in kept]
        record = {"names": sorted(names), "facts": facts, "errors": errors,
                  "consistent": consistent, "conflict": conflict}
        return record, view, names

    # ------------------------------------------------------------------ claims
    def _decide(self, rel: Relation, premises: Premises) -> Verdict:
        """The backend's verdict on ``premises ⊢ rel`` under its strict contract: nothing is
        ``verified`` under premises that cannot all hold (``unknown: vacuous-premises``) or that
        Z3 cannot show can hold (the reason Z3 gave), even a claim proved without them."""
        return self.backend.check(rel, premises, require_satisfiable=True)

    def _claim(self, rel: Relation, source: str, kind: str, step: int, index: int,
               views: tuple[_View, _View]) -> tuple[dict[str, Any], list[Origin]]:
        local, grounded = views
        start = time.perf_counter()
        local_rel, grounded_rel = local.relation(rel), grounded.relation(rel)
        lv = _unconstrained(local_rel, local, self._decide(local_rel, local.as_premises()))
        gv = _unconstrained(grounded_rel, grounded,
                            self._decide(grounded_rel, grounded.as_premises()))
        local_core, grounded_core = local.core_origins(lv), grounded.core_origins(gv)
        origin = Origin("claim", step, to_smt(rel), (step, index))
        rebinds = None
        if lv.kind == "verified":
            local.premises.append((local_rel, origin))
        elif rel.op in _NEGATION and "division_by_zero" not in lv.evidence:
            negated = Relation(_NEGATION[rel.op], local_rel.left, local_rel.right)  # type: ignore[arg-type]
            contra = self._decide(negated, local.as_premises())
            if contra.kind == "verified":  # the stated claim contradicts what came before
                rebinds = local.rebind(rel, step, origin)
            elif contra.kind == "refuted" and "division_by_zero" not in contra.evidence:
                local.premises.append((local_rel, origin))  # consistent: stated, so assumed
        if gv.kind == "verified":
            grounded.premises.append((grounded_rel, origin))
        local_dict = _mode_dict(lv, local_core, step)
        entry = {"source": source, "kind": kind, "formal": to_smt(rel), "local": local_dict,
                 "grounded": _mode_dict(gv, grounded_core, step),
                 "premises": local_dict["premises"], "givens_used": local_dict["givens_used"],
                 "rebinds": rebinds, "time_s": round(time.perf_counter() - start, 6)}
        return entry, local_core

    def check(self, givens: list[FormalLine], steps: list[list[FormalLine]]
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Check a formalized row: (the ``givens`` record, one ``llm`` dict per step with
        ``defs``, ``claims``, ``verdict_local``, ``verdict_grounded``, ``upstream_error``)."""
        record, start_view, known = self.givens(givens)
        local = _View(dict(start_view.names), list(start_view.premises))
        grounded = _View(dict(start_view.names), list(start_view.premises))
        grounded_ok: dict[tuple[int, int], bool] = {}
        upstream: dict[int, int | None] = {}
        out: list[dict[str, Any]] = []
        for step, lines in enumerate(steps):
            missing = dict(unbound_names(lines, known))
            defs: list[dict[str, str]] = []
            claims: list[dict[str, Any]] = []
            causes: set[int] = set()
            for li, line in enumerate(lines):
                if line.kind == "none":
                    continue
                formal = " ".join(to_smt(r) for r in line.relations) or None
                if line.kind == "bad":
                    claims.append(_not_formalized(line, line.error or "unparsable", None))
                    continue
                if li in missing:
                    detail = (f"unknown name(s) {', '.join(sorted(missing[li]))}: neither a "
                              "given nor defined earlier")
                    claims.append(_not_formalized(line, detail, formal))
                    continue
                if line.kind == "def" and line.name and line.name not in known:
                    rel, name = line.relations[0], line.name
                    for view in (local, grounded):  # a fresh name: never a contradiction
                        view.names[name] = name
                        view.premises.append((view.relation(rel), Origin("def", step, name)))
                    known.add(name)
                    defs.append({"name": name, "formal": to_smt(rel)})
                    continue
                kind = "redefinition" if line.kind == "def" else "claim"
                for rel in line.relations:
                    entry, core = self._claim(rel, line.source, kind, step, len(claims),
                                              (local, grounded))
                    grounded_ok[(step, len(claims))] = entry["grounded"]["verdict"] == "verified"
                    claims.append(entry)
                    if entry["local"]["verdict"] in ("verified", "verified_approx") and (
                            entry["grounded"]["verdict"] not in ("verified", "verified_approx")):
                        for o in core:
                            if o.claim and o.step != step and not grounded_ok.get(o.claim, True):
                                causes.add(o.step)  # type: ignore[arg-type]
                                up = upstream.get(o.step)  # type: ignore[arg-type]
                                if up is not None:
                                    causes.add(up)
            upstream[step] = min(causes) if causes else None
            out.append({
                "defs": defs, "claims": claims,
                "verdict_local": aggregate([c["local"]["verdict"] for c in claims]),
                "verdict_grounded": aggregate([c["grounded"]["verdict"] for c in claims]),
                "upstream_error": upstream[step]})
        return record, out


def first_error(steps: list[dict[str, Any]], key: str) -> int | None:
    """Index of the first step whose ``key`` verdict (``verdict_local``/``verdict_grounded``) is
    ``refuted``, else None."""
    return next((i for i, s in enumerate(steps) if s[key] == "refuted"), None)
