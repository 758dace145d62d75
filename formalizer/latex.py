"""Read the LaTeX of competition-math solutions into the plain spelling the extractor knows.

Runs before :func:`formalizer.normalize.normalize_math` on text that carries LaTeX. What a
reader sees as structure is kept as structure: display and inline math delimiters become a hard
stop (:data:`STOP`), so two displays are never merged into one chain; function application is
spelled ``name(args)`` (``\\sin``, ``\\log_b``, ``\\binom``, factorial ``n!``); subscripts
become part of a name (``S_{14}`` -> ``S_14``) and base subscripts a number (``101_2`` -> 5);
mixed numbers (``3\\frac45``) are sums; Greek letters and angles are names (``\\theta`` ->
``theta``, ``\\angle ABC`` -> ``angle_ABC``), a
repeating decimal (``0.\\overline{142857}``) its exact fraction, and ``\\implies`` a consequence
(a stop followed by ``so``); a list dash before a formula is a stop. What this module does not read (congruences, ``\\pm``,
``\\overline``, ellipses inside a formula, unknown commands) becomes :data:`OPAQUE`, which makes
any claim touching it ``unknown: not-formalized`` instead of a guess. Every pattern is linear
(no nested quantifiers) and every loop is bounded.
"""

from __future__ import annotations

import re
from fractions import Fraction

STOP = " ; "  # a hard boundary between claims (displays, \\text{...} with numbers)
OPAQUE = " \ufffd "  # notation not read (the lexical reader's UNREAD): its claim is unknown
_MAX_PASSES = 24

_LATEX_HINT = re.compile(r"\\[A-Za-z\[\]()]|\$\$|\$[^$\d\s]")
_DISPLAY = re.compile(r"\\\[|\\\]|\\\(|\\\)|\$\$|\\begin\{[a-z*]*\}|\\end\{[a-z*]*\}|\\\\")
_ALIGN = re.compile(r"&")
_TEXT = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|operatorname|mathbf|textnormal)"
                   r"\s*\{([^{}]*)\}")
# "\\operatorname{lcm}(4, 6)", "\\mathrm{gcd}": a named function is that function; any other
# operator name is unread (never the product of its letters l*c*m)
_OPERATOR_NAME = re.compile(r"\\(?:operatorname\*?|mathrm|text|mathit)\s*\{\s*([A-Za-z]{2,12})\s*\}")
_FUNCTION_CMD = ("arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos", "tan", "cot",
                 "sec", "csc", "log", "ln", "exp", "lg", "gcd", "lcm")
# "\\left\\lfloor \\frac{11}{2} \\right\\rfloor" -> "floor(\\frac{11}{2})" (innermost first; a
# bracket left open or closed by the other kind stays unread)
_FLOOR = re.compile(r"(?:\\left\s*)?\\l(floor|ceil)(?![A-Za-z])"
                    r"((?:(?!\\[lr](?:floor|ceil)(?![A-Za-z])).){0,300}?)"
                    r"(?:\\right\s*)?\\r(floor|ceil)(?![A-Za-z])")
# Greek letters read as names; those that are also unit words (mu, psi, ...) stay unread, and so
# do omega and zeta, which competition text uses for complex roots of unity (never real names)
GREEK_NAMES = frozenset(
    "alpha beta gamma delta epsilon varepsilon eta theta vartheta iota kappa nu xi rho tau "
    "upsilon phi varphi chi Gamma Delta Theta Xi Phi".split())
_GREEK_ALT = "|".join(sorted(GREEK_NAMES, key=len, reverse=True))
_FUNC_BASE = re.compile(r"\\(?:log|lg)\s*_\s*(?:\{\s*(\d+|[A-Za-z])\s*\}|(\d|[A-Za-z]))\s*"
                        r"(?:\{([^{}]*)\}|\(([^()]*)\)|(\d+(?:\.\d+)?|[A-Za-z])(?![\w({^]))")
