"""The one hardened JSON Lines reader and the one atomic file write.

:func:`read_jsonl` streams a file and never raises on bad content: each bad line (over-long,
not UTF-8, malformed or nested too deeply, NaN/Infinity, not a JSON object) becomes an
:class:`InputError` with its 1-based line number and one clear message. :func:`atomic_write`
replaces a file so a reader sees the old or the new content, never a mix.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class InputError:
    """A row that could not be read; ``line`` is 1-based, ``row_id`` the id when one was found."""

    line: int
    message: str
    row_id: str | None = None


class BadInputFile(ValueError):
    """The file as a whole is unusable (missing, a directory, undecodable text file)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in input")


def _parse_int(text: str) -> int:
    """A JSON integer; one over Python's int-conversion digit limit is refused in our words."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    digits = len(text.lstrip("-"))
    if limit and digits > limit:
        raise ValueError(f"a number with {digits} digits (at most {limit} are read)")
    return int(text)


def parse_line(raw: bytes, number: int,
               max_line_bytes: int = MAX_LINE_BYTES) -> dict[str, Any] | InputError:
    """One JSONL line (bytes, newline allowed) as an object, or the reason it is not one."""
    if len(raw) > max_line_bytes:
        return InputError(number, f"line longer than {max_line_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return InputError(number, f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column "
                                  f"{err.start + 1})")
    try:
        obj = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except RecursionError:
        return InputError(number, "malformed JSON: nested too deeply")
    except ValueError as err:
        return InputError(number, f"malformed JSON: {err}")
    if not isinstance(obj, dict):
        return InputError(number, "expected a JSON object per line")
    return obj


def read_jsonl(path: Path, max_line_bytes: int = MAX_LINE_BYTES
               ) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    """Yield (1-based line number, object or error) for every non-blank line of a JSONL file.

    A line is read at most ``max_line_bytes + 1`` bytes at a time, so an over-long line is
    rejected without holding it in memory. Raises :class:`BadInputFile` when the file cannot
    be opened.
    """
    try:
        handle = path.open("rb")
    except OSError as err:
        raise BadInputFile(f"cannot read {path}: {err.strerror or err}") from err
    with handle:
        number = 0
        while True:
            raw = handle.readline(max_line_bytes + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the long line
                    raw = handle.readline(1 << 20)
                yield number, InputError(number, f"line longer than {max_line_bytes} bytes")
                continue
            if not raw.strip():
                continue
            yield number, parse_line(raw, number, max_line_bytes)


def dump_line(obj: dict[str, Any]) -> str:
    """One compact JSON line (no trailing newline), UTF-8 kept: how results are written."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def atomic_write(path: Path, write: Callable[[Path], None], *, mode: int | None = None,
                 tmp: Path | None = None) -> None:
    """Call ``write(tmp)`` on a temp file beside ``path``, fsync it, give it the usual
    permissions (``mode``, default 0666 minus the umask, not mkstemp's 0600), rename it over
    ``path`` and fsync the folder; the temp file (``tmp`` if given, else a fresh name) is
    removed if anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
    else:  # a caller-chosen name (synth's manifest knows its temp files by name)
        tmp.unlink(missing_ok=True)  # a leftover of a killed write of ours
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` of a UTF-8 text."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
