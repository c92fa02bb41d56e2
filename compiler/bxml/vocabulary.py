"""The BXML and webhook vocabulary, read from data/bxml.json (built by tools/build_vocabulary.py).

This table is the single source of truth for facts about Bandwidth: every element, attribute, type, range,
enum and default; which webhooks each URL receives, whether their reply may be BXML and in which context it
runs; what each payload field can hold; per-element child limits, take-over and destinations; per-attribute
secret, webhook-setting and address flags; limits such as the conference name's 100 characters, and the
Voice API's rate limits (`rest_limits`: the emulator enforces them, the generated app's client paces by them).
Lowering reads keywords and aliases from it, the checker its types, ranges and limits, the emitter its element
and attribute names, the web app its events, the language server its docs and enums.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "bxml.json"


class Context(StrEnum):
    """Where a BXML document runs, which decides the verbs Bandwidth accepts in it."""

    CALL = "call"
    TRANSFER_ANSWER = "transfer-answer"  # the called party of a transfer, before bridging
    CONFERENCE = "conference"  # the reply to a conference webhook
    NO_BXML = "no-bxml"  # the reply to a webhook whose reply may not carry BXML
    UPDATE_CALL = "update-call"  # a <Bxml> document your code sends to replace a live call's document
    UPDATE_CONFERENCE = "update-conference"  # a <Bxml> document your code sends to a whole conference


# The members as plain names for the checker's loops: reading a member through its class costs ~150 ns on
# Python 3.11, a module global ~20 ns, and a context is compared per statement.
CALL, TRANSFER_ANSWER = Context.CALL, Context.TRANSFER_ANSWER
CONFERENCE, NO_BXML = Context.CONFERENCE, Context.NO_BXML


# The small value types below are plain classes with __slots__, not dataclasses: building a dataclass costs
# about a millisecond, and every `flowc check` imports this module.

class EventSpec:
    """One of Bandwidth's webhooks, by eventType."""

    __slots__ = ("name", "reply", "payload", "phrase", "slug", "entry", "status", "in_conference")

    def __init__(self, name: str, reply: Context | None, payload: str, phrase: tuple[str, ...] | None = None,
                 slug: str | None = None, entry: bool = False, status: bool = False,
                 in_conference: str | None = None) -> None:
        self.name = name
        self.reply = reply  # where the BXML of the reply runs; None: the reply may not carry BXML
        self.payload = payload  # flowc.bxml.webhooks' model of its payload
        self.phrase = phrase  # how a conference handler names it: ("member", "join")
        self.slug = slug  # its document's file name part: conferences/NAME.member-join.xml
        self.entry = entry  # a call starts with it (`flow main on initiate`)
        self.status = status  # a call status webhook that no verb attribute names
        self.in_conference = in_conference  # the event Bandwidth sends instead when the verb runs in a conference

    def __repr__(self) -> str:
        return f"EventSpec({self.name!r}, reply={self.reply!r})"


class Shape:
    """What a webhook payload field can hold: its characters (None: anything) and length bounds."""

    __slots__ = ("description", "min", "max", "characters")

    def __init__(self, description: str, min: int, max: int | None, characters: frozenset[str] | None) -> None:
        self.description = description
        self.min = min
        self.max = max
        self.characters = characters

    def __repr__(self) -> str:
        return f"Shape({self.description!r}, {self.min}, {self.max})"

    def filtered(self, keep: frozenset[str] | None) -> Shape:
        """The shape once a filter keeping only `keep` (None: no filter) is applied."""
        if keep is None:
            return self
        characters = keep if self.characters is None else self.characters & keep
        lossless = self.characters is not None and self.characters <= keep
        return Shape(self.description, self.min if lossless else 0, self.max, characters)

    def forbidden(self, allowed: frozenset[str]) -> str:
        """The characters it may hold beyond `allowed`, for a message."""
        if self.characters is None:
            return "any character"
        return " ".join(f"`{c}`" for c in sorted(self.characters - allowed))


