"""Output-path guard and advisory locks: no run overwrites its input or its store, and no two
writers share an output file or a store.

:func:`guard_outputs` compares resolved paths and (for existing files) device and inode, so a
symlink, a hard link or ``./x`` vs ``x`` cannot slip an input under an output flag.
:class:`FileLock` is a non-blocking ``fcntl.flock`` on the file itself: the kernel drops it
when the holder dies (even by SIGKILL), so a stale lock never outlives its process. ``flock``
locks are independent of the POSIX record locks SQLite uses, so locking a store file does not
disturb SQLite (the lock's descriptor must stay open until the store is closed).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType


class OutputPathError(ValueError):
    """An output path is an input, the store, or another output of the same command."""


class LockedError(RuntimeError):
    """Another process is writing the same output file or store."""


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    resolved = str(path.expanduser().resolve())
    try:
        st = os.stat(resolved)
    except OSError:
        return resolved, None
    return resolved, (st.st_dev, st.st_ino)


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (resolved path, or device and inode)."""
    ra, ia = _identity(a)
    rb, ib = _identity(b)
    return ra == rb or (ia is not None and ia == ib)


def guard_outputs(outputs: Iterable[tuple[str, Path | None]],
                  inputs: Iterable[tuple[str, Path | None]]) -> None:
    """Refuse (raise :class:`OutputPathError`) when an output path is one of the ``inputs``
    (the store counts as an input of every output but itself) or another output.

    Both arguments are ``(flag, path)`` pairs such as ``("--out", Path("o.jsonl"))``; ``None``
    paths are skipped. Called before anything is opened, whatever other flags say
    (``--fresh`` included), so no input is ever truncated.
    """
    outs = [(flag, path) for flag, path in outputs if path is not None]
    ins = [(flag, path) for flag, path in inputs if path is not None]
    for index, (flag, path) in enumerate(outs):
        for other_flag, other in ins:
            if same_file(path, other):
                raise OutputPathError(
                    f"{flag} {path} is the {other_flag} file ({other}); writing it would "
                    f"destroy it: choose another {flag} path")
        for other_flag, other in outs[index + 1:]:
            if same_file(path, other):
                raise OutputPathError(f"{flag} and {other_flag} are the same file ({path}); "
                                      "give each output its own path")


class FileLock:
    """An exclusive, non-blocking advisory lock on one file (created if missing).

    ``acquire`` raises :class:`LockedError` with ``what`` in its message when another process
    holds the lock. Use as a context manager or call :meth:`release`.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> FileLock:
        """Open (creating it empty if needed) and lock ``path``."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"{self.path} is in use: another proofgraph process is writing this "
                f"{self.what}; wait for it to finish (it holds the lock until it ends) or "
                f"choose another path") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def relock(self) -> None:
        """Lock the file now at ``path`` after it was atomically replaced (a new inode)."""
        old = self._fd
        self._fd = None
        try:
            self.acquire()
        finally:
            if old is not None:
                os.close(old)

    def release(self) -> None:
        """Unlock and close (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
