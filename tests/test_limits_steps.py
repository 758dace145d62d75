"""LLM step checks pass on the reason Z3 gave when it cannot show the premises can hold.

A claim that holds without any premise (``2 * 3 = 6``) is still not ``verified`` under givens Z3
cannot show satisfiable: it is ``unknown`` with Z3's own reason (here ``budget``: a resource
limit of 1000 units, which Z3 counts deterministically), never the catch-all ``backend-error``.
"""

from __future__ import annotations

from formalizer.llm_steps_check import LLMStepsChecker
from formalizer.llm_steps_lang import GIVEN_KINDS, STEP_KINDS, parse_block
from prover.arith.check import Limits

# Nonlinear givens over the reals: Z3 cannot decide them within a tiny resource limit.
HARD_GIVENS = ("GIVEN a * a * a + b * b * b + c * c * c = 33\nGIVEN a * b * c = 7\n"
               "GIVEN a + b = c * c * 3\n")


def _claim(limits: Limits, givens: str, step: str) -> dict:
    record, steps = LLMStepsChecker(limits).check(parse_block(givens, GIVEN_KINDS),
                                                  [parse_block(step, STEP_KINDS)])
    return {"record": record, **steps[0]["claims"][0]}


def test_undecided_premises_give_zs_reason_not_backend_error() -> None:
    claim = _claim(Limits(timeout_ms=20_000, rlimit=1000), HARD_GIVENS, "CLAIM 2 * 3 = 6\n")
    assert claim["record"]["consistent"] is None  # Z3 could not tell
    for view in ("local", "grounded"):
        assert claim[view]["verdict"] == "unknown"
        assert claim[view]["reason"] == "budget", claim[view]
        assert "premises can hold" in claim[view]["detail"]


def test_satisfiable_and_contradictory_givens_keep_their_verdicts() -> None:
    limits = Limits()
    ok = _claim(limits, "GIVEN a = 2\nGIVEN b = a + 1\n", "CLAIM 2 * 3 = 6\n")
    assert ok["local"]["verdict"] == "verified" and ok["grounded"]["verdict"] == "verified"
    bad = _claim(limits, "GIVEN a = 2\nGIVEN a = 3\n", "CLAIM 2 * 3 = 6\n")
    assert bad["local"]["verdict"] == "unknown"
    assert bad["local"]["reason"] == "vacuous-premises"
