"""Whole-proof attempts in lockstep rounds: sample, extract, check, repair.

:func:`run_rounds` takes the attempts of one runner batch (K theorems x N attempts). Round 1
renders every attempt's prompt and samples ALL of them in one batched model call
(:func:`~prover.wholeproof.sampling.sample_rows`, row i seeded by :func:`round_seed` of its
attempt seed, so a proof does not depend on the batch); each answer's proof is extracted and
checked by the backend's final checker (``check_workers`` at once). An attempt whose proof was
refuted, had no proof, or timed out goes back to the model in the next round with the checker's
errors (Goedel-Prover-V2 self-correction / APOLLO style), up to ``repair_rounds`` more rounds;
a verified proof, or an ``unknown`` the model cannot fix (backend error, not checked), ends it.

:func:`attempt_graph` records an attempt as a proof graph: the ``statement`` root, one
``step`` node per round's proof (its text; an answer without a proof is a node saying so) and
``tactic`` edges root -> round 1 -> round 2 ... whose ``kind`` is ``whole-proof`` or
``repair`` and whose ``outcome``/``detail`` are the checker's verdict and errors.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from prover.policy.batching import CallStats
from prover.records.search_graph import rounds_graph
from prover.records.verdicts import UnknownReason, Verdict
from prover.wholeproof.check import Checked, no_proof
from prover.wholeproof.extract import Extraction, extract_block, extract_continuation
from prover.wholeproof.prompts import ProofFormat, Turn, initial_turns, render, repair_turns
from prover.wholeproof.sampling import sample_rows

REPAIRABLE = {None, UnknownReason.BUDGET, UnknownReason.TIMEOUT}
"""Verdict reasons a new proof may fix: refuted (None), no proof written (``budget``), a proof
too slow (``timeout``). A backend error, an audit that could not run, or a statement that
does not elaborate (``not-formalized``) is not the proof's fault: no repair is asked for."""
MAX_COMPLETION_CHARS = 20000

Checker = Callable[[Mapping[str, Any], str], Checked]


def round_seed(seed: int, round_no: int) -> int:
    """The sampling seed of round ``round_no`` of the attempt seeded ``seed`` (31 bits)."""
    digest = hashlib.sha256(f"{seed}\0whole\0{round_no}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass
class Task:
    """One attempt: its row, seed and prompt values; filled in by :func:`run_rounds`."""

    row: Mapping[str, Any]
    seed: int
    values: dict[str, str]
    turns: list[Turn] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    final: Checked | None = None
    model_s: float = 0.0
    check_s: float = 0.0


def extract(fmt: ProofFormat, values: Mapping[str, str], completion: str) -> Extraction:
    """The proof of one answer under ``fmt`` (block or continuation)."""
    if fmt.output == "continue":
        return extract_continuation(values["code"], completion)
    return extract_block(completion, fmt.block_tags)


def run_rounds(tasks: Sequence[Task], policy: Any, fmt: ProofFormat, checker: Checker, *,
               repair_rounds: int, check_workers: int, tokenizer: Any | None,
               stats: CallStats) -> None:
    """Run every task to its end (module docstring); tasks with ``final`` already set (e.g.
    a preflight verdict) are not sampled; ``stats`` (``unit="rows"``) counts every call and
    check. Raises only what the policy raises."""
    active = [t for t in tasks if t.final is None]
    for t in active:
        t.turns = initial_turns(fmt, t.values)
    for round_no in range(1, repair_rounds + 2):
        if not active:
            return
        rendered = [render(t.turns, fmt, tokenizer) for t in active]
        started = time.perf_counter()
        answers = sample_rows(policy, [r[0] for r in rendered],
                              [round_seed(t.seed, round_no) for t in active])
        took = time.perf_counter() - started
        stats.add_call(len(active), took, requests=len(active))
        extractions = [extract(fmt, t.values, text) for t, (text, _) in zip(active, answers,
                                                                           strict=True)]

        def check(pair: tuple[Task, Extraction]) -> tuple[Checked, float]:
            task, ext = pair
            began = time.perf_counter()
            result = checker(task.row, ext.proof) if ext.proof is not None \
                else no_proof(ext.failure or "no-proof")
            return result, time.perf_counter() - began

        workers = max(1, min(check_workers, len(active)))
        if workers == 1:
            checked = [check(p) for p in zip(active, extractions, strict=True)]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="whole-check") as pool:
                checked = list(pool.map(check, zip(active, extractions, strict=True)))
        still: list[Task] = []
        for t, (prompt, how), (text, logprob), ext, (result, secs) in zip(
                active, rendered, answers, extractions, checked, strict=True):
            t.model_s += took
            t.check_s += secs
            stats.add_check(secs, ext.proof is not None)
            t.rounds.append({
                "round": round_no, "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest(),
                "prompt_chars": len(prompt), "rendering": how,
                "completion": text[:MAX_COMPLETION_CHARS],
                "completion_truncated": len(text) > MAX_COMPLETION_CHARS,
                "logprob": logprob if logprob == logprob and abs(logprob) != float("inf")
                else None,
                "extract": ext.to_dict(), "proof": ext.proof, "checker": result.checker,
                **result.verdict.to_dict(), "errors": result.errors, "checks": result.details,
                "check_s": round(secs, 4)})
            t.final = result
            reason = result.verdict.reason
            if result.verdict.kind != "verified" and reason in REPAIRABLE:
                t.turns = repair_turns(fmt, t.values, t.turns, ext.proof or text[-2000:],
                                       result.errors, round_no + 1)
                still.append(t)
        active = still


def stop_reason(task: Task, repair_rounds: int) -> str:
    """Why the attempt ended, for its result row."""
    final = task.final
    if final is None:
        return "not-run"
    if final.verdict.kind == "verified":
        return f"verified-in-round-{len(task.rounds)}"
    if not task.rounds:
        return f"preflight:{final.verdict.label()}"
    if final.verdict.reason in REPAIRABLE and len(task.rounds) == repair_rounds + 1:
        return "repair-rounds-exhausted"
    return f"not-repairable:{final.verdict.label()}"


def attempt_graph(task: Task, *, backend: str, statement: str,
                  provenance: Mapping[str, Any]) -> tuple[nx.DiGraph, str, list[str]]:
    """The proof graph of one attempt (module docstring): ``(graph, root, step ids)`` with
    one step id per round, in order (built by :func:`prover.records.search_graph.rounds_graph`)."""
    final = task.final
    proved = final is not None and final.verdict.kind == "verified"
    return rounds_graph(task.rounds, proved=proved, backend=backend, statement=statement,
                        provenance=provenance)


def final_verdict(task: Task) -> Verdict:
    """The attempt's verdict: the last round's (the first verified one ends the attempt)."""
    if task.final is None:
        return Verdict("unknown", reason=UnknownReason.NOT_CHECKED, detail="not run")
    return task.final.verdict
