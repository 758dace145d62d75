"""Rewrite the math notations found in CoT text into one plain infix spelling.

Handles LaTeX (``\\( \\)``, ``\\frac{a}{b}``, ``\\times``, ``\\cdot``, ``\\div``, ``\\sqrt``,
``\\le`` ...), unicode operators (``× ÷ − ≤ ≥ ≠ ≈ ² ³ √``), currency (``$5.50``), thousands
separators (``1,000``) and ``$...$`` math delimiters. The result is still prose: claim spans are
found in it afterwards by :mod:`formalizer.extract`. Every loop here is bounded.
"""

from __future__ import annotations

import re

from formalizer.latex import has_latex, opaque_commands, read_latex, repeating_fraction

_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_DIGITS = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")
_SQRT_N = re.compile(r"\\sqrt\s*\[([^\[\]{}]*)\]\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_WRAPPERS = re.compile(r"\\(?:text|textbf|mathrm|mbox|operatorname|boxed|mathbf)\s*\{([^{}]*)\}")
_COMMANDS = [
    (re.compile(r"\\(?:times|cdot|ast)(?![A-Za-z])"), " * "),
    (re.compile(r"\\div(?![A-Za-z])"), " / "),
    (re.compile(r"\\(?:leq|le|leqslant)(?![A-Za-z])"), " ≤ "),
    (re.compile(r"\\(?:geq|ge|geqslant)(?![A-Za-z])"), " ≥ "),
    (re.compile(r"\\(?:neq|ne)(?![A-Za-z])"), " ≠ "),
    (re.compile(r"\\(?:approx|simeq|thickapprox)(?![A-Za-z])"), " ≈ "),
    (re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])"), ""),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\\$"), "$"),
    (re.compile(r"\\[,;:! ]|~"), " "),
    (re.compile(r"\\[()\[\]]"), " "),
    (re.compile(r"\{,\}"), ""),
]
_UNICODE = str.maketrans({
    "×": "*", "·": "*", "⋅": "*", "∗": "*", "÷": "/", "−": "-", "–": "-", "＝": "=",
    "²": "^2", "³": "^3",
})
_UNICODE_REL = [("≤", " <= "), ("≥", " >= "), ("≠", " != "), ("≈", " ~= ")]
# a leading look-behind is written after the first digit (``\d(?<![\d./]\d)`` is
# ``(?<![\d./])\d``), so the scan skips to the next digit instead of trying every position
_MIXED_NUMBER = re.compile(r"(\d(?<![\d./]\d)\d*)\s+(\d+)/(\d+)(?![\d./])")
_SPACE_THOUSANDS = re.compile(r"(\d(?<![\d.,]\d)\d{0,2})((?: \d{3})+)(?!\d|[.,]\d)")
_AND_FRACTION = re.compile(r"(\d(?<![\d./]\d)\d*) and (\d+)/(\d+)(?![\d./])")
_TIGHT_TIMES = re.compile(r"(?<=\d)\s*[xX](?=\s*\$?\d)")
_ROOT_NUMBER = re.compile(r"√\s*(\d+(?:\.\d+)?)")
_ROOT_PAREN = re.compile(r"√\s*\(")
_ELLIPSIS_PERCENT = re.compile(r"(\d)\.{2,}\s*%")
_UNIT_POWER = re.compile(r"(?<=[A-Za-z]{2})[²³]")
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")
_CURRENCY = re.compile(r"\$(?=\s?-?\.?\d)\s?")
_MATH_DOLLAR = re.compile(r"\$+")
_POWER_BRACE = re.compile(r"\^\s*\{([^{}]*)\}")
_APPROX_WORDS = re.compile(
    r"=\s*(?:about|approximately|approx\.?|roughly|around|nearly|almost)\b\s*", re.IGNORECASE)
# written without LaTeX: "dy/dx", "d/dx", "d^2y/dx^2" (a derivative) and "f^(-1)(12)",
# "f^-1(12)" (an inverse function) are not read
_PLAIN_DERIVATIVE = re.compile(r"d(?<![\w\\]d)(?:\^\d)?[A-Za-z]?\s*/\s*d[A-Za-z](?:\^\d)?(?!\w)")
_PLAIN_INVERSE = re.compile(r"[fghFGH](?<![A-Za-z_\\][fghFGH])\s*\^\s*(?:\(\s*-\s*1\s*\)|-\s*1)\s*(?=\()")
_UNREAD = " \ufffd "
# "100 = 2 (mod 7)", "17 = 2 mod 5": a congruence written with "=", not the remainder operator
_MOD_LABEL = re.compile(r"\(\s*mod(?:ulo)?\s+[\w^]{1,12}\s*\)", re.IGNORECASE)
_MOD_WORD = re.compile(r"\bmod(?:ulo)?\b", re.IGNORECASE)
_CLAUSE_STOP = re.compile(r"[,;:!?\n]|\.(?!\d)")
_MAX_PASSES = 32


def _mixed(m: re.Match[str]) -> str:
    """``1 1/2`` -> ``(1+1/2)`` when it is a proper mixed number, else unchanged."""
    whole, num, den = m.group(1), m.group(2), m.group(3)
    if int(num) < int(den):
        return f"({whole}+{num}/{den})"
    return m.group(0)


