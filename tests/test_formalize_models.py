"""The autoformalizer end to end with real generation: a tiny random-weight Llama through
``make_sampler("hf:PATH")`` (its output is garbage, which must be filtered, never crash the
pipeline, and be visible in the result), and the same through a vLLM CPU server with
``openai:URL#MODEL`` (slow)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import policy_fixtures as pf
import pytest

from formalizer.autoformalize import FormalizeConfig, formalize, make_sampler

DATA = Path(__file__).parent / "data"
Z3_STATEMENT = json.loads((DATA / "z3_theorems.jsonl").read_text().splitlines()[0])["description"]
FOLIO_ROW = json.loads((DATA / "folio_train_50.jsonl").read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("transformers", "the hf sampler needs torch + transformers")
    return pf.build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"))


def _check_garbage_results(results: list, k: int) -> None:
    for result in results:
        data = result.to_dict()
        json.dumps(data)
        assert data["chosen"] is None
        assert data["reason"].startswith("no candidate survived the type check")
        round0 = [c for c in data["candidates"] if c["round"] == 0]
        assert len(round0) == k
        assert all(c["check"]["status"] == "error" for c in data["candidates"])
        assert all(c["logprob"] is None or (c["logprob"] <= 0 and math.isfinite(c["logprob"]))
                   for c in data["candidates"])
        assert data["provenance"]["repair_rounds_used"] == 1
        assert any(c["round"] == 1 and c["repaired_error"] for c in data["candidates"])


def test_hf_tiny_model_garbage_is_filtered_not_fatal(tiny_llama: Path) -> None:
    sampler = make_sampler(f"hf:{tiny_llama}", max_new_tokens=12, max_input_tokens=160, seed=3)
    items = [Z3_STATEMENT, "For all real x, x^2 >= 0."]
    results = formalize(items, sampler, FormalizeConfig("z3", k=3))
    _check_garbage_results(results, 3)
    prov = results[0].provenance
    assert prov["sampler"]["policy"] == "hf" and prov["sampler"]["spec"].startswith("hf:")
    assert prov["sampler"]["max_new_tokens"] == 12 and prov["sampler"]["seed"] == 3
    fol = formalize([{"id": "f", "premises": FOLIO_ROW["premises"],
                      "conclusion": FOLIO_ROW["conclusion"]}], sampler,
                    FormalizeConfig("fol", k=2))
    _check_garbage_results(fol, 2)
    assert fol[0].vote == {"counts": {}, "voters": 0, "majority": None, "share": None,
                           "note": ""}


def test_make_sampler_rejects_bad_specs() -> None:
    for spec in ("symbolic", "hf:", "openai:http://127.0.0.1:1/v1", "gpt4", "vllm"):
        with pytest.raises(ValueError, match="hf:PATH"):
            make_sampler(spec)
    with pytest.raises(ValueError, match="positive"):
        make_sampler("hf:x", temperature=0)


@pytest.mark.slow
def test_vllm_server_through_openai_spec(vllm_server: pf.VLLMServer) -> None:
    spec = f"openai:{vllm_server.base_url}#{vllm_server.model}"
    sampler = make_sampler(spec, max_new_tokens=24, max_input_tokens=200)
    items = [Z3_STATEMENT, "The square of any integer is at least zero.", "1 + 1 = 2."]
    results = formalize(items, sampler, FormalizeConfig("lean", k=4))
    _check_garbage_results(results, 4)
    assert results[0].provenance["sampler"]["policy"] == "openai"
    assert results[0].provenance["sampler"]["extra_body"] == {"truncate_prompt_tokens": 200}
