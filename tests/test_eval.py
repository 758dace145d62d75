"""``proofgraph eval``: pass@k, per-theorem results and summary, resume after kill -9 (every
attempt exactly once), the HTML report, and ``--compare``."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from proofgraph.cli import main
from prover.eval.passk import coverage, ks_for, mean_pass_at_k, pass_at_k
from prover.eval.report import coverage_svg, render_report
from prover.eval.results import per_theorem, summarize

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
SMALL = ("n_n1_even", "abs_nonneg", "max_props", "gauss_sum")


def _exact(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


@pytest.mark.parametrize(("n", "c", "k"), [(1, 0, 1), (1, 1, 1), (5, 1, 1), (5, 1, 3),
                                           (10, 3, 4), (8, 0, 8), (8, 8, 1), (200, 7, 50),
                                           (1000, 1, 999), (1000, 999, 1)])
def test_pass_at_k_matches_the_exact_binomial_formula(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(_exact(n, c, k), abs=1e-12)


def test_pass_at_k_edge_cases_and_bad_arguments() -> None:
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(4, 2, 3) == 1.0  # any 3 of 4 include a success
    assert pass_at_k(5, 1, 1) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)
    assert ks_for(8) == [1, 2, 4, 8] and ks_for(6) == [1, 2, 4, 6] and ks_for(1) == [1]
    assert mean_pass_at_k([(4, 1), (4, 0)], 1) == pytest.approx(0.125)
    assert mean_pass_at_k([(1, 1)], 2) is None
    curve = coverage([(4, 1), (4, 4), (4, 0)], 4)
    assert [k for k, _ in curve] == [1, 2, 3, 4]
    assert curve[0][1] == pytest.approx(1.25) and curve[-1][1] == pytest.approx(2.0)
    assert all(a[1] <= b[1] for a, b in zip(curve, curve[1:], strict=False))


def _attempt(line: int, attempt: int, verdict: str, status: str = "proved",
             error: str | None = None) -> dict:
    return {"key": f"{line}:{attempt}", "theorem": f"t{line}", "theorem_line": line,
            "attempt": attempt, "seed": attempt, "verdict": verdict, "status": status,
            "proof": ["z3"] if verdict == "verified" else None, "error": error,
            "counts": {"expansions": 2, "env_calls": 5}, "times": {"wall_s": 0.5}}


def test_summary_counts_only_verified_attempts_as_successes() -> None:
    rows = [_attempt(0, 0, "verified"), _attempt(0, 1, "unknown", "open"),
            _attempt(1, 0, "refuted"), _attempt(1, 1, "unknown", "open"),  # recheck refused
            {"key": "2", "id": "2", "theorem_line": 2, "error": "bad JSON"},
            _attempt(3, 0, "unknown", "open", error="internal error"),
            _attempt(3, 1, "verified")]
    theorems = per_theorem(rows, 2)
    assert [t["solved"] for t in theorems] == [True, False, False, True]
    assert theorems[2]["attempts"] == 0 and theorems[2]["error"] == "bad JSON"
    summary = summarize(rows, 2)
    assert summary["theorems"] == 4 and summary["rejected"] == 1 and summary["solved"] == 2
    assert summary["pass_at_k"] == {"1": pytest.approx(1 / 3), "2": pytest.approx(2 / 3)}
    assert summary["proved_but_recheck_failed"] == 1
    assert summary["attempt_errors"] == 1


def _bench(tmp: Path, ids: tuple[str, ...] = SMALL) -> Path:
    """The rows of ``ids`` from the Z3 suite, in the order of ``ids``."""
    rows = sorted((line for line in DATA.read_text().splitlines()
                   if line.strip() and json.loads(line)["id"] in ids),
                  key=lambda line: ids.index(json.loads(line)["id"]))
    path = tmp / "bench.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


FAST = ["--max-expansions", "8", "--tactic-timeout", "3", "--wall-timeout", "120",
        "--no-progress"]


@pytest.mark.slow
def test_eval_cli_writes_results_summary_and_a_strict_offline_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench(tmp_path)
    out = tmp_path / "run"
    code = main(["eval", str(bench), "--attempts", "2", "--concurrency", "3", "--out", str(out),
                 "--json", *FAST])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["theorems"] == len(SMALL) and summary["attempts_done"] == 2 * len(SMALL)
    assert set(summary["pass_at_k"]) == {"1", "2"}
    assert 1 <= summary["solved"] <= len(SMALL)
    assert summary["pass_at_k"]["1"] == pytest.approx(summary["solved"] / len(SMALL))
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(SMALL) or {r["id"] for r in rows} == set(SMALL)
    for row in rows:
        assert [a["attempt"] for a in row["attempt_rows"]] == [0, 1]
        assert len({a["seed"] for a in row["attempt_rows"]}) == 2  # recorded, distinct
    assert json.loads((out / "summary.json").read_text())["run_id"] == summary["run_id"]
    html = (out / "report.html").read_text()
    from html import unescape

    assert "default-src 'none'" in unescape(html) and "unsafe-inline" not in html
    assert "<svg" in html and "<path d=\"M" in html and "<script>" not in html
    assert f"proofgraph show {summary['run_id']}:0:0" in html
    # the show command printed in the report renders that attempt's search graph
    page = tmp_path / "g.html"
    assert main(["show", f"{summary['run_id']}:0:0", "--store", str(out / "eval.sqlite"),
                 "--html", str(page)]) == 0
    assert page.stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out
    # a rerun of the same command does nothing new and gives the same figures
    assert main(["eval", str(bench), "--attempts", "2", "--concurrency", "1", "--out",
                 str(out), "--json", *FAST]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["attempts_this_session"] == 0 and again["resumed"] is True
    assert again["pass_at_k"] == summary["pass_at_k"] and again["run_id"] == summary["run_id"]


@pytest.mark.slow
def test_kill_9_then_rerun_does_every_attempt_exactly_once(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    out = tmp_path / "run"
    attempts = 2
    total = attempts * len(SMALL)
    # one theorem (2 attempts) per committed batch, gauss_sum (tactic timeouts) last
    command = [sys.executable, "-m", "proofgraph.cli", "eval", str(bench), "--attempts",
               str(attempts), "--concurrency", "1", "--out", str(out), "--json", *FAST]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    lines = out / "attempts.jsonl"
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            if lines.exists() and len(lines.read_text().splitlines()) >= 2:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    before = [json.loads(x)["key"] for x in lines.read_text().splitlines() if x.strip()]
    assert 2 <= len(before) < total  # killed in the middle
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    keys = [json.loads(x)["key"] for x in lines.read_text().splitlines() if x.strip()]
    expected = {f"{i}:{a}" for i in range(len(SMALL)) for a in range(attempts)}
    assert sorted(keys) == sorted(expected) and len(keys) == total  # each exactly once
    assert summary["resumed"] is True
    assert summary["attempts_this_session"] == total - len(before)
    from prover.records.store import Store

    with Store(out / "eval.sqlite") as store:
        stored = [k for k, _ in store.item_results(summary["run_id"])]
    assert sorted(stored) == sorted(expected)


def _fake_run(folder: Path, solved: dict[str, bool], policy: str) -> Path:
    folder.mkdir()
    rows = [{"id": i, "attempts": 1, "successes": int(s), "solved": s}
            for i, s in solved.items()]
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"run_id": f"eval-{policy}", "policy": policy, "backend": "z3",
               "theorems": len(rows), "solved": sum(solved.values()), "attempts": 1,
               "pass_at_k": {"1": sum(solved.values()) / len(rows)}, "wall_s": 1.0}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_compare_lists_what_each_run_solved_alone(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    a = _fake_run(tmp_path / "a", {"x": True, "y": False, "z": True, "w": False}, "symbolic")
    b = _fake_run(tmp_path / "b", {"x": True, "y": True, "z": False, "w": False, "v": True},
                  "hf")
    assert main(["eval", "--compare", str(a), str(b), "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    assert cmp["only_a"] == ["z"] and cmp["only_b"] == ["y"]
    assert cmp["both"] == ["x"] and cmp["neither"] == ["w"] and cmp["missing_in_a"] == ["v"]
    assert main(["eval", "--compare", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "A only" in text and "B only" in text and "solved by A only: 1" in text
    assert main(["eval", "--compare", str(a), str(tmp_path / "nothing")]) == 2


def test_coverage_svg_is_monotone_and_log_scaled() -> None:
    svg = coverage_svg([[1, 1.0], [2, 1.5], [4, 2.0], [8, 2.5]], 4)
    xs = [float(part.split(",")[0][1:]) for part in svg.split('<path d="')[1]
          .split('"')[0].split()]
    assert xs == sorted(xs)
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.2)  # doublings equally spaced
    page = render_report({"run_id": "r", "theorems": 4, "solved": 3, "attempts": 8,
                          "pass_at_k": {"1": 0.25}, "coverage": [[1, 1.0], [8, 2.5]],
                          "benchmark": "b<script>"}, [])
    assert "b&lt;script&gt;" in page and "b<script>" not in page


def test_the_coverage_curve_reads_in_chromium(tmp_path: Path) -> None:
    from browser_fixtures import CHROMIUM, CHROMIUM_FLAGS, png_levels, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    points = [[k, 10 * (1 - 0.7 ** k)] for k in range(1, 17)]
    theorems = [{"id": "t0", "line": 0, "attempts": 16, "successes": 3, "solved": True,
                 "proof": ["induction n", "z3"], "attempt_rows": [
                     {"key": "0:0", "attempt": 0, "seed": 5, "verdict": "verified",
                      "expansions": 3, "wall_s": 0.2}]}]
    page_path = tmp_path / "report.html"
    page_path.write_text(render_report(
        {"run_id": "eval-x", "benchmark": "suite", "theorems": 12, "solved": 10,
         "attempts": 16, "pass_at_k": {"1": 0.3, "16": 0.83}, "coverage": points}, theorems))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_path.as_uri())
            box = page.locator("svg").bounding_box()
            assert box is not None and box["width"] > 500 and box["height"] > 250
            ticks = page.locator("svg text").all_text_contents()
            assert {"1", "2", "4", "8", "16"} <= set(ticks)
            assert "samples k (log scale)" in ticks
            shot = page.locator("svg").screenshot()
            levels, variance = png_levels(shot)
            assert levels > 5 and variance > 10  # a drawn curve, not a blank box
            from browser_fixtures import ARTIFACTS

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "eval-report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_path.as_uri()] and errors == []
