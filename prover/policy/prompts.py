"""Prompt templates for model policies, and the one place that turns raw completions into
ranked :class:`Candidate` lists.

A :class:`PromptTemplate` renders a state into the model's input (``{state}`` is replaced
literally, so the braces of Lean goals are safe) and says where a completion ends (``stop``
strings). Its :attr:`~PromptTemplate.sha256` identifies it in provenance records. Every model
backend hands its ``(text, logprob)`` pairs to :func:`rank_candidates`, so trimming, garbage
filtering, deduplication and ordering are the same whatever generated them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from search.protocols import Candidate, State

PLACEHOLDER = "{state}"


@dataclass(frozen=True)
class PromptTemplate:
    """``template`` with one ``{state}`` placeholder; a completion ends at the first of ``stop``.

    ``strip`` trims surrounding whitespace of each completion; ``name`` is a label for humans
    (the hash, not the name, identifies the template).
    """

    template: str
    stop: tuple[str, ...] = ("\n",)
    name: str = "custom"
    strip: bool = True

    def __post_init__(self) -> None:
        if PLACEHOLDER not in self.template:
            raise ValueError(f"prompt template has no {PLACEHOLDER} placeholder: {self.template!r}")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must be non-empty")

    def render(self, state: State | str) -> str:
        """The model input for ``state`` (its ``text`` when a :class:`State`)."""
        text = state.text if isinstance(state, State) else state
        return self.template.replace(PLACEHOLDER, text)

    @property
    def sha256(self) -> str:
        """Hex digest of the template and its stop strings (what changes the model's output)."""
        payload = json.dumps({"template": self.template, "stop": list(self.stop),
                              "strip": self.strip}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Provenance fields: name, hash, the template text and stop strings."""
        return {"prompt_name": self.name, "prompt_sha256": self.sha256,
                "prompt_template": self.template, "prompt_stop": list(self.stop)}

    def cut(self, completion: str) -> str:
        """``completion`` up to (excluding) the first stop string, stripped if ``strip``."""
        end = len(completion)
        for stop in self.stop:
            at = completion.find(stop)
            if 0 <= at < end:
                end = at
        text = completion[:end]
        return text.strip() if self.strip else text


REPROVER_CAUSAL = PromptTemplate("[GOAL]\n{state}\n[PROOFSTEP]\n", name="reprover-causal")
"""ReProver's decoder-only format (its ``VllmGenerator``): the default for causal models."""

REPROVER_SEQ2SEQ = PromptTemplate("{state}", name="reprover-seq2seq")
"""ReProver's encoder-decoder format: the bare state (ByT5 tactic generator)."""

TEMPLATES: Mapping[str, PromptTemplate] = {t.name: t for t in (REPROVER_CAUSAL, REPROVER_SEQ2SEQ)}


def resolve_template(prompt: PromptTemplate | str | None,
                     default: PromptTemplate = REPROVER_CAUSAL) -> PromptTemplate:
    """A template from a :class:`PromptTemplate`, a registered name, a raw template string
    containing ``{state}``, or ``None`` (``default``)."""
    if prompt is None:
        return default
    if isinstance(prompt, PromptTemplate):
        return prompt
    if prompt in TEMPLATES:
        return TEMPLATES[prompt]
    return PromptTemplate(prompt)


def request_seed(seed: int, prompt: str) -> int:
    """A 31-bit sampling seed for one prompt: a function of ``seed`` and the prompt alone, so a
    state's samples do not depend on which other states share its batch."""
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def is_usable(tactic: str) -> bool:
    """Whether a trimmed completion can be sent to a backend: non-empty, no undecodable bytes
    (U+FFFD) and no control characters other than tab and newline."""
    if not tactic or "\ufffd" in tactic:
        return False
    return all(ch in "\t\n" or (ord(ch) >= 32 and ord(ch) != 127) for ch in tactic)


def rank_candidates(completions: Iterable[tuple[str, float]], k: int,
                    template: PromptTemplate = REPROVER_CAUSAL) -> list[Candidate]:
    """At most ``k`` candidates from raw ``(completion, sequence logprob)`` pairs: each text cut
    at the template's stop strings, unusable texts and non-finite logprobs dropped, duplicates
    merged keeping the best logprob, sorted by logprob descending (ties by text)."""
    best: dict[str, float] = {}
    for raw, logprob in completions:
        tactic = template.cut(raw)
        if not is_usable(tactic) or not math.isfinite(logprob):
            continue
        logprob = min(float(logprob), 0.0)  # float sums may overshoot 0 by rounding
        if tactic not in best or logprob > best[tactic]:
            best[tactic] = logprob
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [Candidate(tactic, logprob) for tactic, logprob in ranked[: max(k, 0)]]
