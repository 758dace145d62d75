"""How a claim is read: asserted, or only supposed, tried, offered as an alternative, or a case.

A step says many equations it does not assert: ``if G = 13, then ...``, ``we can set x = 0``,
``x = 7 or x = -2``, ``For n = 1 ... For n = 2``, ``Case 1: ...``, and the false equation a
reductio derives on purpose (``... 9 = 10, a contradiction``). Each claim carries its reading;
only the asserted readings (:data:`ASSERTED`) may refute a step. The clause of a claim is the
text from the last sentence or clause boundary before it; its markers decide the reading.
Everything here is a bounded scan of the step text with linear patterns.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from formalizer.hints import absent

# how a claim was read; the first five assert, the rest do not ("endpoint": a range's end,
# "up to x = 5")
# "rejected": the text itself calls the claim false ("1 + 3 > 6: False", "does not satisfy
# 6 <= 41 < 6^2", "... This inequality does not hold.")
READINGS: tuple[str, ...] = ("annotation", "equation", "chain", "display", "binding",
                             "hypothesis", "case", "alternative", "reductio", "endpoint",
                             "rejected")
ASSERTED = frozenset(READINGS[:5])

# "[.!?](?:\s|$)|\n\s*\n", its first character consumed before the branches so that a scan
# skips to the next candidate character
_SENTENCE_END = re.compile(r"[.!?\n](?:(?<=[.!?])(?:\s|$)|(?<=\n)\s*\n)")
# where a consequence starts: what follows asserts (under the clause's supposition)
_CONSEQUENCE = re.compile(
    r"\bthen\b|\bwe (?:get|have|obtain|find|see|know)\b|\bgives?\b|\byields?\b|"
    r"\bso\b|\bthus\b|\bhence\b|\btherefore\b|\bwhich means\b|\bimplies\b|:", re.IGNORECASE)
_HYPOTHESIS = re.compile(
    r"\b(?:if|suppose|supposing|assume|assuming|let's (?:try|test|check|say|set|assume|suppose|"
    r"pick|choose|take|plug|substitute|consider)|we (?:can|could|may|might) (?:set|take|choose|"
    r"try|let|assume|pick|say|put)|try|trying|tries|tried|test|testing|guess|plug(?:ging)? in|"
    r"set|setting|putting|letting|"
    r"for example|for instance|e\.g\.|say|consider|whether|would|hypothetically|choose|choosing|"
    r"pick|picking|plug|plugging|substitut\w*|"
    r"if we|when|whenever|where|for which|such that|satisf\w*|for (?:all|every|each|some|any)|"
    r"given that|provided|from|ranges?|between|condition\w*|constraints?|"
    r"need to (?:find|solve|determine)|to (?:find|solve|determine)|"
    r"find (?:the |all )?(?:roots?|solutions?|zeros?)|solve|solving)\b", re.IGNORECASE)
# "the line y = 3", "the circle x^2 + y^2 = 1": an equation that names an object
_OBJECT = re.compile(r"\b(?:line|lines|curve|parabola|circle|plane|graph|hyperbola|ellipse|axis|"
                     r"equation|equations|function|polynomial|expression|inequality)\W{0,8}$",
                     re.IGNORECASE)
# "to the right of x = 1", "the intersection of x + y = 1 and y + z = 1": an equation that names
# a locus (a line, a plane) by where it stands or what it meets
_LOCUS = re.compile(r"\b(?:(?:right|left)\s+of|above|below|along|intersect\w*\s+(?:of|with|"
                    r"between)(?:[^.!?:\n]{0,100}?(?:\band|,))?)\W{0,8}$", re.IGNORECASE)
_CASE = re.compile(r"\b(?:case|subcase)\b|^\W*(?:for|when|with)\b", re.IGNORECASE)
# "for a = 3", "when x = 2", "at t = 5", "using d = 71": a letter given a value right after
# the word
_CASE_TAIL = re.compile(r"\b(?:for|when|with|at|using|use|taking|take)\W{0,8}$", re.IGNORECASE)
# "for log(10, y) = -2: y = 0.01", "for sin x = 1/2, x = 30": a relation in names between
# "for"/"when" and a colon or comma labels a case, whatever the form of its left side
_LABEL_COLON = re.compile(r"[\s;)]*[:,](?![=:])")
_CASE_OPENING = re.compile(r"\W*(?:case|subcase)\s*\w{0,3}\s*[:.)]", re.IGNORECASE)
# "... the solutions: First, for u = 0: log x = 0 => x = 1": a case opened inside the sentence;
# what follows holds in that case only (its bindings must not reach the next case)
_CASE_LABEL = re.compile(r"\b(?:for|when|if|with)\W{0,8}[A-Za-z](?:_\w+)?\s*=\s*[^:;=.]{1,30}?"
                         r"[\s;]*:", re.IGNORECASE)
_NAMED_VALUE = re.compile(r"\s*[A-Za-z](?:_\w+)?\s*(?:=|<|>|!=)")
# "the area up to x = 5", "from t = 0 to t = 3", "until n = 10": a range's endpoint, not a value
_ENDPOINT = re.compile(r"\b(?:up to|until|till|through|from|to|between|and)\W{0,8}$",
                       re.IGNORECASE)
_RANGE_WORD = re.compile(r"\b(?:up to|until|till|from|between|interval|range)\b", re.IGNORECASE)
_ALTERNATIVE = re.compile(r"\bor\b|\beither\b|\bsolutions?\b|\broots?\b", re.IGNORECASE)
_VALUE_LIST = re.compile(r"^\s*,\s*-?\s*\d")
# "x = 3 and x = 5 are (the) roots", "x = 1, x = 2 are solutions": values offered as the members
# of a set, each one alone, never at once
_MEMBERS_AFTER = re.compile(
    r"^[^.!?:]{0,80}?\b(?:are|were|as|be|being|is|gives?|yields?)\s+(?:the\s+|its\s+|both\s+|"
    r"a\s+|an\s+|one\s+|another\s+|also\s+|"
    r"two\s+|three\s+|all\s+|possible\s+|distinct\s+|real\s+|only\s+|integer\s+|valid\s+)*"
    r"(?:roots?|solutions?|zeros?|zeroes|candidates?|possibilities|possible values|values)\b",
    re.IGNORECASE)
_LEFT_NAME = re.compile(r"[\s;]*([A-Za-z](?:_\w+)?)\s*=(?!=)")
_REDUCTIO = re.compile(
    r"\bcontradict\w*|\bimpossible\b|\bnot possible\b|\babsurd\b|\bcannot\b|\bcan't\b|"
    r"\bnot (?:valid|true|a solution|an integer|satisfy|work|correct|equal)\b|\bdoes not\b|"
    r"\bdoesn't\b|\bisn't\b|\bfails?\b|\binvalid\b|\bno solutions?\b|\bnot hold\b|"
    r"\b(?:is|are|was|were)\s+not\b|\bfalse\b|\bextraneous\b|\bnot satisf\w*",
    re.IGNORECASE)
_MAX_SCAN = 400
MAX_SCAN_TEXT = 20_000


# words one of which every match of a pattern below contains (see formalizer.hints)
_CONSEQUENCE_HINTS = ("then", "we ", "give", "yield", "so", "thus", "hence", "therefore",
                      "which means", "implies", ":")
_HYPOTHESIS_HINTS = (
    "if", "suppos", "assum", "let's ", "we ", "try", "tri", "test", "guess", "plug", "set",
    "putting", "letting", "for", "e.g.", "say", "consider", "whether", "would", "hypothetical",
    "choos", "pick", "substitut", "when", "where", "such that", "satisf", "given that",
    "provided", "from", "range", "between", "condition", "constraint", "find", "solv", "determine")
_LOCUS_HINTS = ("right", "left", "above", "below", "along", "intersect")
_REDUCTIO_HINTS = ("not", "contradict", "impossible", "absurd", "n't", "fail", "invalid",
                   "no solution", "false", "extraneous")
_REJECTED_BEFORE_HINTS = ("satisf", "meet", "hold", "violat", "mistake", "error", "wrong",
                          "discard", "reject", "exclud", "eliminat", "out", "dismiss",
                          "incorrect")
_CONDITION_HINTS = ("if", "suppos", "assum", "in case", "set", "plug", "try", "test", "for",
                    "consider", "condition", "starting", "ranging", "range", "up to", "until")
# the longest match of an end-anchored prefix pattern (_OBJECT, _CASE_TAIL), with a margin: a
# search of the prefix's last _TAIL characters finds what a search of the whole prefix finds
_TAIL = 32


def _clause_start(text: str, start: int) -> tuple[int, int]:
    """(sentence start, clause start) of the position ``start`` in ``text``."""
    lo = max(0, start - _MAX_SCAN)
    sentence = lo
    for m in _SENTENCE_END.finditer(text, lo, start):
        sentence = m.end()
    clause = sentence
    if absent(_CONSEQUENCE_HINTS, text, sentence, start):
        return sentence, clause
    for m in _CONSEQUENCE.finditer(text, sentence, start):
        clause = m.end()
    return sentence, clause


_REDUCTIO_STEP = re.compile(
    r"\(false\)|\bis false\b|\bextraneous\b|\bnot a (?:valid )?solution\b|"
    r"\bdo(?:es)? not satisfy\b|\bdoesn't satisfy\b|\bcontradiction\b|\bimpossible\b",
    re.IGNORECASE)


_REDUCTIO_STEP_HINTS = ("false", "extraneous", "solution", "satisf", "contradiction",
                        "impossible")


def reductio_step(step: str) -> bool:
    """A step that tries a value and rejects it (``... 2 + 1 = 1 (False)``, ``extraneous``):
    the equations it shows are the trial's, not asserted."""
    head = step[:20_000]
    return not absent(_REDUCTIO_STEP_HINTS, head) and bool(_REDUCTIO_STEP.search(head))


