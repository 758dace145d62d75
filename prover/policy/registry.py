"""Policy registry: ``NAME`` or ``NAME:ARG`` specs (``symbolic``, ``hf:PATH``,
``openai:URL#MODEL``, ``vllm:PATH``) -> a policy object, and its provenance description.

Every model policy gets one :class:`~prover.policy.sampling.SamplingParams` (its ``seed`` is
the ``seed`` argument) plus the prompt template and prompt length limit; fields left unset
keep the :class:`SamplingParams` defaults, the same for every policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prover.policy.prompts import PromptTemplate
from prover.policy.sampling import SamplingParams, sampling_from
from search.protocols import Policy

#: old keyword names still accepted by :func:`make_policy` (prover/eval/job.py passes
#: ``max_new_tokens``)
ALIASES = {"max_new_tokens": "max_tokens", "num_samples": "n"}


class PolicySpecError(ValueError):
    """A policy spec that names no known policy or lacks its argument."""


@dataclass(frozen=True)
class PolicyOptions:
    """What the model policies are built with: sampling, prompt, prompt length limit."""

    sampling: SamplingParams
    prompt: PromptTemplate | str | None = None
    max_input_tokens: int | None = None

    def kwargs(self, with_limit: bool = True) -> dict[str, Any]:
        """``sampling`` and, when set, ``prompt`` and (``with_limit``) ``max_input_tokens``
        as keyword arguments."""
        out: dict[str, Any] = {"sampling": self.sampling}
        if self.prompt is not None:
            out["prompt"] = self.prompt
        if with_limit and self.max_input_tokens is not None:
            out["max_input_tokens"] = self.max_input_tokens
        return out


def _symbolic(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.symbolic import SymbolicPolicy

    return SymbolicPolicy(backend=family)


def _local(arg: str, name: str) -> str:
    """The local model ``arg`` names (see :func:`prover.policy.offline.local_model`), checked
    before any engine starts; a missing one is a :class:`PolicySpecError`."""
    from prover.policy.offline import ModelNotFoundError, local_model

    if not arg:
        raise PolicySpecError(f"{name} policy needs a model path: --policy {name}:PATH")
    try:
        return local_model(name, arg)
    except ModelNotFoundError as err:
        raise PolicySpecError(str(err)) from None


def _openai_target(arg: str) -> tuple[str, str]:
    """(server URL, model name) of an ``openai:URL#MODEL`` argument."""
    url, sep, model = arg.partition("#")
    if not sep or not url or not model:
        raise PolicySpecError("openai policy needs URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#m")
    return url, model


def _hf(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.hf import HFPolicy

    return HFPolicy(_local(arg, "hf"), **options.kwargs())


def _openai(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.openai_client import OpenAIPolicy

    url, model = _openai_target(arg)
    extra = ({"truncate_prompt_tokens": options.max_input_tokens}
             if options.max_input_tokens is not None else None)  # vLLM's server option
    return OpenAIPolicy(url, model, extra_body=extra, **options.kwargs(with_limit=False))


def _vllm(arg: str, family: str, seed: int, options: PolicyOptions) -> Policy:
    from prover.policy.vllm_engine import VLLMPolicy

    return VLLMPolicy(_local(arg, "vllm"), **options.kwargs())


#: what each policy's argument must be, checked without loading anything
_ARG_CHECKS: dict[str, Callable[[str], object]] = {
    "hf": lambda arg: _local(arg, "hf"),
    "vllm": lambda arg: _local(arg, "vllm"),
    "openai": _openai_target,
}


POLICIES: dict[str, Callable[[str, str, int, PolicyOptions], Policy]] = {
    "symbolic": _symbolic, "hf": _hf, "openai": _openai, "vllm": _vllm,
}


def check_spec(spec: str) -> None:
    """Raise :class:`PolicySpecError` for a spec naming no known policy, or whose argument is
    missing or malformed (a local model not on this machine, an openai target without
    ``#MODEL``), without importing an engine or loading weights: a parent process checks this
    before its workers build the policy."""
    name, _, arg = spec.partition(":")
    if name not in POLICIES:
        raise PolicySpecError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")
    arg_check = _ARG_CHECKS.get(name)
    if arg_check is not None:
        arg_check(arg)


def make_policy(spec: str, family: str, seed: int = 0, *,
                sampling: SamplingParams | None = None,
                prompt: PromptTemplate | str | None = None, max_input_tokens: int | None = None,
                **fields: Any) -> Policy:
    """Build a policy from ``NAME`` or ``NAME:ARG`` (``hf:PATH``, ``openai:URL#MODEL``).
    The model policies sample with ``sampling`` (default :class:`SamplingParams`) updated by
    ``fields`` (its field names, or the old ``max_new_tokens``/``num_samples``; ``None``
    values ignored) and seeded ``seed``; the symbolic policy ignores them.
    ``max_input_tokens`` keeps the prompt's last tokens (``openai``: vLLM's
    ``truncate_prompt_tokens`` request field)."""
    name, _, arg = spec.partition(":")
    factory = POLICIES.get(name)
    if factory is None:
        raise PolicySpecError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")
    given = {key: value for key, value in fields.items() if value is not None}
    params = sampling_from(sampling, {**given, "seed": seed}, ALIASES)
    options = PolicyOptions(sampling=params, prompt=prompt, max_input_tokens=max_input_tokens)
    return factory(arg, family, seed, options)


def describe_policy(policy: Policy, spec: str) -> dict[str, Any]:
    """Provenance of the policy: its own description when it has one, else its spec."""
    describe = getattr(policy, "describe", None)
    info = dict(describe()) if callable(describe) else {}
    info.setdefault("spec", spec)
    return info
