"""A :class:`~search.protocols.Policy` over a Hugging Face ``transformers`` model (causal or
seq2seq), one batched ``generate`` call per :meth:`HFPolicy.propose`.

``torch`` and ``transformers`` are imported when a policy is built, never at module import
(they are the optional extra ``hf``). A candidate's logprob is the sum of the *model's* token
log-probabilities (log-softmax of the raw logits, unaffected by temperature or top-p, as vLLM
reports them) over the tokens that produced the tactic, its terminating token (EOS or the
token carrying the stop string) included; for beam search it is the beam's own token scores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal

from prover.policy.prompts import (
    REPROVER_CAUSAL,
    REPROVER_SEQ2SEQ,
    PromptTemplate,
    rank_candidates,
    resolve_template,
)
from search.protocols import Candidate, State

Kind = Literal["causal", "seq2seq", "auto"]
Sampling = Literal["sample", "beam"]


def split_completion(token_ids: Sequence[int], token_logprobs: Sequence[float],
                     decode: Callable[[Sequence[int]], str], eos_ids: Collection[int],
                     stops: Sequence[str]) -> tuple[str, float]:
    """The text of generated tokens up to the first EOS or stop string, and the summed logprob
    of the tokens that produced it (the EOS token, or the token completing the stop, included).
    The stop string itself stays in the text; :meth:`PromptTemplate.cut` removes it."""
    end = len(token_ids)
    for i, token in enumerate(token_ids):
        if token in eos_ids:
            end = i + 1
            break
    text_ids = [t for t in token_ids[:end] if t not in eos_ids]
    text = decode(text_ids)
    if not any(s in text for s in stops):
        return text, float(sum(token_logprobs[:end]))
    lo, hi = 1, len(text_ids)  # smallest prefix whose text contains a stop string
    while lo < hi:
        mid = (lo + hi) // 2
        if any(s in decode(text_ids[:mid]) for s in stops):
            hi = mid
        else:
            lo = mid + 1
    return decode(text_ids[:lo]), float(sum(token_logprobs[:lo]))


def _step_logprobs(step_scores: Sequence[Any], tokens: Any, beam_indices: Any | None,
                   normalize: bool) -> Any:
    """``(rows, steps)`` log-probabilities of the chosen ``tokens`` from per-step score tensors;
    with ``beam_indices``, each row reads the beam it came from (0 where the beam had ended)."""
    import torch

    rows, steps = tokens.shape
    out = torch.zeros((rows, steps), dtype=torch.float32)
    for t in range(min(steps, len(step_scores))):
        scores = step_scores[t].float()
        if normalize:
            scores = torch.log_softmax(scores, dim=-1)
        if beam_indices is None:
            source = torch.arange(rows)
        else:
            source = beam_indices[:, t].clamp(min=0)
        out[:, t] = scores[source, tokens[:, t]]
        if beam_indices is not None:
            out[beam_indices[:, t] < 0, t] = 0.0
    return out


class HFPolicy:
    """Tactics from a ``transformers`` model: ``propose`` runs ONE ``generate`` over all states
    (left-padded for causal models) with ``max(k, num_samples)`` sequences per state, and
    returns per state at most ``k`` distinct usable tactics sorted by sequence logprob.

    ``model`` is a checkpoint path or hub id, or a ``(model, tokenizer)`` pair. ``kind="auto"``
    reads ``config.is_encoder_decoder``. ``prompt`` is a :class:`PromptTemplate`, a registered
    name or a raw template (default: ReProver's causal format, or the bare state for seq2seq).
    ``sampling="sample"`` draws with ``temperature``/``top_p``/``top_k`` (0 = off);
    ``"beam"`` runs beam search with as many beams as sequences. Call ``i`` (from 0) of
    ``propose`` samples under seed ``seed + i``, so equal policies give equal proposals.
    """

    def __init__(self, model: str | os.PathLike[str] | tuple[Any, Any], *, kind: Kind = "auto",
                 prompt: PromptTemplate | str | None = None, num_samples: int | None = None,
                 temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0,
                 max_new_tokens: int = 64, max_input_tokens: int = 1024,
                 sampling: Sampling = "sample", seed: int = 0, device: str = "cpu",
                 revision: str | None = None, dtype: str | None = None) -> None:
        if sampling not in ("sample", "beam"):
            raise ValueError(f"sampling must be 'sample' or 'beam', not {sampling!r}")
        if kind not in ("causal", "seq2seq", "auto"):
            raise ValueError(f"kind must be 'causal', 'seq2seq' or 'auto', not {kind!r}")
        if temperature <= 0 and sampling == "sample":
            raise ValueError("temperature must be > 0 for sampling (use sampling='beam')")
        self.model, self.tokenizer, self.kind = _load(model, kind, revision, device, dtype)
        self.model_id = (str(model) if isinstance(model, (str, os.PathLike))
                         else str(getattr(self.model, "name_or_path", "") or type(self.model).__name__))
        self.revision = revision or getattr(self.model.config, "_commit_hash", None)
        default = REPROVER_SEQ2SEQ if self.kind == "seq2seq" else REPROVER_CAUSAL
        self.template = resolve_template(prompt, default)
        self.num_samples = num_samples
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.max_new_tokens = max_new_tokens
        self.max_input_tokens = max_input_tokens
        self.sampling: Sampling = sampling
        self.seed = seed
        self.calls = 0
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def prompts(self, states: Sequence[State]) -> list[str]:
        """The exact model inputs for ``states`` (the template applied)."""
        return [self.template.render(s) for s in states]

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """At most ``k`` candidates per state, in the order of ``states``, best logprob first."""
        if not states:
            return []
        if k <= 0:
            return [[] for _ in states]
        n = max(k, self.num_samples or 0)
        rows = self._generate(self.prompts(states), n)
        return [rank_candidates(rows[i * n:(i + 1) * n], k, self.template)
                for i in range(len(states))]

    def sample(self, texts: Sequence[str], n: int) -> list[list[tuple[str, float]]]:
        """``n`` raw ``(completion, sequence logprob)`` rows per input text (the template applied,
        each completion ending at EOS or the template's first stop string, which stays in the
        text; no dedupe, no filtering), all from one ``generate`` call."""
        if not texts or n <= 0:
            return [[] for _ in texts]
        rows = self._generate([self.template.render(t) for t in texts], n)
        return [rows[i * n:(i + 1) * n] for i in range(len(texts))]

    def _generate(self, prompts: list[str], n: int) -> list[tuple[str, float]]:
        """``len(prompts) * n`` raw ``(completion, logprob)`` rows from one ``generate`` call."""
        import torch

        tok = self.tokenizer
        saved = tok.padding_side, tok.truncation_side
        if self.kind == "causal":  # pad and truncate on the left: keep the prompt's end
            tok.padding_side, tok.truncation_side = "left", "left"
        try:
            enc = tok(prompts, return_tensors="pt", padding=True, truncation=True,
                      max_length=self.max_input_tokens)
        finally:
            tok.padding_side, tok.truncation_side = saved
        device = getattr(self.model, "device", "cpu")
        enc = {key: value.to(device) for key, value in enc.items()}
        eos = _eos_ids(self.model, tok)
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens, "num_return_sequences": n,
            "return_dict_in_generate": True, "output_scores": True,
            "pad_token_id": tok.pad_token_id, "eos_token_id": sorted(eos),
        }
        if self.sampling == "sample":
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p,
                          top_k=self.top_k, num_beams=1, output_logits=True)
        else:
            kwargs.update(do_sample=False, num_beams=n, length_penalty=0.0, early_stopping=True)
        seed = self.seed + self.calls
        self.calls += 1
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            out = self.model.generate(**enc, **kwargs)
        start = enc["input_ids"].shape[1] if self.kind == "causal" else 1
        tokens = out.sequences[:, start:].cpu()
        if self.sampling == "sample":
            lps = _step_logprobs(out.logits, tokens, None, normalize=True)
        else:
            beams = getattr(out, "beam_indices", None)
            beams = beams[:, : tokens.shape[1]].cpu() if beams is not None else None
            lps = _step_logprobs(out.scores, tokens, beams, normalize=False)

        def decode(ids: Sequence[int]) -> str:
            return tok.decode(list(ids), skip_special_tokens=True,
                              clean_up_tokenization_spaces=False)

        return [split_completion(ids, row_lps, decode, eos, self.template.stop)
                for ids, row_lps in zip(tokens.tolist(), lps.tolist(), strict=True)]

    def describe(self) -> dict[str, Any]:
        """Provenance: model id/path, revision, kind, sampling parameters, prompt hash, seed."""
        import torch
        import transformers

        return {
            "policy": "hf", "model": self.model_id, "revision": self.revision,
            "kind": self.kind, "sampling": self.sampling, "num_samples": self.num_samples,
            "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
            "max_new_tokens": self.max_new_tokens, "max_input_tokens": self.max_input_tokens,
            "seed": self.seed, "device": str(getattr(self.model, "device", "cpu")),
            "logprob": "sum of raw-model token logprobs, terminator included",
            **self.template.describe(),
            "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        }


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every token id that ends a generation (generation config, model config, tokenizer)."""
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), getattr(model, "config", None),
                   tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    if not ids:
        raise ValueError("the model and tokenizer define no eos_token_id")
    return ids


