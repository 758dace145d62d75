"""What one solution knows while it is checked, and the pure rules that read a relation in it.

:class:`Scope` holds the names of one solution (ground values, symbolic constraints, declared
unknowns, names bound for one step only); :class:`Context` says where a relation stands (its
claim, its step, whether the step speaks hypothetically, whether the relation rewrites inside a
chain); :class:`Outcome` is what checking one relation gave. The helpers here decide nothing with
a solver: they read bindings, definitions and reuse of letters from the syntax and exact values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from prover.arith.ast import Bin, Expr, Neg, Num, Relation, Var, variables
from prover.arith.check import Premises, check_ground
from prover.arith.evaluate import DivisionByZeroError, evaluate
from prover.records.verdicts import UnknownReason, Verdict, unknown


@dataclass
class Scope:
    """Names known in one solution: ground values, symbolic constraints, declared unknowns."""

    premises: Premises
    unknowns: set[str] = field(default_factory=set)
    history: set[str] = field(default_factory=set)  # names bound or constrained before this step
    scoped: set[str] = field(default_factory=set)  # names bound by a supposition in this step
    reused: set[str] = field(default_factory=set)  # letters bound to two different values
    imaginary: bool = False  # the solution uses i as the imaginary unit
    undefined: set[str] = field(default_factory=set)  # bound to an undefined value (1/0)
    # the values a supposition gave a letter that holds another value outside it
    supposed: dict[str, set[Fraction]] = field(default_factory=dict)
    sentence: int = -1  # the sentence of the claim checked last (RawClaim.sentence)
    saved: Snapshot | None = None  # the scope before this sentence's first supposition

    def at_claim(self, sentence: int, conditional: bool) -> None:
        """Call before checking each claim of a step, with its ``RawClaim.sentence`` and
        ``RawClaim.conditional``: a new sentence ends the previous one (:meth:`end_sentence`);
        the first conditional claim of a sentence saves the scope, so what the supposition and
        its consequences bind (``If r <= n, then x_r = 1``) ends with the sentence."""
        if sentence != self.sentence:
            self.end_sentence()
            self.sentence = sentence
        if conditional and self.saved is None:
            self.saved = Snapshot.of(self)

    def end_sentence(self) -> None:
        """Undo what was bound or constrained since the sentence's first supposition; call at
        the end of each step too (before its step-scoped names are forgotten)."""
        if self.saved is not None:
            self.saved.restore(self)
        self.saved = None
        self.sentence = -1

    def forget(self, names: set[str]) -> None:
        """Drop what is known about ``names`` (a new hypothesis or definition reuses them)."""
        if not names:
            return
        for name in names:
            self.premises.values.pop(name, None)
        self.unknowns -= names
        self.undefined -= names
        self.premises.constraints = [c for c in self.premises.constraints
                                     if not variables(c) & names]


@dataclass(frozen=True)
class Snapshot:
    """What a :class:`Scope` knew before a supposition: restored when its sentence ends."""

    values: dict[str, Fraction]
    constraints: list[Relation]
    unknowns: frozenset[str]
    scoped: frozenset[str]
    reused: frozenset[str]
    undefined: frozenset[str]

    @classmethod
    def of(cls, scope: Scope) -> Snapshot:
        return cls(dict(scope.premises.values), list(scope.premises.constraints),
                   frozenset(scope.unknowns), frozenset(scope.scoped), frozenset(scope.reused),
                   frozenset(scope.undefined))

    def restore(self, scope: Scope) -> None:
        """Back to the saved scope; a letter the supposition gave a value is marked reused, so
        a later binding of it holds for its step only (as a case step's bindings do)."""
        values = scope.premises.values
        scope.reused |= {name for name in values if self.values.get(name) != values[name]}
        for name, value in values.items():
            if name in self.values and self.values[name] != value:
                scope.supposed.setdefault(name, set()).add(value)
        scope.premises.values.clear()  # in place: the premises object may be shared
        scope.premises.values.update(self.values)
        scope.premises.constraints[:] = self.constraints
        scope.unknowns = set(self.unknowns)
        scope.scoped = set(self.scoped)
        scope.reused |= self.reused  # a letter seen with two values stays a caution
        scope.undefined = set(self.undefined)


@dataclass(frozen=True)
class Context:
    """Where a relation stands: its claim text and index in the chain, its step, and whether
    the step speaks hypothetically (if/let/suppose) or the relation rewrites within a chain."""

    raw_text: str
    index: int
    step_text: str
    hypothetical: bool
    identity: bool
    asserted: bool = True


@dataclass(frozen=True)
class Outcome:
    """What one relation is (``claim``, ``definition``, ``constraint``), its verdict (None for
    what only binds), the backend that decided it and the name it binds."""

    kind: str
    verdict: Verdict | None
    backend: str
    binds: str | None = None


NEGATION = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
DECLARATION = re.compile(
    r"\b(?:let|call|denote|say)\b[^.=;]*?\b(?:be|as|by|is)\s+([A-Za-z])"
    r"(?=\s*(?:[.,;:]|$|\s+(?:and|then|so|for|to)\b))"
    r"|\blet\s+([A-Za-z])\s+(?:be|represent|denote|stand)\b"
    r"|\b([A-Za-z])\s+(?:represents?|denotes?|stands? for)\b", re.IGNORECASE)
HYPOTHETICAL = re.compile(
    r"\b(if|suppose|assume|let|let's|say|case|cases|consider|considering|whenever|when|try|"
    r"trying|test|testing|choose|pick)\b|\bfor\s*[\\(\[$ ]*\s*[A-Za-z](?:_\w+)?\s*[=<>≤≥]",
    re.IGNORECASE)
# words one of which every match of DECLARATION, HYPOTHETICAL contains (formalizer.hints)
DECLARATION_HINTS = ("let", "call", "denot", "say", "represent", "stand")
HYPOTHETICAL_HINTS = ("if", "suppos", "assum", "let", "say", "case", "consider", "when",
                      "try", "test", "choose", "pick", "for")
# a step that opens a case ("For \(\log_2 x = 6\): ...", "Case 2: ...", "If n = 3, ..."): its
# bindings hold for that step only
CASE_STEP = re.compile(r"^\W{0,6}(?:\w+ly,?\s+|(?:first|second|third|next|finally),?\s+)?"
                        r"(?:for|when|if|case|suppose|assume|consider|in the case|subcase)\b",
                        re.IGNORECASE)


def ground_value(expr: Expr, values: dict[str, Fraction]) -> Fraction | None:
    try:
        return evaluate(expr, values)
    except (ArithmeticError, ValueError, KeyError):
        return None


def undefined_binding(rel: Relation, scope: Scope) -> Outcome | None:
    """``Let x = 1/0``: the binding is refuted (a zero denominator) and binds nothing usable, so
    every later claim on ``x`` is ``unknown: division-by-zero``; None for any other relation."""
    used = variables(rel) & scope.undefined
    if isinstance(rel.left, Var) and rel.op == "=" and rel.left.name not in variables(rel.right):
        try:
            evaluate(rel.right, scope.premises.values)
        except DivisionByZeroError as err:
            scope.forget({rel.left.name})
            scope.undefined.add(rel.left.name)
            return Outcome("definition", Verdict(
                "refuted", evidence={"division_by_zero": err.term},
                detail="a denominator is zero: the name is bound to no value"), "exact",
                rel.left.name)
        except (ArithmeticError, ValueError, KeyError):
            pass  # not ground: a claim, unknown when it uses an undefined name
        else:
            return None  # a fresh definition of the name
    if used:
        return Outcome("claim", unknown(UnknownReason.DIVISION_BY_ZERO, (
            f"{', '.join(sorted(used))} was bound to an undefined value (a zero denominator)")),
            "exact")
    return None


def holds_as_supposed(rel: Relation, scope: Scope) -> bool:
    """Does a ground relation hold when one of its letters takes, instead of its value in
    scope, a value a supposition gave it (``x = 3``; ``consider the case x = 7``; ``x + 2 =
    9``)? Such a claim may speak of the supposed case, so its refutation is no error."""
    values = scope.premises.values
    for name in sorted(variables(rel) & scope.supposed.keys()):
        for value in scope.supposed[name]:
            try:
                verdict = check_ground(rel, {**values, name: value})
            except (ArithmeticError, ValueError):
                continue
            if verdict is not None and verdict.is_verified:
                return True
    return False


NEW_MEANING = unknown(UnknownReason.NOT_CHECKED, (
    "contradicts earlier equations in the same names, which competition text often reuses "
    "for another case or meaning: read as a new meaning, not as an error"))


def literal(expr: Expr) -> bool:
    """A stated number: ``5``, ``-2.5``, or a fraction of two whole numbers (``1/4``,
    ``\\frac{1}{4}``, ``-1/2``), as a value is written as often as a decimal."""
    if isinstance(expr, Neg):
        expr = expr.arg
    if isinstance(expr, Bin) and expr.op == "/":
        top, bottom = expr.left, expr.right
        return (isinstance(top, Num) and isinstance(bottom, Num) and top.value.denominator == 1
                and bottom.value.denominator == 1 and bottom.value != 0)
    return isinstance(expr, Num)


def states_a_value(rel: Relation) -> bool:
    """``x = 3`` (a name and a number): a stated solution value, which may contradict what the
    solution derived before; any other relation in unknowns is read as a further condition."""
    return rel.op == "=" and ((isinstance(rel.left, Var) and literal(rel.right)) or (
        isinstance(rel.right, Var) and literal(rel.left)))


def reuses(rel: Relation, premises: Premises) -> bool:
    """May a contradiction of ``rel`` be a reuse of its letters rather than an error? Yes when
    earlier conditions speak of its names (another case or meaning), and when nothing does and
    the names are real (``x^2 + 4x + 5 = 0`` is an equation under study with no real root,
    not a false statement); no for names the text declares integers (``2n = 7``)."""
    names = variables(rel)
    if any(variables(c) & names for c in premises.constraints):
        return True
    return not premises.integer


def fresh_definition(rel: Relation, free: set[str], scope: Scope) -> str | None:
    """The name a relation ``N = expr`` (or ``expr = N``) introduces, when ``N`` is new to the
    solution and absent from ``expr``: a definition of a quantity, never a claim."""
    if rel.op != "=":
        return None
    for side, other in ((rel.left, rel.right), (rel.right, rel.left)):
        if isinstance(side, Var) and side.name in free and side.name not in scope.unknowns and (
                side.name not in scope.history) and side.name not in variables(other):
            return side.name
    return None


def unasserted(outcome: Outcome, reading: str, asserted: bool) -> Outcome:
    """A refutation of a claim the text does not assert (a supposition, a case, an alternative,
    a reductio) is no claim that the text is wrong: it becomes ``unknown: not-checked``."""
    verdict = outcome.verdict
    if asserted or verdict is None or verdict.kind != "refuted":
        return outcome
    evidence = dict(verdict.evidence)
    evidence["reading"] = reading
    return Outcome(outcome.kind, Verdict("unknown", UnknownReason.NOT_CHECKED, evidence=evidence,
                                          detail=f"false as written, but read as a {reading}: "
                                                 "not asserted by the text"),
                    outcome.backend, outcome.binds)
