"""The entailment view: premises, conclusion, and the unsat core highlighted or the counter-models.

One card per ``entail`` result row: the answer as a badge with its word (True, False, Uncertain,
Inconsistent, Unknown), the premises with the ones in the unsat core marked (class ``core`` and
the words "in unsat core"), the conclusion, and for Uncertain both models (the conclusion true
and the conclusion false) as tables of plain values. Shares the report shell and filters.
Renders :class:`~prover.records.results.EntailmentResult`; rows given as dicts are parsed once
by :func:`render_entail_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prover.records.results import EntailmentResult
from prover.report.html import _plain, evidence_text, note_html, provenance_html, report_page
from prover.report.limits import MAX_ROWS, MAX_STEPS_PER_ROW, Omitted, clip, collecting
from prover.report.page import esc

_ANSWER_CLASS = {"True": "verified", "False": "refuted", "Uncertain": "unknown",
                 "Inconsistent": "refuted", "Unknown": "unknown"}
_ANSWER_ICON = {"True": "✔", "False": "✘", "Uncertain": "?", "Inconsistent": "⊥",
                "Unknown": "?"}
CORE_MARK = "★ in unsat core"


def answer_badge(answer: str | None, reason: str | None = None) -> str:
    """The answer as a coloured badge that carries the word (``✔ True``, ``? Unknown: timeout``)."""
    if answer is None:
        return '<span class="badge v-other">– no answer</span>'
    label = f"{_ANSWER_ICON.get(answer, '?')} {answer}" + (f": {reason}" if reason else "")
    return f'<span class="badge v-{_ANSWER_CLASS.get(answer, "other")}">{esc(label)}</span>'


def _core(row: EntailmentResult) -> tuple[set[int], bool]:
    """Premise indices in the unsat core, and whether the conclusion is in it."""
    ev = row.evidence or {}
    if not isinstance(ev, Mapping):
        return set(), False
    indices = {i for i in ev.get("core_indices") or [] if isinstance(i, int)}
    conclusion = False
    for item in ev.get("core") or []:
        if isinstance(item, Mapping):
            if item.get("kind") == "premise" and isinstance(item.get("index"), int):
                indices.add(item["index"])
            conclusion = conclusion or item.get("kind") == "conclusion"
    return indices, conclusion


def _model_table(name: str, model: Mapping[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if model.get("universe") is not None:
        rows.append(("universe", ", ".join(map(str, model.get("universe") or [])) or "∅"))
    for key, value in sorted((model.get("constants") or {}).items()):
        rows.append((str(key), _plain(value)))
    for pred, tuples in sorted((model.get("predicates") or {}).items()):
        cells = ["(" + ", ".join(map(str, t)) + ")" if isinstance(t, list) else str(t)
                 for t in tuples or []]
        rows.append((f"{pred} holds for", ", ".join(cells) or "nothing"))
    for key, value in sorted((model.get("reals") or {}).items()):
        rows.append((str(key), _plain(value)))
    known = {"universe", "universe_size", "constants", "predicates", "reals"}
    rows.extend((str(k), _plain(v)) for k, v in sorted(model.items()) if k not in known)
    body = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in rows)
    return (f'<div class="model"><strong>{esc(name.replace("_", " "))}</strong>'
            f'<table class="model"><tbody>{body}</tbody></table></div>')


def _card(idx: int, row: EntailmentResult) -> str:
    answer, error = row.answer, row.error
    core, conclusion_in_core = _core(row)
    verdict = row.verdict if isinstance(row.verdict, Mapping) else {}
    reason = row.reason or (verdict or {}).get("reason")
    line = row.line
    row_id = row.id if row.has("id") else idx
    head = f"#{esc(row_id)}" + (f" (line {esc(line)})" if line is not None else "")
    status = (f'<span class="rejected">rejected: {esc(error)}</span>' if error
              else answer_badge(answer, reason if answer == "Unknown" else None))
    has_error = bool(error) or answer in (None, "Unknown")
    parts = [f'<details class="sol entail{" has-error" if has_error else ""}" id="sol-{idx}">',
             f"<summary>{head} — {status}</summary>"]
    if error:
        parts.append(f'<p class="rejected">Row rejected: {esc(error)}</p>')
    premises = row.premises or []
    items = []
    for i, text in enumerate(premises[:MAX_STEPS_PER_ROW]):
        in_core = i in core
        mark = f' <span class="core-mark">{CORE_MARK}</span>' if in_core else ""
        items.append(f'<li id="e{idx}-p{i}" class="focusable{" core" if in_core else ""}" '
                     f'tabindex="-1"><span class="steptext">{esc(clip(text))}</span>{mark}</li>')
    if len(premises) > MAX_STEPS_PER_ROW:
        items.append(f'<li class="meta">… {len(premises) - MAX_STEPS_PER_ROW:,} more premises '
                     "are not embedded</li>")
    count = f" ({len(core)} of {len(premises)} in the unsat core)" if core else ""
    parts.append(f'<div><strong>Premises</strong>{count}'
                 f'<ol class="premises" start="0">{"".join(items)}</ol></div>')
    implicit = row.implicit_premises or []
    if implicit:
        parts.append('<div class="meta">implicit premises (definedness guards): '
                     f"{esc(', '.join(map(_plain, implicit)))}</div>")
    cmark = f' <span class="core-mark">{CORE_MARK}</span>' if conclusion_in_core else ""
    parts.append(f'<div class="conclusion"><strong>Conclusion:</strong> '
                 f'<span class="steptext">{esc(clip(row.conclusion))}</span>{cmark}</div>')
    if verdict:
        detail = verdict.get("detail")
        parts.append(f'<div class="meta">verdict: {esc(verdict.get("verdict"))}'
                     + (f" — {esc(detail)}" if detail else "") + "</div>")
    ev = row.evidence if isinstance(row.evidence, Mapping) else {}
    models = (ev or {}).get("models")
    if isinstance(models, Mapping):
        parts.append("<div><strong>Counter-model</strong> (the premises hold in both):"
                     + "".join(_model_table(k, m) for k, m in sorted(models.items(), reverse=True)
                               if isinstance(m, Mapping)) + "</div>")
    rest = {k: v for k, v in (ev or {}).items() if k not in ("core", "core_indices", "models")}
    if rest:
        parts.append(f'<div class="evidence">{esc(clip(evidence_text(None, rest)))}</div>')
    parts.append(provenance_html(row.provenance))
    parts.append("</details>")
    return "\n".join(parts)


def render_entail_report(rows: Sequence[EntailmentResult | Mapping[str, Any]], *, title: str,
                         summary: Mapping[str, Any], hint: str | None = None) -> str:
    """One offline HTML page for ``entail`` result rows (str), safe for any input text; capped
    like the step report (rows, premises per row, characters) with a visible note. Rows given
    as dicts are parsed once here (:meth:`EntailmentResult.from_dict`)."""
    omitted = Omitted()
    shown = [r if isinstance(r, EntailmentResult) else EntailmentResult.from_dict(r)
             for r in rows[:MAX_ROWS]]
    omitted.add("rows", len(rows) - len(shown), f"rows {len(shown) + 1} to {len(rows)}")
    for row in shown:
        omitted.add("premises", len(row.premises or []) - MAX_STEPS_PER_ROW,
                    f"#{row.id}: first {MAX_STEPS_PER_ROW:,} premises shown")
    with collecting(omitted):
        cards = [_card(i, r) for i, r in enumerate(shown)]
    n_err = sum(1 for r in shown if r.error or r.answer in (None, "Unknown"))
    return report_page(title, summary, cards, n_err, errors_label="only rejected or Unknown rows",
                       note=note_html(omitted, hint))
