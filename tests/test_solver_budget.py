"""The per-solution solver budget is counted in Z3 resource units, so it is deterministic: the
same solution gets the same verdicts and reasons whether it is checked alone in a fresh checker,
after other solutions (remembered answers are charged their recorded cost), while a thread burns
CPU, or on 1 or 2 workers of ``proofgraph check``. A budget counted in wall-clock seconds cannot
pass these tests: the burning thread slows every call, so the budget runs out at other claims.

Rows: real ProcessBench solutions (tests/data/processbench_slices.json, see
SOURCE.processbench.md) whose solver work passes a small budget."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import z3

from formalizer.stepcheck import Solution, StepChecker
from prover.records.verdicts import UnknownReason
from prover.z3.gateway import Limits, solve
from prover.z3.meter import CALL_UNITS, Meter, metered

DATA = Path(__file__).parent / "data"
BUDGET_S = 0.05  # small, so that several of the rows below run out of it part-way
ROWS = ("olympiadbench-203", "olympiadbench-230", "omnimath-87", "omnimath-15",
        "olympiadbench-468", "olympiadbench-824", "olympiadbench-299")


def _rows() -> list[Solution]:
    rows: dict[str, Solution] = {}
    for name in ("processbench_slices.json", "processbench_reading_slices.json"):
        for row in json.loads((DATA / name).read_text(encoding="utf-8")).values():
            rows[row["id"]] = Solution(row["id"], row["problem"], row["steps"])
    return [rows[row_id] for row_id in ROWS]


def _verdicts(result: dict) -> list[tuple[str, str | None, str | None]]:
    return [(c["formal"] or c["source"], c["verdict"], c["reason"])
            for step in result["steps"] for c in step["claims"]]


class _Burner:
    """A thread that keeps the CPU (and the GIL) busy while the checker runs."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        total = 0
        while not self.stop.is_set():
            total += sum(i * i for i in range(2000))

    def __enter__(self) -> _Burner:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def test_verdicts_do_not_depend_on_load_or_on_what_ran_before() -> None:
    rows = _rows()
    alone = {s.id: _verdicts(StepChecker(solver_budget_s=BUDGET_S).check(s)[0]) for s in rows}
    reasons = {v[2] for claims in alone.values() for v in claims}
    assert "budget" in reasons  # the budget does cut these rows part-way
    assert any(v[1] in ("verified", "refuted") for claims in alone.values() for v in claims)
    shared = StepChecker(solver_budget_s=BUDGET_S)
    with _Burner():
        for _ in range(2):  # the second pass answers from the memo: charged the same cost
            for solution in reversed(rows):
                assert _verdicts(shared.check(solution)[0]) == alone[solution.id], solution.id


def test_one_and_two_workers_give_identical_verdicts(tmp_path: Path, capsys) -> None:
    from proofgraph.cli import main

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": s.id, "problem": s.problem, "steps": s.steps})
                            + "\n" for s in _rows()), encoding="utf-8")
    found = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out-{workers}.jsonl"
        code = main(["check", str(rows), "--format", "steps", "--out", str(out), "--json",
                     "--no-progress", "--solver-budget", str(BUDGET_S), "--workers", workers])
        capsys.readouterr()
        assert code == 0
        results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        found[workers] = {r["id"]: _verdicts(r) for r in results}
    assert len(found["1"]) == len(ROWS)
    assert found["1"] == found["2"]


def test_a_meter_caps_and_charges_every_call_in_its_scope() -> None:
    ctx = z3.Context()
    x, y = z3.Reals("x y", ctx)
    hard = [x * x * x + y * y == 2, x * y * x == 1, x != 1, x != -1]
    free = solve(hard, ctx=ctx, limits=Limits(), want_model=False)
    assert free.status in ("sat", "unsat") and free.rlimit_used > 0
    meter = Meter(free.rlimit_used + CALL_UNITS)
    with metered(meter):
        again = solve(hard, ctx=ctx, limits=Limits(), want_model=False)
    assert again.status == free.status and meter.left == 0 and not meter.cut
    small = Meter(free.rlimit_used // 4)
    with metered(small):
        cut = solve(hard, ctx=ctx, limits=Limits(), want_model=False)
        refused = solve([x > 1], ctx=ctx, limits=Limits(), want_model=False)
    assert cut.reason is UnknownReason.BUDGET and small.cut and small.left == 0
    assert refused.reason is UnknownReason.BUDGET  # nothing left: Z3 is not called
    assert solve([x > 1], ctx=ctx, limits=Limits(), want_model=False).sat  # outside: no meter


def test_the_wall_clock_safety_net_is_a_timeout_not_a_budget() -> None:
    ctx = z3.Context()
    x = z3.Real("x", ctx)
    meter = Meter(10**9, deadline=0.0)  # the deadline has passed
    with metered(meter):
        late = solve([x > 1], ctx=ctx, limits=Limits(), want_model=False)
    assert late.reason is UnknownReason.TIMEOUT and meter.timed_out


@pytest.mark.parametrize("budget_s", [0.0, 0.25])
def test_a_spent_budget_leaves_exact_evaluation_alone(budget_s: float) -> None:
    checker = StepChecker(solver_budget_s=budget_s)
    result, _ = checker.check(Solution("t", "", ["2 + 2 = 4", "200 + 200x = 228",
                                                 "so x = 0.14"]))
    verdicts = [(c["verdict"], c["reason"]) for s in result["steps"] for c in s["claims"]]
    assert verdicts[0] == ("verified", None)
    assert verdicts[2] == (("unknown", "budget") if budget_s == 0 else ("verified", None))


def test_the_watchdog_counts_cpu_not_waiting() -> None:
    """With ``cpu_s`` the watchdog fires once the thread used that much CPU; a thread that waits
    (as a call does on a loaded machine) is not interrupted for the time it did not run."""
    from prover.z3.watchdog import Watchdog

    class FakeContext:
        def __init__(self) -> None:
            self.interrupted = threading.Event()

        def interrupt(self) -> None:
            self.interrupted.set()

    waiting = FakeContext()
    with Watchdog(waiting, 600.0, cpu_s=0.2) as dog:  # type: ignore[arg-type]
        assert not waiting.interrupted.wait(0.6)
    assert not dog.fired
    busy = FakeContext()
    with Watchdog(busy, 600.0, cpu_s=0.05) as dog:  # type: ignore[arg-type]
        give_up = time.monotonic() + 60
        while not busy.interrupted.is_set() and time.monotonic() < give_up:
            sum(i * i for i in range(1000))
    assert dog.fired
