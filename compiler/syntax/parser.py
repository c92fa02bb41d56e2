"""Lexing and LALR parsing of .flow text into the syntax tree, with error recovery.

The LALR tables are generated from grammar/flow.lark by Lark at build time (grammar_tables.py) and shipped as
grammar/flow.tables.json; this module runs them with one small driver loop (Parser._drive), so `flowc check`
never imports Lark. Errors never stop the parse: every error in the file is reported, each with a plain-words
"expected ..." message, and a tree is still returned for the lines that parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from flowc.core.diagnostics import Diagnostic, Severity, Span
from flowc.grammar import TABLES_PATH
from flowc.syntax.tree import Block, Call, Module, Statement, Token

END = "$END"
SYNC = ("_NL", "RBRACE", END)
MAX_SYNTAX_ERRORS = 50
MAX_OPEN_BLOCKS = 1000  # far beyond any real flow (lowering reports FC008 from 64 levels) yet bounded

Node = Token | Call | Block | Statement
# What the value stack holds: a node, the spliced children of an inlined `_rule` (a list), or None for `_NL`.
Value = Node | list[Node] | None
# (rule name, number of symbols, node builder or None for inlined rules whose children splice into the parent)
Reduction = tuple[str, int, Callable[[list[Any]], Node] | None]


class _TooDeep(Exception):
    """Raised from the driver when blocks nest past MAX_OPEN_BLOCKS; carries the `{` token."""

PLAIN_NAMES = {
    "WORD": "a word",
    "STRING": "a string",
    "NUMBER": "a number",
    "DURATION": "a duration such as 2s",
    "TIME": "a time of day such as 9:00",
    "DATE": "a date such as 2026-12-25",
    "PHONE": "a phone number such as +15551234567",
    "VAR": "a runtime value such as $from",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "_NL": "end of line",
    END: "end of file",
}


class Tables:
    """The LALR tables in a shape the driver can index directly."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.start_state: int = data["start_state"]
        self.end_state: int = data["end_state"]
        # Per state: symbol -> next state (shift or goto) if >= 0, else -(rule number + 1) to reduce by.
        self.states: list[dict[str, int]] = data["states"]
        rules = [(origin, length) for origin, length in data["rules"]]
        self.reductions: list[Reduction] = [(origin, length, BUILDERS.get(origin)) for origin, length in rules]
        # The same rules without builders: looking ahead on a copy of the stack moves states, never builds nodes.
        self.shapes: list[Reduction] = [(origin, length, None) for origin, length in rules]
        patterns = [f"(?P<{name}>{regex})" for name, regex in data["terminals"].items()]
        # Anything else is an error token: an unterminated string, a malformed number, a stray character.
        patterns += [r'(?P<BAD_STRING>"([^"\\\n]|\\[^\n])*\\?)', r"(?P<BAD_NUMBER>[0-9][A-Za-z0-9_.]*)",
                     r"(?P<BAD_CHAR>[^ \t\f\r])"]
        # Leading blanks are folded into each match, so the scanner yields one match per token.
        # Possessive `*+`: a run of blanks is never rescanned from each of its positions (quadratic on a long
        # run that nothing follows); the empty `\Z` alternative lets trailing blanks end the text.
        self.scanner = re.compile("[ \t\f\r]*+(?:" + "|".join(patterns) + r"|\Z)")


@lru_cache(maxsize=1)
def tables() -> Tables:
    return Tables(json.loads(TABLES_PATH.read_text()))


# A comment inside a newline token runs to the end of its line (a lone CR is comment text, as in COMMENT).
COMMENT_IN_NEWLINE = re.compile(r"#[^\r\n]*(?:\r+[^\r\n]+)*")


# Characters XML 1.0 cannot carry at all (not even escaped): in a string they would reach a BXML document.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def lex(text: str, comments: list[Token], errors: list[Diagnostic], path: str) -> Iterator[Token]:
    """Yield tokens; comments go to `comments`, bad characters become error diagnostics and are skipped."""
    strings_to_check = NOT_XML.search(text) is not None  # one C-speed scan; almost never true
    for match in tables().scanner.finditer(text):
        kind = match.lastgroup
        if kind is None:  # trailing blanks at the end of the text
            continue
        start, end = match.span(kind)
        if kind == "COMMENT":
            comments.append(Token("COMMENT", match.group(kind), start, end))
            continue
        if kind == "_NL":
            value = match.group(kind)
            if "#" in value:
                # _NL's comments always end at a line break (its possessive `#[^\n]*+` cannot stop at a `;`),
                # so a comment on a last line without a newline is a COMMENT token of its own.
                for inner in COMMENT_IN_NEWLINE.finditer(value):
                    comments.append(Token("COMMENT", inner.group(), start + inner.start(), start + inner.end()))
            yield Token("_NL", value, start, end)
            continue
        if kind.startswith("BAD_"):
            if len(errors) < MAX_SYNTAX_ERRORS:  # a binary-looking file must not yield a million diagnostics
                errors.append(_lexical_error(kind, match.group(kind), Span(path, start, end)))
            if kind == "BAD_STRING":  # read it as if closed, so `say "Hi` is not also reported as missing its text
                yield Token("STRING", match.group(kind) + '"', start, end)
            continue
        if strings_to_check and kind == "STRING":
            _check_string_characters(match.group(kind), start, path, errors)
        yield Token(kind, match.group(kind), start, end)


