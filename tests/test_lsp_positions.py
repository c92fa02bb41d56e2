"""Offsets <-> LSP positions (lsp/convert.py) in each position encoding, against pygls' own unit counting.

The server converts by encoding the line rather than counting character by character (pygls' way), which took
tens of milliseconds per request on a 200,000-character line; these tests pin that both agree everywhere,
including positions that fall inside a character (the next character is meant).
"""

from __future__ import annotations

import pytest
from flowc.lsp.convert import Positions
from flowc.source import SourceFile
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

LINES = ["a\U0001F600\u00e9\U0001D11Eb\u20acx", "\U0001F600\U0001F600", "\u00e9\u00e9\u20ac\u20ac", "plain", ""]
ENCODINGS = [types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf32]


def expected_offset(codec: PositionCodec, line: str, character: int) -> int:
    units = 0
    for index, char in enumerate(line):
        if units >= character:
            return index
        units += codec.client_num_units(char)
    return len(line)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("line", LINES)
def test_offsets_and_positions_agree_with_pygls(encoding, line):
    codec = PositionCodec(encoding)
    text = f"# first\n{line}\nlast"
    positions = Positions(SourceFile("x.flow", text), codec)
    start = text.index("\n") + 1
    for character in range(codec.client_num_units(line) + 3):  # past the end: clamped to the line's end
        offset = positions.offset(types.Position(line=1, character=character))
        assert offset == start + expected_offset(codec, line, character), character
    for index in range(len(line) + 1):
        assert positions.position(start + index) == types.Position(line=1, character=codec.client_num_units(
            line[:index]))


def test_a_very_long_line_converts_both_ways():
    line = '    say "\U0001F600' + "\u00e9" * 200_000 + '" voice julie'
    positions = Positions(SourceFile("x.flow", f"flow a {{\n{line}\n}}\n"), PositionCodec())
    offset = positions.offset(types.Position(line=1, character=200_012))  # the emoji counts two units
    assert offset == len("flow a {\n") + 200_011
    assert positions.position(offset) == types.Position(line=1, character=200_012)
