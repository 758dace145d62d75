"""A Lean 4 lexer-level reader for submitted proofs: tokens with comments and string literals
removed, top-level commands split by where they stand, and the source lint on TOKENS.

The lexer drops ``--`` line comments, nested ``/- ... -/`` block comments (doc comments
``/-- -/`` and ``/-! -/`` too), string literals (escapes, raw strings ``r#"..."#``; the ``{...}``
parts of interpolated ``s!``/``m!``/``f!`` strings are read as code) and char literals, and
returns identifiers (``«a b»`` and dotted names as one token), numbers and one-character
symbols with their offsets, lines and columns. It is not Lean's parser: it needs no token
table, so a rule here is a fast, conservative reject, never enough on its own.

Commands are judged by position: a command-only keyword (``theorem``, ``axiom``, ``#eval``,
``macro`` ...) always starts a new top-level command; ``open ... in`` and ``set_option N V in``
are prefixes (allowed inside proofs), and without ``in`` they are commands of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from prover.lean.audit_lexer import LexError, Token, strip_comments, tokenize

# --------------------------------------------------------------------------- commands

DECL_KEYWORDS = frozenset({"theorem", "lemma", "example", "def", "abbrev", "instance",
                           "axiom", "opaque", "structure", "class", "inductive", "coinductive"})
MODIFIERS = frozenset({"private", "protected", "noncomputable", "unsafe", "partial", "nonrec",
                       "scoped", "local"})
COMMAND_KEYWORDS = DECL_KEYWORDS | frozenset({
    "import", "prelude", "namespace", "section", "end", "variable", "universe", "omit",
    "include", "mutual", "attribute", "export", "initialize", "builtin_initialize", "macro",
    "macro_rules", "syntax", "elab", "elab_rules", "notation", "infix", "infixl", "infixr",
    "prefix", "postfix", "declare_syntax_cat", "run_cmd", "run_elab", "run_meta",
    "deriving", "register_option", "register_simp_attr", "add_decl_doc", "alias",
    "irreducible_def", "unseal", "seal", "assert_not_exists", "suppress_compilation",
    "library_note", "proof_wanted", "compile_inductive", "initialize_simps_projections",
    "notation3", "simproc", "dsimproc", "simproc_decl", "dsimproc_decl", "binder_predicate",
    "declare_aesop_rule_sets", "add_aesop_rules", "grind_pattern", "opaque_def",
})
"""Keywords that can only start a top-level command (never a tactic or a term)."""
PREFIX_COMMANDS = frozenset({"open", "set_option"})
"""Both commands and ``... in`` prefixes of tactics, terms and commands."""
HASH_COMMANDS = frozenset({
    "eval", "eval!", "print", "check", "check_failure", "exit", "reduce", "synth", "guard",
    "guard_msgs", "guard_expr", "guard_target", "help", "find", "lint", "where", "simp",
    "norm_num", "conv", "time", "compile", "long_names", "find_home", "minimize_imports",
    "count_heartbeats", "leansearch", "loogle", "moogle", "explode", "html", "widget",
    "version", "allow_unused_tactic", "instances", "kernel", "unfold?",
    "push_neg", "whnf", "defeq_abuse", "import_path",
})
"""Names after ``#`` that make a command (``#s`` alone is Mathlib's cardinality notation)."""


def hash_command(tokens: list[Token], i: int) -> str | None:
    """``"#NAME"`` when tokens[i] is ``#`` glued to a command name (or any name at column
    0, where no term can start), else None."""
    tok = tokens[i]
    if tok.text != "#" or i + 1 >= len(tokens):
        return None
    nxt = tokens[i + 1]
    if nxt.kind != "ident" or nxt.start != tok.end:
        return None
    if nxt.text in HASH_COMMANDS or tok.col == 0:
        return "#" + nxt.text
    return None


def in_chain_end(tokens: list[Token], i: int) -> int | None:
    """For ``open ...``/``set_option N V`` at ``i``: the index after its ``in``, or None
    when it is a command of its own (no ``in``)."""
    kw = tokens[i].text
    j = i + 1
    if kw == "set_option":
        j = i + 3  # set_option NAME VALUE in
        if j < len(tokens) and tokens[j].kind == "ident" and tokens[j].text == "in":
            return j + 1
        return None
    allowed = {"hiding", "renaming", "scoped", "(", ")", "→", "=>", "private"}
    while j < len(tokens):
        tok = tokens[j]
        if tok.kind == "ident" and tok.text == "in":
            return j + 1
        if tok.kind != "ident" and tok.text not in allowed:
            return None
        if tok.kind == "ident" and tokens[j].line != tokens[i].line and tok.col == 0:
            return None
        j += 1
    return None


