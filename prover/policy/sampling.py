"""The sampling base every model policy shares: :class:`SamplingParams`, the policy protocol
(:class:`ModelPolicy`: ``propose`` plus ``describe()`` and ``close()``) and :class:`SampledPolicy`,
the one implementation of ``propose`` / ``propose_seeded`` / ``sample`` / ``describe`` over a
policy's own ``generate(prompts, n, seeds)``.

Seeds: ``propose_seeded(states, k, seeds)`` samples state ``i`` under the search seed
``seeds[i]`` (the batching queue's contract, :mod:`prover.policy.batching`); how a policy turns
(search seed, prompt) into its sampler's seed is its own (``request_seed`` per prompt for vLLM
and OpenAI servers, one generator per row for ``transformers``), but it is a function of those
two values alone, never of the batch a state shares. ``seeds=None`` means the policy's own seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Protocol, runtime_checkable

from prover.policy.prompts import PromptTemplate, rank_candidates, request_seed
from search.protocols import Candidate, State

Rows = list[list[tuple[str, float]]]
SEED_MASK = (1 << 63) - 1


def state_seed(seed: int, key: str, index: int = 0) -> int:
    """A 63-bit sampling seed for sample ``index`` of the state (or prompt) with text ``key``
    in the search seeded ``seed``: a function of these three values alone."""
    digest = hashlib.sha256(f"{seed}\0{index}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & SEED_MASK


@dataclass(frozen=True)
class SamplingParams:
    """How a model samples: ``n`` completions per state (``None``: as many as candidates are
    asked for), ``max_tokens`` per completion, ``temperature``/``top_p``/``top_k`` (``top_k=0``:
    off) and the base ``seed`` (``None``: the server's own randomness; in-process policies need
    an int). The same names in every policy, its provenance and the CLI."""

    n: int | None = None
    max_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise ValueError(f"n must be >= 1 or None, not {self.n}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, not {self.max_tokens}")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise ValueError("need temperature >= 0, 0 < top_p <= 1 and top_k >= 0")

    def samples(self, k: int) -> int:
        """Completions to draw per state when ``k`` candidates are wanted."""
        return max(k, self.n or 0)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (provenance)."""
        return asdict(self)

    def updated(self, **changes: Any) -> SamplingParams:
        """A copy with the given fields changed (``None`` included: ``seed=None``, ``n=None``
        mean something). Unknown names raise TypeError."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(f"unknown sampling parameter(s): {', '.join(unknown)}")
        return replace(self, **changes)


@runtime_checkable
class ModelPolicy(Protocol):
    """The policy protocol of ``prover/policy``: :class:`search.protocols.Policy`'s ``propose``,
    ``describe()`` (JSON-able provenance: model, sampling parameters, prompt hash, seed) and
    ``close()`` (release engines and worker threads; idempotent)."""

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class SampledPolicy:
    """Base of the model policies (``hf``, ``openai``, ``vllm``). A subclass sets
    :attr:`name`, :attr:`template` and :attr:`sampling` and implements :meth:`generate` (and
    :meth:`details` for its own provenance). ``merge_calls``: whether the batching queue may
    merge calls of different searches into one (in-process engines) or should let each go
    out on its own (a server that batches continuously)."""

    name = "model"
    merge_calls = True
    template: PromptTemplate
    sampling: SamplingParams

    def generate(self, prompts: Sequence[str], n: int, seeds: Sequence[int] | None) -> Rows:
        """``n`` raw ``(completion, sequence logprob)`` rows per prompt, from one batched call;
        prompt ``i`` sampled under search seed ``seeds[i]`` (``None``: the policy's seed)."""
        raise NotImplementedError

    def prompt_seed(self, prompt: str, seed: int | None) -> int | None:
        """The sampler seed of one prompt: :func:`request_seed` of (``seed``, or the policy's
        seed when ``None``) and the prompt; ``None`` when the policy's seed is ``None``."""
        base = self.sampling.seed if seed is None else seed
        return None if self.sampling.seed is None or base is None else request_seed(base, prompt)

    def prompts(self, states: Sequence[State]) -> list[str]:
        """The exact model inputs for ``states`` (the template applied)."""
        return [self.template.render(s) for s in states]

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """At most ``k`` distinct usable candidates per state, in the order of ``states``,
        best logprob first."""
        return self.propose_seeded(states, k, None)

    def propose_seeded(self, states: Sequence[State], k: int,
                       seeds: Sequence[int] | None) -> list[list[Candidate]]:
        """As :meth:`propose`, state ``i`` sampled under search seed ``seeds[i]``."""
        if not states:
            return []
        if k <= 0:
            return [[] for _ in states]
        if seeds is not None and len(seeds) != len(states):
            raise ValueError("need one seed per state")
        rows = self.generate(self.prompts(states), self.sampling.samples(k), seeds)
        return [rank_candidates(r, k, self.template) for r in rows]

    def sample(self, texts: Sequence[str], n: int) -> Rows:
        """``n`` raw ``(completion, sequence logprob)`` rows per input text (the template
        applied; no dedupe, no filtering), from one batched call."""
        if not texts or n <= 0:
            return [[] for _ in texts]
        return self.generate([self.template.render(t) for t in texts], n, None)

    # read-only views of ``sampling`` for code written before it (prover/wholeproof/sampling.py
    # reads ``policy.temperature`` etc.); new code reads ``policy.sampling``
    n = property(lambda self: self.sampling.n)
    max_tokens = property(lambda self: self.sampling.max_tokens)
    temperature = property(lambda self: self.sampling.temperature)
    top_p = property(lambda self: self.sampling.top_p)
    top_k = property(lambda self: self.sampling.top_k)
    seed = property(lambda self: self.sampling.seed)

    def details(self) -> dict[str, Any]:
        """Provenance particular to the policy (model, engine, versions)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Provenance: the policy's name, its :class:`SamplingParams`, prompt template hash
        and :meth:`details`."""
        return {"policy": self.name, **self.sampling.to_dict(), **self.details(),
                **self.template.describe()}

    def close(self) -> None:
        """Release what the policy holds (nothing by default); safe to call twice."""

    def __enter__(self) -> SampledPolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sampling_from(base: SamplingParams | None, options: Mapping[str, Any],
                  aliases: Mapping[str, str] | None = None) -> SamplingParams:
    """``base`` (default :class:`SamplingParams`) updated by ``options`` (field names, or old
    names mapped by ``aliases``, e.g. ``{"max_new_tokens": "max_tokens"}``)."""
    changes: dict[str, Any] = {}
    for key, value in options.items():
        changes[(aliases or {}).get(key, key)] = value
    return (base or SamplingParams()).updated(**changes)
