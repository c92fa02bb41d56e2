"""`flowc fmt`: the one canonical layout of .flow files.

The layout is rebuilt from the syntax tree, so it cannot depend on how the file was written:

- one statement per line, indented 4 spaces per block level; `;`-separated statements go on their own lines;
- one space between atoms, none before `,`; calls are written `env(NAME)`, `hook(a, b)`;
- `{` ends its statement's line and `}` stands on its own line (also for empty and one-line blocks);
- blank lines the author wrote between lines inside a file are kept, at most one; none directly after `{`
  or before `}`; exactly one after every top-level declaration; none at the start; one final newline;
- an end-of-line comment stays at the end of the same line, two spaces after the code; a comment on its
  own line stays before the line it preceded, indented like it (inside a block when it preceded `}`);
  comment text is kept as written, minus trailing blanks;
- strings are copied byte for byte; CRLF becomes LF; trailing blanks go; a UTF-8 byte order mark is kept.

Statements never span lines in .flow, so there is no line wrapping: a long statement stays one long line.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flowc.core.diagnostics import Diagnostic, Severity, Span
from flowc.core.files import ChangedMeanwhile, FileProblem, read_regular, replace_if_unchanged, shown_name
from flowc.syntax.parser import parse
from flowc.syntax.source import MAX_SOURCE_BYTES, SourceError, SourceFile, decode
from flowc.syntax.tree import MAX_NESTING_DEPTH, Atom, Block, Module, Statement

STDIN = "-"  # `flowc fmt -`
INDENT = "    "
COMMENT_GAP = "  "
BOM = b"\xef\xbb\xbf"
COMMENT_BLANKS = " \t\r\f"


@dataclass(slots=True)
class Line:
    """One output line: a statement, a block's `{` line, its `}`, or a comment on its own line."""

    kind: str  # "statement" | "open" | "close" | "comment"
    text: str
    depth: int
    start: int  # source offsets of the line's content, for blank lines and comment attachment
    end: int
    top: bool = False  # ends a top-level declaration: exactly one blank line follows
    trailing: str | None = None  # an end-of-line comment


class TooDeep(Exception):
    """Blocks nested deeper than the compiler follows (FC008). Refusing them also bounds the output, whose
    indentation grows with depth."""

    def __init__(self, block: Block) -> None:
        super().__init__(f"blocks are nested more than {MAX_NESTING_DEPTH} deep")
        self.block = block


def format_source(text: str, path: str = "<input>") -> str | None:
    """The formatted text, or None when `text` has syntax errors (or blocks nested too deep, FC008)."""
    module, errors = parse(text, path)
    if errors:
        return None
    try:
        return format_module(module, text)
    except TooDeep:
        return None


def format_module(module: Module, text: str) -> str:
    """Lay out a parsed, error-free module. Raises TooDeep past MAX_NESTING_DEPTH nested blocks."""
    lines = _attach_comments(_structure(module.statements), _comments(module), text)
    return _render(lines, text)


# -- building the lines --------------------------------------------------------------------------------------
def _head(atoms: list[Atom]) -> str:
    parts: list[str] = []
    for atom in atoms:
        if parts and atom.kind != "COMMA":
            parts.append(" ")
        parts.append(atom.text)  # a Call's text is already canonical: name(a, b)
    return "".join(parts)


def _structure(statements: list[Statement]) -> list[Line]:
    """The statement lines in source order (iterative: nesting depth must not hit Python's recursion limit)."""
    lines: list[Line] = []
    stack: list[tuple[Iterator[Statement], int, Block | None]] = [(iter(statements), 0, None)]
    while stack:
        remaining, depth, block = stack[-1]
        statement = next(remaining, None)
        if statement is None:
            stack.pop()
            if block is not None:
                lines.append(Line("close", "}", depth - 1, block.end - 1, block.end, top=depth == 1))
            continue
        head = _head(statement.atoms)
        if statement.block is None:
            lines.append(Line("statement", head, depth, statement.start, statement.end, top=depth == 0))
            continue
        if depth >= MAX_NESTING_DEPTH:
            raise TooDeep(statement.block)
        opening = f"{head} {{" if head else "{"
        lines.append(Line("open", opening, depth, statement.start, statement.block.start + 1))
        stack.append((iter(statement.block.statements), depth + 1, statement.block))
    return lines


def _comments(module: Module) -> list[tuple[int, int, str]]:
    """(start, end, text) of every comment; a comment runs to the end of its line."""
    return [(token.start, token.end, token.text.rstrip(COMMENT_BLANKS)) for token in module.comments]


def _attach_comments(lines: list[Line], comments: list[tuple[int, int, str]], text: str) -> list[Line]:
    """Merge comments into the lines: a comment on the line of the code before it trails that code; any other
    comment gets its own line, at the depth of the code that follows it (inside the block before a `}`)."""
    result: list[Line] = []
    index = 0
    for line in [*lines, None]:
        limit = line.start if line is not None else len(text) + 1
        while index < len(comments) and comments[index][0] < limit:
            start, end, comment = comments[index]
            index += 1
            previous = result[-1] if result else None
            if previous is not None and previous.trailing is None and text.find("\n", previous.end, start) == -1:
                previous.trailing = comment
                previous.end = end
                continue
            depth = 0 if line is None else line.depth + (line.kind == "close")
            result.append(Line("comment", comment, depth, start, end))
        if line is not None:
            result.append(line)
    return result


def _blank_between(previous: Line, line: Line, text: str) -> bool:
    if previous.kind == "open" or line.kind == "close":
        return False
    if previous.top:
        return True
    return text.count("\n", previous.end, line.start) >= 2


