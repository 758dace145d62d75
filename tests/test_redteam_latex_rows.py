"""The red-team's LaTeX classes on real ProcessBench dev text (tests/data/redteam_latex_rows.json,
Apache-2.0, see SOURCE.redteam_latex_rows.md): each row is checked as written and with the
perturbation that exposed the class, which must either keep the verdict (a rewrite a reader sees
as the same formula) or leave the touched claim unknown (notation the checker does not read)."""

from __future__ import annotations

import hashlib

from slice_checks import load_slices, run

SLICES = load_slices("redteam_latex_rows.json")


def decided(text: str, problem: str = "") -> list[tuple[str, str]]:
    """(formal, verdict) of every verified or refuted claim of one step."""
    result = run(text, problem=problem)
    return [(c["formal"], c["verdict"]) for s in result["steps"] for c in s["claims"]
            if c["verdict"] in ("verified", "verified_approx", "refuted")]


def step(name: str) -> str:
    return str(SLICES[name]["steps"][0])


def test_rows_come_from_the_open_parts() -> None:
    for row in SLICES.values():
        digest = hashlib.sha256(row["id"].encode()).digest()
        part = "dev" if digest[0] % 2 == 0 else "dev2" if digest[1] % 2 == 0 else "test"
        assert part in ("dev", "dev2") and part == row["part"], row["id"]


def test_factorial_of_a_power_is_not_read_as_a_power_of_a_factorial() -> None:
    text = step("power_factorial")
    assert ("(= (+ (^ 25 2) (^ 24 2)) (+ 625 576))", "verified") in decided(text)
    # "24^2!" in LaTeX is (24^2)! (the superscript is one token): 625 + 576 is not that sum
    changed = text.replace("24^2 =", "24^2! =")
    assert not [f for f, _ in decided(changed) if "24" in f], decided(changed)


def test_an_operator_name_is_a_function_or_unread_never_a_product_of_letters() -> None:
    text = step("operator_name")
    assert ("(= (^ (- 1 r) 2) (+ (^ r 2) (* 4 (^ r 2))))", "refuted") in decided(text)
    changed = text.replace("(1 - r)^2", "(1 - r)^\\operatorname{lcm}(2)")
    assert all("(^ (- 1 r)" not in f for f, _ in decided(changed)), decided(changed)
    assert ("(= (lcm 4 6) 12)", "verified") in decided("So \\( \\operatorname{lcm}(4, 6) = 12 \\).")


def test_redundant_brace_groups_keep_the_verdict() -> None:
    text = step("double_braces")
    claim = ("(= x (/ 231846597 9999999999))", "verified")
    assert claim in decided(text)
    assert claim in decided(text.replace("{9999999999}", "{{9999999999}}"))
    assert claim in decided(text.replace("\\frac{231846597}", "\\frac{{231846597}}"))


def test_a_thin_space_before_a_parenthesis_is_a_product() -> None:
    text = step("spaced_product")
    assert "4(uv + 4)" in text
    before = decided(text)
    assert before and all(v == "verified" for _, v in before)
    assert decided(text.replace("4(uv + 4)", "4\\,(uv + 4)")) == before


def test_display_style_keeps_the_verdict() -> None:
    text = step("displaystyle")
    before = decided(text)
    assert ("(= b (+ a 15))", "verified") in before
    assert decided(text.replace("\\( b = a", "\\(\\displaystyle b = a")) == before


def test_dollar_amounts_around_prose_are_currency_not_inline_math() -> None:
    text = step("currency_dollars")
    found = decided(text)
    assert ("(= (* 4 10) 40)", "verified") in found
    assert ("(= (- 128 40) 88)", "verified") in found


def test_a_prime_in_a_formula_is_unread() -> None:
    text = step("prime")
    assert ("(= (- (- (^ x 2) x) 2) 0)", "verified") in decided(text)
    for changed in (text.replace("x^2 - x - 2 = 0", "x^2 - x' - 2 = 0"),
                    text.replace("x^2 - x - 2 = 0", "x^2 - x - 2 = 0'")):  # "0'": not zero
        assert all("(- (^ x 2) x)" not in f for f, _ in decided(changed)), decided(changed)


def test_latex_thousands_separators_are_one_number() -> None:
    for sep in ("{,}", ",\\!", "\\,"):
        assert decided(f"So \\( 22500 \\times 20 = 450{sep}000 \\).") == [
            ("(= (* 22500 20) 450000)", "verified")], sep


def test_plain_factorial_before_equals_is_not_read_as_not_equal() -> None:
    # "5!=120" in plain text: a factorial, or "≠"? Never refuted as 5 ≠ 120
    assert not decided("So 5!=120 ways.")
    assert not decided("He writes 3*2!=6 pages.")


def test_thin_spaces_inside_a_congruence_keep_its_links() -> None:
    text = step("spaced_congruence")
    before = decided(text)
    assert ("(= (residue (- (+ 2 1) 3) 10) 0)", "verified") in before
    assert ("(= (residue (- (^ 2 11) 2) 10) 0)", "refuted") in before  # 2^11 = 2048
    assert decided(text.replace("2 + 1", "2 \\,+\\, 1")) == before
    assert decided(text.replace("11^2 \\equiv", "11^2\\; \\equiv")) == before


def test_a_prime_glued_to_a_number_in_prose_is_unread() -> None:
    # "10' -7 = 3" (GSM8K-style, 10 feet): never the claim "-7 = 3"
    assert not decided("So, only 10' -7 = 3 kilograms of butter was left.")
    assert decided("The 1990's saw 2 + 2 = 4.") == [("(= (+ 2 2) 4)", "verified")]


def test_a_parenthesised_number_followed_by_an_operator_is_no_label() -> None:
    text = step("label_then_operator")
    assert ("(= 289 (+ (* 4 72) 1))", "verified") in decided(text)
    # "4 (72) + 1" (a space, or "4^\circ(72)"): never the claim "289 = 4"
    for changed in (text.replace("4(72)", "4 (72)"), text.replace("4(72)", "4^\\circ(72)")):
        assert all(f != "(= 289 4)" for f, _ in decided(changed)), decided(changed)
    assert not decided("so 289 = 4 (72) + 1")
