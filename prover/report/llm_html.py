"""HTML for the LLM-formalization fields of a step-checked row (``check --formalizer llm:...``).

Each LLM claim shows its formal form and BOTH verdicts: ``local`` (premises: givens, DEFs and
earlier claims as stated) and ``grounded`` (premises: givens, DEFs and grounded-verified claims
only), each as a badge with its word and its evidence, with links to the earlier steps it used
and the givens it used. Every value is escaped; rows without LLM fields render nothing.
Renders the typed views of :mod:`prover.records.results` (``StepResult.llm``: ``LlmStep``,
``LlmClaim``, ``CheckVerdict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prover.records.results import (
    CheckVerdict,
    GivenError,
    GivenFact,
    Givens,
    LlmClaim,
    LlmDef,
    LlmStep,
    SolutionResult,
    StepResult,
)
from prover.report.limits import clip
from prover.report.page import esc


def has_llm(solutions: Sequence[SolutionResult]) -> bool:
    """True when any step of any row carries an LLM view."""
    return any(isinstance(step.llm, LlmStep) for sol in solutions for step in sol.steps or ())


def givens_html(givens: Any) -> str:
    """The row's givens: facts (label, formal, text), errors and consistency, or the pairs of a
    plain ``{name: expr}`` map."""
    if not isinstance(givens, Givens) or not givens.to_dict():
        return ""
    pairs: list[tuple[str, str]] = []
    if isinstance(givens.facts, tuple):
        for fact in givens.facts:
            if isinstance(fact, GivenFact):
                label = fact.label or ""
                text = fact.text
                formal = fact.formal or ""
                pairs.append((str(label), f"{formal}" + (f"  — {text}" if text else "")))
        for err in givens.errors or ():
            if isinstance(err, GivenError):
                pairs.append(("not formalized", f"{err.source}: {err.error}"))
        if givens.consistent is False:
            pairs.append(("inconsistent", ", ".join(map(str, givens.conflict or []))))
    else:
        pairs = [(str(k), str(v)) for k, v in givens.to_dict().items()]
    if not pairs:
        return ""
    body = "".join(f"<dt>{esc(k)}</dt><dd><code>{esc(v)}</code></dd>" for k, v in pairs)
    return f'<div><strong>Givens (LLM):</strong><dl class="givens">{body}</dl></div>'


def _mode_html(name: str, verdict: Any, badge: Any, evidence_text: Any) -> tuple[str, str]:
    """(the badge with its mode name, the evidence or detail line) for one verdict."""
    if not isinstance(verdict, CheckVerdict):
        return (f'<span class="mode"><b>{esc(name)}:</b> <span class="meta">not checked</span>'
                "</span>", "")
    kind = verdict.verdict
    label = badge(kind, reason=verdict.reason, tolerance=verdict.tolerance)
    ev = evidence_text(kind, verdict.evidence)
    detail = verdict.detail
    head = f'<span class="mode mode-{esc(name)}"><b>{esc(name)}:</b> {label}</span>'
    if ev:
        return head, f'<div class="evidence">{esc(name)}: {esc(ev)}</div>'
    return head, (f'<div class="meta">{esc(name)}: {esc(detail)}</div>' if detail else "")


def _claim_html(sol_idx: int, claim: LlmClaim, badge: Any, evidence_text: Any) -> str:
    parts = [f'<li class="claim-llm"><span class="meta">{esc(claim.kind or "claim")}</span>'
             f' <span class="steptext">{esc(claim.source)}</span>']
    formal = claim.formal
    parts.append(f'<div>formal: <code class="formal">{esc(formal)}</code></div>' if formal
                 else '<div class="meta">no formal form</div>')
    local = _mode_html("local", claim.local, badge, evidence_text)
    grounded = _mode_html("grounded", claim.grounded, badge, evidence_text)
    parts.append(f'<div class="modes">{local[0]}{grounded[0]}</div>{local[1]}{grounded[1]}')
    premises = [p for p in claim.premises or [] if isinstance(p, int)]
    if premises:
        links = "".join(f'<a class="premise" href="#s{sol_idx}-step-{p}">step {p}</a>'
                        for p in premises)
        parts.append(f'<div class="premise-links">uses {links}</div>')
    givens_used = claim.givens_used or []
    if givens_used:
        parts.append(f'<div class="meta">givens used: {esc(", ".join(map(str, givens_used)))}'
                     "</div>")
    if claim.rebinds:
        parts.append(f'<div class="meta">re-binds {esc(claim.rebinds)}</div>')
    parts.append("</li>")
    return "".join(parts)


def llm_cell(sol_idx: int, step: StepResult, badge: Any, evidence_text: Any) -> str:
    """The ``<td>`` content for one step's LLM view (a marker text when it has none)."""
    llm = step.llm
    if not isinstance(llm, LlmStep):
        return '<span class="meta">not formalized by the LLM</span>'
    out = ['<div class="modes">'
           f'<span class="mode"><b>local:</b> {badge(llm.verdict_local)}</span>'
           f'<span class="mode"><b>grounded:</b> {badge(llm.verdict_grounded)}</span>'
           "</div>"]
    upstream = llm.upstream_error
    if isinstance(upstream, int):
        out.append(f'<div class="upstream">rests on the error in <a class="premise" '
                   f'href="#s{sol_idx}-step-{upstream}">step {upstream}</a></div>')
    defs = [d for d in llm.defs or () if isinstance(d, LlmDef)]
    if defs:
        out.append('<div class="meta">defines: '
                   + ", ".join(f"<code>{esc(d.name)} = {esc(d.formal)}</code>"
                               for d in defs) + "</div>")
    claims = [c for c in llm.claims or () if isinstance(c, LlmClaim)]
    if claims:
        out.append('<ul class="claims">'
                   + "".join(_claim_html(sol_idx, c, badge, evidence_text) for c in claims)
                   + "</ul>")
    lines = llm.lines or []
    if lines:
        out.append(f"<details><summary>model output ({len(lines)} lines)</summary>"
                   f'<pre class="lines">{esc(clip(chr(10).join(map(str, lines))))}</pre></details>')
    return "".join(out)
