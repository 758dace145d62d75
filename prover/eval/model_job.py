"""What the jobs that drive a model share (``eval`` search and whole mode, ``prove``): a run's
identity from the options alone, and one shape for a job sent to a worker.

**Identity.** A run is named by what was asked for: the backend, the policy spec, the backend
family, the sampling parameters (:class:`~prover.policy.sampling.SamplingParams` with the
base seed), the policy-side prompt template when the job sets one, the search budgets and the
job's own extras (:func:`run_config`). It is never named by what a loaded model says about
itself, so the parent of ``--workers N``/``--ray`` names the run without building the model it
never calls, and a run has the same id in one process and on workers. What the loaded model
reports (:func:`~prover.policy.registry.describe_policy`: revision, device, library versions)
goes into every row's provenance, written by the process that built the model.

**Worker shape.** :meth:`ModelJob.__getstate__` sends the job's plain settings only: every
attribute named in :attr:`ModelJob.LOCAL` (model objects, batching queues and their threads,
locks, environment wrappers) goes as ``None``, the reporter becomes
:func:`~prover.records.job.report_to_stderr` (the caller's is often a closure) and
``in_worker`` is set. A value that still cannot cross (an open file, a thread, a lock) raises
TypeError naming the attribute. On load :meth:`ModelJob.local_parts` rebuilds what is not the
model; the model itself is built by the job's ``start`` where :attr:`ModelJob.builds_model`.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import asdict, replace
from typing import Any

from prover.policy.prompts import PromptTemplate
from prover.policy.registry import PolicySpecError, check_spec
from prover.policy.sampling import sampling_from
from prover.proving import ProveError
from prover.records.job import Job, report_to_stderr

_UNSENDABLE = (io.IOBase, threading.Thread, type(threading.Lock()), type(threading.RLock()),
               threading.Condition, threading.Event)


def policy_identity(spec: str, family: str, seed: int | None, *,
                    temperature: float | None = None, max_tokens: int | None = None,
                    prompt: PromptTemplate | None = None) -> dict[str, Any]:
    """The policy part of a run's identity, built without the policy (module docstring).
    Raises :class:`ProveError` for a spec naming no known policy, a local model that is not
    on this machine (:func:`~prover.policy.registry.check_spec`), or bad sampling values."""
    try:
        check_spec(spec)
    except PolicySpecError as err:
        raise ProveError(str(err)) from None
    given = {k: v for k, v in (("temperature", temperature), ("max_tokens", max_tokens))
             if v is not None}
    try:
        params = sampling_from(None, {**given, "seed": seed})
    except ValueError as err:
        raise ProveError(str(err)) from err
    out: dict[str, Any] = {"spec": spec, "family": family, "sampling": params.to_dict()}
    if prompt is not None:
        out["prompt"] = prompt.describe()
    return out


def run_config(backend: str, policy: dict[str, Any], search: Any,
               **extra: Any) -> dict[str, Any]:
    """The settings that name a run of a model job: ``backend``, ``policy``
    (:func:`policy_identity`), the search budgets (a dataclass), ``limit`` (always ``None``:
    ``--limit`` does not name a run) and the job's ``extra`` settings, as plain JSON values."""
    config = {"backend": backend, "policy": policy, "search": asdict(search), "limit": None,
              **extra}
    return json.loads(json.dumps(config, default=str))


class ModelJob(Job):
    """Base of the jobs that build a model policy (module docstring). A subclass sets
    ``opts`` (a dataclass with a ``report`` field), :attr:`LOCAL`, and :attr:`remote`."""

    #: attributes that stay in the process that made them (sent to a worker as ``None``)
    LOCAL: tuple[str, ...] = ()
    #: set on the copy of the job that a worker process loads
    in_worker: bool = False
    opts: Any

    @property
    def remote(self) -> bool:
        """Whether the items run in worker processes or Ray actors (not in this process)."""
        raise NotImplementedError

    @property
    def builds_model(self) -> bool:
        """Whether this process builds the model: a worker, or a run without workers. The
        parent of a ``--workers``/``--ray`` run never does (it calls no model)."""
        return self.in_worker or not self.remote

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(dict.fromkeys(self.LOCAL), in_worker=True,
                     opts=replace(self.opts, report=report_to_stderr))
        for name, value in state.items():
            if isinstance(value, _UNSENDABLE):
                raise TypeError(f"{type(self).__name__}.{name} ({type(value).__name__}) "
                                "cannot be sent to a worker; list it in LOCAL")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.local_parts()

    def local_parts(self) -> None:
        """Rebuild, after loading in a worker, the :attr:`LOCAL` parts that are not the model
        (locks, environment wrappers); the model is built by ``start``."""
