"""Offsets <-> LSP positions (lsp/convert.py) in each position encoding, against pygls' own unit counting.

The server converts by encoding the line rather than counting character by character (pygls' way), which took
tens of milliseconds per request on a 200,000-character line; these tests pin that both agree everywhere,
including positions that fall inside a character (the next character is meant).
"""

from __future__ import annotations

import pytest
from flowc.lsp.convert import Positions
from flowc.syntax.source import SourceFile
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


def line_starts(text: str) -> list[int]:
    return [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]


def test_shift_maps_offsets_and_derives_the_new_texts_lines():
    """Hover answers from the previous analysis through a Shift while the new text is analysed: the common
    prefix and suffix, and the new text's line starts built from the old ones, against a plain computation."""
    import random

    from flowc.lsp.convert import Shift

    rng = random.Random(15)
    for _ in range(3000):
        old = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 40)))
        cut = sorted(rng.randint(0, len(old)) for _ in range(2))
        new = old[: cut[0]] + "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 6))) + old[cut[1] :]
        shift = Shift(old, new)
        prefix = next((i for i in range(min(len(old), len(new))) if old[i] != new[i]), min(len(old), len(new)))
        assert shift.prefix == prefix
        assert old[len(old) - shift.suffix :] == new[len(new) - shift.suffix :]
        assert shift.suffix <= min(len(old), len(new)) - prefix
        assert shift.suffix == min(len(old), len(new)) - prefix or (
            old[len(old) - shift.suffix - 1] != new[len(new) - shift.suffix - 1])
        assert SourceFile("x", old).line_starts == line_starts(old)
        assert shift.source(SourceFile("x", old), new).line_starts == line_starts(new)
        for offset in range(len(new) + 1):  # an offset maps to the same place in the unchanged text around it
            back = shift.to_old(offset)
            assert back is None or new[:offset] == old[:back] or new[offset:] == old[back:]
            assert back is not None or prefix < offset < len(new) - shift.suffix
    same = "flow a {\n}\n"
    assert Shift(same, same).to_old(3) == 3