_FUNC_POWER = re.compile(r"\\(" + "|".join(_FUNCTION_CMD) + r")\s*\^")
# "\\left( ... \\right)": sized delimiters are the delimiters ("\\left." is an empty one)
_SIZED = re.compile(r"\\(?:left|right|bigl?|bigr?|Bigl?|Bigr?)\s*([()\[\]|.])")
_FUNC_CALL = re.compile(r"\\(" + "|".join(_FUNCTION_CMD) + r")(?![A-Za-z])\s*"
                        r"(?:\{([^{}]*)\}|\(([^()]*)\)|(\d+(?:\.\d+)?|(?:" + _GREEK_ALT + r")|"
                        r"[A-Za-z](?:_\w)?)(?![\w({^]))")
_FUNC_LEFT = re.compile(r"\\(" + "|".join(_FUNCTION_CMD) + r")(?![A-Za-z])")
_BINOM = re.compile(r"\\[dt]?binom\s*\{([^{}]*)\}\s*\{([^{}]*)\}|\\[dt]?binom\s*(\d)\s*(\d)")
_CHOOSE = re.compile(r"\{([^{}]*)\\choose([^{}]*)\}")
_MIXED = re.compile(r"(?<![\w.^_}])(\d+)\s*\\[dt]?frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*"
                    r"(?:\{\s*(\d+)\s*\}|(\d))")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree|°")
_DEGREE_MARK = r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\degree(?![A-Za-z])|°)"
# "\sin 30^\circ", "\cos(45°)": an angle in degrees is that multiple of pi/180 (radians), so
# the function's value is exact where it is known (sin 30° = 1/2) and never read in radians
_TRIG_DEGREES = re.compile(
    r"\\(sin|cos|tan|cot|sec|csc)(\s*\^\s*(?:\{\s*[2-9]\s*\}|[2-9]))?\s*"
    r"(?:\(\s*(\d{1,4}(?:\.\d{1,4})?)" + _DEGREE_MARK + r"\s*\)"
    r"|\{\s*(\d{1,4}(?:\.\d{1,4})?)" + _DEGREE_MARK + r"\s*\}"
    r"|(\d{1,4}(?:\.\d{1,4})?)" + _DEGREE_MARK + r")")
_GREEK = re.compile(r"\\(" + _GREEK_ALT + r")(?![A-Za-z])")
_IMPLIES = re.compile(r"\\(?:implies|Longrightarrow|Rightarrow|iff|Leftrightarrow|"
                      r"Longleftrightarrow)(?![A-Za-z])|[⟹⇒⟺⇔]")
CONSEQUENCE = STOP + "so" + STOP  # "A = B \\implies C = D": C = D is derived, asserted
# "- \\( x = 3 \\)", "Common difference: - \\(7 - 4\\)": a list dash, not a minus
_LIST_DASH = re.compile(r"(?:^|(?<=\n)|(?<=:))[ \t]*-[ \t]+(?=\\\(|\\\[|\$|[A-Z])"
                        r"|(?<=\\\)|\\\])[ \t]*-[ \t]+(?=[A-Z])")
_REPEATING = re.compile(r"(?<![\d.])(\d+)\.(\d{0,12})\s*\\overline\s*\{\s*(\d{1,12})\s*\}")
# "= \\left[ 22.8 \\right] = 22": a bracket that is a whole operand is the integer part (or an
# interval), never plain grouping: not read
_WHOLE_BRACKET = re.compile(r"(?:^|(?<=[=<>]))\s*(?:\\left\s*)?\[[^\[\]]{0,400}\]"
                            r"(?=\s*(?:$|[=<>,.;]|\\[lg]eq?\b|\\neq?\b))")
_FUNC_SQUARED = re.compile(
    r"\\(" + "|".join(("arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos", "tan",
                       "cot", "sec", "csc")) + r")\s*\^\s*(?:\{\s*([2-9])\s*\}|([2-9]))\s*"
    r"(?:\{([^{}]*)\}|\(([^()]*)\)|(\d+(?:\.\d+)?|(?:" + _GREEK_ALT + r")(?![A-Za-z])|"
    r"[A-Za-z](?:_\w)?(?![\w({^])))")
