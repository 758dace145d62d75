"""The OpenAI-compatible completions client: against a scripted local HTTP server (request
bodies, parsing, concurrency, retries with backoff, timeouts, connection errors) and, marked
slow, against a real vLLM server on 127.0.0.1 serving a tiny random Llama."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest

from prover.policy.openai_client import OpenAIPolicy, PolicyRequestError, parse_choices
from prover.policy.prompts import REPROVER_CAUSAL, request_seed
from search.protocols import Candidate, Policy, State

STATES = [State(f"x{i} : ℕ\n⊢ x{i} + {{0}} = x{i}") for i in range(6)]

Reply = tuple[int, dict[str, Any], dict[str, str]]


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 whose replies come from ``reply(body) -> (status,
    json, headers)``; it records bodies and the peak number of requests in flight."""

    def __init__(self, reply: Callable[[dict[str, Any]], Reply], delay_s: float = 0.0) -> None:
        self.reply, self.delay_s = reply, delay_s
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.bodies.append(body)
                    fake.paths.append(self.path)
                    fake.headers.append(dict(self.headers))
                    fake.in_flight += 1
                    fake.peak = max(fake.peak, fake.in_flight)
                try:
                    time.sleep(fake.delay_s)
                    status, payload, headers = fake.reply(body)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def completions(body: dict[str, Any]) -> Reply:
    """A well-formed vLLM-style reply: choice j is ``tac{j % 3}`` with j+1 tokens of -0.5."""
    choices = [{"index": j, "text": f" tac{j % 3}", "finish_reason": "stop",
                "logprobs": {"token_logprobs": [-0.5] * (j + 1), "tokens": ["t"] * (j + 1)}}
               for j in range(body["n"])]
    return 200, {"id": "cmpl-1", "object": "text_completion", "choices": choices}, {}


def test_requests_bodies_and_parses_ranked_candidates() -> None:
    with FakeServer(completions) as server:
        policy = OpenAIPolicy(server.url, "m", n=5, max_tokens=32, temperature=0.8,
                              api_key="sk-test", seed=4)
        assert isinstance(policy, Policy)
        out = policy.propose(STATES[:3], k=2)
    assert server.paths == ["/v1/completions"] * 3
    prompts = sorted(b["prompt"] for b in server.bodies)
    assert prompts == sorted(REPROVER_CAUSAL.render(s) for s in STATES[:3])
    for body in server.bodies:
        assert body["n"] == 5 and body["max_tokens"] == 32 and body["temperature"] == 0.8
        assert body["logprobs"] == 1 and body["stop"] == ["\n"] and body["model"] == "m"
        assert body["seed"] == request_seed(4, body["prompt"])
    assert all(h["Authorization"] == "Bearer sk-test" for h in server.headers)
    assert out == [[Candidate("tac0", -0.5), Candidate("tac1", -1.0)]] * 3


def test_concurrent_requests_beat_per_node() -> None:
    with FakeServer(completions, delay_s=0.25) as server:
        policy = OpenAIPolicy(server.url, "m", concurrency=6)
        start = time.monotonic()
        batched = policy.propose(STATES, k=2)
        batched_s = time.monotonic() - start
        peak, server.peak = server.peak, 0
        start = time.monotonic()
        sequential = policy.propose_per_node(STATES, k=2)
        sequential_s = time.monotonic() - start
    assert batched == sequential
    assert peak == 6 and server.peak == 1
    assert batched_s < 1.0 <= sequential_s


def test_retries_5xx_and_429_with_backoff_then_succeeds() -> None:
    script = iter([(503, {"error": "busy"}, {}), (429, {"error": "slow down"},
                                                  {"Retry-After": "0.2"})])

    def reply(body: dict[str, Any]) -> Reply:
        return next(script, None) or completions(body)

    with FakeServer(reply) as server:
        policy = OpenAIPolicy(server.url, "m", retries=2, backoff_s=0.05)
        start = time.monotonic()
        out = policy.propose(STATES[:1], k=1)
        elapsed = time.monotonic() - start
    assert len(server.bodies) == 3 and out == [[Candidate("tac0", -0.5)]]
    assert elapsed >= 0.05 + 0.2  # first backoff, then the server's Retry-After