def _fixpoint(pattern: re.Pattern[str], repl: str, text: str) -> str:
    for _ in range(_MAX_PASSES):
        new = pattern.sub(repl, text)
        if new == text:
            return new
        text = new
    return text


def _congruences(text: str) -> str:
    """``a = b mod n`` (``=`` before the ``mod`` in its clause and no ``mod`` on the left) and
    ``a = b (mod n)`` mean ``a ≡ b (mod n)``: their ``mod`` is marked unread. ``17 mod 5 = 2``
    and ``17 mod 5 = 12 mod 5`` keep the remainder operator."""
    text = _MOD_LABEL.sub(_UNREAD, text)
    out, last = [], 0
    for m in _MOD_WORD.finditer(text):
        clause = text[max(0, m.start() - 120):m.start()]
        stops = list(_CLAUSE_STOP.finditer(clause))
        clause = clause[stops[-1].end():] if stops else clause
        eq = clause.rfind("=")
        if eq >= 0 and not _MOD_WORD.search(clause[:eq]) and not _MOD_WORD.search(clause[eq:]):
            out.append(text[last:m.start()] + _UNREAD)
            last = m.end()
    return "".join(out) + text[last:] if out else text


_DIGIT_BANG_EQ = re.compile(r"(?<=\d)!=(?!=)")
# "5!!", "(2n-1)!!": a double factorial (5·3·1 = 15), never (5!)!; also "= 7!!!" (emphasis)
_DOUBLE_BANG = re.compile(r"(?<=[\w)\]])\s?!(?:\s?!)+")


# "0.(3)", "1.(142857)": a decimal point directly followed by a parenthesised digit group is a
# repeating decimal (the period in parentheses); "0." times 3 is never written so. The glued
# "0.1(6)" also reads as the product 0.1 * 6 ("2.5(4) = 10"): that one stays a product here
# (formalizer.readings.reread leaves it unknown when only the repeating reading holds)
_PAREN_REPEATING = re.compile(r"(?<![\d.])(\d+)\.\((\d{1,12})\)")


def _paren_repeating(m: re.Match[str]) -> str:
    """``0.(3)`` -> ``(1/3)``: the exact value of a repeating decimal with its period in
    parentheses."""
    value = repeating_fraction(m.group(1), "", m.group(2))
    return f"({value.numerator}/{value.denominator})"


def normalize_math(text: str) -> str:
    """Plain infix spelling of the math in ``text``; prose words are left as they are. A
    repeating decimal with its period in parentheses right after the point (``0.(3)``) is its
    exact value, as ``0.\\overline{3}`` is."""
    if ".(" in text:
        text = _PAREN_REPEATING.sub(_paren_repeating, text)
    latex = has_latex(text)
    if latex:
        text = read_latex(text)
    if "\\" in text or "{" in text:
        for _ in range(_MAX_PASSES):  # innermost first: \frac{1 + \sqrt{5}}{2}, \frac{x^{2}}{3}
            new = _fixpoint(_WRAPPERS, r" \1 ", text)
            new = _fixpoint(_FRAC, r"((\1)/(\2))", new)
            new = _FRAC_DIGITS.sub(r"((\1)/(\2))", new)
            new = _fixpoint(_SQRT_N, r"((\2)^(1/(\1)))", new)
            new = _fixpoint(_SQRT, r"sqrt(\1)", new)
            new = _fixpoint(_POWER_BRACE, r"^(\1)", new)
            if new == text:
                break
            text = new
        for pattern, repl in _COMMANDS:
            text = pattern.sub(repl, text)
        text = text.replace("{", "(").replace("}", ")")
    if "²" in text or "³" in text:
        text = _UNIT_POWER.sub("", text)  # cm³, ft²: part of the unit, not a power
    if "√" in text:
        text = _ROOT_PAREN.sub("sqrt(", _ROOT_NUMBER.sub(r"sqrt(\1)", text))
    if "%" in text:
        text = _ELLIPSIS_PERCENT.sub(r"\1%", text)
    text = text.translate(_UNICODE)
    for sym, repl in _UNICODE_REL:
        if sym in text:
            text = text.replace(sym, repl)
    if "$" in text:
        text = _CURRENCY.sub("", text)
        text = _MATH_DOLLAR.sub(" ", text)
    if "," in text:
        text = _THOUSANDS.sub("", text)
    if "x" in text or "X" in text:
        text = _TIGHT_TIMES.sub(" * ", text)
    text = _SPACE_THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)
    if "/" in text:
        if " and " in text:
            text = _AND_FRACTION.sub(_mixed, text)
        text = _MIXED_NUMBER.sub(_mixed, text)
    if "mod" in text.lower():
        text = _congruences(text)
    if "/" in text and "d" in text:
        text = _PLAIN_DERIVATIVE.sub(_UNREAD, text)
    if "^" in text:
        text = _PLAIN_INVERSE.sub(_UNREAD, text)
    if "!!" in text or "! !" in text:
        text = _DOUBLE_BANG.sub(_UNREAD, text)
    if "!=" in text and not latex:  # "3*2!=6": a factorial then "=", or "≠"? not read
        text = _DIGIT_BANG_EQ.sub(_UNREAD, text)
    if "=" in text:
        text = _APPROX_WORDS.sub(" ~= ", text)
    return opaque_commands(text) if latex else text