# "\\angle ABC", "\\angle B": an angle is a name of its own (angle_ABC), never a product
_ANGLE = re.compile(r"\\angle\s*(?:\{\s*)?([A-Z]{1,3}(?![A-Za-z])|[A-Za-z](?![A-Za-z]))(?:\s*\})?")
_OPAQUE_CMD = re.compile(
    r"\\(?:pmod|bmod|mod|equiv|overline|underline|overrightarrow|vec|hat|bar|widehat|"
    r"angle|triangle|infty|cdots|ldots|dots|vdots|ddots|sum|prod|int|lim|mid|nmid|perp|parallel|"
    r"sim|cong|subset|subseteq|in|notin|cup|cap|to|rightarrow|gcd|lcm|"
    r"max|min|det|lfloor|rfloor|lceil|rceil|floor|ceil|setminus|emptyset|forall|exists|partial|"
    r"nabla|prime|circ|oplus|otimes|wedge|vee|neg|lnot)(?![A-Za-z])|[≡∞∑∏∫]|(?<!\d)…|\.\.\.")
_PLUS_MINUS = re.compile(r"\\(pm|mp)(?![A-Za-z])")  # read by formalizer.plus_minus
# a derivative (\frac{d}{dx}, \frac{dy}{dx}, \frac{d^2y}{dx^2}) and an inverse function
# (f^{-1}(12)): no fraction and no power, so not read
_DERIVATIVE = re.compile(r"\\[dt]?frac\s*\{\s*d(?:\s*\^\s*\{?\s*\d\s*\}?)?\s*(?:[A-Za-z]\w{0,3})?\s*\}"
                         r"\s*\{\s*d\s*[A-Za-z](?:\s*\^\s*\{?\s*\d\s*\}?)?\s*\}")
# "dv = \frac{1}{x^2 + 1} \, dx", "du = 2x\,dx": differentials, never the product d·v; read as
# such only where the text integrates or writes a thin space before them
_DIFFERENTIAL_HINT = re.compile(r"\\int|\\,\s*d[a-z](?![A-Za-z])|integra|differential|antideriv",
                                re.IGNORECASE)
_DIFFERENTIAL = re.compile(r"(?<![A-Za-z\\])d\s?[a-z](?![A-Za-z(])")
_INVERSE = re.compile(r"(?<![A-Za-z\\])([fghFGHPQ](?:_\{?\w{1,3}\}?)?)\s*\^\s*\{\s*-\s*1\s*\}\s*(?=\()")
_TRUNCATED = re.compile(r"(?<![\d.])(\d+\.\d+)\s*(?:\.{3}|…|\\[lc]?dots(?![A-Za-z]))")
_SUBSCRIPT = re.compile(r"(?<![\w\\])([A-Za-z])_\s*(?:\{([A-Za-z0-9+\-, ]{1,12})\}|([A-Za-z0-9]))")
_UNIT_POWER = re.compile(r"(\\(?:text|mathrm|mbox)\s*\{[^{}0-9]*\})\s*\^\s*\{?\s*[23]\s*\}?")
_UNKNOWN_CMD = re.compile(r"\\[A-Za-z]+")
_BASE = re.compile(r"(?<![\w.])(\d+)_\s*(?:\{(\d{1,2})\}|(\d))(?!\d)")
_RATIO_CHAIN = re.compile(r"[\w)}]\s*:\s*[\w({]+\s*:\s*[\w({]")
_COLON_CMD = re.compile(r"\\colon(?![A-Za-z])")
# "24^2!": LaTeX's superscript is the one token, so the factorial is of the power ((24^2)!),
# which the plain reader would take as 24^(2!): not read
_POWER_FACTORIAL = re.compile(r"(\^\s*(?:\{[^{}]{0,80}\}|\([^()]{0,80}\)|[\w.]{1,12}))\s?!")
_FACTORIAL = re.compile(r"(?<=[\w)}])\s?!(?!=)")
_FACTORIAL_EQ = re.compile(r"(?<=[\w)}])!=")
_PI = re.compile(r"\\pi(?![A-Za-z])")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad(?![A-Za-z])|\\(?:display|text|script|scriptscript)style"
                      r"(?![A-Za-z])")
# "4\,(uv + 4)": a number (or group) then a spacing command then "(" is a product in a formula
_SPACED_PRODUCT = re.compile(r"(?<=[\d)}])[ \t]*(?:\\[,;:!]|[\u2009\u202f\u200a])\s*"
                             r"(?=\((?!\s*\d+\s*\)))")  # "\;(2)": a label
