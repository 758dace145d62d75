"""The contract between a synthetic-data task and the executor that runs it.

A task lists its items (stable keys, input order) and turns one item into rows. ``run`` must be
a pure function of the item and the task's configuration: the executor may call it in another
process or on another Ray node, may call it again after a crash, and keeps only the output of
the call whose item commit succeeded. Task objects are therefore picklable and open heavy
resources (models, solvers) lazily inside ``run``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.error import URLError

#: Why an item failed: ``infra`` (the machinery broke: a service was unreachable, the worker
#: died or was killed, the whole item ran out of time or memory; a resumed run retries it) or
#: ``content`` (the item itself is bad or unprovable; kept until ``--retry-failed``).
FailureKind = Literal["infra", "content"]
#: The executors' own failure reasons (always ``infra``).
INFRA_REASONS = frozenset({"timeout", "worker-died", "memory"})
_NETWORK_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED,
                             errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                             errno.EPIPE, errno.ENETDOWN, errno.EHOSTDOWN})


class InfraError(RuntimeError):
    """Raised by a task when infrastructure it needs is unavailable (a model server, a backend
    process): the item fails with kind ``infra`` and a resumed run retries it."""


@dataclass
class TaskOutput:
    """The result of one item: its rows (plain JSON dicts, each with a ``kind``), whether the
    item succeeded, a short failure reason (summed by reason in the run summary) and, for a
    failure, its :data:`FailureKind` (None: decided by the executor, ``content`` by default)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    reason: str | None = None
    kind: FailureKind | None = None
    #: ``(hash, kind, canonical JSON)`` per finished row, set in the worker (then ``rows`` is
    #: emptied so only text crosses the process boundary); see :mod:`prover.synth.item`.
    finished: list[tuple[str, str, str]] | None = None

    @property
    def failure_kind(self) -> FailureKind | None:
        """None for a success, else the failure's kind: ``content`` unless marked ``infra``
        (the executors mark their own failures: timeout, worker-died, memory)."""
        if self.ok:
            return None
        return self.kind or "content"


def is_infra_exception(err: BaseException) -> bool:
    """True when ``err`` (or an exception it was raised from or wraps, including a Ray task
    error's ``cause``) means unavailable infrastructure rather than a bad item: an
    :class:`InfraError`, a policy request error (model server down or refusing), a connection
    or network error, or a ``TimeoutError``."""
    from prover.policy.openai_client import PolicyRequestError  # only on the failure path

    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, (InfraError, ConnectionError, TimeoutError)):
            return True
        if isinstance(exc, (PolicyRequestError, URLError)):
            return True
        if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
            return True
        cause = getattr(exc, "cause", None)
        todo += [exc.__cause__, exc.__context__,
                 cause if isinstance(cause, BaseException) else None]
    return False


@runtime_checkable
class SynthTask(Protocol):
    """A synthetic-data job: ``items()`` then ``run(payload)`` per item."""

    name: str

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(key, payload)`` per item in input order; keys are unique and stable across runs."""
        ...

    def config(self) -> dict[str, Any]:
        """Everything that changes the rows (JSON-able); part of the run id, so a changed
        configuration starts a new run instead of mixing rows."""
        ...

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        """Rows for one item; raises only for bugs (bad items give ``ok=False`` and a reason)."""
        ...


@runtime_checkable
class SharedPolicyTask(Protocol):
    """Optional: a task whose searches ask a policy that an executor may serve from one shared
    process (Ray's policy actor batches the calls of every environment actor)."""

    def policy_service(self) -> tuple[str, str, int] | None:
        """``(policy spec, backend family, seed)`` to build the shared policy, or None."""
        ...

    def with_policy(self, policy: Any) -> SynthTask:
        """A copy of the task whose searches ask ``policy`` (a picklable proxy)."""
        ...
