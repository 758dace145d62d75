"""Benchmark the autoformalizer with a real model on FOLIO (NL -> FOL) and miniF2F (NL -> Lean 4).

    python scripts/bench_formalize.py --endpoint http://127.0.0.1:8000/v1 --model NAME
    python scripts/bench_formalize.py --model vllm:/models/deepseek-prover --folio 200 -k 8
    python scripts/bench_formalize.py --model hf:$(python -m prover.policy.gguf) \\
        --folio 10 --minif2f 10 -k 4          # Gemma 3 270M on CPU: a smoke figure only

FOLIO (train rows, ``/work/shared/data/folio/folio-train.jsonl`` or the 50-row slice in
tests/data): each row's NL premises + conclusion are formalized (``target=fol``); the label
is our own entailment verdict on the chosen formalization (and, separately, the majority vote
of all checked candidates), compared with the gold True/False/Uncertain label (FOLIO's
``Unknown`` is Uncertain; our Inconsistent/Unknown count as wrong). miniF2F: the informal
statements are formalized as Lean 4 theorems, type-checked with Lean when a Lean project is
set up, else reported as ``skipped: no lean`` with the rate of completions that have the
``theorem ... := by sorry`` shape. Cluster agreement = size of the chosen candidate's
equivalence cluster / k. Throughput = candidates (all rounds) per second of formalize time.
Rows go to the pipeline in batches of ``--batch-size`` (one model call per round per batch).
Exit codes: 0 ok, 2 unusable arguments, data or model, 3 some rows rejected.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = Path("/work/shared/data")
FOLIO_FILES = (SHARED / "folio" / "folio-train.jsonl", ROOT / "tests" / "data" / "folio_train_50.jsonl")
MINIF2F_FILES = (SHARED / "lean4" / "yangky11_miniF2F-lean4" / "minif2f_lean4_with_informal.jsonl",
                 ROOT / "tests" / "data" / "minif2f_informal_20.jsonl")
LABELS = {"True": "True", "False": "False", "Uncertain": "Uncertain", "Unknown": "Uncertain"}
STOPS = ("\n\n", "\nPremises:", "\nStatement:")


class BenchInputError(ValueError):
    """A data file or row the benchmark cannot use (the message names the file and line)."""


def first_existing(paths: Sequence[Path]) -> Path:
    """The first of ``paths`` that exists; BenchInputError listing them all otherwise."""
    for path in paths:
        if path.is_file():
            return path
    raise BenchInputError("none of these data files exists: " + ", ".join(map(str, paths)))


def read_rows(path: Path, limit: int, rejected: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects among the first ``limit`` non-blank lines of a JSONL file, with their
    1-based line numbers; a line that is not a JSON object goes to ``rejected``."""
    rows: list[tuple[int, dict[str, Any]]] = []
    seen = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if seen >= limit:
                    break
                if not line.strip():
                    continue
                seen += 1
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    rejected.append(f"{path}:{number}: not JSON ({err.msg})")
                    continue
                if not isinstance(obj, dict):
                    rejected.append(f"{path}:{number}: expected a JSON object")
                    continue
                rows.append((number, obj))
    except (OSError, UnicodeDecodeError) as err:
        raise BenchInputError(f"cannot read {path}: {err}") from None
    return rows


def folio_items(rows: list[tuple[int, dict[str, Any]]], path: Path,
                rejected: list[str]) -> list[tuple[dict[str, Any], str]]:
    """``(item, gold label)`` per usable FOLIO row; unusable rows go to ``rejected``."""
    out = []
    for number, obj in rows:
        premises, conclusion, label = obj.get("premises"), obj.get("conclusion"), obj.get("label")
        if (not isinstance(premises, list) or not premises
                or not all(isinstance(p, str) and p.strip() for p in premises)):
            rejected.append(f"{path}:{number}: 'premises' must be a non-empty list of strings")
        elif not isinstance(conclusion, str) or not conclusion.strip():
            rejected.append(f"{path}:{number}: 'conclusion' must be a non-empty string")
        elif label not in LABELS:
            rejected.append(f"{path}:{number}: 'label' must be one of {sorted(LABELS)}")
        else:
            rid = str(obj.get("example_id", obj.get("id", number)))
            out.append(({"id": rid, "premises": premises, "conclusion": conclusion},
                        LABELS[label]))
    return out


def minif2f_items(rows: list[tuple[int, dict[str, Any]]], path: Path,
                  rejected: list[str]) -> list[dict[str, Any]]:
    """``{id, text}`` per miniF2F row with an informal statement; others go to ``rejected``."""
    out = []
    for number, obj in rows:
        text = obj.get("informal_stmt")
        if not isinstance(text, str) or not text.strip():
            rejected.append(f"{path}:{number}: 'informal_stmt' must be a non-empty string")
        else:
            out.append({"id": str(obj.get("id", number)), "text": text})
    return out


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def error_kind(error: str) -> str:
    """A short bucket for a check error: its first 70 characters with numbers written N."""
    return re.sub(r"\d+", "N", error.strip().splitlines()[0] if error.strip() else "?")[:70]


