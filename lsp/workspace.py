"""The server's view of the project: every .flow file of the workspace folders, open documents overriding disk.

Each file's front end (decode, parse, lower) is cached by its text, so a check after an edit re-parses only the
edited file; the checker then runs over the whole project, because its rules are cross-file (names, unused
flows, conference settings). The result keeps what the features need: diagnostics per file, the syntax tree and
IR of every file, and the name links.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from flowc.check.registry import EVERYTHING, Selection, selection_from_options
from flowc.diagnostics import Diagnostic, Severity, Span
from flowc.ir import Conference, Flow, FlowFile, Project
from flowc.lower import lower
from flowc.lsp.incremental import IncrementalFile
from flowc.parser import parse
from flowc.source import MAX_SOURCE_BYTES, SourceError, SourceFile, decode
from flowc.syntax import Module

if TYPE_CHECKING:
    from flowc.lsp.index import FileIndex

logger = logging.getLogger(__name__)
MAX_WORKSPACE_FILES = 5000  # a workspace with more .flow files than this is scanned only this far
WORKSPACE = ""  # root_of() for the workspace folders' project (a path is never empty)
SKIPPED_DIRECTORIES = frozenset(("node_modules", "__pycache__", "build", "dist"))


@dataclass
class FileAnalysis:
    """The front end's output for one file's text."""

    path: str
    text: str
    source: SourceFile
    module: Module | None  # None when the file could not be read as text (binary, too large)
    flow_file: FlowFile
    diagnostics: list[Diagnostic]
    _index: FileIndex | None = field(default=None, repr=False)

    @property
    def index(self) -> FileIndex:
        """The sites of this text (built on first use: only hover and navigation need it)."""
        if self._index is None:
            from flowc.lsp.index import build_index

            self._index = build_index(self.flow_file, self.source.text)
        return self._index


def analyse(path: str, text: str, incremental: IncrementalFile | None = None) -> FileAnalysis:
    """Decode, parse and lower one file; never raises for bad input (problems become diagnostics).
    With `incremental`, only the declarations that changed since its last text are parsed again."""
    try:
        source = decode(path, text.encode("utf-8", "surrogateescape"))
    except (SourceError, UnicodeError) as error:
        code, message = (error.code, error.message) if isinstance(error, SourceError) else (
            "FC004", "file is not valid UTF-8 (it contains an unpaired surrogate)")
        empty = SourceFile(path, "")
        return FileAnalysis(path, text, empty, None, FlowFile(path),
                            [Diagnostic(code, Severity.ERROR, message, Span(path, 0, 0))])
    try:
        if incremental is not None:
            parts = incremental.analyse(source.text)
            if parts is not None:
                return FileAnalysis(path, text, source, *parts)
        module, diagnostics = parse(source.text, path)
    except Exception:  # a parser bug must not stop the other files (or the server): log it, skip the file
        logger.exception("parsing %s failed", path)
        return FileAnalysis(path, text, source, None, FlowFile(path), [])
    try:
        flow_file, lowering = lower(module)
    except Exception:  # a lowering bug: the syntax errors are still worth showing
        logger.exception("lowering %s failed", path)
        flow_file, lowering = FlowFile(path), []
    return FileAnalysis(path, text, source, module, flow_file, diagnostics + lowering)


def read_text(path: str) -> str:
    """A disk file as text for analyse(): at most MAX_SOURCE_BYTES + 1 bytes (decode reports larger files).
    Raises OSError for anything but a regular file: opening a FIFO named x.flow would block the server for good."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"not a regular file: {path}")
    with open(path, "rb") as handle:
        data = handle.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES or b"\x00" in data:
        return data.decode("latin-1")  # keeps the size and the NUL byte, so decode() reports them
    return data.decode("utf-8", "surrogateescape")


def find_flow_files(folders: list[str], limit: int = MAX_WORKSPACE_FILES) -> list[str]:
    """The .flow files below the folders, skipping hidden and tool directories; sorted, at most `limit`."""
    found: list[str] = []
    for folder in folders:
        for root, directories, files in os.walk(folder):
            directories[:] = sorted(d for d in directories if not d.startswith(".") and d not in SKIPPED_DIRECTORIES)
            found.extend(os.path.join(root, name) for name in sorted(files) if name.endswith(".flow"))
            if len(found) >= limit:
                return found[:limit]
    return found


