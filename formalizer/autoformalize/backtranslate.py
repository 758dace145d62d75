"""Back-translation of chosen candidates to English for the report (never used as a check).

One batched ``sampler.sample`` call renders the backtranslate prompt for every chosen
candidate; the model's sentence goes to ``chosen["backtranslation"]`` beside the deterministic
``chosen["rendered"]`` text that the target always provides. A failing sampler is recorded, not
raised: the report keeps the deterministic rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formalizer.autoformalize.llm import Sampler
from formalizer.autoformalize.prompts import PromptFile
from prover.policy.prompts import is_usable


def backtranslate(sampler: Sampler, prompt: PromptFile, chosen: Sequence[dict[str, Any]]) -> None:
    """Set ``backtranslation`` (``{"text", "logprob", "usable"}`` or ``{"error"}``) on each
    chosen-candidate dict in place."""
    texts = [prompt.render({"formal": " ".join(str(c.get("formal") or "").split())})
             for c in chosen]
    try:
        rows = sampler.sample(texts, 1)
    except Exception as exc:  # a broken model server must not lose the formalization results
        for c in chosen:
            c["backtranslation"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        return
    for c, row in zip(chosen, rows, strict=True):
        if not row:
            c["backtranslation"] = {"error": "the sampler returned no text"}
            continue
        text, logprob = row[0]
        line = text.strip().splitlines()[0].strip() if text.strip() else ""
        c["backtranslation"] = {"text": line, "logprob": logprob,
                                "usable": bool(line) and is_usable(line)}
