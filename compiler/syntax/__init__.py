"""The syntax phase: source text, the LALR parser run from the Lark grammar's tables, the syntax tree, and the
formatter that prints it back."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`from flowc.syntax import X` as before the package existed: X comes from flowc.syntax.tree."""
    import importlib

    return getattr(importlib.import_module("flowc.syntax.tree"), name)
