"""Runtime values: the slots a compiled document leaves open and the filters applied to what fills them.

The compiler writes these (the emitter, the IR, the manifest's placeholders) and the web app fills them per
request, so they live here, below both: nothing in this module imports the compiler or anything heavy.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class Filter:
    """`{from|safe}`: what a filter keeps of a runtime value. The lowering, the checker (what a filtered value
    can still contain), the web app (applying it per request) and the editor's help all read this table."""

    characters: frozenset[str]
    description: str
    removed: re.Pattern[str]  # compiled once: the web app applies filters on every request

    def apply(self, value: str) -> str:
        return self.removed.sub("", value)


def _filter(characters: str, description: str) -> Filter:
    return Filter(frozenset(characters), description, re.compile("[^" + re.escape(characters) + "]+"))


FILTERS = {
    "safe": _filter(string.ascii_letters + string.digits + "-_.", "keeps only letters, digits, `-`, `_` and `.`"),
    "digits": _filter(string.digits, "keeps only digits"),
}


# The callback URL of a counted gather carries which gather asked and the attempt it is (`?ask=main&attempt=2`):
# written by the compiler (flowc.bxml.emit_xml), read by the web app (flowc.runtime.routes). Never server memory.
ASK_PARAMETER = "ask"
ATTEMPT_PARAMETER = "attempt"


def placeholder(source: str, name: str, filter: str | None = None) -> str:
    """How a runtime value is shown in the documents written to OUT, and found again by the web app."""
    prefix = "" if source == "payload" else f"{source}:"
    return "${" + prefix + name + (f"|{filter}" if filter else "") + "}"


@dataclass(frozen=True, slots=True)
class SlotRef:
    """A runtime value as the emitter writes it and the web app fills it in: no span, hashable, and light."""

    source: str  # payload | hook | env
    name: str
    filter: str | None = None

    @property
    def placeholder(self) -> str:
        return placeholder(self.source, self.name, self.filter)
