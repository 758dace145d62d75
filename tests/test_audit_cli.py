"""``proofgraph audit`` on the cheat corpus (tests/data/lean-cheats, sources in SOURCE.md).

Every case runs through the CLI entry point with ``--repl-command`` starting the stand-in REPL
(tests/fake_lean_repl.py) over real pipes, driven by the case's transcript: the answers a
v4.20 Lean gives (SYNTHETIC, in the recorded fixtures' JSON shape; see build_corpus.py). The
stand-in checks every request byte for byte, so the audit's requests are pinned too.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from fake_lean_repl import argv

from proofgraph.cli import main
from prover.lean.audit import audit
from prover.lean.audit_report import AuditPolicy
from prover.lean.repl import LeanRepl, ReplConfig

CORPUS = Path(__file__).parent / "data" / "lean-cheats"
CASES = [json.loads(line) for line in (CORPUS / "cases.jsonl").read_text("utf-8").splitlines()]
CHEATS = [c for c in CASES if c["kind"] == "cheat"]
CONTROLS = [c for c in CASES if c["kind"] == "control"]
LEAN_CHECKS = ("compile", "axioms", "statement-type")


def _row(case: dict) -> dict:
    return {k: case[k] for k in ("id", "statement", "header", "proof")}


def _run_cli(tmp_path: Path, cases: list[dict], *extra: str) -> tuple[int, list[dict]]:
    inp, out = tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(_row(c), ensure_ascii=False) + "\n" for c in cases),
                   encoding="utf-8")
    code = main(["audit", str(inp), "--out", str(out), "--fresh", *extra])
    return code, [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def _script(tmp_path: Path, case: dict) -> Path:
    path = tmp_path / f"{case['id']}.json"
    path.write_text(json.dumps(case["transcript"], ensure_ascii=False), encoding="utf-8")
    return path


def _audit_case(tmp_path: Path, case: dict) -> dict:
    flags = ["--allow-native-decide"] if case["allow_native"] else []
    command = shlex.join(argv(_script(tmp_path, case)))
    code, results = _run_cli(tmp_path, [case], "--repl-command", command, *flags)
    assert code == 0 and len(results) == 1
    return results[0]


def test_corpus_size_and_sources() -> None:
    assert len(CHEATS) >= 30 and len(CONTROLS) >= 15
    assert all(c["source"] for c in CASES)
    sources = (CORPUS / "SOURCE.md").read_text("utf-8")
    for name in ("SafeVerify", "comparator", "LeanParanoia", "repl", "Pantograph", "kimina"):
        assert name in sources


def test_corpus_file_is_what_the_builder_builds() -> None:
    sys.path.insert(0, str(CORPUS))
    try:
        import build_corpus
    finally:
        sys.path.remove(str(CORPUS))
    built = build_corpus.build()
    assert [json.loads(json.dumps(b, ensure_ascii=False)) for b in built] == CASES


@pytest.mark.parametrize("case", CHEATS, ids=[c["id"] for c in CHEATS])
def test_every_cheat_is_refuted(tmp_path: Path, case: dict) -> None:
    result = _audit_case(tmp_path, case)
    assert result["verdict"] == "refuted", result
    failed = [c["check"] for c in result["checks"] if c["status"] == "failed"]
    assert failed == [case["expect"]], result["checks"]


@pytest.mark.parametrize("case", CONTROLS, ids=[c["id"] for c in CONTROLS])
def test_every_control_is_verified(tmp_path: Path, case: dict) -> None:
    result = _audit_case(tmp_path, case)
    assert result["verdict"] == "verified", result
    assert {c["check"]: c["status"] for c in result["checks"]} == {
        "statement": "passed", "lint": "passed", "tactic-steps": "not-checked",
        "compile": "passed", "axioms": "passed", "statement-type": "passed"}


@pytest.mark.parametrize("case", [c for c in CHEATS if c["transcript"]],
                         ids=[c["id"] for c in CHEATS if c["transcript"]])
def test_lean_answers_alone(case: dict, tmp_path: Path) -> None:
    """Defence in depth: with the lint bypassed, Lean's own answers refute the cheat at
    ``lean_catches``; where that is None, Lean alone would accept it and the lint is the only
    guard (SafeVerify's ReplaceAxiom/AddFalse, skipKernelTC, #eval side effects)."""
    repl = LeanRepl(ReplConfig(command=argv(_script(tmp_path, case)), cwd=None,
                               memory_limit_mb=1024))
    policy = AuditPolicy(allow_native_decide=case["allow_native"], lean_after_lint_failure=True)
    with repl:
        report = audit(case["statement"], case["proof"], repl, header=case["header"],
                       policy=policy)
    lean = {name: report.check(name).status for name in LEAN_CHECKS}
    if case["lean_catches"] is None:
        assert set(lean.values()) == {"passed"}, report.checks
    else:
        assert lean[case["lean_catches"]] == "failed", report.checks
    assert report.verdict.kind == "refuted"


def test_without_lean_cheats_are_refuted_or_unknown_never_verified(tmp_path: Path) -> None:
    code, results = _run_cli(tmp_path, CASES, "--no-lean")
    assert code == 0
    by_id = {r["id"]: r for r in results}
    for case in CASES:
        result = by_id[case["id"]]
        assert result["verdict"] != "verified"
        native = case["allow_native"] and "native_decide" in case["proof"]  # not allowed here
        if case["kind"] == "cheat" and case["expect"] in ("lint", "statement") or native:
            assert result["verdict"] == "refuted", case["id"]
        else:
            assert (result["verdict"], result["reason"]) == ("unknown", "not-checked")
            assert [c["status"] for c in result["checks"][3:]] == ["not-checked"] * 3


def test_missing_lean_binary_is_not_checked(tmp_path: Path) -> None:
    case = CONTROLS[0]
    code, results = _run_cli(tmp_path, [case], "--repl-command", "/nonexistent/repl")
    assert code == 0
    assert (results[0]["verdict"], results[0]["reason"]) == ("unknown", "not-checked")


def test_repl_command_from_the_environment(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    case = next(c for c in CONTROLS if c["id"] == "plain-tactic")
    monkeypatch.setenv("PROOFGRAPH_LEAN_REPL_CMD", shlex.join(argv(_script(tmp_path, case))))
    code, results = _run_cli(tmp_path, [case])
    assert code == 0 and results[0]["verdict"] == "verified"


def test_resume_store_and_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp, out, store = tmp_path / "rows.jsonl", tmp_path / "out.jsonl", tmp_path / "s.db"
    rows = [_row(CHEATS[0]), {"id": "bad", "statement": 3, "proof": "by simp"},
            _row(CONTROLS[0])]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n", "utf-8")
    args = ["audit", str(inp), "--out", str(out), "--store", str(store), "--no-lean", "--json"]
    assert main(args) == 3  # malformed rows are reported, the others audited
    first = json.loads(capsys.readouterr().out)
    assert first["rows"] == 4 and first["rejected"] == 2
    assert first["verdicts"] == {"refuted": 1, "unknown: not-checked": 1}
    assert main(args) == 3
    second = json.loads(capsys.readouterr().out)
    assert second["resumed"] and second["run_id"] == first["run_id"]
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == 4 and len({json.loads(x)["key"] for x in lines}) == 4
    from prover.records.store import Store

    with Store(store) as db:
        stored = [r for _, r in db.item_results(first["run_id"])]
    assert [r.get("verdict") for r in stored] == ["refuted", None, "unknown", None]


def test_python_api() -> None:
    import proofgraph

    results = proofgraph.audit([_row(CHEATS[0]), _row(CONTROLS[0])], lean=False)
    assert [r["verdict"] for r in results] == ["refuted", "unknown"]
    assert results[0]["checks"][1]["check"] == "lint"


# --------------------------------------------------------------------------- live Lean
LIVE = pytest.mark.skipif(shutil.which("lake") is None,
                          reason="needs a Lean 4 toolchain: `lake` is not on PATH "
                                 "(run scripts/setup_lean.sh)")
SYNTHETIC_ONLY = {"native-from-header-library", "native-without-own-native-decide",
                  "safeverify-good-typeclass"}
"""Cases that only make sense with the recorded answers: NativeLib exists nowhere, and the
SafeVerify control's tactic script was written for another Mathlib than the pinned one."""


@pytest.mark.lean
@LIVE
@pytest.mark.parametrize("case", [c for c in CASES if c["id"] not in SYNTHETIC_ONLY],
                         ids=[c["id"] for c in CASES if c["id"] not in SYNTHETIC_ONLY])
def test_live_corpus_verdicts(tmp_path: Path, case: dict) -> None:
    """What a user with Lean runs: the same corpus through ``proofgraph audit`` and the real
    REPL (``lake env <repl>`` in lean_project, or $PROOFGRAPH_LEAN_REPL_CMD)."""
    flags = ["--allow-native-decide"] if case["allow_native"] else []
    code, results = _run_cli(tmp_path, [case], *flags)
    assert code == 0
    expected = "verified" if case["kind"] == "control" else "refuted"
    assert results[0]["verdict"] == expected, results[0]


@pytest.mark.lean
@LIVE
@pytest.mark.parametrize("case", [c for c in CHEATS if c["transcript"] and c["id"] not in
                                  SYNTHETIC_ONLY | {"eval-side-effect"}],
                         ids=[c["id"] for c in CHEATS if c["transcript"] and c["id"] not in
                              SYNTHETIC_ONLY | {"eval-side-effect"}])
def test_live_lean_answers_alone(case: dict) -> None:
    """The recorded answers' conclusion, checked against a real Lean: with the lint bypassed
    the cheat fails at ``lean_catches`` (this RUNS the cheats' metaprograms: sandbox only)."""
    policy = AuditPolicy(allow_native_decide=case["allow_native"], lean_after_lint_failure=True)
    with LeanRepl(ReplConfig.from_env()) as repl:
        report = audit(case["statement"], case["proof"], repl, header=case["header"],
                       policy=policy)
    lean = [report.check(name).status for name in LEAN_CHECKS]
    if case["lean_catches"] is not None:  # Lean alone refutes it (maybe at an earlier check)
        assert "failed" in lean, report.checks
