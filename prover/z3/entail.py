"""First-order + arithmetic entailment with Z3: the backend of ``proofgraph entail``.

``check_entailment`` parses the formulas, encodes the row in ONE fresh ``z3.Context()`` and
answers ``Inconsistent`` (premises unsat; never reported as True, unlike LINC), ``True``
(premises ∧ ¬conclusion unsat), ``False`` (premises ∧ conclusion unsat) -- each with the unsat
core as evidence -- ``Uncertain`` (both sat; evidence = a model where the conclusion holds and one
where it fails, in plain values with exact fractions) or ``Unknown`` (Z3 gave up; ``reason`` is
``timeout`` / ``budget`` (rlimit) / ``undecidable-fragment`` / ``backend-error``; never folded
into Uncertain). Each of the up to three queries gets both ``timeout_ms`` and ``rlimit``.

Encoding: one uninterpreted sort ``Entity``; predicate ``P`` of arity n is the function ``P/n``;
names in arithmetic are Reals and a name used as both raises :class:`FolSortError`; a numeral
argument (``EstablishedIn(x, 2000)``) is the entity constant ``2000``. Z3 leaves ``x/0``
unspecified, so each formula with a division gets its well-definedness guard (every denominator
``≠ 0`` where it is evaluated; e.g. ``y ≠ 0`` for ``1/y = 5``, ``∀x (x > 0 → x ≠ 0)`` for
``∀x (x > 0 → 1/x > 0)``): a tracked implicit premise for a premise, conjoined to the conclusion
for the conclusion (which must be defined and true).

Verdict (on the claim "premises entail conclusion"): True -> ``verified``; False and Uncertain
-> ``refuted`` (evidence: core of the negation / counter-model); Inconsistent -> ``unknown`` with
reason ``vacuous-premises`` (evidence: the core of the contradiction); Unknown -> ``unknown``
with the typed reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from prover.fol import syntax as S
from prover.fol.parser import parse_formula
from prover.fol.syntax import FolSortError, FolSyntaxError
from prover.records.verdicts import Provenance, UnknownReason, Verdict
from prover.z3.contexts import new_context
from prover.z3.fol_encode import Encoder, model_json
from prover.z3.gateway import Limits, solve, z3_version

__all__ = ["EntailmentResult", "check_entailment", "entail_row"]

Answer = Literal["True", "False", "Uncertain", "Inconsistent", "Unknown"]
Key = tuple[str, Any]  # ("c", constant name) or ("v", binder number)
FORMALIZER, FORMALIZER_VERSION = "fol-parser", "1"
_DETAIL = {
    "True": "the premises entail the conclusion",
    "False": "the premises entail the negation of the conclusion",
    "Uncertain": "counter-model: the premises hold and the conclusion fails",
    "Inconsistent": "the premises are inconsistent, so the entailment is vacuous",
}


@dataclass(frozen=True)
class EntailmentResult:
    """Outcome of one entailment check; ``to_dict()`` is plain JSON."""

    answer: Answer
    verdict: Verdict
    provenance: Provenance
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: UnknownReason | None = None
    implicit_premises: tuple[str, ...] = ()

    @property
    def inconsistent(self) -> bool:
        """True when the premises were found unsatisfiable."""
        return self.answer == "Inconsistent"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the verdict summary leaves out the evidence shown beside it."""
        verdict = self.verdict.to_dict()
        verdict.pop("evidence", None)
        return {
            "answer": self.answer,
            "inconsistent": self.inconsistent,
            "reason": self.reason.value if self.reason else None,
            "evidence": self.evidence,
            "implicit_premises": list(self.implicit_premises),
            "verdict": verdict,
            "provenance": self.provenance.to_dict(),
        }


@dataclass
class _Query:
    """One tracked satisfiability query and its outcome."""

    name: str
    status: str = ""  # sat | unsat | unknown ("" = not run)
    core: list[str] = field(default_factory=list)
    model: Any = None
    raw_reason: str = ""
    reason: UnknownReason | None = None


def _run(name: str, tracked: list[tuple[str, Any]], ctx: z3.Context, limits: Limits) -> _Query:
    q = _Query(name)
    result = solve([], ctx=ctx, limits=limits, tracked=tracked, options={"core.minimize": True})
    q.status, q.core, q.model = result.status, list(result.core), result.model
    if result.status == "unknown":
        q.raw_reason, q.reason = result.raw_reason, result.reason
    return q


