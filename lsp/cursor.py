"""Where the cursor is in the syntax tree: the chain of enclosing blocks (what statements may go there) and the
statement being typed. Works on the parser's recovered tree, so a half-typed document (unclosed block,
unfinished statement) still has a usable answer."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from flowc.bxml.vocabulary import ElementSpec, vocabulary
from flowc.semantics.lower import match_attribute as match_attribute_phrase
from flowc.semantics.lower import match_statement
from flowc.syntax.tree import Atom, Block, Module, Statement, Token


@dataclass
class Scope:
    kind: str  # top | flow | conference | hours | handler | element | slot (a string's `{...}`) | unknown
    context: str = "call"  # call | conference | transfer-answer | no-bxml: which verbs Bandwidth accepts
    # (for a slot: field | filter)
    spec: ElementSpec | None = None  # for element blocks (gather, say, transfer ...)


@dataclass
class Cursor:
    offset: int
    scopes: list[Scope]
    statement: Statement | None  # the statement the cursor is in; None at the start of a new one
    before: list[Atom] = field(default_factory=list)  # its complete atoms before the cursor's word
    word: Token | None = None  # the word the cursor is in or at the end of (being typed)

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]


def match_keyword(atoms: list[Atom], parent: str | None) -> tuple[ElementSpec, int] | None:
    return match_statement(atoms, parent) if atoms else None


def match_attribute(spec: ElementSpec, atoms: list[Atom], index: int) -> tuple[tuple[str, ...], int] | None:
    return match_attribute_phrase(spec.attribute_phrases, atoms, index)


def words(atoms: list[Atom]) -> list[str]:
    result = []
    for atom in atoms:
        if type(atom) is not Token or atom.kind != "WORD":
            break
        result.append(atom.text)
    return result


def locate(module: Module, text: str, offset: int, context_of: Callable[[str], str]) -> Cursor:
    if _in_comment(module.comments, offset):
        return Cursor(offset, [Scope("unknown")], None)
    string = _string_start(text, offset)
    if string != -1:  # in a string: only a runtime part `{field|filter}` has something to complete
        slot = _SLOT.search(text, string + 1, offset)
        if slot is None or "{{" in text[slot.start() - 1 : slot.start() + 1]:
            return Cursor(offset, [Scope("unknown")], None)
        name, written = ("filter", slot.group(2)) if slot.group(2) is not None else ("field", slot.group(1))
        word = Token("WORD", written, offset - len(written), offset)
        return Cursor(offset, [Scope("slot", name)], None, [], word)
    scopes = [Scope("top")]
    statements = module.statements
    while True:
        statement = _statement_at(statements, text, offset)
        if statement is None:
            return Cursor(offset, scopes, None)
        block = statement.block
        if block is not None and _inside(block, text, offset):
            scopes.append(_child_scope(scopes[-1], statement, context_of))
            statements = block.statements
            continue
        return _in_statement(scopes, statement, text, offset)


def _in_comment(comments: list[Token], offset: int) -> bool:
    index = bisect_right([c.start for c in comments], offset - 1) - 1
    return index >= 0 and comments[index].start < offset <= comments[index].end


# What the lexer skips on a line before the cursor: whole strings, and anything else but a quote or a comment.
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*|)(?:\|([A-Za-z_]*))?\Z")  # `{fie` or `{field|fil` at the cursor
_LINE_PREFIX = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"|[^"#\n])*+')


def _string_start(text: str, offset: int) -> int:
    """Where the string the cursor is in starts, or -1. Looked up in the text because the parser drops an
    unterminated string (the one being typed): typing a sentence must not pop up attribute names."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = _LINE_PREFIX.match(text, line_start, offset)
    inside = prefix is not None and prefix.end() < offset and text[prefix.end()] == '"'
    return prefix.end() if inside else -1  # type: ignore[union-attr]


def _statement_at(statements: list[Statement], text: str, offset: int) -> Statement | None:
    """The statement whose line the cursor is on (or whose block holds it)."""
    candidate = None
    for statement in statements:
        if statement.start > offset:
            break
        candidate = statement
    if candidate is None:
        return None
    block = candidate.block
    if block is not None and offset > block.start:
        return candidate if _inside(block, text, offset) else None
    last = None
    for atom in candidate.atoms:
        if atom.start > offset:
            break
        last = atom
    if last is None:
        return None
    gap = text[last.end : offset]
    return None if "\n" in gap or ";" in gap else candidate


def _inside(block: Block, text: str, offset: int) -> bool:
    if offset <= block.start:
        return False
    if offset < block.end:
        return True
    return offset == block.end and not block.closed  # a never-closed block runs to the end of the file


def _in_statement(scopes: list[Scope], statement: Statement, text: str, offset: int) -> Cursor:
    before: list[Atom] = []
    word = None
    for atom in statement.atoms:
        if atom.start > offset:
            break
        if type(atom) is Token and atom.kind == "WORD" and atom.start <= offset <= atom.end:
            word = atom
            break
        if atom.end > offset:  # inside a string or number: nothing to complete there
            return Cursor(offset, [*scopes, Scope("unknown")], statement, list(statement.atoms), None)
        before.append(atom)
    return Cursor(offset, scopes, statement, before, word)


def _child_scope(parent: Scope, statement: Statement, context_of: Callable[[str], str]) -> Scope:
    head = words(statement.atoms)
    if parent.kind == "top":
        if head[:1] == ["flow"]:
            return Scope("flow", context_of(head[1]) if len(head) > 1 else "call")
        if head[:1] == ["conference"]:
            return Scope("conference")
        if head[:1] == ["hours"]:
            return Scope("hours")
        return Scope("unknown")
    if parent.kind == "conference":
        if head[:1] == ["on"]:
            event = vocabulary().conference_events.get(tuple(head[1:]))
            return Scope("handler", vocabulary().handler_context(event or ""))
        return Scope("unknown")
    if parent.kind in ("flow", "handler") and head[:1] in (["when"], ["otherwise"]):
        return Scope(parent.kind, parent.context)  # a branch's statements run where its flow's or handler's do
    if parent.kind in ("flow", "handler", "element"):
        matched = match_keyword(statement.atoms, parent.spec.name if parent.spec else None)
        if matched is not None:
            return Scope("element", parent.context, matched[0])
    return Scope("unknown")
