"""How a command ends: the exit codes, and the error a command raises when it is used wrongly.

They live apart from the CLI so that the modules behind the commands (import_xml, graph, ...) can use them
without importing flowc.cli.commands, which imports those modules: flowc.cli.commands catches UsageError
and exits with EXIT_USAGE.
"""

from __future__ import annotations

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2  # clean; diagnostics at error level; usage or I/O error


class UsageError(Exception):
    """A message for the user about how the command was invoked; no traceback is shown."""
