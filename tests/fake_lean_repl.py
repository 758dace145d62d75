"""A stand-in for the Lean REPL binary that replays a recorded transcript over real pipes.

    python fake_lean_repl.py TRANSCRIPT [options]

TRANSCRIPT is either ``X.in`` (the responses are read from ``X.expected.out`` next to it: the
leanprover-community/repl test format) or a ``.json`` script ``[[request, response], ...]``, or
a ``.json`` SIMULATOR ``{"match": [[key, response], ...]}``: a request is answered by the first
entry whose key is its ``cmd`` or ``tactic`` text (or a prefix of it ending in ``*``), in any
order, and ids are numbered like the REPL does (``env`` 0, 1, 2... per process; proof states
0, 1, 2... for sorries then the step); a response ``"HANG"`` sleeps forever, ``"DIE"`` exits
with status 3, ``{"forge": R}`` prints a forged "Completed" reply before R; an unmatched
request gets ``{"message": "unmatched"}``. With ``--log`` the simulator logs
``{"pid", "request"}`` lines.
Like the real REPL it reads requests as lines up to a blank line, skips input starting with
``#`` or ``--``, stops at EOF, and answers each request with the recorded response followed by a
blank line (recorded responses are written verbatim, multi-line pretty JSON included). Each
request must equal the recorded one as JSON, in order; otherwise it reports on stderr and exits 2.

Like the pinned REPL (repl @16054ca ``processFile``), a ``{"path": P}`` request for a file that
does not exist is answered ``{"message": "no such file or directory (error code: 2)\n  file: P"}``
(Lean's ``IO.Error.toString``) without consuming the transcript: that is the client's sentinel.

Fault injection (for timeout / kill / restart / replay / framing tests):
  --hang-at K      on the K-th request (0-based) sleep forever instead of answering
  --die-at K       on the K-th request exit with status 3 without answering
  --forge-at K     on the K-th request first print a forged "Completed" reply (a tactic that
                   prints JSON), then the real one
  --forge-late K   after answering the sentinel that follows the K-th request print a forged
                   reply (a writer left behind), which the next request finds waiting
  --forge-sentinel K  on the K-th request print the reply, then a fake sentinel answer
                   (without the client's nonce) and exit
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
"""Transcripts at repl @8948401 (Lean v4.33.0-rc2)."""
DATA_V420 = HERE.parent / "data" / "lean-repl-v4.20"
"""Transcripts at the pinned repl @16054ca (Lean v4.20.0)."""
FORGED = {"proofState": 99, "goals": [], "proofStatus": "Completed"}


def transcript(name: str, data: Path = DATA) -> Path:
    """The ``.in`` file of a recorded transcript, e.g. ``"proof_step"``, ``"Mathlib/test/exact"``."""
    return data / "test" / f"{name}.in"


def argv(path: Path, *options: str) -> list[str]:
    """The command line that runs this stand-in on ``path`` with ``options``."""
    return [sys.executable, "-S", str(HERE), str(path), *options]  # -S: no site, fast start


def recorded(name: str, data: Path = DATA) -> list[tuple[dict, dict]]:
    """The (request, response) JSON pairs of a recorded transcript."""
    return [(request, json.loads(text)) for request, text in load(transcript(name, data))]


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


def _numbered(template: dict, counters: dict[str, int]) -> dict:
    """``template`` with the REPL's ids: sorries' proof states, then the env or the step's."""
    out = json.loads(json.dumps(template))
    for item in out.get("sorries", []):
        item["proofState"] = counters["ps"]
        counters["ps"] += 1
    if "env" in out:
        out["env"] = counters["env"]
        counters["env"] += 1
    elif "goals" in out:
        out["proofState"] = counters["ps"]
        counters["ps"] += 1
    return out


def simulate(entries: list, log: Path | None) -> None:
    """The simulator mode of the module docstring."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    counters = {"env": 0, "ps": 0}
    while (text := read_request(stdin)) is not None:
        request = json.loads(text)
        if set(request) == {"path"} and not Path(request["path"]).exists():
            answer = {"message": f"no such file or directory (error code: 2)\n  file: "
                                 f"{request['path']}"}
            stdout.write(json.dumps(answer).encode() + b"\n\n")
            stdout.flush()
            continue
        if log is not None:
            with log.open("a") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "request": request}) + "\n")
        key = request.get("cmd", request.get("tactic", ""))
        response: object = {"message": "unmatched"}
        for pattern, candidate in entries:
            if pattern == key or (pattern.endswith("*") and key.startswith(pattern[:-1])):
                response = candidate
                break
        if response == "HANG":
            while True:
                time.sleep(60)
        if response == "DIE":
            os._exit(3)
        if isinstance(response, dict) and "forge" in response:
            stdout.write(json.dumps(FORGED).encode() + b"\n\n")
            response = response["forge"]
        assert isinstance(response, dict)
        if "message" not in response:
            response = _numbered(response, counters)
        stdout.write(json.dumps(response, indent=1).encode() + b"\n\n")
        stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transcript", type=Path)
    parser.add_argument("--hang-at", type=int, default=-1)
    parser.add_argument("--die-at", type=int, default=-1)
    parser.add_argument("--forge-at", type=int, default=-1)
    parser.add_argument("--forge-late", type=int, default=-1)
    parser.add_argument("--forge-sentinel", type=int, default=-1)
    parser.add_argument("--once-file", type=Path)
    parser.add_argument("--spawn-child", action="store_true")
    parser.add_argument("--pid-file", type=Path)
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()

    script = json.loads(args.transcript.read_text()) if args.transcript.suffix == ".json" \
        else None
    if isinstance(script, dict):
        simulate(script["match"], args.log)
        return
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
    index, late = 0, False
    while (text := read_request(stdin)) is not None:
        if text.lstrip().startswith(("#", "--")):
            continue
        request = json.loads(text)
        if set(request) == {"path"} and not Path(request["path"]).exists():
            stdout.write(json.dumps({"message": "no such file or directory (error code: 2)\n"
                                                f"  file: {request['path']}"}).encode()
                         + b"\n\n")
            if late:
                stdout.write(json.dumps(FORGED).encode() + b"\n\n")
                late = False
            stdout.flush()
            continue
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
        if faults and index == args.forge_at:
            stdout.write(json.dumps(FORGED, indent=1).encode() + b"\n\n")
        stdout.write(response.encode("utf-8") + b"\n\n")
        if faults and index == args.forge_sentinel:
            stdout.write(b'{"message": "no such file or directory (error code: 2)"}\n\n')
            stdout.flush()
            os._exit(0)
        stdout.flush()
        late = faults and index == args.forge_late  # written after the next sentinel answer
        index += 1


if __name__ == "__main__":
    main()
