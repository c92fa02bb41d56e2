"""Applying diagnostics' machine-applicable fixes to source text (`flowc check --fix`, the language server).

Fixes are applied like ruff does: safe fixes by default, unsafe ones only when asked; a fix whose edits overlap
an edit already taken is left for the next pass, so one run never produces text that no diagnostic described.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowc.core.diagnostics import Diagnostic, Edit

MAX_PASSES = 5  # a fix can expose another (a renamed attribute gets its value checked); stop well before looping


def fixable(diagnostics: Iterable[Diagnostic], unsafe: bool = False) -> list[Diagnostic]:
    return [d for d in diagnostics if d.fix is not None and (d.fix.safe or unsafe)]


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (offsets into `text`), deletions widened as `widened` says."""
    out = text
    for start, end, new_text in reversed(widened(text, edits)):  # later edits first so offsets stay valid
        out = out[:start] + new_text + out[end:]
    return out


def widened(text: str, edits: Iterable[Edit]) -> list[tuple[int, int, str]]:
    """The edits as (start, end, new text) in order, each deletion taking along the blanks, `;` or line it
    would leave behind, so removing `gender female`, `hangup;` or a whole flow leaves tidy text. `check --fix`
    and the language server's quick fixes both use this, so a fix reads the same wherever it is applied."""
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end))
    # a widened deletion never reaches into the edit before or after it
    floors = [0] + [e.span.end for e in ordered[:-1]]
    ceilings = [e.span.start for e in ordered[1:]] + [len(text)]
    result = []
    for edit, floor, ceiling in zip(ordered, floors, ceilings, strict=True):
        start, end = edit.span.start, edit.span.end
        if not edit.new_text and end > start:
            start, end = _widen_deletion(text, start, end, floor, ceiling)
        result.append((start, end, edit.new_text))
    return result


def _widen_deletion(text: str, start: int, end: int, floor: int, ceiling: int) -> tuple[int, int]:
    """Take along the blanks a deletion leaves behind: the blank before `gender female`, the `;` after a
    statement in `say "a"; hangup; say "b"`, and for whole lines (an unused flow) the line break and one of
    the blank lines that would otherwise pile up."""
    if end < len(text) and text[end] not in " \t\r\n;}":
        return start, end
    after = end
    while after < ceiling and text[after] in " \t":
        after += 1
    if after < ceiling and text[after] == ";":  # a statement between `;`s: its separator goes with it
        after += 1
        while after < ceiling and text[after] in " \t":
            after += 1
        return start, after
    while start > floor and text[start - 1] in " \t":
        start -= 1
    if (start == 0 or text[start - 1] == "\n") and text.startswith("\n", end) and end < ceiling:
        end += 1  # the deleted lines' own line break
        if (start < 2 or text[start - 2] == "\n") and text.startswith("\n", end) and end < ceiling:
            end += 1  # a blank line before and after: keep one
        elif end == len(text) and start >= 2 and text[start - 2] == "\n" and start - 1 >= floor:
            start -= 1  # the last declaration: the blank line before it goes too
    return start, end


def choose_edits(diagnostics: Iterable[Diagnostic], unsafe: bool = False) -> dict[str, list[Edit]]:
    """Per file, the edits of every applicable fix that does not overlap a fix chosen before it."""
    chosen: dict[str, list[Edit]] = {}
    for diagnostic in sorted(fixable(diagnostics, unsafe), key=lambda d: (d.span.file, d.span.start, d.code)):
        edits = diagnostic.fix.edits  # type: ignore[union-attr]
        taken = chosen.setdefault(diagnostic.span.file, [])
        if all(e.span.file == diagnostic.span.file for e in edits) and not any(
            _overlaps(new, old) for new in edits for old in taken
        ):
            taken.extend(edits)
    return {path: edits for path, edits in chosen.items() if edits}


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.span.start == a.span.end == b.span.start == b.span.end:
        return True  # two insertions at one point: their order would be arbitrary
    return a.span.start < b.span.end and b.span.start < a.span.end
