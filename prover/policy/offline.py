"""Local-only model loading: proofgraph never downloads a model, and says so clearly.

:func:`local_model` resolves the argument of ``hf:PATH`` / ``vllm:PATH`` to an existing local
file or folder, or to a Hugging Face hub id already in the local cache; anything else raises
:class:`ModelNotFoundError` (a ``FileNotFoundError``) naming the path, before any engine or
``transformers`` loader starts. :func:`offline` sets ``HF_HUB_OFFLINE`` and
``TRANSFORMERS_OFFLINE`` so no library underneath tries the network either (loaders are also
called with ``local_files_only=True``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: ``org/name`` or a legacy bare ``name``: the shapes of a hub id (never a path with ./, ~, /).
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


class ModelNotFoundError(FileNotFoundError):
    """The model a spec names is not on this machine (and will not be downloaded)."""


def offline() -> None:
    """Make the Hugging Face libraries offline for this process (a user's explicit setting
    is kept). Call before importing ``transformers``/``vllm``; loads also pass
    ``local_files_only=True``, which holds whatever the environment says."""
    for name in OFFLINE_ENV:
        os.environ.setdefault(name, "1")


def _in_hub_cache(repo_id: str) -> bool:
    """Whether ``repo_id`` has a ``config.json`` in the local hub cache."""
    if not _HUB_ID.match(repo_id) or ".." in repo_id:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except (ValueError, OSError):  # not a valid repo id, or no cache folder
        return False


def local_model(spec_name: str, arg: str) -> str:
    """``arg`` when it is an existing local file/folder or a cached hub id; else raises
    :class:`ModelNotFoundError` with one clear line (``spec_name`` is ``hf`` or ``vllm``)."""
    path = Path(arg).expanduser()
    if path.exists():
        return str(path)
    if not arg.startswith((".", "/", "~")) and _in_hub_cache(arg):
        return arg
    raise ModelNotFoundError(
        f"{spec_name}:{arg}: no such model file or folder on this machine (give a local "
        "checkpoint folder or .gguf file; proofgraph runs offline and never downloads models)")