_STEP_OPENING = re.compile(r"\W{0,6}(?:\w+ly,?\s+|(?:first|second|third|next|finally),?\s+)?",
                           re.IGNORECASE)


def _inner_case(text: str, sentence: int, start: int) -> bool:
    """A case label (``for u = 0:``) before ``start`` in its sentence, not at the step's opening
    (a step that opens with its case is scoped as a whole by the checker)."""
    if text.find(":", sentence, start) < 0 or text.find("=", sentence, start) < 0:
        return False  # every case label holds both
    for m in _CASE_LABEL.finditer(text, sentence, start):
        if not _STEP_OPENING.fullmatch(text, 0, m.start()):
            return True
    return False


# where a supposition's bindings end: a sentence end, a paragraph break or a new list item (the
# lexical pass writes a list dash as the stop ";")
_SCOPE_END = re.compile(r"[.!?\n](?:(?<=[.!?])(?:\s|$)|(?<=\n)\s*\n"
                        r"|(?<=\n)[ \t]*(?:;|[-*\u2022]\s|\d+[.)]\s))")
# a supposition (not a reference to a fact such as "from (1)", "where", "given that"): what the
# rest of its sentence binds holds under it only
_CONDITION = re.compile(
    r"\b(?:if|suppose|supposing|assume|assuming|in case|set|setting|plug|plugging|try|trying|"
    r"test|testing|for example|for instance|consider|conditions?|starting|ranging|ranges?|"
    r"up to|until|"
    r"for\s+(?:a|an|the|this|that|it|us)?\s*\w+\s+to)\b", re.IGNORECASE)
