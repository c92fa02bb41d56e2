"""Rendering diagnostics for people (rustc/ruff style, with the source line and a caret underline) and for
machines (JSON, ruff-like fields)."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from flowc.core.diagnostics import Diagnostic, Fix, Label, Severity, Span, sort_key
from flowc.syntax.source import SourceFile

COLORS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
BOLD, BLUE, RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"


def use_color(stream: TextIO = sys.stderr) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def location(span: Span, sources: dict[str, SourceFile]) -> tuple[int, int, int, int]:
    source = sources.get(span.file)
    if source is None:
        return 1, 1, 1, 1
    line, column = source.position(span.start)
    end_line, end_column = source.position(span.end)
    return line, column, end_line, end_column


def render_text(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], color: bool = False) -> str:
    blocks = [render_one(d, sources, color) for d in sorted(diagnostics, key=sort_key)]
    return "\n".join(blocks)


# Control characters from a file (an ESC in a string, a BEL) would drive the reader's terminal: show them as
# their one-column Unicode "control pictures" instead. Tabs become one space so carets stay aligned.
VISIBLE = {code: chr(0x2400 + code) for code in range(32)} | {0x7F: "\u2421", 0x09: " "}


def visible(text: str) -> str:
    return text.translate(VISIBLE)


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK, emoji) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_one(diagnostic: Diagnostic, sources: dict[str, SourceFile], color: bool = False) -> str:
    diagnostic = _visible_diagnostic(diagnostic)
    paint = (lambda code, text: f"{code}{text}{RESET}") if color else (lambda code, text: text)
    severity = diagnostic.severity
    line, column, _, _ = location(diagnostic.span, sources)
    fixable = " [*]" if diagnostic.fix and diagnostic.fix.safe else ""
    out = [
        paint(COLORS[severity], f"{severity.label}[{diagnostic.code}]") + fixable
        + paint(BOLD, f": {diagnostic.message}"),
        paint(BLUE, "  --> ") + f"{diagnostic.span.file}:{line}:{column}",
    ]
    out.extend(snippet(diagnostic.span, sources, "^", "", paint, COLORS[severity]))
    for label in diagnostic.labels:
        label_line, label_column, _, _ = location(label.span, sources)
        out.append(paint(BLUE, "  --> ") + f"{label.span.file}:{label_line}:{label_column}")
        out.extend(snippet(label.span, sources, "-", label.message, paint, BLUE))
    for note in diagnostic.notes:
        out.append(paint(BLUE, "   = ") + f"note: {note}")
    if diagnostic.help:
        out.append(paint(BLUE, "   = ") + f"help: {diagnostic.help}")
    if diagnostic.fix:
        unsafe = "" if diagnostic.fix.safe else " (unsafe)"
        out.append(paint(BLUE, "   = ") + f"fix: {diagnostic.fix.message}{unsafe}")
    return "\n".join(out) + "\n"


def _visible_diagnostic(diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic with every text that can quote the user's file made safe to print."""
    fix = diagnostic.fix and Fix(visible(diagnostic.fix.message), diagnostic.fix.edits, diagnostic.fix.safe)
    return replace(diagnostic, message=visible(diagnostic.message),
                   help=diagnostic.help and visible(diagnostic.help), notes=[visible(n) for n in diagnostic.notes],
                   labels=[Label(label.span, visible(label.message)) for label in diagnostic.labels], fix=fix)


MAX_SNIPPET_WIDTH = 120


def snippet(span: Span, sources: dict[str, SourceFile], mark: str, message: str, paint: Callable[[str, str], str],
            color: str) -> list[str]:
    source = sources.get(span.file)
    if source is None or not source.text:
        return []
    line, column, end_line, end_column = location(span, sources)
    text = visible(source.line_text(line))
    width = max(1, (end_column if end_line == line else len(text) + 1) - column)
    if len(text) > MAX_SNIPPET_WIDTH:  # minified XML, generated files: show a window around the span
        text, column, width = _window(text, column, width)
    # carets are placed in terminal columns, not characters: `say "日本" gendr` underlines `gendr`
    marked = text[column - 1 : column - 1 + width]
    indent = display_width(text[: column - 1]) + 1
    width = max(1, display_width(marked) + max(0, width - len(marked)))
    gutter = " " * len(str(line))
    return [
        paint(BLUE, f"{gutter} |"),
        paint(BLUE, f"{line} |") + f" {text}",
        paint(BLUE, f"{gutter} |") + " " * indent + paint(color, mark * width + (f" {message}" if message else "")),
    ]


def _window(text: str, column: int, width: int) -> tuple[str, int, int]:
    """Cut a long line to MAX_SNIPPET_WIDTH characters around `column`, marking the cuts with `…`."""
    start = max(0, column - 1 - MAX_SNIPPET_WIDTH // 3)
    end = min(len(text), start + MAX_SNIPPET_WIDTH)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    column = column - start + len(prefix)
    width = max(1, min(width, end - start + len(prefix) - column + 1))
    return prefix + text[start:end] + suffix, column, width


def to_json(diagnostic: Diagnostic, sources: dict[str, SourceFile]) -> dict[str, Any]:
    line, column, end_line, end_column = location(diagnostic.span, sources)
    fix = None
    if diagnostic.fix:
        fix = {
            "message": diagnostic.fix.message,
            "applicability": "safe" if diagnostic.fix.safe else "unsafe",
            "edits": [edit_json(e.span, e.new_text, sources) for e in diagnostic.fix.edits],
        }
    return {
        "code": diagnostic.code,
        "severity": diagnostic.severity.label,
        "message": diagnostic.message,
        "filename": diagnostic.span.file,
        "location": {"row": line, "column": column},
        "end_location": {"row": end_line, "column": end_column},
        "help": diagnostic.help,
        "notes": diagnostic.notes,
        "labels": [
            {"message": label.message, "filename": label.span.file,
             **dict(zip(("location", "end_location"), _pair(label.span, sources), strict=True))}
            for label in diagnostic.labels
        ],
        "fix": fix,
    }


def _pair(span: Span, sources: dict[str, SourceFile]) -> tuple[dict[str, int], dict[str, int]]:
    line, column, end_line, end_column = location(span, sources)
    return {"row": line, "column": column}, {"row": end_line, "column": end_column}


def edit_json(span: Span, new_text: str, sources: dict[str, SourceFile]) -> dict[str, Any]:
    start, end = _pair(span, sources)
    return {"content": new_text, "location": start, "end_location": end}


def render_json(diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> str:
    return json.dumps([to_json(d, sources) for d in sorted(diagnostics, key=sort_key)], indent=2)


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    notes = len(diagnostics) - errors - warnings
    if not parts:
        return f"no problems found ({notes} note{'s' * (notes != 1)})" if notes else "no problems found"
    return "found " + " and ".join(parts)
