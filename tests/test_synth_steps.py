"""The ``steps`` synthetic-data task: every emitted label re-checked by a fresh step checker,
each mutation operator's effect, the label policy, determinism, pickling and bad rows."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from formalizer.mutations import OPS, VALUE_OPS, computations, mutate, sample_mutations
from formalizer.stepcheck import Solution, StepChecker
from formalizer.synth_steps import StepsTask, decisive_label

DATA = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"
WENG = ["Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.",
        "Working 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10."]


@pytest.fixture(scope="module")
def slice20(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steps") / "gsm8k20.jsonl"
    path.write_text("".join(DATA.read_text(encoding="utf-8").splitlines(True)[:20]),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def outputs(slice20: Path) -> list[tuple[str, Any]]:
    task = StepsTask(slice20, mutations_per_solution=4, seed=0)
    return [(key, task.run(payload)) for key, payload in task.items()]


def _check(problem: str, steps: list[str]) -> dict[str, Any]:
    result, _ = StepChecker().check(Solution("recheck", problem, list(steps)))
    return result


def _first_refuted(result: dict[str, Any]) -> int:
    return next((s["index"] for s in result["steps"] if s["verdict"] == "refuted"), -1)


def test_every_label_is_rechecked_by_a_fresh_checker(outputs: list[tuple[str, Any]]) -> None:
    rows = [row for _, out in outputs for row in out.rows]
    assert len(outputs) == 20 and all(out.ok for _, out in outputs)
    assert sum(r["source"] == "original" for r in rows) >= 18
    assert sum(r["source"] == "mutation" for r in rows) >= 40
    for row in rows:
        result = _check(row["problem"], row["steps"])
        assert _first_refuted(result) == row["label"], row
        before = result["steps"][: row["label"]] if row["label"] >= 0 else result["steps"]
        assert all(s["verdict"] != "unknown" for s in before), "label must be decisive"
        assert [e["verdict"] for e in row["evidence"]] == [s["verdict"] for s in result["steps"]]
        assert set(row) >= {"kind", "problem", "steps", "label", "source", "mutation",
                            "evidence", "provenance", "meta"}
        assert row["kind"] == "step_label" and row["provenance"]["checker"]["limits"]
        if row["source"] == "mutation" and row["mutation"]["op"] in VALUE_OPS:
            assert row["label"] == row["mutation"]["step"]
            refuted = [c for c in row["evidence"][row["label"]]["claims"]
                       if c["verdict"] == "refuted"]
            assert refuted and all(c["evidence"] for c in refuted), "counter-values recorded"


def test_mutants_differ_from_their_original_only_where_the_operator_says(
        outputs: list[tuple[str, Any]]) -> None:
    by_line = {key: out.rows for key, out in outputs}
    for key, rows in by_line.items():
        originals = [r for r in rows if r["source"] == "original"]
        if not originals:
            continue
        steps = originals[0]["steps"]
        for row in rows[1:]:
            m = row["mutation"]
            if m["op"] == "drop_step":
                assert row["steps"] == steps[:m["step"]] + steps[m["step"] + 1:]
            elif m["op"] == "repeat_step":
                assert row["steps"] == steps[:m["step"]] + [m["to"]] + steps[m["step"]:]
            else:
                changed = [i for i, (a, b) in enumerate(zip(steps, row["steps"], strict=True))
                           if a != b]
                assert changed == [m["step"]], (key, m)


@pytest.mark.parametrize("op", OPS)
def test_each_operator_has_its_effect_and_the_checker_agrees(op: str) -> None:
    mutation = mutate(WENG, op, 0, random.Random(3))
    assert mutation is not None and mutation.op == op
    steps = list(mutation.steps)
    label, _ = decisive_label(_check("", steps))
    if op == "drop_step":
        assert steps == WENG[1:] and label == -1  # a shorter solution that still checks
    elif op == "repeat_step":
        assert steps == [WENG[0], WENG[0], WENG[1]] and label == -1
    else:
        assert steps[1] == WENG[1] and steps[0] != WENG[0] and label == 0
        assert steps[0].count(mutation.target) >= 2, "annotation and prose edited together"
    if op == "operator":
        assert (mutation.source, mutation.target) == ("/", "*")
        assert "12*60 = $<<12*60=0.2>>" in steps[0]
    if op == "unit":
        assert (mutation.source, mutation.target) == ("60", "100")
    if op == "off_by_one":
        assert mutation.source == "0.2" and mutation.target in ("1.2",)
    if op == "number":
        assert abs(float(mutation.target) - float(mutation.source)) >= 2


def test_computations_couple_prose_and_annotation() -> None:
    text = "Then 5 snakes/jaguar * 6 jaguars = <<5*6=30>>30 snakes, and 48 + 24 = 72."
    comps = computations(text)
    assert len(comps) == 2
    spelled = [[text[a:b] for a, b in group] for group in comps[0].operands]
    assert spelled == [["5", "5"], ["6", "6"]]  # the unit slash is not an operator
    assert [[text[a:b] for a, b in g] for g in comps[0].operators] == [["*", "*"]]
    assert [text[a:b] for a, b in comps[1].result] == ["72"]


def test_label_policy_skips_undecided_and_labels_existing_errors(tmp_path: Path) -> None:
    rows = [{"id": "wrong", "problem": "", "steps": ["48/2 = 24", "48 + 24 = 70"]},
            {"id": "undecided", "problem": "",
             "steps": ["3 + 4 = 7", "12 inches * 3 = 3 feet", "7 * 2 = 14"]}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    task = StepsTask(path, mutations_per_solution=6, seed=1)
    (_, wrong), (_, undecided) = list(task.items())
    out = task.run(wrong)
    assert out.ok and out.rows[0]["source"] == "original" and out.rows[0]["label"] == 1
    labels = task.label(undecided)
    assert labels.original.startswith("undecided")
    assert all(r["source"] == "mutation" for r in labels.rows)
    for row in labels.rows:  # only step 0 or the unknown step 1 may be mutated
        assert row["mutation"]["step"] <= 1 or row["mutation"]["op"] == "repeat_step"
        assert _first_refuted(_check("", row["steps"])) == row["label"]
    assert sum(labels.dropped.values()) + sum(labels.kept.values()) >= 1


def test_deterministic_for_a_seed_and_different_across_seeds(slice20: Path) -> None:
    def rows(seed: int) -> list[dict[str, Any]]:
        task = StepsTask(slice20, mutations_per_solution=4, seed=seed)
        out = [task.run(p) for _, p in list(task.items())[:6]]
        return [{k: v for k, v in r.items() if k != "meta"} for o in out for r in o.rows]

    assert rows(0) == rows(0)
    assert rows(0) != rows(1)


def test_task_pickles_and_runs_after_unpickling(slice20: Path) -> None:
    task = StepsTask(slice20, mutations_per_solution=2, seed=5)
    clone = pickle.loads(pickle.dumps(task))
    key, payload = next(iter(clone.items()))
    assert clone.config() == task.config() and key == "0"
    strip = [{k: v for k, v in r.items() if k != "meta"} for r in clone.run(payload).rows]
    assert strip == [{k: v for k, v in r.items() if k != "meta"} for r in task.run(payload).rows]


def test_bad_rows_fail_with_a_reason_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "problem": "", "steps": ["1 + 1 = 2"]}\n'
                    '{not json\n'
                    '{"id": "b", "steps": []}\n'
                    '{"id": "c", "steps": [3]}\n', encoding="utf-8")
    task = StepsTask(path)
    outs = {key: task.run(payload) for key, payload in task.items()}
    assert list(outs) == ["0", "1", "2", "3"]
    assert outs["0"].ok and outs["0"].rows[0]["label"] == -1
    for key in ("1", "2", "3"):
        assert not outs[key].ok and outs[key].reason.startswith(f"line {int(key) + 1}:")
    assert "malformed JSON" in outs["1"].reason and "empty" in outs["2"].reason
    assert "steps[0]" in outs["3"].reason
    with pytest.raises(ValueError, match="unknown format"):
        StepsTask(path, fmt="csv")


def test_sampling_gives_distinct_mutants_within_allowed_steps() -> None:
    steps = ["3 + 4 = 7", "7 * 2 = 14", "14 - 4 = 10"]
    muts = sample_mutations(steps, 8, random.Random(0), allowed=[0, 1])
    assert len({m.steps for m in muts}) == len(muts) >= 6
    assert all(m.step <= 1 or m.op == "repeat_step" for m in muts)
    assert {m.op for m in muts} >= {"number", "operator", "off_by_one", "drop_step"}
