"""The BXML vocabulary: every element, attribute, type, range, enum and default, read from data/bxml.json.

This table is the single source of truth: lowering reads keywords and aliases from it, the checker its types
and ranges, the emitter its element and attribute names, the language server its docs and enums.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "bxml.json"


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    type: str
    doc: str = ""
    enum: tuple[str, ...] = ()
    default: object = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    unit: str | None = None  # "s" or "ms": a duration written as 2s or 500ms is converted to this unit
    format: str | None = None
    pattern: str | None = None  # a regular expression the whole value must match (SSML prosody values)
    item: str | None = None
    relative_ok: bool = False
    events: tuple[str, ...] = ()  # webhooks Bandwidth sends to this URL
    reply_bxml: bool = False  # whether the reply to those webhooks may be a BXML document
    method_attribute: str | None = None
    aliases: tuple[str, ...] = ()
    status: str = "documented"
    required: bool = False  # the verb does nothing useful without it (FC211)

    @property
    def is_url(self) -> bool:
        return self.type == "url"

    @property
    def is_secret(self) -> bool:
        return self.name.lower().endswith("password")


@dataclass(frozen=True)
class ElementSpec:
    name: str
    kind: str  # verb | child | ssml
    keywords: tuple[str, ...]
    positional: tuple[str, ...]
    text: dict | None
    children: tuple[str, ...]
    attributes: dict[str, AttributeSpec]
    doc: str = ""
    status: str = "documented"
    parents: tuple[str, ...] = ()

    @property
    def keyword(self) -> str:
        return self.keywords[0]

    @cached_property
    def attribute_phrases(self) -> dict[tuple[str, ...], AttributeSpec]:
        """Every way to write each attribute in .flow: its BXML name and its aliases, as word tuples."""
        phrases: dict[tuple[str, ...], AttributeSpec] = {}
        for attribute in self.attributes.values():
            phrases[(attribute.name,)] = attribute
            for alias in attribute.aliases:
                phrases.setdefault(tuple(alias.split()), attribute)
        return phrases


@dataclass
class Vocabulary:
    elements: dict[str, ElementSpec]
    contexts: dict[str, frozenset[str]]
    max_document_bytes: int
    voices: list[dict] = field(default_factory=list)
    # Voices named on Bandwidth's older BXML pages and used in their examples (voice="Sophia"): accepted, not
    # offered. Voice names are matched without regard to case.
    legacy_voices: frozenset[str] = frozenset()
    _statement_index: dict = field(default_factory=dict)

    def statements(self, parent: str | None) -> dict[tuple[str, ...], ElementSpec]:
        """Keyword phrases usable inside `parent` (None: a flow body), longest phrases first."""
        if parent not in self._statement_index:
            if parent is None:
                names = [n for n, e in self.elements.items() if e.kind == "verb"]
            else:
                names = list(self.elements[parent].children)
            index: dict[tuple[str, ...], ElementSpec] = {}
            for name in names:
                for keyword in self.elements[name].keywords:
                    index[tuple(keyword.split())] = self.elements[name]
            self._statement_index[parent] = dict(sorted(index.items(), key=lambda kv: -len(kv[0])))
        return self._statement_index[parent]

    def phrases_by_first_word(self, parent: str | None) -> dict[str, list[tuple[tuple[str, ...], ElementSpec]]]:
        """statements(parent) grouped by first word, longest phrase first: lowering's lookup per statement."""
        key = ("by-first-word", parent)
        if key not in self._statement_index:
            grouped: dict[str, list[tuple[tuple[str, ...], ElementSpec]]] = {}
            for phrase, spec in self.statements(parent).items():
                grouped.setdefault(phrase[0], []).append((phrase, spec))
            self._statement_index[key] = grouped  # type: ignore[index,assignment]
        return self._statement_index[key]  # type: ignore[index,return-value]

    def by_keyword(self, keyword: str) -> ElementSpec | None:
        for element in self.elements.values():
            if keyword in element.keywords:
                return element
        return None


