"""Prompt formats for whole-proof generation, read from files (``formats/*.prompt``).

A :class:`ProofFormat` says how to ask one model family for a complete proof and how to ask it
again with the checker's errors. A file (:func:`parse_format_text`: ``key: value`` lines, then
``=== system|user|repair ===`` sections; plain text, so Python 3.10 reads it without tomllib)
has: ``name``, ``models``, ``family`` (``lean`` or
``z3``), ``style`` (``chat``: messages rendered by the model's chat template; ``completion``:
plain text), ``output`` (``block``: the answer's last fenced code block is the proof;
``continue``: the completion continues the code block the prompt opened, up to its closing
fence), ``cot`` (a long reasoning section comes first), optional ``system``, ``user`` and
``repair`` texts and ``block_tags`` (the fence tags accepted, default ``lean4``/``lean``).

Placeholders are replaced literally (never ``str.format``: Lean text is full of braces):
``{code}`` (header + statement, closed by ``:= by sorry`` for ``block``, opened as ``:= by`` for
``continue``), ``{statement}``, ``{header}``, ``{informal}``, ``{hypotheses}``, ``{goal}``
(Z3 rows) and, in ``repair``, ``{proof}``, ``{errors}``, ``{round}``. The file's SHA-256 (of its
bytes) identifies the format in provenance.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

FORMATS_DIR = Path(__file__).resolve().parent / "formats"
_SECTION = re.compile(r"^=== (system|user|repair) ===$")
DEFAULT_FORMAT = {"lean": "deepseek-prover-v2", "z3": "z3-script"}
PLACEHOLDERS = ("code", "statement", "header", "informal", "hypotheses", "goal", "proof",
                "errors", "round")


class FormatError(ValueError):
    """A prompt format file that cannot be read or is incomplete."""


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ProofFormat:
    """One prompt format (see the module docstring); ``sha256`` is the file's digest."""

    name: str
    family: str
    style: Literal["chat", "completion"]
    output: Literal["block", "continue"]
    cot: bool
    user: str
    repair: str
    system: str | None
    block_tags: tuple[str, ...]
    models: tuple[str, ...]
    path: str
    sha256: str

    def describe(self) -> dict[str, Any]:
        """Provenance fields: name, file, hash, style, output, chain of thought."""
        return {"prompt_format": self.name, "prompt_file": Path(self.path).name,
                "prompt_sha256": self.sha256, "prompt_style": self.style,
                "prompt_output": self.output, "prompt_cot": self.cot}


