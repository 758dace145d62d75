"""Tests for prover.report.html: offline, escaped, verdicts in words, structure."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from prover.report.html import evidence_text, render_step_report, verdict_label

PAYLOAD = '<script>alert("x")</script>'
ATTR_PAYLOAD = '" onmouseover="alert(1)'

_VOID = {"meta", "input", "br", "hr", "img", "link", "col", "wbr"}


class _Collector(HTMLParser):
    """Collects tags/attributes and checks that non-void tags are properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.script_text: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.script_text.append(data)
        else:
            self.text.append(data)


def _claim(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "annotation", "source": "48/2=24",
                            "formal": "(= (/ 48 2) 24)", "verdict": "verified", "reason": None,
                            "tolerance": None, "evidence": {}, "binds": None, "time_s": 0.00002}
    base.update(kw)
    return base


def _solutions() -> list[dict[str, Any]]:
    prov = {"run_id": "r1", "backend": "z3", "backend_version": "4.13.0",
            "limits": {"timeout_ms": 1000}, "formalizer": "rules", "wall_time_s": 0.01}
    good = {
        "id": "12", "line": 12, "problem": "Natalia sold clips to 48 of her friends in April.",
        "final_answer": "72",
        "steps": [
            {"index": 0, "text": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.",
             "verdict": "verified", "claims": [_claim()]},
            {"index": 1, "text": "Let x be 3/2.", "verdict": "no_claims", "claims": [
                _claim(kind="definition", source="x = 3/2", formal="(= x (/ 3 2))",
                       verdict=None, binds="x")]},
            {"index": 2, "text": "About 0.33 of them.", "verdict": "verified_approx", "claims": [
                _claim(kind="equation", source="1/3 ≈ 0.33", formal="(≈ (/ 1 3) 0.33)",
                       verdict="verified_approx", tolerance="0.05")]},
        ],
        "first_error": None, "provenance": prov, "error": None,
    }
    bad = {
        "id": ATTR_PAYLOAD, "line": 13, "problem": "A problem with " + PAYLOAD,
        "final_answer": None,
        "steps": [
            {"index": 0, "text": "Fine " + PAYLOAD, "verdict": "verified", "claims": [_claim()]},
            {"index": 1, "text": "So 10*24 = 24.", "verdict": "refuted", "claims": [
                _claim(kind="equation", source="10*24 = 24", formal="(= (* 10 24) 24)",
                       verdict="refuted", evidence={"lhs": "240", "rhs": "24"})]},
            {"index": 2, "text": "Then 2x > 4.", "verdict": "refuted", "claims": [
                _claim(kind="comparison", source="2x > 4", formal="(> (* 2 x) 4)",
                       verdict="refuted", evidence={"model": {"x": "3/2"}})]},
            {"index": 3, "text": "Huge: 9^9^9.", "verdict": "unknown", "claims": [
                _claim(kind="equation", source="9^9^9 = y", formal=None, verdict="unknown",
                       reason="too-large")]},
        ],
        "first_error": 1, "provenance": {**prov, "note": PAYLOAD}, "error": None,
    }
    rejected = {"id": "14", "line": 14, "problem": "Unparseable row",
                "final_answer": None, "first_error": None, "provenance": {},
                "error": "message (row rejected) " + PAYLOAD}
    return [good, bad, rejected]


def _render() -> str:
    return render_step_report(_solutions(), title="Step report " + PAYLOAD,
                              summary={"solutions": 3, "refuted steps": 2, "<b>": PAYLOAD})


def test_offline_no_external_references() -> None:
    out = _render()
    low = out.lower()
    for needle in ("http://", "https://", "//cdn", "<link", "src=", "@import", "url("):
        assert needle not in low, needle
    p = _Collector()
    p.feed(out)
    for tag, attrs in p.tags:
        assert tag not in {"img", "iframe", "object", "embed", "link"}
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
        assert "src" not in attrs
    csp = [a["content"] for t, a in p.tags if t == "meta" and a.get("http-equiv")]
    assert csp and (csp[0] or "").startswith("default-src 'none'")


def test_everything_escaped() -> None:
    out = _render()
    assert out.count("<script") == 1  # only the report's own inline script
    assert PAYLOAD not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert 'onmouseover="alert' not in out
    assert "&quot; onmouseover=&quot;alert(1)" in out
    p = _Collector()
    p.feed(out)
    assert not any("onmouseover" in attrs for _, attrs in p.tags)
    assert "alert" not in "".join(p.script_text)
    text = "".join(p.text)
    assert PAYLOAD in text  # shown to the reader as text, not executed
    assert "<title>Step report &lt;script&gt;" in out


def test_well_formed_nesting() -> None:
    p = _Collector()
    p.feed(_render())
    p.close()
    assert p.errors == []
    assert p.stack == []


