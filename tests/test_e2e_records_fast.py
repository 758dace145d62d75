"""The fast paths of the check pipeline's records write exactly what the plain paths wrote.

Typed rows built without ``__init__``, provenance copied without ``dataclasses.asdict``, the
provenance memo key, and the proof graph of a solution built without the public checks: each
is compared with the plain construction on the same input (GSM8K rows in tests/data).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from formalizer.inputs import InputError, read_solutions
from formalizer.stepcheck import BACKEND_NAME, StepChecker
from prover.arith.check import Limits
from prover.records import graph as pg
from prover.records.graph_layout import claim_verdict
from prover.records.results import ClaimResult, Record, SolutionResult, StepResult
from prover.records.store import Store
from prover.records.store_writer import _provenance_key, provenance_id
from prover.records.verdicts import Provenance

DATA = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"


@pytest.fixture(scope="module")
def checked() -> list[tuple[dict[str, Any], list[Any]]]:
    """(result, verdicts) of the first 25 GSM8K rows."""
    checker = StepChecker(Limits(2000, 5_000_000), run_id="test-run")
    out = []
    for entry in read_solutions(DATA, "auto"):
        if isinstance(entry, InputError):
            continue
        out.append(checker.check(entry))
        if len(out) == 25:
            break
    return out


def _plain_from_dict(cls: type[Record], data: dict[str, Any]) -> Record:
    """``from_dict`` through the generated ``__init__`` (the reference)."""
    names = cls.names()
    values: dict[str, Any] = {}
    for name in data.keys() & names:
        value = data[name]
        nested, one = cls.NESTED.get(name), cls.ONE.get(name)
        if nested is not None and isinstance(value, list):
            value = tuple(_plain_from_dict(nested, v) if isinstance(v, dict) else v
                          for v in value)
        elif one is not None and isinstance(value, dict):
            value = _plain_from_dict(one, value)
        values[name] = value
    return cls(extra={k: v for k, v in data.items() if k not in names}, order=tuple(data),
               **values)


def test_typed_rows_match_the_constructor(checked: list[tuple[dict[str, Any], list[Any]]]
                                          ) -> None:
    rows = [json.loads(json.dumps({"key": str(i), "run_id": "r", **result}))
            for i, (result, _) in enumerate(checked)]
    rows.append({"key": "x", "error": "bad row", "steps": "not a list", "odd": [1, {"a": 2}]})
    for row in rows:
        fast, plain = SolutionResult.from_dict(row), _plain_from_dict(SolutionResult, row)
        assert fast == plain
        assert vars(fast) == vars(plain) and list(vars(fast)) == list(vars(plain))
        assert fast.to_dict() == row and list(fast.to_dict()) == list(row)
        for step in fast.steps if isinstance(fast.steps, tuple) else ():
            assert isinstance(step, StepResult)
            assert all(isinstance(c, ClaimResult) for c in step.claims or ())
    assert sum(len(r.claims()) for r in map(SolutionResult.from_dict, rows[:-1])) > 50


def test_provenance_to_dict_matches_asdict() -> None:
    for extra in ({}, {"policy": {"model": "m", "sampling": {"n": [1, 2]}}, "seed": 0}):
        prov = Provenance(run_id="r", backend="b", backend_version="v",
                          limits={"timeout_ms": 2000, "nested": {"a": [1, 2]}},
                          formalizer="f", formalizer_version="1", wall_time_s=0.5, **extra)
        expected = dataclasses.asdict(prov)
        for name in ("policy", "seed"):
            if expected[name] is None:
                del expected[name]
        got = prov.to_dict()
        assert got == expected and list(got) == list(expected)
        got["limits"]["nested"]["a"].append(3)  # a copy, as asdict gives
        assert prov.limits["nested"]["a"] == [1, 2]
    assert Provenance.from_dict(prov.to_dict()) == prov


def test_provenance_memo_key_separates_content_and_ignores_times() -> None:
    base = dict(run_id="r", backend="b", backend_version="v", limits={"timeout_ms": 2000},
                formalizer="f", formalizer_version="1")
    one = Provenance(**base, wall_time_s=0.1, utc_time="2026-01-01T00:00:00+00:00")
    later = Provenance(**base, wall_time_s=9.0, utc_time="2026-01-02T00:00:00+00:00")
    assert _provenance_key(one) == _provenance_key(later)
    assert provenance_id(one) == provenance_id(later)
    other_limits = Provenance(**{**base, "limits": {"timeout_ms": 3000}}, wall_time_s=0.1)
    as_text = Provenance(**{**base, "limits": "{'timeout_ms': 2000}"}, wall_time_s=0.1)  # type: ignore[arg-type]
    seeded = Provenance(**base, wall_time_s=0.1, seed=1)
    keys = {_provenance_key(p) for p in (one, other_limits, as_text, seeded)}
    assert len(keys) == 4


def _reference_graph(solution: dict[str, Any]) -> Any:
    """The proof graph built with the public, checking helpers."""
    be = BACKEND_NAME
    g = pg.new_graph()
    root = pg.add_node(g, "statement", str(solution.get("problem") or ""), be)
    bound: dict[str, str] = {}
    for step in solution.get("steps") or []:
        sid = pg.add_node(g, "step", str(step.get("text", "")), be, verdict=step.get("verdict"))
        pg._add_edge_once(g, root, sid, "contains", index=step.get("index"))
        for ci, claim in enumerate(step.get("claims") or []):
            formal = claim.get("formal")
            cid = pg.add_node(g, "claim", str(formal or claim.get("source") or ""), be,
                              claim_kind=claim.get("kind"), formal=formal,
                              verdict=claim_verdict(claim), binds=claim.get("binds"))
            pg._add_edge_once(g, sid, cid, "formalization" if formal else "contains",
                              source_text=claim.get("source"), claim_index=ci)
            for name in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formal or "")):
                if name in bound and bound[name] != cid:
                    pg._add_edge_once(g, bound[name], cid, "entailment", via=name)
            if claim.get("binds"):
                bound[str(claim["binds"])] = cid
    return g, root


def test_solution_graph_matches_the_checked_build(
        checked: list[tuple[dict[str, Any], list[Any]]], tmp_path: Path) -> None:
    synthetic = {"problem": "p", "steps": [
        {"index": 0, "text": "Let x = 3.", "verdict": "verified", "claims": [
            {"kind": "definition", "source": "x = 3", "formal": "(= x 3)", "binds": "x",
             "verdict": "verified", "evidence": {"method": "m"}}]},
        {"index": 1, "text": "Let x = 3.", "verdict": "refuted", "claims": [
            {"kind": "equation", "source": "x + 1 = 5", "formal": "(= (+ x 1) 5)",
             "verdict": "refuted", "evidence": {"lhs": "4"}},
            {"kind": "equation", "source": "x + 1 = 5", "formal": None, "verdict": None},
            {"kind": "equation", "source": "x = 3", "formal": "(= x 3)", "verdict": "unknown",
             "reason": "timeout"}]}]}
    entailments = 0
    for result in [synthetic] + [r for r, _ in checked]:
        fast, root = pg.solution_graph(result, backend=BACKEND_NAME)
        ref, ref_root = _reference_graph(result)
        assert list(fast.nodes) == list(ref.nodes)
        assert root == ref_root
        assert dict(fast.nodes(data=True)) == dict(ref.nodes(data=True))
        assert {(u, v): d for u, v, d in fast.edges(data=True)} == {
            (u, v): d for u, v, d in ref.edges(data=True)}
        entailments += sum(d["etype"] == "entailment" for _, _, d in fast.edges(data=True))
    assert entailments > 0
    # the graphs and verdicts go into a store as before (the writer's checks still hold)
    store = Store(tmp_path / "s.sqlite")
    store.open_run("r", "check", {})
    for i, (result, verdicts) in enumerate(checked):
        graph, root = pg.solution_graph(result, backend=BACKEND_NAME)
        rows = [(pg.node_id("claim", t, BACKEND_NAME), v, p) for t, v, p in verdicts]
        store.commit_item("r", str(i), i, result, graph, root, rows)
    assert len(store.done_keys("r")) == len(checked)
    store.close()
