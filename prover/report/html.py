"""One self-contained, offline HTML page reporting step-checked solutions.

Each CoT step sits beside its claims (source, formal form, verdict, evidence) and, for rows
formalized by an LLM, beside the LLM claims with their local and grounded verdicts and links to
the premise steps they used; the first error is marked in words. The page shell
(:mod:`prover.report.page`) inlines ``assets/report.css``/``report.js`` under a hash-based CSP.
Every value taken from the data is escaped (quotes included), so step text cannot inject
markup. Verdicts are shown as a coloured badge *and* a word, never colour alone.

The report renders typed results (:class:`~prover.records.results.SolutionResult` and its
steps, claims and LLM views): :func:`render_step_report` parses each row once at its boundary,
so a change of the row layout breaks in :mod:`prover.records.results`, not here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from prover.records.results import ClaimResult, SolutionResult, StepResult
from prover.report import llm_html
from prover.report.limits import (
    MAX_ROWS,
    MAX_STEPS,
    MAX_STEPS_PER_ROW,
    Omitted,
    clip,
    collecting,
    note_text,
)
from prover.report.page import asset, document, esc

_ICONS = {"verified": "✔", "verified_approx": "≈", "refuted": "✘", "unknown": "?",
          "no_claims": "–"}


_e = esc


def _plain(value: Any) -> str:
    """Scalars as their text, containers as compact JSON; not yet escaped."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def verdict_label(verdict: str | None, *, reason: str | None = None,
                  tolerance: str | None = None, binds: str | None = None,
                  premise: bool = False) -> str:
    """Human label with its symbol, e.g. ``✘ refuted`` or ``? unknown: too-large``."""
    if verdict is None:
        if binds:
            return f"≔ defines {binds}"
        return "▸ premise (stated)" if premise else "– not checked"
    icon = _ICONS.get(verdict, "?")
    label = f"{icon} {verdict}"
    if verdict == "unknown" and reason:
        label += f": {reason}"
    if verdict == "verified_approx" and tolerance:
        label += f" (±{tolerance})"
    if verdict == "no_claims":
        label = f"{icon} no claims"
    return label


def badge(verdict: str | None, **kw: Any) -> str:
    """A coloured ``<span>`` badge that also carries the verdict in words."""
    cls = verdict if verdict in _ICONS else ("none" if verdict is None else "other")
    return f'<span class="badge v-{cls}">{_e(verdict_label(verdict, **kw))}</span>'


def evidence_text(verdict: str | None, evidence: Mapping[str, Any] | None) -> str:
    """Evidence in plain words, e.g. ``left side = 240, right side = 24``; not yet escaped."""
    if not evidence:
        return ""
    parts: list[str] = []
    rest = dict(evidence)
    if "lhs" in rest or "rhs" in rest:
        parts.append(f"left side = {_plain(rest.pop('lhs', '?'))}, "
                     f"right side = {_plain(rest.pop('rhs', '?'))}")
    model = rest.pop("model", None)
    if isinstance(model, Mapping):
        assigned = ", ".join(f"{k} = {_plain(v)}" for k, v in sorted(model.items()))
        parts.append(f"counter-model: {assigned}" if verdict == "refuted" else f"model: {assigned}")
    elif model is not None:
        parts.append(f"model: {_plain(model)}")
    parts.extend(f"{k.replace('_', ' ')} = {_plain(v)}" for k, v in sorted(rest.items()))
    return "; ".join(parts)


def _claim_html(claim: ClaimResult) -> str:
    verdict = claim.verdict
    kw = {"reason": claim.reason, "tolerance": claim.tolerance,
          "binds": claim.binds, "premise": claim.kind == "constraint"}
    ev = evidence_text(verdict, claim.evidence)
    formal = claim.formal
    time_s = claim.time_s
    out = [f"<li>{badge(verdict, **kw)} <span class=\"meta\">{_e(claim.kind)}</span>",
           f"<div>source: <span class=\"steptext\">{_e(clip(claim.source))}</span></div>"]
    out.append(f'<div>formal: <code class="formal">{_e(clip(formal))}</code></div>' if formal
               else '<div class="meta">no formal form</div>')
    if ev:
        out.append(f'<div class="evidence">{_e(clip(ev))}</div>')
    if verdict is not None and isinstance(time_s, (int, float)):
        out.append(f'<div class="meta">checked in {_e(f"{time_s:.3g}")} s</div>')
    out.append("</li>")
    return "".join(out)


def _index(step: StepResult, pos: int) -> Any:
    """The step's ``index`` (its position when the row has none)."""
    return step.index if step.has("index") else pos


