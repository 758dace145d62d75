"""The shell of every proofgraph HTML page: one self-contained, offline document.

CSS and JS come from ``prover/report/assets`` and are inlined; the Content-Security-Policy
allows exactly those inline blocks by their sha256 hashes (``default-src 'none'``, no
``'unsafe-inline'``, no ``'unsafe-eval'``), so the page can load nothing and run nothing else.
Data goes in ``<script type="application/json">`` blocks (never executed) with ``<``, ``>``,
``&`` and the JS line separators escaped, so no text can close the block.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any

#: Directives besides the script/style hashes: nothing may be loaded, framed or submitted.
CSP_BASE = "default-src 'none'; base-uri 'none'; form-action 'none'"


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute (``None`` becomes empty)."""
    return "" if value is None else escape(str(value), quote=True)


@cache
def asset(name: str) -> str:
    """The text of one packaged asset (``prover/report/assets/NAME``)."""
    return resources.files("prover.report").joinpath("assets", name).read_text(encoding="utf-8")


def json_block(block_id: str, data: Any) -> str:
    """A non-executed ``<script type="application/json">`` holding ``data``; safe for any text."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return f'<script type="application/json" id="{esc(block_id)}">{text}</script>'


def _sha(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp(styles: list[str], scripts: list[str]) -> str:
    """The policy allowing exactly these inline style and script texts (by hash)."""
    style_src = " ".join(_sha(s) for s in styles) or "'none'"
    script_src = " ".join(_sha(s) for s in scripts) or "'none'"
    return f"{CSP_BASE}; style-src {style_src}; script-src {script_src}"


def document(title: str, body: str, *, styles: list[str], scripts: list[str],
             data_blocks: str = "", body_class: str = "") -> str:
    """Assemble the page: ``body`` is trusted markup (already escaped), ``title`` is escaped."""
    policy = csp(styles, scripts)
    style_tags = "".join(f"<style>{s}</style>" for s in styles)
    script_tags = "".join(f"<script>{s}</script>" for s in scripts)
    cls = f' class="{esc(body_class)}"' if body_class else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{esc(title)}</title>
{style_tags}</head>
<body{cls}>
{body}
{data_blocks}{script_tags}
</body></html>
"""
