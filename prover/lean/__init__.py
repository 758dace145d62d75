"""Lean 4 backends: the Lean REPL (client, pool, search Environment), the trust audit, and
lean-dojo's Dojo (optional extra, imported lazily).

Nothing here touches the network or starts Lean at import time.

* :mod:`prover.lean.protocol`: typed REPL requests/responses, header splitting and docstring
  handling; :mod:`prover.lean.judge`: the step/command verdict rules;
* :mod:`prover.lean.repl`: :class:`LeanRepl` (one process: memory wrapper, framed replies, one
  import block per process); :mod:`prover.lean.pool`: :class:`HeaderPool` (warm processes per
  import block, LRU, recycling) and the older :class:`LeanReplPool`;
* :mod:`prover.lean.env`: :class:`LeanReplEnv`, the search Environment;
* :mod:`prover.lean.audit`: ``audit(statement, proof, repl) -> AuditReport`` (checks in a REPL:
  :mod:`prover.lean.audit_lean`; result types and the verdict rule: :mod:`prover.lean.audit_report`);
* :mod:`prover.lean.dojo`: :class:`LeanDojoEnv` over ``lean_dojo.Dojo``;
* :mod:`prover.lean.doctor`: the installed Lean's versions and ``proofgraph doctor``'s checks.
"""

from prover.lean.audit import audit, lint_body
from prover.lean.audit_report import AuditPolicy, AuditReport, CheckResult
from prover.lean.dojo import (
    DojoNotTraced,
    DojoUnavailable,
    LeanDojoEnv,
    load_lean_dojo,
    make_theorem,
)
from prover.lean.env import LeanProofPath, LeanReplEnv
from prover.lean.judge import StepJudgement, judge_command, judge_step
from prover.lean.pool import HeaderPool, LeanReplPool
from prover.lean.protocol import (
    Command,
    CommandResponse,
    LeanError,
    ProofStep,
    ProofStepResponse,
)
from prover.lean.repl import (
    LeanRepl,
    LeanSetupError,
    LeanUnavailable,
    ReplConfig,
    ReplCrashed,
    ReplError,
    ReplFramingError,
    ReplTimeout,
)

__all__ = [
    "AuditPolicy",
    "AuditReport",
    "CheckResult",
    "Command",
    "CommandResponse",
    "DojoNotTraced",
    "DojoUnavailable",
    "HeaderPool",
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
    "ReplFramingError",
    "ReplTimeout",
    "StepJudgement",
    "audit",
    "judge_command",
    "judge_step",
    "lint_body",
    "load_lean_dojo",
    "make_theorem",
]