_CASE_WORD = re.compile(r"\b(?:for|when|whenever|at|with)\b", re.IGNORECASE)
SUPPOSED = frozenset(("hypothesis", "case"))
# a step that opens with its case label ("Second, for k = 2:", "When x = 1:")
_CASE_STEP_LABEL = re.compile(r"[\W_]{0,6}(?:\w+ly,?\s+|(?:first|second|third|next|finally),?\s+)?"
                              r"(?:for|when)\b[^:\n.]{1,60}?:(?![=:])", re.IGNORECASE)


def sentence_ends(text: str) -> list[int]:
    """Offsets in ``text`` where a sentence (a supposition's scope) ends, in order."""
    return [m.end() for m in _SCOPE_END.finditer(text[:MAX_SCAN_TEXT])]


def conditional(text: str, ends: list[int], start: int, reading: str) -> tuple[int, bool]:
    """(sentence index, conditional) of a claim starting at ``start``: conditional when it is
    a case or follows a supposition in its sentence (``If r <= n, then x_r = 1``, ``Set x = 0,
    then y = 2``, ``For a plane to pass through the origin, ... d = 0``). A conditional claim's
    bindings, and those of the rest of its sentence, end with the sentence (a claim read as a
    hypothesis after "from", "where", "given that" keeps its step scope). ``ends`` is
    :func:`sentence_ends` of ``text``."""
    index = bisect_right(ends, start)
    if _opens_with_case(text):
        # "Second, for k = 2:\n- 2k = 4\n- ...": the step opens with its case label, so the
        # whole step is one scope (its list items are the case's), restored at the step's end
        index = 0
    sentence = ends[index - 1] if index else 0
    return index, reading == "case" or (not absent(_CONDITION_HINTS, text, sentence, start)
                                        and bool(_CONDITION.search(text, sentence, start))) or (
        reading in SUPPOSED and bool(_CASE_WORD.search(text, sentence, start)))


