"""HTML for the LLM-formalization fields of a step-checked row (``check --formalizer llm:...``).

Each LLM claim shows its formal form and BOTH verdicts: ``local`` (premises: givens, DEFs and
earlier claims as stated) and ``grounded`` (premises: givens, DEFs and grounded-verified claims
only), each as a badge with its word and its evidence, with links to the earlier steps it used
and the givens it used. Every value is escaped; rows without LLM fields render nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prover.report.limits import clip
from prover.report.page import esc


def has_llm(solutions: list[dict[str, Any]]) -> bool:
    """True when any step of any row carries an ``llm`` dict."""
    return any(isinstance(step.get("llm"), Mapping)
               for sol in solutions for step in sol.get("steps") or [])


def givens_html(givens: Any) -> str:
    """The row's givens: ``{"facts": [{label, formal, text}]}`` or a plain ``{name: expr}`` map."""
    if not givens:
        return ""
    pairs: list[tuple[str, str]] = []
    if isinstance(givens, Mapping) and isinstance(givens.get("facts"), list):
        for fact in givens["facts"]:
            if isinstance(fact, Mapping):
                label = fact.get("label") or ""
                text = fact.get("text")
                formal = fact.get("formal") or ""
                pairs.append((str(label), f"{formal}" + (f"  — {text}" if text else "")))
        for err in givens.get("errors") or []:
            if isinstance(err, Mapping):
                pairs.append(("not formalized", f"{err.get('source')}: {err.get('error')}"))
        if givens.get("consistent") is False:
            pairs.append(("inconsistent", ", ".join(map(str, givens.get("conflict") or []))))
    elif isinstance(givens, Mapping):
        pairs = [(str(k), str(v)) for k, v in givens.items()]
    if not pairs:
        return ""
    body = "".join(f"<dt>{esc(k)}</dt><dd><code>{esc(v)}</code></dd>" for k, v in pairs)
    return f'<div><strong>Givens (LLM):</strong><dl class="givens">{body}</dl></div>'


def _mode_html(name: str, verdict: Any, badge: Any, evidence_text: Any) -> tuple[str, str]:
    """(the badge with its mode name, the evidence or detail line) for one verdict."""
    if not isinstance(verdict, Mapping):
        return (f'<span class="mode"><b>{esc(name)}:</b> <span class="meta">not checked</span>'
                "</span>", "")
    kind = verdict.get("verdict")
    label = badge(kind, reason=verdict.get("reason"), tolerance=verdict.get("tolerance"))
    ev = evidence_text(kind, verdict.get("evidence"))
    detail = verdict.get("detail")
    head = f'<span class="mode mode-{esc(name)}"><b>{esc(name)}:</b> {label}</span>'
    if ev:
        return head, f'<div class="evidence">{esc(name)}: {esc(ev)}</div>'
    return head, (f'<div class="meta">{esc(name)}: {esc(detail)}</div>' if detail else "")


def _claim_html(sol_idx: int, claim: Mapping[str, Any], badge: Any, evidence_text: Any) -> str:
    parts = [f'<li class="claim-llm"><span class="meta">{esc(claim.get("kind") or "claim")}</span>'
             f' <span class="steptext">{esc(claim.get("source"))}</span>']
    formal = claim.get("formal")
    parts.append(f'<div>formal: <code class="formal">{esc(formal)}</code></div>' if formal
                 else '<div class="meta">no formal form</div>')
    local = _mode_html("local", claim.get("local"), badge, evidence_text)
    grounded = _mode_html("grounded", claim.get("grounded"), badge, evidence_text)
    parts.append(f'<div class="modes">{local[0]}{grounded[0]}</div>{local[1]}{grounded[1]}')
    premises = [p for p in claim.get("premises") or [] if isinstance(p, int)]
    if premises:
        links = "".join(f'<a class="premise" href="#s{sol_idx}-step-{p}">step {p}</a>'
                        for p in premises)
        parts.append(f'<div class="premise-links">uses {links}</div>')
    givens_used = claim.get("givens_used") or []
    if givens_used:
        parts.append(f'<div class="meta">givens used: {esc(", ".join(map(str, givens_used)))}'
                     "</div>")
    if claim.get("rebinds"):
        parts.append(f'<div class="meta">re-binds {esc(claim.get("rebinds"))}</div>')
    parts.append("</li>")
    return "".join(parts)


def llm_cell(sol_idx: int, step: Mapping[str, Any], badge: Any, evidence_text: Any) -> str:
    """The ``<td>`` content for one step's ``llm`` dict (empty marker text when absent)."""
    llm = step.get("llm")
    if not isinstance(llm, Mapping):
        return '<span class="meta">not formalized by the LLM</span>'
    out = ['<div class="modes">'
           f'<span class="mode"><b>local:</b> {badge(llm.get("verdict_local"))}</span>'
           f'<span class="mode"><b>grounded:</b> {badge(llm.get("verdict_grounded"))}</span>'
           "</div>"]
    upstream = llm.get("upstream_error")
    if isinstance(upstream, int):
        out.append(f'<div class="upstream">rests on the error in <a class="premise" '
                   f'href="#s{sol_idx}-step-{upstream}">step {upstream}</a></div>')
    defs = [d for d in llm.get("defs") or [] if isinstance(d, Mapping)]
    if defs:
        out.append('<div class="meta">defines: '
                   + ", ".join(f"<code>{esc(d.get('name'))} = {esc(d.get('formal'))}</code>"
                               for d in defs) + "</div>")
    claims = [c for c in llm.get("claims") or [] if isinstance(c, Mapping)]
    if claims:
        out.append('<ul class="claims">'
                   + "".join(_claim_html(sol_idx, c, badge, evidence_text) for c in claims)
                   + "</ul>")
    lines = llm.get("lines") or []
    if lines:
        out.append(f"<details><summary>model output ({len(lines)} lines)</summary>"
                   f'<pre class="lines">{esc(clip(chr(10).join(map(str, lines))))}</pre></details>')
    return "".join(out)
