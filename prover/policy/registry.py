"""Policy registry: ``NAME`` or ``NAME:ARG`` specs (``symbolic``, ``hf:PATH``,
``openai:URL#MODEL``, ``vllm:PATH``) -> a policy object, and its provenance description.

Optional keyword options (prompt template, generation length, sampling temperature/top-p,
prompt length limit)
are passed to the model policies under their own parameter names; ``None`` keeps each
policy's default, so callers that pass none get exactly the policy defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prover.policy.prompts import PromptTemplate
from search.protocols import Policy


class PolicySpecError(ValueError):
    """A policy spec that names no known policy or lacks its argument."""


@dataclass(frozen=True)
class PolicyOptions:
    """Generation options common to the model policies; ``None`` = the policy's default."""

    prompt: PromptTemplate | str | None = None
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_input_tokens: int | None = None

    def kwargs(self, length_name: str) -> dict[str, Any]:
        """The set options as keyword arguments, the length under ``length_name``."""
        out: dict[str, Any] = {}
        if self.prompt is not None:
            out["prompt"] = self.prompt
        if self.max_new_tokens is not None:
            out[length_name] = self.max_new_tokens
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.top_p is not None:
            out["top_p"] = self.top_p
        if self.max_input_tokens is not None and length_name == "max_new_tokens":
            out["max_input_tokens"] = self.max_input_tokens
        return out


def _symbolic(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.symbolic import SymbolicPolicy

    return SymbolicPolicy(backend=family)


def _local(arg: str, name: str) -> str:
    """The local model ``arg`` names (see :func:`prover.policy.offline.local_model`), checked
    before any engine starts; a missing one is a :class:`PolicySpecError`."""
    from prover.policy.offline import ModelNotFoundError, local_model

    try:
        return local_model(name, arg)
    except ModelNotFoundError as err:
        raise PolicySpecError(str(err)) from None


def _hf(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.hf import HFPolicy

    if not arg:
        raise PolicySpecError("hf policy needs a model path: --policy hf:PATH")
    return HFPolicy(_local(arg, "hf"), seed=seed, **options.kwargs("max_new_tokens"))


def _openai(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.openai_client import OpenAIPolicy

    url, sep, model = arg.partition("#")
    if not sep or not url or not model:
        raise PolicySpecError("openai policy needs URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#m")
    extra = ({"truncate_prompt_tokens": options.max_input_tokens}
             if options.max_input_tokens is not None else None)  # vLLM's server option
    return OpenAIPolicy(url, model, seed=seed, extra_body=extra, **options.kwargs("max_tokens"))


def _vllm(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.vllm_engine import VLLMPolicy

    if not arg:
        raise PolicySpecError("vllm policy needs a model path: --policy vllm:PATH")
    arg = _local(arg, "vllm")
    extra = ({"max_input_tokens": options.max_input_tokens}
             if options.max_input_tokens is not None else {})
    return VLLMPolicy(arg, seed=seed, **options.kwargs("max_tokens"), **extra)


POLICIES: dict[str, Callable[[str, str, int, PolicyOptions], Policy]] = {
    "symbolic": _symbolic, "hf": _hf, "openai": _openai, "vllm": _vllm,
}


def make_policy(spec: str, family: str, seed: int = 0, *,
                prompt: PromptTemplate | str | None = None, max_new_tokens: int | None = None,
                temperature: float | None = None, top_p: float | None = None,
                max_input_tokens: int | None = None) -> Policy:
    """Build a policy from ``NAME`` or ``NAME:ARG`` (``hf:PATH``, ``openai:URL#MODEL``); the
    keyword options reach the model policies (the symbolic policy ignores them);
    ``max_input_tokens`` keeps the prompt's last tokens (``openai``: vLLM's
    ``truncate_prompt_tokens`` request field)."""
    name, _, arg = spec.partition(":")
    factory = POLICIES.get(name)
    if factory is None:
        raise PolicySpecError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")
    options = PolicyOptions(prompt=prompt, max_new_tokens=max_new_tokens,
                            temperature=temperature, top_p=top_p,
                            max_input_tokens=max_input_tokens)
    return factory(arg, family, seed, options)


def describe_policy(policy: Policy, spec: str) -> dict[str, Any]:
    """Provenance of the policy: its own description when it has one, else its spec."""
    describe = getattr(policy, "describe", None)
    info = dict(describe()) if callable(describe) else {}
    info.setdefault("spec", spec)
    return info
