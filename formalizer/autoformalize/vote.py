"""LINC-style majority vote over the entailment answers of surviving FOL translations.

Only decided answers vote (True / False / Uncertain); ``Inconsistent`` (contradictory premise
formulas: never counted as True, unlike LINC) and ``Unknown`` (Z3 gave up: never folded into
Uncertain) are counted but do not vote. A tie has no majority.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from formalizer.autoformalize.targets.base import Candidate

VOTING = ("True", "False", "Uncertain")


def entailment_vote(candidates: Sequence[Candidate]) -> dict[str, Any]:
    """``{"counts", "voters", "majority", "share"}`` over ``candidates``' entailment answers."""
    counts = Counter(str((c.info.get("entailment") or {}).get("answer")) for c in candidates
                     if c.ok)
    votes = {a: counts.get(a, 0) for a in VOTING}
    voters = sum(votes.values())
    top = max(votes.values()) if voters else 0
    leaders = [a for a, v in votes.items() if v == top and top > 0]
    majority = leaders[0] if len(leaders) == 1 else None
    return {"counts": dict(sorted(counts.items())), "voters": voters, "majority": majority,
            "share": round(top / voters, 4) if voters else None,
            "note": "Inconsistent and Unknown answers do not vote" if
            counts.get("Inconsistent") or counts.get("Unknown") else ""}
