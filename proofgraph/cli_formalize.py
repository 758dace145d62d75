"""``proofgraph formalize``: NL statements -> ranked Lean 4 / Z3 / FOL formalizations.

One statement (``proofgraph formalize "text" --target z3 --model SPEC``) or a JSONL batch
(``--input FILE.jsonl --out OUT.jsonl``, resumable). Heavy modules are imported inside
:func:`run`. Exit codes: 0 ok, 2 usage or unusable input (no model, bad spec), 3 some rows
rejected (or the statement's checks timed out).

The Z3/FOL checks of each row run in a killable worker process under ``--row-timeout``
(default :data:`prover.records.runner.ROW_TIMEOUT_S`, as for ``check``); ``--in-process``
runs them here. The model always runs here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SPEC_HELP = "hf:PATH | openai:URL#MODEL | vllm:PATH"


def register(sub: Any) -> None:
    """Add the ``formalize`` subcommand to ``sub`` (an argparse subparsers object)."""
    from proofgraph.cli import add_limit_options, positive

    p = sub.add_parser(
        "formalize", help="formalize natural-language statements (Lean 4, Z3, FOL)",
        description="k candidates from a model -> type-check filter (+ one repair round with "
                    "the error) -> equivalence clusters -> faithfulness flags -> ranked result "
                    "with provenance.")
    p.add_argument("text", nargs="?", help="the statement (or use --input)")
    p.add_argument("--input", type=Path, help="JSONL rows {id, text} or FOLIO {premises, "
                                              "conclusion}")
    p.add_argument("--premise", action="append", default=None,
                   help="an NL premise (repeatable; fol target: formalize premises + TEXT)")
    p.add_argument("--target", required=True, choices=("lean", "z3", "fol"))
    p.add_argument("--model", help=f"the LLM: {SPEC_HELP}")
    p.add_argument("-k", type=positive, default=8, help="candidates per statement")
    p.add_argument("--repair-rounds", type=int, default=1, choices=range(0, 6),
                   metavar="N", help="rounds of repair with the error message (0-5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=positive, default=256)
    p.add_argument("--max-input-tokens", type=positive,
                   help="keep only the last N prompt tokens (small-context models)")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--equiv-timeout-ms", type=positive, default=2000)
    p.add_argument("--negation-timeout-ms", type=positive, default=1000)
    p.add_argument("--no-backtranslate", action="store_true")
    p.add_argument("--lean-header", help="Lean header (imports/opens) for the lean target")
    p.add_argument("--batch-size", type=positive, default=16, help="rows per model call")
    p.add_argument("--out", type=Path, help="one JSON result per row (resumable)")
    p.add_argument("--store", type=Path, help="SQLite store for the run")
    p.add_argument("--limit", type=positive, help="only the first N rows")
    p.add_argument("--fresh", action="store_true",
                   help="replace an --out file that holds another run's results")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    add_limit_options(p, "row's candidate checks (Z3/FOL targets; Lean has its REPL's limits)")
    p.set_defaults(handler=run)


def _human(result: dict[str, Any]) -> None:
    chosen = result.get("chosen")
    s = result.get("summary", {})
    print(f"id: {result['id']}  candidates: {s.get('candidates')}  type-checked: "
          f"{s.get('typechecked')}  skipped: {s.get('skipped')}  clusters: {s.get('clusters')}")
    if chosen is None:
        print(f"chosen: none ({result.get('reason')})")
        return
    print(f"chosen (cluster of {chosen['cluster_size']}, logprob {chosen['logprob']}):")
    print(chosen["formal"])
    print(f"reads: {chosen.get('rendered')}")
    bt = chosen.get("backtranslation") or {}
    if bt:
        print(f"back-translation: {bt.get('text', bt.get('error'))}")
    for name, flag in chosen.get("flags", {}).items():
        print(f"flag {name}: {flag.get('value')} ({flag.get('detail')})")
    if chosen.get("warning"):
        print(f"warning: {chosen['warning']}")
    if result.get("vote"):
        print(f"entailment vote: {result['vote']}")


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code."""
    from proofgraph.cli import EXIT_OK, EXIT_REJECTED, fail, print_summary, report

    if args.model is None:
        return fail(f"formalize needs a model: --model {SPEC_HELP} (there is no model-free "
                    "formalizer)")
    if (args.text is None) == (args.input is None):
        return fail("give either a statement TEXT or --input FILE.jsonl (not both)")
    if args.input is not None and not args.input.is_file():
        return fail(f"{args.input}: no such file")
    if args.text is not None and not args.text.strip():
        return fail("the statement is empty")
    if args.premise and args.target != "fol":
        return fail("--premise is for --target fol")
    if args.temperature <= 0:
        return fail("--temperature must be positive")
    if args.in_process and args.row_timeout is not None:
        return fail("--in-process cannot be combined with --row-timeout")
    if args.row_timeout == 0:
        return fail("--row-timeout must be > 0 seconds")
    from proofgraph.run_options import ROW_TIMEOUT_S

    row_timeout = None if args.in_process else (args.row_timeout or ROW_TIMEOUT_S)
    from formalizer.autoformalize.llm import make_sampler
    from formalizer.autoformalize.pipeline import DEFAULT_LEAN_HEADER, FormalizeConfig, formalize
    from formalizer.autoformalize.runner import RunOptions, run_formalize
    from formalizer.autoformalize.targets import make_target

    config = FormalizeConfig(args.target, k=args.k, repair_rounds=args.repair_rounds,
                             equiv_timeout_ms=args.equiv_timeout_ms,
                             negation_timeout_ms=args.negation_timeout_ms,
                             backtranslate=not args.no_backtranslate,
                             lean_header=args.lean_header or DEFAULT_LEAN_HEADER)
    # the check worker (or Lean pool) starts while the model loads
    target, close_target = make_target(config, None, row_timeout)
    try:
        sampler = make_sampler(args.model, max_new_tokens=args.max_new_tokens,
                               temperature=args.temperature, seed=args.seed,
                               max_input_tokens=args.max_input_tokens)
    except ValueError as err:
        close_target()
        return fail(str(err))
    except BaseException:
        close_target()
        raise
    try:
        if args.text is not None:
            item: dict[str, Any] = {"id": "statement", "text": args.text}
            if args.premise:
                item["premises"] = list(args.premise)
            result = formalize([item], sampler, config, target=target)[0].to_dict()
            if args.json:
                print(json.dumps(result, ensure_ascii=False, sort_keys=True))
            else:
                _human(result)
            return EXIT_REJECTED if result.get("failure") else EXIT_OK
        opts = RunOptions(out=args.out, store=args.store, fresh=args.fresh,
                          progress=args.progress, limit=args.limit, batch_size=args.batch_size,
                          report=report, in_process=args.in_process,
                          row_timeout_s=row_timeout or ROW_TIMEOUT_S)
        summary, results = run_formalize(args.input, sampler, config, opts, target=target)
    finally:
        close_target()
        close = getattr(sampler, "close", None)
        if callable(close):
            close()
    if args.json:
        print(json.dumps({**summary, "results": [
            {k: r.get(k) for k in ("id", "line", "error", "reason", "chosen", "summary", "vote")
             if k in r} for r in results]}, ensure_ascii=False, sort_keys=True))
    else:
        print_summary(summary, False, "formalize", results)
    return EXIT_REJECTED if summary["rejected"] else EXIT_OK
