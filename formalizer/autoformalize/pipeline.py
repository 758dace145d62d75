"""The autoformalization pipeline: NL statement -> k sampled candidates -> type-check filter
(+ bounded repair with the error message) -> faithfulness flags -> equivalence clusters ->
ranked result with provenance (and a back-translation of the chosen candidate).

Batched by design: each round makes ONE ``sampler.sample`` call for the prompts of all items
(so a GPU server sees large batches), and back-translation is one more call for all chosen
candidates. Bad model output never raises: it is filtered and recorded on its candidate.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from formalizer.autoformalize.backtranslate import backtranslate
from formalizer.autoformalize.cluster import cluster_candidates, rank_clusters
from formalizer.autoformalize.isolation import IsolatedTarget
from formalizer.autoformalize.llm import Sampler
from formalizer.autoformalize.prompts import load_prompt
from formalizer.autoformalize.targets import make_target
from formalizer.autoformalize.targets.base import Candidate, Item, Target
from formalizer.autoformalize.vote import entailment_vote
from prover.records.verdicts import package_version

FormalizeItem = Item
TARGETS = ("lean", "z3", "fol")
DEFAULT_LEAN_HEADER = "import Mathlib\nopen BigOperators Real Nat Topology"
"""The miniF2F header's opens over all of Mathlib (``lean_project`` pins Lean v4.20.0)."""


@dataclass
class FormalizeConfig:
    """Settings of one :func:`formalize` call (all recorded in the provenance)."""

    target: str
    k: int = 8
    repair_rounds: int = 1
    equiv_timeout_ms: int = 2000
    negation_timeout_ms: int = 1000
    backtranslate: bool = True
    lean_header: str = DEFAULT_LEAN_HEADER

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        if self.k < 1 or self.repair_rounds < 0:
            raise ValueError("k must be >= 1 and repair_rounds >= 0")
        if self.equiv_timeout_ms < 1 or self.negation_timeout_ms < 1:
            raise ValueError("timeouts must be positive (milliseconds)")