def _core_json(core: list[str], texts: dict[str, str]) -> dict[str, Any]:
    """Core as premise indices + text, implicit guards, and whether the conclusion was used."""
    items: list[dict[str, Any]] = []
    for tag in sorted(core, key=lambda t: ("pgc".index(t[0]), int(t[1:] or 0))):
        if tag[0] == "p":
            items.append({"kind": "premise", "index": int(tag[1:]), "text": texts[tag]})
        elif tag[0] == "g":
            items.append({"kind": "guard", "text": texts[tag], "from": f"premise {tag[1:]}"})
        else:
            items.append({"kind": "conclusion"})
    return {"core": items, "core_indices": [i["index"] for i in items if i["kind"] == "premise"]}


def _decide(
    queries: list[_Query], texts: dict[str, str], enc: Encoder
) -> tuple[Answer, UnknownReason | None, dict[str, Any]]:
    """Combine the outcomes; the premises are known consistent once any query is sat."""
    base, neg, pos = (queries + [_Query("-"), _Query("-")])[:3]
    consistent = any(q.status == "sat" for q in queries)
    if base.status == "unsat":
        return "Inconsistent", None, _core_json(base.core, texts)
    if neg.status == "unsat" and pos.status == "unsat":  # the two cores together are unsat
        core = sorted(set(neg.core + pos.core) - {"c"})
        return "Inconsistent", None, _core_json(core, texts)
    if neg.status == "unsat" and consistent:
        return "True", None, _core_json(neg.core, texts)
    if pos.status == "unsat" and consistent:
        return "False", None, _core_json(pos.core, texts)
    if neg.status == "sat" and pos.status == "sat":
        models = {"conclusion_true": model_json(pos.model, enc)}
        models["conclusion_false"] = model_json(neg.model, enc)
        return "Uncertain", None, {"models": models}
    stuck = next(q for q in queries if q.status == "unknown")
    return "Unknown", stuck.reason, {"query": stuck.name, "z3_reason": stuck.raw_reason}


def _parse_all(premises: list[str], conclusion: str) -> list[S.Formula]:
    if not isinstance(premises, list) or not all(isinstance(p, str) for p in premises):
        raise TypeError("premises must be a list of str")
    if not isinstance(conclusion, str):
        raise TypeError("conclusion must be a str")
    parsed: list[S.Formula] = []
    for i, text in enumerate([*premises, conclusion]):
        try:
            parsed.append(parse_formula(text))
        except FolSyntaxError as err:
            err.formula = f"premise {i}" if i < len(premises) else "conclusion"
            raise
    return parsed


