"""Quick fixes (each diagnostic's own fix, as the CLI reports it) and whole-document formatting."""

from __future__ import annotations

from flowc.lsp.convert import Positions, lsp_diagnostic, workspace_edit
from flowc.lsp.workspace import CheckResult
from lsprotocol import types

# Formatting edits are the lines that change, matched with difflib, unless that would take long (~100 ms at this
# cost: about 25 lines changed in 20,000): then one edit replaces everything from the first change to the last.
MAX_DIFF_COST = 1_500_000


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
    """The formatter's output as edits of the lines that change (so editors keep the cursor and marks where
    they were); nothing when the text has syntax errors or is already formatted."""
    from collections import Counter
    from difflib import SequenceMatcher

    from flowc.syntax.formatter import LINE, format_source

    formatted = format_source(text, path)
    if formatted is not None and "\r\n" in text:  # the editor keeps the document's line endings; so do we
        formatted = formatted.replace("\n", "\r\n")
    if formatted is None or formatted == text:
        return []
    old, new = LINE.findall(text), LINE.findall(formatted)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    first, last = 0, 0  # the lines both share at the start and at the end
    while first < min(len(old), len(new)) and old[first] == new[first]:
        first += 1
    while last < min(len(old), len(new)) - first and old[-1 - last] == new[-1 - last]:
        last += 1
    middle = len(old) - first - last
    before, after = Counter(old[first : len(old) - last]), Counter(new[first : len(new) - last])
    changed = sum((before - after).values()) + sum((after - before).values())  # lines removed, lines added
    if (changed + 1) * middle > MAX_DIFF_COST:  # matching costs about changed lines x lines: one edit instead
        opcodes = [("replace", first, len(old) - last, first, len(new) - last)]
    else:
        matcher = SequenceMatcher(None, old[first : len(old) - last], new[first : len(new) - last])
        opcodes = [(tag, i1 + first, i2 + first, j1 + first, j2 + first) for tag, i1, i2, j1, j2 in
                   matcher.get_opcodes()]
    return [types.TextEdit(range=positions.range(starts[i1], starts[i2]), new_text="".join(new[j1:j2]))
            for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]
