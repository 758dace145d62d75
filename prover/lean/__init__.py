"""Lean 4 backends: the Lean REPL (client, pool, search Environment), the trust audit, and
lean-dojo's Dojo (optional extra, imported lazily).

Nothing here touches the network or starts Lean at import time.

* :mod:`prover.lean.protocol`: typed REPL requests/responses and the step/command verdict rules;
* :mod:`prover.lean.repl`: :class:`LeanRepl`, :class:`LeanReplPool`; :mod:`prover.lean.env`: :class:`LeanReplEnv`;
* :mod:`prover.lean.audit`: ``audit(statement, proof, repl) -> AuditReport``;
* :mod:`prover.lean.dojo`: :class:`LeanDojoEnv` over ``lean_dojo.Dojo``.
"""

from prover.lean.audit import AuditPolicy, AuditReport, CheckResult, audit, lint_body
from prover.lean.dojo import DojoUnavailable, LeanDojoEnv, load_lean_dojo, make_theorem
from prover.lean.env import LeanProofPath, LeanReplEnv
from prover.lean.protocol import (
    Command,
    CommandResponse,
    LeanError,
    ProofStep,
    ProofStepResponse,
    StepJudgement,
    judge_command,
    judge_step,
)
from prover.lean.repl import (
    LeanRepl,
    LeanReplPool,
    LeanSetupError,
    LeanUnavailable,
    ReplConfig,
    ReplCrashed,
    ReplError,
    ReplTimeout,
)

__all__ = [
    "AuditPolicy",
    "AuditReport",
    "CheckResult",
    "Command",
    "CommandResponse",
    "DojoUnavailable",
    "LeanDojoEnv",
    "LeanError",
    "LeanProofPath",
    "LeanRepl",
    "LeanReplEnv",
    "LeanReplPool",
    "LeanSetupError",
    "LeanUnavailable",
    "ProofStep",
    "ProofStepResponse",
    "ReplConfig",
    "ReplCrashed",
    "ReplError",
    "ReplTimeout",
    "StepJudgement",
    "audit",
    "judge_command",
    "judge_step",
    "lint_body",
    "load_lean_dojo",
    "make_theorem",
]
