"""The typed intermediate representation: one model per .flow construct, spans kept.

The models are standard dataclasses so that `flowc check` stays fast (pydantic's import and model building
cost ~150 ms per run, measured in docs/performance.md); pydantic validates and serialises the very same
classes through a TypeAdapter (see `ir_adapter`), which `flowc ir`, the emitter and the tests use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from flowc.core.diagnostics import Span

# The runtime values a document leaves open (SlotRef) and the filters applied to them belong to the web app's
# runtime, which must not import the compiler; the IR uses the same definitions.
from flowc.runtime.values import FILTERS as FILTERS
from flowc.runtime.values import Filter as Filter
from flowc.runtime.values import SlotRef as SlotRef
from flowc.runtime.values import placeholder as placeholder

if TYPE_CHECKING:
    from pydantic import TypeAdapter

# -- values ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Slot:
    """A value filled in per request: a webhook payload field ($from) or a user hook (hook(name))."""

    name: str
    span: Span
    source: Literal["payload", "hook"] = "payload"
    filter: str | None = None  # "safe" keeps letters, digits, - _ . ; "digits" keeps digits
    kind: Literal["slot"] = "slot"


@dataclass(slots=True)
class Text:
    """A string; `parts` mixes literal text with runtime slots ("support-{to}")."""

    parts: list[str | Slot]
    span: Span
    kind: Literal["text"] = "text"

    @property
    def literal(self) -> str | None:
        """The text if it has no runtime parts, else None."""
        if all(isinstance(p, str) for p in self.parts):
            return "".join(self.parts)  # type: ignore[arg-type]
        return None

    @property
    def slots(self) -> list[Slot]:
        return [p for p in self.parts if isinstance(p, Slot)]


@dataclass(slots=True)
class Number:
    value: float
    text: str
    span: Span
    unit: Literal["", "ms", "s", "m", "h"] = ""  # a duration when set
    kind: Literal["number"] = "number"

    def in_unit(self, unit: str | None) -> float:
        """The value converted to `unit` ("s" or "ms"); plain numbers are already in the attribute's unit."""
        if not self.unit or unit is None:
            return self.value
        seconds = self.value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[self.unit]
        return seconds * 1000 if unit == "ms" else seconds


@dataclass(slots=True)
class Word:
    """A bare word: an enum value (male, POST), a boolean (true), or a name to resolve (a flow)."""

    value: str
    span: Span
    kind: Literal["word"] = "word"


@dataclass(slots=True)
class Env:
    """env(NAME): a secret read from the server's environment at request time, never written to build/."""

    name: str
    span: Span
    kind: Literal["env"] = "env"


@dataclass(slots=True)
class ListValue:
    items: list[Value]
    span: Span
    kind: Literal["list"] = "list"


Value = Text | Number | Word | Env | Slot | ListValue


# -- statements ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Attribute:
    name: str  # the BXML attribute name
    value: Value
    span: Span  # the whole `name value` pair
    name_span: Span
    written: str  # how the user wrote the name (alias or BXML name)


# `attempts N` asks at most this often: one document is compiled per attempt, and a caller asked more often
# than this has long hung up.
MAX_ATTEMPTS = 10


@dataclass(slots=True)
class Attempts:
    """`gather ... then choice attempts 3 exhausted voicemail`: ask again, in the reply to an answer that selects
    no `when` branch of the receiving flow, until `count` attempts have failed; then continue with the
    `exhausted` flow (without it: the receiving flow's default document). The count travels in the callback URL
    the compiler derives (`?ask=main&attempt=2`), never in server memory."""

    count: float | None  # as written (FC140 unless a whole number in 1..MAX_ATTEMPTS); None: no `attempts`
    span: Span  # `attempts 3`, or the first of the two words written
    exhausted: str | None = None  # the flow after the last failed attempt
    exhausted_span: Span | None = None
    continuation: Element | None = None  # the verb the exhausted document ends with: a redirect to that flow
    kind: Literal["attempts"] = "attempts"

    @property
    def whole(self) -> int | None:
        """The count when it is one the compiler plans documents for."""
        count = self.count
        return int(count) if count is not None and count == int(count) and 1 <= count <= MAX_ATTEMPTS else None


