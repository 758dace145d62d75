"""Read CoT solutions from JSON Lines (``steps`` or ``gsm8k`` layout) or plain text files.

Readers stream the file and never raise on bad content: each bad line becomes an
:class:`InputError` carrying its 1-based line number and one clear message, so the caller can
report it and go on with the other rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from formalizer.stepcheck import Solution
from prover.records.jsonl import MAX_LINE_BYTES, BadInputFile, InputError, read_jsonl

__all__ = ["FORMATS", "MAX_LINE_BYTES", "BadInputFile", "InputError", "decode_jsonl",
           "detect_format", "read_solutions", "read_text_solution", "split_gsm8k_answer"]

Format = Literal["auto", "steps", "gsm8k", "text"]
FORMATS: tuple[str, ...] = ("auto", "steps", "gsm8k", "text")

#: The one hardened JSONL reader (:mod:`prover.records.jsonl`), under its old name here.
decode_jsonl = read_jsonl


def detect_format(obj: dict[str, Any]) -> str | None:
    """``steps`` when the row has a ``steps`` key, ``gsm8k`` for question+answer, else None."""
    if "steps" in obj:
        return "steps"
    if "question" in obj and "answer" in obj:
        return "gsm8k"
    return None


def _row_id(obj: dict[str, Any], line0: int) -> str:
    raw = obj.get("id")
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return str(raw)
    return str(line0)


def _from_steps(obj: dict[str, Any], line0: int) -> Solution | InputError:
    rid = _row_id(obj, line0)
    steps = obj.get("steps")
    problem = obj.get("problem", "")
    if not isinstance(problem, str):
        return InputError(line0 + 1, "'problem' must be a string", rid)
    if not isinstance(steps, list):
        return InputError(line0 + 1, "'steps' must be a list of strings", rid)
    if not steps:
        return InputError(line0 + 1, "'steps' is empty: nothing to check", rid)
    for i, step in enumerate(steps):
        if not isinstance(step, str):
            return InputError(line0 + 1, f"steps[{i}] must be a string, got "
                                         f"{type(step).__name__}", rid)
    final = obj.get("final_answer")
    return Solution(rid, problem, list(steps), final if isinstance(final, str) else None, line0)


def split_gsm8k_answer(answer: str) -> tuple[list[str], str | None]:
    """Steps are the non-empty lines before ``####``; the final answer is what follows it."""
    body, sep, final = answer.partition("####")
    steps = [line.strip() for line in body.splitlines() if line.strip()]
    return steps, (final.strip() if sep else None)


def _from_gsm8k(obj: dict[str, Any], line0: int) -> Solution | InputError:
    rid = _row_id(obj, line0)
    question, answer = obj.get("question"), obj.get("answer")
    if not isinstance(question, str) or not isinstance(answer, str):
        return InputError(line0 + 1, "'question' and 'answer' must be strings", rid)
    steps, final = split_gsm8k_answer(answer)
    if not steps:
        return InputError(line0 + 1, "the answer has no steps before '####'", rid)
    return Solution(rid, question, steps, final, line0)


def read_text_solution(path: Path) -> Solution:
    """A text file is one solution, one step per non-empty line; its id is the file stem."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise BadInputFile(f"cannot read {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise BadInputFile(f"{path} is not valid UTF-8 (byte offset {err.start})") from err
    steps = [line.strip() for line in text.splitlines() if line.strip()]
    if not steps:
        raise BadInputFile(f"{path} has no steps (no non-empty line)")
    return Solution(path.stem, "", steps, None, 0)


def is_text_input(path: Path, fmt: str = "auto") -> bool:
    """Whether ``path`` in format ``fmt`` is read as one plain-text solution (not JSON Lines);
    raises BadInputFile when ``fmt`` is auto and the file cannot be read."""
    return fmt == "text" or (fmt == "auto" and _sniff_text(path))


def _sniff_text(path: Path) -> bool:
    """True when the file does not look like JSON Lines (first non-blank byte is not '{')."""
    if path.suffix.lower() in (".txt", ".md"):
        return True
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError as err:
        raise BadInputFile(f"cannot read {path}: {err.strerror or err}") from err
    return bool(head) and not head.startswith(b"{")


def read_solutions(path: Path, fmt: str = "auto") -> Iterator[Solution | InputError]:
    """Every solution of ``path`` in file order, or an InputError for each unreadable row."""
    if fmt not in FORMATS:
        raise BadInputFile(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise BadInputFile(f"{path}: no such file")
    if is_text_input(path, fmt):
        yield read_text_solution(path)
        return
    for number, obj in decode_jsonl(path):
        if isinstance(obj, InputError):
            yield obj
            continue
        row_fmt = fmt if fmt != "auto" else detect_format(obj)
        if row_fmt == "steps":
            yield _from_steps(obj, number - 1)
        elif row_fmt == "gsm8k":
            yield _from_gsm8k(obj, number - 1)
        else:
            yield InputError(number, "cannot tell the layout: expected keys 'steps' (with 'id',"
                                     " 'problem') or 'question' and 'answer'", _row_id(obj, -1)
                             if "id" in obj else None)
