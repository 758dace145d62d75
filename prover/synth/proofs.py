"""The ``proofs`` synth task: prove each theorem and emit its proof and every search transition.

One item per theorem of a JSONL file (Z3 ``{id, smt2, goal}``, Lean ``{id, statement,
header?}`` or Dojo ``{id?, repo, file, theorem}`` rows). Rows:

- ``proof`` (when the search found one): theorem id, statement, tactics, the search status and
  the verdict of the backend's independent re-check (Z3 replay, Lean audit, Dojo replay);
- ``transition``, one per edge of the search DAG: ``state``, ``tactic``, ``outcome``
  (progress | proved | error | timeout), ``next_state`` or ``error``, ``logprob``, ``depth``
  (of the state), ``on_proof_path`` and ``label``: ``positive`` iff the theorem's proof was
  re-checked as verified and the tactic reaches a proved state (closes it, or leads to a state
  the search proved), else ``negative``.

An item is ``ok`` iff a verified proof was found; otherwise its reason says why (``unproved:
<stop reason>``, ``recheck: <verdict>``, ``bad-theorem``, ``bad-input``), and its transitions
are kept as negatives. An unavailable backend or policy server raises (the executor records an
``infra`` failure, which a resumed run retries).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prover.backends import BACKENDS
from prover.policy.registry import describe_policy, make_policy
from prover.proving import ProveOptions
from prover.synth.task import InfraError, TaskOutput
from search.best_first import SearchConfig, best_first_search
from search.protocols import Policy

TASK_VERSION = 1
_OUTCOMES = {"progress": "progress", "proved": "proved", "timeout": "timeout"}


class ProofsTask:
    """:class:`~prover.synth.task.SynthTask` ``proofs``; picklable (the policy and backend
    resources are opened lazily in each worker and never pickled)."""

    name = "proofs"

    def __init__(self, path: Path, *, backend: str = "z3", policy: str = "symbolic",
                 search: SearchConfig | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.path = Path(path)
        self.backend = backend
        self.policy_spec = policy
        self.search = search or SearchConfig()
        self._shared: Policy | None = None  # a picklable proxy of a shared policy service
        self._policy: tuple[Policy, dict[str, Any]] | None = None
        self._opts: ProveOptions | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_policy"] = state["_opts"] = None
        return state

    # ------------------------------------------------------------------ contract
    def config(self) -> dict[str, Any]:
        """Backend, policy spec and search budgets (everything that changes the rows)."""
        return {"task": self.name, "task_version": TASK_VERSION, "backend": self.backend,
                "policy": self.policy_spec, "search": asdict(self.search)}

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """One item per non-blank line, keyed ``<line>:<id>`` (0-based line); a line that is
        not a JSON object becomes an item that fails with reason ``bad-input``."""
        with self.path.open(encoding="utf-8") as handle:
            for line, text in enumerate(handle):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except ValueError as err:
                    yield f"{line}:", {"line": line, "error": f"not JSON ({err})"}
                    continue
                if not isinstance(row, dict):
                    yield f"{line}:", {"line": line, "error": "not a JSON object"}
                    continue
                theorem_id = str(row.get("id", row.get("theorem", line)))
                yield f"{line}:{theorem_id}", {"line": line, "id": theorem_id, "row": row}

    def run(self, payload: dict[str, Any]) -> TaskOutput:
        """Search one theorem, re-check the proof, and turn the search DAG into rows."""
        if "error" in payload:
            return TaskOutput([], ok=False, reason="bad-input")
        backend = BACKENDS[self.backend]
        row = payload["row"]
        opts = self._options()
        policy, info = self._policy_and_info(backend.family)
        try:
            env = backend.make_env(row, opts)
        except backend.unavailable() as err:
            raise InfraError(f"{self.backend} backend unavailable: {err}") from err
        except ValueError:  # TheoremError and friends: a bad theorem row
            return TaskOutput([], ok=False, reason="bad-theorem")
        try:
            search = best_first_search(env, policy, self.search)
            verdict = (backend.recheck(row, list(search.proof), opts).to_dict()
                       if search.status == "proved" and search.proof is not None else None)
        finally:
            for close in opts.resources.pop("closers", []):
                close()
        provenance = {"theorem_id": payload["id"], "line": payload["line"],
                      "backend": self.backend, "backend_version": backend.version(),
                      "policy": info, "search": asdict(self.search)}
        data = search.to_dict()
        verified = verdict is not None and verdict["verdict"] == "verified"
        rows = transition_rows(data, payload["id"], verified, provenance)
        if verdict is not None:
            rows.insert(0, {"kind": "proof", "theorem": payload["id"],
                            "statement": backend.statement(row), "tactics": search.proof,
                            "search_status": search.status, "verdict": verdict,
                            "provenance": provenance})
        if verified:
            return TaskOutput(rows)
        reason = (f"recheck: {verdict['verdict']}" if verdict is not None
                  else f"unproved: {search.stop_reason}")
        return TaskOutput(rows, ok=False, reason=reason)

    # ------------------------------------------------------------------ shared policy
    def policy_service(self) -> tuple[str, str, int] | None:
        """``(spec, family, seed)`` of the policy, for an executor that serves it from one
        shared actor (see :class:`~prover.synth.task.SharedPolicyTask`)."""
        return (self.policy_spec, BACKENDS[self.backend].family, self.search.seed)

    def with_policy(self, policy: Policy) -> ProofsTask:
        """A copy of this task whose searches ask ``policy`` (a picklable proxy)."""
        clone = copy.copy(self)
        clone._shared, clone._policy, clone._opts = policy, None, None
        return clone

    # ------------------------------------------------------------------ per-process state
    def _options(self) -> ProveOptions:
        if self._opts is None:
            self._opts = ProveOptions(backend=self.backend, policy=self.policy_spec,
                                      search=self.search)
        return self._opts

    def _policy_and_info(self, family: str) -> tuple[Policy, dict[str, Any]]:
        if self._policy is None:
            policy = self._shared or make_policy(self.policy_spec, family, self.search.seed)
            self._policy = (policy, describe_policy(policy, self.policy_spec))
        return self._policy


def transition_rows(search: dict[str, Any], theorem: str, verified: bool,
                    provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``transition`` row per edge of a search DAG (``SearchResult.to_dict()`` form)."""
    nodes = {n["id"]: n for n in search["nodes"]}
    rows = []
    for edge in search["edges"]:
        src, dst = nodes[edge["src"]], nodes[edge["dst"]]
        outcome = _OUTCOMES.get(edge["outcome"], "error")
        closes = outcome == "proved" or (outcome == "progress" and dst["status"] == "proved")
        rows.append({
            "kind": "transition", "theorem": theorem, "state": src["text"],
            "tactic": edge["tactic"], "outcome": outcome,
            "next_state": dst["text"] if outcome == "progress" else None,
            "error": (edge["detail"] or edge["outcome"]) if outcome in ("error", "timeout")
            else None,
            "logprob": edge["logprob"], "depth": src["depth"],
            "on_proof_path": bool(edge["on_proof_path"]),
            "label": "positive" if verified and closes else "negative",
            "provenance": provenance})
    return rows
