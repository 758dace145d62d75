"""The Ray executor: environment actors run an item function; an LLM policy is one shared actor.

``RayPool.run`` has the contract of :meth:`prover.synth.executor.LocalPool.run`: it yields a
``Done`` per item as items finish, with at most ``prefetch`` calls of up to ``batch`` items
queued per environment actor (backpressure), and only the caller writes. Each environment actor
(``num_cpus=1``) holds the item function; an actor whose running call exceeds its timeout is
killed and one that dies is replaced; a single item then fails with ``timeout`` or, when its
actor died under it running it alone as often as the pools' one policy says
(:func:`prover.synth.executor.blame_death`), ``worker-died`` (kind ``infra``); a batch is
re-run one item per call, and the calls queued behind go to another actor. A local cluster this pool starts is recorded under ``state_dir``
and its leftovers after a SIGKILLed driver are reaped by the next start
(:mod:`prover.synth.ray_local`). When the task's policy is a model (not ``symbolic``), or when
``shared_policy`` is set, one :class:`~prover.synth.ray_policy.PolicyService` actor owns the policy and the tasks in the
environment actors get a :class:`~prover.synth.ray_policy.PolicyProxy`: concurrent ``propose`` calls from every actor
are merged into one batch, so a GPU server sees large batches. The Z3 symbolic policy reads
backend handles that cannot cross processes, so it stays inside each actor by default.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prover.synth import ray_local
from prover.synth.executor import Done, Item, ItemFn, PoolOptions, blame_death
from prover.synth.ray_local import RECORD, clear_record, reap_leftovers, record_cluster
from prover.synth.ray_policy import PolicyProxy, PolicyService
from prover.synth.task import TaskOutput

_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("proofgraph", "prover", "search", "formalizer")


def _ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise RuntimeError('--ray needs Ray: pip install "ray==2.60.0"') from err
    return ray


def runtime_env(address: str | None) -> dict[str, Any]:
    """How Ray workers import our code: PYTHONPATH on this machine
    (:func:`prover.synth.ray_local.import_path`), or the packages shipped as ``py_modules``
    to an existing cluster."""
    if address is None:  # this machine: our code and the driver's import path
        return {"env_vars": {"PYTHONPATH": ray_local.import_path()}}
    return {"py_modules": [str(_ROOT / name) for name in _PACKAGES]}


class EnvActor:
    """Holds the item function in one Ray worker process and runs items.

    No ``RLIMIT_AS`` here: a Ray worker maps large virtual regions of its own (object store,
    gRPC arenas) and aborts when they fail; Ray's memory monitor kills workers instead, which
    fails the item with ``worker-died`` (so ``--worker-mem-gb`` applies to the local pool).
    """

    def __init__(self, fn: ItemFn) -> None:
        self.fn = fn

    def run(self, key: str, payload: dict[str, Any]) -> tuple[str, TaskOutput, str | None]:
        output, detail = self.fn(key, payload)
        return key, output, detail

    def ready(self) -> bool:
        """Answered once the actor holds the item function (start-up is over)."""
        return True

    def run_many(self, items: list[tuple[str, dict[str, Any]]]
                 ) -> tuple[list[tuple[str, TaskOutput, str | None]], float]:
        """:meth:`run` for each ``(key, payload)`` in order (one Ray call for several), and
        the CPU seconds this process spent on them."""
        cpu = time.process_time()
        return [self.run(key, payload) for key, payload in items], time.process_time() - cpu


class _Slot:
    """One environment actor and the calls submitted to it, oldest (running) first; a call is
    a batch of items."""

    def __init__(self, actor: Any) -> None:
        self.queue: deque[tuple[Any, list[Item]]] = deque()  # (object ref, items)
        self.started = 0.0
        self.answered = False  # a call of this actor came back (its start-up is over)
        self.alone = False  # its call is a suspect's: nothing is queued behind it
        self.replace(actor)

    def replace(self, actor: Any) -> None:
        """Use a new actor; its start-up (process, imports) does not count against the
        timeout: the clock of its first call starts when it answers ``ready``."""
        self.actor = actor
        self.ready: Any = actor.ready.remote()
        self.answered = False

    @property
    def items(self) -> int:
        return sum(len(batch) for _, batch in self.queue)


class RayPool:
    """Runs an item function on Ray actors; the interface of
    :class:`prover.synth.executor.LocalPool` (see the module docstrings).

    Items go to an actor in calls of several items (one Ray call per item costs the driver
    about as much CPU as a small item itself): ``batch`` items per call, or with ``batch=None``
    4 at first, then as many as take about ``call_s`` CPU seconds in the actor by the mean
    CPU time per item of the calls so far, between 1 and ``max_batch``: cheap items go in
    large calls, slow ones alone (CPU, not wall time: on a loaded machine the items take
    longer but the cost of a call does not shrink). A call of one item has the per-item timeout; a batch has ``len(batch)
    * item_timeout_s``, or once the mean wall time per item is known (calls that followed
    another on their actor, so no start-up counts), at most ``item_timeout_s + 4 *
    len(batch) * mean`` (one item running to its limit, the others four times slower than
    usual). A batch whose call times out or
    whose actor dies is re-run one item per call, each with the full per-item timeout, so only
    the guilty item fails (``timeout`` / ``worker-died``).
    """

    def __init__(self, fn: ItemFn, opts: PoolOptions, *, address: str | None = None,
                 shared_policy: bool | None = None, state_dir: Path | None = None,
                 record_name: str = RECORD, batch: int | None = None, max_batch: int = 32,
                 call_s: float = 0.15) -> None:
        if batch is not None and batch < 1 or max_batch < 1:
            raise ValueError("batch and max_batch must be >= 1")
        self.fn = fn
        self.opts = opts
        self.address = address
        self.shared_policy = shared_policy
        self.state_dir = state_dir  # where a local cluster is recorded (leftover cleanup)
        self.record_name = record_name  # ... under this file name
        self.batch = batch  # None: sized by the CPU time per item
        self.max_batch = max_batch
        self.call_s = call_s
        self.item_s: float | None = None  # mean wall seconds per item of the calls measured
        self.item_cpu_s: float | None = None  # ... and mean CPU seconds per item in the actor
        self.policy_stats: dict[str, Any] | None = None
        self.reaped: list[int] = []
        self._owns_ray = False

    def _init(self, ray: Any) -> None:
        """Connect to ``address``, or start a local cluster of ``workers`` CPUs.

        A local cluster gets our import path as the environment of its processes (the raylet
        and so its workers inherit it) rather than as a job ``runtime_env``: the workers the
        raylet starts ahead while the cluster comes up can then host our actors (an actor
        with a runtime env of its own waits for a fresh worker process instead)."""
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if self.address is not None:
            with ray_local.own_sigterm_kept():
                ray.init(address=self.address, runtime_env=runtime_env(self.address), **kwargs)
            self._owns_ray = True
            return
        if self.state_dir is not None:
            self.reaped = reap_leftovers(self.state_dir, name=self.record_name)
        with ray_local.environ_set("PYTHONPATH", ray_local.import_path()), \
                ray_local.own_sigterm_kept():
            ray.init(num_cpus=self.opts.workers, **kwargs)
        self._owns_ray = True
        if self.state_dir is not None:
            node = getattr(getattr(ray, "_private", None), "worker", None)
            node = getattr(node, "_global_node", None)
            session = getattr(node, "get_session_dir_path", lambda: None)()
            record_cluster(self.state_dir, ray.get_runtime_context().get_node_id(), session,
                           name=self.record_name)

    def _start(self) -> tuple[Any, Any, Any, Any]:
        ray = _ray()
        if not ray.is_initialized():
            self._init(ray)
        env_cls = ray.remote(num_cpus=1, max_restarts=0)(EnvActor)
        fn, service = self.fn, None
        spec = getattr(fn, "policy_service", lambda: None)()
        if spec is not None and (self.shared_policy or (
                self.shared_policy is None and spec[0].split(":")[0] != "symbolic")):
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            service = ray.remote(num_cpus=0, num_gpus=gpus, max_concurrency=64)(
                PolicyService).remote(*spec)
            fn = fn.with_policy(PolicyProxy(service))  # type: ignore[attr-defined]
        return ray, env_cls, ray.put(fn), service

    def run(self, items: Iterable[Item], tick_s: float | None = None) -> Iterator[Done | None]:
        """Yield a :class:`Done` per item as items finish (any order), and None after each
        ``tick_s`` without one. Up to ``prefetch`` calls are queued per actor; the items queued
        behind a call that timed out or whose actor died go to another actor. An item whose
        call died is re-run alone on an actor (nothing queued behind it), and only a death
        there counts against it (:func:`prover.synth.executor.blame_death`)."""
        ray, env_cls, fn_ref, service = self._start()
        slots = [_Slot(env_cls.remote(fn_ref)) for _ in range(self.opts.workers)]
        retry: deque[Item] = deque()  # items to re-run (behind a lost call)
        solo: deque[Item] = deque()  # items of a failed batch: one per call
        self._deaths: dict[str, int] = {}  # actor deaths while running one item alone
        source = iter(items)
        exhausted = False
        try:
            while True:
                for slot in slots:
                    # a suspect (solo) call runs alone on its actor, so its death is its own
                    while len(slot.queue) < self.opts.prefetch and not slot.alone:
                        if solo and slot.queue:
                            break  # it waits for an idle actor
                        alone = bool(solo)
                        batch = self._next_batch(solo, retry, source)
                        if not batch:
                            exhausted = not (solo or retry)
                            break
                        if not slot.queue:
                            slot.started = time.monotonic()
                        slot.alone = alone
                        slot.queue.append((slot.actor.run_many.remote(
                            [(key, payload) for _, key, payload in batch]), batch))
                busy = [s for s in slots if s.queue]
                if not busy and exhausted:
                    break
                heads = {s.queue[0][0]: s for s in busy}
                ready, _ = ray.wait(list(heads), num_returns=1,
                                    timeout=self._wait_s(busy, tick_s))
                got = False
                for ref in ready:
                    for done in self._finish(ray, env_cls, fn_ref, heads[ref], retry, solo):
                        got = True
                        yield done
                for done in self._expire(ray, env_cls, fn_ref, busy, retry, solo):
                    got = True
                    yield done
                if not got and tick_s is not None:
                    yield None
            if service is not None:
                self.policy_stats = ray.get(service.stats.remote())
        finally:
            for slot in slots:
                ray.kill(slot.actor)
            if service is not None:
                ray.kill(service)
            if self._owns_ray:
                ray.shutdown()
                if self.address is None and self.state_dir is not None:
                    clear_record(self.state_dir, name=self.record_name)

    def _batch_size(self) -> int:
        if self.batch is not None:
            return self.batch
        if self.item_cpu_s is None:
            return min(4, self.max_batch)
        return max(1, min(self.max_batch, int(self.call_s / max(self.item_cpu_s, 1e-6))))

    def _measure(self, slot: _Slot, n: int, cpu_s: float) -> None:
        """Fold a call of ``n`` items that just came back, which took ``cpu_s`` CPU seconds
        in its actor, into the means (:attr:`item_s` only from a call that followed an
        answered one: its clock started when the one before it ended)."""
        def mean(old: float | None, new: float) -> float:
            return new if old is None else 0.7 * old + 0.3 * new

        self.item_cpu_s = mean(self.item_cpu_s, cpu_s / n)
        if slot.answered:
            self.item_s = mean(self.item_s, (time.monotonic() - slot.started) / n)
        slot.answered = True

    def _next_batch(self, solo: deque[Item], retry: deque[Item],
                    source: Iterator[Item]) -> list[Item]:
        if solo:
            return [solo.popleft()]
        batch: list[Item] = []
        while len(batch) < self._batch_size():
            nxt = retry.popleft() if retry else next(source, None)
            if nxt is None:
                break
            batch.append(nxt)
        return batch

    @staticmethod
    def _requeue(slot: _Slot, retry: deque[Item], env_cls: Any, fn_ref: Any) -> None:
        for _, batch in slot.queue:
            retry.extend(batch)
        slot.queue.clear()
        slot.alone = False
        slot.replace(env_cls.remote(fn_ref))

    def _finish(self, ray: Any, env_cls: Any, fn_ref: Any, slot: _Slot, retry: deque[Item],
                solo: deque[Item]) -> Iterator[Done]:
        ref, batch = slot.queue.popleft()
        slot.alone = False
        try:
            results, cpu_s = ray.get(ref)
        except ray.exceptions.RayError as err:  # the actor died (OOM kill, crash, node lost)
            behind = bool(slot.queue)
            ray.kill(slot.actor)
            self._requeue(slot, retry, env_cls, fn_ref)
            if len(batch) > 1 or behind:
                # a batch, or a call with others queued behind it: the death may be a later
                # call's (a finished call's reply can be lost with its actor), so nobody is
                # blamed yet; each item re-runs alone on an actor
                solo.extend(batch)
                return
            seq, key, _ = batch[0]
            if not blame_death(self._deaths, key):  # the local pool's policy, the same count
                solo.append(batch[0])  # the item gets a fresh actor, alone again
                return
            yield Done(seq, key, TaskOutput([], False, "worker-died", kind="infra"),
                       str(err)[:500])
            return
        self._measure(slot, len(batch), cpu_s)
        slot.started = time.monotonic()
        for (seq, key, _), (got_key, output, detail) in zip(batch, results, strict=True):
            if got_key != key:  # never mis-file rows
                raise RuntimeError(f"actor answered item {got_key!r} for {key!r}")
            yield Done(seq, key, output, detail)

    def _timeout(self, batch: list[Item]) -> float | None:
        t = self.opts.item_timeout_s
        if t is None:
            return None
        if len(batch) == 1 or self.item_s is None:
            return t * len(batch)
        return min(t * len(batch), t + 4 * len(batch) * self.item_s)

    def _wait_s(self, busy: list[_Slot], tick_s: float | None) -> float:
        cap = 5.0 if tick_s is None else min(5.0, tick_s)
        if self.opts.item_timeout_s is None:
            return cap
        now = time.monotonic()
        left = min(s.started + (self._timeout(s.queue[0][1]) or 0.0) - now for s in busy)
        return max(0.0, min(left, cap))

    def _expire(self, ray: Any, env_cls: Any, fn_ref: Any, busy: list[_Slot],
                retry: deque[Item], solo: deque[Item]) -> Iterator[Done]:
        """Kill the actors whose running call is past its timeout; a single item fails with
        ``timeout``, a batch is re-run one item per call."""
        if self.opts.item_timeout_s is None:
            return
        now = time.monotonic()
        for slot in busy:
            if not slot.queue:
                continue
            if slot.ready is not None:
                if not ray.wait([slot.ready], timeout=0)[0]:
                    slot.started = now  # still starting
                    continue
                slot.ready = None
            timeout = self._timeout(slot.queue[0][1]) or 0.0
            if now - slot.started < timeout:
                continue
            _, batch = slot.queue.popleft()
            ray.kill(slot.actor)
            self._requeue(slot, retry, env_cls, fn_ref)
            if len(batch) > 1:
                solo.extend(batch)
                continue
            seq, key, _ = batch[0]
            yield Done(seq, key, TaskOutput([], ok=False, reason="timeout", kind="infra"),
                       f"actor killed after {timeout:g} s")
