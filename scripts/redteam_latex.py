"""Differential red-team over competition notation (issue 11); a dev script, not a test.

    python scripts/redteam_latex.py pb 300 /tmp/viol.json    # ProcessBench dev + dev2 only
    python scripts/redteam_latex.py gsm 300 /tmp/viol.json   # GSM8K train (first 1500 rows)

Every step whose claims the checker decides is checked alone, then once per perturbation:
(a) a rewrite a reader sees as the same formula must keep its decided (formal, verdict) set;
(b) notation the checker does not read, wrapped around one number, may add no decided claim
unless the claim's formal reads that notation (factorial, binom, residue, /100, approx).
Violations are written as JSON for reading by hand (context effects, where an unread display
removes a binding and a correctly read later one decides, are expected there). Never reads the
ProcessBench ``test`` part (scripts/bench_stepcheck.py ``part_of``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from formalizer.stepcheck import Solution, StepChecker

#: the shared data beside the clone (``../shared/data``), as the other scripts expect it
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CHECKER = StepChecker()
NUM = re.compile(r"(?<![\w.,\\])\d+(?:\.\d+)?(?![\w.])")
Rewrite = Callable[[str], str]


def part_of(row_id: str) -> str:
    """As scripts/bench_stepcheck.py: ``dev``, ``dev2`` or ``test``."""
    digest = hashlib.sha256(row_id.encode()).digest()
    if digest[0] % 2 == 0:
        return "dev"
    return "dev2" if digest[1] % 2 == 0 else "test"


def decided(problem: str, step: str) -> Counter[tuple[str, str]]:
    """The (formal, verdict) pairs the checker decides on one step checked alone."""
    result, _ = CHECKER.check(Solution("x", problem, [step]))
    return Counter((c["formal"], c["verdict"]) for s in result["steps"] for c in s["claims"]
                   if c["verdict"] not in (None, "unknown"))


def _sized(t: str) -> str:
    return re.sub(r"(?<!\\)\)", r"\\right)", re.sub(r"(?<!\\)\(", r"\\left(", t))


SAME: dict[str, tuple[str, Rewrite]] = {
    "cdot": ("\\times", lambda t: t.replace("\\times", "\\cdot")),
    "times-sign": ("\\times", lambda t: t.replace("\\times", "×")),
    "middle-dot": ("\\cdot", lambda t: t.replace("\\cdot", "·")),
    "dfrac": ("\\frac", lambda t: t.replace("\\frac", "\\dfrac")),
    "left-right": ("(", _sized),
    "eq-spaces": ("=", lambda t: t.replace("=", " \\, = \\; ")),
    "eq-quad": ("=", lambda t: t.replace("=", "\\quad=\\quad ")),
    "plus-space": ("+", lambda t: t.replace("+", "\\,+\\,")),
    "minus-unicode": ("-", lambda t: re.sub(r"(?<=[\s\d(=])-(?=[\s\d(])", "−", t)),
    "displaystyle": ("\\(", lambda t: t.replace("\\(", "\\(\\displaystyle ", 1)),
}
UNREAD = {"foo": "\\foo{%s}", "opname": "\\operatorname{xyz}(%s)", "lfloor": "\\lfloor %s",
          "mid": "%s \\mid", "sub": "%s_{n}", "prime": "%s'", "overline": "\\overline{%s}",
          "lvert": "\\lvert %s", "vec": "\\vec %s", "sum": "\\sum %s", "hat": "\\hat{%s}",
          "fact": "%s!", "binom": "\\binom{%s}{2}", "pct": "%s\\%%", "pmod": "%s \\pmod{7}"}
READS = {"fact": "factorial", "binom": "binom", "pct": "100", "pmod": "residue"}


def perturbations(text: str, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """(class, name, new text) for every perturbation that applies to ``text``."""
    for name, (needle, rewrite) in SAME.items():
        if needle in text:
            yield "a", name, rewrite(text)
    numbers = list(NUM.finditer(text))
    if numbers:
        m = rng.choice(numbers)
        yield "a", "braces", text[:m.start()] + "{" + m.group() + "}" + text[m.end():]
        for name, wrap in UNREAD.items():
            m = rng.choice(numbers)
            yield "b", name, text[:m.start()] + wrap % m.group() + text[m.end():]


def rows(kind: str) -> Iterator[tuple[str, str, list[str]]]:
    """(id, problem, steps) of ProcessBench dev/dev2 or of the first 1500 GSM8K rows."""
    if kind == "pb":
        for split in ("olympiadbench", "omnimath"):
            path = DATA / "processbench-dev" / f"{split}.json"
            for r in json.loads(path.read_text(encoding="utf-8")):
                if part_of(r["id"]) in ("dev", "dev2"):
                    yield r["id"], r["problem"], list(r["steps"])
        return
    from formalizer.inputs import split_gsm8k_answer
    with (DATA / "gsm8k" / "train.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= 1500:
                return
            obj = json.loads(line)
            steps, _ = split_gsm8k_answer(obj["answer"])
            yield f"gsm8k-{number}", obj["question"], steps


def main(kind: str, limit: int, out: Path) -> None:
    rng, stats, violations, n, start = random.Random(11), Counter[str](), [], 0, time.time()
    for row_id, problem, steps in rows(kind):
        for index, step in enumerate(steps):
            if n >= limit:
                break
            base = decided(problem, step)
            if not base:
                continue
            n += 1
            for cls, name, new in perturbations(step, rng):
                stats[f"{cls}:{name}"] += 1
                got = decided(problem, new)
                added = Counter({k: c for k, c in (got - base).items()
                                 if name not in READS or READS[name] not in k[0]})
                if added or (cls == "a" and base - got):
                    stats[f"violation {cls}:{name}"] += 1
                    violations.append({"class": cls, "perturbation": name, "id": row_id,
                                       "step": index, "new": new, "added": sorted(added),
                                       "lost": sorted(base - got)})
        if n >= limit:
            break
    out.write_text(json.dumps(violations, indent=1), encoding="utf-8")
    print(kind, "steps", n, "seconds", round(time.time() - start), "violations", len(violations))
    for key, count in sorted(stats.items()):
        print(key, count)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
