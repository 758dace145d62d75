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
    resolve_template,
)
from prover.policy.sampling import SampledPolicy, SamplingParams, sampling_from, state_seed

Kind = Literal["causal", "seq2seq", "auto"]
Decoding = Literal["sample", "beam"]
#: the old keyword names of this policy's sampling fields, still accepted
HF_ALIASES = {"num_samples": "n", "max_new_tokens": "max_tokens"}


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


class HFPolicy(SampledPolicy):
    """Tactics from a ``transformers`` model: one ``generate`` over all states (left-padded for
    causal models) with ``sampling.samples(k)`` sequences per state; per state at most ``k``
    distinct usable tactics sorted by sequence logprob (:class:`SampledPolicy`).

    ``model`` is a checkpoint path or hub id, or a ``(model, tokenizer)`` pair. ``kind="auto"``
    reads ``config.is_encoder_decoder``. ``prompt`` is a :class:`PromptTemplate`, a registered
    name or a raw template (default: ReProver's causal format, or the bare state for seq2seq).
    ``sampling`` (or its fields as keywords; the old names ``num_samples``/``max_new_tokens``
    are accepted) sets n, max_tokens, temperature/top_p/top_k and the seed.
    ``decoding="sample"`` draws; ``"beam"`` runs beam search with as many beams as sequences.
    Without search seeds, call ``i`` (from 0) samples under seed ``seed + i``, so equal policies
    give equal proposals; with them (the batching queue), every row draws from its own
    generator (:mod:`prover.policy.hf_rows`).
    """

    name = "hf"

    def __init__(self, model: str | os.PathLike[str] | tuple[Any, Any], *, kind: Kind = "auto",
                 prompt: PromptTemplate | str | None = None,
                 sampling: SamplingParams | None = None, decoding: Decoding = "sample",
                 max_input_tokens: int = 1024, device: str = "cpu",
                 revision: str | None = None, dtype: str | None = None,
                 **options: Any) -> None:
        if decoding not in ("sample", "beam"):
            raise ValueError(f"decoding must be 'sample' or 'beam', not {decoding!r}")
        if kind not in ("causal", "seq2seq", "auto"):
            raise ValueError(f"kind must be 'causal', 'seq2seq' or 'auto', not {kind!r}")
        self.sampling = sampling_from(sampling, options, HF_ALIASES)
        if self.sampling.temperature <= 0 and decoding == "sample":
            raise ValueError("temperature must be > 0 for sampling (use decoding='beam')")
        if self.sampling.seed is None:
            raise ValueError("the hf policy samples in-process and needs an int seed")
        self.model, self.tokenizer, self.kind = _load(model, kind, revision, device, dtype)
        self.model_id = (str(model) if isinstance(model, (str, os.PathLike))
                         else str(getattr(self.model, "name_or_path", "") or type(self.model).__name__))
        self.revision = revision or getattr(self.model.config, "_commit_hash", None)
        default = REPROVER_SEQ2SEQ if self.kind == "seq2seq" else REPROVER_CAUSAL
        self.template = resolve_template(prompt, default)
        self.max_input_tokens = max_input_tokens
        self.decoding: Decoding = decoding
        self.calls = 0
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def generate(self, prompts: Sequence[str], n: int, seeds: Sequence[int] | None
                 ) -> list[list[tuple[str, float]]]:
        """``n`` rows per prompt from one ``generate`` call: with search ``seeds`` and
        ``decoding="sample"``, row ``j`` of prompt ``p`` draws from a generator seeded
        :func:`~prover.policy.sampling.state_seed` (seed, p, j); else from the global RNG
        seeded ``seed + calls`` (beam search draws nothing)."""
        if seeds is not None and self.decoding == "sample":
            from prover.policy.hf_rows import generate_rows

            row_seeds = [state_seed(seed, p, j) for p, seed in zip(prompts, seeds, strict=True)
                         for j in range(n)]
            rows = generate_rows(self, list(prompts), n, row_seeds)
        else:
            rows = self._generate(list(prompts), n)
        return [rows[i * n:(i + 1) * n] for i in range(len(prompts))]

    def encode(self, prompts: list[str]) -> tuple[dict[str, Any], set[int]]:
        """``prompts`` tokenized as one padded batch on the model's device (causal models pad
        and truncate on the left: the prompt's end is kept), and the EOS token ids."""
        tok = self.tokenizer
        saved = tok.padding_side, tok.truncation_side
        if self.kind == "causal":
            tok.padding_side, tok.truncation_side = "left", "left"
        try:
            enc = tok(prompts, return_tensors="pt", padding=True, truncation=True,
                      max_length=self.max_input_tokens)
        finally:
            tok.padding_side, tok.truncation_side = saved
        device = getattr(self.model, "device", "cpu")
        return {key: value.to(device) for key, value in enc.items()}, _eos_ids(self.model, tok)

    def decode_rows(self, out: Any, enc: dict[str, Any], eos: set[int]
                    ) -> list[tuple[str, float]]:
        """``(completion, logprob)`` per sequence of a ``generate`` output: raw-model logprobs
        from ``out.logits`` when present, else the beams' own ``out.scores``."""
        start = enc["input_ids"].shape[1] if self.kind == "causal" else 1
        tokens = out.sequences[:, start:].cpu()
        if getattr(out, "logits", None) is not None:
            lps = _step_logprobs(out.logits, tokens, None, normalize=True)
        else:
            beams = getattr(out, "beam_indices", None)
            beams = beams[:, : tokens.shape[1]].cpu() if beams is not None else None
            lps = _step_logprobs(out.scores, tokens, beams, normalize=False)
        tok = self.tokenizer

        def decode(ids: Sequence[int]) -> str:
            return tok.decode(list(ids), skip_special_tokens=True,
                              clean_up_tokenization_spaces=False)

        return [split_completion(ids, row_lps, decode, eos, self.template.stop)
                for ids, row_lps in zip(tokens.tolist(), lps.tolist(), strict=True)]

    def _generate(self, prompts: list[str], n: int) -> list[tuple[str, float]]:
        """``len(prompts) * n`` raw ``(completion, logprob)`` rows from one ``generate`` call
        (the global RNG seeded ``seed + calls``)."""
        import torch

        enc, eos = self.encode(prompts)
        sampling = self.sampling
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens, "num_return_sequences": n,
            "return_dict_in_generate": True, "output_scores": True,
            "pad_token_id": self.tokenizer.pad_token_id, "eos_token_id": sorted(eos),
        }
        if self.decoding == "sample":
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                          top_k=sampling.top_k, num_beams=1, output_logits=True)
        else:
            kwargs.update(do_sample=False, num_beams=n, length_penalty=0.0, early_stopping=True)
        seed = int(sampling.seed or 0) + self.calls
        self.calls += 1
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            out = self.model.generate(**enc, **kwargs)
        return self.decode_rows(out, enc, eos)

    def details(self) -> dict[str, Any]:
        """Model id/path, revision, kind, decoding, prompt length limit, device, versions."""
        import torch
        import transformers

        return {
            "model": self.model_id, "revision": self.revision, "kind": self.kind,
            "decoding": self.decoding, "max_input_tokens": self.max_input_tokens,
            "device": str(getattr(self.model, "device", "cpu")),
            "logprob": "sum of raw-model token logprobs, terminator included",
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
