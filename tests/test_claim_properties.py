"""Property: inserting a word, a thousands separator, an invisible or look-alike character, or
an unknown symbol anywhere into an arithmetic claim never turns a false claim verified or a true
claim refuted; it may only make it unknown (formalizer/lexical.py reads text as written or not
at all). A clause word (``so``) inserted between two digits splits the number into two
sentences, a new text a person reads the same way, so that one placement is left out. Operator
words (``times``, ``percent``) change the meaning on purpose and are covered
by test_redteam_claims.py. Deterministic: hypothesis runs derandomized with bounded examples."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from formalizer.lexical import STOP_WORDS
from formalizer.stepcheck import Solution, StepChecker

CHECKER = StepChecker()
WORDS = ["apples", "so", "the", "total", "fois", "blah", "hours", "dozen", "cups", "and",
         "Natalia", "per"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
LOOK_ALIKES = (["\u041e", "\u043e", "\u039f", "\u03bf", "\u0417", "\u0406", "\u0391", "l", "O"]
               + [chr(0xFF10 + d) for d in range(10)]  # fullwidth digits
               + ["\u0660", "\u06f3", "\u09ea", "\u2460"]  # Arabic-Indic, Bengali, circled
               + ["\u2010", "\u2011", "\u2012", "\u2014", "\u2015", "\ufe63"])  # dashes
SYMBOLS = ["§", "¤", "@", "#", "&", "|", "_", "\\", "`", "¿", "†", "½", "°", "€", "±", "∓"]
INSERTS = st.one_of(
    st.sampled_from(WORDS).flatmap(lambda w: st.sampled_from([w, f" {w} ", f" {w}", f"{w} "])),
    st.just(","), st.sampled_from(INVISIBLE), st.sampled_from(LOOK_ALIKES),
    st.sampled_from(SYMBOLS),
)


@st.composite
def claims(draw: st.DrawFn) -> tuple[str, bool]:
    """``a op b = c`` with c right or wrong; a may be a decimal."""
    a = Fraction(draw(st.integers(1, 2500)), draw(st.sampled_from([1, 1, 10])))
    b = Fraction(draw(st.integers(1, 999)))
    op = draw(st.sampled_from("+-*"))
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    true = draw(st.booleans())
    c = value if true else value + draw(st.sampled_from([1, 2, 10, 100, -1]))
    spell = lambda v: str(v.numerator) if v.denominator == 1 else str(float(v))  # noqa: E731
    return f"{spell(a)} {op} {spell(b)} = {spell(c)}", true


def _verdicts(text: str) -> set[str]:
    result, _ = CHECKER.check(Solution("p", "", [text]))
    return {c["verdict"] for s in result["steps"] for c in s["claims"] if c["verdict"]}


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(claims(), INSERTS, st.integers(0, 10_000))
def test_insertions_only_ever_make_a_claim_unknown(claim: tuple[str, bool], insert: str,
                                                   where: int) -> None:
    text, true = claim
    assert _verdicts(text) == ({"verified"} if true else {"refuted"})  # the claim as it was
    at = where % (len(text) + 1)
    if insert[:1] == " " and text[at - 1:at] == ".":
        at += 1  # "-0. so 9" ends a sentence after "-0": a new reading, not a hidden word
    # a clause word between two digits ("1 so 0 + 1 = 11") splits a number into two sentences,
    # which a person reads the same way ("He eats 48 because 32 + 16 = 48"): a new text
    assume(not (insert.strip().lower() in STOP_WORDS and text[at - 1:at].isdigit()
                and text[at:at + 1].isdigit()))
    changed = text[:at] + insert + text[at:]
    found = _verdicts(changed)
    if true:
        assert "refuted" not in found, (changed, found)
    else:
        assert not found & {"verified", "verified_approx"}, (changed, found)
