"""The command line: `flowc` and its subcommands, how commands end, rendering diagnostics, the explain pages, and
`flowc serve`."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`from flowc.cli import X` as before the package existed: X comes from flowc.cli.commands."""
    import importlib

    return getattr(importlib.import_module("flowc.cli.commands"), name)
