"""Sampling with ``transformers`` where every row draws from its OWN random generator.

``generate(do_sample=True)`` draws every row's token from one global RNG, so a row's samples
depend on which other rows share the call. :func:`generate_rows` instead repeats each prompt
``n`` times, decodes greedily, and puts :class:`RowSampler` last among the logits processors:
it applies temperature, top-k and top-p to the row's logits, draws the token by inverse CDF
from the row's ``torch.Generator`` (one uniform per step) and leaves only that token finite, so
greedy decoding picks it. A row's tokens are thus a function of its prompt, its seed and the
model's logits for it. The logprobs are the raw model's (``output_logits``), as in
:class:`~prover.policy.hf.HFPolicy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RowSampler:
    """A logits processor sampling row ``i`` from ``generators[i]`` (see the module)."""

    def __init__(self, generators: Sequence[Any], temperature: float, top_p: float,
                 top_k: int) -> None:
        self.generators = list(generators)
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logits = scores.float() / self.temperature
        if self.top_k > 0 and self.top_k < logits.shape[-1]:
            kth = torch.topk(logits, self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if self.top_p < 1.0:
            ordered, order = torch.sort(probs, dim=-1, descending=True)
            before = ordered.cumsum(-1) - ordered  # mass of the better tokens
            ordered = ordered.masked_fill(before >= self.top_p, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, ordered)
        cdf = probs.cumsum(-1)
        draws = torch.stack([torch.rand((), generator=g) for g in self.generators])
        target = (draws * cdf[:, -1]).unsqueeze(-1)
        chosen = torch.searchsorted(cdf, target, right=True).clamp(max=cdf.shape[-1] - 1)
        # never pick a zero-probability token at the top edge of the CDF
        zero = probs.gather(-1, chosen) <= 0
        if bool(zero.any()):
            best = probs.argmax(-1, keepdim=True)
            chosen = torch.where(zero, best, chosen)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(-1, chosen, 0.0)


def generate_rows(policy: Any, prompts: list[str], n: int,
                  row_seeds: Sequence[int]) -> list[tuple[str, float]]:
    """``len(prompts) * n`` raw ``(completion, logprob)`` rows from ONE ``generate`` call of
    ``policy`` (an :class:`~prover.policy.hf.HFPolicy` with ``decoding="sample"``); row
    ``i * n + j`` (sample ``j`` of prompt ``i``) draws from a generator seeded
    ``row_seeds[i * n + j]``."""
    import torch
    from transformers import LogitsProcessorList

    if len(row_seeds) != len(prompts) * n:
        raise ValueError("need one seed per row (prompt x sample)")
    enc, eos = policy.encode([p for p in prompts for _ in range(n)])
    generators = [torch.Generator().manual_seed(int(s)) for s in row_seeds]
    params = policy.sampling
    sampler = RowSampler(generators, params.temperature, params.top_p, params.top_k)
    with torch.inference_mode():
        out = policy.model.generate(
            **enc, max_new_tokens=params.max_tokens, num_return_sequences=1,
            return_dict_in_generate=True, output_logits=True, do_sample=False, num_beams=1,
            pad_token_id=policy.tokenizer.pad_token_id, eos_token_id=sorted(eos),
            logits_processor=LogitsProcessorList([sampler]), temperature=None, top_p=None,
            top_k=None)
    return policy.decode_rows(out, enc, eos)