def test_client_errors_are_not_retried() -> None:
    with FakeServer(lambda body: (404, {"error": "no such model"}, {})) as server:
        policy = OpenAIPolicy(server.url, "missing", retries=3, backoff_s=0.01)
        with pytest.raises(PolicyRequestError, match="HTTP 404.*no such model") as info:
            policy.propose(STATES[:1], k=1)
    assert info.value.status == 404 and len(server.bodies) == 1


def test_last_5xx_gives_a_clear_error() -> None:
    with FakeServer(lambda body: (500, {"error": "boom"}, {})) as server:
        policy = OpenAIPolicy(server.url, "m", retries=2, backoff_s=0.01)
        with pytest.raises(PolicyRequestError, match=r"after 3 attempt\(s\): HTTP 500"):
            policy.propose(STATES[:2], k=1)
    assert len(server.bodies) == 6


def test_connection_refused_retries_with_backoff_then_fails() -> None:
    port = pf.free_port()  # nothing listens there
    policy = OpenAIPolicy(f"http://127.0.0.1:{port}/v1", "m", retries=2, backoff_s=0.1,
                          timeout_s=2.0)
    start = time.monotonic()
    with pytest.raises(PolicyRequestError, match=r"after 3 attempt\(s\): connection error"):
        policy.propose(STATES[:1], k=1)
    elapsed = time.monotonic() - start
    assert 0.1 + 0.2 <= elapsed < 5.0


def test_timeout_when_the_server_never_answers() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections in the backlog, never replies
        port = silent.getsockname()[1]
        policy = OpenAIPolicy(f"http://127.0.0.1:{port}/v1", "m", timeout_s=0.3, retries=1,
                              backoff_s=0.05)
        start = time.monotonic()
        with pytest.raises(PolicyRequestError, match=r"after 2 attempt\(s\): timed out"):
            policy.propose(STATES[:1], k=1)
        elapsed = time.monotonic() - start
    assert 0.6 <= elapsed < 5.0


def test_garbage_replies_do_not_crash() -> None:
    def reply(body: dict[str, Any]) -> Reply:
        choices = [{"text": None}, {"text": ""}, {"text": "\ufffd"}, {"text": "ok", "logprobs": None},
                   {"text": "bad", "logprobs": {"token_logprobs": ["x"]}},
                   {"text": "first", "logprobs": {"token_logprobs": [None, -1.0, -0.25]}}]
        return 200, {"choices": choices}, {}

    with FakeServer(reply) as server:
        out = OpenAIPolicy(server.url, "m").propose(STATES[:2], k=5)
    assert out == [[Candidate("ok", 0.0), Candidate("first", -1.25)]] * 2
    assert parse_choices({"choices": [{"text": "a", "logprobs": {"token_logprobs": ["?"]}}]})[0][0] == "a"
    assert math.isnan(parse_choices({"choices": [{"text": "a", "logprobs": {
        "token_logprobs": ["?"]}}]})[0][1])
    with FakeServer(lambda body: (200, {"unexpected": True}, {})) as server, \
            pytest.raises(PolicyRequestError, match="no choices"):
        OpenAIPolicy(server.url, "m").propose(STATES[:1], k=1)


def test_edge_cases_and_describe() -> None:
    policy = OpenAIPolicy("http://127.0.0.1:9/v1/", "m", n=8, logprobs=False, seed=None)
    assert policy.url == "http://127.0.0.1:9/v1/completions"
    assert policy.propose([], k=3) == [] and policy.propose(STATES[:2], k=0) == [[], []]
    body = policy.request_body("p", 8)
    assert "logprobs" not in body and "seed" not in body
    info = policy.describe()
    json.dumps(info)
    assert info["model"] == "m" and info["prompt_sha256"] == REPROVER_CAUSAL.sha256
    with pytest.raises(ValueError):
        OpenAIPolicy("http://x/v1", "m", concurrency=0)


