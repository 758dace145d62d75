"""``synth --out DIR`` refuses an input file inside DIR (synth writes, replaces and deletes
files in its output folder) and an input that is the store, with one clear line and before
anything is written; an input beside the folder runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proofgraph.cli import main
from proofgraph.synth_api import synth
from prover.records.files import OutputPathError

sys.path.insert(0, str(Path(__file__).parent))
from synth_helpers import fast_theorems  # noqa: E402


@pytest.mark.parametrize("where", ["top", "shards", "symlinked-out"])
def test_an_input_inside_the_output_folder_is_refused(tmp_path: Path, where: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    folder = out / "shards" if where == "shards" else out
    folder.mkdir(parents=True)
    inp = fast_theorems(folder / ("rows-00000.jsonl" if where == "shards" else "thms.jsonl"))
    before = inp.read_bytes()
    given = out
    if where == "symlinked-out":  # the same folder under another name
        given = tmp_path / "alias"
        given.symlink_to(out, target_is_directory=True)
    with pytest.raises(OutputPathError, match="contains the input file"):
        synth("proofs", inp, given, workers=1, progress=False)
    code = main(["synth", "proofs", str(inp), "--out", str(given), "--workers", "1",
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "contains the input file" in err and str(inp) in err
    assert inp.read_bytes() == before
    assert sorted(p.name for p in out.rglob("*")) == sorted(
        ["thms.jsonl"] if where != "shards" else ["shards", "rows-00000.jsonl"])


def test_the_input_as_the_store_is_refused(tmp_path: Path) -> None:
    inp = fast_theorems(tmp_path / "thms.jsonl")
    before = inp.read_bytes()
    with pytest.raises(OutputPathError, match="--store"):
        synth("proofs", inp, tmp_path / "out", store=inp, workers=1, progress=False)
    assert inp.read_bytes() == before and not (tmp_path / "out").exists()
