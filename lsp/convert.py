"""Between flowc's values and the protocol's: character offsets <-> LSP positions, Diagnostic -> lsp Diagnostic,
Fix -> WorkspaceEdit; and offsets between two texts of a document (Shift).

flowc counts code points from the start of the file; LSP counts lines and, within a line, code units of the
negotiated encoding (UTF-16 unless the client offers another). The unit counting is pygls' position codec.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import flowc
from flowc.core.diagnostics import Diagnostic, Fix, Severity, Span
from flowc.core.fixes import widened
from flowc.syntax.source import SourceFile
from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
UNNECESSARY = frozenset(("FC403", "FC405"))  # unused flow, statements that never run: editors grey them out
URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
DIAGNOSTICS_PAGE = Path(flowc.__file__).resolve().parent.parent / "docs" / "diagnostics.md"


def path_of(uri: str) -> str:
    """The path flowc uses for a document: its file-system path, or the URI itself for unsaved documents."""
    if uri.startswith("file:"):
        path = to_fs_path(uri)
        if path:
            return path
    return uri


def uri_of(path: str) -> str:
    """Inverse of path_of: a file URI for a path, and non-file URIs (untitled:, ...) unchanged."""
    scheme, colon, _ = path.partition(":")
    if colon and len(scheme) > 1 and URI_SCHEME.fullmatch(scheme):  # (one letter: a Windows drive)
        return path
    return from_fs_path(path) or path


def docs_href(code: str) -> str | None:
    """The code's section of docs/diagnostics.md, when the page is next to the installed package (a checkout)."""
    if not DIAGNOSTICS_PAGE.is_file():
        return None
    return f"{DIAGNOSTICS_PAGE.as_uri()}#{code.lower()}"


class Positions:
    """Offsets of one source <-> LSP positions in the client's encoding."""

    def __init__(self, source: SourceFile, codec: PositionCodec) -> None:
        self.source = source
        self.codec = codec

    def position(self, offset: int) -> types.Position:
        source = self.source
        offset = max(0, min(offset, len(source.text)))
        line, column = source.position(offset)
        prefix = source.text[source.line_starts[line - 1] : offset]
        return types.Position(line=line - 1, character=len(prefix) if prefix.isascii() else self._units(prefix))

    def _units(self, text: str) -> int:
        """Code units of `text` in the negotiated encoding (by encoding it: pygls counts in a Python loop, tens of
        milliseconds on a very long line)."""
        encoding = self.codec.encoding
        if encoding == types.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8", "surrogatepass"))
        if encoding == types.PositionEncodingKind.Utf32:
            return len(text)
        return len(text.encode("utf-16-le", "surrogatepass")) // 2

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def span_range(self, span: Span) -> types.Range:
        return self.range(span.start, span.end)

    def offset(self, position: types.Position) -> int:
        """The character offset of a client position (clamped to the text)."""
        source = self.source
        starts = source.line_starts
        if position.line >= len(starts):
            return len(source.text)
        line_start = starts[position.line]
        line_end = starts[position.line + 1] - 1 if position.line + 1 < len(starts) else len(source.text)
        line = source.text[line_start:line_end]
        if line.isascii():
            return line_start + min(position.character, len(line))
        encoding = self.codec.encoding
        if encoding == types.PositionEncodingKind.Utf32:
            return line_start + min(position.character, len(line))
        if encoding == types.PositionEncodingKind.Utf8:
            data, unit = line.encode("utf-8", "surrogatepass"), 1
        else:
            data, unit = line.encode("utf-16-le", "surrogatepass"), 2
        # The characters whose code units come before the position; a position inside a character means the next.
        codec = "utf-8" if unit == 1 else "utf-16-le"
        cut = data[: position.character * unit]
        before = cut.decode(codec, "ignore")
        inside = len(before.encode(codec, "surrogatepass")) < len(cut)
        return line_start + len(before) + inside


