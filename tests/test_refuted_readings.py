"""Misreadings found among ALL refuted claims of ProcessBench's ``dev`` and ``dev2`` parts
(2026-12-03), not only first flags; each fixed as a class (formalizer/reading.py).

Every class has the real text (tests/data/processbench_refuted_slices.json, Apache-2.0, source
line in its ``_source``), short spellings of the same form, and a real error next to it that
must still be flagged:

* a claim the text itself calls false: a verdict right after it (``1 + 3 > 6: False``), a
  negated verb right before it (``does not satisfy the condition 6 <= 41 < 6^2``), or a denial
  opening the next sentence (``... This inequality does not hold true.``);
* an equation that names a locus (``to the right of x = 1``, ``the intersection of x + y = 1
  and y + z = 1``);
* a tuple of stated values offered as one of two (``A = 1, R = 4 or A = 4, R = 1``).
"""

from __future__ import annotations

import hashlib

from slice_checks import load_slices, run

from formalizer.extract import extract_claims

SLICES = load_slices("processbench_refuted_slices.json")


def run_slice(name: str) -> dict:
    row = SLICES[name]
    return run(*row["steps"], problem=row["problem"])


def claims(result: dict) -> list[tuple[int, str, str, str | None]]:
    """(step, reading, formal, verdict) of every claim of the result."""
    return [(i, c["reading"], c["formal"], c["verdict"]) for i, s in enumerate(result["steps"])
            for c in s["claims"]]


def readings(text: str) -> list[str]:
    return [c.reading for c in extract_claims(text, set())]


def test_slices_come_from_dev_or_dev2() -> None:
    assert "Apache-2.0" in SLICES["_source"]
    for name, row in SLICES.items():
        if name.startswith("_"):
            continue
        digest = hashlib.sha256(row["id"].encode()).digest()
        assert digest[0] % 2 == 0 or digest[1] % 2 == 0, row["id"]  # dev, or dev2 (not test)


# ---------------------------------------------------------------- claims the text calls false

def test_verdict_label_after_a_claim_rejects_it() -> None:
    result = run_slice("rejected_verdict_label")  # "1 + 3 > 6: False", then "1 + 4 > 5: True"
    read = claims(result)
    assert (0, "rejected", "(> (+ 1 3) 6)", "unknown") in read
    # the next step calls a false comparison true: a real error, still flagged
    assert (1, "equation", "(> (+ 1 4) 5)", "refuted") in read
    assert result["first_error"] == 1


def test_negated_condition_before_a_claim_rejects_it() -> None:
    result = run_slice("rejected_condition")  # "b = 6 does not satisfy 6 <= 41 < 6^2"
    assert (0, "rejected", "(< 41 (^ 6 2))", "unknown") in claims(result)
    assert result["first_error"] is None
    assert readings("but 7 does not satisfy the inequality 2 + 2 > 5 here") == ["rejected"]
    assert readings(r"so \(b = 6\) violates the condition \(2 + 2 > 5\).")[-1] == "rejected"
    # "violations" is a noun, not a verb that negates what follows
    text = r"by subtracting the individual violations: \[ 3^9 - 3456 = 19683 - 6456 = 10929 \]"
    assert set(readings(text)) == {"equation"}


def test_denial_in_the_next_sentence_rejects_the_math_before_it() -> None:
    result = run_slice("denial_next_sentence")
    read = claims(result)
    # step 0 ends "This inequality does not hold true.": its comparisons are rejected
    assert (0, "rejected", "(< (/ 21 36) (/ 4 7))", "unknown") in read
    assert (0, "rejected", "(< (/ 7 12) (/ 4 7))", "unknown") in read
    # step 1 ends "This inequality holds true." of a false one: a real error, still flagged
    assert (1, "chain", "(< (/ 5 8) (/ 4 7))", "refuted") in read
    assert result["first_error"] == 1
    assert readings("So 3 + 4 = 8. This is false.") == ["rejected"]
    assert readings("So 3 + 4 = 8. Then 8 + 2 = 10. This is false.") == [
        "equation", "rejected"]  # prose between: the denial speaks of the later claim only
    # a denial of a case ("This case doesn't satisfy") is no denial of the arithmetic before it
    text = ("Now verify with b = 0: b^2 - b + 2 = 2. 0^2 - 0 + 2 ≠ 2. "
            "This case doesn't satisfy the given condition.")
    assert "rejected" not in readings(text)
    read = claims(run(text))
    assert any(r[2] == "(distinct (+ (- (^ 0 2) 0) 2) 2)" and r[3] == "refuted" for r in read)


# ---------------------------------------------------------------- loci

def test_an_equation_after_right_of_names_a_line() -> None:
    result = run_slice("locus_right_of")  # "the entire triangle is to the right of x=1"
    assert (0, "hypothesis", "(= x 1)", None) in claims(result)
    assert result["first_error"] is None
    assert readings("The region lies above y = 3 and below y = 5.") == ["hypothesis"] * 2


def test_equations_after_intersection_of_name_planes() -> None:
    result = run_slice("locus_intersection")
    read = claims(result)
    planes = [r for r in read if r[2] in ("(= (+ x y) 1)", "(= (+ y z) 1)", "(= (+ z x) 1)")]
    assert planes and all(r[1] == "hypothesis" for r in planes)
    # the first point, (0, 1, 0), lies on both planes: never refuted
    assert not any(r[3] == "refuted" and r[2] in ("(= x 0)", "(= y 1)") for r in read[:8])
    # the third point, (1, 0, 0), is not on y + z = 1: the text's real error is still flagged
    assert result["first_error"] == 0
    assert any(r[3] == "refuted" for r in read)


# ---------------------------------------------------------------- tuples of alternatives

def test_a_tuple_of_values_before_or_is_an_alternative() -> None:
    row = SLICES["tuple_alternatives"]
    assert readings(row["steps"][0]) == ["alternative"] * 8
    assert readings(r"so \(x = 2\), \(y = 5\) or \(x = 5\), \(y = 2\).") == ["alternative"] * 4
    # "or" after an equation that states no value restates it: still asserted
    text = r"Simplifying: \[ 1 = 806 + 155b + 65c \] or \[ -805 = 155b + 65c \]"
    assert readings(text)[0] == "equation"
