"""What a worker does with one synth item: run the task, classify a failure, finish the rows.

:class:`SynthItem` is the picklable item function the executors call in their workers
(``fn(key, payload) -> (TaskOutput, diagnostic)``): it runs the task, turns a bug, a memory
error or an unavailable service into a failed output with its :data:`FailureKind`, and finishes
the rows (content hash, provenance, canonical JSON) so that the single writer only inserts
text. An ``infra`` failure keeps no rows: the attempt was broken, and a resumed run redoes it.
"""

from __future__ import annotations

import traceback
from typing import Any

from prover.synth.rows import RowError, finish_rows, utc_now
from prover.synth.task import SynthTask, TaskOutput, is_infra_exception


def run_item(task: SynthTask, payload: dict[str, Any]) -> tuple[TaskOutput, str | None]:
    """``task.run(payload)``, with a bug, a memory error or an infrastructure exception turned
    into a failed output (and the traceback as a diagnostic), so one bad item never stops a
    run."""
    try:
        output = task.run(payload)
    except MemoryError:
        return TaskOutput([], ok=False, reason="memory", kind="infra"), None
    except Exception as err:  # a task bug or a service that is down: fail the item, go on
        kind = "infra" if is_infra_exception(err) else "content"
        return (TaskOutput([], ok=False, reason=f"exception: {type(err).__name__}", kind=kind),
                traceback.format_exc(limit=8))
    if not isinstance(output, TaskOutput):
        return (TaskOutput([], ok=False, reason="exception: bad output", kind="content"),
                f"task.run returned {type(output).__name__}, not TaskOutput")
    return output, None


class SynthItem:
    """The item function of a synth run: ``(key, payload) -> (TaskOutput, diagnostic)`` with
    ``TaskOutput.finished`` set and ``rows`` emptied; picklable when the task is."""

    def __init__(self, task: SynthTask, run: dict[str, Any]) -> None:
        self.task = task
        self.run = run

    @property
    def name(self) -> str:
        return self.task.name

    def __call__(self, key: str, payload: dict[str, Any]) -> tuple[TaskOutput, str | None]:
        output, detail = run_item(self.task, payload)
        if output.failure_kind == "infra":
            output.rows = []
        try:
            done = finish_rows(list(output.rows), task=self.task.name, item=key, run=self.run,
                               utc_time=utc_now())
        except RowError as err:
            return TaskOutput([], ok=False, reason="bad-row", kind="content", finished=[]), str(err)
        output.finished = [(row["hash"], row["kind"], text) for row, text in done]
        output.rows = []
        return output, detail

    # -- a shared policy (Ray): see prover.synth.task.SharedPolicyTask
    def policy_service(self) -> tuple[str, str, int] | None:
        """The task's shared-policy spec, if it has one."""
        spec = getattr(self.task, "policy_service", None)
        return spec() if spec is not None else None

    def with_policy(self, policy: Any) -> SynthItem:
        """This item function over a copy of the task that asks ``policy``."""
        return SynthItem(self.task.with_policy(policy), self.run)  # type: ignore[attr-defined]