def lsp_diagnostic(diagnostic: Diagnostic, positions: dict[str, Positions]) -> types.Diagnostic:
    """The protocol's form of a flowc diagnostic: help and notes go into the message, labels become related
    information (in whichever file they point to), the code links to its page."""
    here = positions[diagnostic.span.file]
    message = diagnostic.message
    for note in diagnostic.notes:
        message += f"\nnote: {note}"
    if diagnostic.help:
        message += f"\nhelp: {diagnostic.help}"
    related = []
    for label in diagnostic.labels:
        where = positions.get(label.span.file)
        if where is not None:
            location = types.Location(uri=uri_of(label.span.file), range=where.span_range(label.span))
            related.append(types.DiagnosticRelatedInformation(location=location, message=label.message))
    href = docs_href(diagnostic.code)
    return types.Diagnostic(
        range=here.span_range(diagnostic.span),
        message=message,
        severity=SEVERITIES[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=href) if href else None,
        source="flowc",
        related_information=related or None,
        tags=[types.DiagnosticTag.Unnecessary] if diagnostic.code in UNNECESSARY else None,
    )


def workspace_edit(fix: Fix, positions: dict[str, Positions]) -> types.WorkspaceEdit | None:
    changes: dict[str, list[types.TextEdit]] = {}
    for file in dict.fromkeys(edit.span.file for edit in fix.edits):
        where = positions.get(file)
        if where is None:
            return None
        edits = [edit for edit in fix.edits if edit.span.file == file]
        changes[uri_of(file)] = [types.TextEdit(range=where.range(start, end), new_text=new_text)
                                 for start, end, new_text in widened(where.source.text, edits)]
    return types.WorkspaceEdit(changes=changes)


class Shift:
    """Offsets between an earlier text of a document and its current one, which differ in one region (what the
    edits since replaced): outside it an offset moves by the change in length, inside it maps to nothing."""

    def __init__(self, old: str, new: str) -> None:
        self.old_length, self.new_length = len(old), len(new)
        if old is new:
            self.prefix, self.suffix = len(old), 0
            return
        shorter, m, n = min(len(old), len(new)), len(old), len(new)
        self.prefix = _common_length(shorter, lambda a, b: old[a:b] == new[a:b])
        self.suffix = _common_length(shorter - self.prefix, lambda a, b: old[m - b : m - a] == new[n - b : n - a])

    def source(self, old: SourceFile, new: str) -> SourceFile:
        """The current text as a SourceFile, its line starts taken from the earlier text's outside the changed
        region (a hover on a large file must not look for every line break again)."""
        starts = old.line_starts
        old_end, new_end = self.old_length - self.suffix, self.new_length - self.suffix
        kept = starts[: bisect_right(starts, self.prefix)]
        changed, found = [], new.find("\n", self.prefix, new_end)
        while found != -1:
            changed.append(found + 1)
            found = new.find("\n", found + 1, new_end)
        moved = map((self.new_length - self.old_length).__add__, starts[bisect_right(starts, old_end) :])
        return SourceFile(old.path, new, [*kept, *changed, *moved])

    def to_old(self, offset: int) -> int | None:
        if offset <= self.prefix:
            return offset
        if offset >= self.new_length - self.suffix:
            return offset - self.new_length + self.old_length
        return None

    def to_new(self, offset: int) -> int | None:
        if offset <= self.prefix:
            return offset
        if offset >= self.old_length - self.suffix:
            return offset - self.old_length + self.new_length
        return None


def _common_length(limit: int, same: Callable[[int, int], bool]) -> int:
    """The largest k <= limit such that the texts agree on their first k characters, where same(a, b) says
    whether they agree on characters a to b (counted from the start for the prefix, from the end for the
    suffix). A binary search that compares only the stretch between the bounds it has established (slices
    compared in C), so it copies about twice the text in all, not the prefix at every step."""
    low, high = 0, limit  # the texts agree on [0, low); they differ somewhere in [low, high] unless low == limit
    while low < high:
        middle = (low + high + 1) // 2
        if same(low, middle):
            low = middle
        else:
            high = middle - 1
    return low
