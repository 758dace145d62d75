"""The Ray executor: environment actors run a task's items; an LLM policy is one shared actor.

``RayPool.run`` has the contract of :meth:`prover.synth.executor.LocalPool.run`: it yields a
``Done`` per item as items finish, with at most one item in flight per environment actor
(``ray.wait`` backpressure), and only the caller writes. Each environment actor (``num_cpus=1``)
holds the task and calls ``task.run``; an actor that exceeds the per-item timeout is killed
(the item fails with ``timeout``) and one that dies fails its item with ``worker-died``; a new
actor takes its place. When the task's policy is a model (not ``symbolic``), or when
``shared_policy`` is set, one :class:`PolicyService` actor owns the policy and the tasks in the
environment actors get a :class:`PolicyProxy`: concurrent ``propose`` calls from every actor
are merged into one batch, so a GPU server sees large batches. The Z3 symbolic policy reads
backend handles that cannot cross processes, so it stays inside each actor by default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from prover.synth.executor import Done, PoolOptions, run_item
from prover.synth.task import SynthTask, TaskOutput
from search.protocols import Candidate, State

_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("proofgraph", "prover", "search", "formalizer")


def _ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise RuntimeError('--ray needs Ray: pip install "ray==2.60.0"') from err
    return ray


def runtime_env(address: str | None) -> dict[str, Any]:
    """How Ray workers import our code: PYTHONPATH on this machine, or the packages shipped
    as ``py_modules`` to an existing cluster."""
    if address is None:
        return {"env_vars": {"PYTHONPATH": str(_ROOT)}}
    return {"py_modules": [str(_ROOT / name) for name in _PACKAGES]}


class EnvActor:
    """Holds the task in one Ray worker process and runs items (``run_item`` semantics).

    No ``RLIMIT_AS`` here: a Ray worker maps large virtual regions of its own (object store,
    gRPC arenas) and aborts when they fail; Ray's memory monitor kills workers instead, which
    fails the item with ``worker-died`` (so ``--worker-mem-gb`` applies to the local pool).
    """

    def __init__(self, task: SynthTask) -> None:
        self.task = task

    def run(self, key: str, payload: dict[str, Any]) -> tuple[str, TaskOutput, str | None]:
        output, detail = run_item(self.task, key, payload)
        return key, output, detail


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


class RayPool:
    """Runs a task's items on Ray actors; see the module docstring."""

    def __init__(self, task: SynthTask, opts: PoolOptions, *, address: str | None = None,
                 shared_policy: bool | None = None) -> None:
        self.task = task
        self.opts = opts
        self.address = address
        self.shared_policy = shared_policy
        self.policy_stats: dict[str, Any] | None = None
        self._owns_ray = False

    def _start(self) -> tuple[Any, Any, Any]:
        ray = _ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"runtime_env": runtime_env(self.address),
                                      "include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if self.address is None:
                kwargs["num_cpus"] = self.opts.workers
            else:
                kwargs["address"] = self.address
            ray.init(**kwargs)
            self._owns_ray = True
        env_cls = ray.remote(num_cpus=1, max_restarts=0)(EnvActor)
        task, service = self.task, None
        spec = getattr(task, "policy_service", lambda: None)()
        if spec is not None and (self.shared_policy or (
                self.shared_policy is None and spec[0].split(":")[0] != "symbolic")):
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            service = ray.remote(num_cpus=0, num_gpus=gpus, max_concurrency=64)(
                PolicyService).remote(*spec)
            task = task.with_policy(PolicyProxy(service))  # type: ignore[attr-defined]
        return ray, env_cls, (task, service)

    def run(self, items: Iterable[tuple[int, str, dict[str, Any]]]) -> Iterator[Done]:
        """Yield a :class:`Done` per item as items finish (any order)."""
        ray, env_cls, (task, service) = self._start()
        task_ref = ray.put(task)
        actors = [env_cls.remote(task_ref) for _ in range(self.opts.workers)]
        running: dict[Any, tuple[int, int, str, float]] = {}  # ref -> (actor, seq, key, t0)
        source = iter(items)
        idle = list(range(len(actors)))
        exhausted = False
        try:
            while True:
                while idle and not exhausted:
                    nxt = next(source, None)
                    if nxt is None:
                        exhausted = True
                        break
                    seq, key, payload = nxt
                    slot = idle.pop()
                    running[actors[slot].run.remote(key, payload)] = (slot, seq, key,
                                                                      time.monotonic())
                if not running:
                    break
                ready, _ = ray.wait(list(running), num_returns=1, timeout=self._wait_s(running))
                for ref in ready:
                    slot, seq, key, _ = running.pop(ref)
                    idle.append(slot)
                    try:
                        _, output, detail = ray.get(ref)
                    except ray.exceptions.RayActorError as err:
                        actors[slot] = env_cls.remote(task_ref)
                        output, detail = TaskOutput([], False, "worker-died"), str(err)[:500]
                    yield Done(seq, key, output, detail)
                yield from self._expire(ray, env_cls, task_ref, actors, running, idle)
            if service is not None:
                self.policy_stats = ray.get(service.stats.remote())
        finally:
            for actor in actors:
                ray.kill(actor)
            if service is not None:
                ray.kill(service)
            if self._owns_ray:
                ray.shutdown()

    def _wait_s(self, running: dict[Any, tuple[int, int, str, float]]) -> float:
        if self.opts.item_timeout_s is None:
            return 5.0
        now = time.monotonic()
        left = min(t0 + self.opts.item_timeout_s - now for _, _, _, t0 in running.values())
        return max(0.0, min(left, 5.0))

    def _expire(self, ray: Any, env_cls: Any, task_ref: Any, actors: list[Any],
                running: dict[Any, tuple[int, int, str, float]],
                idle: list[int]) -> Iterator[Done]:
        """Kill the actors whose item ran past the timeout and fail those items."""
        timeout = self.opts.item_timeout_s
        if timeout is None:
            return
        now = time.monotonic()
        for ref, (slot, seq, key, t0) in list(running.items()):
            if now - t0 >= timeout:
                del running[ref]
                ray.kill(actors[slot])
                actors[slot] = env_cls.remote(task_ref)
                idle.append(slot)
                yield Done(seq, key, TaskOutput([], ok=False, reason="timeout"),
                           f"actor killed after {timeout:g} s")
