"""Quick fixes (each diagnostic's own fix, as the CLI reports it) and whole-document formatting."""

from __future__ import annotations

from flowc.lsp.convert import Positions, lsp_diagnostic, workspace_edit
from flowc.lsp.workspace import CheckResult
from lsprotocol import types


def code_actions(result: CheckResult, path: str, start: int, end: int,
                 positions: dict[str, Positions]) -> list[types.CodeAction]:
    """One quick fix per fixable diagnostic touching [start, end]; safe fixes are marked preferred."""
    actions = []
    for diagnostic in result.diagnostics.get(path, []):
        fix = diagnostic.fix
        if fix is None or diagnostic.span.end < start or diagnostic.span.start > end:
            continue
        edit = workspace_edit(fix, positions)
        if edit is None:
            continue
        actions.append(types.CodeAction(
            title=fix.message[:1].upper() + fix.message[1:],
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[lsp_diagnostic(diagnostic, positions)],
            edit=edit,
            is_preferred=fix.safe or None,
        ))
    return actions


def format_edits(text: str, path: str, positions: Positions) -> list[types.TextEdit]:
    """The formatter's output as one edit; nothing when the text has syntax errors or is already formatted."""
    from flowc.formatter import format_source  # written alongside the server; imported when first used

    formatted = format_source(text, path)
    if formatted is not None and "\r\n" in text:  # the editor keeps the document's line endings; so do we
        formatted = formatted.replace("\n", "\r\n")
    if formatted is None or formatted == text:
        return []
    return [types.TextEdit(range=positions.range(0, len(text)), new_text=formatted)]
