"""The error a command raises when it is used wrongly (a bad flag value, a missing file, a missing extra).

It lives apart from the CLI so that the modules behind the commands (import_xml, ...) can raise it without
importing flowc.cli, which imports them: flowc.cli catches it and exits with status 2.
"""

from __future__ import annotations


class UsageError(Exception):
    """A message for the user about how the command was invoked; no traceback is shown."""