def shown_steps(sol: SolutionResult, max_steps: int) -> list[int]:
    """Positions of the steps a capped report embeds: the first ``max_steps``, plus the first
    error's and the first grounded error's steps when they lie beyond (never hidden)."""
    steps = sol.steps or ()
    keep = list(range(min(len(steps), max_steps)))
    for mark in (sol.first_error, sol.first_error_grounded):
        for pos, step in enumerate(steps[max_steps:], start=max_steps):
            if isinstance(step, StepResult) and _index(step, pos) == mark and pos not in keep:
                keep.append(pos)
    return keep


def _steps_html(sol_idx: int, sol: SolutionResult, with_llm: bool,
                max_steps: int = MAX_STEPS_PER_ROW) -> str:
    steps = sol.steps or ()
    if not steps:
        return '<p class="meta">No steps.</p>'
    keep = shown_steps(sol, max_steps)
    first_error = sol.first_error
    grounded = sol.first_error_grounded
    llm_head = "<th>LLM claims (local / grounded)</th>" if with_llm else ""
    rows = ['<table class="steps"><thead><tr><th>#</th><th>Step</th><th>Claims</th>'
            f"{llm_head}</tr></thead><tbody>"]
    prev = -1
    for pos in keep:
        step = steps[pos]
        if pos != prev + 1:
            rows.append(f'<tr class="omitted"><td></td><td colspan="{3 if with_llm else 2}">'
                        f"… steps at positions {prev + 1} to {pos - 1} are not embedded"
                        "</td></tr>")
        prev = pos
        index = _index(step, pos)
        is_first = first_error is not None and index == first_error
        claims = step.claims or ()
        claims_html = ('<ul class="claims">' + "".join(_claim_html(c) for c in claims) + "</ul>"
                       if claims else '<span class="meta">no claims</span>')
        marker = '<div class="marker">⚑ first error</div>' if is_first else ""
        if grounded is not None and index == grounded:
            marker += '<div class="marker">⚑ first grounded error</div>'
        cls = ' class="first-error"' if is_first else ""
        llm = (f"<td>{llm_html.llm_cell(sol_idx, step, badge, evidence_text)}</td>"
               if with_llm else "")
        rows.append(
            f'<tr id="s{sol_idx}-step-{_e(index)}"{cls}>'
            f'<td class="focusable" tabindex="-1">{_e(index)}</td>'
            f'<td>{marker}<div class="steptext">{_e(clip(step.text))}</div>'
            f"<div>{badge(step.verdict)}</div></td>"
            f"<td>{claims_html}</td>{llm}</tr>"
        )
    if len(keep) < len(steps):
        rows.append(f'<tr class="omitted"><td></td><td colspan="{3 if with_llm else 2}">'
                    f"{len(steps) - len(keep):,} of {len(steps):,} steps are not embedded "
                    "(see the note at the top)</td></tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def provenance_html(prov: Any) -> str:
    """A collapsed ``Provenance`` block listing every field (empty string when none)."""
    if not prov:
        return ""
    if isinstance(prov, Mapping):
        body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(clip(_plain(v)))}</dd>"
                       for k, v in prov.items())
        body = f'<dl class="prov">{body}</dl>'
    else:
        body = f"<p>{_e(clip(_plain(prov)))}</p>"
    return f"<details><summary>Provenance</summary>{body}</details>"


def _has_error(sol: SolutionResult) -> bool:
    if sol.error or sol.first_error is not None:
        return True
    if sol.first_error_grounded is not None:
        return True
    return any(s.verdict == "refuted" for s in sol.steps or ())


