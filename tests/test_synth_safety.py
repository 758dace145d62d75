"""Run-level safety of ``synth``: a plain script calling ``synth()`` runs once (workers never
import the caller's ``__main__``), a run where every item failed is ``failed`` with a non-zero
exit, infrastructure failures (a model server that is down) are retried on resume while content
failures are kept (``--retry-failed`` forces them), and version-1 stores are upgraded in place."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from proofgraph.cli import main
from prover.synth.verify import verify_output

sys.path.insert(0, str(Path(__file__).parent))
import policy_fixtures as pf  # noqa: E402
from synth_helpers import fast_theorems  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GSM8K = Path(__file__).parent / "data" / "gsm8k_train_300.jsonl"


def test_a_plain_script_with_spawn_runs_once_and_yields_rows(tmp_path: Path) -> None:
    """The README's API example as a script without a ``__main__`` guard, on the spawn start
    method: the script body runs once (not again in each worker) and the rows are there."""
    inp = tmp_path / "solutions.jsonl"
    inp.write_text("".join(GSM8K.read_text(encoding="utf-8").splitlines(True)[:6]),
                   encoding="utf-8")
    marker = tmp_path / "ran.txt"
    script = tmp_path / "example.py"
    script.write_text(textwrap.dedent(f"""\
        import json
        import multiprocessing
        multiprocessing.set_start_method("spawn", force=True)
        from proofgraph import synth
        with open({str(marker)!r}, "a") as handle:
            handle.write("ran\\n")
        summary = synth("steps", {str(inp)!r}, {str(tmp_path / 'data')!r}, workers=2)
        print(json.dumps({{k: summary[k] for k in ("status", "rows", "ok", "items")}}))
        """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert marker.read_text().splitlines() == ["ran"]  # not re-run by any worker
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "complete" and summary["ok"] == summary["items"] == 6
    assert summary["rows"] >= 6


def test_a_run_where_every_item_failed_is_failed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n[1, 2]\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["synth", "proofs", str(bad), "--out", str(out), "--workers", "1", "--json",
                 "--no-parquet", "--no-progress"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert code == 1 and summary["status"] == "failed" and summary["ok"] == 0
    assert "every item failed" in captured.err
    assert verify_output(out)["status"] == "failed"


class _Completions(BaseHTTPRequestHandler):
    """An OpenAI-compatible completions endpoint proposing tactics the Z3 backend rejects."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        choices = [{"index": j, "text": f" no_such_tactic_{j}", "finish_reason": "stop",
                    "logprobs": {"token_logprobs": [-0.5], "tokens": ["t"]}}
                   for j in range(body.get("n", 1))]
        data = json.dumps({"id": "c", "object": "text_completion", "choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _synth(inp: Path, out: Path, port: int, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["synth", "proofs", str(inp), "--out", str(out), "--workers", "2", "--json",
            "--no-parquet", "--no-progress", "--max-expansions", "2",
            "--policy", f"openai:http://127.0.0.1:{port}/v1#m", *extra]
    code = main(argv)
    return code, json.loads(_CAPTURE.readouterr().out)


_CAPTURE: Any = None


@pytest.mark.slow
def test_infra_failures_are_retried_content_failures_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    global _CAPTURE
    _CAPTURE = capsys
    inp = fast_theorems(tmp_path / "thms.jsonl")
    out = tmp_path / "out"
    port = pf.free_port()
    code, down = _synth(inp, out, port)  # the model server is down: infrastructure failures
    assert code == 1 and down["status"] == "failed" and down["items"] == 7
    assert down["failed_by_kind"] == {"infra": 7}
    assert down["failed_by_reason"] == {"exception: PolicyRequestError": 7}
    server = ThreadingHTTPServer(("127.0.0.1", port), _Completions)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        code, up = _synth(inp, out, port)  # server up: every item is retried
        assert up["resumed"] and up["items_retried"] == 7 and up["items_this_session"] == 7
        assert up["failed_by_kind"] == {"content": 7} and up["status"] == "failed"
        assert all(r.startswith("unproved") for r in up["failed_by_reason"]) and code == 1
        code, again = _synth(inp, out, port)  # content failures are kept
        assert again["items_this_session"] == 0 and again["items_retried"] == 0
        code, forced = _synth(inp, out, port, "--retry-failed")
        assert forced["items_retried"] == 7 and forced["items_this_session"] == 7
        assert forced["rows"] == up["rows"] and forced["items"] == 7
    finally:
        server.shutdown()
        server.server_close()
    report = verify_output(out)
    assert report["problems"] == [] and report["items"] == 7


def test_version_1_store_is_upgraded_in_place(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "smt2": "(declare-const x Int)", "goal": "(= x x)"}\n'
                   "not json\n{\"id\": \"lost\", \"smt2\": \"(declare-const y Int)\", "
                   "\"goal\": \"(= y y)\"}\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["synth", "proofs", str(bad), "--out", str(out), "--workers", "1", "--json",
            "--no-parquet", "--no-progress", "--max-expansions", "2"]
    main(argv)
    first = json.loads(capsys.readouterr().out)
    assert first["ok"] == 2 and first["failed_by_kind"] == {"content": 1}
    with sqlite3.connect(out / "synth.sqlite") as con:  # make it look like version 1 with a
        con.execute("DROP TABLE synth_failures")         # worker that died on item "lost"
        con.execute("DELETE FROM meta WHERE key='synth_schema_version'")
        con.execute("UPDATE items SET status='error', error='worker-died' "
                    "WHERE item_key LIKE '%:lost'")
    main(argv)
    second = json.loads(capsys.readouterr().out)
    assert second["items_retried"] == 1 and second["items_this_session"] == 1
    assert second["ok"] == 2 and second["failed_by_kind"] == {"content": 1}
    with sqlite3.connect(out / "synth.sqlite") as con:
        assert con.execute("SELECT value FROM meta WHERE key='synth_schema_version'") \
            .fetchone() == ("2",)
    assert verify_output(out)["problems"] == []


def test_a_task_class_defined_in_the_script_runs_without_re_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "own_task.py"
    script.write_text(textwrap.dedent(f"""\
        import json
        from pathlib import Path
        from prover.synth.engine import SynthOptions, run_synth
        from prover.synth.task import TaskOutput

        class Squares:
            name = "squares"
            def items(self):
                for n in range(5):
                    yield str(n), {{"n": n}}
            def config(self):
                return {{}}
            def run(self, payload):
                return TaskOutput([{{"kind": "square", "n": payload["n"] ** 2}}])

        with open({str(marker)!r}, "a") as handle:
            handle.write("ran\\n")
        summary = run_synth(Squares(), Path({str(script)!r}),
                            SynthOptions(out=Path({str(tmp_path / 'out')!r}), workers=2,
                                         parquet=False))
        print(json.dumps([summary["status"], summary["rows"]]))
        """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["complete", 5]
    assert marker.read_text().splitlines() == ["ran"]