class ChildLimits:
    """How many children an element takes (`max_prompts`: children times its `repeat` attribute)."""

    __slots__ = ("min", "max", "noun", "max_prompts", "repeat")

    def __init__(self, min: int = 0, max: int | None = None, noun: str = "children", max_prompts: int | None = None,
                 repeat: str | None = None) -> None:
        self.min = min
        self.max = max
        self.noun = noun
        self.max_prompts = max_prompts
        self.repeat = repeat


class Limits:
    """Limits Bandwidth sets that are not an attribute's range."""

    __slots__ = ("conference_name_length", "conference_calls", "gather_prompts")

    def __init__(self, conference_name_length: int, conference_calls: int, gather_prompts: int) -> None:
        self.conference_name_length = conference_name_length  # characters of a conference name
        self.conference_calls = conference_calls  # calls in one conference
        self.gather_prompts = gather_prompts  # prompts of one <Gather>, repeats included


@dataclass(frozen=True)
class Rate:
    """A rate limit: requests a second on average, and how many may go at once (a token bucket's size)."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class RestLimits:
    """The Voice API's rate limits for one account: creating calls, every other request, calls active at once."""

    create_call: Rate
    requests: Rate
    active_sessions: int

    @classmethod
    def read(cls, raw: dict[str, Any]) -> RestLimits:
        return cls(Rate(**raw["create_call"]), Rate(**raw["requests"]), int(raw["active_sessions"]))


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
    secret: bool = False  # a password: never written to OUT in plain text
    webhook_setting: bool = False  # only the join that creates a conference sets it
    address: bool = False  # a literal must be a phone number or SIP URI (its `format` says which)
    ignored_in_conference: str | None = None  # why Bandwidth ignores it when the verb runs in a conference
    websocket: bool = False  # a URL that must be a WebSocket URL, wss:// (ws:// is unencrypted)

    @property
    def is_url(self) -> bool:
        return self.type == "url"

    @property
    def is_secret(self) -> bool:
        return self.secret