@dataclass
class CheckResult:
    """One check of a project: the analyses it used and every diagnostic, by file. The workspace's result
    combines its projects (one per workspace folder, one per directory of a file opened outside them);
    `group(path)` is the project a file belongs to, whose names its features use."""

    analyses: dict[str, FileAnalysis]
    diagnostics: dict[str, list[Diagnostic]]
    project: Project
    groups: dict[str, CheckResult] = field(default_factory=dict, repr=False)  # by path, when combined

    def group(self, path: str) -> CheckResult:
        return self.groups.get(path, self)

    @cached_property
    def links(self):
        from flowc.analysis import analyse  # the check's own analysis of this project, not a second one

        return analyse(self.project).links

    @cached_property
    def flows(self) -> dict[str, Flow]:
        return self.project.flows

    @cached_property
    def conferences(self) -> dict[str, Conference]:
        return self.project.conferences


@dataclass
class Workspace:
    """Texts of the project's files (disk, or the editor's for open documents) and the cached analyses."""

    disk: dict[str, str] = field(default_factory=dict)  # the workspace folders' files
    open: dict[str, str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    neighbours: dict[str, str] = field(default_factory=dict)  # files beside open documents outside the folders
    cache: dict[str, FileAnalysis] = field(default_factory=dict)
    incremental: dict[str, IncrementalFile] = field(default_factory=dict)  # for open documents
    last: CheckResult | None = None
    selection: Selection = EVERYTHING  # the codes the editor asked for (`select`/`ignore` options)

    def use_options(self, options: object) -> None:
        """The editor's initialization options: `select`/`ignore` lists of codes or prefixes, as the CLI's."""
        self.selection = selection_from_options(options)

    def load_folders(self, folders: list[str]) -> None:
        self.folders += [os.path.normpath(f) for f in folders if os.path.normpath(f) not in self.folders]
        for path in find_flow_files(folders):
            try:
                self.disk[path] = read_text(path)
            except OSError:
                continue

    def remove_folder(self, folder: str) -> None:
        folder = os.path.normpath(folder)
        if folder in self.folders:
            self.folders.remove(folder)
        root = os.path.join(folder, "")
        for path in [p for p in self.disk if p.startswith(root) and self.folder_of(p) is None]:
            del self.disk[path]

    def folder_of(self, path: str) -> str | None:
        """The innermost workspace folder holding `path`."""
        found = None
        for folder in self.folders:
            if path.startswith(os.path.join(folder, "")) and (found is None or len(folder) > len(found)):
                found = folder
        return found

    def root_of(self, path: str) -> str:
        """Which project a file belongs to: the workspace folders' files form one project (and unsaved documents,
        untitled:, join it: that is likely where they will be saved); a file outside them belongs with the files
        of its directory, as `flowc check DIR` would see it."""
        if self.folder_of(path) is not None or (self.folders and not os.path.isabs(path)):
            return WORKSPACE
        return os.path.dirname(path) if os.path.isabs(path) else path

    def opened(self, path: str, text: str) -> None:
        """A document opened in the editor; one outside the folders brings the .flow files beside it."""
        self.open[path] = text
        if self.folder_of(path) is None and os.path.isabs(path):
            directory = os.path.dirname(path)
            try:
                names = sorted(os.listdir(directory))[:MAX_WORKSPACE_FILES]
            except OSError:
                names = []
            for name in names:
                sibling = os.path.join(directory, name)
                if name.endswith(".flow") and sibling not in self.neighbours and os.path.isfile(sibling):
                    try:
                        self.neighbours[sibling] = read_text(sibling)
                    except OSError:
                        continue

    def closed(self, path: str) -> None:
        """A document closed: a workspace file goes back to its disk text; files outside the folders leave the
        project once no open document needs them."""
        self.open.pop(path, None)
        if self.folder_of(path) is not None:
            if path in self.disk or os.path.isfile(path):
                self.reload(path)
            return
        needed = self._outside_directories()
        for sibling in [p for p in self.neighbours if os.path.dirname(p) not in needed]:
            del self.neighbours[sibling]

    def changed_on_disk(self, path: str, deleted: bool) -> None:
        """A watched file changed: files outside the folders matter only beside an open document."""
        texts = self.disk if self.folder_of(path) is not None else self.neighbours
        if deleted:
            texts.pop(path, None)
        elif texts is self.disk or path in self.neighbours or os.path.dirname(path) in self._outside_directories():
            try:
                texts[path] = read_text(path)
            except OSError:
                texts.pop(path, None)

    def _outside_directories(self) -> set[str]:
        return {os.path.dirname(p) for p in self.open if self.folder_of(p) is None and os.path.isabs(p)}

    def reload(self, path: str) -> None:
        """Re-read a file from disk (after it is closed in the editor, or changed on disk)."""
        try:
            self.disk[path] = read_text(path)
        except OSError:
            self.disk.pop(path, None)

    def text(self, path: str) -> str | None:
        text = self.open.get(path)
        if text is None:
            text = self.disk.get(path)
        return self.neighbours.get(path) if text is None else text

    def paths(self) -> list[str]:
        return sorted(set(self.disk) | set(self.open) | set(self.neighbours))

    def analysis(self, path: str, text: str | None = None) -> FileAnalysis | None:
        """The analysis of a file's current text, reusing the cached one when the text has not changed."""
        if text is None:
            text = self.text(path)
            if text is None:
                return None
        cached = self.cache.get(path)
        if cached is not None and (cached.text is text or cached.text == text):
            return cached
        incremental = None
        if path in self.open:
            incremental = self.incremental.get(path)
            if incremental is None:
                incremental = self.incremental[path] = IncrementalFile(path)
        fresh = analyse(path, text, incremental)
        self.cache[path] = fresh
        return fresh

    def is_current(self) -> bool:
        last = self.last
        if last is None:
            return False
        paths = self.paths()
        if len(paths) != len(last.analyses):
            return False
        for path in paths:
            analysed = last.analyses.get(path)
            text = self.text(path)
            if analysed is None or not (analysed.text is text or analysed.text == text):
                return False
        return True

    def check(self) -> CheckResult:
        """Check the whole project as it is now (open documents' text over disk)."""
        from flowc.check import check_project

        analyses = {}
        for path in self.paths():
            analysis = self.analysis(path)
            if analysis is not None:
                analyses[path] = analysis
        for stale in set(self.cache) - set(analyses):
            del self.cache[stale]
        for closed in set(self.incremental) - set(self.open):
            del self.incremental[closed]
        by_root: dict[str, dict[str, FileAnalysis]] = {}
        for path, analysis in analyses.items():
            by_root.setdefault(self.root_of(path), {})[path] = analysis
        results = [self._check_group(group, check_project, self.selection) for group in by_root.values()]
        if len(results) <= 1:
            self.last = results[0] if results else CheckResult({}, {}, Project([]))
            return self.last
        diagnostics = {path: found for result in results for path, found in result.diagnostics.items()}
        groups = {path: result for result in results for path in result.analyses}
        main = next((r for root, r in zip(by_root, results, strict=True) if root == WORKSPACE), results[0])
        self.last = CheckResult(analyses, diagnostics, main.project, groups)
        return self.last

    @staticmethod
    def _check_group(analyses: dict[str, FileAnalysis], check_project,
                     selection: Selection = EVERYTHING) -> CheckResult:
        project = Project([a.flow_file for a in analyses.values()])
        diagnostics = {path: selection.filter(a.diagnostics) for path, a in analyses.items()}
        try:
            found = check_project(project, selection=selection)
        except Exception:  # a checker bug: keep the syntax and structure diagnostics rather than none
            logger.exception("the checker failed; publishing the front end's diagnostics only")
            found = []
        for diagnostic in found:
            diagnostics.setdefault(diagnostic.span.file, []).append(diagnostic)
        return CheckResult(analyses, diagnostics, project)

    def current(self) -> CheckResult:
        """The latest check, re-run first if any text changed since (features that need whole-project facts)."""
        if self.is_current():
            return self.last  # type: ignore[return-value]
        return self.check()
