"""The shortcuts of the solver path keep its answers, its charges and Z3's path: the units
counter read with the key looked for from the end, isolated answers remembered by query text
(the worker reads every query in a fresh context, so a new call would answer the same), and
contexts made ahead of time."""

from __future__ import annotations

import pytest
import z3

from prover.records.verdicts import UnknownReason
from prover.z3 import isolate, isolated
from prover.z3.contexts import fresh_context
from prover.z3.gateway import Limits, solve
from prover.z3.meter import CALL_UNITS, ISOLATED_CALL_UNITS, Meter, metered, rlimit_count


def _nonlinear(ctx: z3.Context, k: int) -> list[z3.BoolRef]:
    x, y = z3.Real("x", ctx), z3.Real("y", ctx)
    return [x * y == 6 + k, x + y == 5, x * x * y > k]


def _forward_units(solver: z3.Solver) -> int:
    ref = solver.ctx.ref()
    stats = z3.Z3_solver_get_statistics(ref, solver.solver)
    z3.Z3_stats_inc_ref(ref, stats)
    try:
        keys = [z3.Z3_stats_get_key(ref, stats, i) for i in range(z3.Z3_stats_size(ref, stats))]
        assert keys.count("rlimit count") == 1
        return int(z3.Z3_stats_get_uint_value(ref, stats, keys.index("rlimit count")))
    finally:
        z3.Z3_stats_dec_ref(ref, stats)


def test_units_read_from_the_end_are_the_counter() -> None:
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    for k in range(4):
        solver.push()
        solver.add(*_nonlinear(ctx, k))
        before = rlimit_count(solver)
        assert before == _forward_units(solver)
        solver.check()
        after = rlimit_count(solver)
        assert after == _forward_units(solver) and after > before
        solver.pop()


def _opaque(ctx: z3.Context, k: int) -> list[z3.BoolRef]:
    x = z3.Real("x", ctx)
    return [x ** z3.RealVal("1/2", ctx) == 3 + k, x > 0]


def test_an_isolated_answer_is_reused_and_charged_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_call = isolate.call

    def counting(handler: str, payload: dict, *args: object, **kwargs: object) -> tuple:
        calls.append(handler)
        return real_call(handler, payload, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(isolate, "call", counting)
    monkeypatch.setattr(isolated, "_ANSWERS", {})
    charges, answers = [], []
    for _ in range(2):  # two contexts (two solutions) asking the same query
        ctx = z3.Context()
        meter = Meter(10_000_000)
        with metered(meter):
            result = solve(_opaque(ctx, 0), ctx=ctx, limits=Limits(), want_model=False,
                           evaluate=[z3.Real("x", ctx)])
        assert result.isolated and result.status in ("sat", "unknown")
        answers.append((result.status, result.reason, result.values, result.rlimit_used))
        charges.append(meter.spent)
    assert len(calls) == 1
    assert answers[0] == answers[1] and charges[0] == charges[1]
    if answers[0][0] == "sat":
        assert charges[0] == answers[0][3] + CALL_UNITS + ISOLATED_CALL_UNITS


def test_an_isolated_answer_is_not_reused_where_a_new_call_could_be_cut(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolated, "_ANSWERS", {})
    ctx = z3.Context()
    first = solve(_opaque(ctx, 1), ctx=ctx, limits=Limits(), want_model=False)
    assert first.isolated
    assert first.rlimit_used >= 2, "the query must cost work, or a cut budget cannot be tested"
    calls: list[str] = []
    real_call = isolate.call

    def counting(handler: str, payload: dict, *args: object, **kwargs: object) -> tuple:
        calls.append(handler)
        return real_call(handler, payload, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(isolate, "call", counting)
    with metered(Meter(first.rlimit_used)):
        solve(_opaque(ctx, 1), ctx=ctx, limits=Limits(), want_model=False)
    assert calls == ["solve"]


def test_limit_and_error_answers_are_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolated, "_ANSWERS", {})
    for answer in ({"status": "unknown", "reason": UnknownReason.TIMEOUT.value},
                   {"status": "unknown", "reason": UnknownReason.BUDGET.value},
                   {"error": "ValueError: x"}, None):
        isolated._remember("q", answer)  # type: ignore[arg-type]
        assert isolated._remembered("q", 0) is None
    isolated._remember("q", {"status": "unknown", "reason": UnknownReason.UNDECIDABLE.value,
                            "rlimit_used": 5})
    assert isolated._remembered("q", 0) is not None and isolated._remembered("q", 5) is None


def _first_use(ctx: z3.Context) -> tuple[int, int, int]:
    x = z3.Int("x", ctx)
    solver = z3.Solver(ctx=ctx)
    unused = rlimit_count(solver)
    solver.add(x > 2, x < 4)
    assert solver.check() == z3.sat
    return unused, rlimit_count(solver), solver.model()[x].as_long()


def test_fresh_contexts_are_distinct_and_unused() -> None:
    contexts = [fresh_context() for _ in range(4)]
    assert len({id(c) for c in contexts}) == 4
    plain = _first_use(z3.Context())
    assert plain[2] == 3
    for ctx in contexts:  # nothing was done in it: the same counts as a plain new context
        assert _first_use(ctx) == plain