@dataclass(slots=True)
class Element:
    """A BXML element: a verb, a nested element (PhoneNumber) or an SSML tag inside `say`."""

    tag: str
    span: Span
    keyword_span: Span
    attributes: list[Attribute] = field(default_factory=list)
    content: list[Text | Element] = field(default_factory=list)  # text and child elements, in order
    conference: str | None = None  # `join NAME`: a declared conference whose settings apply
    conference_span: Span | None = None
    role: str | None = None  # `join NAME as host`: the member's role in a room with a policy (flowc.backend.rooms)
    role_span: Span | None = None
    kind: Literal["element"] = "element"
    attempts: Attempts | None = None  # `attempts N` / `exhausted FLOW` on the statement whose answers count

    def attribute(self, name: str) -> Attribute | None:
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    @property
    def texts(self) -> list[Text]:
        return [c for c in self.content if isinstance(c, Text)]


# What a `when` can test: a payload field (`when digits`, `when $tag`), a hook (`when hook(after_hours)`) or a
# setting of the server (`when env(MODE)`): the sources of SlotRef, read by the web app per request.
BranchSource = Literal["payload", "hook", "env"]


@dataclass(slots=True)
class Branch:
    """`when digits "1", "2" { ... }`: a precompiled document chosen per request by a runtime value: the
    payload field, hook or environment variable named `field` (its `source`)."""

    field: str
    values: list[str]
    body: list[Element]
    span: Span
    kind: Literal["branch"] = "branch"
    value_spans: list[Span] = dataclasses.field(default_factory=list)  # one per value, for diagnostics on one
    source: BranchSource = "payload"
    subject_span: Span | None = None  # where `digits` / `hook(after_hours)` is written

    @property
    def ref(self) -> SlotRef:
        """The value tested, as the web app reads it."""
        return SlotRef(self.source, self.field)

    @property
    def subject(self) -> str:
        """The tested value as written in .flow: `digits`, `hook(after_hours)`, `env(MODE)`."""
        return self.field if self.source == "payload" else f"{self.source}({self.field})"


@dataclass(slots=True)
class Flow:
    name: str
    span: Span
    name_span: Span
    body: list[Element] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    entry_events: list[str] = field(default_factory=list)  # `flow main on initiate, answer { ... }`
    # `flow main on initiate auth env(U) env(P)`: what the Bandwidth application sends on the callbacks that
    # reach this flow as an entry (username and password attributes); empty when not declared
    auth: list[Attribute] = field(default_factory=list)
    entry_event_spans: list[Span] = field(default_factory=list)  # one per entry event, where it is written
    root: str = "Response"  # the document's root element: `flow NAME as bxml` writes <Bxml>
    document: str | None = None  # `flow NAME for update-call`: a document for an update endpoint, not a webhook
    kind: Literal["flow"] = "flow"


@dataclass(slots=True)
class Handler:
    """`on member join { ... }` inside a conference: the reply to one conference webhook. `branches`: `when`
    blocks choosing the reply by a payload field, or by `role` (the member's role, which the app adds)."""

    event: str  # Bandwidth eventType (the phrases that name them: Vocabulary.conference_events)
    body: list[Element]  # the default document: the `otherwise` block and the plain statements
    span: Span
    branches: list[Branch] = field(default_factory=list)  # `when tag "coach" { ... }`, `when hook(x) "yes"` ...
    kind: Literal["handler"] = "handler"


# -- room policy (flowc.backend.rooms compiles it onto Bandwidth) -------------------------------------------------

ROLE_KINDS = ("host", "member", "coach", "listener")  # `moderator` is written for host


@dataclass(slots=True)
class Role:
    """`role agent host`: a role name and its kind; host, member, coach and listener exist undeclared.
    `coaches`: the roles a coach whispers to (its callIdsToCoach, kept by the app as members join)."""

    name: str
    kind: str
    span: Span
    coaches: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Tone:
    """`tone join "URL" [for ROLE, ...]`: played to the room when a member of those roles joins or leaves."""

    event: Literal["join", "exit"]
    url: Text
    span: Span
    roles: list[str] = field(default_factory=list)  # empty: every role


@dataclass(slots=True)
class Key:
    """`key "*6" mute`: a key sequence pressed in the room and what it does."""

    digits: str
    action: str  # mute, leave, kick-last, lock, monitor, whisper, barge
    span: Span
    digits_span: Span
    roles: list[str] = field(default_factory=list)  # who may use it (empty: every role)


