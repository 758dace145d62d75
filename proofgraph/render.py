"""Human output of the CLI: a short table per run, the list of what failed, the runs table.

Every function takes the plain dicts the jobs return (their summary, their result rows, the
store's run records) and returns text; keys it does not know are shown as generic table rows,
keys it needs but does not find are skipped, so a job that adds fields never breaks the output.
Colour (ANSI) is used only when asked for; :func:`use_color` says yes only for a terminal and
never when ``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``. Verdicts are always
written as words, so nothing depends on colour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

#: Failures listed per run; the rest is counted and pointed to.
MAX_FAILURES = 20
#: A quoted text (step, goal, message) is cut to this many characters.
MAX_TEXT = 120
_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_VERDICT_STYLE = {"verified": "green", "verified_approx": "green", "proved": "green",
                  "True": "green", "refuted": "red", "False": "red", "rejected": "red",
                  "Inconsistent": "red", "unknown": "yellow", "Unknown": "yellow",
                  "Uncertain": "yellow", "open": "yellow"}
_DIGITS = re.compile(r"Exceeds the limit \((\d+) digits\) for integer string conversion"
                     r"(?::[^;]*?(\d+) digits)?[^;]*;\s*use sys\.set_int_max_str_digits\(\) "
                     r"to increase the limit\.?")
_LABELS = {"run_id": "run", "wall_s": "wall time", "claims_per_s": "claims/s",
           "first_errors": "first errors", "search_proved_but_recheck_failed":
           "proved by search, re-check failed", "nothing_survived": "nothing survived"}


def use_color(stream: TextIO) -> bool:
    """True only when ``stream`` is a terminal, ``NO_COLOR`` is unset or empty, TERM not dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


def clean_message(text: str) -> str:
    """``text`` with Python's int-conversion limit message replaced by our own words."""
    def repl(match: re.Match[str]) -> str:
        have = f"{match.group(2)} digits, " if match.group(2) else ""
        return f"a number too large to read ({have}at most {match.group(1)} digits are read)"

    return _DIGITS.sub(repl, text)


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str | None) -> str:
        if not self.color or style is None:
            return text
        return f"\033[{_STYLES[style]}m{text}\033[0m"

    def word(self, word: str) -> str:
        """A verdict/answer/status word in its colour (the word itself is always there)."""
        return self(word, _VERDICT_STYLE.get(word.split(":")[0]))


