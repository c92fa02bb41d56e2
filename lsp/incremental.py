"""Incremental front end for a file being edited: only the top-level declarations whose text changed are
parsed and lowered again.

A file is cut before every line that starts, at column 0, with `flow` or `conference`. Each piece is parsed
and lowered on its own, cached by its text, and its offsets shifted to where it now sits. When every piece
parses without a syntax error, each is a complete run of top-level statements with balanced braces, so the
concatenation is exactly what parsing the whole file gives (same statements, IR and diagnostics; the tests
compare the two). Any syntax error anywhere falls back to parsing the whole file, so error recovery, which can
cross declarations (an unclosed `{`), behaves exactly as in `flowc check`.
"""

from __future__ import annotations

import dataclasses
import re

from flowc.diagnostics import Diagnostic, Span
from flowc.ir import FlowFile
from flowc.lower import lower
from flowc.parser import parse
from flowc.syntax import Block, Call, Module, Statement, Token

BOUNDARY = re.compile(r"^(?=(?:flow|conference)\b)", re.MULTILINE)


class Piece:
    """One declaration's front-end output, with every offset-carrying object kept for shifting."""

    def __init__(self, text: str, path: str) -> None:
        module, errors = parse(text, path)
        self.clean = not errors
        self.module = module
        flow_file, self.diagnostics = lower(module)
        self.flows, self.conferences = flow_file.flows, flow_file.conferences
        self.applications = flow_file.applications
        self.base = 0
        self.nodes: list = []  # syntax nodes (start/end ints)
        self.spans: list[Span] = []  # IR and diagnostic spans
        seen: set[int] = set()
        for statement in module.statements:
            _collect_syntax(statement, self.nodes, seen)
        self.nodes.extend(module.comments)
        _collect_spans([self.flows, self.conferences, self.applications, self.diagnostics], self.spans, set())

    def move_to(self, base: int) -> None:
        delta = base - self.base
        if not delta:
            return
        for node in self.nodes:
            node.start += delta
            node.end += delta
        for span in self.spans:
            span.start += delta
            span.end += delta
        self.base = base


def _collect_syntax(node, out: list, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    out.append(node)
    kind = type(node)
    if kind is Statement:
        for atom in node.atoms:
            _collect_syntax(atom, out, seen)
        if node.block is not None:
            _collect_syntax(node.block, out, seen)
    elif kind is Block:
        for statement in node.statements:
            _collect_syntax(statement, out, seen)
    elif kind is Call:
        _collect_syntax(node.name, out, seen)
        for argument in node.args:
            _collect_syntax(argument, out, seen)


def _collect_spans(value, out: list[Span], seen: set[int]) -> None:
    kind = type(value)
    if kind is Span:
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
    elif kind is list or kind is tuple:
        for item in value:
            _collect_spans(item, out, seen)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is not None and not isinstance(item, str | int | float | bool):
                _collect_spans(item, out, seen)


class IncrementalFile:
    """The pieces of the latest text of one file, reused across edits."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pieces: dict[tuple[str, int], Piece] = {}

    def analyse(self, text: str) -> tuple[Module, FlowFile, list[Diagnostic]] | None:
        """The whole file's (module, IR, diagnostics), or None when a piece has a syntax error."""
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
            pieces[key] = piece
            if not piece.clean:
                # Keep the earlier clean pieces too: the edit that fixes this error will reuse them.
                self.pieces = {**{k: p for k, p in self.pieces.items() if p.clean}, **pieces}
                return None
            piece.move_to(start)
            ordered.append(piece)
        self.pieces = pieces
        statements: list[Statement] = []
        comments: list[Token] = []
        flow_file = FlowFile(self.path)
        diagnostics: list[Diagnostic] = []
        for piece in ordered:
            statements.extend(piece.module.statements)
            comments.extend(piece.module.comments)
            flow_file.flows.extend(piece.flows)
            flow_file.conferences.extend(piece.conferences)
            flow_file.applications.extend(piece.applications)
            diagnostics.extend(piece.diagnostics)
        return Module(self.path, statements, comments), flow_file, diagnostics