def check_entailment(
    premises: list[str],
    conclusion: str,
    *,
    timeout_ms: int = 2000,
    rlimit: int = 5_000_000,
    run_id: str = "adhoc",
) -> EntailmentResult:
    """Decide whether ``premises`` entail ``conclusion`` (answers, evidence and verdict mapping
    in the module docstring). Raises :class:`FolSyntaxError` / :class:`FolSortError`, with
    ``.formula`` naming the formula (``"premise 2"`` = ``premises[2]``), for unreadable input."""
    if not (isinstance(timeout_ms, int) and timeout_ms > 0):
        raise ValueError("timeout_ms must be a positive int")
    if not (isinstance(rlimit, int) and rlimit >= 0):
        raise ValueError("rlimit must be a non-negative int")
    start = time.perf_counter()
    asts = _parse_all(premises, conclusion)
    # (tag, label, formula): premises p<i> with guards g<i>, conclusion c with guard w
    items: list[tuple[str, str, S.Formula]] = []
    for i, f in enumerate(asts):
        is_premise = i < len(premises)
        label = f"premise {i}" if is_premise else "conclusion"
        items.append((f"p{i}" if is_premise else "c", label, f))
        guard = S.well_definedness(f)
        if guard is not None:
            items.append((f"g{i}" if is_premise else "w", label, guard))
    ctx = new_context()
    enc = Encoder(ctx)
    for _, label, f in items:
        enc.label = label
        enc.infer(f, {})
    z: dict[str, Any] = {}
    for tag, label, f in items:
        enc.label = label
        z[tag] = enc.formula(f, {})
    goal = z3.And(z["w"], z["c"]) if "w" in z else z["c"]
    tracked = [(tag, e) for tag, e in z.items() if tag not in ("c", "w")]
    texts = {f"p{i}": p for i, p in enumerate(premises)}
    texts.update({tag: S.to_text(f) for tag, _, f in items if tag[0] in "gw"})
    limits = {"timeout_ms": timeout_ms, "rlimit": rlimit}
    guard = Limits(timeout_ms, rlimit)

    queries = [_run("premises", tracked, ctx, guard)]
    if queries[0].status != "unsat":
        negated = ("c", z3.Not(goal, ctx))
        queries.append(_run("premises ∧ ¬conclusion", [*tracked, negated], ctx, guard))
        if not (queries[0].status == "sat" and queries[1].status == "unsat"):
            queries.append(_run("premises ∧ conclusion", [*tracked, ("c", goal)], ctx, guard))
    answer, reason, evidence = _decide(queries, texts, enc)
    undefined = ""  # why a division by zero leaves the conclusion undecided
    if answer in ("False", "Uncertain") and "w" in z:
        # refuted only where the conclusion divides by zero? look for a point where it is
        # defined (False) or defined and false (Uncertain); none means not decided
        extra = [("w", z["w"])] + ([("c", z3.Not(z["c"]))] if answer == "Uncertain" else [])
        defined = _run("premises ∧ conclusion defined", [*tracked, *extra], ctx, guard)
        if defined.status != "sat":
            undefined = ("the conclusion divides by zero wherever the premises hold"
                         if answer == "False" else "the conclusion holds wherever it is "
                         "defined, and divides by zero somewhere the premises hold")
            answer, reason = "Unknown", defined.reason or UnknownReason.DIVISION_BY_ZERO
            evidence = {"query": defined.name, "z3_reason": defined.raw_reason}
        elif answer == "Uncertain":  # a counter-model where the conclusion is defined
            evidence["models"]["conclusion_false"] = model_json(defined.model, enc)
    guards = [(tag, text) for tag, text in texts.items() if tag[0] == "g"]
    if guards:
        evidence["implicit_premises"] = [
            {"text": text, "from": f"premise {tag[1:]}"} for tag, text in guards
        ]
    if "w" in texts:
        evidence["conclusion_guard"] = texts["w"]
    if reason is UnknownReason.DIVISION_BY_ZERO:
        verdict = Verdict("unknown", reason=reason, evidence=evidence, detail=undefined)
    elif reason is not None:
        detail = f"z3 returned unknown on {evidence['query']}"
        verdict = Verdict("unknown", reason=reason, evidence=evidence, detail=detail)
    elif answer == "Inconsistent":  # vacuous: neither verified nor a counter-example
        verdict = Verdict("unknown", reason=UnknownReason.VACUOUS, evidence=evidence,
                          detail=_DETAIL[answer])
    else:
        kind = "verified" if answer == "True" else "refuted"
        verdict = Verdict(kind, evidence=evidence, detail=_DETAIL[answer])
    provenance = Provenance(
        run_id=run_id,
        backend="z3",
        backend_version=z3_version(),
        limits=limits,
        formalizer=FORMALIZER,
        formalizer_version=FORMALIZER_VERSION,
        wall_time_s=round(time.perf_counter() - start, 6),
    )
    implicit = tuple(text for _, text in guards)
    return EntailmentResult(answer, verdict, provenance, evidence, reason, implicit)


def entail_row(row: Any, **limits: Any) -> dict[str, Any]:
    """Check one row ``{"id": str, "premises": [str, ...], "conclusion": str}``.

    Returns ``{"id": ..., **EntailmentResult.to_dict()}`` or ``{"id": ..., "error": {...}}``
    with ``kind`` ``syntax`` / ``sort`` (formula, position, expected, message) or ``bad-row``;
    bad input never raises, so a batch keeps going. ``limits`` go to :func:`check_entailment`.
    """
    rid = row.get("id") if isinstance(row, dict) else None
    problems: list[str] = []
    if not isinstance(row, dict):
        problems.append(f"row must be an object, not {type(row).__name__}")
    else:
        if not isinstance(rid, str):
            problems.append("'id' must be a string")
        premises = row.get("premises")
        if not isinstance(premises, list) or not all(isinstance(p, str) for p in premises):
            problems.append("'premises' must be a list of strings")
        if not isinstance(row.get("conclusion"), str):
            problems.append("'conclusion' must be a string")
    if problems:
        return {"id": rid, "error": {"kind": "bad-row", "message": "; ".join(problems)}}
    try:
        result = check_entailment(row["premises"], row["conclusion"], **limits)
    except FolSyntaxError as err:
        sort = isinstance(err, FolSortError)
        info = {"kind": "sort" if sort else "syntax", "formula": err.formula}
        info.update(position=err.position, expected=err.expected)
        info.update({"name": err.name} if sort else {})  # type: ignore[attr-defined]
        return {"id": rid, "error": {**info, "message": err.message}}
    return {"id": rid, **result.to_dict()}
