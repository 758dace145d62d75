"""Policies: proposers of tactics for proof states (:class:`~search.protocols.Policy`).

``symbolic`` is the model-free portfolio (the offline default, imported here); the model
policies (``hf``, ``openai_client``, ``vllm_engine``) import their heavy dependencies only
when built, and are imported from their own modules.
"""

from prover.policy.symbolic import SymbolicPolicy

__all__ = ["SymbolicPolicy"]
