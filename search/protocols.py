"""The two seams the search knows: :class:`Environment` and :class:`Policy`, and their values.

A :class:`State` is a frozen value that hashes and compares by its normalised goal text only,
so identical states reached by different paths are one search node (a transposition table).
Applying a tactic returns an :data:`Outcome`, a closed sum: failures a backend reports are
values (:class:`Failed`, :class:`Timeout`); only broken infrastructure raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

_SPACE = re.compile(r"\s+")


def normalize_goal(text: str) -> str:
    """Whitespace-normalised goal text: the identity of a state."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class State:
    """A proof state: ``text`` is its pretty-printed goals (identity), ``goals`` the goals one by
    one, and ``handle`` the backend's own reference (REPL proof-state id, Z3 goal objects...),
    which takes no part in equality or hashing."""

    text: str
    goals: tuple[str, ...] = ()
    handle: Any = field(default=None, compare=False, hash=False, repr=False)
    key: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", normalize_goal(self.text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True)
class Progress:
    """The tactic succeeded and left goals to prove."""

    state: State


@dataclass(frozen=True)
class Proved:
    """The tactic closed every goal; ``evidence`` is the backend's certificate (plain JSON)."""

    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The backend rejected the tactic (error message, parse failure, Z3 unknown, sorry...)."""

    reason: str


@dataclass(frozen=True)
class Timeout:
    """The tactic exceeded its per-tactic budget (the backend was interrupted or restarted)."""

    budget_s: float


@dataclass(frozen=True)
class Crashed:
    """The backend process died while applying the tactic; the search may go on elsewhere."""

    message: str


Outcome = Progress | Proved | Failed | Timeout | Crashed


@dataclass(frozen=True)
class Candidate:
    """A proposed tactic with its log-probability under the policy (0.0 for symbolic ones)."""

    tactic: str
    logprob: float = 0.0


@runtime_checkable
class Environment(Protocol):
    """A proving backend. ``apply`` must be safe to call for any state it returned earlier.

    ``max_concurrency`` says how many ``apply`` calls may run at once (1 = sequential).
    """

    max_concurrency: int

    def initial_state(self) -> State:
        """The theorem's initial proof state."""
        ...

    def apply(self, state: State, tactic: str, budget_s: float) -> Outcome:
        """Run ``tactic`` on ``state`` within ``budget_s`` seconds of wall time."""
        ...


@runtime_checkable
class Policy(Protocol):
    """Proposes tactics for many states in one call (one batch for a GPU server)."""

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """Up to ``k`` candidates for each state, in the order of ``states``."""
        ...
