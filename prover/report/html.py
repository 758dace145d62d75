"""One self-contained, offline HTML page reporting step-checked solutions.

Inline CSS and a little inline JS only: no external URL, font, script or image, and a
Content-Security-Policy that forbids loading anything. Every value taken from the data is
escaped with :func:`html.escape` (quotes included), so step text cannot inject markup.
Verdicts are shown as a coloured badge *and* a word, never colour alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

_CSS = """
:root{--ok:#1a7f37;--approx:#6f7f1a;--bad:#c62828;--unk:#8a6d00;--mute:#57606a;--line:#d0d7de}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
 padding:1rem;max-width:1280px;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.summary{width:auto;min-width:18rem;margin-bottom:1rem}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:.75rem 0;
 position:sticky;top:0;background:#fff;padding:.4rem 0;border-bottom:1px solid var(--line)}
.filters input[type=search]{flex:1 1 16rem;padding:.35rem;font:inherit}
details.sol{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;padding:.2rem .6rem}
details.sol>summary{cursor:pointer;padding:.3rem 0;font-weight:600}
details.sol.has-error{border-left:5px solid var(--bad)}
.problem{white-space:pre-wrap;margin:.4rem 0}
code,.formal{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;
 overflow-wrap:anywhere}
.steptext{white-space:pre-wrap;overflow-wrap:anywhere}
tr.first-error>td{background:#fff1f0}
.marker{color:var(--bad);font-weight:700}
.badge{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.85em;font-weight:600;
 color:#fff;white-space:nowrap}
.v-verified{background:var(--ok)}.v-verified_approx{background:var(--approx)}
.v-refuted{background:var(--bad)}.v-unknown{background:var(--unk)}
.v-none,.v-no_claims,.v-other{background:var(--mute)}
ul.claims{list-style:none;margin:0;padding:0}
ul.claims>li{border-top:1px dashed var(--line);padding:.3rem 0}
ul.claims>li:first-child{border-top:0}
.evidence{color:#3b1f1f}
.meta{color:var(--mute);font-size:.85em}
.rejected{color:var(--bad);font-weight:600}
dl.prov{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0}
dl.prov dt{font-weight:600}dl.prov dd{margin:0;overflow-wrap:anywhere}
.hidden{display:none}
@media (max-width:700px){
 body{padding:.5rem;font-size:14px}
 table.steps,table.steps tbody,table.steps tr,table.steps td{display:block;width:100%}
 table.steps thead{display:none}
 table.steps tr{border:1px solid var(--line);margin:.4rem 0}
 table.steps td{border:0;border-top:1px solid var(--line)}
 dl.prov{grid-template-columns:1fr}
}
"""

_JS = """
(function(){
  var q=document.getElementById('q'),only=document.getElementById('only-errors'),
      count=document.getElementById('shown'),sols=document.querySelectorAll('details.sol');
  function apply(){
    var text=q.value.trim().toLowerCase(),n=0;
    sols.forEach(function(s){
      var ok=(!only.checked||s.classList.contains('has-error'))&&
             (!text||s.textContent.toLowerCase().indexOf(text)>=0);
      s.classList.toggle('hidden',!ok); if(ok){n++;}
    });
    count.textContent=n+' of '+sols.length+' shown';
  }
  q.addEventListener('input',apply); only.addEventListener('change',apply);
  document.getElementById('expand').addEventListener('click',function(){
    sols.forEach(function(s){if(!s.classList.contains('hidden')){s.open=true;}});});
  document.getElementById('collapse').addEventListener('click',function(){
    sols.forEach(function(s){s.open=false;});});
  apply();
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_ICONS = {"verified": "✔", "verified_approx": "≈", "refuted": "✘", "unknown": "?",
          "no_claims": "–"}


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute (``None`` becomes empty)."""
    return "" if value is None else escape(str(value), quote=True)


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


def _claim_html(claim: Mapping[str, Any]) -> str:
    verdict = claim.get("verdict")
    kw = {"reason": claim.get("reason"), "tolerance": claim.get("tolerance"),
          "binds": claim.get("binds"), "premise": claim.get("kind") == "constraint"}
    ev = evidence_text(verdict, claim.get("evidence"))
    formal = claim.get("formal")
    time_s = claim.get("time_s")
    out = [f"<li>{badge(verdict, **kw)} <span class=\"meta\">{_e(claim.get('kind'))}</span>",
           f"<div>source: <span class=\"steptext\">{_e(claim.get('source'))}</span></div>"]
    out.append(f'<div>formal: <code class="formal">{_e(formal)}</code></div>' if formal
               else '<div class="meta">no formal form</div>')
    if ev:
        out.append(f'<div class="evidence">{_e(ev)}</div>')
    if verdict is not None and isinstance(time_s, (int, float)):
        out.append(f'<div class="meta">checked in {_e(f"{time_s:.3g}")} s</div>')
    out.append("</li>")
    return "".join(out)


def _steps_html(sol_idx: int, sol: Mapping[str, Any]) -> str:
    steps = sol.get("steps") or []
    if not steps:
        return '<p class="meta">No steps.</p>'
    first_error = sol.get("first_error")
    rows = ['<table class="steps"><thead><tr><th>#</th><th>Step</th><th>Claims</th></tr>'
            "</thead><tbody>"]
    for pos, step in enumerate(steps):
        index = step.get("index", pos)
        is_first = first_error is not None and index == first_error
        claims = step.get("claims") or []
        claims_html = ('<ul class="claims">' + "".join(_claim_html(c) for c in claims) + "</ul>"
                       if claims else '<span class="meta">no claims</span>')
        marker = '<div class="marker">⚑ first error</div>' if is_first else ""
        cls = ' class="first-error"' if is_first else ""
        rows.append(
            f'<tr id="s{sol_idx}-step-{_e(index)}"{cls}>'
            f"<td>{_e(index)}</td>"
            f'<td>{marker}<div class="steptext">{_e(step.get("text"))}</div>'
            f"<div>{badge(step.get('verdict'))}</div></td>"
            f"<td>{claims_html}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def _provenance_html(prov: Any) -> str:
    if not prov:
        return ""
    if isinstance(prov, Mapping):
        body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(_plain(v))}</dd>" for k, v in prov.items())
        body = f'<dl class="prov">{body}</dl>'
    else:
        body = f"<p>{_e(_plain(prov))}</p>"
    return f"<details><summary>Provenance</summary>{body}</details>"


def _has_error(sol: Mapping[str, Any]) -> bool:
    if sol.get("error") or sol.get("first_error") is not None:
        return True
    return any(s.get("verdict") == "refuted" for s in sol.get("steps") or [])


def _solution_html(idx: int, sol: Mapping[str, Any]) -> str:
    has_error = _has_error(sol)
    first_error = sol.get("first_error")
    if sol.get("error"):
        status = f'<span class="rejected">rejected: {_e(sol.get("error"))}</span>'
    elif first_error is not None:
        status = (f'<span class="marker">first error at step {_e(first_error)}</span>')
    else:
        kinds = [s.get("verdict") for s in sol.get("steps") or []]
        status = " ".join(f"{_e(kinds.count(k))}×{badge(k)}" for k in dict.fromkeys(kinds))
    line = sol.get("line")
    head = f"#{_e(sol.get('id', idx))}" + (f" (line {_e(line)})" if line is not None else "")
    final = sol.get("final_answer")
    parts = [
        f'<details class="sol{" has-error" if has_error else ""}" id="sol-{idx}">',
        f"<summary>{head} — {status}</summary>",
        f'<div class="problem"><strong>Problem:</strong> {_e(sol.get("problem"))}</div>',
        "<div><strong>Final answer:</strong> "
        + (f"<code>{_e(final)}</code>" if final is not None else '<span class="meta">none</span>')
        + "</div>",
    ]
    if sol.get("error"):
        parts.append(f'<p class="rejected">Row rejected: {_e(sol.get("error"))}</p>')
    if first_error is not None:
        parts.append(f'<p><a href="#s{idx}-step-{_e(first_error)}">Jump to first error '
                     f"(step {_e(first_error)})</a></p>")
    parts.append(_steps_html(idx, sol))
    parts.append(_provenance_html(sol.get("provenance")))
    parts.append("</details>")
    return "\n".join(parts)


def _summary_html(summary: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_plain(v))}</td></tr>" for k, v in summary.items())
    return f'<table class="summary"><tbody>{rows}</tbody></table>'


def render_step_report(solutions: list[dict[str, Any]], *, title: str,
                       summary: dict[str, Any]) -> str:
    """Render the whole report as one offline HTML document (str), safe for any input text."""
    body = "\n".join(_solution_html(i, s) for i, s in enumerate(solutions))
    n_err = sum(1 for s in solutions if _has_error(s))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_e(title)}</h1>
{_summary_html(summary)}
<div class="filters" role="search">
<input type="search" id="q" placeholder="Search text, formulas, verdicts…" aria-label="Search">
<label><input type="checkbox" id="only-errors"> only solutions with errors ({n_err})</label>
<button type="button" id="expand">Expand all</button>
<button type="button" id="collapse">Collapse all</button>
<span id="shown" class="meta" aria-live="polite">{len(solutions)} of {len(solutions)} shown</span>
</div>
<main>
{body}
</main>
<script>{_JS}</script>
</body></html>
"""