def _check_string_characters(text: str, start: int, path: str, errors: list[Diagnostic]) -> None:
    for bad in NOT_XML.finditer(text):
        if len(errors) < MAX_SYNTAX_ERRORS:
            char = bad.group()
            errors.append(Diagnostic(
                "FC005", Severity.ERROR, f"control character U+{ord(char):04X} cannot appear in a BXML document",
                Span(path, start + bad.start(), start + bad.end()),
                help="remove it (write `\\n` or `\\t` for a line break or a tab)"))


def _lexical_error(kind: str, text: str, span: Span) -> Diagnostic:
    if kind == "BAD_STRING":
        return Diagnostic("FC006", Severity.ERROR, "unterminated string", span,
                          help='close the string with `"` on the same line')
    if kind == "BAD_NUMBER":
        return Diagnostic("FC007", Severity.ERROR, f"`{text}` is not a number or a duration", span,
                          help="write numbers as 3 or 2.5 and durations as 500ms, 2s, 1m or 1h")
    shown = text if text.isprintable() else repr(text)
    return Diagnostic("FC005", Severity.ERROR, f"unexpected character `{shown}`", span,
                      help="remove it, or put the text in double quotes")


def _statement(children: list[Any]) -> Statement:
    block = children[-1] if children and type(children[-1]) is Block else None
    return Statement(children[:-1] if block is not None else children, block)


def _block(children: list[Any]) -> Block:
    last = children[-1]
    ends_with_brace = last.kind == "RBRACE"
    statements = children[1:-1] if ends_with_brace else children[1:]
    # A `}` that recovery inserted at a missing one is empty: the block was never closed in the text.
    return Block(statements, children[0].start, last.end, closed=ends_with_brace and last.end > last.start)


def _call(children: list[Any]) -> Call:
    args = [c for c in children[2:-1] if c.kind != "COMMA"]
    return Call(children[0], args, children[-1].end)


BUILDERS: dict[str, Callable[[list[Any]], Node]] = {"statement": _statement, "block": _block, "call": _call}