def _load(source: str | os.PathLike[str] | tuple[Any, Any], kind: Kind, revision: str | None,
          device: str, dtype: str | None) -> tuple[Any, Any, Literal["causal", "seq2seq"]]:
    """``(model, tokenizer, kind)`` from a path/hub id (loaded onto ``device``) or a pair. A
    ``.gguf`` file, or a folder whose only checkpoint is one, loads through
    :func:`prover.policy.gguf.load_gguf` (dequantized; ``revision`` does not apply)."""
    from prover.policy.gguf import gguf_file, gguf_metadata, is_seq2seq, load_gguf
    from prover.policy.offline import local_model, offline

    offline()
    if not isinstance(source, tuple):
        source = local_model("hf", os.fspath(source))
    gguf = None if isinstance(source, tuple) else gguf_file(source)
    if isinstance(source, tuple):
        model, tokenizer = source
        encdec = bool(getattr(model.config, "is_encoder_decoder", False))
    elif gguf is not None:
        if revision is not None:
            raise ValueError(f"revision {revision!r} does not apply to a local GGUF file ({gguf})")
        encdec = is_seq2seq(gguf_metadata(gguf)) if kind == "auto" else kind == "seq2seq"
        model, tokenizer = load_gguf(gguf, seq2seq=encdec, device=device, dtype=dtype)
    else:
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForSeq2SeqLM,
            AutoTokenizer,
        )

        path = os.fspath(source)
        local = {"revision": revision, "local_files_only": True}
        encdec = bool(getattr(AutoConfig.from_pretrained(path, **local),
                              "is_encoder_decoder", False))
        if kind != "auto":
            encdec = kind == "seq2seq"
        loader = AutoModelForSeq2SeqLM if encdec else AutoModelForCausalLM
        extra = {"dtype": dtype} if dtype else {}
        model = loader.from_pretrained(path, **local, **extra).to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(path, **local)
    resolved: Literal["causal", "seq2seq"] = (
        kind if kind != "auto" else ("seq2seq" if encdec else "causal"))
    return model, tokenizer, resolved
