"""Prompt files of the autoformalizer (``formalizer/prompts/*.txt``): loading, hashing, rendering.

A prompt file starts with header lines beginning ``%%`` (purpose, few-shot source, placeholders);
they are stripped before use. Placeholders ``{name}`` are filled in ONE pass over the template,
so braces inside the filled-in text (Lean binders, a statement that contains ``{error}``) are
never substituted again. Each prompt's sha256 is of the file's bytes as shipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROMPT_DIR = Path(__file__).resolve().parent.parent / "prompts"
_HEADER = "%%"
_SLOT = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class PromptFile:
    """One prompt: ``name`` (file name), ``template`` (header stripped), ``sha256`` of the file."""

    name: str
    template: str
    sha256: str

    @property
    def slots(self) -> frozenset[str]:
        """The placeholder names the template uses."""
        return frozenset(_SLOT.findall(self.template))

    def render(self, values: Mapping[str, str]) -> str:
        """The template with every ``{slot}`` replaced by ``values[slot]`` in one pass; raises
        KeyError naming a slot without a value."""
        missing = self.slots - set(values)
        if missing:
            raise KeyError(f"prompt {self.name} needs values for {sorted(missing)}")
        return _SLOT.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0),
                         self.template)

    def describe(self) -> dict[str, Any]:
        """Provenance: file name and sha256."""
        return {"file": self.name, "sha256": self.sha256}


@cache
def load_prompt(name: str, directory: Path = PROMPT_DIR) -> PromptFile:
    """The prompt file ``name`` (e.g. ``"formalize_z3.txt"``) from ``directory``."""
    path = directory / name
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith(_HEADER):
        start += 1
    return PromptFile(name, "".join(lines[start:]), hashlib.sha256(data).hexdigest())
