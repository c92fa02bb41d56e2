"""Incremental front end for a file being edited: only the top-level declarations whose text changed are
parsed and lowered again.

A file is cut before every line that starts, at column 0, with `flow`, `conference` or `hours`. Each piece is parsed
and lowered on its own, cached by its text; a piece that moved is a copy with its offsets shifted to where it
now sits (pieces, like spans, are never changed in place: analyses are read by other threads). When every piece
parses without a syntax error, each is a complete run of top-level statements with balanced braces, so the
concatenation is exactly what parsing the whole file gives (same statements, IR and diagnostics; the tests
compare the two). Any syntax error anywhere falls back to parsing the whole file, so error recovery, which can
cross declarations (an unclosed `{`), behaves exactly as in `flowc check`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar, cast

from flowc.core.diagnostics import Diagnostic, Span
from flowc.semantics.ir import FlowFile
from flowc.semantics.lower import lower
from flowc.syntax.parser import parse
from flowc.syntax.tree import Block, Call, Module, Statement, Token

BOUNDARY = re.compile(r"^(?=(?:flow|conference|application|hours)\b)", re.MULTILINE)


class Piece:
    """One declaration's front-end output at one offset of the file. Never changed once built: a piece that
    moves is a shifted copy (`at(base)`), so analyses handed to other threads stay true to their text."""

    __slots__ = ("clean", "module", "flows", "conferences", "applications", "hours", "unread_words", "diagnostics",
                 "base")

    def __init__(self, text: str, path: str) -> None:
        module, errors = parse(text, path)
        self.clean = not errors
        self.module = module
        flow_file, self.diagnostics = lower(module)
        self.flows, self.conferences = flow_file.flows, flow_file.conferences
        self.applications = flow_file.applications
        self.hours = flow_file.hours
        self.unread_words = flow_file.unread_words  # words only, no offsets: shared by shifted copies
        self.base = 0

    def at(self, base: int) -> Piece:
        """This piece with every offset moved so that it starts at `base` (itself when it already does)."""
        delta = base - self.base
        if not delta:
            return self
        moved = object.__new__(Piece)
        memo: dict[int, object] = {}
        moved.clean = self.clean
        moved.module = Module(self.module.path, shifted(self.module.statements, delta, memo),
                              shifted(self.module.comments, delta, memo))
        moved.flows = shifted(self.flows, delta, memo)
        moved.conferences = shifted(self.conferences, delta, memo)
        moved.hours = shifted(self.hours, delta, memo)
        moved.applications = shifted(self.applications, delta, memo)
        moved.unread_words = self.unread_words
        moved.diagnostics = shifted(self.diagnostics, delta, memo)
        moved.base = base
        return moved


ATOMS = (str, int, float, bool, type(None))
SYNTAX = (Token, Call, Block, Statement)


FIELDS: dict[type, tuple[str, ...] | None] = {}
T = TypeVar("T")


def _fields(kind: type) -> tuple[str, ...] | None:
    """The attributes to copy of a class whose instances carry offsets (None: shared as it is)."""
    if kind not in FIELDS:
        if kind in SYNTAX:
            FIELDS[kind] = tuple(kind.__slots__)
        elif dataclasses.is_dataclass(kind) and kind.__module__ in ("flowc.semantics.ir", "flowc.core.diagnostics"):
            FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
        else:
            FIELDS[kind] = None
    return FIELDS[kind]


def shifted(value: T, delta: int, memo: dict[int, object]) -> T:
    """A copy of `value` (syntax nodes, IR, diagnostics, and lists of them) with every offset moved by `delta`;
    objects shared inside it stay shared in the copy."""
    return cast(T, _shifted(value, delta, memo))


def _shifted(value: Any, delta: int, memo: dict[int, object]) -> Any:  # (any of the kinds `shifted` copies)
    kind = type(value)
    if kind is Span:
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = Span(value.file, value.start + delta, value.end + delta)
        return found
    if kind is list:
        return [item if type(item) in ATOMS else _shifted(item, delta, memo) for item in value]
    if kind is tuple:
        return tuple(item if type(item) in ATOMS else _shifted(item, delta, memo) for item in value)
    names = _fields(kind)
    if names is None:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    copy = object.__new__(kind)
    memo[id(value)] = copy
    offsets = kind in SYNTAX
    for name in names:
        item = getattr(value, name)
        if offsets and (name == "start" or name == "end"):
            item += delta
        elif type(item) not in ATOMS:
            item = _shifted(item, delta, memo)
        object.__setattr__(copy, name, item)
    return copy


class IncrementalFile:
    """The pieces of the latest text of one file, reused across edits."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pieces: dict[tuple[str, int], Piece] = {}
        self.text: str | None = None  # the text last analysed

    def analyse(self, text: str) -> tuple[Module, FlowFile, list[Diagnostic]] | None:
        """The whole file's (module, IR, diagnostics), or None when a piece has a syntax error."""
        self.text = text
        starts = [m.start() for m in BOUNDARY.finditer(text)]
        if not starts or starts[0] != 0:
            starts.insert(0, 0)
        starts.append(len(text))
        pieces: dict[tuple[str, int], Piece] = {}
        occurrences: dict[str, int] = {}
        ordered: list[Piece] = []
        for start, end in zip(starts, starts[1:], strict=False):
            chunk = text[start:end]
            occurrence = occurrences.get(chunk, 0)
            occurrences[chunk] = occurrence + 1
            key = (chunk, occurrence)
            piece = self.pieces.get(key)
            if piece is None:
                piece = Piece(chunk, self.path)
            if not piece.clean:
                pieces[key] = piece
                # Keep the earlier clean pieces too: the edit that fixes this error will reuse them.
                self.pieces = {**{k: p for k, p in self.pieces.items() if p.clean}, **pieces}
                return None
            piece = pieces[key] = piece.at(start)
            ordered.append(piece)
        self.pieces = pieces
        statements: list[Statement] = []
        comments: list[Token] = []
        flow_file = FlowFile(self.path)
        diagnostics: list[Diagnostic] = []
        unread: set[str] = set()
        for piece in ordered:
            statements.extend(piece.module.statements)
            comments.extend(piece.module.comments)
            flow_file.flows.extend(piece.flows)
            flow_file.conferences.extend(piece.conferences)
            flow_file.hours.extend(piece.hours)
            flow_file.applications.extend(piece.applications)
            diagnostics.extend(piece.diagnostics)
            unread.update(piece.unread_words)
        flow_file.unread_words = sorted(unread)
        return Module(self.path, statements, comments), flow_file, diagnostics
