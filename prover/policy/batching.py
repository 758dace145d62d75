"""Many searches, one policy: a batching queue in front of any :class:`~search.protocols.Policy`.

K theorem searches run at once (one thread each); each gets its own :class:`SearchPolicy` from
:meth:`BatchingPolicy.session` carrying the search's seed. For an in-process model (``hf``,
``vllm``) their ``propose`` calls meet in one queue: the first call opens a window of
``window_s`` seconds; calls arriving in it (up to ``max_batch`` states, and at once when every
open session is waiting) are merged into ONE underlying generate call and the results are
split back to the callers. The OpenAI-compatible policy and the symbolic one are not merged:
their calls run in the caller's thread, so K searches put K concurrent requests on the server,
which batches them continuously.

Determinism: every state is sampled under a seed that is a function of the search's seed and
the state alone (:func:`~prover.policy.sampling.state_seed`), never of the batch it shares;
the policies implement it in ``propose_seeded`` (:class:`~prover.policy.sampling.SampledPolicy`):
- ``symbolic``: deterministic, no sampling.
- ``vllm`` (in-process) and ``openai``: each prompt carries its own sampling seed
  (``request_seed(search seed, prompt)``); vLLM samples each seeded request with its own
  generator, so a state's samples do not depend on the batch.
- ``hf`` with ``decoding="sample"``: ``generate`` has one global RNG per call, so this module
  samples each row itself (:class:`RowSampler`, a logits processor drawing from a per-row
  ``torch.Generator`` seeded by (search seed, state, sample index), with greedy decoding picking
  the drawn token). A row's draws are then the same in any batch. What remains batch-dependent
  is floating-point: a padded batch can change a logit in the last bits, which changes a drawn
  token only when the uniform draw falls within that rounding distance of a CDF boundary.
  ``decoding="beam"`` is deterministic up to the same effect.
- any other policy: merged, but its proposals may depend on the batch (``describe`` says
  ``deterministic: false``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from prover.policy.sampling import state_seed
from search.protocols import Candidate, State

__all__ = ["BatchingPolicy", "CallStats", "Mode", "SearchPolicy", "attempt_seed",
           "propose_seeded", "state_seed"]

def attempt_seed(base: int, theorem: str, attempt: int) -> int:
    """The recorded seed of attempt ``attempt`` at theorem ``theorem`` (a 31-bit int)."""
    digest = hashlib.sha256(f"{base}\0{theorem}\0{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class Mode:
    """How the queue treats one policy: ``kind`` (provenance), ``merge`` (calls of different
    searches merged into one), ``deterministic`` (a state's proposals independent of its
    batch). Read from the policy's own attributes, never from a table of type names."""

    kind: str
    merge: bool
    deterministic: bool

    @classmethod
    def of(cls, policy: Any) -> Mode:
        """``name``, ``merge_calls`` (default True) and ``deterministic`` (default: whether
        the policy has ``propose_seeded``) of ``policy``."""
        seeded = callable(getattr(policy, "propose_seeded", None))
        kind = str(getattr(policy, "name", "") or type(policy).__name__)
        return cls(kind, bool(getattr(policy, "merge_calls", True)),
                   bool(getattr(policy, "deterministic", seeded)))


def propose_seeded(policy: Any, states: Sequence[State], k: int,
                   seeds: Sequence[int]) -> list[list[Candidate]]:
    """``policy``'s proposals for ``states``, state ``i`` under search seed ``seeds[i]`` when
    the policy takes seeds (:class:`~prover.policy.sampling.SampledPolicy`), else its plain
    ``propose``."""
    seeded = getattr(policy, "propose_seeded", None)
    if callable(seeded):
        return seeded(states, k, seeds)
    return policy.propose(states, k)


# --------------------------------------------------------------------------- the queue
@dataclass
class _Request:
    states: list[State]
    k: int
    seeds: list[int]
    future: Future[list[list[Candidate]]] = field(default_factory=Future)


@dataclass
class CallStats:
    """What a model saw, one record for every caller: the batching queue (``unit="states"``,
    a request per search's call) and whole-proof rounds (``unit="rows"``, with ``checks``:
    the final checker's time and proofs). Not thread-safe: the caller serialises updates."""

    unit: str = "states"
    checks: bool = False
    calls: int = 0
    items: int = 0
    requests: int = 0
    max_items: int = 0
    model_s: float = 0.0
    sizes: dict[int, int] = field(default_factory=dict)
    check_s: float = 0.0
    checked: int = 0

    def add_call(self, items: int, seconds: float, requests: int = 1) -> None:
        """One underlying model call of ``items`` states/rows for ``requests`` callers."""
        self.calls += 1
        self.items += items
        self.requests += requests
        self.max_items = max(self.max_items, items)
        self.sizes[items] = self.sizes.get(items, 0) + 1
        self.model_s += seconds

    def add_check(self, seconds: float, proof: bool) -> None:
        """One final check that took ``seconds`` (``proof``: a proof was there to check)."""
        self.check_s += seconds
        self.checked += proof

    def to_dict(self) -> dict[str, Any]:
        """``model_calls``, ``<unit>`` (total), ``requests``, ``mean_batch``,
        ``max_batch_seen``, ``model_s``, ``batch_sizes`` (+ ``check_s``, ``proofs_checked``
        with ``checks``)."""
        mean = self.items / self.calls if self.calls else 0.0
        out: dict[str, Any] = {
            "model_calls": self.calls, self.unit: self.items, "requests": self.requests,
            "mean_batch": round(mean, 3), "max_batch_seen": self.max_items,
            "model_s": round(self.model_s, 3),
            "batch_sizes": {str(k): v for k, v in sorted(self.sizes.items())}}
        if self.checks:
            out.update(check_s=round(self.check_s, 3), proofs_checked=self.checked)
        return out


