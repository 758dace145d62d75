"""The FOL target (FOLIO syntax, parsed by :mod:`prover.fol.parser`).

A candidate for an item with NL premises is the whole translation: numbered premise formulas
(``1. ∀x (...)``; exactly one per NL premise) and ``FOL conclusion: φ``; for a lone statement it
is one formula. Type check = parse every formula, then the entailment encoder's sort inference
(a name used as entity and number is an error) plus one arity per predicate. Each checked
candidate gets its entailment answer from :func:`prover.z3.entail.check_entailment`
(True/False/Uncertain/Inconsistent/Unknown). Vacuous = the premises are inconsistent; negation
provable (lone statements only) = the formula's negation is valid. Equivalent = the same
predicate signatures and constants, ``∧premises_A ↔ ∧premises_B`` and ``concl_A ↔ concl_B``
both proved valid; Z3 unknown is not equivalent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from formalizer.autoformalize.targets.base import Candidate, Equivalence, Item, strip_fences
from prover.fol import syntax as S
from prover.fol.parser import parse_formula
from prover.fol.syntax import FolSyntaxError
from prover.z3.compare import fol_equivalent, fol_sort_check
from prover.z3.entail import check_entailment
from prover.z3.gateway import z3_version

_NUMBERED = re.compile(r"^\s*(?:premise\s*)?(\d+)\s*[.):]\s*(.*)$", re.IGNORECASE)
_CONCLUSION = re.compile(r"^\s*(?:FOL\s+)?conclusion\s*:\s*(.*)$", re.IGNORECASE)
_LONE = re.compile(r"^\s*FOL\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Translation:
    """Parsed formulas of one candidate."""

    premises: tuple[S.Formula, ...]
    conclusion: S.Formula


def split_translation(raw: str, item: Item) -> tuple[list[str], str]:
    """``(premise formulas, conclusion formula)`` texts of a completion; raises ValueError."""
    lines = [line for line in strip_fences(raw).splitlines() if line.strip()]
    if item.premises is None:
        if not lines:
            raise ValueError("empty output: expected one formula")
        return [], _LONE.sub("", lines[0]).strip()
    premises: list[str] = []
    conclusion = None
    for line in lines:
        if (m := _CONCLUSION.match(line)) is not None:
            conclusion = m.group(1).strip()
            break
        if (m := _NUMBERED.match(line)) is not None:
            premises.append(m.group(2).strip())
    if conclusion is None:
        raise ValueError("no 'FOL conclusion: <formula>' line")
    if len(premises) != len(item.premises):
        raise ValueError(f"expected {len(item.premises)} numbered premise formulas, "
                         f"got {len(premises)}")
    return premises, conclusion


def _predicates(f: S.Formula, out: dict[str, set[int]], consts: set[str]) -> None:
    if isinstance(f, S.Pred):
        out.setdefault(f.name, set()).add(len(f.args))
        consts.update(a.name for a in f.args if isinstance(a, S.Const))
    elif isinstance(f, (S.Forall, S.Exists)):
        _predicates(f.body, out, consts)
    elif isinstance(f, S.Cmp):
        return
    else:
        for sub in S.subformulas(f):
            _predicates(sub, out, consts)


def signature(t: Translation) -> tuple[dict[str, set[int]], set[str]]:
    """Predicate name -> arities used, and the entity constants, of a translation."""
    preds: dict[str, set[int]] = {}
    consts: set[str] = set()
    for f in (*t.premises, t.conclusion):
        _predicates(f, preds, consts)
    return preds, consts


class FolTarget:
    """See the module docstring."""

    name = "fol"
    repair_prompt = "repair_fol.txt"
    backtranslate_prompt = "backtranslate_fol.txt"

    def __init__(self, timeout_ms: int = 2000) -> None:
        self.timeout_ms = timeout_ms

    def prompt_name(self, item: Item) -> str:
        return "formalize_fol.txt" if item.premises is not None else "formalize_fol_statement.txt"

    def prompt_values(self, item: Item) -> dict[str, str]:
        premises = item.premises or []
        block = "\n".join(f"{i}. {p.strip()}" for i, p in enumerate(premises, 1)) or "(none)"
        prefix = "FOL premises:" if item.premises is not None else "FOL:"
        return {"statement": item.text.strip(), "premises": block, "answer_prefix": prefix}

    def extract(self, raw: str, item: Item) -> tuple[str | None, str | None]:
        """Canonical text: premise formulas one a line, then ``⊢ conclusion``."""
        try:
            premises, conclusion = split_translation(raw, item)
        except ValueError as exc:
            return None, f"layout: {exc}"
        if item.premises is None:
            return conclusion, None
        return "\n".join([*premises, f"⊢ {conclusion}"]), None

    def typecheck(self, item: Item, candidates: Sequence[Candidate]) -> None:
        """Parse, sort-check and arity-check; checked candidates get ``info['entailment']``."""
        for cand in candidates:
            if cand.formal is None:
                continue
            *premise_texts, conclusion_text = cand.formal.splitlines()
            conclusion_text = conclusion_text.removeprefix("⊢ ")
            texts = [*premise_texts, conclusion_text]
            try:
                formulas = []
                for i, text in enumerate(texts):
                    label = f"premise {i + 1}" if i < len(premise_texts) else "conclusion"
                    try:
                        formulas.append(parse_formula(text))
                    except FolSyntaxError as err:
                        raise ValueError(f"{label}: {err.message} at position {err.position} "
                                         f"(expected {err.expected})") from None
                trans = Translation(tuple(formulas[:-1]), formulas[-1])
                preds, _ = signature(trans)
                bad = sorted(f"{n}/{sorted(a)}" for n, a in preds.items() if len(a) > 1)
                if bad:
                    raise ValueError(f"predicate used with different arities: {', '.join(bad)}")
                try:
                    fol_sort_check(formulas)
                except FolSyntaxError as err:
                    raise ValueError(f"sort: {err.message}") from None
            except ValueError as exc:
                cand.check = {"status": "error", "error": str(exc)}
                continue
            cand.parsed = trans
            cand.formal = "\n".join([*(S.to_text(f) for f in trans.premises),
                                     *([f"⊢ {S.to_text(trans.conclusion)}"]
                                       if item.premises is not None
                                       else [S.to_text(trans.conclusion)])])
            cand.check = {"status": "ok", "checker": "fol parser + sort/arity check"}
            result = check_entailment([S.to_text(f) for f in trans.premises],
                                      S.to_text(trans.conclusion), timeout_ms=self.timeout_ms)
            cand.info["entailment"] = {"answer": result.answer,
                                       "reason": result.reason.value if result.reason else None}

    def equivalent(self, a: Candidate, b: Candidate, timeout_ms: int) -> Equivalence:
        """Same signature, then premise conjunctions and conclusions proved equivalent."""
        ta, tb = a.parsed, b.parsed
        assert isinstance(ta, Translation) and isinstance(tb, Translation)
        sig_a, sig_b = signature(ta), signature(tb)
        if sig_a != sig_b:
            names = sorted(set(sig_a[0]) ^ set(sig_b[0])) + sorted(sig_a[1] ^ sig_b[1])
            return Equivalence(False, "different symbols: " + ", ".join(names[:8] or ["arity"]))
        try:
            same, why = fol_equivalent(ta.premises, ta.conclusion, tb.premises, tb.conclusion,
                                       timeout_ms)
        except FolSyntaxError as err:
            return Equivalence(False, f"sorts disagree: {err.message}")
        return Equivalence(same, why)

    def flags(self, item: Item, candidate: Candidate, timeout_ms: int) -> dict[str, Any]:
        """``vacuous`` from the entailment answer; ``negation_provable`` for lone statements."""
        answer = (candidate.info.get("entailment") or {}).get("answer")
        flags: dict[str, Any] = {}
        if item.premises is not None:
            flags["vacuous"] = ({"value": True, "detail": "the premise formulas are inconsistent"}
                                if answer == "Inconsistent" else
                                {"value": None if answer == "Unknown" else False,
                                 "detail": f"entailment answer {answer}"})
            flags["negation_provable"] = {"value": None, "detail": "not applicable: with premises "
                                          "a refuted conclusion is the entailment answer False"}
            return flags
        flags["vacuous"] = {"value": False, "detail": "no hypotheses"}
        flags["negation_provable"] = (
            {"value": True, "detail": "the formula is unsatisfiable (its negation is valid)"}
            if answer == "False" else
            {"value": None if answer == "Unknown" else False, "detail": f"answer {answer}"})
        return flags

    def render(self, candidate: Candidate) -> str:
        """The canonical formulas joined: ``P1; P2 ⊢ C`` (or the lone formula)."""
        if candidate.formal is None:
            return ""
        lines = candidate.formal.splitlines()
        if lines[-1].startswith("⊢ "):
            return "; ".join(lines[:-1]) + (" " if len(lines) > 1 else "") + lines[-1]
        return lines[0]

    def describe(self) -> dict[str, Any]:
        return {"target": "fol", "z3_version": z3_version()}