def test_verdicts_in_words_and_evidence() -> None:
    out = _render()
    p = _Collector()
    p.feed(out)
    text = "".join(p.text)
    for word in ("✔ verified", "≈ verified_approx (±0.05)", "✘ refuted", "? unknown: too-large",
                 "≔ defines x", "– no claims"):
        assert word in text, word
    assert "left side = 240, right side = 24" in text
    assert "counter-model: x = 3/2" in text
    assert "(= (/ 48 2) 24)" in text
    assert re.search(r'<code class="formal">\(= \(\* 10 24\) 24\)</code>', out)
    badges = [a.get("class", "") for t, a in p.tags if t == "span" and "badge" in (a.get("class") or "")]
    assert any("v-refuted" in b for b in badges) and any("v-verified" in b for b in badges)


def test_structure_first_error_rejected_and_filters() -> None:
    out = _render()
    p = _Collector()
    p.feed(out)
    sols = [a for t, a in p.tags if t == "details" and "sol" in (a.get("class") or "").split()]
    assert len(sols) == 3
    assert ["has-error" in (a.get("class") or "") for a in sols] == [False, True, True]
    first = [a for t, a in p.tags if t == "tr" and a.get("class") == "first-error"]
    assert len(first) == 1 and first[0]["id"] == "s1-step-1"
    assert 'href="#s1-step-1"' in out
    text = "".join(p.text)
    assert "⚑ first error" in text and "first error at step 1" in text
    assert "rejected: message (row rejected)" in text
    assert "Final answer:" in text and "72" in text
    ids = {a.get("id") for _, a in p.tags}
    assert {"q", "only-errors", "shown"} <= ids
    summaries = [t for t, _ in p.tags if t == "summary"]
    assert summaries.count("summary") >= 3 + 2  # 3 solutions + 2 provenance blocks
    assert "Provenance" in text and "timeout_ms" in text
    assert "@media (max-width:700px)" in out


def test_helpers() -> None:
    assert verdict_label("unknown", reason="timeout") == "? unknown: timeout"
    assert verdict_label("verified_approx", tolerance="0.01") == "≈ verified_approx (±0.01)"
    assert verdict_label(None, binds="y") == "≔ defines y"
    assert evidence_text("refuted", {}) == ""
    assert evidence_text("verified", {"core": ["a", "b"]}) == 'core = ["a", "b"]'
    empty = render_step_report([], title="Empty", summary={})
    assert "0 of 0 shown" in empty and empty.startswith("<!DOCTYPE html>")


def test_huge_solution_is_capped_with_a_note_and_keeps_the_first_error() -> None:
    from prover.report.limits import MAX_STEPS_PER_ROW

    steps = [{"index": i, "text": f"{i} + 1 = {i + 1}", "verdict": "verified",
              "claims": [_claim(source=f"{i} + 1 = {i + 1}")]} for i in range(100_000)]
    steps[70_000] = {"index": 70_000, "text": "70000 + 1 = 5", "verdict": "refuted",
                     "claims": [_claim(source="70000 + 1 = 5", verdict="refuted",
                                       evidence={"lhs": "70001", "rhs": "5"})]}
    sol = {"id": "huge", "problem": "p", "steps": steps, "first_error": 70_000}
    page = render_step_report([sol], title="t", summary={},
                              hint="`proofgraph export --store s.db --run R --jsonl F`")
    assert len(page) < 3_000_000  # was 55 MB
    assert page.count('<tr id="s0-step-') == MAX_STEPS_PER_ROW + 1
    assert 'id="s0-step-70000"' in page and "70000 + 1 = 5" in page
    note = re.search(r'<p class="note" id="capped" role="note">(.*?)</p>', page, re.S)
    assert note and f"{100_000 - MAX_STEPS_PER_ROW - 1:,} steps are not embedded" in note.group(1)
    assert "proofgraph export --store s.db --run R --jsonl F" in note.group(1)
    assert "are not embedded" in page.split('id="s0-step-70000"')[0][-400:]
    p = _Collector()
    p.feed(page)
    assert not p.errors and not p.stack


def test_many_rows_and_long_texts_are_capped() -> None:
    from prover.report.entail_html import render_entail_report
    from prover.report.limits import MAX_ROWS

    rows = [{"id": str(i), "problem": "x" * 100_000, "steps": []} for i in range(MAX_ROWS + 3)]
    page = render_step_report(rows, title="t", summary={})
    assert page.count('<details class="sol') == MAX_ROWS
    assert "3 solutions are not embedded" in page and "characters not shown" in page
    assert "x" * 3_000 not in page
    small = render_step_report(rows[:2], title="t", summary={})
    assert 'id="capped"' in small and "characters of long texts are not embedded" in small
    assert 'id="capped"' not in render_step_report(_solutions(), title="t", summary={})
    entail = [{"id": str(i), "premises": ["P(a)"], "conclusion": "P(a)", "answer": "True"}
              for i in range(MAX_ROWS + 1)]
    page = render_entail_report(entail, title="e", summary={})
    assert page.count('<details class="sol') == MAX_ROWS and "1 rows are not embedded" in page
