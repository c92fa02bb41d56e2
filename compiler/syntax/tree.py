"""Concrete syntax: what the parser produces and the formatter and lowering read.

The grammar is generic (statements of atoms with optional blocks), so the syntax tree is too: three node
types and tokens. Nodes are plain slotted classes because they are built for every line of every file.
"""

from __future__ import annotations

# Deeper nesting than this is reported (FC008) and not followed: no real call flow comes close (SSML inside
# a `say` inside a `gather` is 3 or 4 levels), and every later phase walks the tree recursively.
MAX_NESTING_DEPTH = 64


class Token:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.start})"


class Call:
    """`env(NAME)`, `hook(name)`: a word applied to arguments."""

    __slots__ = ("name", "args", "start", "end")
    kind = "call"

    def __init__(self, name: Token, args: list[Token], end: int) -> None:
        self.name = name
        self.args = args
        self.start = name.start
        self.end = end

    @property
    def text(self) -> str:
        return f"{self.name.text}({', '.join(a.text for a in self.args)})"


Atom = Token | Call


class Block:
    __slots__ = ("statements", "start", "end", "closed")

    def __init__(self, statements: list[Statement], start: int, end: int, closed: bool = True) -> None:
        self.statements = statements
        self.start = start
        self.end = end
        self.closed = closed


class Statement:
    __slots__ = ("atoms", "block", "start", "end")

    def __init__(self, atoms: list[Atom], block: Block | None) -> None:
        self.atoms = atoms
        self.block = block
        if atoms:
            self.start = atoms[0].start
        else:
            assert block is not None, "a statement has atoms, a block or both"
            self.start = block.start
        self.end = block.end if block is not None else atoms[-1].end


class Module:
    __slots__ = ("path", "statements", "comments")

    def __init__(self, path: str, statements: list[Statement], comments: list[Token]) -> None:
        self.path = path
        self.statements = statements
        self.comments = comments