@dataclass(slots=True)
class Policy:
    """What a room does beyond Bandwidth's `<Conference>`: every line is optional."""

    span: Span
    lobby: Text | None = None  # `wait for host play URL`: callers before a host hear it on a loop
    lobby_span: Span | None = None
    cap: int | None = None  # `max 5 else full`
    cap_span: Span | None = None
    overflow: str | None = None  # the flow a caller over the cap gets
    overflow_span: Span | None = None
    limit: float | None = None  # `limit 30m warn 1m "One minute left."`: seconds from the start
    limit_span: Span | None = None
    warn_before: float | None = None
    warning: Text | None = None
    end: Literal["last", "any"] | None = None  # `end when host leaves` / `end when any host leaves`
    end_span: Span | None = None
    roles: list[Role] = field(default_factory=list)
    tones: list[Tone] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    # `say ... to member` in a handler: audio to one member, which Bandwidth cannot play (kept for FC5xx)
    private_audio: list[Span] = field(default_factory=list)

    def role(self, name: str) -> Role | None:
        """A declared role, or the built-in role of that name (`moderator` is a host)."""
        for role in self.roles:
            if role.name == name:
                return role
        if name == "moderator":
            return Role(name, "host", self.span)
        return Role(name, name, self.span) if name in ROLE_KINDS else None


@dataclass(slots=True)
class Conference:
    """`conference NAME "name-{to}" { ... }`: webhook settings declared once, plus event handlers."""

    name: str
    span: Span
    name_span: Span
    conference_name: Text
    settings: list[Attribute] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    policy: Policy | None = None  # roles, lobby, cap, limit, tones, keys, ending: a room the app runs
    kind: Literal["conference"] = "conference"

    def setting(self, name: str) -> Attribute | None:
        for attribute in self.settings:
            if attribute.name == name:
                return attribute
        return None


@dataclass(slots=True)
class OpeningRange:
    """`monday to friday 9:00 to 17:30`: one range of time on some weekdays (several per line, comma-separated)."""

    days: list[int]  # 0 is Monday (flowc.runtime.schedule.DAY_NAMES)
    start: str  # as written (`9:00`); the checker reads it, the web app gets minutes
    end: str
    span: Span  # `9:00 to 17:30`
    start_span: Span
    end_span: Span
    days_span: Span  # `monday to friday`
    kind: Literal["opening"] = "opening"


@dataclass(slots=True)
class ClosedDate:
    """`closed 2026-12-25`: a date the schedule is closed all day, in its zone."""

    date: str  # as written; the checker says whether it is in the calendar
    span: Span
    kind: Literal["closed"] = "closed"


@dataclass(slots=True)
class Hours:
    """`hours office in "America/New_York" { ... }`: business hours, evaluated per request by the web app.
    A flow branches on it with `when office open { ... }` (or `closed`)."""

    name: str
    span: Span
    name_span: Span
    zone: str
    zone_span: Span
    opening: list[OpeningRange] = field(default_factory=list)
    closed: list[ClosedDate] = field(default_factory=list)
    override: Slot | None = None  # `override hook(name)`: "open" or "closed" from your code wins
    kind: Literal["hours"] = "hours"


@dataclass(slots=True)
class Application:
    """`application auth USER PASSWORD`: the callback credentials the Bandwidth application itself sends, once
    per project. Every route of the web app requires them unless a statement declares its own."""

    span: Span
    auth: list[Attribute]  # username and password
    kind: Literal["application"] = "application"


@dataclass(slots=True)
class FlowFile:
    path: str
    flows: list[Flow] = field(default_factory=list)
    conferences: list[Conference] = field(default_factory=list)
    hours: list[Hours] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    # The words of statements lowering could not read (an unknown statement or attribute): a flow named in
    # one may well be in use, so it is not reported as never used on top of the real mistake.
    unread_words: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Project:
    files: list[FlowFile]

    @property
    def flows(self) -> dict[str, Flow]:
        return {f.name: f for file in self.files for f in file.flows}

    @property
    def conferences(self) -> dict[str, Conference]:
        return {c.name: c for file in self.files for c in file.conferences}

    @property
    def hours(self) -> dict[str, Hours]:
        return {h.name: h for file in self.files for h in file.hours}

    @property
    def application(self) -> Application | None:
        """The project's application declaration (the first, when a project repeats it: FC411)."""
        return next((a for file in self.files for a in file.applications), None)


def walk(elements: list[Element]) -> Iterator[Element]:
    """Every element in a body, depth first, parents before children."""
    stack = elements[::-1]  # a stack, not recursive generators: this runs over every element of a project
    while stack:
        element = stack.pop()
        yield element
        if element.content:
            stack.extend(item for item in reversed(element.content) if type(item) is Element)


def ir_adapter() -> TypeAdapter[Project]:
    """A pydantic TypeAdapter for Project (imported lazily: only `flowc ir`, emit and tests need it)."""
    from pydantic import TypeAdapter

    return TypeAdapter(Project)
