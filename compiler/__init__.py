"""flowc: a compiler and toolchain for .flow call flows on Bandwidth's voice platform (BXML).

The package is laid out by phase (docs/architecture.md): core, syntax, semantics, check, bxml, backend,
runtime, sim, cli, and lsp. Modules that used to sit at the top level (`flowc.parser`, `flowc.vocabulary`,
...) still import under their old names: the finder below hands out the moved module itself, so old and new
names are one module object (patching one patches the other).
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__version__ = "0.1.0"

MOVED_MODULES = {
    "analysis": "semantics.analysis",
    "build": "backend.build",
    "codes": "core.codes",
    "credentials": "semantics.credentials",
    "diagnostics": "core.diagnostics",
    "emit_app": "backend.emit_app",
    "emit_xml": "bxml.emit_xml",
    "event_routes": "semantics.event_routes",
    "explain": "cli.explain",
    "files": "core.files",
    "fixes": "core.fixes",
    "formatter": "syntax.formatter",
    "grammar_tables": "syntax.grammar_tables",
    "graph": "backend.graph",
    "import_xml": "bxml.import_xml",
    "ir": "semantics.ir",
    "links": "semantics.links",
    "lint_xml": "bxml.lint_xml",
    "lower": "semantics.lower",
    "outdir": "backend.outdir",
    "parser": "syntax.parser",
    "plan": "backend.plan",
    "policy": "semantics.policy",
    "project": "semantics.project",
    "render": "cli.render",
    "rooms": "backend.rooms",
    "schedule": "runtime.schedule",
    "serve": "cli.serve",
    "source": "syntax.source",
    "usage": "cli.usage",
    "vocabulary": "bxml.vocabulary",
    "webhooks": "bxml.webhooks",
}


class _MovedModule:
    """Finder and loader for the old top-level names: an alias of the module at its new place."""

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        prefix, _, old = name.partition(".")
        if prefix != __name__ or old not in MOVED_MODULES:
            return None
        return ModuleSpec(name, cast("Loader", cls(f"{__name__}.{MOVED_MODULES[old]}")))

    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(self.new_name)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its new name."""

    def get_code(self, name: str) -> CodeType | None:
        """For `python -m flowc.explain` and the like: runpy runs the new module's code."""
        import importlib.util

        spec = importlib.util.find_spec(self.new_name)
        loader = spec.loader if spec else None
        return loader.get_code(self.new_name) if loader is not None and hasattr(loader, "get_code") else None


sys.meta_path.append(_MovedModule)
