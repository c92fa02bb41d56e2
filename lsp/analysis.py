"""Checks of the project, off the server's event loop: one Snapshot in, one CheckResult out.

The Analyser keeps what later checks reuse: each file's front end cached by its text (incremental for open
documents, lsp/incremental.py) and, per project, the previous check (lsp/project_check.py decides which files an
edit affects). `check` runs in the server's worker thread; `front_end` may also run in a request's thread at the
same time: both only add finished, never-changed analyses to the caches, so a reader sees either the old entry
or the new one. A check asks `cancelled()` between files and between projects, and stops as soon as a newer
snapshot exists.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from flowc.check.registry import EVERYTHING, Selection
from flowc.lsp.incremental import IncrementalFile
from flowc.lsp.project_check import ProjectCheck
from flowc.lsp.workspace import CheckResult, FileAnalysis, Snapshot, analyse
from flowc.semantics.ir import Project

logger = logging.getLogger(__name__)
# Seconds every check waits between the front end and the rules (cancellable): the tests hold a check with it
# while they send requests and edits.
CHECK_DELAY = float(os.environ.get("FLOWC_LSP_CHECK_DELAY", "0") or 0)


def never() -> bool:
    return False


class Analyser:
    def __init__(self) -> None:
        self.cache: dict[str, FileAnalysis] = {}
        self.incremental: dict[str, IncrementalFile] = {}  # for open documents
        self.projects: dict[str, ProjectCheck] = {}  # by root (Workspace.root_of)
        self.last: CheckResult | None = None  # the latest finished check
        self.last_generation = -1  # the snapshot generation it checked
        self.selection = EVERYTHING  # the codes the editor asked for (Workspace.use_options)

    def cached(self, path: str, text: str) -> FileAnalysis | None:
        found = self.cache.get(path)
        return found if found is not None and (found.text is text or found.text == text) else None

    def front_end(self, path: str, text: str, editing: bool = True) -> FileAnalysis:
        """The analysis of one file's text, from the cache when the text is the one analysed last."""
        found = self.cached(path, text)
        if found is None:
            incremental = None
            if editing:
                incremental = self.incremental.get(path)
                if incremental is None:
                    incremental = self.incremental.setdefault(path, IncrementalFile(path))
            found = analyse(path, text, incremental)
        if editing:  # built here, off the event loop: a hover must not index a big file or find its lines
            _ = found.index, found.source.line_starts
        self.cache[path] = found
        return found

    def prime(self, snapshot: Snapshot, cancelled: Callable[[], bool] = never) -> None:
        """Parse the open documents declaration by declaration if that has not been done for their text (a file
        opened with the text already analysed from disk), so that the first edit re-parses one declaration."""
        for path in snapshot.open:
            if cancelled():
                return
            text = snapshot.texts.get(path)
            incremental = self.incremental.get(path)
            if text is None or (incremental is not None and incremental.text == text):
                continue
            if incremental is None:
                incremental = self.incremental.setdefault(path, IncrementalFile(path))
            incremental.analyse(text)

    def check(self, snapshot: Snapshot, cancelled: Callable[[], bool] = never) -> CheckResult | None:
        """Check every project of the snapshot; None when cancelled (a newer snapshot exists)."""
        analyses: dict[str, FileAnalysis] = {}
        for path in sorted(snapshot.texts, key=lambda p: p not in snapshot.open):  # the edited files first
            if cancelled():
                return None
            analyses[path] = self.front_end(path, snapshot.texts[path], path in snapshot.open)
        if CHECK_DELAY and not pause(CHECK_DELAY, cancelled):
            return None
        for stale in set(self.cache) - set(analyses):
            self.cache.pop(stale, None)
        for closed in set(self.incremental) - snapshot.open:
            self.incremental.pop(closed, None)
        by_root: dict[str, dict[str, FileAnalysis]] = {}
        for path in sorted(analyses):
            by_root.setdefault(snapshot.roots[path], {})[path] = analyses[path]
        for gone in set(self.projects) - set(by_root):
            del self.projects[gone]
        results: dict[str, CheckResult] = {}
        for root, group in by_root.items():
            if cancelled():
                return None
            project = self.projects.get(root)
            if project is None:
                project = self.projects[root] = ProjectCheck()
            results[root] = project.check(group)
        self.last, self.last_generation = selected(combine(analyses, results), self.selection), snapshot.generation
        return self.last


def pause(seconds: float, cancelled: Callable[[], bool]) -> bool:
    """Sleep, waking to stop early when cancelled (False then)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cancelled():
            return False
        time.sleep(0.01)
    return not cancelled()


def selected(result: CheckResult, selection: Selection) -> CheckResult:
    """The result with only the diagnostics the editor selected (`select`/`ignore` options)."""
    if selection.everything:
        return result
    diagnostics = {path: selection.filter(found) for path, found in result.diagnostics.items()}
    return CheckResult(result.analyses, diagnostics, result.project, result.groups)


def combine(analyses: dict[str, FileAnalysis], results: dict[str, CheckResult]) -> CheckResult:
    """One result for the workspace; `group(path)` is the project a file belongs to."""
    from flowc.lsp.workspace import WORKSPACE

    if len(results) <= 1:
        return next(iter(results.values())) if results else CheckResult({}, {}, Project([]))
    diagnostics = {path: found for result in results.values() for path, found in result.diagnostics.items()}
    groups = {path: result for result in results.values() for path in result.analyses}
    main = results.get(WORKSPACE) or next(iter(results.values()))
    return CheckResult(analyses, diagnostics, main.project, groups)
