"""The offline HTML report of an eval run: coverage curve (inline SVG, log x), pass@k, one row
per theorem with the ``proofgraph show`` command of each attempt's search graph, budgets and
provenance. Built on :func:`prover.report.page.document`: one hashed inline style, no script,
nothing loaded from anywhere (CSP ``default-src 'none'``).
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from typing import Any

from prover.report.page import document, esc

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;color:#1d2330;
padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border-bottom:1px solid #dde1e8;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}
.yes{color:#0b6b2f;font-weight:600}.no{color:#a3261b;font-weight:600}
code,pre{font-family:ui-monospace,monospace;font-size:12px}
pre{white-space:pre-wrap;margin:0}
.figs{display:flex;gap:1.2rem;flex-wrap:wrap}
.fig{border:1px solid #dde1e8;border-radius:6px;padding:.4rem .8rem;min-width:7rem}
.fig b{display:block;font-size:1.3rem}
details summary{cursor:pointer}
svg text{font:12px system-ui,sans-serif}
"""

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 320, 56, 20, 16, 44


def coverage_svg(points: Sequence[Sequence[float]], theorems: int) -> str:
    """The coverage curve (expected theorems solved vs samples k, log-scaled x) as SVG."""
    if not points:
        return "<p>No attempts yet.</p>"
    kmax = max(int(p[0]) for p in points)
    ymax = max(1, theorems)
    span = math.log10(kmax) if kmax > 1 else 1.0

    def x(k: float) -> float:
        frac = math.log10(k) / span if kmax > 1 else 0.5
        return PAD_L + frac * (W - PAD_L - PAD_R)

    def y(v: float) -> float:
        return H - PAD_B - (v / ymax) * (H - PAD_T - PAD_B)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" role="img" aria-label="coverage curve: theorems solved '
             f'versus samples">']
    parts.append(f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" '
                 'stroke="#555"/>')
    parts.append(f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#555"/>')
    ticks = sorted({1, kmax, *(10 ** i for i in range(0, int(span) + 1) if 10 ** i <= kmax),
                    *(2 ** i for i in range(0, 12) if 2 ** i <= kmax)})
    if len(ticks) > 10:
        ticks = sorted({1, kmax, *(10 ** i for i in range(0, int(span) + 1) if 10 ** i <= kmax)})
    for k in ticks:
        parts.append(f'<line x1="{x(k):.1f}" y1="{H - PAD_B}" x2="{x(k):.1f}" '
                     f'y2="{H - PAD_B + 5}" stroke="#555"/>')
        parts.append(f'<text x="{x(k):.1f}" y="{H - PAD_B + 18}" text-anchor="middle">{k}</text>')
    for i in range(5):
        v = ymax * i / 4
        parts.append(f'<line x1="{PAD_L - 5}" y1="{y(v):.1f}" x2="{W - PAD_R}" y2="{y(v):.1f}" '
                     'stroke="#e3e6eb"/>')
        parts.append(f'<text x="{PAD_L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f'{v:g}</text>')
    parts.append(f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 6}" text-anchor="middle">'
                 'samples k (log scale)</text>')
    parts.append(f'<text x="14" y="{(PAD_T + H - PAD_B) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(PAD_T + H - PAD_B) / 2})">theorems solved</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(k):.1f},{y(v):.1f}"
                    for i, (k, v) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#2459c4" stroke-width="2.5"/>')
    for k, v in points:
        parts.append(f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="3" fill="#2459c4">'
                     f'<title>k={int(k)}: {v:.2f} solved</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def show_command(run_id: str, key: str, store: str) -> str:
    """The command line that renders one attempt's search graph."""
    safe = key.replace(":", "-")
    return shlex.join(["proofgraph", "show", f"{run_id}:{key}", "--store", store,
                       "--html", f"graph-{safe}.html"])


def _table(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(_text(v))}</code></td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _theorem_row(row: dict[str, Any], run_id: str, store: str) -> str:
    if row["attempts"] == 0:
        return (f"<tr><td>{esc(row.get('id'))}</td><td class=no>rejected</td><td></td>"
                f"<td colspan=2>{esc(row.get('error'))}</td></tr>")
    mark = '<span class=yes>solved</span>' if row["solved"] else '<span class=no>open</span>'
    attempts = "".join(
        f"<li>attempt {esc(a['attempt'])} (seed {esc(a['seed'])}): "
        f"{esc(a.get('verdict') or 'error')}"
        f"{' (' + esc(a.get('reason')) + ')' if a.get('reason') else ''}, "
        f"{esc(a.get('expansions'))} expansions, {esc(a.get('wall_s'))} s"
        f"{'; ' + esc(a.get('error')) if a.get('error') else ''}<br>"
        f"<code>{esc(show_command(run_id, str(a['key']), store))}</code></li>"
        for a in row["attempt_rows"])
    proof = "; ".join(row["proof"]) if row.get("proof") else ""
    return (f"<tr><td>{esc(row['id'])}</td><td>{mark}</td>"
            f"<td>{row['successes']}/{row['attempts']}</td>"
            f"<td><pre>{esc(proof)}</pre></td>"
            f"<td><details><summary>{row['attempts']} attempt(s)</summary><ul>{attempts}"
            f"</ul></details></td></tr>")


def render_report(summary: dict[str, Any], theorems: list[dict[str, Any]]) -> str:
    """The whole page (see the module docstring)."""
    run_id = str(summary.get("run_id"))
    store = str((summary.get("provenance") or {}).get("store", "eval.sqlite"))
    figs = [("theorems", summary.get("theorems")), ("solved", summary.get("solved")),
            *((f"pass@{k}", f"{v:.3f}") for k, v in summary.get("pass_at_k", {}).items()),
            ("attempts each", summary.get("attempts")), ("wall s", summary.get("run_wall_s")
                                                         or summary.get("wall_s"))]
    fig_html = "".join(f'<div class="fig">{esc(name)}<b>{esc(value)}</b></div>'
                       for name, value in figs)
    rows = "".join(_theorem_row(t, run_id, store) for t in theorems)
    budgets = sorted((summary.get("budgets") or {}).items())
    prov = summary.get("provenance") or {}
    prov_rows = [(k, v) for k, v in prov.items() if k != "policy"]
    policy_rows = sorted((prov.get("policy") or {}).items())
    counts = [(k, summary.get(k)) for k in ("attempts_done", "attempt_errors",
                                             "proved_but_recheck_failed", "rejected",
                                             "expansions", "env_calls", "complete")]
    status = "" if summary.get("complete", True) else (
        "<p class=no>This run is not complete (stopped or limited): figures cover the "
        "attempts done so far.</p>")
    body = f"""<h1>proofgraph eval: {esc(summary.get('benchmark'))}</h1>
{status}<div class="figs">{fig_html}</div>
<h2>Coverage: theorems solved vs samples</h2>
<p>Expected number of theorems solved with k samples (sum of the unbiased pass@k of each
theorem, Chen et al. 2021), k = 1 .. {esc(summary.get('attempts'))}.</p>
{coverage_svg(summary.get('coverage') or [], int(summary.get('theorems') or 0))}
<h2>Theorems</h2>
<p>Each attempt's search graph is in the store; the command under it writes its page.</p>
<table><thead><tr><th>theorem</th><th>result</th><th>successes</th><th>first proof</th>
<th>attempts</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Counts</h2>{_table(counts)}
<h2>Budgets (per attempt)</h2>{_table(budgets)}
<h2>Provenance</h2>{_table(prov_rows)}
<h2>Policy</h2>{_table(policy_rows)}"""
    return document(f"proofgraph eval {summary.get('benchmark')}", body, styles=[STYLE],
                    scripts=[])