@lru_cache(maxsize=8)
def _opens_with_case(text: str) -> bool:
    """Whether the step opens with its case label (:data:`_CASE_STEP_LABEL`); asked once per
    claim of the same step text, so the last few answers are kept."""
    return bool(_CASE_STEP_LABEL.match(text))


# a condition that only describes a set ("the number of n such that n!! divides 2012!!"),
# and the copula right before the claim that states what the set's count or member is
_SET_CONDITION = re.compile(r"such that|for which|where|satisf\w*", re.IGNORECASE)
_COPULA_BEFORE = re.compile(r"\b(?:is|are|was|were|equals?)\W{0,6}$", re.IGNORECASE)


def _supposes(prefix: str, ground: bool) -> bool:
    """Whether the clause ``prefix`` before a claim supposes (:data:`_HYPOTHESIS`), except where
    the claim is ``ground``, the clause's only markers describe a set and a copula then states
    the claim ("the number of integers n such that n!! divides 2012!! is 2011 - 1 + 1 = 1006":
    a computation asserted, not supposed). A claim with names stays supposed there ("such that
    the total is x + 3 = 10" is the condition to solve)."""
    found = [m.group(0) for m in _HYPOTHESIS.finditer(prefix)]
    if not found:
        return False
    return not (ground and _COPULA_BEFORE.search(prefix) and all(
        _SET_CONDITION.fullmatch(word) for word in found))


def claim_reading(text: str, start: int, end: int, ground: bool = False) -> str:
    """The reading of the claim spanning ``text[start:end]`` (``equation`` when asserted).
    ``ground``: the claim has no names, so a case opened earlier in its sentence does not make
    it a supposition (``For n = 2: 2^2 + 1 = 6`` is false in every case)."""
    sentence, clause = _clause_start(text, start)
    prefix = text[clause:start]
    stop = _SENTENCE_END.search(text, end, min(len(text), end + _MAX_SCAN))
    sentence_text = text[sentence:stop.start() if stop else min(len(text), end + _MAX_SCAN)]
    if _rejected(text, sentence, start, end):
        return "rejected"
    if not absent(_REDUCTIO_HINTS, sentence_text) and _REDUCTIO.search(sentence_text):
        return "reductio"
    tail = prefix[-_TAIL:]
    if (not absent(_HYPOTHESIS_HINTS, prefix) and _supposes(prefix, ground)) or (
            _OBJECT.search(tail)) or (
            not absent(_LOCUS_HINTS, prefix) and _LOCUS.search(prefix)) or (
            _asked(text, sentence, start, end)) or (
            ground and _corrected(text, start, end)):
        return "hypothesis"
    if _CASE.search(prefix) or (_CASE_TAIL.search(tail) and (
            _NAMED_VALUE.match(text, start) or (not ground and _LABEL_COLON.match(text, end)))) or (
            _CASE_OPENING.match(text, sentence)) or (
            not ground and _inner_case(text, sentence, start)):
        return "case"
    after = text[end:end + 40]
    before = text[max(clause, start - 40):start]
    if _NAMED_VALUE.match(text, start) and _ENDPOINT.search(before) and (
            _RANGE_WORD.search(text, max(sentence, start - 80), start)):
        return "endpoint"
    if _VALUE_LIST.match(after) or _ALTERNATIVE.search(before) or re.match(
            r"\s*(?:or|either)\b", after, re.IGNORECASE) or _two_values(text, start, end) or (
            _VALUE_CLAIM.fullmatch(text, start, end) and _OR_AFTER.match(after)):
        return "alternative"
    return "equation"


# "\(A = 1\), \(R = 4\) or \(A = 4\), \(R = 1\)": a stated value (alone or with the other values
# of its tuple) followed by "or" across math edges (which the lexical pass writes as " ; "); "or"
# after any other equation may restate it ("1 = 806 + 155b + 65c or -805 = 155b + 65c")
_VALUE_CLAIM = re.compile(r"\s*[A-Za-z](?:_\w+)?\s*=\s*-?\s*\d+(?:\.\d+)?\s*")
_OR_AFTER = re.compile(r"(?:[\s;)]*,[\s;]*[A-Za-z](?:_\w+)?\s*=\s*-?\s*\d+(?:\.\d+)?[\s;]*)*"
                       r"[\s;),]*(?:or|either)\b", re.IGNORECASE)
