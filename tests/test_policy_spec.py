"""``check_spec`` judges a policy spec without loading an engine: the parent of a
``--workers``/``--ray`` run uses it so a bad spec is one error line, not a dead worker per row."""

from __future__ import annotations

import subprocess
import sys

import pytest

from prover.policy.registry import PolicySpecError, check_spec


@pytest.mark.parametrize("spec, message", [
    ("foo", "unknown policy 'foo'"),
    ("hf", "hf policy needs a model path"),
    ("vllm:", "vllm policy needs a model path"),
    ("hf:/no/such/model", "no such model file or folder"),
    ("openai:http://127.0.0.1:8000/v1", "openai policy needs URL#MODEL"),
    ("openai:#m", "openai policy needs URL#MODEL"),
])
def test_bad_specs_are_rejected_with_their_reason(spec: str, message: str) -> None:
    with pytest.raises(PolicySpecError, match=message):
        check_spec(spec)


@pytest.mark.parametrize("spec", ["symbolic", "openai:http://127.0.0.1:8000/v1#m"])
def test_good_specs_pass(spec: str) -> None:
    check_spec(spec)


def test_checking_a_local_model_spec_imports_no_engine(tmp_path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    code = ("import sys\nfrom prover.policy.registry import check_spec\n"
            f"check_spec('hf:{model}')\n"
            "print(sorted(m for m in ('torch', 'transformers', 'vllm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"