@dataclass
class FormalizeResult:
    """Everything about one item: candidates with checks, clusters, the chosen one, provenance."""

    id: str
    text: str
    target: str
    candidates: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    chosen: dict[str, Any] | None
    provenance: dict[str, Any]
    reason: str | None = None
    premises: list[str] | None = None
    vote: dict[str, Any] | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    #: ``{"reason": "timeout" | "worker-died", "message"}`` when the row's checks were killed
    #: (:mod:`formalizer.autoformalize.isolation`): the row is not decided
    failure: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``premises``/``vote``/``failure`` only when present)."""
        out = asdict(self)
        for key in ("premises", "vote", "failure"):
            if out[key] is None:
                out.pop(key)
        return out


def as_item(obj: FormalizeItem | str | Mapping[str, Any], position: int) -> Item:
    """An :class:`Item` from an item, a bare string, a ``{id?, text}`` row or a FOLIO row
    ``{premises, conclusion}``; raises ValueError naming the field that is wrong."""
    if isinstance(obj, Item):
        return obj
    if isinstance(obj, str):
        if not obj.strip():
            raise ValueError(f"item {position}: empty statement")
        return Item(str(position), obj)
    if not isinstance(obj, Mapping):
        raise ValueError(f"item {position}: expected a string or an object, got "
                         f"{type(obj).__name__}")
    rid = obj.get("id", obj.get("example_id", position))
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        raise ValueError(f"item {position}: 'id' must be a string or an integer")
    text = obj.get("text", obj.get("conclusion"))
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"item {rid}: 'text' (or 'conclusion') must be a non-empty string")
    premises = obj.get("premises")
    if premises is not None and (not isinstance(premises, list)
                                 or not all(isinstance(p, str) for p in premises)):
        raise ValueError(f"item {rid}: 'premises' must be a list of strings")
    return Item(str(rid), text, list(premises) if premises is not None else None)


def _sample_round(sampler: Sampler, prompts: list[str], n: int) -> list[list[tuple[str, float]]]:
    rows = sampler.sample(prompts, n) if prompts else []
    if len(rows) != len(prompts):
        raise RuntimeError(f"sampler returned {len(rows)} rows for {len(prompts)} prompts")
    return rows


def _make_candidate(target: Target, item: Item, index: int, raw: str, logprob: float,
                    round_: int) -> Candidate:
    cand = Candidate(index, raw, float(logprob), round_)
    formal, error = target.extract(raw, item)
    cand.formal = formal
    if error is not None:
        cand.check = {"status": "error", "error": error, "stage": "extract"}
    return cand


def formalize(items: Sequence[FormalizeItem | str | Mapping[str, Any]], sampler: Sampler,
              config: FormalizeConfig, *, lean_pool: Any | None = None,
              progress: Any | None = None, row_timeout_s: float | None = None,
              target: Target | None = None) -> list[FormalizeResult]:
    """Formalize every item (see the module docstring); one result per item, in order.

    ``lean_pool`` is a :class:`prover.lean.pool.LeanReplPool` for the Lean target (None: one
    is started from :meth:`ReplConfig.from_env` when ``lake`` exists, and closed at the end);
    ``progress`` gets ``update(done, extra)`` after each stage when given.

    ``row_timeout_s``: the Z3 and FOL targets' checks run in a killable worker process, each
    row's under that wall-clock budget (:mod:`formalizer.autoformalize.isolation`); a row past
    it gets ``chosen`` None and ``failure`` ``{"reason": "timeout", ...}``. None (the default
    of this API): the checks run in this process. ``target``: a target made by
    :func:`~formalizer.autoformalize.targets.make_target` that the caller keeps (and closes),
    e.g. one worker for a whole run; it overrides ``lean_pool`` and ``row_timeout_s``.
    """
    start = time.perf_counter()
    parsed = [as_item(obj, i) for i, obj in enumerate(items)]
    close: Any = None
    if target is None:
        target, close = make_target(config, lean_pool, row_timeout_s)
    try:
        if isinstance(target, IsolatedTarget):
            target.begin(parsed)
        return _run(parsed, sampler, config, target, progress, start)
    finally:
        if close is not None:
            close()


def _failure(target: Target, item: Item) -> tuple[str, str] | None:
    """Why ``item``'s checks were killed, or None (always None for an in-process target)."""
    return target.failure(item) if isinstance(target, IsolatedTarget) else None


def _run(items: list[Item], sampler: Sampler, config: FormalizeConfig, target: Target,
         progress: Any | None, start: float) -> list[FormalizeResult]:
    prompt_files = {}
    per_item: list[list[Candidate]] = [[] for _ in items]
    # round 0: k samples per item, one call
    prompts = []
    for item in items:
        prompt = load_prompt(target.prompt_name(item))
        prompt_files[prompt.name] = prompt.describe()
        prompts.append(prompt.render(target.prompt_values(item)))
    for i, rows in enumerate(_sample_round(sampler, prompts, config.k)):
        for raw, lp in rows:
            per_item[i].append(_make_candidate(target, items[i], len(per_item[i]), raw, lp, 0))
    for i, item in enumerate(items):
        target.typecheck(item, per_item[i])
    _tick(progress, 1, "sampled + type-checked")
    rounds_used = 0
    repair = load_prompt(target.repair_prompt)
    for round_ in range(1, config.repair_rounds + 1):
        todo = [(i, c) for i, cands in enumerate(per_item) for c in cands
                if c.round == round_ - 1 and c.check.get("status") == "error"
                and _failure(target, items[i]) is None]
        if not todo:
            break
        prompt_files[repair.name] = repair.describe()
        rounds_used = round_
        texts = [repair.render({**target.prompt_values(items[i]), "candidate": c.raw.strip(),
                                "error": c.check.get("error", "")}) for i, c in todo]
        fresh: dict[int, list[Candidate]] = {}
        for (i, failed), rows in zip(todo, _sample_round(sampler, texts, 1), strict=True):
            for raw, lp in rows:
                cand = _make_candidate(target, items[i], len(per_item[i]), raw, lp, round_)
                cand.repair_of, cand.repaired_error = failed.index, failed.check.get("error")
                per_item[i].append(cand)
                fresh.setdefault(i, []).append(cand)
        for i, cands in fresh.items():
            target.typecheck(items[i], cands)
        _tick(progress, 1 + round_, f"repair round {round_}")
    results = []
    for item, cands in zip(items, per_item, strict=True):
        results.append(_finish_item(item, cands, config, target))
    _tick(progress, 2 + config.repair_rounds, "clustered")
    chosen = [(r, c) for r, c in zip(results, per_item, strict=True) if r.chosen is not None]
    if config.backtranslate and chosen:
        bt = load_prompt(target.backtranslate_prompt)
        prompt_files[bt.name] = bt.describe()
        backtranslate(sampler, bt, [r.chosen for r, _ in chosen])  # type: ignore[misc]
    wall = round(time.perf_counter() - start, 3)
    common = {"sampler": sampler.describe(), "prompts": sorted(prompt_files.values(),
                                                               key=lambda p: p["file"]),
              "config": asdict(config), "repair_rounds_used": rounds_used,
              "wall_time_s": wall, "items_in_batch": len(items), **target.describe(),
              "proofgraph_version": package_version()}
    for result in results:
        result.provenance = dict(common)
    return results


