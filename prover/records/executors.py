"""Where a job's batches run besides in process (the default is
:class:`prover.records.runner.Serial`): the one local worker pool
(:class:`prover.synth.executor.LocalPool`) or Ray actors (:class:`prover.synth.ray_exec.RayPool`).

There is one pool implementation per strategy, shared with synth: :class:`PoolExecutor` sends
each batch as ONE pool item (``key`` = the batch's first key, payload = the batch) to a
:class:`_BatchFn` that starts the job in the worker on first use and runs
:func:`prover.records.runner.isolated`. The pools' contract (``run(items) -> Done`` per item, in
any order) is adapted to the runner's: ``(batch, outcomes)`` in submission order, so the runner
commits in input order; only the runner's process writes.

What the pools guarantee carries over (see :mod:`prover.synth.executor`): workers are
``python -m prover.synth.worker`` processes with their own process group, ``RLIMIT_AS`` and
death with the parent; a batch past ``batch_timeout_s`` is killed with its worker's group and a
fresh worker takes the slot; batches queued behind a lost one go to another worker. A batch the
pool fails (timeout, worker died, unpicklable result) fails each of its rows with an error of
kind ``infra`` through :meth:`prover.records.job.Job.infra_failed`, which gets the pool's
reason (``timeout``, ``worker-died``); the resumed run tries them again; the other rows are
unaffected. A worker's death is blamed by the pools' one policy
(:func:`prover.synth.executor.blame_death`).

Ray options: a job whose item function can share its policy (``policy_service`` /
``with_policy``, as synth's) gets one batching policy actor (``shared_policy``), and a local
cluster is recorded in ``record`` (``(folder, file name)``) so that the leftovers of a
SIGKILLed run are reaped when it runs again (:mod:`prover.synth.ray_local`). With ``tick_s``,
``run`` yields None whenever that long passes without a result (the runner commits a group
that is due).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prover.records.runner import Item, Job, Outcome

Batch = list["Item"]
#: batches queued per Ray actor, and per local worker unless the job asks for more
#: (:attr:`prover.records.job.Job.pool_prefetch`, whose default is this value)
LOCAL_PREFETCH = 2
#: the default memory cap per local worker (GiB): :class:`prover.records.runner.RunSettings`'s,
#: here so that a caller can start workers ahead (``prover.synth.executor.prestarted``, which
#: hands them only to a pool with the same cap) without importing the runner
WORKER_MEM_GB = 8.0


class _BatchFn:
    """What a worker runs: ``(key, batch) -> (outcomes, None)``; the job starts on first use."""

    def __init__(self, job: Job, run_id: str) -> None:
        self.job = job
        self.run_id = run_id
        self.started = False

    @property
    def task(self) -> Any:
        """The job's task, if it has one (the pools pickle a ``__main__`` task by value)."""
        return getattr(self.job, "task", None)

    def policy_service(self) -> tuple[str, str, int] | None:
        """The job's shared-policy spec ``(spec, family, seed)``, if it can share one."""
        spec = getattr(self.job, "policy_service", None)
        return spec() if spec is not None else None

    def with_policy(self, policy: Any) -> _BatchFn:
        """This function over a copy of the job that asks ``policy`` (a Ray policy proxy)."""
        return _BatchFn(self.job.with_policy(policy), self.run_id)  # type: ignore[attr-defined]

    def __call__(self, key: str, batch: Batch) -> tuple[list[Outcome], None]:
        from prover.records.runner import isolated

        if not self.started:
            self.job.start(self.run_id)
            self.started = True
        return isolated(self.job, batch), None


class PoolExecutor:
    """The runner's batches on ``workers`` local worker processes, or on Ray actors with
    ``ray`` (an existing cluster at ``address``, else a local one). ``mem_gb`` caps each local
    worker's address space (Ray workers are left to Ray's memory monitor)."""

    def __init__(self, workers: int, *, run_id: str, batch_timeout_s: float | None = 600.0,
                 mem_gb: float = 8.0, ray: bool = False, address: str | None = None,
                 shared_policy: bool | None = None,
                 record: tuple[Path, str] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.run_id = run_id
        self.batch_timeout_s = batch_timeout_s
        self.mem_gb = mem_gb
        self.ray = ray
        self.address = address
        self.shared_policy = shared_policy
        self.record = record
        self.policy_stats: dict[str, Any] | None = None
        self.reaped: list[int] = []

    def describe(self) -> dict[str, Any]:
        """What ran the batches, for :attr:`prover.records.job.Session.executor`."""
        info: dict[str, Any] = {"name": "ray" if self.ray else "local", "workers": self.workers}
        if self.policy_stats:
            info["policy_stats"] = self.policy_stats
        if self.reaped:
            info["reaped"] = len(self.reaped)
        return info

    def _pool(self, job: Job) -> Any:
        from prover.synth.executor import LocalPool, PoolOptions

        fn = _BatchFn(job, self.run_id)
        if self.ray:
            from prover.synth.ray_exec import RECORD, RayPool

            folder, name = self.record if self.record is not None else (None, RECORD)
            # one item per batch (synth): calls of several batches, two queued per actor
            prefetch = LOCAL_PREFETCH if job.pool_batch_size <= 1 else 1
            return RayPool(fn,
                           PoolOptions(workers=self.workers, mem_gb=0,
                                       item_timeout_s=self.batch_timeout_s, prefetch=prefetch),
                           address=self.address, shared_policy=self.shared_policy,
                           state_dir=folder, record_name=name)
        return LocalPool(fn,
                         PoolOptions(workers=self.workers, mem_gb=self.mem_gb,
                                     item_timeout_s=self.batch_timeout_s,
                                     prefetch=max(1, job.pool_prefetch)))

    def run(self, job: Job, batches: Iterable[Batch], tick_s: float | None = None
            ) -> Iterator[tuple[Batch, list[Outcome]] | None]:
        """Yield ``(batch, outcomes)`` in submission order, and None after each ``tick_s``
        without a result; closing the generator stops the workers (a busy one is killed)."""
        pool = self._pool(job)
        sent: dict[int, Batch] = {}

        def items() -> Iterator[tuple[int, str, Any]]:
            for seq, batch in enumerate(batches):
                sent[seq] = batch
                yield seq, batch[0].key, batch

        ready: dict[int, tuple[Batch, list[Outcome]]] = {}
        following = 0
        results = pool.run(items(), tick_s=tick_s)
        try:
            for done in results:
                if done is None:
                    yield None
                    continue
                batch = sent.pop(done.seq)
                output = done.output
                if not isinstance(output, list):  # the pool's own failure: a TaskOutput
                    output = self._failed(job, batch, getattr(output, "reason", None),
                                          done.detail)
                ready[done.seq] = (batch, output)
                while following in ready:
                    yield ready.pop(following)
                    following += 1
        finally:
            results.close()
            self.policy_stats = getattr(pool, "policy_stats", None)
            self.reaped = list(getattr(pool, "reaped", None) or [])

    def _failed(self, job: Job, batch: Batch, reason: str | None,
                detail: str | None) -> list[Outcome]:
        """Every row of a batch the pool failed, as an infrastructure error
        (:meth:`prover.records.job.Job.infra_failed`, given the pool's reason)."""
        if reason == "timeout":
            text = f"timeout: the batch ran past {self.batch_timeout_s:g} s and was killed"
        elif reason == "worker-died":
            text = (detail or "the worker process died").strip()
        else:
            text = f"{reason or 'failed'} in the worker ({(detail or 'no detail').strip()})"
        if self.ray:
            text += " on a Ray worker"
        return [job.infra_failed(item, reason, text) for item in batch]