# "{{2}}", "\\frac{{2}\\sqrt{2}}{2}", "-{1}": a brace group around one number or letter that
# is no command's argument, exponent or subscript is that number or letter
# "450{,}000", "450,\\!000", "1\\,000\\,000": LaTeX thousands separators inside one number
_LATEX_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:(?:\{,\}|,\\!|\\,)\d{3})+(?![\d.])")
# "$4 daily ... x $", "$2 * $4 = $8": a "$" that opens no inline math is a sign, judged per "$"
_CURRENCY_SPAN = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}\s+[A-Za-z]{2,}(?![A-Za-z])")
_COMMAND_GROUP = re.compile(r"\\[A-Za-z]+\*?(?:\s*\{[^{}]*\})*")
_DOLLAR = re.compile(r"(?<!\\)\$\$?")
_DISPLAY_DOLLARS = re.compile(r"(?<!\\)\$\$")


def _currency_dollars(text: str) -> str:
    """Without the ``$`` that open no inline math, each judged on its own span (to the next
    ``$``): one whose closing ``$`` precedes a digit (pandoc's rule), or one before a digit whose
    span ends in a space or runs through prose (two plain words outside ``\\text{}`` and other
    command groups). Such a sign is removed (a space unless before a digit) and the next ``$``
    is judged afresh; a math ``$`` (or ``$$``) skips to its closing one."""
    out: list[str] = []
    pos, m = 0, _DOLLAR.search(text)
    while m is not None and (close := _DOLLAR.search(text, m.end())) is not None:
        span, money = text[m.end():close.start()], text[m.end():m.end() + 1].isdigit()
        sign = close.group(0) == "$" and text[close.end():close.end() + 1].isdigit()
        if money and not sign:
            sign = span[-1:].isspace() or bool(_CURRENCY_SPAN.search(_COMMAND_GROUP.sub(" ", span)))
        if m.group(0) == "$" and sign:
            out.append(text[pos:m.start()] + ("" if money else " "))
            pos, m = m.end(), close
            continue
        if m.group(0) == "$$" != close.group(0):
            close = _DISPLAY_DOLLARS.search(text, close.end())
        m = _DOLLAR.search(text, close.end()) if close is not None else None
    return "".join(out) + text[pos:]


_PRIME = re.compile(r"(?<=[\w)}])\s*'+")
_DOUBLE_BRACE = re.compile(r"\{\s*\{([^{}]{0,200})\}\s*\}")
_ATOM_GROUP = re.compile(r"\{\s*(\d+(?:\.\d+)?|[A-Za-z])\s*\}")
_MATH_SEGMENT = re.compile(r"\\\((.{0,2000}?)\\\)|\\\[(.{0,4000}?)\\\]|\$\$(.{0,4000}?)\$\$"
                           r"|\$([^$]{1,2000})\$", re.DOTALL)
_POINT_NAME = re.compile(r"(?<![\\\w])([A-Z])\s+(?=[A-Z](?![\w(]))")
_LETTER_MINUS = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
_LETTER_RUN = re.compile(r"(?<![\\A-Za-z_])([0-9]*)([a-z]{2,4})(?![A-Za-z_(])")
_MATH_WORDS = frozenset(("sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lg",
                         "sqrt", "pi", "binom", "and", "or", "for", "if", "mod", "abs", "then",
                         "so", "thus", "when", "is", "are", "the", "of", "to", "in", "sinh",
                         "cosh", "tanh", "cm", "km", "mm", "kg", "min", "hr", "sec", "gcd",
                         "lcm", "det", "deg", "arg"))


def has_latex(text: str) -> bool:
    """True when ``text`` carries LaTeX math (commands, ``$$``, or ``$`` before a non-digit)."""
    return bool(_LATEX_HINT.search(text))


def _split_letters(m: re.Match[str]) -> str:
    """``4ac`` -> ``4a*c`` and ``xy`` -> ``x*y`` inside math: letters in a formula are names."""
    digits, letters = m.group(1), m.group(2)
    if letters in _MATH_WORDS:
        return m.group(0)
    return digits + "*".join(letters)


def _math_products(segment: str) -> str:
    segment = _fixpoint(_POINT_NAME, r"\1", segment)  # "E U = U C": segments EU and UC
    segment = _LETTER_MINUS.sub(" - ", segment)  # "(u-v)^2": a minus, never a hyphenated word
    return _LETTER_RUN.sub(_split_letters, segment)


