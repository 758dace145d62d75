"""Differential red-team over competition (LaTeX) notation, issue 11: a verdict never comes from
text the checker did not read.

Two properties over generated LaTeX claims (``\\( a \\times b + \\frac{p}{q} = c \\)`` with ``c``
right or wrong, checked first as written):

* a rewrite a reader sees as the same formula (``\\,``, ``\\!``, ``\\left(``/``\\right)``,
  ``\\cdot``/``\\times``/``×``/``·``, ``\\dfrac``, ``{}`` groups, ``\\displaystyle``, a unicode
  minus) never changes the verdict;
* notation the checker does not read (unknown macros, ``\\operatorname{..}``, a bracket left
  open, ``\\mid``, primes, ``\\overline``, ``\\lvert``, a factorial of a power) leaves no
  verified or refuted claim: the claim is ``unknown``, never judged from the rest of the text.

Deterministic (derandomized, bounded examples). The real dev rows these classes came from are
in test_redteam_latex_rows.py.
"""

from __future__ import annotations

import re
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formalizer.stepcheck import Solution, StepChecker

CHECKER = StepChecker()


def verdicts(text: str) -> list[str]:
    """The verdict of every claim the checker decided or left unknown, in order."""
    result, _ = CHECKER.check(Solution("p", "", [text]))
    return [c["verdict"] for s in result["steps"] for c in s["claims"] if c["verdict"]]


@st.composite
def latex_claims(draw: st.DrawFn) -> tuple[str, bool]:
    """``\\( a \\times (b - d) + \\frac{p}{q} = c \\)`` and smaller forms; true or false."""
    a, b, d = draw(st.integers(2, 40)), draw(st.integers(2, 60)), draw(st.integers(1, 9))
    p, q = draw(st.integers(1, 30)), draw(st.integers(2, 9))
    shape = draw(st.sampled_from(["prod", "frac", "power"]))
    if shape == "prod":
        body, value = f"{a} \\times ({b} - {d})", Fraction(a * (b - d))
    elif shape == "frac":
        body, value = f"{a} + \\frac{{{p}}}{{{q}}}", a + Fraction(p, q)
    else:
        k = draw(st.integers(2, 3))
        body, value = f"{a}^{{{k}}} - {b}", Fraction(a ** k - b)
    true = draw(st.booleans())
    c = value if true else value + draw(st.sampled_from([1, 2, 10, -1]))
    right = str(c.numerator) if c.denominator == 1 else f"\\frac{{{c.numerator}}}{{{c.denominator}}}"
    return f"So \\( {body} = {right} \\).", true


def _group_result(t: str) -> str:
    """``= c \\)`` -> ``= {c} \\)``: a brace group around the result."""
    return t.replace("= ", "= {", 1).replace(" \\)", "} \\)", 1)


def _sized(t: str) -> str:
    """Every bare parenthesis as ``\\left(``/``\\right)`` (the math delimiters stay)."""
    return re.sub(r"(?<!\\)\)", r"\\right)", re.sub(r"(?<!\\)\(", r"\\left(", t))


SAME = {  # name -> rewrite a reader sees as the same formula
    "thin-space": lambda t: t.replace(" = ", " \\, = \\; "),
    "neg-space": lambda t: t.replace(" = ", " \\!=\\! "),
    "quad": lambda t: t.replace(" = ", " \\quad = \\quad "),
    "left-right": _sized,
    "cdot": lambda t: t.replace("\\times", "\\cdot"),
    "times-sign": lambda t: t.replace("\\times", "×"),
    "middle-dot": lambda t: t.replace("\\times", "·"),
    "dfrac": lambda t: t.replace("\\frac", "\\dfrac"),
    "double-braces": lambda t: t.replace("{", "{{").replace("}", "}}"),
    "group-result": _group_result,
    "displaystyle": lambda t: t.replace("\\( ", "\\( \\displaystyle ", 1),
    "unicode-minus": lambda t: t.replace(" - ", " − "),
    "spaced-product": lambda t: t.replace(" \\times (", " \\, ("),
    "unicode-thin-product": lambda t: t.replace(" \\times (", "\u2009("),
    "spaced-operators": lambda t: t.replace(" - ", " \\,-\\, ").replace(" + ", "\\;+\\;"),
}

# wrap the first number after "=" or the first number of the formula; every one is notation the
# checker does not read, so the claim may not be decided
UNREAD = [
    "\\foo{{{n}}}", "\\operatorname{{xyz}}({n})", "\\operatorname{{lcm}}{n}", "\\lfloor {n}",
    "{n} \\mid", "\\lvert {n}", "{n}'", "\\overline{{{n}}}", "\\vec{{{n}}}", "\\hat {n}",
    "{n}^{{2}}!", "\\foo {n}", "\\sum {n}", "{n}\\rfloor",
]


@settings(max_examples=160, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(latex_claims(), st.sampled_from(sorted(SAME)))
def test_meaning_preserving_rewrites_keep_the_verdict(claim: tuple[str, bool], name: str) -> None:
    text, true = claim
    before = verdicts(text)
    assert before == (["verified"] if true else ["refuted"]), (text, before)
    changed = SAME[name](text)
    assert verdicts(changed) == before, (name, changed, verdicts(changed))


@settings(max_examples=160, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(latex_claims(), st.sampled_from(UNREAD), st.booleans())
def test_unread_notation_leaves_the_claim_unknown(claim: tuple[str, bool], wrap: str,
                                                  on_right: bool) -> None:
    text, _ = claim
    start = text.index("= ") + 2 if on_right else text.index("\\( ") + 3
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    if end == start:  # a fraction on the right: wrap the formula's first number instead
        start = end = text.index("\\( ") + 3
        while text[end].isdigit():
            end += 1
    changed = text[:start] + wrap.format(n=text[start:end]) + text[end:]
    found = verdicts(changed)
    assert not {"verified", "verified_approx", "refuted"} & set(found), (changed, found)
