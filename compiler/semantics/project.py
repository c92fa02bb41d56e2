"""A project: several .flow files compiled together, names resolved across files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flowc.core.codes import coded
from flowc.core.diagnostics import Diagnostic, Span, sort_key
from flowc.semantics.ir import FlowFile, Project
from flowc.semantics.lower import lower
from flowc.syntax.parser import parse
from flowc.syntax.source import MAX_SOURCE_BYTES, SourceError, SourceFile, decode

if TYPE_CHECKING:
    from flowc.check import Selection


@dataclass
class Compilation:
    """Everything the front end produced for a set of files: sources, IR and diagnostics."""

    project: Project
    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    def sorted_diagnostics(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=sort_key)


def find_flow_files(paths: list[str]) -> list[str]:
    """Expand directories into the .flow files below them (sorted, so output is deterministic).

    A file named twice (`a.flow ./a.flow`, a directory and a file in it, a symlink to it) is read once: it is
    one file, not two files defining the same names."""
    found: list[str] = []
    seen: set[str] = set()
    for path in paths:
        expanded = sorted(str(p) for p in Path(path).rglob("*.flow") if p.is_file()) if os.path.isdir(path) \
            else [path]
        for file in expanded:
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                found.append(file)
    return found


def front_end_file(path: str, data: bytes) -> tuple[SourceFile, FlowFile, list[Diagnostic]]:
    """Decode, parse and lower one file. Never raises for bad input: problems become diagnostics."""
    try:
        source = decode(path, data)
    except SourceError as error:
        source = SourceFile(path, "")
        return source, FlowFile(path), [coded(error.code, error.message, Span(path, 0, 0))]
    module, diagnostics = parse(source.text, path)
    flow_file, lowering_diagnostics = lower(module)
    return source, flow_file, diagnostics + lowering_diagnostics


def compile_sources(files: dict[str, bytes], check: bool = True, selection: Selection | None = None) -> Compilation:
    """Run the front end (and by default the checker) over in-memory files: {path: bytes}. `selection`
    (flowc.check.Selection): run only the rules that can report a selected code."""
    compilation = Compilation(Project([]))
    for path, data in files.items():
        source, flow_file, diagnostics = front_end_file(path, data)
        compilation.sources[path] = source
        compilation.project.files.append(flow_file)
        compilation.diagnostics.extend(diagnostics)
    if check:
        from flowc.check import EVERYTHING, check_project

        compilation.diagnostics.extend(check_project(compilation.project, selection=selection or EVERYTHING))
    return compilation


def read_files(paths: list[str]) -> dict[str, bytes]:
    """Read regular files from disk; OSError and FileProblem (a FIFO, a device...) propagate (the CLI turns
    them into exit code 2)."""
    from flowc.core.files import read_regular

    return {path: read_regular(path, MAX_SOURCE_BYTES + 1) for path in paths}