def repeating_fraction(whole: str, fixed: str, period: str) -> Fraction:
    """The exact value of the repeating decimal ``whole.fixed`` followed by ``period`` repeated
    for ever (``("0", "1", "6")`` is 1/6); every argument is a string of digits, ``fixed``
    may be empty, ``period`` may not."""
    den = 10 ** len(fixed) * (10 ** len(period) - 1)
    num = int(fixed + period) - int(fixed or "0")
    return Fraction(int(whole)) + Fraction(num, den)


def _repeating(m: re.Match[str]) -> str:
    """``0.1\\overline{6}`` -> ``(1/6)``: the exact value of a repeating decimal."""
    value = repeating_fraction(m.group(1), m.group(2), m.group(3))
    return f"({value.numerator}/{value.denominator})"


def _func_power(m: re.Match[str]) -> str:
    """``\\sin^2 x`` -> ``(sin(x))^2`` (a positive power of the value; ``^{-1}`` is not read)."""
    power = m.group(2) or m.group(3)
    arg = next((g for g in m.groups()[3:] if g is not None), "")
    return f" ({m.group(1)}({arg}))^{power}"


# "4^4 = 256 \equiv 6 \mod 25": a clause that ends with an integer modulus is a chain of
# congruences (its "=" links too: an equality implies the congruence, so this reads no more)
_MODULUS = re.compile(
    r"\s*(?:\(\s*\\?(?:bmod|mod)\s*\{?\s*(\d{1,9})\s*\}?\s*\)|\\pmod\s*\{\s*(\d{1,9})\s*\}"
    r"|\\pmod\s*(\d{1,9})|(?:\\b?mod|(?<![A-Za-z\\])mod)\s*\{?\s*(\d{1,9})\s*\}?)\s*[.,;]?\s*$")
_CLAUSE_SEP = re.compile(r"((?<!\\)[,;]|\\q?quad(?![A-Za-z])|\\(?:implies|Rightarrow|Longrightarrow|iff|"
                         r"text)(?![A-Za-z])|\\\\|&)")
_CONGRUENCE_LINK = re.compile(r"\\equiv(?![A-Za-z])|=")
_NOT_CONGRUENCE = re.compile(r"[<>≤≥≠≈!]|\\(?:le|ge|leq|geq|neq|ne|not|approx|pm|mp|equiv\s*\\not)"
                             r"(?![A-Za-z])|\\[lr]?(?:floor|ceil)|\\frac|/")


def _congruence(clause: str) -> str:
    """``a \\equiv b \\pmod{n}`` -> ``residue((a) - (b), n) = 0`` (one claim per link); a clause
    with another relation, a fraction or a modulus that is no integer literal is left as is."""
    m = _MODULUS.search(clause)
    if m is None:
        return clause
    body = clause[:m.start()]
    modulus = next(g for g in m.groups() if g is not None)
    operands = [o.strip() for o in _CONGRUENCE_LINK.split(body)]
    if len(operands) < 2 or not all(operands) or _NOT_CONGRUENCE.search(body) or int(modulus) < 2:
        return clause
    links = [f"residue(({a}) - ({b}), {modulus}) = 0"
             for a, b in zip(operands[:-1], operands[1:], strict=True)]
    return STOP + STOP.join(links) + STOP


def _segment(m: re.Match[str]) -> str:
    inner = next(g for g in m.groups() if g is not None)
    if "mod" in inner:
        inner = "".join(_congruence(part) if k % 2 == 0 else part
                        for k, part in enumerate(_CLAUSE_SEP.split(inner)))
    inner = _SPACED_PRODUCT.sub("", inner)
    if "'" in inner:  # "f'(x)", "2'": a prime (derivative, minutes, feet) is not read
        inner = _PRIME.sub(OPAQUE, inner)
    inner = _WHOLE_BRACKET.sub(OPAQUE, inner)
    inner = re.sub(r"(?<!\\)\[", "(", re.sub(r"(?<!\\)\]", ")", inner))  # [..] groups in math
    inner = _SIZED.sub(lambda d: "" if d.group(1) == "." else d.group(1), inner)
    inner = re.sub(r"([})])\s+\(", r"\1(", inner)  # "\frac{a}{b} (x)": a product in a formula
    return STOP + _math_products(inner) + STOP