# --- a real vLLM server (slow) ---------------------------------------------------------------

@pytest.mark.slow
def test_vllm_server_batch_with_logprobs(vllm_server: pf.VLLMServer) -> None:
    policy = OpenAIPolicy(vllm_server.base_url, vllm_server.model, n=6, max_tokens=16,
                          concurrency=8, timeout_s=60.0)
    out = policy.propose(STATES, k=4)
    assert [len(c) for c in out] == [4] * len(STATES)
    for candidates in out:
        logprobs = [c.logprob for c in candidates]
        assert all(math.isfinite(lp) and lp <= 0.0 for lp in logprobs)
        assert logprobs == sorted(logprobs, reverse=True)
        assert len({c.tactic for c in candidates}) == 4
    assert policy.propose(STATES, k=4) == out  # per-prompt seeds: reproducible
    assert policy.propose_per_node(STATES, k=4) == out  # and independent of batching


@pytest.mark.slow
def test_vllm_server_large_frontier(vllm_server: pf.VLLMServer) -> None:
    """48 concurrent seeded requests x 6 samples: more prompt tokens than one scheduler step."""
    states = [State(f"h{i} : {i} < n\n⊢ {i} + 1 ≤ n ∧ n ≠ 0 ∨ n = {i} + 1") for i in range(48)]
    policy = OpenAIPolicy(vllm_server.base_url, vllm_server.model, max_tokens=8, concurrency=48)
    out = policy.propose(states, k=6)
    assert len(out) == 48 and all(out)


@pytest.mark.slow
def test_vllm_server_logprobs_are_the_model_logprobs(vllm_server: pf.VLLMServer) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = vllm_server.model_dir  # type: ignore[attr-defined]
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    policy = OpenAIPolicy(vllm_server.base_url, vllm_server.model, max_tokens=8,
                          temperature=0.7)
    prompt = policy.prompts(STATES[:1])[0]
    response = policy.complete(policy.request_body(prompt, 4))
    assert len(response["choices"]) == 4
    for choice, (text, logprob) in zip(response["choices"], parse_choices(response), strict=True):
        ids = tok.convert_tokens_to_ids(choice["logprobs"]["tokens"])
        assert tok.decode(ids, skip_special_tokens=True).startswith(text)
        expected = pf.teacher_forced_logprob(model, tok, prompt, ids)
        assert logprob == pytest.approx(expected, abs=1e-3)


@pytest.mark.slow
def test_vllm_server_overlong_state(vllm_server: pf.VLLMServer) -> None:
    """Over the context: a clear 400 error, or vLLM's left truncation through ``extra_body``."""
    long_state = [State("🦀 " * 400)]
    strict = OpenAIPolicy(vllm_server.base_url, vllm_server.model, max_tokens=8, retries=0)
    with pytest.raises(PolicyRequestError) as info:
        strict.propose(long_state, k=2)
    assert info.value.status == 400
    truncating = OpenAIPolicy(vllm_server.base_url, vllm_server.model, max_tokens=8,
                              extra_body={"truncate_prompt_tokens": 200})
    assert len(truncating.propose(long_state, k=2)) == 1


@pytest.mark.slow
def test_vllm_server_unknown_model_is_a_clear_error(vllm_server: pf.VLLMServer) -> None:
    policy = OpenAIPolicy(vllm_server.base_url, "no-such-model", retries=2, backoff_s=0.01)
    with pytest.raises(PolicyRequestError) as info:
        policy.propose(STATES[:1], k=1)
    assert info.value.status == 404


def test_server_command_line_is_cpu_ready(tmp_path: Path) -> None:
    cmd = pf.vllm_server_command(tmp_path, 8123)
    assert cmd[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert {"--host", "127.0.0.1", "--dtype", "float32", "--enforce-eager"} <= set(cmd)