class BatchingPolicy:
    """The shared queue (see the module docstring). Use :meth:`session` per search; call
    :meth:`close` (or use it as a context manager) to stop its thread."""

    def __init__(self, policy: Any, *, window_s: float = 0.01, max_batch: int = 64) -> None:
        if window_s < 0 or max_batch < 1:
            raise ValueError("need window_s >= 0 and max_batch >= 1")
        self.policy = policy
        self.mode = Mode.of(policy)
        self.window_s = window_s
        self.max_batch = max_batch
        self.stats = CallStats()
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._open = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- sessions
    @contextmanager
    def session(self, seed: int) -> Iterator[SearchPolicy]:
        """A :class:`SearchPolicy` for one search seeded ``seed``, open while in the block."""
        with self._cond:
            self._open += 1
        try:
            yield SearchPolicy(self, seed)
        finally:
            with self._cond:
                self._open -= 1
                self._cond.notify_all()

    def submit(self, states: Sequence[State], k: int, seed: int) -> list[list[Candidate]]:
        """Proposals for ``states`` of the search seeded ``seed`` (merged with other searches'
        calls when the policy's mode merges; else in this thread)."""
        if not states:
            return []
        request = _Request(list(states), k, [seed] * len(states))
        if not self.mode.merge:
            self._run([request])
            return request.future.result()
        with self._cond:
            if self._closed:
                raise RuntimeError("the batching policy is closed")
            self._queue.append(request)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="batching-policy",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return request.future.result()

    # ---------------------------------------------------------------- the worker
    def _loop(self) -> None:
        while True:
            batch = self._collect()
            if batch is None:
                return
            self._run(batch)

    def _collect(self) -> list[_Request] | None:
        """The next merged batch: wait for a first request, then up to ``window_s`` for more
        (not longer once every open session is waiting or ``max_batch`` states are in)."""
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            deadline = time.monotonic() + self.window_s
            while True:
                queued = sum(len(r.states) for r in self._queue)
                if (queued >= self.max_batch or len(self._queue) >= self._open
                        or self._closed):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            k = self._queue[0].k
            batch: list[_Request] = []
            size = 0
            rest: list[_Request] = []
            for request in self._queue:
                fits = not batch or size + len(request.states) <= self.max_batch
                if request.k == k and fits:
                    batch.append(request)
                    size += len(request.states)
                else:
                    rest.append(request)
            self._queue = rest
            return batch

    def _run(self, batch: list[_Request]) -> None:
        states = [s for r in batch for s in r.states]
        seeds = [seed for r in batch for seed in r.seeds]
        started = time.perf_counter()
        try:
            out = propose_seeded(self.policy, states, batch[0].k, seeds)
            if len(out) != len(states):
                raise ValueError(f"policy returned {len(out)} candidate lists for "
                                 f"{len(states)} states")
        except BaseException as exc:  # every caller of the batch gets the error
            for request in batch:
                request.future.set_exception(exc)
            return
        with self._cond:
            self.stats.add_call(len(states), time.perf_counter() - started, len(batch))
        at = 0
        for request in batch:
            request.future.set_result(out[at:at + len(request.states)])
            at += len(request.states)

    def close(self) -> None:
        """Stop the worker thread once the queue is empty, then close the inner policy
        (idempotent)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        closer = getattr(self.policy, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> BatchingPolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """The inner policy's provenance plus how calls were batched and seeded."""
        describe = getattr(self.policy, "describe", None)
        info = dict(describe()) if callable(describe) else {}
        info["batching"] = {"adapter": self.mode.kind, "merged": self.mode.merge,
                            "window_s": self.window_s, "max_batch": self.max_batch,
                            "deterministic": self.mode.deterministic,
                            "seeding": "per state: f(search seed, state)"}
        return info


class SearchPolicy:
    """The :class:`~search.protocols.Policy` one search sees: its calls go to the shared
    queue under this search's seed."""

    def __init__(self, shared: BatchingPolicy, seed: int) -> None:
        self.shared = shared
        self.seed = seed

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """Up to ``k`` candidates per state, in the order of ``states``."""
        return self.shared.submit(states, k, self.seed)