def _short(value: Any, limit: int = MAX_TEXT) -> str:
    text = " ".join(clean_message(str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any) -> str:
    """A summary value as table text: counters as ``a 1 · b 2``, lists joined, floats short."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, Mapping):
        if not value:
            return "none"
        return " · ".join(f"{k} {_cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v, 40) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return "–" if value is None else _short(value)


def summary_table(summary: Mapping[str, Any], *, title: str, color: bool = False) -> str:
    """The run's summary as a two-column table under ``title``; nested mappings of mappings
    (e.g. ``llm.local``) become ``key.sub`` rows."""
    paint = _Paint(color)
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        if key in ("run_id", "results"):
            continue
        label = _LABELS.get(key, key.replace("_", " "))
        if isinstance(value, Mapping) and any(isinstance(v, Mapping) for v in value.values()):
            rows.extend((f"{label}.{k}", _cell(v)) for k, v in value.items())
        elif key == "wall_s" and isinstance(value, (int, float)):
            rows.append((label, f"{value:.3g} s"))
        else:
            rows.append((label, _cell(value)))
    width = max((len(k) for k, _ in rows), default=0)
    head = paint(title, "bold")
    if summary.get("run_id"):
        head += f"  {paint(str(summary['run_id']), 'cyan')}"
    lines = [head] + [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- what failed
def _where(row: Mapping[str, Any]) -> str:
    ident = row.get("id")
    line = row.get("line")
    where = str(ident) if ident is not None else "?"
    if isinstance(line, int):
        where += f" (line {line + 1})"
    return where


def _rejected(row: Mapping[str, Any], paint: _Paint) -> str | None:
    error = row.get("error")
    if not error:
        return None
    message = error.get("message", error) if isinstance(error, Mapping) else error
    return f"{_where(row)}: {paint.word('rejected')}: {_short(message)}"


def _evidence(ev: Any) -> str:
    if not isinstance(ev, Mapping) or not ev:
        return ""
    if "lhs" in ev or "rhs" in ev:
        return f"left side = {_short(ev.get('lhs'), 40)}, right side = {_short(ev.get('rhs'), 40)}"
    model = ev.get("model") or ev.get("counter_model")
    if isinstance(model, Mapping):
        return "counter-model " + ", ".join(f"{k} = {_short(v, 30)}" for k, v in model.items())
    return _short(", ".join(f"{k} = {v}" for k, v in ev.items()), 80)


def _check_failure(row: Mapping[str, Any], paint: _Paint) -> str | None:
    first = row.get("first_error")
    if first is None:
        first = row.get("first_error_grounded")
    if first is None:
        return None
    steps = row.get("steps") or []
    step = next((s for s in steps if isinstance(s, Mapping) and s.get("index") == first), None)
    if step is None and isinstance(first, int) and 0 <= first < len(steps):
        step = steps[first]
    text = f"{_where(row)}: first error at step {first}"
    if isinstance(step, Mapping):
        text += f": “{_short(step.get('text'), 80)}”"
        for claim in step.get("claims") or []:
            if isinstance(claim, Mapping) and claim.get("verdict") == "refuted":
                ev = _evidence(claim.get("evidence"))
                text += (f" — {paint.word('refuted')} {_short(claim.get('source'), 60)}"
                         + (f" ({ev})" if ev else ""))
                break
    return text


def _prove_failure(row: Mapping[str, Any], paint: _Paint) -> str | None:
    verdict = row.get("verdict")
    if verdict == "verified":
        return None
    if verdict == "refuted":
        ev = _evidence(row.get("evidence"))
        return f"{_where(row)}: {paint.word('refuted')}" + (f" ({ev})" if ev else "")
    reason = row.get("reason") or "no verdict"
    detail = row.get("detail") or row.get("stop_reason")
    return (f"{_where(row)}: not proved — {paint.word('unknown')}: {reason}"
            + (f" ({_short(detail, 80)})" if detail else ""))


def _entail_failure(row: Mapping[str, Any], paint: _Paint) -> str | None:
    answer = row.get("answer")
    if answer not in ("Unknown", "Inconsistent"):
        return None
    verdict = row.get("verdict") if isinstance(row.get("verdict"), Mapping) else {}
    reason = row.get("reason") or (verdict or {}).get("reason") or (verdict or {}).get("detail")
    return f"{_where(row)}: {paint.word(str(answer))}" + (f" ({_short(reason, 80)})"
                                                           if reason else "")


def _formalize_failure(row: Mapping[str, Any], paint: _Paint) -> str | None:
    if row.get("chosen") is not None:
        return None
    return f"{_where(row)}: nothing survived ({_short(row.get('reason') or 'no reason', 80)})"


_FAILURES = {"check": _check_failure, "prove": _prove_failure, "entail": _entail_failure,
             "formalize": _formalize_failure}


def failures(command: str, results: Iterable[Mapping[str, Any]], *,
             color: bool = False) -> list[str]:
    """One line per failed row of a ``command`` run: rejected rows, first errors with the
    refuted claim, unproved or refuted theorems, Unknown/Inconsistent entailments, statements
    with nothing formalized. Rows of unknown commands list only their rejections."""
    paint = _Paint(color)
    own = _FAILURES.get(command)
    out = []
    for row in results:
        if not isinstance(row, Mapping):
            continue
        line = _rejected(row, paint) or (own(row, paint) if own else None)
        if line:
            out.append(line)
    return out


def render_run(command: str, summary: Mapping[str, Any],
               results: Sequence[Mapping[str, Any]] | None = None, *, color: bool = False,
               limit: int = MAX_FAILURES, more_hint: str | None = None) -> str:
    """The human output of one run: the summary table, then what failed (at most ``limit``
    lines, then a count of the rest and ``more_hint`` saying where to see them all)."""
    paint = _Paint(color)
    text = summary_table(summary, title=f"proofgraph {command}", color=color)
    if results is None:
        return text
    failed = failures(command, results, color=color)
    if not failed:
        return text + "\n" + paint("nothing failed", "green")
    lines = [text, paint(f"what failed ({len(failed)} of {len(results)}):", "bold")]
    lines += [f"  {line}" for line in failed[:limit]]
    if len(failed) > limit:
        hint = more_hint or (f"proofgraph export --store DB --run {summary.get('run_id')} "
                             "--jsonl F" if summary.get("run_id") else "--out F.jsonl")
        lines.append(f"  … and {len(failed) - limit} more (all of them: {hint})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- runs table
def runs_table(runs: Sequence[Mapping[str, Any]], *, color: bool = False) -> str:
    """The runs of a store as a table: id, command, status, items, rejected, verdict counts,
    created time. Each run may carry ``rejected`` and ``verdicts`` (a counter); else ``–``."""
    paint = _Paint(color)
    if not runs:
        return "no runs in this store"
    head = ["RUN", "COMMAND", "STATUS", "ITEMS", "REJECTED", "VERIFIED", "APPROX",
            "REFUTED", "UNKNOWN", "CREATED (UTC)"]
    rows = []
    for run in runs:
        counts = run.get("verdicts") if isinstance(run.get("verdicts"), Mapping) else {}
        rows.append([str(run.get("run_id")), str(run.get("command") or ""),
                     str(run.get("status") or ""), _num(run.get("n_items")),
                     _num(run.get("rejected")), _num((counts or {}).get("verified")),
                     _num((counts or {}).get("verified_approx")),
                     _num((counts or {}).get("refuted")), _num((counts or {}).get("unknown")),
                     str(run.get("created_utc") or "")[:19]])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    numeric = {3, 4, 5, 6, 7, 8}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([paint(fmt(head), "bold"), *(fmt(r) for r in rows)])


def _num(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "–"