class Parser:
    """One parse of one file. Holds the LALR stacks so error recovery can inspect and repair them."""

    def __init__(self, text: str, path: str, split_declarations: bool = False) -> None:
        self.text = text
        self.path = path
        self.tables = tables()
        self.states: list[int] = [self.tables.start_state]
        self.values: list[Value] = []
        self.errors: list[Diagnostic] = []
        self.comments: list[Token] = []
        self.open_braces: list[Token] = []
        self.last_error_line_end = -1
        # Set for a second parse of a file with a `{` never closed: a declaration starting a line then closes
        # the blocks left open, so the declarations after it are still read (see close_blocks).
        self.split_declarations = split_declarations
        self.unclosed = False

    # -- the LALR driver ---------------------------------------------------------------------------------
    def _drive(self, tokens: Iterable[Token], states: list[int], values: list[Value], open_braces: list[Token],
               reductions: list[Reduction], screen: bool = False) -> Token | None:
        """The one LALR loop: for each token, do the reductions it triggers, then shift it. Returns the first
        token not accepted (the valid reductions it triggered are kept: recovery starts from there), or None
        when every token was. It runs the whole file on the parser's stacks, a single token during recovery,
        and looks ahead on copies of the state stack (with `reductions` that build no nodes).

        With `screen`, a stray `}` is returned before the tables see it (fed, its lookahead would first reduce
        the statements read so far into a finished list, and nothing after it could be parsed), and in the
        second parse of a file with an unclosed `{` a declaration starting a line closes the open blocks."""
        table = self.tables.states
        split = screen and self.split_declarations
        for token in tokens:
            kind = token.kind
            if screen and kind == "RBRACE" and not open_braces:
                return token
            if split and open_braces and kind == "WORD" and token.text in TOP_LEVEL and self._line_start(token):
                self.close_blocks(token)  # `flow` at column 0 inside a block: the block was left unclosed
            while True:
                action = table[states[-1]].get(kind)
                if action is None:
                    return token
                if action >= 0:
                    states.append(action)
                    values.append(token if kind != "_NL" else None)  # _NL carries no value
                    if kind == "LBRACE":
                        open_braces.append(token)
                        if len(open_braces) > MAX_OPEN_BLOCKS:
                            raise _TooDeep(token)
                    elif kind == "RBRACE" and open_braces:
                        open_braces.pop()
                    break
                origin, length, build = reductions[-action - 1]
                if origin == "start" and kind != END:  # LALR's merged lookaheads: never finish the file early
                    return token
                if build is None and length == 1:  # an inlined unit rule (_argument: WORD): the value stays
                    states.pop()
                else:
                    children = values[-length:] if length else []
                    if length:
                        del values[-length:]
                        del states[-length:]
                    # Splice inlined children; a left-recursive list rule grows its list in place (no copy per
                    # item).
                    first = children[0] if children else None
                    flat: list[Any] = first if type(first) is list else ([] if first is None else [first])
                    for child in children[1:]:
                        if type(child) is list:
                            flat.extend(child)
                        elif child is not None:
                            flat.append(child)
                    values.append(flat if build is None else build(flat))
                states.append(table[states[-1]][origin])
                if origin == "start":  # the end state: the whole file is read
                    break
        return None

    def feed(self, token: Token) -> bool:
        """Shift one token, doing the reductions it triggers. False if it is not accepted (LALR may have done
        some reductions first; they are valid, and recovery starts from there)."""
        return self._drive((token,), self.states, self.values, self.open_braces, self.tables.reductions) is None

    def accepts(self, kind: str, states: list[int] | None = None, then: str | None = None) -> bool:
        """Would `kind` (and then `then`) be shifted from this stack (after any reductions)? Simulated on a copy
        of the states, building nothing."""
        stack = list(self.states if states is None else states)
        lookahead = [Token(kind, "", 0, 0)] + ([Token(then, "", 0, 0)] if then is not None else [])
        scratch: list[Value] = [None] * (len(stack) - 1)  # the values only keep the stacks in step
        return self._drive(lookahead, stack, scratch, [], self.tables.shapes) is None

    def expected(self) -> list[str]:
        return [kind for kind in PLAIN_NAMES if self.accepts(kind)]

    # -- error recovery ----------------------------------------------------------------------------------
    def report(self, token: Token, message: str | None = None, help: str | None = None) -> None:
        if token.start <= self.last_error_line_end or len(self.errors) >= MAX_SYNTAX_ERRORS:
            return  # one report per line: later errors on the same line are usually echoes of the first
        newline = self.text.find("\n", token.start)
        self.last_error_line_end = len(self.text) if newline == -1 else newline
        expected = self.expected()
        if message is None and token.kind == "RBRACE" and not self.open_braces:
            message, help = "unmatched `}`", "remove it, or add the `{` it was meant to close"
        if message is None:
            found = PLAIN_NAMES.get(token.kind, token.kind)
            if token.kind not in ("_NL", END):
                found = f"`{token.text}`"
            message = f"expected {_one_of(expected)}, found {found}"
        end = token.end if token.kind != "_NL" else token.start + 1
        self.errors.append(Diagnostic("FC001", Severity.ERROR, message, Span(self.path, token.start, end), help=help))

    def recover(self, token: Token) -> None:
        """Make the parser able to continue at a sync token (end of line, '}' or end of file)."""
        kind = token.kind
        if kind == END and self.open_braces:
            # `accepts(END)` is false while any block is open, so only braces are tested per step: simulating on
            # a copy of the stack for each of a million unclosed `{` would be quadratic.
            self.unclosed = True
            self._close_open_blocks(token.start)
        for filler in ("RPAR", "_NL", "RBRACE"):
            if kind != filler and self.accepts(filler, then=kind):
                self._insert(filler, token.start)
                return
        if kind == "RBRACE" and not self.open_braces:
            return  # a stray '}': drop it
        # Panic mode: abandon the partial statement, down to the nearest state that accepts the token. If no
        # state does, keep the stack and let the caller drop the token.
        # Completed statements, blocks and statement lists are never abandoned.
        keep = max((i + 1 for i, v in enumerate(self.values) if type(v) in (list, Statement, Block)), default=0)
        for depth in range(len(self.states) - 1, keep, -1):
            if self.accepts(kind, self.states[:depth]):
                del self.states[depth:]
                del self.values[depth - 1 :]
                return

    def _line_start(self, token: Token) -> bool:
        return token.start == 0 or self.text[token.start - 1] == "\n"

    def close_blocks(self, token: Token) -> None:
        """Close every open block before a declaration that starts a line: declarations cannot nest, so an
        unclosed `{` ends there, and the declarations after it are still read (as the language server cuts
        files at the same lines)."""
        self._close_open_blocks(token.start)
        if not self.open_braces and self.accepts("_NL"):
            self._insert("_NL", token.start)

    def _close_open_blocks(self, at: int) -> None:
        """Report each open `{` as never closed and insert its `}` at `at`, innermost first; stop where the
        stack cannot take a `}` (the usual recovery handles the rest)."""
        while self.open_braces:
            brace = self.open_braces[-1]
            if len(self.errors) < MAX_SYNTAX_ERRORS:
                self.errors.append(Diagnostic("FC001", Severity.ERROR, "this `{` is never closed",
                                              Span(self.path, brace.start, brace.end), help="add the missing `}`"))
            self._insert("RBRACE", at)
            if self.open_braces and self.open_braces[-1] is brace:
                return

    def _insert(self, kind: str, at: int) -> None:
        self.feed(Token(kind, "", at, at))

    def run(self) -> Module:
        try:
            return self._run()
        except _TooDeep as too_deep:  # a pathological file: report it rather than parse a million blocks
            brace = too_deep.args[0]
            message = f"blocks are nested more than {MAX_OPEN_BLOCKS} deep; the file was not read further"
            self.errors.append(Diagnostic("FC008", Severity.ERROR, message, Span(self.path, brace.start, brace.end),
                                          help="flatten the statements"))
            return Module(self.path, [], self.comments)

    def _run(self) -> Module:
        tokens = lex(self.text, self.comments, self.errors, self.path)
        stacks = (self.states, self.values, self.open_braces, self.tables.reductions)
        skipping = False
        while True:
            if skipping:  # after a rejected token, the next ones go one at a time until one is accepted
                token = next(tokens, None)
                if token is None:
                    break
                rejected = self._drive((token,), *stacks, screen=True)
                if rejected is None:
                    skipping = False
                    continue
            else:  # the hot path: the rest of the file in one loop, until a token is rejected
                rejected = self._drive(tokens, *stacks, screen=True)
                if rejected is None:
                    break
            if rejected.kind == "RBRACE" and not self.open_braces:
                self.report(rejected)  # a stray `}` (see _drive): reported and dropped, `skipping` as it was
                continue
            if not skipping:
                self.report(rejected)
            if rejected.kind in SYNC:
                self.recover(rejected)
                skipping = not self.feed(rejected)
            else:
                skipping = True
        end = Token(END, "", len(self.text), len(self.text))
        if not self.accepts(END):
            if not self.open_braces:  # unclosed blocks report themselves; anything else (`say env(X`) is here
                self.report(end)
            self.recover(end)
        if not self.feed(end):  # cannot happen with this grammar, but never lose the statements we have
            statements = [v for v in self.values if type(v) is Statement]
        else:
            result = self.values[-1] if self.values else None
            items = result if type(result) is list else [result]
            statements = [v for v in items if type(v) is Statement]
        return Module(self.path, statements, self.comments)


TOP_LEVEL = frozenset(("flow", "conference", "hours"))  # the words that start a declaration, which never nests
TOP_LEVEL_LINE = re.compile(r"\n(?:flow|conference|hours)(?![A-Za-z0-9_-])")
VALUE_KINDS = ("WORD", "STRING", "NUMBER", "DURATION", "TIME", "DATE", "PHONE", "VAR", "COMMA")


def _one_of(kinds: list[str]) -> str:
    if sum(k in VALUE_KINDS for k in kinds) >= 3:  # inside a statement: any word or value may follow
        kinds = ["VALUE"] + [k for k in kinds if k not in VALUE_KINDS]
    names = [PLAIN_NAMES.get(k, "a word or value") for k in kinds]
    if not names:
        return "nothing more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def parse(text: str, path: str = "<input>") -> tuple[Module, list[Diagnostic]]:
    parser = Parser(text, path)
    module = parser.run()
    if parser.unclosed and TOP_LEVEL_LINE.search(text):  # rare: read again, ending blocks at declarations
        parser = Parser(text, path, split_declarations=True)
        module = parser.run()
    return module, parser.errors