def opaque_commands(text: str) -> str:
    """Every LaTeX command still left after normalization is one we do not read."""
    return _UNKNOWN_CMD.sub(OPAQUE, text) if "\\" in text else text


def _text(m: re.Match[str]) -> str:
    content = m.group(1)
    if any(ch.isdigit() for ch in content):
        return STOP  # "\text{Step 6}", "\text{2 apples}": labels, not claims
    return f" {content} "


def _mixed(m: re.Match[str]) -> str:
    whole, num, den = m.group(1), m.group(2) or m.group(3), m.group(4) or m.group(5)
    if int(num) < int(den):
        return f"({whole}+{num}/{den})"
    return f"{whole}*({num}/{den})"


def _function(m: re.Match[str]) -> str:
    name, arg = m.group(1), next((g for g in m.groups()[1:] if g is not None), "")
    return f" {name}({arg})"


_TRIG_PAREN = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?:\s*\^\s*(?:\{\s*[2-9]\s*\}|[2-9]))?\s*"
                         r"\(([^()]{0,200})\)")
_DEGREE_NUMBER = re.compile(r"(?<![/^.\d\\])(\d{1,4}(?:\.\d{1,4})?)" + _DEGREE_MARK)


def _trig_paren_degrees(m: re.Match[str]) -> str:
    """``\\cos(45^\\circ - 30^\\circ)`` -> ``\\cos(45*pi/180 - 30*pi/180)`` (sums and
    multiples of degrees; an argument that divides or raises to a power is left as it is)."""
    inner = m.group(1)
    if not _DEGREE_NUMBER.search(inner):
        return m.group(0)
    start, end = m.span(1)
    if re.search(r"[/^]\s*$|[/^]\s*\d", inner):  # "x/30°": a quotient of degrees is not read
        return m.group(0)
    new_inner = _DEGREE_NUMBER.sub(r"\1*pi/180", inner)  # no parentheses: one group only
    return m.group(0)[:start - m.start()] + new_inner + m.group(0)[end - m.start():]


def _trig_degrees(m: re.Match[str]) -> str:
    """``\\sin 30^\\circ`` -> ``\\sin(30*pi/180)``: degrees as the radians they are."""
    degrees = m.group(3) or m.group(4) or m.group(5)
    return f"\\{m.group(1)}{m.group(2) or ''}({degrees}*pi/180)"


def _greek(m: re.Match[str]) -> str:
    """``\\theta`` -> ``theta``; after a letter (``\\sin\\theta``, ``x\\theta``) apart from it
    (after a digit it stays glued: ``3\\theta`` is ``3theta``, never a number and a word)."""
    before = m.string[m.start() - 1] if m.start() else ""
    return f" {m.group(1)}" if before.isalpha() else m.group(1)


def _log_base(m: re.Match[str]) -> str:
    base = m.group(1) or m.group(2)
    arg = next((g for g in m.groups()[2:] if g is not None), "")
    return f" log({base}, {arg})"


def _base(m: re.Match[str]) -> str:
    digits, base = m.group(1), int(m.group(2) or m.group(3))
    if not 2 <= base <= 36:
        return m.group(0)
    try:
        return str(int(digits, base))
    except ValueError:
        return OPAQUE  # a digit the base does not have


def _subscript(m: re.Match[str]) -> str:
    sub = (m.group(2) or m.group(3)).replace("+", "p").replace("-", "m").replace(",", "c")
    sub = sub.replace(" ", "")
    return f"{m.group(1)}_{sub}"


