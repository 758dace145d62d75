"""Build ``cases.jsonl``: the audit's cheat corpus and valid controls, each with the REPL
transcript a Lean v4.20.0 REPL (repl @16054ca) would give for the audit's requests.

    python tests/data/lean-cheats/build_corpus.py      # rewrites cases.jsonl

The cases themselves are in ``cases_spec.py`` (where each comes from: SOURCE.md). The answers
are SYNTHETIC, written in the exact JSON shape of the recorded v4.20 fixtures
(tests/data/lean-repl-v4.20: ``{"messages": [{"severity", "pos", "endPos", "data"}], "env"}``;
"Goals accomplished!" info per proved theorem; ``declaration uses 'sorry'`` warning plus
``sorries``; ``#print axioms`` as an info ``'X' depends on axioms: [...]``). Env and proof-state
ids are numbered 0, 1, 2... per process as the REPL does. The requests are the audit's own
(header split as the REPL client sends it), so a change in what the audit sends shows up as
a test failure (tests/test_audit_cli.py checks this file is what this script builds).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from cases_spec import CASES  # noqa: E402

from prover.lean.audit_lean import axioms_command, check_command  # noqa: E402
from prover.lean.audit_parse import parse_statement, read_submission  # noqa: E402
from prover.lean.header import detach_docstrings, split_header  # noqa: E402
from prover.lean.lint import segments, tokenize  # noqa: E402


def _pos(line: int, col: int) -> dict[str, int]:
    return {"line": line, "column": col}


def _end(text: str) -> dict[str, int]:
    lines = text.rstrip().split("\n")
    return _pos(len(lines), len(lines[-1]))


def _msg(severity: str, pos: dict, end: dict, data: str) -> dict[str, Any]:
    return {"severity": severity, "pos": pos, "endPos": end, "data": data}


def _decls(source: str) -> list[tuple[dict, dict, dict, dict]]:
    """(keyword pos, end of command, name pos, name end) of each theorem/lemma in source."""
    tokens = tokenize(source)
    out = []
    for seg in segments(tokens):
        span = tokens[seg.first:seg.last]
        for i, tok in enumerate(span):
            if tok.kind == "ident" and tok.text in ("theorem", "lemma") and i + 1 < len(span):
                name = span[i + 1]
                last = span[-1]
                out.append((_pos(tok.line, tok.col), _pos(last.line, last.col + last.end
                                                          - last.start),
                            _pos(name.line, name.col), _pos(name.line, name.col + name.end
                                                            - name.start)))
                break
    return out


def _goal(head: str) -> str:
    """``⊢ TYPE`` for a statement head: the text after its last top-level ``:``
    (hypotheses are left out of this synthetic goal)."""
    tokens, depth, colon = tokenize(head), 0, None
    for tok in tokens:
        if tok.kind == "symbol" and tok.text in "([{⟨⦃":
            depth += 1
        elif tok.kind == "symbol" and tok.text in ")]}⟩⦄":
            depth -= 1
        elif depth == 0 and tok.text == ":":
            colon = tok
    return "⊢ " + " ".join(head[colon.end:].split()) if colon else "⊢ ?"


class _Ids:
    def __init__(self) -> None:
        self.env, self.ps = 0, 0

    def next_env(self) -> int:
        self.env += 1
        return self.env - 1

    def next_ps(self) -> int:
        self.ps += 1
        return self.ps - 1


def transcript(case: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The (request, response) pairs the audit exchanges for ``case`` with its Lean checks
    run (the lint bypassed for cheats the lint stops: ``lean_after_lint_failure``)."""
    lean = case["lean"]
    stmt = parse_statement(case["statement"])
    sub = read_submission(stmt, case["proof"], None, case.get("header", ""),
                          allow_native=case.get("allow_native", False), max_chars=65536)
    ids, pairs = _Ids(), []
    header = detach_docstrings(sub.header, "")[0]
    imports, rest = split_header(header) if header.strip() else ("", "")
    henv = None
    if imports:
        henv = ids.next_env()
        pairs.append([{"cmd": imports}, {"env": henv}])
    if rest:
        req = {"cmd": rest} if henv is None else {"cmd": rest, "env": henv}
        henv = ids.next_env()
        pairs.append([req, {"env": henv}])

    def cmd(text: str, env: int | None) -> dict[str, Any]:
        return {"cmd": text} if env is None else {"cmd": text, "env": env}

    source = sub.source
    decls = _decls(source)
    compile_spec = lean["compile"]
    response: dict[str, Any]
    if compile_spec == "ok":
        response = {"messages": [_msg("info", kw, end, "Goals accomplished!")
                                 for kw, end, _, _ in decls]}
    elif compile_spec[0] == "sorry":
        kw, end, name, name_end = decls[-1]
        response = {"sorries": [{"proofState": ids.next_ps(), "pos": kw, "goal": compile_spec[1],
                                 "endPos": end}],
                    "messages": [_msg("warning", name, name_end, "declaration uses 'sorry'")]}
    else:  # ("error", text)
        kw, end, name, name_end = decls[-1] if decls else (_pos(1, 0), _end(source),
                                                           _pos(1, 0), _end(source))
        response = {"messages": [_msg("error", name, name_end, compile_spec[1])]}
    user_env = ids.next_env()
    response["env"] = user_env
    pairs.append([cmd(source, henv), response])
    if case["lean_catches"] == "compile":
        return pairs
    axioms = lean["axioms"]
    if isinstance(axioms, str):  # an error text
        text = {"messages": [_msg("error", _pos(1, 14), _pos(1, 14 + len(stmt.name or "") + 7),
                                  axioms)]}
    else:
        quoted = f"'{stmt.name}'"
        data = (f"{quoted} does not depend on any axioms" if not axioms
                else f"{quoted} depends on axioms: [{', '.join(axioms)}]")
        text = {"messages": [_msg("info", _pos(1, 0), _pos(1, 6), data)]}
    text["env"] = ids.next_env()
    pairs.append([cmd(axioms_command(stmt.name or ""), user_env), text])
    if case["lean_catches"] == "axioms":
        return pairs
    ref_src = f"{stmt.head} := sorry"
    ref_decl = _decls(ref_src)[0]
    ref_env = ids.next_env()
    pairs.append([cmd(ref_src, henv), {
        "sorries": [{"proofState": ids.next_ps(), "pos": _pos(1, len(ref_src) - 5),
                     "goal": lean.get("goal", _goal(stmt.head)),
                     "endPos": _pos(1, len(ref_src))}],
        "messages": [_msg("warning", ref_decl[2], ref_decl[3], "declaration uses 'sorry'")],
        "env": ref_env}])
    probe = check_command(stmt.name or "")
    pp_ref = f"{stmt.name} : {lean['pp']}"
    pp_user = f"{stmt.name} : {lean.get('pp_user', lean['pp'])}"
    pairs.append([cmd(probe, ref_env), {"messages": [_msg("info", _pos(2, 0), _pos(2, 6),
                                                          pp_ref)], "env": ids.next_env()}])
    pairs.append([cmd(probe, user_env), {"messages": [_msg("info", _pos(2, 0), _pos(2, 6),
                                                           pp_user)], "env": ids.next_env()}])
    return pairs


def build() -> list[dict[str, Any]]:
    """Every case of CASES with its transcript."""
    out = []
    for case in CASES:
        row = {k: v for k, v in case.items() if k != "lean"}
        row["transcript"] = transcript(case) if case.get("lean") else []
        out.append(row)
    return out


def main() -> None:
    with (HERE / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for row in build():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
