"""Shared inputs for the synth tests: the fast, timeout-free slice of the Z3 theorem suite."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
#: Theorems the symbolic policy proves within 4 expansions without a tactic timeout.
FAST = ("sum_mono", "abs_nonneg", "abs_triangle", "max_props", "amgm2", "sq_sum_ge_2xy",
        "quant_hyp")
PROOF_OPTS = {"max_expansions": 4, "tactic_timeout_s": 5.0, "wall_timeout_s": 60.0}


def fast_theorems(path: Path, copies: int = 1, duplicate_lines: int = 0) -> Path:
    """Write the fast theorems ``copies`` times (ids suffixed ``#n`` from the second copy on,
    so rows differ) plus ``duplicate_lines`` verbatim repeats of the first line (same content:
    their rows are duplicates) to ``path``."""
    rows = {r["id"]: r for r in map(json.loads, (DATA / "z3_theorems.jsonl").read_text(
        encoding="utf-8").splitlines()) if r["id"] in FAST}
    lines = []
    for copy in range(copies):
        for name in FAST:
            row = dict(rows[name], id=name if copy == 0 else f"{name}#{copy}")
            lines.append(json.dumps(row))
    lines += [lines[0]] * duplicate_lines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class BehaviourTask:
    """A real SynthTask whose items do what their payload says (``ok``, ``sleep``, ``alloc``
    GiB, ``raise``, ``exit``, ``refused``: a policy server that is down, ``bad``: a content
    failure): it drives the executor's failure paths."""

    name = "behaviour"

    def __init__(self, plan: list[tuple[str, float]]) -> None:
        self.plan = plan

    def items(self):  # type: ignore[no-untyped-def]
        for index, (action, arg) in enumerate(self.plan):
            yield f"{index}:{action}", {"action": action, "arg": arg, "index": index}

    def config(self) -> dict:
        return {"plan": self.plan}

    def run(self, payload: dict):  # type: ignore[no-untyped-def]
        import os
        import time

        from prover.synth.task import TaskOutput

        action, arg = payload["action"], payload["arg"]
        if action == "sleep":
            time.sleep(arg)
        elif action == "alloc":
            block = bytearray(int(arg * (1 << 30)))
            return TaskOutput([{"kind": "alloc", "size": len(block)}])
        elif action == "raise":
            raise ZeroDivisionError("planned")
        elif action == "exit":
            os._exit(7)
        elif action == "refused":
            from prover.policy.openai_client import PolicyRequestError

            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except OSError as err:
                raise PolicyRequestError("POST http://127.0.0.1:9/v1: connection refused") \
                    from err
        elif action == "bad":
            return TaskOutput([], ok=False, reason="unprovable")
        return TaskOutput([{"kind": action, "index": payload["index"], "pid": os.getpid()}])


def echo_twice(key: str, payload: str) -> tuple[str, None]:
    """A pool item function whose output is twice its input (large in, larger out)."""
    return payload + payload, None