def _operator_name(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _FUNCTION_CMD:
        return f"\\{name}"
    if m.group(0).startswith("\\operatorname"):
        return OPAQUE
    return m.group(0)


def _atom_group(m: re.Match[str]) -> str:
    """``{2}`` -> ``2`` unless the group is an argument (after a command or another group), an
    exponent or subscript (after ``^``/``_``) or follows a letter or ``]`` (``\\sqrt[3]{2}``)."""
    text, i = m.string, m.start() - 1
    while i >= 0 and text[i].isspace():  # the last character before it (no prefix copy)
        i -= 1
    before = text[i] if i >= 0 else ""
    if before and (before.isalnum() or before in "}]^_\\'"):
        return m.group(0)
    return m.group(1)


def _fixpoint(pattern: re.Pattern[str], repl: object, text: str) -> str:
    for _ in range(_MAX_PASSES):
        new = pattern.sub(repl, text)  # type: ignore[call-overload]
        if new == text:
            return new
        text = new
    return text


def read_latex(text: str) -> str:
    """Rewrite the LaTeX of ``text`` (see the module docstring); plain text comes back as is."""
    if not has_latex(text):
        return text
    text = _UNIT_POWER.sub(r"\1", text)  # \text{cm}^3: the power belongs to the unit
    text = _OPERATOR_NAME.sub(_operator_name, text)
    text = _LATEX_THOUSANDS.sub(lambda m: re.sub(r"\{,\}|,\\!|\\,", "", m.group(0)), text)
    if "{" in text:
        text = _fixpoint(_DOUBLE_BRACE, r"{\1}", text)
        text = _ATOM_GROUP.sub(_atom_group, text)
    text = _DERIVATIVE.sub(OPAQUE, text)
    if _DIFFERENTIAL_HINT.search(text):
        text = _DIFFERENTIAL.sub(OPAQUE, text)
    text = _INVERSE.sub(OPAQUE, text)
    text = _REPEATING.sub(_repeating, text)
    text = _fixpoint(_FLOOR, lambda m: f" {m.group(1)}({m.group(2)}) " if m.group(1) == m.group(3)
                     else m.group(0), text)
    text = _LIST_DASH.sub(STOP, text)
    if "$" in text:  # before \text{...} is read: prose in a command's braces is math
        text = _currency_dollars(text)
    text = _fixpoint(_TEXT, _text, text)
    text = _MATH_SEGMENT.sub(_segment, text)
    text = _IMPLIES.sub(CONSEQUENCE, text)
    text = _DISPLAY.sub(STOP, text)
    text = _ALIGN.sub(" ", text)
    text = _SPACING.sub(" ", text)
    text = _TRIG_DEGREES.sub(_trig_degrees, text)
    text = _TRIG_PAREN.sub(_trig_paren_degrees, text)
    text = _DEGREES.sub(" ", text)
    text = re.sub(r"(?<=[\d)}])\s*\\pi(?![A-Za-z])", "*pi ", text)  # 4\pi is 4·pi
    text = _PI.sub(" pi ", text)
    text = _COLON_CMD.sub(STOP, text)
    text = _MIXED.sub(_mixed, text)
    text = _fixpoint(_BINOM, lambda m: f"binom({m.group(1) or m.group(3)}, "
                                       f"{m.group(2) or m.group(4)})", text)
    text = _fixpoint(_CHOOSE, r"binom(\1, \2)", text)
    text = _fixpoint(_FUNC_BASE, _log_base, text)
    text = _GREEK.sub(_greek, text)
    text = _ANGLE.sub(r" angle_\1", text)
    text = _fixpoint(_FUNC_SQUARED, _func_power, text)
    text = _FUNC_POWER.sub(OPAQUE, text)  # \sin^2 x: not read
    text = _fixpoint(_FUNC_CALL, _function, text)
    text = _FUNC_LEFT.sub(OPAQUE, text)  # a function whose argument we cannot delimit
    text = _TRUNCATED.sub(r"\1…", text)  # "3.363...": digits cut off, not rounded
    text = _PLUS_MINUS.sub(lambda m: " ± " if m.group(1) == "pm" else " ∓ ", text)
    text = _OPAQUE_CMD.sub(OPAQUE, text)
    text = _BASE.sub(_base, text)
    text = _SUBSCRIPT.sub(_subscript, text)
    if "!" in text:
        text = _POWER_FACTORIAL.sub(lambda m: m.group(1) + OPAQUE, text)
    text = _FACTORIAL_EQ.sub("! =", text)  # LaTeX writes \neq: "5!=120" is a factorial
    text = _FACTORIAL.sub("!", text)
    if _RATIO_CHAIN.search(text):
        text = re.sub(r"(?<=[\w)}])\s*:\s*(?=[\w({])", OPAQUE, text)
    return text