def _tick(progress: Any | None, done: int, extra: str) -> None:
    if progress is not None:
        progress.update(done, extra)


def _failed_result(item: Item, cands: list[Candidate], config: FormalizeConfig,
                   failed: tuple[str, str]) -> FormalizeResult:
    """The result of a row whose checks were killed: nothing chosen, ``failure`` says why."""
    reason, message = failed
    return FormalizeResult(
        id=item.id, text=item.text, target=config.target,
        candidates=[c.to_dict() for c in cands], clusters=[], chosen=None, provenance={},
        reason=message, premises=item.premises,
        failure={"reason": reason, "message": message},
        summary={"candidates": len(cands), "typechecked": sum(c.ok for c in cands),
                 "clusters": 0, "chosen": None})


def _finish_item(item: Item, cands: list[Candidate], config: FormalizeConfig,
                 target: Target) -> FormalizeResult:
    failed = _failure(target, item)
    survivors = [] if failed is not None else [c for c in cands if c.survives]
    for cand in survivors:
        cand.flags = target.flags(item, cand, config.negation_timeout_ms)
    can_compare = all(c.ok for c in survivors)
    clusters = cluster_candidates(
        survivors,
        (lambda a, b: target.equivalent(a, b, config.equiv_timeout_ms)) if can_compare else None)
    failed = _failure(target, item)  # the flags or the comparisons may have been killed
    if failed is not None:
        return _failed_result(item, cands, config, failed)
    by_index = {c.index: c for c in cands}
    ranked = rank_clusters(clusters, by_index)
    chosen: dict[str, Any] | None = None
    reason = None
    if ranked:
        best = by_index[ranked[0].members[0]]
        chosen = {**best.to_dict(), "rendered": target.render(best),
                  "cluster_size": len(ranked[0].members)}
        if ranked[0].blocked:
            chosen["warning"] = ("every cluster is flagged " + ", ".join(ranked[0].blocked)
                                 + ": the best one is reported, but it is not faithful")
        if not can_compare:
            chosen["warning"] = ("not type-checked: " + str(best.check.get("reason"))
                                 + "; clusters are by identical normalised text only")
    else:
        errors = sorted({str(c.check.get("error"))[:120] for c in cands})
        reason = (f"no candidate survived the type check ({len(cands)} tried); errors: "
                  + " | ".join(errors[:5])) if cands else "the sampler returned no candidates"
    result = FormalizeResult(
        id=item.id, text=item.text, target=config.target,
        candidates=[c.to_dict() for c in cands],
        clusters=[c.to_dict() for c in sorted(ranked, key=lambda c: c.id)],
        chosen=chosen, provenance={}, reason=reason, premises=item.premises)
    if config.target == "fol" and item.premises is not None:
        result.vote = entailment_vote(survivors)
    result.summary = {
        "candidates": len(cands), "typechecked": sum(c.ok for c in cands),
        "skipped": sum(c.check.get("status") == "skipped" for c in cands),
        "repaired": sum(c.round > 0 and c.ok for c in cands),
        "clusters": len(ranked), "chosen": chosen["index"] if chosen else None,
        "clustering": "equivalence" if can_compare else "normalised text identity",
    }
    return result