def _attribute(name: str, raw: dict) -> AttributeSpec:
    return AttributeSpec(
        name=name,
        type=raw["type"],
        doc=raw.get("doc", ""),
        enum=tuple(raw.get("enum", ())),
        default=raw.get("default"),
        min=raw.get("min"),
        max=raw.get("max"),
        max_length=raw.get("max_length"),
        unit=raw.get("unit"),
        format=raw.get("format"),
        pattern=raw.get("pattern"),
        item=raw.get("item"),
        relative_ok=raw.get("relative_ok", False),
        events=tuple(raw.get("events", ())),
        reply_bxml=raw.get("reply_bxml", False),
        method_attribute=raw.get("method_attribute"),
        aliases=tuple(raw.get("aliases", ())),
        status=raw.get("status", "documented"),
        required=raw.get("required", False),
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = json.loads(DATA.read_text())
    elements = {
        name: ElementSpec(
            name=name,
            kind=spec["kind"],
            keywords=tuple(spec["keywords"]),
            positional=tuple(spec.get("positional", ())),
            text=spec.get("text"),
            children=tuple(spec.get("children", ())),
            attributes={a: _attribute(a, s) for a, s in spec["attributes"].items()},
            doc=spec.get("doc", ""),
            status=spec.get("status", "documented"),
            parents=tuple(spec.get("parents", ())),
        )
        for name, spec in raw["elements"].items()
    }
    contexts = {name: frozenset(c["allowed"]) for name, c in raw["contexts"].items()}
    return Vocabulary(elements, contexts, raw["max_document_bytes"], raw.get("voices", []),
                      frozenset(raw.get("legacy_voices", ())))


UNIT_NAMES = {"s": "seconds", "ms": "milliseconds"}


def format_number(value: float) -> str:
    """A number for a message: `2`, not `2.0`; `1100`, not the `1100.0000000000002` of a unit conversion."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def describe_default(spec: AttributeSpec) -> str | None:
    """The default as written in a .flow file (`true`, not Python's `True`; `""` for empty), or None."""
    if spec.default is None:
        return None
    if isinstance(spec.default, bool):
        return str(spec.default).lower()
    return '""' if spec.default == "" else str(spec.default)


def describe_value(spec: AttributeSpec) -> str:
    """What an attribute accepts, in words: the language reference and the editor's hover both show this."""
    kind = spec.type
    if kind == "boolean":
        return "`true` or `false`; written alone it means `true`"
    if kind in ("enum", "http_method"):
        return "one of " + ", ".join(f"`{value}`" for value in spec.enum)
    if kind in ("integer", "decimal"):
        text = "a whole number" if kind == "integer" else "a number"
        if spec.unit:
            text += f" of {UNIT_NAMES[spec.unit]} (or a duration such as 2s)"
        if spec.min is not None and spec.max is not None:
            text += f", {format_number(spec.min)} to {format_number(spec.max)}"
        elif spec.max is not None:
            text += f", at most {format_number(spec.max)}"
        elif spec.min is not None:
            text += f", at least {format_number(spec.min)}"
        return text
    if kind == "url":
        relative = " (relative allowed)" if spec.relative_ok else ""
        if spec.reply_bxml:
            return "a flow name, or a URL" + relative
        if (spec.format or "").startswith("websocket"):
            return "a WebSocket URL (`wss://...`)"
        return "a URL" + relative
    if kind == "csv_list":
        return f"a list of {spec.item or 'values'}: `a, b`"
    if kind == "ssml_time":
        return "a duration such as `500ms` or `2s`" + (f" (at most {spec.max:g} seconds)" if spec.max else "")
    text = "text"
    if spec.format:
        text += f" ({spec.format})"
    if spec.max_length:
        text += f", at most {spec.max_length} characters"
    return text
