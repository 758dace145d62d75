"""Unusable models and servers give one clear line, never a traceback and never the network.

A model spec naming a path that does not exist fails before any engine or loader starts and
without touching the network (``hf:``, ``vllm:``, the ``formalize`` API); an unreachable
OpenAI-compatible server ends ``prove`` and ``formalize`` with one ``proofgraph: error:`` line
and exit 2.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import types
from pathlib import Path

import pytest

import proofgraph
from proofgraph.cli import EXIT_USAGE, main
from prover.policy.offline import ModelNotFoundError, local_model
from prover.policy.registry import PolicySpecError, make_policy

THEOREM = {"id": "sq", "smt2": "(declare-const x Int) (assert (> x 2))", "goal": "(> (* x x) 4)"}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection (the hub, a download) fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def no_vllm_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake ``vllm`` whose engine constructor fails the test if it is ever called."""
    fake = types.ModuleType("vllm")

    def engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("a vLLM engine was started for a missing model")

    fake.LLM = engine  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", fake)


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("proofgraph: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("spec", ["hf:/nonexistent/model", "hf:./no-such-dir",
                                  "hf:no-such-org/no-such-model", "vllm:/nonexistent"])
def test_missing_model_path_is_a_local_error(spec: str, no_network: None,
                                             no_vllm_engine: None) -> None:
    with pytest.raises(PolicySpecError) as info:
        make_policy(spec, "z3")
    message = str(info.value)
    assert "no such model file or folder" in message and spec in message
    assert "repo id" not in message.lower() and "huggingface.co" not in message


def test_policy_classes_check_the_path_before_loading(no_network: None,
                                                      no_vllm_engine: None) -> None:
    from prover.policy.hf import HFPolicy
    from prover.policy.vllm_engine import VLLMPolicy

    with pytest.raises(ModelNotFoundError, match="hf:/nonexistent"):
        HFPolicy("/nonexistent")
    with pytest.raises(ModelNotFoundError, match="vllm:/nonexistent"):
        VLLMPolicy("/nonexistent")
    assert os.environ.get("HF_HUB_OFFLINE") and os.environ.get("TRANSFORMERS_OFFLINE")


def test_local_model_accepts_existing_paths(tmp_path: Path) -> None:
    assert local_model("hf", str(tmp_path)) == str(tmp_path)
    with pytest.raises(ModelNotFoundError):
        local_model("hf", str(tmp_path / "missing"))


def test_formalize_api_with_a_missing_model_never_tries_the_hub(no_network: None) -> None:
    with pytest.raises(ValueError, match="no such model file or folder"):
        proofgraph.formalize("x is even", target="z3", model="hf:PATH")


@pytest.mark.parametrize("spec", ["hf:/nonexistent", "vllm:/nonexistent"])
def test_cli_missing_model_one_line(spec: str, capsys: pytest.CaptureFixture[str],
                                    no_network: None, no_vllm_engine: None) -> None:
    assert main(["formalize", "x is even", "--target", "z3", "--model", spec]) == EXIT_USAGE
    assert "no such model file or folder" in one_error_line(capsys.readouterr().err)
    assert main(["prove", "--row", json.dumps(THEOREM), "--policy", spec]) == EXIT_USAGE
    assert "no such model file or folder" in one_error_line(capsys.readouterr().err)


def test_unreachable_server_in_prove_is_one_line(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    code = main(["prove", "--row", json.dumps(THEOREM), "--policy",
                 f"openai:{closed_port_url()}#m", "--store", str(tmp_path / "s.sqlite")])
    assert code == EXIT_USAGE
    line = one_error_line(capsys.readouterr().err)
    assert "model server request failed" in line and "connection" in line


def test_unreachable_server_in_formalize_is_one_line(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    url = closed_port_url()
    code = main(["formalize", "x is even", "--target", "z3", "-k", "1",
                 "--model", f"openai:{url}#m"])
    assert code == EXIT_USAGE
    assert "model server request failed" in one_error_line(capsys.readouterr().err)
    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps({"id": "a", "text": "x is even"}) + "\n", encoding="utf-8")
    code = main(["formalize", "--input", str(rows), "--target", "z3", "-k", "1",
                 "--model", f"openai:{url}#m", "--out", str(tmp_path / "o.jsonl")])
    assert code == EXIT_USAGE
    assert "model server request failed" in one_error_line(capsys.readouterr().err)


def test_unreachable_server_in_check_formalizer_ends_the_run_without_row_errors(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = tmp_path / "s.jsonl"
    rows.write_text(json.dumps({"id": "a", "problem": "p", "steps": ["2 + 2 = 4"]}) + "\n",
                    encoding="utf-8")
    out = tmp_path / "o.jsonl"
    code = main(["check", str(rows), "--formalizer", f"llm:openai:{closed_port_url()}#m",
                 "--out", str(out)])
    assert code == EXIT_USAGE
    assert "connection" in one_error_line(capsys.readouterr().err)
    # nothing was recorded as a (permanent) row error: a rerun with the server up does the row
    assert not out.exists() or out.read_text(encoding="utf-8").strip() == ""
