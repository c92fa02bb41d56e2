"""Source files: decoding, size limits and offset -> line/column mapping shared by every phase."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

MAX_SOURCE_BYTES = 2 * 1024 * 1024  # a .flow file larger than this is almost certainly not a flow


@dataclass
class SourceFile:
    path: str
    text: str
    _line_starts: list[int] | None = field(default=None, repr=False)

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:  # each line's start is the sum of the lengths before it, +1 per "\n" (in C)
            lengths = map(len, self.text.split("\n")[:-1])
            self._line_starts = [0, *accumulate(map((1).__add__, lengths))]
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count code points."""
        starts = self.line_starts
        index = bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        if line < 1 or line > len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r")

    def offset(self, line: int, column: int) -> int:
        """Inverse of position(): a character offset for a 1-based line and column."""
        starts = self.line_starts
        line = max(1, min(line, len(starts)))
        return min(starts[line - 1] + column - 1, len(self.text))


class SourceError(Exception):
    """A file that cannot be read as .flow text; carries a message meant for users."""

    def __init__(self, code: str, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


def decode(path: str, data: bytes) -> SourceFile:
    """Turn raw bytes into a SourceFile, refusing binary, oversized or badly encoded input."""
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError("FC002", f"file is {len(data)} bytes; flowc reads at most {MAX_SOURCE_BYTES} bytes")
    nul = data.find(b"\x00")
    if nul != -1:
        raise SourceError("FC003", "file looks binary (it contains a NUL byte)", nul)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError("FC004", f"file is not valid UTF-8 (byte 0x{data[error.start]:02x})", error.start) from None
    return SourceFile(path, text)


def read_source(path: str | Path) -> SourceFile:
    """Read a file from disk; OSError is left to the caller (it is a usage/I-O error, exit 2)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_SOURCE_BYTES + 1)
    return decode(str(path), data)
