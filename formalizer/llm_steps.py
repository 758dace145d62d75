"""LLM formalization of CoT steps for ``proofgraph check --formalizer llm:<model spec>``.

An LLM (a :class:`formalizer.autoformalize.llm.Sampler`) writes the line language of
:mod:`formalizer.llm_steps_lang` from the few-shot prompts ``formalizer/prompts/step_givens.txt``
(the problem -> GIVEN lines) and ``step_claims.txt`` (one step, with the givens and the earlier
steps' chosen formalizations -> DEF/CLAIM lines or NONE). Sampling is batched over a chunk of
rows: one ``sample`` call for the givens of every row, then one call per step position for that
step of every row (a step's prompt needs the names the earlier steps defined). Each prompt gets
``k`` samples; :func:`formalizer.llm_steps_lang.choose` picks one. The chosen lines are checked
by :class:`formalizer.llm_steps_check.LLMStepsChecker` (local and grounded, with dependencies and
upstream errors). The deterministic rules claims (``steps[i].claims``) are left as they were.

Fields added to a result row (everything else keeps the ``check`` layout)::

    "givens": {"lines": [str], "names": [str],
               "facts": [{"label": str, "formal": str, "text": str}],
               "errors": [{"source": str, "error": str}],
               "consistent": bool | null, "conflict": [label],
               "samples": int, "chosen_logprob": float | null,
               "choice": {"rule": "majority"|"partial"|"empty", "votes": int,
                          "well_formed": int, "samples": int}}
    "first_error": int | null          # earliest step refuted by the rules OR the local check
    "first_error_rules": int | null    # the rules checker's first error alone
    "first_error_local": int | null    # earliest step with a locally refuted LLM claim
    "first_error_grounded": int | null # earliest step refuted by the rules or grounded check
    steps[i]["llm"] = {
        "lines": [str],                # the chosen raw output, one entry per non-empty line
        "defs": [{"name": str, "formal": str}],
        "claims": [{
            "source": str,             # the output line
            "kind": "claim" | "redefinition" | "def" | "unparsed",
            "formal": str | null,      # SMT-LIB form in the problem's names
            "local":    VERDICT,       # premises: givens + DEFs + earlier claims as stated
            "grounded": VERDICT,       # premises: givens + DEFs + grounded-verified claims
            "premises": [int],         # = local.premises (earlier steps the claim used)
            "givens_used": [str],      # = local.givens_used
            "rebinds": str | null,     # "name@i": a contradicting stated value later steps
                                       # of the local view use under that name
            "time_s": float}],
        "verdict_local": str, "verdict_grounded": str,   # refuted > unknown > approx > verified
                                                         # or "no_claims"
        "upstream_error": int | null,  # earliest wrong step this step's local proof rests on
        "samples": int, "chosen_logprob": float | null, "choice": {...as in givens}}
    VERDICT = {"verdict": "verified"|"verified_approx"|"refuted"|"unknown",
               "reason": str | null, "evidence": {...}, "detail": str, "tolerance"?: str,
               "premises": [int], "givens_used": [str]}

``evidence`` is the backend's: ``premises_used`` (the core, in infix) for verified, ``model``
(names -> exact values; ``x@i`` is x as stated in step i) with ``lhs``/``rhs`` for refuted.
The row's ``provenance`` gets ``formalizer: "llm:<spec>"`` and ``llm`` (sampler description,
prompt files with sha256, samples per prompt, chunk size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from formalizer.autoformalize.prompts import PromptFile, load_prompt
from formalizer.inputs import BadInputFile
from formalizer.llm_steps_check import LLMStepsChecker, first_error
from formalizer.llm_steps_lang import GIVEN_KINDS, STEP_KINDS, Choice, FormalLine, choose
from formalizer.stepcheck import Solution
from prover.arith.check import Limits
from prover.records import graph as pg
from prover.records.verdicts import Provenance, Verdict

FORMALIZER_VERSION = "1"
LLM_BACKEND = "proofgraph-llm-steps"
GIVENS_PROMPT = "step_givens.txt"
STEPS_PROMPT = "step_claims.txt"
MAX_PROMPT_CHARS = 24_000

if TYPE_CHECKING:
    from formalizer.autoformalize.llm import Sampler


class LLMFormalizerError(BadInputFile):
    """An unusable ``--formalizer`` value or a model that cannot be loaded or called."""


def model_spec(formalizer: str) -> str | None:
    """None for ``rules``; the model spec of ``llm:<spec>``; raises :class:`LLMFormalizerError`
    for anything else."""
    if formalizer == "rules":
        return None
    kind, sep, spec = formalizer.partition(":")
    if kind != "llm" or not sep or not spec:
        raise LLMFormalizerError(f"--formalizer {formalizer!r}: expected 'rules' or "
                                 "'llm:hf:PATH' | 'llm:openai:URL#MODEL' | 'llm:vllm:PATH'")
    return spec


def make_formalizer(formalizer: str, *, limits: Limits, run_id: str, samples: int = 4,
                    max_new_tokens: int = 256, temperature: float = 0.8,
                    seed: int = 0) -> LLMStepFormalizer | None:
    """The LLM step formalizer for ``--formalizer`` (None for ``rules``); a bad spec or a model
    that cannot be loaded raises :class:`LLMFormalizerError`."""
    spec = model_spec(formalizer)
    if spec is None:
        return None
    if samples <= 0:
        raise LLMFormalizerError("the number of samples per prompt must be positive")
    from formalizer.autoformalize.llm import make_sampler

    try:
        sampler = make_sampler(spec, max_new_tokens=max_new_tokens, temperature=temperature,
                               seed=seed, stop=("\n\n",))
    except ValueError as err:
        raise LLMFormalizerError(f"--formalizer {formalizer!r}: {err}") from err
    return LLMStepFormalizer(sampler, spec=spec, samples=samples, limits=limits, run_id=run_id)


@dataclass(frozen=True)
class RowFormalization:
    """The chosen outputs for one row: its givens and one choice per step."""

    givens: Choice
    steps: list[Choice]


def _good_lines(choice: Choice) -> list[FormalLine]:
    return [line for line in choice.lines if line.kind != "bad"]


def _lines_text(lines: Sequence[FormalLine]) -> str:
    return "\n".join(line.source for line in lines) or "NONE"


def _raw_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:40]


class LLMStepFormalizer:
    """Formalizes solutions with a sampler (batched per chunk) and checks the result."""

    def __init__(self, sampler: Sampler, *, spec: str, samples: int = 4,
                 limits: Limits | None = None, run_id: str = "adhoc") -> None:
        self.sampler = sampler
        self.spec = spec
        self.samples = samples
        self.limits = limits or Limits()
        self.run_id = run_id
        self.checker = LLMStepsChecker(self.limits)
        self.givens_prompt: PromptFile = load_prompt(GIVENS_PROMPT)
        self.steps_prompt: PromptFile = load_prompt(STEPS_PROMPT)

    def describe(self) -> dict[str, Any]:
        """Provenance of the formalizer: sampler, prompt files (sha256), samples per prompt."""
        return {"spec": self.spec, "version": FORMALIZER_VERSION, "samples": self.samples,
                "sampler": self.sampler.describe(),
                "prompts": [self.givens_prompt.describe(), self.steps_prompt.describe()]}

    def _sample(self, prompts: list[str]) -> list[list[tuple[str, float]]]:
        try:
            rows = self.sampler.sample(prompts, self.samples)
        except (RuntimeError, ValueError, OSError) as err:
            raise LLMFormalizerError(f"model {self.spec!r} failed: {err}") from err
        if len(rows) != len(prompts):
            raise LLMFormalizerError(f"model {self.spec!r} returned {len(rows)} rows for "
                                     f"{len(prompts)} prompts")
        return rows

    def _step_prompt(self, solution: Solution, givens: Choice, earlier: list[Choice],
                     index: int) -> str:
        parts = [f"Step {i + 1}: {solution.steps[i]}\n{_lines_text(_good_lines(c))}"
                 for i, c in enumerate(earlier)]
        prompt = self.steps_prompt.render({
            "problem": solution.problem, "givens": _lines_text(_good_lines(givens)),
            "earlier": "\n".join(parts) or "(none)", "number": str(index + 1),
            "step": solution.steps[index]})
        return prompt[-MAX_PROMPT_CHARS:]

    def formalize(self, solutions: Sequence[Solution]) -> list[RowFormalization]:
        """Choose the givens and every step's lines for ``solutions``: one sampler call for the
        givens, then one per step position (all rows that have that step)."""
        prompts = [self.givens_prompt.render({"problem": s.problem})[-MAX_PROMPT_CHARS:]
                   for s in solutions]
        givens = [choose(rows, GIVEN_KINDS) for rows in self._sample(prompts)]
        known = [{n for line in _good_lines(g) for n in line.names()} for g in givens]
        steps: list[list[Choice]] = [[] for _ in solutions]
        for index in range(max((len(s.steps) for s in solutions), default=0)):
            todo = [r for r, s in enumerate(solutions) if index < len(s.steps)]
            rows = self._sample([self._step_prompt(solutions[r], givens[r], steps[r], index)
                                 for r in todo])
            for r, samples in zip(todo, rows, strict=True):
                choice = choose(samples, STEP_KINDS, known[r])
                steps[r].append(choice)
                known[r] |= {line.name for line in _good_lines(choice)
                             if line.kind == "def" and line.name}
        return [RowFormalization(g, s) for g, s in zip(givens, steps, strict=True)]

    def annotate(self, result: dict[str, Any], form: RowFormalization
                 ) -> list[tuple[str, Verdict, Provenance]]:
        """Check ``form`` and add the LLM fields (module docstring) to ``result`` in place;
        returns the grounded verdicts keyed by claim node id, for the store."""
        record, steps = self.checker.check(form.givens.lines, [c.lines for c in form.steps])
        record.update(lines=_raw_lines(form.givens.text), samples=form.givens.samples,
                      chosen_logprob=form.givens.logprob, choice=form.givens.describe())
        result["givens"] = record
        wall = 0.0
        for step, llm, choice in zip(result["steps"], steps, form.steps, strict=True):
            step["llm"] = {"lines": _raw_lines(choice.text), **llm, "samples": choice.samples,
                           "chosen_logprob": choice.logprob, "choice": choice.describe()}
            wall += sum(c["time_s"] for c in llm["claims"])
        rules = result.get("first_error")
        local = first_error(steps, "verdict_local")
        grounded = first_error(steps, "verdict_grounded")
        result["first_error_rules"] = rules
        result["first_error_local"] = local
        result["first_error"] = min((i for i in (rules, local) if i is not None), default=None)
        result["first_error_grounded"] = min((i for i in (rules, grounded) if i is not None),
                                             default=None)
        prov = self.provenance(wall)
        result["provenance"] = {**result.get("provenance", {}),
                                "formalizer": prov.formalizer,
                                "formalizer_version": FORMALIZER_VERSION, "llm": self.describe()}
        return [(pg.node_id("claim", claim["formal"], LLM_BACKEND),
                 Verdict.from_dict(claim["grounded"]), prov)
                for step in steps for claim in step["claims"] if claim["formal"]]

    def provenance(self, wall_time_s: float) -> Provenance:
        """Provenance of the LLM claims' verdicts (Z3 in a private context)."""
        from prover.z3.arith import Z3_VERSION

        return Provenance(run_id=self.run_id, backend=f"{LLM_BACKEND}/z3",
                          backend_version=f"z3 {Z3_VERSION}", limits=self.limits.as_dict(),
                          formalizer=f"llm:{self.spec}", formalizer_version=FORMALIZER_VERSION,
                          wall_time_s=round(wall_time_s, 6))
