"""Search algorithms over the Environment and Policy protocols; imports nothing of proofgraph's.

``best_first_search(env, policy, SearchConfig(...)) -> SearchResult`` is batched best-first
proof search over a DAG of states (a transposition table keyed by normalised goal text).
"""

from search.best_first import STOP_REASONS, SearchConfig, SearchResult, best_first_search
from search.protocols import (
    Candidate,
    Crashed,
    Environment,
    Failed,
    Outcome,
    Policy,
    Progress,
    Proved,
    State,
    Timeout,
    normalize_goal,
)
from search.tree import EdgeRecord, NodeRecord

__all__ = [
    "STOP_REASONS",
    "Candidate",
    "Crashed",
    "EdgeRecord",
    "Environment",
    "Failed",
    "NodeRecord",
    "Outcome",
    "Policy",
    "Progress",
    "Proved",
    "SearchConfig",
    "SearchResult",
    "State",
    "Timeout",
    "best_first_search",
    "normalize_goal",
]
