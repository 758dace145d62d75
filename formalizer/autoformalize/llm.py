"""Text samplers for the formalizer: raw ``(completion, logprob)`` rows from the prover's model
policies (``hf``, ``openai``, ``vllm``), built through :mod:`prover.policy.registry`.

The policy gets a pass-through :class:`~prover.policy.prompts.PromptTemplate` (``"{state}"``),
so the formalizer's rendered prompts reach the model unchanged. Every completion is cut at
the first stop string (the stop itself removed), whatever backend produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from prover.policy.prompts import PromptTemplate
from prover.policy.registry import PolicySpecError, describe_policy, make_policy
from prover.policy.sampling import SamplingParams

MODEL_POLICIES = ("hf", "openai", "vllm")
SPEC_HELP = "hf:PATH | openai:URL#MODEL | vllm:PATH"


@runtime_checkable
class Sampler(Protocol):
    """``sample(texts, n)``: ``n`` raw ``(completion, sequence logprob)`` rows per text, in the
    order of ``texts``, from one batched model call; ``describe()``: provenance (JSON-able)."""

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]: ...

    def describe(self) -> dict[str, Any]: ...


class PolicySampler:
    """A :class:`Sampler` over a prover policy that has ``sample`` (HF, OpenAI, vLLM)."""

    def __init__(self, policy: Any, spec: str, template: PromptTemplate) -> None:
        self.policy = policy
        self.spec = spec
        self.template = template
        self.calls = 0

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        """``n`` rows per text from ONE ``policy.sample`` call; texts cut at the stop strings."""
        if not texts or n <= 0:
            return [[] for _ in texts]
        self.calls += 1
        rows = self.policy.sample(list(texts), n)
        if len(rows) != len(texts):
            raise RuntimeError(f"policy returned {len(rows)} rows for {len(texts)} prompts")
        return [[(self.template.cut(text), float(lp)) for text, lp in row] for row in rows]

    def describe(self) -> dict[str, Any]:
        """The policy's provenance (model, sampling parameters, seed) plus the spec."""
        info = describe_policy(self.policy, self.spec)
        info["spec"] = self.spec
        for key in ("prompt_template", "prompt_name", "prompt_sha256"):
            info.pop(key, None)  # the pass-through template; prompt files are hashed elsewhere
        if "max_tokens" in info:  # the formalizer's provenance names it as its option does
            info.setdefault("max_new_tokens", info["max_tokens"])
        return info

    def close(self) -> None:
        """Release the policy's engine when it has one (in-process vLLM)."""
        close = getattr(self.policy, "close", None)
        if callable(close):
            close()


def make_sampler(spec: str, *, max_new_tokens: int = 256, temperature: float = 0.8,
                 seed: int = 0, stop: Sequence[str] = ("\n\n",),
                 max_input_tokens: int | None = None) -> Sampler:
    """A :class:`Sampler` for ``spec`` (``hf:PATH``, ``openai:URL#MODEL``, ``vllm:PATH``);
    raises :class:`ValueError` naming the accepted forms when the spec is unusable.
    ``max_input_tokens`` keeps only a prompt's last tokens (small-context models)."""
    name, sep, arg = spec.partition(":")
    if name not in MODEL_POLICIES or not sep or not arg:
        raise ValueError(f"model spec {spec!r} is not one of {SPEC_HELP}")
    if max_new_tokens <= 0 or temperature <= 0:
        raise ValueError("max_new_tokens and temperature must be positive")
    template = PromptTemplate("{state}", stop=tuple(stop), name="formalizer-passthrough",
                              strip=True)
    try:
        policy = make_policy(spec, "text", seed, prompt=template,
                             sampling=SamplingParams(max_tokens=max_new_tokens,
                                                     temperature=temperature),
                             max_input_tokens=max_input_tokens)
    except PolicySpecError as err:
        raise ValueError(f"{err} (model spec forms: {SPEC_HELP})") from err
    except (OSError, ImportError) as err:
        raise ValueError(f"cannot load model {spec!r}: {err}") from err
    return PolicySampler(policy, spec, template)
