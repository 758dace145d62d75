"""``proofgraph formalize`` from the command line: one statement with --json, the JSONL batch
(bad rows rejected with their line, exit 3), resume without duplicates, and usage errors
(missing --model, bad target, bad spec) with exit 2 and no traceback. The model is a tiny
random-weight Llama (garbage output: nothing survives, visibly)."""

from __future__ import annotations

import json
from pathlib import Path

import policy_fixtures as pf
import pytest

from proofgraph.cli import main

DATA = Path(__file__).parent / "data"
MINIF2F = [json.loads(line) for line in
           (DATA / "minif2f_informal_20.jsonl").read_text(encoding="utf-8").splitlines()]
FOLIO = [json.loads(line) for line in
         (DATA / "folio_train_50.jsonl").read_text(encoding="utf-8").splitlines()]
FAST = ["-k", "2", "--max-new-tokens", "12", "--max-input-tokens", "160", "--seed", "1"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    pf.require("transformers", "the CLI model tests need torch + transformers")
    return f"hf:{pf.build_tiny_llama(tmp_path_factory.mktemp('cli_llama'))}"


def test_one_statement_json_shows_the_filtered_garbage(model: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    text = MINIF2F[0]["informal_stmt"]
    assert main(["formalize", text, "--target", "z3", "--model", model, "--json", *FAST]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chosen"] is None and "no candidate survived" in out["reason"]
    assert out["summary"]["candidates"] >= 2 and out["summary"]["typechecked"] == 0
    assert all(c["check"]["status"] == "error" for c in out["candidates"])
    assert out["provenance"]["config"]["k"] == 2
    assert main(["formalize", text, "--target", "lean", "--model", model, *FAST]) == 0
    assert "chosen: none (no candidate survived" in capsys.readouterr().out


def test_batch_rejects_bad_rows_and_resumes_without_duplicates(
        model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.dumps({"id": MINIF2F[1]["id"], "text": MINIF2F[1]["informal_stmt"]}),
            '{"id": "broken", "text": ',
            json.dumps({"id": "p", "text": "x", "premises": "not a list"}),
            json.dumps({"example_id": FOLIO[0]["example_id"], "premises": FOLIO[0]["premises"],
                        "conclusion": FOLIO[0]["conclusion"]})]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = ["formalize", "--input", str(path), "--out", str(out), "--target", "fol",
            "--model", model, "--json", "--batch-size", "1", *FAST]
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert f"{path}:2: malformed JSON" in captured.err
    assert f"{path}:3: item p: 'premises' must be a list of strings" in captured.err
    summary = json.loads(captured.out)
    assert (summary["rows"], summary["rejected"], summary["nothing_survived"]) == (4, 2, 2)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["key"] for r in lines] == ["0", "1", "2", "3"]
    assert lines[3]["id"] == str(FOLIO[0]["example_id"]) and "vote" in lines[3]
    assert "Traceback" not in captured.err
    before = out.read_text(encoding="utf-8")
    assert main(argv) == 3  # resume: everything is done, nothing is written twice
    again = json.loads(capsys.readouterr().out)
    assert again["resumed"] is True and again["rows"] == 4
    assert out.read_text(encoding="utf-8") == before


def test_usage_errors_exit_2_without_traceback(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formalize", "x", "--target", "z3"]) == 2
    err = capsys.readouterr().err
    assert "needs a model: --model hf:PATH | openai:URL#MODEL | vllm:PATH" in err
    assert main(["formalize", "x", "--target", "z3", "--model", "gpt4"]) == 2
    assert "is not one of hf:PATH" in capsys.readouterr().err
    assert main(["formalize", "--target", "z3", "--model", "hf:x"]) == 2
    assert "either a statement TEXT or --input" in capsys.readouterr().err
    assert main(["formalize", "--input", str(tmp_path / "missing.jsonl"), "--target", "z3",
                 "--model", "hf:x"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["formalize", "x", "--target", "z3", "--model", "hf:x",
                 "--premise", "p"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["formalize", "x", "--target", "coq", "--model", "hf:x"])
    assert exc.value.code == 2
    assert "invalid choice: 'coq'" in capsys.readouterr().err
