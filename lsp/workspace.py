"""The server's view of the project: every .flow file of the workspace folders, open documents overriding disk.

The Workspace holds the texts and belongs to the server's event loop; a check runs in another thread on a
Snapshot of them (lsp/analysis.py). A file's front end (decode, parse, lower) gives a FileAnalysis; a check
gives a CheckResult: what the features need, diagnostics per file, the syntax tree and IR of every file, and the
name links. Both are never changed once made, so any thread may read them.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from flowc.core.diagnostics import Diagnostic, Severity, Span
from flowc.lsp.incremental import IncrementalFile
from flowc.semantics.ir import Conference, Flow, FlowFile, Project
from flowc.semantics.lower import lower
from flowc.syntax.parser import parse
from flowc.syntax.source import MAX_SOURCE_BYTES, SourceError, SourceFile, decode
from flowc.syntax.tree import Module

if TYPE_CHECKING:
    from flowc.lsp.analysis import Analyser
    from flowc.lsp.index import FileIndex
    from flowc.semantics.links import Links

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
    def links(self) -> Links:
        from flowc.semantics.analysis import (
            analyse,  # the analysis the checker made of this project, when it is the same
        )

        return analyse(self.project).links

    @cached_property
    def flows(self) -> dict[str, Flow]:
        return self.project.flows

    @cached_property
    def conferences(self) -> dict[str, Conference]:
        return self.project.conferences


@dataclass(frozen=True)
class Snapshot:
    """The project's texts at one moment, for a check in another thread: nothing in it changes afterwards (the
    texts are strings; the mappings are copies the workspace never touches again)."""

    generation: int  # the workspace's generation when it was taken: a newer one makes this snapshot stale
    texts: dict[str, str]  # every file of every project: the editor's text for open documents, else the disk's
    roots: dict[str, str]  # path -> its project (Workspace.root_of)
    open: frozenset[str]
    versions: dict[str, int]  # the editor's version of each open document's text
    hidden: frozenset[str] = frozenset()  # open documents whose editor text is unknown: no diagnostics for them


@dataclass
class Workspace:
    """Texts of the project's files (disk, or the editor's for open documents). Owned by the server's event
    loop; checks read a Snapshot of it. Every change bumps `generation`."""

    disk: dict[str, str] = field(default_factory=dict)  # the workspace folders' files
    open: dict[str, str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    neighbours: dict[str, str] = field(default_factory=dict)  # files beside open documents outside the folders
    versions: dict[str, int] = field(default_factory=dict)  # open documents' editor versions
    hidden: set[str] = field(default_factory=set)  # open documents out of sync with the editor (lsp.protocol)
    generation: int = 0
    _roots: tuple[list[str], dict[str, str]] = field(default_factory=lambda: ([], {}), repr=False)
    analyser: Analyser = field(default_factory=lambda: _analyser())

    def snapshot(self) -> Snapshot:
        texts = {path: text for path in self.paths() if (text := self.text(path)) is not None}
        if self._roots[0] != self.folders:  # roots change only with the folders
            self._roots = (list(self.folders), {})
        roots = self._roots[1]
        for path in texts:
            if path not in roots:
                roots[path] = self.root_of(path)
        return Snapshot(self.generation, texts, {path: roots[path] for path in texts},
                        frozenset(self.open), dict(self.versions), frozenset(self.hidden))

    def edited(self, path: str, text: str, version: int | None = None) -> None:
        """An open document's new text (from the editor)."""
        self.open[path] = text
        if version is not None:
            self.versions[path] = version
        self.hidden.discard(path)
        self.generation += 1

    def lost(self, path: str) -> None:
        """The editor's text of an open document is unknown: check the disk's text and show nothing for it."""
        self.open.pop(path, None)
        self.hidden.add(path)
        self.generation += 1

    @property
    def last(self) -> CheckResult | None:
        return self.analyser.last

    def check(self) -> CheckResult:
        """Check the whole project as it is now, in this thread."""
        result = self.analyser.check(self.snapshot())
        assert result is not None  # never cancelled: nothing else changes the workspace meanwhile
        return result

    def use_options(self, options: object) -> None:
        """The editor's initialization options: `select`/`ignore` lists of codes or prefixes, as the CLI's."""
        from flowc.check.registry import selection_from_options

        self.analyser.selection = selection_from_options(options)

    def load_folders(self, folders: list[str]) -> None:
        self.generation += 1
        self.folders += [os.path.normpath(f) for f in folders if os.path.normpath(f) not in self.folders]
        for path in find_flow_files(folders):
            try:
                self.disk[path] = read_text(path)
            except OSError:
                continue

    def remove_folder(self, folder: str) -> None:
        self.generation += 1
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

    def opened(self, path: str, text: str, version: int | None = None) -> None:
        """A document opened in the editor; one outside the folders brings the .flow files beside it."""
        self.edited(path, text, version)
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
        self.versions.pop(path, None)
        self.hidden.discard(path)
        self.generation += 1
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
        self.generation += 1
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
        self.generation += 1
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


def _analyser() -> Analyser:
    from flowc.lsp.analysis import Analyser

    return Analyser()