@dataclass(frozen=True)
class ElementSpec:
    name: str
    kind: str  # verb | child | ssml
    keywords: tuple[str, ...]
    positional: tuple[str, ...]
    text: dict[str, Any] | None
    children: tuple[str, ...]
    attributes: dict[str, AttributeSpec]
    doc: str = ""
    status: str = "documented"
    parents: tuple[str, ...] = ()
    takes_over: bool | str = False  # the rest of the document never runs after it (str: when that URL is set)
    takes_over_note: str | None = None  # what happens instead, when no webhook gives the next document
    child_limits: ChildLimits | None = None
    text_names: str | None = None  # a bare word as its text names a declaration of this kind (`join support`)
    destinations: dict[str, str] | None = None  # the child a positional destination becomes: {"sip", "other"}

    @property
    def keyword(self) -> str:
        return self.keywords[0]

    def destination(self, literal: str | None) -> str:
        """The child element a positional destination becomes (`transfer "sip:..."` -> SipUri)."""
        assert self.destinations is not None
        return self.destinations["sip" if (literal or "").startswith("sip:") else "other"]

    def ends_document(self, attribute_of: Callable[[str], object | None]) -> bool:
        """Whether the rest of a document never runs after this verb; `attribute_of(name)` reads the
        statement's attribute of that name (None when it is not set)."""
        if self.takes_over is True:
            return True
        return isinstance(self.takes_over, str) and attribute_of(self.takes_over) is not None

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
    voices: list[dict[str, Any]] = field(default_factory=list)
    # Voices named on Bandwidth's older BXML pages and used in their examples (voice="Sophia"): accepted, not
    # offered. Voice names are matched without regard to case.
    legacy_voices: frozenset[str] = frozenset()
    events: dict[str, EventSpec] = field(default_factory=dict)
    fields: dict[str, Shape] = field(default_factory=dict)  # webhook payload fields whose shape is known
    limits: Limits = Limits(100, 20, 20)
    rest_limits: RestLimits = field(kw_only=True)  # rate limits of the Voice API (REST), not of BXML
    credential_pairs: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)  # `auth U P`
    fallback_credentials: frozenset[str] = frozenset()  # the attributes of the fallback pair
    address_patterns: dict[str, str] = field(default_factory=dict)  # "E.164" -> the regular expression
    # The documents of Bandwidth's update endpoints (`flowc check --context update-call`): context -> its root
    # element, the context whose verb rules apply, the endpoint it is sent to.
    update_documents: dict[str, dict[str, str]] = field(default_factory=dict)
    _statement_index: dict[str | None, dict[tuple[str, ...], ElementSpec]] = field(default_factory=dict)
    _first_word_index: dict[str | None, dict[str, list[tuple[tuple[str, ...], ElementSpec]]]] = field(
        default_factory=dict)

    @cached_property
    def conference_events(self) -> dict[tuple[str, ...], str]:
        """`on member join`: the phrase of each conference handler -> its eventType."""
        return {e.phrase: name for name, e in self.events.items() if e.phrase}

    @cached_property
    def no_bxml_events(self) -> frozenset[str]:
        """Events whose reply may not carry BXML."""
        return frozenset(name for name, e in self.events.items() if e.reply is None)

    @cached_property
    def entry_events(self) -> list[str]:
        return [name for name, e in self.events.items() if e.entry]

    @cached_property
    def flow_events(self) -> list[str]:
        """The webhooks a flow may name in `flow NAME on EVENT`: those whose reply is BXML for a call (not a
        conference's, which `on member join` handlers answer), the events a call starts with first."""
        found = [name for name, e in self.events.items() if e.reply is not None and not e.phrase]
        return sorted(found, key=lambda name: not self.events[name].entry)

    @cached_property
    def status_events(self) -> frozenset[str]:
        return frozenset(name for name, e in self.events.items() if e.status)

    def rules_of(self, context: Context) -> Context:
        """The context whose rules a document follows: an update-conference document is checked as a
        conference reply, an update-call document as a call's."""
        return self.context_rules[context]

    @cached_property
    def context_rules(self) -> dict[Context, Context]:
        """rules_of for every context, as one dict the checker's loops index."""
        documents = self.update_documents
        return {c: Context(documents[c]["rules_of"]) if c in documents else c for c in Context}

    def document_root(self, context: Context, default: str = "Response") -> str:
        document = self.update_documents.get(context)
        return document["root"] if document else default

    def handler_context(self, event: str) -> Context:
        """Where the reply to a conference handler's event runs."""
        return NO_BXML if event in self.no_bxml_events else CONFERENCE

    @cached_property
    def join(self) -> ElementSpec:
        """The element that puts a call into a conference (<Conference>, `join`): its text names the room, or a
        declared conference."""
        return next(e for e in self.elements.values() if e.text_names == "conference")

    @cached_property
    def attempt_callback(self) -> tuple[str, str]:
        """The statement whose answers `attempts N` counts, and its URL attribute they arrive at: the element
        whose callback receives what the caller entered (the `gather` webhook) and replies with BXML."""
        return self._callback_of("gather")

    @cached_property
    def continuation(self) -> tuple[str, str]:
        """The verb that continues a call with another URL's BXML (<Redirect> and its URL attribute): how an
        `exhausted` flow is reached."""
        return self._callback_of("redirect")

    def _callback_of(self, event: str) -> tuple[str, str]:
        for name, spec in self.elements.items():
            for attribute in spec.attributes.values():
                if attribute.reply_bxml and event in attribute.events:
                    return name, attribute.name
        raise LookupError(f"no element's callback receives the {event} webhook")

    @cached_property
    def conference_event_url(self) -> AttributeSpec:
        """The attribute of a join that receives the conference's webhooks (its handlers' events)."""
        return next(a for a in self.join.attributes.values() if a.events and a.reply_bxml)

    @cached_property
    def webhook_settings(self) -> tuple[str, ...]:
        """The conference's webhook settings: only the join that creates a conference decides them."""
        return tuple(n for n, a in self.join.attributes.items() if a.webhook_setting)

    def address_pattern(self, shape: str) -> str:
        """The regular expression a literal of `shape` ("E.164", "SIP URI", "E.164 or SIP URI") must match."""
        return "|".join(p for name, p in self.address_patterns.items() if name in shape)

    @property
    def conference_name_pattern(self) -> str:
        """A whole valid conference name: 1 to 100 of the characters the payload field `name` can hold."""
        return f"[A-Za-z0-9._-]{{1,{self.limits.conference_name_length}}}"

    @cached_property
    def addresses(self) -> dict[tuple[str, str | None], str]:
        """Where a literal must be a phone number or SIP URI: (element, attribute or None for the text) ->
        the shape ("E.164", "SIP URI" or "E.164 or SIP URI")."""
        found: dict[tuple[str, str | None], str] = {}
        for name, spec in self.elements.items():
            if spec.text and spec.text.get("address"):
                found[(name, None)] = spec.text["format"]
            for attribute in spec.attributes.values():
                if attribute.address:
                    found[(name, attribute.name)] = attribute.format or ""
        return found

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
        if parent not in self._first_word_index:
            grouped: dict[str, list[tuple[tuple[str, ...], ElementSpec]]] = {}
            for phrase, spec in self.statements(parent).items():
                grouped.setdefault(phrase[0], []).append((phrase, spec))
            self._first_word_index[parent] = grouped
        return self._first_word_index[parent]

    def by_keyword(self, keyword: str) -> ElementSpec | None:
        for element in self.elements.values():
            if keyword in element.keywords:
                return element
        return None


