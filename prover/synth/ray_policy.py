"""The shared LLM policy of a Ray pool: one async actor owns the policy and merges the
``propose`` calls of every environment actor into batches; a picklable proxy asks it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from search.protocols import Candidate, State


def _ray() -> Any:
    import ray

    return ray


class PolicyService:
    """An async actor owning one policy; ``propose`` calls that arrive while a batch runs (or
    within ``window_s``) are merged into the next ``policy.propose`` call."""

    def __init__(self, spec: str, family: str, seed: int, window_s: float = 0.005) -> None:
        from prover.policy.registry import describe_policy, make_policy

        self.policy = make_policy(spec, family, seed)
        self.info = describe_policy(self.policy, spec)
        self.window_s = window_s
        self.waiting: list[tuple[list[State], int, asyncio.Future[Any]]] = []
        self.lock: asyncio.Lock | None = None
        self.batches: list[int] = []

    async def propose(self, states: list[tuple[str, tuple[str, ...]]],
                      k: int) -> list[list[tuple[str, float]]]:
        """Candidates ``(tactic, logprob)`` for each ``(text, goals)`` state."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.waiting.append(([State(text, tuple(goals)) for text, goals in states], k, future))
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if not future.done():
                await asyncio.sleep(self.window_s)
                await self._flush(loop)
        return await future

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self.waiting = self.waiting, []
        for k in sorted({k for _, k, _ in batch}):
            group = [(states, fut) for states, kk, fut in batch if kk == k]
            flat = [state for states, _ in group for state in states]
            try:
                out = await loop.run_in_executor(None, self.policy.propose, flat, k)
            except Exception as err:  # hand the failure to every caller of the batch
                for _, fut in group:
                    fut.set_exception(err)
                continue
            self.batches.append(len(flat))
            at = 0
            for states, fut in group:
                fut.set_result([[(c.tactic, float(c.logprob)) for c in cands]
                                for cands in out[at:at + len(states)]])
                at += len(states)

    def describe(self) -> dict[str, Any]:
        return dict(self.info)

    def stats(self) -> dict[str, Any]:
        """Policy calls made and states per call (mean, max)."""
        n = len(self.batches)
        return {"policy_calls": n, "states_per_call_mean": sum(self.batches) / n if n else 0.0,
                "states_per_call_max": max(self.batches, default=0)}


class PolicyProxy:
    """A picklable :class:`~search.protocols.Policy` that asks a :class:`PolicyService`."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        ray = _ray()
        out = ray.get(self.handle.propose.remote([(s.text, tuple(s.goals)) for s in states], k))
        return [[Candidate(tactic, logprob) for tactic, logprob in cands] for cands in out]

    def describe(self) -> dict[str, Any]:
        return {**_ray().get(self.handle.describe.remote()), "served_by": "ray-policy-actor"}
