"""Driver for tests/test_wholeproof_kill.py: ``proofgraph eval`` in a process of its own, with a
deterministic scripted whole-proof policy registered as ``scripted`` (a subprocess cannot be
monkeypatched). Each answer is the row's known-good Z3 script from tests/data/z3_theorems.jsonl,
except that gauss_sum's first answer stops one tactic short (refuted, repaired in round 2 from
the checker's errors). Every call sleeps ``PROOFGRAPH_TEST_CALL_S`` seconds so a test can kill
the run mid-way. Usage: ``python tests/whole_kill_driver.py EVAL-ARGS...``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "z3_theorems.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


class ScriptedWhole:
    """Answers depend on the prompt alone (deterministic; see the module docstring)."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        time.sleep(self.pause_s)
        out = []
        for text in texts:
            row = next(r for r in ROWS if r["goal"] in text and r["smt2"] in text)
            script = list(row["proof"])
            if row["id"] == "gauss_sum" and "goals remain" not in text:
                script = script[:-1]
            out.append([("```z3\n" + "\n".join(script) + "\n```\n", -1.0)] * n)
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": "scripted-whole"}  # the pause is test plumbing, not the policy


def main(argv: Sequence[str]) -> int:
    """Register the policy, then run ``proofgraph`` with ``argv``."""
    from proofgraph.cli import main as cli_main
    from prover.policy import registry

    pause = float(os.environ.get("PROOFGRAPH_TEST_CALL_S", "0"))
    registry.POLICIES["scripted"] = lambda *args: ScriptedWhole(pause)
    return cli_main(list(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