# the text calls this very claim false, right after it ("1 + 3 > 6: False", "2 + 2 = 5 (false)",
# "... is not true") or right before it ("does not satisfy the condition 6 <= 41 < 6^2")
_REJECTED_AFTER = re.compile(
    r"[\s;)\]]*(?:[:,(\u2014\u2013-]\s*)?(?:(?:which\s+)?(?:is|are)\s+)?(?:false|untrue|not true|"
    r"invalid|not valid|incorrect|not satisfied|does not hold|doesn't hold|never holds|wrong|"
    r"not correct|not right|mistaken|erroneous|(?:a|an)\s+(?:mistake|error)|"
    # "x = -1 is rejected", "y = -2 (discarded)": a candidate the text throws out
    r"rejected|discarded|excluded|ruled\s+out|eliminated|not\s+allowed|not\s+acceptable|"
    r"inadmissible)\b",
    re.IGNORECASE)
_REJECTED_BEFORE = re.compile(
    r"\b(?:(?:does|do|did)\s*n[o']t|cannot|can't|fails?\s+to|never)\s+(?:satisf\w*|meet|hold)"
    r"(?:\s+(?:the|this|that|its|our)(?:\s+\w+)?\s+(?:conditions?|inequalit\w+|equations?|"
    r"constraints?|requirements?|relations?))?[\s:;]*$"
    r"|\bviolat(?:es?|ed|ing)(?:\s+(?:the|this|that|its|our)(?:\s+\w+)?\s+(?:conditions?|inequalit\w+|"
    r"equations?|constraints?))?[\s:;]*$"
    # "A common mistake is to write 5 + 3 = 9", "one might wrongly conclude that": the text
    # reports a wrong claim, it does not make it
    r"|\b(?:mistakes?|errors?|wrong(?:ly)?|incorrect(?:ly)?|mistakenly)\b[^.;!?]{0,40}?\b(?:"
    r"writ(?:e|es|ing|ten)|wrote|say(?:s|ing)?|said|claim(?:s|ed|ing)?|think(?:s|ing)?|"
    r"thought|conclud(?:e|es|ed|ing)|get(?:s|ting)?|got|assum(?:e|es|ed|ing))\b"
    r"(?:\s+that)?[\s:;]*$"
    # "we discard y = -1", "rejecting the negative root x = -3", "ruling out n = 0": a candidate
    # the text throws out, not a value it asserts
    r"|\b(?:discard(?:s|ed|ing)?|reject(?:s|ed|ing)?|exclud(?:e|es|ed|ing)|"
    r"eliminat(?:e|es|ed|ing)|rul(?:e|es|ed|ing)\s+out|throw(?:s|ing)?\s+out|threw\s+out|"
    r"dismiss(?:es|ed|ing)?)\b(?:\s+(?:the|this|that|a|an|its|our))?"
    r"(?:\s+(?:negative|positive|extraneous|invalid|other|second|first|larger|smaller|"
    r"non-integer|non-real|complex|fractional|root|roots|solutions?|values?|cases?|"
    r"possibilit(?:y|ies)|options?|answers?|candidates?)){0,3}[\s:,;]*$", re.IGNORECASE)
# a later sentence that denies what was just shown ("This inequality does not hold true."), not
# what it speaks of ("This case doesn't satisfy the condition": the case fails, not the claim)
_DENIAL = re.compile(
    r"\s*(?:this|that|these|those|it|which)\s+(?:(?:last|first|above|final|given|inequalit\w+|"
    r"equations?|relations?|statements?|claims?|results?|conditions?)\s+){0,2}(?:also\s+|still\s+)?"
    r"(?:(?:does|do)\s*n[o']t\s+(?:hold|work|satisfy)|(?:is|are)\s*n[o']t\s+(?:true|correct|"
    r"valid|satisfied)|(?:is|are)\s+(?:false|incorrect|invalid)|fails?\b)", re.IGNORECASE)
# a word of prose (not a function name of the prepared math)
_PROSE_WORD = re.compile(r"\b(?!(?:sqrt|log|ln|sin|cos|tan|cot|sec|csc|binom|floor|ceil|residue|"
                         r"factorial|exp|abs|mod|gcd|lcm|pi)\b)[A-Za-z]{3,}")


