"""A stand-in for the Lean REPL binary that replays a recorded transcript over real pipes.

    python fake_lean_repl.py TRANSCRIPT [options]

TRANSCRIPT is either ``X.in`` (the responses are read from ``X.expected.out`` next to it: the
leanprover-community/repl test format) or a ``.json`` script ``[[request, response], ...]``.
Like the real REPL it reads requests as lines up to a blank line, skips input starting with
``#`` or ``--``, stops at EOF, and answers each request with the recorded response followed by a
blank line (recorded responses are written verbatim, multi-line pretty JSON included). Each
request must equal the recorded one as JSON, in order; otherwise it reports on stderr and exits 2.

Fault injection (for timeout / kill / restart / replay tests):
  --hang-at K      on the K-th request (0-based) sleep forever instead of answering
  --die-at K       on the K-th request exit with status 3 without answering
  --once-file F    faults fire only in the first process (the one that creates F)
  --spawn-child    start a sleeping child process in the same process group
  --pid-file F     append one JSON line {"pid", "child"} per process start
  --log F          append every request received, one JSON line each
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DATA = HERE.parent / "data" / "lean-repl"


def transcript(name: str) -> Path:
    """The ``.in`` file of a recorded transcript, e.g. ``"proof_step"``, ``"Mathlib/test/exact"``."""
    return DATA / "test" / f"{name}.in"


def argv(path: Path, *options: str) -> list[str]:
    """The command line that runs this stand-in on ``path`` with ``options``."""
    return [sys.executable, "-S", str(HERE), str(path), *options]  # -S: no site, fast start


def recorded(name: str) -> list[tuple[dict, dict]]:
    """The (request, response) JSON pairs of a recorded transcript."""
    return [(request, json.loads(text)) for request, text in load(transcript(name))]


def chunks(text: str) -> list[str]:
    """Blank-line separated chunks of ``text`` (each chunk's lines joined by newlines)."""
    out: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def load(path: Path) -> list[tuple[object, str]]:
    """(request as JSON, response text as recorded) pairs."""
    if path.suffix == ".json":
        script = json.loads(path.read_text(encoding="utf-8"))
        return [(request, json.dumps(response, ensure_ascii=False, indent=1))
                for request, response in script]
    requests = [json.loads(c) for c in chunks(path.read_text(encoding="utf-8"))]
    out_path = path.with_name(path.name[: -len(".in")] + ".expected.out")
    responses = chunks(out_path.read_text(encoding="utf-8"))
    if len(requests) != len(responses):
        sys.exit(f"fake repl: {len(requests)} requests but {len(responses)} responses")
    return list(zip(requests, responses, strict=True))


def read_request(stdin) -> str | None:  # noqa: ANN001 - a binary stream
    """Lines up to a blank line (the REPL's getLines); None at EOF with nothing read."""
    lines: list[str] = []
    while True:
        raw = stdin.readline()
        if not raw:
            return "\n".join(lines) if lines else None
        line = raw.decode("utf-8").rstrip("\n")
        if not line.strip():
            if lines:
                return "\n".join(lines)
            continue
        lines.append(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transcript", type=Path)
    parser.add_argument("--hang-at", type=int, default=-1)
    parser.add_argument("--die-at", type=int, default=-1)
    parser.add_argument("--once-file", type=Path)
    parser.add_argument("--spawn-child", action="store_true")
    parser.add_argument("--pid-file", type=Path)
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()

    exchanges = load(args.transcript)
    faults = True
    if args.once_file is not None:
        try:
            args.once_file.open("x").close()
        except FileExistsError:
            faults = False
    child = None
    if args.spawn_child:
        child = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(600)"])
    if args.pid_file is not None:
        with args.pid_file.open("a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "child": child and child.pid}) + "\n")

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    index = 0
    while (text := read_request(stdin)) is not None:
        if text.lstrip().startswith(("#", "--")):
            continue
        request = json.loads(text)
        if args.log is not None:
            with args.log.open("a") as fh:
                fh.write(json.dumps(request, ensure_ascii=False) + "\n")
        if faults and index == args.hang_at:
            while True:
                time.sleep(60)
        if faults and index == args.die_at:
            os._exit(3)
        if index >= len(exchanges):
            sys.exit(f"fake repl: transcript exhausted at request {index}: {text}")
        expected, response = exchanges[index]
        if request != expected:
            sys.exit(f"fake repl: request {index} differs\n  got:      {request}\n"
                     f"  expected: {expected}")
        stdout.write(response.encode("utf-8") + b"\n\n")
        stdout.flush()
        index += 1


if __name__ == "__main__":
    main()