def _render(lines: list[Line], text: str) -> str:
    out: list[str] = []
    previous = None
    for line in lines:
        if previous is not None:
            out.append("\n\n" if _blank_between(previous, line, text) else "\n")
        out.append(INDENT * line.depth + line.text)
        if line.trailing is not None:
            out.append(COMMENT_GAP + line.trailing)
        previous = line
    if out:
        out.append("\n")
    return "".join(out)


# -- the command --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Outcome:
    status: str  # "unchanged" | "changed" | "failed" | "error" (I/O)
    old: str = ""
    new: bytes = b""
    read: bytes = b""  # the file's bytes as read: it is rewritten only if it still holds exactly these


def format_file(path: str) -> Outcome:
    """Format one file in memory, printing its diagnostics to stderr when it cannot be formatted."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        else:
            data = read_regular(path, MAX_SOURCE_BYTES + 1)  # decode() refuses anything longer with a diagnostic
    except FileProblem as problem:  # a FIFO or a device: never opened, so never waited on
        print(f"flowc: {problem}", file=sys.stderr)
        return Outcome("error")
    except OSError as error:
        print(f"flowc: error: {error.strerror or error}: {shown_name(path)}", file=sys.stderr)
        return Outcome("error")
    outcome = format_data(path, data)
    outcome.read = data
    return outcome


def format_data(path: str, data: bytes) -> Outcome:
    try:
        source = decode(path, data)
    except SourceError as error:
        _print_diagnostics([Diagnostic(error.code, Severity.ERROR, error.message, Span(path, 0, 0))],
                           SourceFile(path, ""))
        return Outcome("failed")
    module, errors = parse(source.text, path)
    if errors:
        _print_diagnostics(errors, source)
        return Outcome("failed")
    try:
        formatted = format_module(module, source.text)
    except TooDeep as error:
        block = error.block
        _print_diagnostics([Diagnostic("FC008", Severity.ERROR, str(error), Span(path, block.start, block.start + 1),
                                       help="flatten the statements")], source)
        return Outcome("failed")
    new = (BOM if data.startswith(BOM) else b"") + formatted.encode()
    return Outcome("unchanged" if new == data else "changed", source.text, new)


def _print_diagnostics(diagnostics: list[Diagnostic], source: SourceFile) -> None:
    from flowc.cli.render import render_text, summary, use_color

    print(render_text(diagnostics, {source.path: source}, color=use_color(sys.stderr)), file=sys.stderr)
    print(f"{source.path}: not formatted, {summary(diagnostics)}", file=sys.stderr)


def format_command(paths: list[str], check: bool, diff: bool) -> int:
    """`flowc fmt`: 0 when every file is (now) formatted; 1 when a file has errors, or with --check/--diff
    when a file would change; 2 when a file cannot be read or written. `-` formats standard input to standard
    output (editors and pipes); nothing is written to standard output when it cannot be formatted."""
    counts = {"unchanged": 0, "changed": 0, "failed": 0, "error": 0}
    for path in paths:
        outcome = format_file(path)
        counts[outcome.status] += 1
        if path == STDIN and outcome.status in ("changed", "unchanged") and not (check or diff):
            sys.stdout.buffer.write(outcome.new)
            sys.stdout.flush()
            continue
        if outcome.status != "changed":
            continue
        if diff:
            sys.stdout.write(unified_diff(outcome.old, outcome.new.decode().removeprefix("\ufeff"), path))
        if check or diff:
            print(f"would reformat {path}", file=sys.stderr)
        else:
            try:
                _rewrite(path, outcome.read, outcome.new)
            except ChangedMeanwhile as warning:  # edited while being formatted: the edit wins, say so
                print(f"flowc: {warning}", file=sys.stderr)
                counts["changed"] -= 1
                counts["failed"] += 1
                continue
            except OSError as error:  # the file is left as it was (atomic write); go on with the others
                print(f"flowc: error: cannot write {path}: {error.strerror or error}", file=sys.stderr)
                counts["changed"] -= 1
                counts["error"] += 1
                continue
            print(f"reformatted {path}", file=sys.stderr)
    if paths != [STDIN] or check or diff or counts["failed"] or counts["error"]:  # a pipe wants only the text
        print(_summary(counts, dry_run=check or diff), file=sys.stderr)
    if counts["error"]:
        return 2
    if counts["failed"] or ((check or diff) and counts["changed"]):
        return 1
    return 0


def _rewrite(path: str, read: bytes, data: bytes) -> None:
    target = Path(os.path.realpath(path))  # through a symlink, keep the link and rewrite its target
    replace_if_unchanged(target, read, data, mode=target.stat().st_mode & 0o7777)


def _summary(counts: dict[str, int], dry_run: bool) -> str:
    def files(n: int) -> str:
        return f"{n} file{'s' * (n != 1)}"

    changed = f"{files(counts['changed'])} {'would be reformatted' if dry_run else 'reformatted'}"
    parts = [changed, f"{files(counts['unchanged'])} {'already formatted' if dry_run else 'left unchanged'}"]
    failed = counts["failed"] + counts["error"]
    if failed:
        parts.append(f"{files(failed)} could not be formatted")
    return ", ".join(parts)


LINE = re.compile(r"[^\n]*\n|[^\n]+$")  # lines split at LF only: a lone CR is not a line break in .flow


def unified_diff(old: str, new: str, path: str) -> str:
    import difflib

    lines = difflib.unified_diff(LINE.findall(old), LINE.findall(new), fromfile=f"{path} (original)",
                                 tofile=f"{path} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