def parse_format_text(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """``(fields, sections)`` of a ``.prompt`` file: ``# comment`` lines, then ``key: value``
    lines, then sections opened by a line ``=== NAME ===`` whose body runs verbatim up to the
    newline before the next such line (the last one: to the file's final newline)."""
    fields: dict[str, str] = {}
    sections: dict[str, str] = {}
    lines = text.split("\n")
    body: list[str] = []
    i = 0
    while i < len(lines) and not _SECTION.match(lines[i]):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise FormatError(f"line {i}: expected 'key: value', got {line!r}")
        fields[key.strip()] = value.strip()
    name, body = "", []
    for line in lines[i:]:
        match = _SECTION.match(line)
        if match:
            if name:
                sections[name] = "\n".join(body)
            name, body = match.group(1), []
        else:
            body.append(line)
    if name:
        sections[name] = "\n".join(body[:-1] if body and body[-1] == "" else body)
    return fields, sections


def load_format(spec: str) -> ProofFormat:
    """The format named ``spec`` (a file stem in ``formats/``) or the ``.prompt`` file at
    path ``spec``. Raises :class:`FormatError` naming the problem."""
    builtin = FORMATS_DIR / f"{spec}.prompt"
    path = builtin if "/" not in spec and builtin.is_file() else Path(spec)
    try:
        raw = path.read_bytes()
    except OSError as err:
        known = ", ".join(sorted(p.stem for p in FORMATS_DIR.glob("*.prompt")))
        raise FormatError(f"prompt format {spec!r}: {err.strerror or err}; built-in formats: "
                          f"{known}") from None
    try:
        fields, sections = parse_format_text(raw.decode("utf-8"))
    except (UnicodeDecodeError, FormatError) as err:
        raise FormatError(f"prompt format {path}: {err}") from None
    missing = [k for k in ("name", "family", "style", "output") if not fields.get(k)]
    missing += [k for k in ("user", "repair") if k not in sections]
    if missing:
        raise FormatError(f"prompt format {path}: missing {', '.join(missing)}")
    if fields["style"] not in ("chat", "completion") or \
            fields["output"] not in ("block", "continue"):
        raise FormatError(f"prompt format {path}: style must be chat|completion and output "
                          "block|continue")
    if fields["output"] == "continue" and fields["style"] != "completion":
        raise FormatError(f"prompt format {path}: output=continue needs style=completion")
    tags = _items(fields.get("block_tags", "lean4, lean"))
    return ProofFormat(
        name=fields["name"], family=fields["family"], style=fields["style"],  # type: ignore[arg-type]
        output=fields["output"], cot=fields.get("cot", "false").lower() == "true",  # type: ignore[arg-type]
        user=sections["user"], repair=sections["repair"], system=sections.get("system"),
        block_tags=tuple("" if t == "(none)" else t for t in tags),
        models=tuple(_items(fields.get("models", ""))), path=str(path),
        sha256=hashlib.sha256(raw).hexdigest())


def _items(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` of :data:`PLACEHOLDERS` replaced by ``values[name]``
    (one pass, so a value containing ``{errors}`` is never expanded again)."""
    out: list[str] = []
    i = 0
    while i < len(template):
        if template[i] == "{":
            end = template.find("}", i)
            name = template[i + 1:end] if end > 0 else ""
            if name in PLACEHOLDERS:
                out.append(values.get(name, ""))
                i = end + 1
                continue
        out.append(template[i])
        i += 1
    return "".join(out)


def row_values(row: Mapping[str, Any], fmt: ProofFormat) -> dict[str, str]:
    """The placeholder values of one theorem row (Lean: ``statement``/``header``/
    ``informal``; Z3: ``smt2``/``goal``). Raises ValueError for a row of the wrong kind."""
    if fmt.family == "z3":
        smt2, goal = row.get("smt2"), row.get("goal")
        if not isinstance(smt2, str) or not isinstance(goal, str):
            raise ValueError(f"row {row.get('id')!r}: z3 rows need 'smt2' and 'goal' strings")
        return {"hypotheses": smt2, "goal": goal, "statement": f"{smt2} ⊢ {goal}"}
    statement, header = row.get("statement"), row.get("header", "")
    if not isinstance(statement, str) or not isinstance(header, str):
        raise ValueError(f"row {row.get('id')!r}: lean rows need 'statement' (and optional "
                         "'header') strings")
    head = statement.rstrip()
    for tail in (":= by sorry", ":= sorry", ":= by"):
        if head.endswith(tail):
            head = head[: -len(tail)].rstrip()
    opened = f"{head} := by\n" if fmt.output == "continue" else f"{head} := by\n  sorry"
    prefix = f"{header.rstrip()}\n\n" if header.strip() else ""
    informal = row.get("informal") or row.get("informal_statement") or ""
    return {"statement": head, "header": header, "code": prefix + opened,
            "informal": f" {informal}" if informal else ""}


def initial_turns(fmt: ProofFormat, values: Mapping[str, str]) -> list[Turn]:
    """The conversation of round 1."""
    turns = [Turn("system", fmt.system)] if fmt.system else []
    return [*turns, Turn("user", fill(fmt.user, values))]


def repair_turns(fmt: ProofFormat, values: Mapping[str, str], previous: Sequence[Turn],
                 answer: str, errors: str, round_no: int) -> list[Turn]:
    """The conversation of round ``round_no`` (>= 2): the previous one, the model's answer
    (for ``block`` formats the extracted proof in a code block, not its whole reasoning) and
    the repair turn carrying the checker's ``errors``. Completion formats restart from the
    repair text alone (they have no conversation)."""
    tag = fmt.block_tags[0] if fmt.block_tags else ""
    filled = fill(fmt.repair, {**values, "proof": answer, "errors": errors,
                               "round": str(round_no - 1)})
    if fmt.style == "completion":
        return [Turn("user", filled)]
    return [*previous, Turn("assistant", f"```{tag}\n{answer}\n```"), Turn("user", filled)]


def render(turns: Sequence[Turn], fmt: ProofFormat, tokenizer: Any | None) -> tuple[str, str]:
    """``(model input, how it was rendered)``: completion formats are the user text itself;
    chat formats go through ``tokenizer.apply_chat_template`` when the tokenizer has a chat
    template (``"chat-template"``), else a plain ``System:/User:/Assistant:`` transcript
    (``"plain-chat"``: e.g. an OpenAI-compatible completions endpoint, or a model without one)."""
    if fmt.style == "completion":
        return "\n\n".join(t.content for t in turns), "completion"
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        messages = [{"role": t.role, "content": t.content} for t in turns]
        text = tokenizer.apply_chat_template(messages, tokenize=False,
                                             add_generation_prompt=True)
        return str(text), "chat-template"
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    lines = [f"{names[t.role]}: {t.content}" for t in turns]
    return "\n\n".join([*lines, "Assistant:"]), "plain-chat"
