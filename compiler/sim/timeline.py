"""The emulator's record of what happened: a list of typed events in virtual-time order.

Everything the emulator observes is one of these dataclasses (what a call heard, each webhook with its
request and reply, each REST request, each change of a call's or a conference's state, and notes such as
a digit pressed when nothing listened). `render_text` prints them for people; `to_data` gives plain JSON-able
dicts for tools (the `--format json` output, sequence diagrams, a browser console).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass
class Event:
    time: float  # virtual seconds since the emulator started
    kind: ClassVar[str] = "event"

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    def describe(self) -> str:
        return self.kind


@dataclass
class Heard(Event):
    """A call heard a sentence (its words, SSML reduced to text) or an audio file (its URL)."""

    call_id: str
    text: str
    media: str  # "speech" | "audio"
    conference_id: str | None = None  # played into a conference
    kind: ClassVar[str] = "heard"

    def describe(self) -> str:
        where = f" (conference {self.conference_id})" if self.conference_id else ""
        shown = f"“{self.text}”" if self.media == "speech" else self.text
        return f"{self.call_id} hears {shown}{where}"


@dataclass
class Webhook(Event):
    """One delivery of a webhook: the request, the app's answer, and whether the emulator accepted it."""

    event_type: str
    url: str
    method: str
    call_id: str | None
    conference_id: str | None
    payload: dict[str, Any]
    status: int | None = None  # None: no answer (connection failed or timed out)
    reply: str = ""
    accepted: bool = False
    reason: str = ""  # why a reply was refused or the delivery failed
    fallback: bool = False  # this delivery went to the fallback URL
    latency: float = 0.0  # wall-clock seconds the app took
    diagnostics: list[str] = field(default_factory=list)  # what flowc's checker said about the reply
    kind: ClassVar[str] = "webhook"

    def describe(self) -> str:
        status = self.status if self.status is not None else "no answer"
        verdict = "accepted" if self.accepted else f"refused: {self.reason}"
        about = self.call_id or self.conference_id or ""
        extra = " (fallback)" if self.fallback else ""
        return f"{self.event_type} {about} -> {self.method} {self.url}{extra}: {status}, {verdict}"


@dataclass
class RestRequest(Event):
    """A request to the emulated REST API and its answer."""

    method: str
    path: str
    status: int
    body: Any = None
    response: Any = None
    kind: ClassVar[str] = "rest"

    def describe(self) -> str:
        return f"REST {self.method} {self.path}: {self.status}"


@dataclass
class StateChange(Event):
    """A call or conference changed state (answered, joined, left, completed ...)."""

    subject: str  # a call id or a conference id
    state: str
    detail: str = ""
    kind: ClassVar[str] = "state"

    def describe(self) -> str:
        return f"{self.subject} {self.state}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Verb(Event):
    """A call (or a conference's audio queue) started a verb."""

    subject: str
    verb: str
    attributes: dict[str, str] = field(default_factory=dict)
    kind: ClassVar[str] = "verb"

    def describe(self) -> str:
        return f"{self.subject} runs <{self.verb}>"


@dataclass
class Note(Event):
    """Something worth knowing that is not one of the above (a digit nobody collected, a refused join ...)."""

    subject: str
    text: str
    kind: ClassVar[str] = "note"

    def describe(self) -> str:
        return f"{self.subject}: {self.text}"


SECRET_ATTRIBUTE = re.compile(r"""((?:p|P)assword\s*=\s*)("[^"]*"|'[^']*')""")
SECRET = "***"


def redact(text: str) -> str:
    """A reply as the timeline keeps it: the values of password attributes replaced, so that a timeline
    printed, saved or shown in a test report never carries a secret."""
    return SECRET_ATTRIBUTE.sub(rf'\1"{SECRET}"', text) if "assword" in text else text


def redact_fields(value: Any) -> Any:  # (a JSON value: dicts, lists, scalars)
    """A REST body as the timeline keeps it: fields whose name ends in `password` masked."""
    if isinstance(value, dict):
        return {k: SECRET if k.lower().endswith("password") and v else redact_fields(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_fields(v) for v in value]
    return value


def clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


def render_text(events: list[Event], verbs: bool = False) -> str:
    """One line per event, `mm:ss.mmm  what happened`; verb starts are left out unless asked for."""
    lines = [f"{clock(e.time)}  {e.describe()}" for e in events if verbs or not isinstance(e, Verb)]
    return "\n".join(lines)


def to_data(events: list[Event]) -> list[dict[str, Any]]:
    return [event.to_data() for event in events]
