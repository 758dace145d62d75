"""The ONE place that says what a Lean REPL response means.

Verdict rules (the trust note, section 1 and 3; fixtures ``20240209``, ``invalid_tactic``,
``app_type_mismatch2``, ``self_proof_*``): a tactic step is acceptable only with no
``LeanError``, no message of severity ``error``, no new ``sorries`` and no "declaration uses
sorry" warning (both spellings); it *completes* the proof only when moreover
``proofStatus == "Completed"``. ``goals == []`` alone never means proved. A command is a whole
proof only with no error, no sorry and no sorry warning (:func:`judge_command`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from prover.lean.protocol import (
    CommandResponse,
    LeanError,
    ProofStepResponse,
    Response,
    Sorry,
)

SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
"""Both spellings: ``declaration uses 'sorry'`` (Lean <= v4.27.0, so the v4.20.0 REPL) and
``declaration uses `sorry` `` (v4.28.0-rc1 on, as in the v4.33.0-rc2 fixtures)."""

COMPLETED = "Completed"
OPEN_GOALS = "Incomplete: open goals remain"


def is_sorry_warning(text: str) -> bool:
    """True for either spelling of Lean's "declaration uses sorry" warning."""
    return SORRY_WARNING.search(text) is not None


def errors(response: Response) -> list[str]:
    """Every error text of a response: the LeanError message or error-severity messages."""
    if isinstance(response, LeanError):
        return [response.message]
    return [m.data for m in response.messages if m.severity == "error"]


def sorry_warnings(response: Response) -> list[str]:
    """Messages that are the "declaration uses sorry" warning, either spelling."""
    if isinstance(response, LeanError):
        return []
    return [m.data for m in response.messages if is_sorry_warning(m.data)]


StepKind = Literal["progress", "completed", "rejected"]


@dataclass(frozen=True, slots=True)
class StepJudgement:
    """What one tactic step means: ``progress`` (goals remain, nothing wrong), ``completed``
    (kernel-checked, proofStatus Completed) or ``rejected`` with the ``reason``."""

    kind: StepKind
    reason: str = ""
    goals: tuple[str, ...] = ()


def judge_step(response: Response) -> StepJudgement:
    """Apply the step rules from the module docstring to a tactic-mode response."""
    if isinstance(response, CommandResponse):
        return StepJudgement("rejected", "a command response is not a tactic step")
    if isinstance(response, LeanError):
        return StepJudgement("rejected", response.message)
    errs = errors(response)
    if errs:
        return StepJudgement("rejected", errs[0])
    if response.sorries:
        return StepJudgement("rejected", "the tactic introduced `sorry`")
    if sorry_warnings(response):
        return StepJudgement("rejected", "declaration uses sorry")
    status = response.proof_status
    if not response.goals:
        if status == COMPLETED:
            return StepJudgement("completed", COMPLETED)
        if status is None:
            return StepJudgement("rejected", "goals closed but the REPL sent no proofStatus "
                                 "(REPL before PR #63): the kernel check cannot be confirmed")
        return StepJudgement("rejected", f"goals closed but proofStatus is {status!r}")
    if status is None or status == OPEN_GOALS:
        return StepJudgement("progress", status or "", response.goals)
    return StepJudgement("rejected", f"proofStatus {status!r} with goals remaining")


MAX_ERRORS_SHOWN = 8
"""Most error messages one command judgement quotes (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class CommandJudgement:
    """A command checked as a whole proof: ``ok`` iff no error, no sorry, no sorry warning."""

    ok: bool
    reason: str = ""


def judge_command(response: Response) -> CommandJudgement:
    """Whole-proof rule for a command response (checklist step 3)."""
    if isinstance(response, ProofStepResponse):
        return CommandJudgement(False, "a tactic response is not a command result")
    errs = errors(response)
    if errs:  # every error, in Lean's order: a repair prompt needs all of them, not the first
        shown = errs[:MAX_ERRORS_SHOWN]
        more = len(errs) - len(shown)
        return CommandJudgement(False, "\n".join(shown) + (f"\n(and {more} more errors)"
                                                            if more else ""))
    if response.sorries:
        return CommandJudgement(False, "the proof contains `sorry`")
    if sorry_warnings(response):
        return CommandJudgement(False, "declaration uses sorry")
    return CommandJudgement(True)


def root_sorry(response: Response) -> Sorry:
    """The single proof state opened by ``<statement> := by sorry``. Raises ValueError when the
    command failed or did not open exactly one sorry with a proof state."""
    if isinstance(response, ProofStepResponse):
        raise ValueError("a tactic response does not open a theorem")
    errs = errors(response)
    if errs:
        raise ValueError(f"the statement does not elaborate: {errs[0]}")
    assert isinstance(response, CommandResponse)
    if len(response.sorries) != 1 or response.sorries[0].proof_state is None:
        raise ValueError(f"expected exactly one sorry in the statement command, got "
                         f"{len(response.sorries)}")
    return response.sorries[0]
