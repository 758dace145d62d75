"""One batched model call for many whole-proof prompts, each row under its own seed.

:func:`sample_rows` takes already rendered prompts (the policy must be built with the identity
template :data:`WHOLE_TEMPLATE`, so its own template adds nothing) and one seed per prompt, and
returns one ``(completion, logprob)`` per prompt from ONE underlying call:

- the model policies (``hf``, ``vllm``, ``openai``: :class:`prover.policy.sampling.
  SampledPolicy`) through their ``generate(prompts, 1, seeds)``: prompt i is sampled under
  ``seeds[i]`` (transformers: a generator per row; vLLM and servers: a per-request seed), so a
  row's proof does not depend on the batch it shares;
- any other policy with ``sample(texts, n)``: identical prompts are grouped and sampled as
  ``sample(unique_texts, n)`` in one call (its rows may depend on the batch:
  ``deterministic`` False).
A policy without either (the symbolic portfolio) cannot write whole proofs: ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prover.policy.prompts import PromptTemplate

WHOLE_TEMPLATE = PromptTemplate("{state}", stop=(), name="whole-proof-identity", strip=False)
"""The policy-side template of whole-proof mode: the rendered prompt as is, no stop string
(a completion ends at EOS or the token budget; the extractor finds the proof)."""


def kind_of(policy: Any) -> str:
    """``hf`` | ``vllm`` | ``openai`` | another model policy's name (``generate``), or
    ``generic`` (``sample`` only); raises ValueError for a policy that has neither."""
    if callable(getattr(policy, "generate", None)):
        return str(getattr(policy, "name", type(policy).__name__))
    if not callable(getattr(policy, "sample", None)):
        raise ValueError(f"policy {type(policy).__name__} cannot write whole proofs (it has "
                         "no sample()); use a model policy: hf:PATH, vllm:PATH or "
                         "openai:URL#MODEL")
    return "generic"


def deterministic(policy: Any) -> bool:
    """Whether a row's completion is a function of its prompt and seed alone."""
    if kind_of(policy) == "generic":
        return False
    if getattr(policy, "decoding", "sample") != "sample":
        return True  # beam search draws nothing at random
    sampling = getattr(policy, "sampling", None)
    return getattr(sampling, "seed", None) is not None


def tokenizer_of(policy: Any) -> Any | None:
    """The policy's tokenizer (for chat templates), when it has one in process."""
    tokenizer = getattr(policy, "tokenizer", None)
    if tokenizer is not None:
        return tokenizer
    llm = getattr(policy, "llm", None)
    getter = getattr(llm, "get_tokenizer", None)
    return getter() if callable(getter) else None


def sample_rows(policy: Any, prompts: Sequence[str],
                seeds: Sequence[int]) -> list[tuple[str, float]]:
    """One ``(completion, logprob)`` per prompt from one underlying call (module docstring)."""
    if len(prompts) != len(seeds):
        raise ValueError("need one seed per prompt")
    if not prompts:
        return []
    if kind_of(policy) == "generic":
        return _grouped(policy, prompts)
    rows = policy.generate(list(prompts), 1, [int(s) for s in seeds])
    if len(rows) != len(prompts):
        raise ValueError(f"policy returned {len(rows)} rows for {len(prompts)} prompts")
    return [(r[0] if r else ("", float("-inf"))) for r in rows]


def _grouped(policy: Any, prompts: Sequence[str]) -> list[tuple[str, float]]:
    """``sample(unique prompts, n)`` once; the j-th row of a prompt goes to its j-th copy."""
    order: dict[str, list[int]] = {}
    for i, prompt in enumerate(prompts):
        order.setdefault(prompt, []).append(i)
    unique = list(order)
    n = max(len(v) for v in order.values())
    rows = policy.sample(unique, n)
    if len(rows) != len(unique):
        raise ValueError(f"policy returned {len(rows)} sample lists for {len(unique)} prompts")
    out: list[tuple[str, float]] = [("", float("-inf"))] * len(prompts)
    for prompt, got in zip(unique, rows, strict=True):
        for j, index in enumerate(order[prompt]):
            out[index] = got[j] if j < len(got) else ("", float("-inf"))
    return out
