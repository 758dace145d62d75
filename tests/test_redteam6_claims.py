"""Red-team 6 (LaTeX and competition style, 188 model-style solutions): repeating decimals
written with the period in parentheses. Each ``*_not_refuted`` test failed before its fix; the
same notation with a real error stays refuted (claims as ``proofgraph check`` reads them).
"""

from __future__ import annotations

import pytest

from tests.slice_checks import claim_verdicts as verdicts
from tests.slice_checks import refuted_claims as refuted


# T1 (formalizer/normalize.normalize_math): a repeating decimal with its period in parentheses
# right after the point ("0.(3)") was cut to "0" (the group was dropped), so "1/3 = 0.(3)" was
# refuted and "Let x = 0.(3)" bound x = 0, refuting the correct steps after it.
@pytest.mark.parametrize("steps", [
    [r"$\frac{1}{3} = 0.(3)$"],
    ["1/3 = 0.(3), so the answer is 1/3."],
    [r"$\frac{4}{3} = 1.(3)$ and $\frac{1}{7} = 0.(142857)$"],
    [r"Let $x = 0.(3)$. Then $10x = 3.(3)$, so $9x = 3$."],
    ["Let x = 0.(27). Then 100x = 27.(27), so 99x = 27 and x = 3/11."],
])
def test_a_parenthesised_period_is_not_refuted(steps: list[str]) -> None:
    assert refuted(steps) == []


def test_a_parenthesised_period_is_its_exact_value() -> None:
    assert verdicts([r"$\frac{1}{3} = 0.(3)$"]) == [("( ( 1 ) / ( 3 ) ) = ( (1/3) )", "verified")]
    # real errors stay refuted: a wrong period, a wrong step after a right binding
    assert len(refuted([r"$\frac{1}{3} = 0.(4)$"])) == 1
    assert len(refuted(["1/7 = 0.(142856)"])) == 1
    assert refuted([r"Let $x = 0.(3)$. Then $10x = 3.(3)$, so $9x = 4$."]) == ["9 x = 4"]
    # a decimal with digits before the group is still a product where that holds
    assert ("1.5 ( 8 ) = 12", "verified") in verdicts(["The cost is 1.5(8) = 12 dollars."])
    assert refuted(["So 2.5(4) = 11."]) == ["2.5 ( 4 ) = 11"]


# T2 (formalizer/readings.reread): a decimal glued to a parenthesised digit group ("0.1(6)")
# was read only as the product 0.1 * 6, so the repeating decimal "1/6 = 0.1(6)" was refuted.
# Both readings are in use ("2.5(4) = 10" is a product): unknown when only the repeating one
# holds, refuted when both fail.
@pytest.mark.parametrize("steps", [
    [r"$\frac{1}{6} = 0.1(6)$"],
    ["1/6 = 0.1(6) and 5/6 = 0.8(3)"],
    [r"$\frac{7}{12} = 0.58(3)$"],
])
def test_a_glued_period_is_not_refuted(steps: list[str]) -> None:
    assert refuted(steps) == []
    assert {kind for _, kind in verdicts(steps)} == {"unknown"}


def test_a_glued_period_false_both_ways_stays_refuted() -> None:
    assert len(refuted([r"$\frac{1}{6} = 0.1(7)$"])) == 1
    assert refuted(["So 2.5(4) = 11."]) == ["2.5 ( 4 ) = 11"]
    assert [kind for _, kind in verdicts(["So 2.5(4) = 10 and 1.5(8) = 12."])] == [
        "verified", "verified"]
