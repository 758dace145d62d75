"""Prompt templates, candidate ranking, and the Hugging Face policy on tiny random models built
in code (a character-level Llama and T5): one batched ``generate`` per ``propose``, the exact
prompts, sequence logprobs that agree with a teacher-forced forward pass, determinism, and
garbage that never crashes."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest

from prover.policy.hf import HFPolicy, split_completion
from prover.policy.prompts import (
    REPROVER_CAUSAL,
    REPROVER_SEQ2SEQ,
    PromptTemplate,
    is_usable,
    rank_candidates,
    request_seed,
    resolve_template,
)
from prover.policy.sampling import SamplingParams
from search.protocols import Candidate, Policy, State

STATES = [
    State("n : ℕ\n⊢ n + 0 = n"),
    State("⊢ True"),
    State("a b : ℕ\n⊢ a + b = b + a"),
    State("f : ℕ → ℕ\nh : ∀ x, f x = {x}\n⊢ f 0 = 0"),
    State("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q"),
]


# --- prompts and ranking (no model needed) ---------------------------------------------------

def test_reprover_template_renders_exactly_and_keeps_braces() -> None:
    state = State("h : ∀ x, f x = {x}\n⊢ f 0 = 0")
    assert REPROVER_CAUSAL.render(state) == "[GOAL]\nh : ∀ x, f x = {x}\n⊢ f 0 = 0\n[PROOFSTEP]\n"
    assert REPROVER_SEQ2SEQ.render("⊢ {a}") == "⊢ {a}"


def test_template_hash_identifies_template_and_stops() -> None:
    same = PromptTemplate("[GOAL]\n{state}\n[PROOFSTEP]\n", name="other label")
    assert same.sha256 == REPROVER_CAUSAL.sha256
    assert PromptTemplate("[GOAL]\n{state}\n[PROOFSTEP]\n", stop=(";",)).sha256 != same.sha256
    assert PromptTemplate("Goal: {state}\nTactic:").sha256 != same.sha256
    assert len(REPROVER_CAUSAL.sha256) == 64
    assert REPROVER_CAUSAL.describe()["prompt_sha256"] == REPROVER_CAUSAL.sha256


def test_resolve_template_by_object_name_or_text() -> None:
    assert resolve_template(None) is REPROVER_CAUSAL
    assert resolve_template(None, REPROVER_SEQ2SEQ) is REPROVER_SEQ2SEQ
    assert resolve_template("reprover-seq2seq") is REPROVER_SEQ2SEQ
    assert resolve_template("State: {state} Tactic:").render("x") == "State: x Tactic:"
    with pytest.raises(ValueError, match="placeholder"):
        resolve_template("no placeholder here")


def test_rank_candidates_cuts_filters_dedups_and_sorts() -> None:
    raw = [
        ("simp\nnext line", -2.0), ("  simp  ", -1.0), ("ring", -3.0), ("ring", -0.5),
        ("", -0.1), ("   ", -0.1), ("\nlater", -0.1), ("bad\ufffdbytes", -0.1),
        ("nul\x00char", -0.1), ("nan", math.nan), ("neg-inf", -math.inf), ("omega", 1e-9),
        ("linarith", -4.0),
    ]
    ranked = rank_candidates(raw, k=3)
    assert ranked == [Candidate("omega", 0.0), Candidate("ring", -0.5), Candidate("simp", -1.0)]
    assert len(rank_candidates(raw, k=10)) == 4
    assert rank_candidates(raw, k=0) == []
    assert is_usable("exact ⟨hp, hq⟩") and not is_usable("") and not is_usable("a\x07b")


def test_request_seed_depends_on_seed_and_prompt_only() -> None:
    assert request_seed(0, "p") == request_seed(0, "p")
    assert request_seed(0, "p") != request_seed(1, "p")
    assert request_seed(0, "p") != request_seed(0, "q")
    assert 0 <= request_seed(7, "x" * 1000) < 2**31


def test_split_completion_sums_through_the_terminator() -> None:
    def decode(ids: Any) -> str:
        return "".join(chr(i) for i in ids)

    ids = [ord(c) for c in "ab\ncd"]
    assert split_completion(ids, [-1.0] * 5, decode, {0}, ("\n",)) == ("ab\n", -3.0)
    eos = [ord("a"), 0, ord("b")]
    assert split_completion(eos, [-1.0, -2.0, -4.0], decode, {0}, ("\n",)) == ("a", -3.0)
    assert split_completion([ord("x")] * 3, [-1.0] * 3, decode, {0}, ()) == ("xxx", -3.0)


# --- the HF policy on tiny models ------------------------------------------------------------

@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("torch", "the hf extra (torch) is not installed")
    pf.require("transformers", "the hf extra (transformers) is not installed")
    return pf.build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"), seed=0)


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("torch", "the hf extra (torch) is not installed")
    pf.require("transformers", "the hf extra (transformers) is not installed")
    return pf.build_tiny_t5(tmp_path_factory.mktemp("tiny_t5"), seed=0)


@pytest.fixture(scope="module")
def llama(llama_dir: Path) -> HFPolicy:
    return HFPolicy(llama_dir, sampling=SamplingParams(n=8, max_tokens=12, seed=3))


class GenerateSpy:
    """Wraps ``model.generate``: counts calls and keeps the keyword arguments of each."""

    def __init__(self, model: Any) -> None:
        self.inner = model.generate
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.inner(**kwargs)


def _spy(policy: HFPolicy, monkeypatch: pytest.MonkeyPatch) -> GenerateSpy:
    spy = GenerateSpy(policy.model)
    monkeypatch.setattr(policy.model, "generate", spy)
    return spy


def _assert_well_formed(lists: list[list[Candidate]], k: int) -> None:
    for candidates in lists:
        assert len(candidates) <= k
        logprobs = [c.logprob for c in candidates]
        assert all(math.isfinite(lp) and lp <= 0.0 for lp in logprobs)
        assert logprobs == sorted(logprobs, reverse=True)
        tactics = [c.tactic for c in candidates]
        assert len(set(tactics)) == len(tactics)
        assert all(t == t.strip() and t and "\n" not in t for t in tactics)


def test_is_a_policy(llama: HFPolicy) -> None:
    assert isinstance(llama, Policy)
    assert llama.kind == "causal"


def test_one_generate_call_for_the_whole_batch(llama: HFPolicy,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _spy(llama, monkeypatch)
    out = llama.propose(STATES, k=4)
    assert len(spy.calls) == 1
    call = spy.calls[0]
    assert call["input_ids"].shape[0] == len(STATES)
    assert call["num_return_sequences"] == 8 and call["do_sample"] is True
    assert len(out) == len(STATES)
    assert [len(c) for c in out] == [4] * len(STATES)
    _assert_well_formed(out, 4)


def test_exact_prompts_left_padded(llama: HFPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _spy(llama, monkeypatch)
    llama.propose(STATES, k=2)
    ids, mask = spy.calls[0]["input_ids"], spy.calls[0]["attention_mask"]
    tok = llama.tokenizer
    sent = [tok.decode(row[m.bool()].tolist()) for row, m in zip(ids, mask, strict=True)]
    assert sent == [f"[GOAL]\n{s.text}\n[PROOFSTEP]\n" for s in STATES]
    assert llama.prompts(STATES) == sent
    newline = tok.convert_tokens_to_ids("\n")
    assert (ids[:, -1] == newline).all() and (mask[:, -1] == 1).all()  # left padding
    assert (mask[:, 0] == 0).any()


def test_custom_prompt_template_is_applied(llama_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    policy = HFPolicy(llama_dir, prompt="Goal: {state} => ", max_tokens=4)
    spy = _spy(policy, monkeypatch)
    policy.propose(STATES[:2], k=2)
    ids, mask = spy.calls[0]["input_ids"], spy.calls[0]["attention_mask"]
    sent = [policy.tokenizer.decode(r[m.bool()].tolist()) for r, m in zip(ids, mask, strict=True)]
    assert sent == [f"Goal: {s.text} => " for s in STATES[:2]]
    assert policy.describe()["prompt_sha256"] == PromptTemplate("Goal: {state} => ").sha256


@pytest.mark.parametrize("decoding", ["sample", "beam"])
def test_logprobs_agree_with_teacher_forcing(llama_dir: Path, decoding: str) -> None:
    """Without stop strings, a candidate is the whole generation: its logprob must be the
    raw-model log-probability of its tokens (+ EOS for the short beams), even at T=0.7."""
    raw = PromptTemplate(REPROVER_CAUSAL.template, stop=(), strip=False)
    policy = HFPolicy(llama_dir, prompt=raw, max_tokens=6, temperature=0.7,
                      decoding=decoding, seed=5)  # type: ignore[arg-type]
    tok, eos = policy.tokenizer, policy.tokenizer.eos_token_id
    checked = 0
    for state, candidates in zip(STATES[:3], policy.propose(STATES[:3], k=4), strict=True):
        _assert_well_formed_raw(candidates)
        for cand in candidates:
            ids = tok(cand.tactic, add_special_tokens=False)["input_ids"]
            if len(ids) < 6 and decoding == "sample":
                continue  # EOS, or a special token that decoding dropped: ambiguous
            full = ids if len(ids) == 6 else [*ids, eos]
            expected = pf.teacher_forced_logprob(policy.model, tok, raw.render(state), full)
            assert cand.logprob == pytest.approx(expected, abs=1e-3)
            checked += 1
    assert checked >= 3


def _assert_well_formed_raw(candidates: list[Candidate]) -> None:
    logprobs = [c.logprob for c in candidates]
    assert all(math.isfinite(lp) and lp <= 0.0 for lp in logprobs)
    assert logprobs == sorted(logprobs, reverse=True)


def test_beam_search_returns_ranked_beams(llama_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    policy = HFPolicy(llama_dir, decoding="beam", max_tokens=8)
    spy = _spy(policy, monkeypatch)
    out = policy.propose(STATES[:3], k=4)
    assert len(spy.calls) == 1 and spy.calls[0]["num_beams"] == 4
    assert all(out) and len(out) == 3
    _assert_well_formed(out, 4)
    assert policy.propose(STATES[:3], k=4) == out  # beam search is deterministic


def test_deterministic_with_a_seed(llama_dir: Path, llama: HFPolicy) -> None:
    from transformers import AutoTokenizer

    a = HFPolicy(llama_dir, max_tokens=10, seed=11)
    b = HFPolicy((llama.model, AutoTokenizer.from_pretrained(llama_dir)), max_tokens=10,
                 seed=11)
    first = a.propose(STATES, k=3)
    assert first == b.propose(STATES, k=3)
    assert a.propose(STATES, k=3) != first  # the next call samples under the next seed
    assert HFPolicy(llama_dir, max_tokens=10, seed=12).propose(STATES, k=3) != first


def test_seq2seq_t5_uses_the_bare_state(t5_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = HFPolicy(t5_dir, max_tokens=8, seed=0)
    assert policy.kind == "seq2seq" and policy.template is REPROVER_SEQ2SEQ
    spy = _spy(policy, monkeypatch)
    out = policy.propose(STATES[:3], k=3)
    assert len(spy.calls) == 1 and spy.calls[0]["input_ids"].shape[0] == 3
    ids, mask = spy.calls[0]["input_ids"], spy.calls[0]["attention_mask"]
    sent = [policy.tokenizer.decode(r[m.bool()].tolist(), skip_special_tokens=True)
            for r, m in zip(ids, mask, strict=True)]
    assert sent == [s.text for s in STATES[:3]]
    assert all(out)
    _assert_well_formed(out, 3)


def test_garbage_inputs_and_outputs_do_not_crash(llama: HFPolicy,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    weird = [State("🦀 " * 3000), State(""), State("\x00\x01{state}}}{{"), State("⊢ " + "∀" * 50)]
    out = llama.propose(weird, k=4)
    assert len(out) == len(weird)
    _assert_well_formed(out, 4)

    def garbage(prompts: list[str], n: int) -> list[tuple[str, float]]:
        rows = [("", -1.0), ("\ufffd\ufffd", -1.0), ("ok\x00", -1.0), ("   \n", -1.0),
                ("simp", math.nan), ("simp", -2.0), ("simp", -1.5), ("rfl\nrest", -3.0)]
        assert n == len(rows)
        return rows * len(prompts)

    monkeypatch.setattr(llama, "_generate", garbage)
    monkeypatch.setattr(llama, "sampling", replace(llama.sampling, n=8))
    out = llama.propose(STATES[:2], k=4)
    assert out == [[Candidate("simp", -1.5), Candidate("rfl", -3.0)]] * 2


def test_edge_cases_and_describe(llama: HFPolicy, llama_dir: Path) -> None:
    assert llama.propose([], k=4) == []
    assert llama.propose(STATES[:2], k=0) == [[], []]
    info = llama.describe()
    json.dumps(info)
    assert info["policy"] == "hf" and info["model"] == str(llama_dir)
    assert info["seed"] == 3 and info["n"] == 8 and info["decoding"] == "sample"
    assert info["max_tokens"] == 12 and info["prompt_sha256"] == REPROVER_CAUSAL.sha256
    assert {"temperature", "top_p", "top_k", "revision", "transformers_version"} <= set(info)
    with pytest.raises(ValueError):
        HFPolicy(llama_dir, decoding="greedy")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown sampling parameter"):
        HFPolicy(llama_dir, max_new_token=3)
    pair = (llama.model, llama.tokenizer)  # the old keyword names still work (scripts use them)
    old = HFPolicy(pair, max_new_tokens=5, num_samples=2)
    assert (old.sampling.max_tokens, old.sampling.n) == (5, 2)
    llama.close()
    llama.close()  # close is in the protocol and idempotent
