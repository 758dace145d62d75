"""Word-problem precision of the rule-based step checker on correct GSM8K solutions.

    python scripts/bench_words.py --data ../shared/data/gsm8k/train.jsonl [--limit N] [--out F]

Every GSM8K train solution is taken as correct, so every ``refuted`` claim (a flag) on it is a
false flag: the script counts flags per solution and per claim, the share of claims left
``unknown`` (by reason), and claims checked per second, and writes each flagged claim (row,
step, text, formal form, evidence) to ``--out`` (JSON Lines) so every flag can be read by hand.
One bad row never ends the run: its error is counted and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from formalizer.inputs import split_gsm8k_answer
from formalizer.stepcheck import Solution, StepChecker


def run(data: Path, limit: int | None, out: Path | None) -> dict[str, object]:
    """Check every row of ``data`` (GSM8K layout) and return the figures."""
    checker = StepChecker()
    verdicts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    flagged_rows = errors = rows = 0
    flags: list[dict[str, object]] = []
    start = time.perf_counter()
    with data.open(encoding="utf-8") as handle:
        for line0, line in enumerate(handle):
            if limit is not None and rows >= limit:
                break
            rows += 1
            try:
                row = json.loads(line)
                steps, final = split_gsm8k_answer(row["answer"])
                result, _ = checker.check(Solution(str(line0), row["question"], steps, final,
                                                   line0))
            except Exception as err:  # noqa: BLE001 - one bad row never ends the run
                errors += 1
                print(f"row {line0}: {type(err).__name__}: {err}", file=sys.stderr)
                continue
            row_flagged = False
            for step in result["steps"]:
                for claim in step["claims"]:
                    kind = claim["verdict"]
                    if kind is None:
                        continue
                    verdicts[kind] += 1
                    if kind == "unknown":
                        reasons[str(claim["reason"])] += 1
                    if kind == "refuted":
                        row_flagged = True
                        flags.append({"row": line0, "step": step["index"], "text": step["text"],
                                      "source": claim["source"], "formal": claim["formal"],
                                      "evidence": claim["evidence"]})
            flagged_rows += row_flagged
    elapsed = time.perf_counter() - start
    total = sum(verdicts.values())
    if out is not None:
        out.write_text("".join(json.dumps(f) + "\n" for f in flags), encoding="utf-8")
    return {"rows": rows, "row_errors": errors, "claims": total,
            "verdicts": dict(verdicts), "unknown_reasons": dict(reasons),
            "flagged_solutions": flagged_rows, "flagged_claims": len(flags),
            "unknown_share": round(verdicts["unknown"] / total, 4) if total else 0.0,
            "claims_per_s": round(total / elapsed, 1) if elapsed else 0.0,
            "seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write every flag here (JSONL)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.data, args.limit, args.out), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