def starts_command(tokens: list[Token], i: int) -> bool:
    """True when tokens[i] begins a new top-level command (by kind and position)."""
    tok = tokens[i]
    if tok.kind == "ident":
        return tok.text in COMMAND_KEYWORDS or tok.text in MODIFIERS or \
            tok.text in PREFIX_COMMANDS
    if tok.text == "#":
        return hash_command(tokens, i) is not None
    if tok.text == "@" and i + 1 < len(tokens) and tokens[i + 1].text == "[" and \
            tokens[i + 1].start == tok.end:
        return True  # @[attr] before a declaration
    return False


@dataclass(frozen=True)
class Segment:
    """One top-level command: tokens[first:last] (``in``-prefixes, attributes and
    modifiers included); ``keyword`` is the command keyword after them."""

    first: int
    last: int
    keyword: str


def segments(tokens: list[Token]) -> list[Segment]:
    """Split a whole file's tokens into top-level commands. Text before the first command
    keyword is one segment with keyword ``""``."""
    out: list[Segment] = []
    i, n = 0, len(tokens)
    first = 0
    keyword = ""
    while i < n:
        if tokens[i].kind == "ident" and tokens[i].text in PREFIX_COMMANDS:
            j = i
            while (j < n and tokens[j].kind == "ident" and tokens[j].text in PREFIX_COMMANDS
                   and (end := in_chain_end(tokens, j)) is not None):
                j = end
            if j > i and not (j < n and starts_command(tokens, j)):
                i = j  # `open X in tac`: a prefix inside a term or tactic block
                continue
        if starts_command(tokens, i):
            if i > first:
                out.append(Segment(first, i, keyword))
            first = i
            i, keyword = _command_head(tokens, i)
            continue
        i += 1
    if first < n:
        out.append(Segment(first, n, keyword))
    return out


def _command_head(tokens: list[Token], i: int) -> tuple[int, str]:
    """Skip ``in``-prefixes, ``@[...]`` and modifiers from ``i``; return the index after the
    command keyword and the keyword."""
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.kind == "ident" and tok.text in PREFIX_COMMANDS:
            end = in_chain_end(tokens, i)
            if end is None:
                return i + 1, tok.text
            i = end
        elif tok.text == "@" and i + 1 < n and tokens[i + 1].text == "[":
            depth, i = 0, i + 1
            while i < n:
                depth += {"[": 1, "]": -1}.get(tokens[i].text, 0)
                i += 1
                if depth == 0:
                    break
        elif tok.kind == "ident" and tok.text in MODIFIERS:
            i += 1
        elif tok.text == "#":
            return i + 2, hash_command(tokens, i) or "#"
        else:
            return i + 1, tok.text
    return i, ""


# --------------------------------------------------------------------------- the lint

ATTRIBUTE_BANS = {
    "extern": "`@[extern]`", "csimp": "`@[csimp]`", "init": "`@[init]`",
    "builtin_init": "`@[builtin_init]`", "export": "`@[export]`",
    "implemented_by": "`@[implemented_by]`", "macro": "`@[macro]`",
    "command_elab": "`@[command_elab]`", "tactic": "`@[tactic]`", "term_elab": "`@[term_elab]`",
    "instance": "`@[instance]`", "default_instance": "`@[default_instance]`",
    "local": "`@[local ...]`", "scoped": "`@[scoped ...]`",
}
"""Attribute names rejected inside ``@[...]`` / ``attribute [...]`` (elsewhere they may be
ordinary variable names such as ``init``)."""
BANNED_IDENTS = {
    "sorry": "`sorry`", "admit": "`admit`", "sorryAx": "`sorryAx`",
    "native_decide": "`native_decide`", "implemented_by": "`implemented_by`",
    "export": "`export`",
    "run_tac": "`run_tac` (a metaprogram in the proof)",
    "by_elab": "`by_elab` (a metaprogram in the proof)",
    "unsafe": "`unsafe`", "partial": "`partial`", "axiom": "`axiom`", "opaque": "`opaque`",
}
BANNED_NAMES = frozenset({
    "sorryAx", "lcProof", "ofReduceBool", "trustCompiler", "reduceBool", "unsafeCast",
    "unsafeBaseIO", "unsafeIO", "unsafeEIO", "modifyEnv", "setEnv", "addDecl",
    "addAndCompile", "evalTactic", "elabCommand", "ofReduceNat",
})
"""Constants rejected also as the last part of a dotted name (``Lean.ofReduceBool``)."""
BANNED_OPTIONS = ("debug.", "compiler.", "interpreter.", "bootstrap.", "trustCompiler",
                  "backward.", "pp.")