def _attribute(name: str, raw: dict[str, Any]) -> AttributeSpec:
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
        secret=raw.get("secret", False),
        webhook_setting=raw.get("webhook_setting", False),
        address=raw.get("address", False),
        ignored_in_conference=raw.get("ignored_in_conference"),
        websocket=raw.get("websocket", False),
    )


def _event(name: str, raw: dict[str, Any]) -> EventSpec:
    return EventSpec(name, Context(raw["reply"]) if raw.get("reply") else None, raw["payload"],
                     tuple(raw["phrase"].split()) if raw.get("phrase") else None, raw.get("slug"),
                     raw.get("entry", False), raw.get("status", False), raw.get("in_conference"))


def _shape(raw: dict[str, Any]) -> Shape:
    characters = raw.get("characters")
    return Shape(raw["description"], raw["min"], raw.get("max"), frozenset(characters) if characters else None)


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
            takes_over=spec.get("takes_over", False),
            takes_over_note=spec.get("takes_over_note"),
            child_limits=ChildLimits(**spec["child_limits"]) if "child_limits" in spec else None,
            text_names=spec.get("text_names"),
            destinations=spec.get("destinations"),
        )
        for name, spec in raw["elements"].items()
    }
    contexts = {name: frozenset(c["allowed"]) for name, c in raw["contexts"].items()}
    pairs = raw.get("credential_pairs", [])
    return Vocabulary(
        elements, contexts, raw["max_document_bytes"], raw.get("voices", []), frozenset(raw.get("legacy_voices", ())),
        events={name: _event(name, e) for name, e in raw["events"].items()},
        fields={name: _shape(f) for name, f in raw["fields"].items()},
        limits=Limits(**raw["limits"]),
        rest_limits=RestLimits.read(raw["rest_limits"]),
        credential_pairs={tuple(p["phrase"].split()): tuple(p["attributes"]) for p in pairs},
        fallback_credentials=frozenset(a for p in pairs if p.get("fallback") for a in p["attributes"]),
        address_patterns=raw["address_patterns"],
        update_documents={name: {k: v for k, v in c.items() if k != "allowed"}
                          for name, c in raw["contexts"].items() if "endpoint" in c},
    )


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