def _solution_html(idx: int, sol: SolutionResult, with_llm: bool,
                   max_steps: int = MAX_STEPS_PER_ROW) -> str:
    has_error = _has_error(sol)
    first_error = sol.first_error
    grounded = sol.first_error_grounded
    if sol.error:
        status = f'<span class="rejected">rejected: {_e(clip(sol.error, 300))}</span>'
    elif first_error is not None:
        status = (f'<span class="marker">first error at step {_e(first_error)}</span>')
    else:
        kinds = [s.verdict for s in sol.steps or ()]
        status = " ".join(f"{_e(kinds.count(k))}×{badge(k)}" for k in dict.fromkeys(kinds))
    if grounded is not None and grounded != first_error:
        status += f' <span class="marker">first grounded error at step {_e(grounded)}</span>'
    line = sol.line
    head = f"#{_e(_row_id(sol, idx))}" + (f" (line {_e(line)})" if line is not None else "")
    final = sol.final_answer
    parts = [
        f'<details class="sol{" has-error" if has_error else ""}" id="sol-{idx}">',
        f"<summary>{head} — {status}</summary>",
        f'<div class="problem"><strong>Problem:</strong> {_e(clip(sol.problem))}</div>',
        "<div><strong>Final answer:</strong> "
        + (f"<code>{_e(clip(final))}</code>" if final is not None else '<span class="meta">none</span>')
        + "</div>",
        llm_html.givens_html(sol.givens),
    ]
    if sol.error:
        parts.append(f'<p class="rejected">Row rejected: {_e(clip(sol.error))}</p>')
    if first_error is not None:
        parts.append(f'<p><a href="#s{idx}-step-{_e(first_error)}">Jump to first error '
                     f"(step {_e(first_error)})</a></p>")
    if grounded is not None and grounded != first_error:
        parts.append(f'<p><a href="#s{idx}-step-{_e(grounded)}">Jump to first grounded error '
                     f"(step {_e(grounded)})</a></p>")
    parts.append(_steps_html(idx, sol, with_llm, max_steps))
    parts.append(provenance_html(sol.provenance))
    parts.append("</details>")
    return "\n".join(parts)


def _row_id(row: SolutionResult, idx: int) -> Any:
    """The row's ``id`` (its position in the report when the row has none)."""
    return row.id if row.has("id") else idx


def summary_html(summary: Mapping[str, Any]) -> str:
    """The run summary as a two-column table."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_plain(v))}</td></tr>" for k, v in summary.items())
    return f'<table class="summary"><tbody>{rows}</tbody></table>'


def note_html(omitted: Omitted, hint: str | None) -> str:
    """The visible "this report is capped" note (empty when nothing was left out)."""
    if not omitted:
        return ""
    return f'<p class="note" id="capped" role="note">⚠ {_e(note_text(omitted, hint))}</p>'


def report_page(title: str, summary: Mapping[str, Any], cards: list[str], n_err: int,
                *, errors_label: str = "only solutions with errors", note: str = "") -> str:
    """A report page: title, summary, ``note`` (trusted markup, e.g. :func:`note_html`), the
    filter bar and ``cards`` (``details.sol`` markup)."""
    n = len(cards)
    body = f"""<a class="skip" href="#main">Skip to the report</a>
<h1>{_e(title)}</h1>
{summary_html(summary)}
{note}
<div class="filters" role="search">
<input type="search" id="q" placeholder="Search text, formulas, verdicts… (press /)" aria-label="Search">
<label><input type="checkbox" id="only-errors"> {_e(errors_label)} ({n_err})</label>
<button type="button" id="expand">Expand all</button>
<button type="button" id="collapse">Collapse all</button>
<span id="shown" class="meta" aria-live="polite">{n} of {n} shown</span>
<span class="keys">keys: / search · j/k move · Enter open · Esc leave</span>
</div>
<main id="main">
{chr(10).join(cards)}
</main>"""
    return document(title, body, styles=[asset("report.css")], scripts=[asset("report.js")])


def render_step_report(solutions: Sequence[SolutionResult | Mapping[str, Any]], *, title: str,
                       summary: Mapping[str, Any], hint: str | None = None) -> str:
    """Render the whole report as one offline HTML document (str), safe for any input text.
    Rows given as dicts are parsed once here (:meth:`SolutionResult.from_dict`).
    At most :data:`~prover.report.limits.MAX_ROWS` rows and ``MAX_STEPS`` steps are embedded
    (texts clipped); a visible note then says what was left out and that ``hint`` (a file or
    a command) has everything."""
    omitted = Omitted()
    shown = [s if isinstance(s, SolutionResult) else SolutionResult.from_dict(s)
             for s in solutions[:MAX_ROWS]]
    omitted.add("solutions", len(solutions) - len(shown),
                f"solutions {len(shown) + 1} to {len(solutions)}")
    with_llm = llm_html.has_llm(shown)
    budget = MAX_STEPS
    cards = []
    with collecting(omitted):
        for i, sol in enumerate(shown):
            n_steps = len(sol.steps or ())
            room = max(0, min(MAX_STEPS_PER_ROW, budget))
            cards.append(_solution_html(i, sol, with_llm, room))
            kept = len(shown_steps(sol, room))
            budget -= kept
            omitted.add("steps", n_steps - kept,
                        f"#{_row_id(sol, i)}: {kept:,} of {n_steps:,} steps shown")
    return report_page(title, summary, cards, sum(1 for s in shown if _has_error(s)),
                       note=note_html(omitted, hint))
