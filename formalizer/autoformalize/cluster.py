"""Self-consistency: group surviving candidates into equivalence clusters and rank them.

Greedy and deterministic: candidates are visited best logprob first; each joins the first
cluster whose representative (its first member) it is proved equivalent to, or whose
representative has the same normalised formal text; otherwise it founds a cluster. Clusters
rank by (blocking flag last, size descending, mean logprob descending, first index); a
cluster is blocked when its representative is flagged vacuous or negation-provable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from formalizer.autoformalize.targets.base import Candidate, Equivalence

BLOCKING_FLAGS = ("vacuous", "negation_provable")


def normalized(text: str) -> str:
    """Formal text with all whitespace runs collapsed (the identity used without a checker)."""
    return " ".join(text.split())


@dataclass
class Cluster:
    """Members (candidate indices), the comparisons made, and the rank once ranked."""

    id: int
    members: list[int]
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    rank: int = 0
    mean_logprob: float | None = None
    blocked: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {"id": self.id, "members": list(self.members), "size": len(self.members),
                "mean_logprob": self.mean_logprob, "rank": self.rank,
                "blocked_by": list(self.blocked), "comparisons": list(self.comparisons)}


def _order(c: Candidate) -> tuple[float, int]:
    return (-(c.logprob if math.isfinite(c.logprob) else -math.inf), c.index)


def cluster_candidates(candidates: Sequence[Candidate],
                       same: Callable[[Candidate, Candidate], Equivalence] | None
                       ) -> list[Cluster]:
    """Clusters of ``candidates`` (each gets ``.cluster``); ``same`` None means text identity
    only (no equivalence checker available)."""
    clusters: list[Cluster] = []
    reps: list[Candidate] = []
    for cand in sorted(candidates, key=_order):
        assert cand.formal is not None
        joined = None
        for cluster, rep in zip(clusters, reps, strict=True):
            assert rep.formal is not None
            if normalized(rep.formal) == normalized(cand.formal):
                cluster.comparisons.append({"candidate": cand.index, "with": rep.index,
                                            "same": True, "reason": "identical formal text"})
                joined = cluster
                break
            if same is None:
                continue
            verdict = same(rep, cand)
            cluster.comparisons.append({"candidate": cand.index, "with": rep.index,
                                        "same": verdict.same, "reason": verdict.reason})
            if verdict.same:
                joined = cluster
                break
        if joined is None:
            joined = Cluster(len(clusters), [])
            clusters.append(joined)
            reps.append(cand)
        joined.members.append(cand.index)
        cand.cluster = joined.id
    return clusters


def rank_clusters(clusters: list[Cluster], by_index: dict[int, Candidate]) -> list[Cluster]:
    """Set ``rank`` (0 = best), ``mean_logprob`` and ``blocked`` on each; returns them ranked."""
    for cluster in clusters:
        lps = [by_index[i].logprob for i in cluster.members]
        finite = [lp for lp in lps if math.isfinite(lp)]
        cluster.mean_logprob = sum(finite) / len(finite) if finite else None
        rep = by_index[cluster.members[0]]
        cluster.blocked = [name for name in BLOCKING_FLAGS
                           if (rep.flags.get(name) or {}).get("value") is True]
    ranked = sorted(clusters, key=lambda c: (bool(c.blocked), -len(c.members),
                                             -(c.mean_logprob if c.mean_logprob is not None
                                               else -math.inf), c.id))
    for rank, cluster in enumerate(ranked):
        cluster.rank = rank
    return ranked
