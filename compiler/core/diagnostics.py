"""The one diagnostic type every phase returns (rustc/ruff shaped): code, severity, span, message, help, fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return {1: "info", 2: "warning", 3: "error"}[self.value]


@dataclass(slots=True, unsafe_hash=True)  # not frozen: frozen dataclasses are 3x slower to create, and the
class Span:  # compiler creates one per token it lowers. Treat spans as immutable values.
    """A half-open range of character offsets [start, end) in one file."""

    file: str
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(self.file, min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text in span with new_text (insertion when the span is empty)."""

    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    safe: bool = True  # safe fixes may be applied without review (ruff's "applicability")


@dataclass(frozen=True, slots=True)
class Label:
    span: Span
    message: str


@dataclass(slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    help: str | None = None
    labels: list[Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fix: Fix | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, str]:
    return diagnostic.span.file, diagnostic.span.start, diagnostic.code


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt word, if it is within a third of the word's length in edits."""
    best, best_distance = None, max(1, len(word) // 3) + 1
    lowered = word.lower()
    for candidate in sorted(candidates):
        if abs(len(candidate) - len(word)) >= best_distance:  # at least that many edits: skip (a huge word is slow)
            continue
        distance = edit_distance(lowered, candidate.lower())
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best