def _rejected(text: str, sentence: int, start: int, end: int) -> bool:
    """The text says the claim is false: a verdict right after it (``: False``, ``(not
    valid)``), a negated verb right before it (``does not satisfy the condition``), or a
    denial (``This inequality does not hold``) opening the next sentence with nothing but math
    between the claim and it."""
    if _REJECTED_AFTER.match(text, end):
        return True
    before = max(sentence, start - 120)
    if not absent(_REJECTED_BEFORE_HINTS, text, before, start) and (
            _REJECTED_BEFORE.search(text, before, start)):
        return True
    window = text[end:end + 300]
    for m in _SENTENCE_END.finditer(window):
        if _PROSE_WORD.search(window, 0, m.start()):
            return False  # prose between: the denial speaks of something else
        if _DENIAL.match(window, m.end()):
            return True
    return False


# "Is 2 + 2 = 5? No.", "Does 3^2 + 4^2 = 26 hold?", "so 14 * 71 = 999?": a claim asked about
_QUESTION_MARK = re.compile(r"[\s;)]*\?(?:\s|$)")
_QUESTION = re.compile(r"[\s;)]*[^.!?;\n]{0,60}?\?(?:\s|$)")
_INTERROGATIVE = re.compile(r"\W*(?:is|does|do|are|can|could|would|will|should|was|were|did)\b",
                            re.IGNORECASE)


def _asked(text: str, sentence: int, start: int, end: int) -> bool:
    """A claim the text asks about rather than asserts: a question mark right after it, or a
    sentence that opens with an interrogative (``Is``, ``Does``) and ends on ``?`` soon after."""
    return bool(_QUESTION_MARK.match(text, end)) or (
        bool(_INTERROGATIVE.match(text, sentence, start)) and bool(_QUESTION.match(text, end)))

_LAST_VALUE = re.compile(r"=\s*(-?\s*\d+(?:\.\d+)?)\s*$")
# "..., which simplifies to 14 * 71 = 994": the same sentence works the claim out to a value
_WORKED_OUT = re.compile(
    r"[\s;]*,?[\s;]*(?:which|that|this|it)\s+(?:simplifies|reduces|evaluates|works out|comes out|"
    r"becomes|gives|yields)\s*(?:to\b)?\s*:?[^=<>.!?;]{1,80}?=\s*(-?\s*\d+(?:\.\d+)?)(?![\d.]\d)",
    re.IGNORECASE)


def _corrected(text: str, start: int, end: int) -> bool:
    """``we get 0 + 14 * 71 = 999, which simplifies to 14 * 71 = 994``: a ground claim ending
    in a number that its own sentence works out to another number is the equation put to the
    test (a trial the text shows failing), not an assertion of it."""
    claimed = _LAST_VALUE.search(text, start, end)
    worked = _WORKED_OUT.match(text, end)
    if claimed is None or worked is None:
        return False
    return float(claimed.group(1).replace(" ", "")) != float(worked.group(1).replace(" ", ""))


_MEMBERS = re.compile(r"\b(?:solutions?|roots?|values|possibilities|candidates|zeros|zeroes|"
                      r"options)\b[^.!?:=]{0,40}$", re.IGNORECASE)


def _listed_member(text: str, start: int) -> bool:
    """``we get two solutions:\n- a = 3\n- a = -3``, ``two possible values for n: First,
    n = 0 and Second, n = 4``: a value in a list that a colon opens after "solutions",
    "roots", "values" (in the same sentence)."""
    colon = text.rfind(":", max(0, start - 160), start)
    if colon < 0 or re.search(r"[.!?](?:\s|$)", text[colon:start]):
        return False
    return bool(_MEMBERS.search(text, max(0, colon - 80), colon))


def _two_values(text: str, start: int, end: int) -> bool:
    """``x = 3 and x = 5 are roots``, ``x = 3 and x = 5``: the claim's letter is given another
    value right beside it (joined by ``and``/``,``/``or``), or the values are called the members
    of a set (roots, solutions): alternatives, never simultaneous bindings."""
    name = _LEFT_NAME.match(text, start)
    if name is None:
        return False
    letter = re.escape(name.group(1))
    after = text[end:end + 120]
    if _MEMBERS_AFTER.match(after) or _listed_member(text, start):
        return True
    joined = r"[\s;]*,?[\s;]*\b(?:and|or)\b[\s;]*"
    value = r"\s*=\s*-?\s*\d+(?:\.\d+)?(?:\s*/\s*\d+)?"
    if re.match(joined + letter + value + r"(?![\w(*/^+-])", after):
        return True
    before = text[max(0, start - 60):start]
    other = re.search(r"(?<![\w\\])" + letter + value + joined + "$", before)
    # the other value's letter stands alone, not as a factor ("2x = 12 and x = 6" derives)
    return other is not None and not re.search(r"[\d*/^+\-.)]\s*$", before[:other.start()])
