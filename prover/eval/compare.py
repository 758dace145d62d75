"""Two eval runs side by side: which theorems one solved and the other did not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prover.eval.run import load_run


def compare_runs(dir_a: Path, dir_b: Path) -> dict[str, Any]:
    """The comparison of two finished eval folders: figures of each, and the theorem ids
    solved only by A, only by B, by both, by neither (theorems matched by id; ids present in
    one run only are listed apart)."""
    (sum_a, rows_a), (sum_b, rows_b) = load_run(dir_a), load_run(dir_b)
    a = {str(r["id"]): r for r in rows_a if r.get("attempts")}
    b = {str(r["id"]): r for r in rows_b if r.get("attempts")}
    common = [i for i in a if i in b]

    def figures(summary: dict[str, Any], folder: Path) -> dict[str, Any]:
        return {"dir": str(folder), "run_id": summary.get("run_id"),
                "policy": summary.get("policy"), "backend": summary.get("backend"),
                "theorems": summary.get("theorems"), "solved": summary.get("solved"),
                "attempts": summary.get("attempts"), "pass_at_k": summary.get("pass_at_k"),
                "wall_s": summary.get("run_wall_s") or summary.get("wall_s")}

    return {
        "a": figures(sum_a, dir_a), "b": figures(sum_b, dir_b),
        "only_a": [i for i in common if a[i]["solved"] and not b[i]["solved"]],
        "only_b": [i for i in common if b[i]["solved"] and not a[i]["solved"]],
        "both": [i for i in common if a[i]["solved"] and b[i]["solved"]],
        "neither": [i for i in common if not a[i]["solved"] and not b[i]["solved"]],
        "missing_in_b": [i for i in a if i not in b],
        "missing_in_a": [i for i in b if i not in a],
        "rows": [{"id": i, "a": f"{a[i]['successes']}/{a[i]['attempts']}",
                  "b": f"{b[i]['successes']}/{b[i]['attempts']}",
                  "a_solved": a[i]["solved"], "b_solved": b[i]["solved"]} for i in common],
    }


def format_comparison(cmp: dict[str, Any]) -> str:
    """The comparison as a plain-text table (theorems that differ first)."""
    a, b = cmp["a"], cmp["b"]
    lines = [f"A: {a['dir']} ({a['policy']}, {a['attempts']} attempts): solved {a['solved']}"
             f"/{a['theorems']}, pass@k {a['pass_at_k']}",
             f"B: {b['dir']} ({b['policy']}, {b['attempts']} attempts): solved {b['solved']}"
             f"/{b['theorems']}, pass@k {b['pass_at_k']}",
             f"solved by A only: {len(cmp['only_a'])}; by B only: {len(cmp['only_b'])}; "
             f"both: {len(cmp['both'])}; neither: {len(cmp['neither'])}", ""]
    rows = sorted(cmp["rows"], key=lambda r: (r["a_solved"] == r["b_solved"], r["id"]))
    width = max([len("theorem"), *(len(r["id"]) for r in rows)])
    lines.append(f"{'theorem':<{width}}  {'A':>7}  {'B':>7}  note")
    for r in rows:
        note = ("A only" if r["a_solved"] and not r["b_solved"]
                else "B only" if r["b_solved"] and not r["a_solved"] else "")
        lines.append(f"{r['id']:<{width}}  {r['a']:>7}  {r['b']:>7}  {note}".rstrip())
    for side, key in (("A", "missing_in_b"), ("B", "missing_in_a")):
        if cmp[key]:
            lines.append(f"only in {side}'s benchmark: {', '.join(cmp[key])}")
    return "\n".join(lines)