def candidate_stats(results: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Counts shared by both datasets: candidates, checked ones, extracted shapes, clusters,
    and the most common reasons candidates were filtered."""
    cands = [c for r in results for c in r["candidates"]]
    chosen = [r for r in results if r.get("chosen")]
    errors = Counter(error_kind(str(c["check"].get("error", ""))) for c in cands
                     if c["check"].get("status") == "error")
    agreement = [r["chosen"]["cluster_size"] / k for r in chosen]
    return {
        "rows": len(results), "candidates": len(cands),
        "round0_candidates": sum(c["round"] == 0 for c in cands),
        "repair_candidates": sum(c["round"] > 0 for c in cands),
        "extracted": sum(c["formal"] is not None for c in cands),
        "typechecked": sum(c["check"].get("status") == "ok" for c in cands),
        "skipped": sum(c["check"].get("status") == "skipped" for c in cands),
        "rows_with_chosen": len(chosen),
        "cluster_agreement_chosen": round(sum(agreement) / len(agreement), 4) if agreement else None,
        "cluster_agreement_all": round(sum(agreement) / len(results), 4) if results else None,
        "top_errors": errors.most_common(5),
    }


def folio_metrics(results: list[dict[str, Any]], gold: list[str], k: int) -> dict[str, Any]:
    """FOLIO figures: check rate, label accuracy of the chosen candidate and of the vote."""
    stats = candidate_stats(results, k)
    chosen_right = vote_right = 0
    predicted: Counter[str] = Counter()
    for result, label in zip(results, gold, strict=True):
        chosen = result.get("chosen")
        answer = ((chosen or {}).get("entailment") or {}).get("answer")
        predicted[str(answer)] += 1
        chosen_right += answer == label
        vote_right += (result.get("vote") or {}).get("majority") == label
    n, m = stats["rows"], stats["rows_with_chosen"]
    stats.update({
        "check_rate": rate(stats["typechecked"], stats["candidates"]),
        "label_accuracy_all": rate(chosen_right, n),
        "label_accuracy_chosen": rate(chosen_right, m),
        "vote_accuracy_all": rate(vote_right, n),
        "predicted": dict(sorted(predicted.items())), "gold": dict(sorted(Counter(gold).items())),
    })
    return stats


def minif2f_metrics(results: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """miniF2F figures: Lean type-check rate (or why it was skipped) and the shape rate."""
    stats = candidate_stats(results, k)
    reasons = sorted({str(c["check"].get("reason")) for r in results for c in r["candidates"]
                      if c["check"].get("status") == "skipped"})
    lean_ran = stats["candidates"] > 0 and stats["skipped"] < stats["extracted"]
    stats.update({
        "shape_rate": rate(stats["extracted"], stats["candidates"]),
        "typecheck_rate": rate(stats["typechecked"], stats["candidates"]) if lean_ran else None,
        "typecheck": "lean" if lean_ran else "skipped: no lean" + (f" ({reasons[0]})"
                                                                   if reasons else ""),
    })
    return stats


def run_section(name: str, items: list[Any], sampler: Any, config: Any, batch: int,
                progress: bool | None, out: Any | None) -> tuple[list[dict[str, Any]], float]:
    """Formalize ``items`` in batches; returns the result dicts and the formalize wall time."""
    from formalizer.autoformalize import formalize
    from prover.records.runs import Progress

    meter = Progress(len(items), name, progress)
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    for lo in range(0, len(items), batch):
        for result in formalize(items[lo:lo + batch], sampler, config):
            data = result.to_dict()
            results.append(data)
            if out is not None:
                out.write(json.dumps({"dataset": name, **data}, ensure_ascii=False) + "\n")
                out.flush()
        meter.update(len(results))
    meter.finish()
    return results, time.perf_counter() - start


def fmt(value: Any) -> str:
    """A rate as a percentage, None as n/a."""
    return "n/a" if value is None else f"{100 * value:.1f}%" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any]) -> None:
    """The human-readable summary of a benchmark run on stdout."""
    print(f"model: {report['model']}  k={report['k']}  repair_rounds={report['repair_rounds']}  "
          f"max_new_tokens={report['max_new_tokens']}  load {report['load_s']:.1f}s")
    for name in ("folio", "minif2f"):
        s = report.get(name)
        if not s:
            continue
        print(f"\n{name.upper()} ({s['file']}): {s['rows']} rows, {s['candidates']} candidates "
              f"({s['round0_candidates']} sampled + {s['repair_candidates']} repairs), "
              f"{s['seconds']:.1f}s, {s['candidates_per_s']:.2f} candidates/s")
        if name == "folio":
            print(f"  parse/sort-check rate: {fmt(s['check_rate'])} ({s['typechecked']}/"
                  f"{s['candidates']})")
            print(f"  rows with a chosen candidate: {s['rows_with_chosen']}/{s['rows']}")
            print(f"  label accuracy (chosen candidate's entailment): all rows "
                  f"{fmt(s['label_accuracy_all'])}, rows with a chosen candidate "
                  f"{fmt(s['label_accuracy_chosen'])}; majority vote, all rows "
                  f"{fmt(s['vote_accuracy_all'])}")
            print(f"  predicted {s['predicted']}  gold {s['gold']}")
        else:
            print(f"  `theorem ... := by sorry` shape rate: {fmt(s['shape_rate'])} "
                  f"({s['extracted']}/{s['candidates']})")
            print(f"  Lean type-check rate: {fmt(s['typecheck_rate'])}"
                  if s["typecheck_rate"] is not None else f"  Lean type-check: {s['typecheck']}")
            print(f"  rows with a chosen candidate: {s['rows_with_chosen']}/{s['rows']}")
        print(f"  cluster agreement (top cluster / k): rows with a chosen candidate "
              f"{fmt(s['cluster_agreement_chosen'])}, all rows {fmt(s['cluster_agreement_all'])}")
        print("  filtered because: " + ("; ".join(f"{kind} x{n}" for kind, n in s["top_errors"])
                                         or "nothing filtered"))
    print(f"\nwall time {report['wall_s']:.1f}s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", required=True,
                   help="with --endpoint: the served model name; else hf:PATH | vllm:PATH | "
                        "openai:URL#MODEL (hf:FILE.gguf works)")
    p.add_argument("--folio", type=int, default=10, help="FOLIO train rows (0 = skip)")
    p.add_argument("--minif2f", type=int, default=10, help="miniF2F informal statements (0 = skip)")
    p.add_argument("--folio-file", type=Path, help="override the FOLIO JSONL file")
    p.add_argument("--minif2f-file", type=Path, help="override the miniF2F JSONL file")
    p.add_argument("-k", type=int, default=4, help="candidates per statement")
    p.add_argument("--repair-rounds", type=int, default=1)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--max-input-tokens", type=int, help="keep only the last N prompt tokens")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8, help="rows per formalize call")
    p.add_argument("--no-backtranslate", action="store_true")
    p.add_argument("--out", type=Path, help="write every result row (JSONL) here")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    args = p.parse_args(argv)
    for name in ("k", "max_new_tokens", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.folio < 0 or args.minif2f < 0 or args.repair_rounds < 0:
        p.error("--folio, --minif2f and --repair-rounds must be >= 0")
    if args.folio == 0 and args.minif2f == 0:
        p.error("nothing to run: --folio and --minif2f are both 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring for exit codes."""
    args = parse_args(argv)
    spec = f"openai:{args.endpoint}#{args.model}" if args.endpoint else args.model
    rejected: list[str] = []
    folio: list[tuple[dict[str, Any], str]] = []
    mini: list[dict[str, Any]] = []
    folio_path = mini_path = None
    try:
        if args.folio:
            folio_path = args.folio_file or first_existing(FOLIO_FILES)
            folio = folio_items(read_rows(folio_path, args.folio, rejected), folio_path,
                                rejected)
        if args.minif2f:
            mini_path = args.minif2f_file or first_existing(MINIF2F_FILES)
            mini = minif2f_items(read_rows(mini_path, args.minif2f, rejected), mini_path,
                                  rejected)
        out = args.out.open("w", encoding="utf-8") if args.out else None
    except (BenchInputError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for problem in rejected:
        print(f"rejected: {problem}", file=sys.stderr)
    if not folio and not mini:
        print("error: no usable rows", file=sys.stderr)
        if out is not None:
            out.close()
        return 2
    from formalizer.autoformalize import FormalizeConfig, make_sampler

    start = time.perf_counter()
    try:
        sampler = make_sampler(spec, max_new_tokens=args.max_new_tokens,
                               temperature=args.temperature, seed=args.seed, stop=STOPS,
                               max_input_tokens=args.max_input_tokens)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        if out is not None:
            out.close()
        return 2
    load_s = time.perf_counter() - start
    report: dict[str, Any] = {"model": spec, "k": args.k, "repair_rounds": args.repair_rounds,
                              "max_new_tokens": args.max_new_tokens, "load_s": load_s,
                              "sampler": sampler.describe(), "rejected": rejected}
    try:
        for name, items, path, target in (("folio", [i for i, _ in folio], folio_path, "fol"),
                                          ("minif2f", mini, mini_path, "lean")):
            if not items:
                continue
            config = FormalizeConfig(target, k=args.k, repair_rounds=args.repair_rounds,
                                     backtranslate=not args.no_backtranslate)
            results, seconds = run_section(name, items, sampler, config, args.batch_size,
                                           args.progress, out)
            stats = (folio_metrics(results, [g for _, g in folio], args.k) if name == "folio"
                     else minif2f_metrics(results, args.k))
            stats.update(file=str(path), seconds=round(seconds, 3),
                         candidates_per_s=round(stats["candidates"] / max(seconds, 1e-9), 4))
            report[name] = stats
    finally:
        if out is not None:
            out.close()
        close = getattr(sampler, "close", None)
        if callable(close):
            close()
    report["wall_s"] = round(time.perf_counter() - start, 3)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print_report(report)
    return 3 if rejected else 0


if __name__ == "__main__":
    raise SystemExit(main())
