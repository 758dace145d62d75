"""What makes step checking fast must not change what it decides: exact evaluation agrees with
Z3 on real claims, the solver memo returns the first answer, an empty query needs no solver, the
watchdog still fires for an earlier deadline, the one S-expression reader keeps parse_smt's
errors, and ``check --solver-budget`` is validated and reaches the checker."""

from __future__ import annotations

import json
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest
import z3

from formalizer.extract import extract_claims
from formalizer.normalize import normalize_math
from formalizer.stepcheck import Solution, StepChecker
from prover.arith.ast import Bin, Relation, is_opaque, num, to_smt, variables
from prover.arith.check import ArithChecker, Premises, check_ground
from prover.arith.parse import ArithSyntaxError, TooLargeError, parse_chain
from prover.arith.smt_read import parse_smt
from prover.z3.arith import Z3ArithBackend
from prover.z3.gateway import Limits, Watchdog, solve

DATA = Path(__file__).parent / "data"


def _real_ground_claims() -> list:
    """Ground relations from real text: GSM8K calculator annotations and the prose equations
    the extractor reads in the same solutions and in the ProcessBench slices."""
    rels = []
    texts: list[str] = []
    with (DATA / "gsm8k_train_300.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            answer = json.loads(line)["answer"]
            for part in answer.split("<<")[1:]:
                rels.extend(parse_chain(normalize_math(part.split(">>")[0])))
            texts.extend(answer.split("\n"))
    slices = json.loads((DATA / "processbench_slices.json").read_text(encoding="utf-8"))
    for case in slices.values():
        texts.extend(case["steps"] if isinstance(case, dict) and "steps" in case else [])
    for text in texts:
        for raw in extract_claims(text, set(), frozenset()):
            if raw.error is None:
                rels.extend(raw.relations)
    seen, out = set(), []
    for rel in rels:
        if variables(rel) or is_opaque(rel) or rel.op == "~=" or to_smt(rel) in seen:
            continue
        seen.add(to_smt(rel))
        out.append(rel)
    return out


def test_exact_evaluation_agrees_with_z3_on_real_claims() -> None:
    """The exact fast path decides ground claims without Z3; on every real ground claim it
    decides, Z3 (premises ⊢ claim, the same backend the checker uses) gives the same verdict."""
    backend = Z3ArithBackend(2000, 5_000_000)
    compared = disagreements = 0
    kinds: set[str] = set()
    claims = _real_ground_claims()
    # and an off-by-one mutant of each (the value error of a wrong step): refutations to compare
    mutants = [Relation(rel.op, rel.left, Bin("+", rel.right, num(Fraction(1))))
               for rel in claims[:400]]
    for rel in claims + mutants:
        exact = check_ground(rel)
        if exact is None or exact.kind == "unknown" or "division_by_zero" in exact.evidence:
            continue
        if "(^ " in to_smt(rel) and compared > 50:
            continue  # powers go to an isolated worker: a few suffice, the rest cost seconds
        by_z3 = backend.check(rel, Premises())
        compared += 1
        kinds.add(exact.kind)
        if by_z3.kind != exact.kind:
            disagreements += 1
            print("disagree:", to_smt(rel), exact.kind, by_z3.kind)
    assert compared >= 600
    assert {"verified", "refuted"} <= kinds
    assert disagreements == 0


def test_solver_memo_returns_the_first_answer_without_a_solver_call(monkeypatch) -> None:
    checker = ArithChecker()
    calls: list[str] = []
    decide = ArithChecker._z3_decide

    def counting(self, rel, premises):
        calls.append(to_smt(rel))
        return decide(self, rel, premises)

    monkeypatch.setattr(ArithChecker, "_z3_decide", counting)
    # nonlinear premises: linear ones are decided exactly, without the solver (check.py)
    premises = Premises(values={}, constraints=parse_chain("2x^2 + 3 = 75"))
    first = checker.check(parse_chain("x^2 = 36")[0], premises)
    again = checker.check(parse_chain("x^2 = 36")[0], premises)
    assert first == again and first[0].kind == "verified" and len(calls) == 1
    other = Premises(values={}, constraints=parse_chain("2x^2 + 3 = 77"))
    assert checker.check(parse_chain("x^2 = 36")[0], other)[0].kind == "refuted"
    assert len(calls) == 2  # other premises: another query


def test_an_empty_query_needs_no_solver(monkeypatch) -> None:
    ctx = z3.Context()

    def no_solver(*args, **kwargs):
        raise AssertionError("a solver was built for an empty query")

    monkeypatch.setattr(z3, "Solver", no_solver)
    assert solve([], ctx=ctx, limits=Limits(), want_model=False).sat
    with pytest.raises(AssertionError):
        solve([], ctx=ctx, limits=Limits(), want_model=True)


def test_watchdog_fires_for_an_earlier_deadline_after_a_later_one() -> None:
    class FakeContext:
        def __init__(self) -> None:
            self.interrupted = threading.Event()

        def interrupt(self) -> None:
            self.interrupted.set()

    late, early = FakeContext(), FakeContext()
    with Watchdog(late, 600.0), Watchdog(early, 0.05):  # type: ignore[arg-type]
        assert early.interrupted.wait(30)
    assert not late.interrupted.is_set()


def test_parse_smt_reads_through_the_one_sexpr_reader() -> None:
    rel = parse_chain("2x + 3 = 15")[0]
    assert parse_smt(to_smt(rel)) == rel
    with pytest.raises(TooLargeError):
        parse_smt("(" * 300 + ")" * 300)
    for bad in ("(= 1 2", "(= 1 2))", "(= 1 2) (= 3 4)", "(= |a b| 2)"):
        with pytest.raises(ArithSyntaxError):
            parse_smt(bad)


@pytest.mark.parametrize("value, message", [("-1", "must be a finite number >= 0"),
                                            ("abc", "expected a number of seconds"),
                                            ("nan", "must be a finite number >= 0"),
                                            ("inf", "must be a finite number >= 0")])
def test_solver_budget_option_rejects_bad_values(value: str, message: str, capsys) -> None:
    from proofgraph.cli import build_parser

    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["check", "x.jsonl", "--solver-budget", value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_solver_budget_option_reaches_the_checker(tmp_path: Path, capsys) -> None:
    from proofgraph.cli import build_parser, main

    assert build_parser().parse_args(["check", "x.jsonl"]).solver_budget is None
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "r", "problem": "", "steps": [
        "2 + 2 = 4", "200 + 200x = 228", "so x = 0.14"]}) + "\n", encoding="utf-8")
    verdicts = {}
    for budget in ("0", "5"):
        out = tmp_path / f"out-{budget}.jsonl"
        code = main(["check", str(rows), "--format", "steps", "--out", str(out), "--json",
                     "--no-progress", "--solver-budget", budget])
        capsys.readouterr()
        assert code == 0
        result = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
        verdicts[budget] = [(c["verdict"], c["reason"]) for s in result["steps"]
                            for c in s["claims"]]
    # the constraint binds only; "so x = 0.14" needs the solver (exact evaluation cannot)
    assert verdicts["0"] == [("verified", None), (None, None), ("unknown", "budget")]
    assert verdicts["5"] == [("verified", None), (None, None), ("verified", None)]


def test_default_budget_and_a_stepchecker_reused_across_solutions() -> None:
    """The budget is per solution: a second solution gets it whole again."""
    checker = StepChecker(solver_budget_s=5.0)
    steps = [r"\(\sqrt{2} \cdot \sqrt{2} = 2\)"]
    for _ in range(2):
        result, _ = checker.check(Solution("t", "", steps))
        assert result["steps"][0]["verdict"] == "verified"
    assert StepChecker().solver_budget_s == 0.25


def test_loading_z3_is_not_charged_to_the_solver_budget(monkeypatch) -> None:
    """In a fresh process the first claim that needs Z3 loads it (about a second on a busy
    machine); that set-up must not spend the solution's solver budget (it did: a contradiction
    in the first solution of a run went unflagged)."""
    init = Z3ArithBackend.__init__

    def slow_init(self, *args, **kwargs):
        time.sleep(1.2)  # longer than the whole budget below
        init(self, *args, **kwargs)

    monkeypatch.setattr(Z3ArithBackend, "__init__", slow_init)
    checker = StepChecker(solver_budget_s=1.0)
    result, _ = checker.check(Solution("t", "", ["200 + 200x = 228", "so x = 0.15"]))
    assert result["first_error"] == 1