"""``set_option`` names (prefixes) a proof may not set: ``debug.skipKernelTC``,
``debug.byAsSorry``, ``debug.terminalTacticsAsSorry`` ...; ``pp.*`` could blind the
``pp.all`` statement check."""
NATIVE = "native code (`native_decide` / `decide +native`)"


def _native_use(tokens: list[Token], i: int) -> bool:
    tok = tokens[i]
    if tok.text == "native_decide":
        return True
    if tok.text == "native" and i and tokens[i - 1].text in ("+", "-"):
        return tokens[i - 1].text == "+"
    if tok.text == "native" and i + 2 < len(tokens) and tokens[i + 1].text == ":" and \
            tokens[i + 2].text == "=":
        return i + 3 < len(tokens) and tokens[i + 3].text == "true"
    return False


def uses_native(tokens: list[Token]) -> bool:
    """True when the tokens ask for native evaluation (``native_decide``, ``decide
    +native``, ``native := true``)."""
    return any(_native_use(tokens, i) for i in range(len(tokens)))


def lint_tokens(tokens: list[Token], *, allow_native: bool = False,
                commands_allowed: bool = False) -> list[str]:
    """Problems in a proof's tokens (empty: none). With ``commands_allowed`` False any
    top-level command inside is a problem (a proof body must stay one term/tactic block)."""
    problems: list[str] = []
    seen: set[str] = set()

    def add(text: str) -> None:
        if text not in seen:
            seen.add(text)
            problems.append(text)

    attr_depth = 0  # > 0 inside the brackets of `@[...]` or `attribute [...]`
    for i, tok in enumerate(tokens):
        where = f" (line {tok.line}, column {tok.col})"
        if tok.text == "[" and i and (tokens[i - 1].text == "attribute" or (
                tokens[i - 1].text == "@" and tokens[i - 1].end == tok.start)):
            attr_depth = 1
        elif attr_depth and tok.kind == "symbol" and tok.text in "[]":
            attr_depth += 1 if tok.text == "[" else -1
        elif attr_depth and tok.kind == "ident" and tok.text in ATTRIBUTE_BANS:
            add(f"banned attribute {ATTRIBUTE_BANS[tok.text]}{where}")
        if _native_use(tokens, i):
            if not allow_native:
                add(f"banned: {NATIVE}{where}")
            continue
        if tok.kind == "ident":
            last = tok.text.rsplit(".", 1)[-1]
            if tok.text in BANNED_IDENTS:
                add(f"banned token {BANNED_IDENTS[tok.text]}{where}")
            elif last in BANNED_NAMES:
                add(f"banned constant `{tok.text}`{where}")
            elif tok.text == "set_option" and i + 1 < len(tokens):
                name = tokens[i + 1].text
                if name.startswith(BANNED_OPTIONS):
                    add(f"banned option `set_option {name}`{where}")
            elif tok.text == "open" and i + 1 < len(tokens) and tokens[i + 1].text == "private":
                add(f"banned: `open private`{where}")
        if not commands_allowed and starts_command(tokens, i):
            kw = tok.text
            if kw in PREFIX_COMMANDS and in_chain_end(tokens, i) is not None:
                continue
            name = hash_command(tokens, i) or ("@[...]" if kw == "@" else kw)
            add(f"a top-level command `{name}` inside the proof{where}")
    return problems


PREAMBLE_COMMANDS = frozenset({"import", "open", "set_option", "universe", "theorem", "lemma"})
"""What may stand before the audited declaration in a whole-file submission: imports (checked
against the header), ``open``, ``set_option`` (minus :data:`BANNED_OPTIONS`), ``universe`` and
helper ``theorem``/``lemma`` declarations (their axioms are counted through the main one)."""


__all__ = ["PREAMBLE_COMMANDS", "COMMAND_KEYWORDS", "LexError", "Segment", "Token", "hash_command", "in_chain_end",
           "lint_tokens", "segments", "starts_command", "strip_comments", "tokenize",
           "uses_native"]
