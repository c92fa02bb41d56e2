"""Routes as types: which document answers a request (flows and conference handlers branch on a payload field,
a hook or an environment variable; a flow answers a failed counted attempt; conferences dispatch on the event
type; event routes answer 204), and the credentials a route accepts."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flowc.runtime.documents import text_of
from flowc.runtime.problem import Problem, log
from flowc.runtime.schedule import WeeklyHours
from flowc.runtime.values import ASK_PARAMETER, ATTEMPT_PARAMETER, SlotRef


@dataclass(frozen=True, slots=True)
class Secret:
    kind: str  # env | literal | sha256 (a literal password, kept only as its digest)
    value: str

    @property
    def configured(self) -> bool:
        return self.kind != "env" or self.value in os.environ

    def matches(self, given: bytes) -> bool:
        if self.kind == "env":
            expected = os.environ.get(self.value)
            if expected is None:
                log.error("environment variable %s is not set: every request to this route is refused", self.value)
                return False
            return hmac.compare_digest(given, expected.encode())
        if self.kind == "sha256":
            return hmac.compare_digest(hashlib.sha256(given).hexdigest().encode(), self.value.encode())
        return hmac.compare_digest(given, self.value.encode())


@dataclass(frozen=True, slots=True)
class Credential:
    """A username and password a route accepts. `host`: a fallback credential, accepted only on requests to
    the fallback URL's host; `requires`: the primary credential of the same statement, which must be fully
    configured for this one to count (a missing primary secret closes the route, never opens the fallback)."""

    username: Secret
    password: Secret
    host: str | None = None
    requires: Credential | None = None

    def applies(self, host: str) -> bool:
        if self.host is not None and host != self.host:
            return False
        return self.requires is None or (self.requires.username.configured and self.requires.password.configured)

    def matches(self, username: bytes, password: bytes) -> bool:
        # Both are always compared, so the time taken does not tell which one was wrong.
        return self.username.matches(username) & self.password.matches(password)


@dataclass(frozen=True, slots=True)
class Choice:
    """A `when` branch: the document served when the tested value (a payload field, a hook or an environment
    variable, as a SlotRef) is one of `values`; `event`: the conference event of a handler's branch. The web app
    computes the hook and environment values a request's branches test before choosing (flowc.runtime.app) and
    hands them in with the payload's fields, under their placeholder (`${hook:after_hours}`)."""

    ref: SlotRef
    values: tuple[str, ...]
    file: str
    event: str | None = None

    def matches(self, data: dict[str, Any]) -> bool:
        ref = self.ref
        key = ref.name if ref.source == "payload" else ref.placeholder
        value = data.get(key)
        return (text_of(value, key, self.file) if value is not None else "") in self.values


def tested(choices: tuple[Choice, ...]) -> tuple[SlotRef, ...]:
    """The hook and environment values some of these branches test, once each."""
    return tuple(dict.fromkeys(c.ref for c in choices if c.ref.source != "payload"))


@dataclass(frozen=True, slots=True)
class Retry:
    """`gather ... then THIS_FLOW attempts N`: when an answer selects none of the flow's branches, the document
    asking attempt n + 1 (`files[n - 1]`), and after the last attempt `exhausted` (None: the flow's default).
    The attempt comes from the callback URL the compiler wrote (`?ask=main&attempt=2`)."""

    ask: str
    files: tuple[str, ...]  # the documents asking attempts 2 .. N
    exhausted: str | None = None

    def after(self, attempt: object, default: str) -> str:
        last = len(self.files) + 1
        if not (isinstance(attempt, str) and attempt.isascii() and attempt.isdigit() and 1 <= int(attempt) <= last):
            raise Problem(422, f"the attempt {attempt!r} in the callback URL is not one this flow counts "
                               f"(1 to {last})")
        number = int(attempt)
        return self.files[number - 1] if number < last else self.exhausted or default


@dataclass(frozen=True, slots=True)
class Route:
    """A path of the web app and what arrives there. Subclasses decide which document answers."""

    kind: ClassVar[str] = ""
    conference: ClassVar[bool] = False  # whether its payloads are conference events whatever their type
    path: str
    events: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()  # events answered with an empty 204 whatever the route
    auth: tuple[Credential, ...] = ()
    hook_timeout: float | None = None  # the smallest callbackTimeout of the webhooks reaching it, in seconds

    def select(self, data: dict[str, Any], event_type: str) -> str | None:
        """The file of the document answering this request, or None for an empty 204. `data` holds the
        payload's fields and the values of `tested_values(event_type)` (under their placeholders)."""
        raise NotImplementedError

    def tested_values(self, event_type: str) -> tuple[SlotRef, ...]:
        """The hook and environment values the branches answering this event test (computed before select)."""
        return ()

    @property
    def files(self) -> tuple[str, ...]:
        """Every document the route may serve."""
        return ()

    def authorized(self, header: str | None, host: str | None = None) -> bool:
        """Whether the Basic credentials in `header` are ones the route accepts for a request whose Host header
        is `host`. Secrets are read from the environment on every request, so an unset one refuses at once."""
        if not self.auth:
            return True
        given = basic_credentials(header) if header else None
        if given is None:
            return False
        username, password = given
        name = None
        ok = False
        for credential in self.auth:
            if credential.host is not None and name is None:
                name = request_host(host)  # only fallback credentials depend on the host
            if credential.applies(name or ""):
                ok |= credential.matches(username, password)
        return ok


@functools.lru_cache(maxsize=256)
def basic_credentials(header: str) -> tuple[bytes, bytes] | None:
    """(username, password) of a Basic Authorization header, or None. Cached: Bandwidth sends the same few
    headers again and again, and only the comparison with the secrets has to run every time."""
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    username, _, password = decoded.partition(b":")
    return username, password


@dataclass(frozen=True, slots=True)
class FlowRoute(Route):
    """A flow: its default document, or the first `when` branch whose field has one of its values."""

    kind: ClassVar[str] = "flow"
    default: str = ""
    branches: tuple[Choice, ...] = ()  # in source order
    retries: tuple[Retry, ...] = ()  # the counted gathers whose answers reach this flow
    schedules: tuple[WeeklyHours, ...] = ()  # business hours a branch tests (`when office open`): per request
    _tested: tuple[SlotRef, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tested", tested(self.branches))

    def select(self, data: dict[str, Any], event_type: str) -> str | None:
        if event_type in self.silent:
            return None
        for choice in self.branches:
            if choice.matches(data):
                return choice.file
        return self.unmatched(data)

    def unmatched(self, data: dict[str, Any]) -> str:
        """No branch matched: a failed attempt of the counted gather named in the URL, else the default."""
        if self.retries:
            ask = data.get(ASK_PARAMETER)
            for retry in self.retries:
                if retry.ask == ask:
                    return retry.after(data.get(ATTEMPT_PARAMETER), self.default)
        return self.default

    def tested_values(self, event_type: str) -> tuple[SlotRef, ...]:
        return self._tested

    @property
    def files(self) -> tuple[str, ...]:
        retried = [file for retry in self.retries for file in (*retry.files, retry.exhausted) if file]
        return (self.default, *(choice.file for choice in self.branches), *retried)


@dataclass(frozen=True, slots=True)
class ConferenceRoute(Route):
    """A conference's event URL: one handler document per event type (none: 204)."""

    kind: ClassVar[str] = "conference"
    conference: ClassVar[bool] = True
    by_event: tuple[tuple[str, str], ...] = ()  # (eventType, document file)
    # The handlers' `when` branches, each with its event, in source order (`when tag "coach"`, `when hook(x)
    # "yes"`; `when role host`: `role` is the member's role, which a room (flowc.runtime.rooms) adds to the
    # fields before choosing)
    branches: tuple[Choice, ...] = ()
    room: str | None = None  # the room whose policy the app runs on these events
    _by_event: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _branches: dict[str, tuple[Choice, ...]] = field(init=False, repr=False, compare=False, hash=False)
    _tested: dict[str, tuple[SlotRef, ...]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_event", dict(self.by_event))
        grouped: dict[str, tuple[Choice, ...]] = {}
        for choice in self.branches:
            grouped[choice.event or ""] = (*grouped.get(choice.event or "", ()), choice)
        object.__setattr__(self, "_branches", grouped)
        object.__setattr__(self, "_tested", {event: tested(choices) for event, choices in grouped.items()})

    def select(self, data: dict[str, Any], event_type: str) -> str | None:
        if event_type in self.silent:
            return None
        for choice in self._branches.get(event_type, ()):
            if choice.matches(data):
                return choice.file
        return self._by_event.get(event_type)

    def tested_values(self, event_type: str) -> tuple[SlotRef, ...]:
        return self._tested.get(event_type, ())

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(file for _, file in self.by_event) + tuple(choice.file for choice in self.branches)


@dataclass(frozen=True, slots=True)
class EventRoute(Route):
    """A URL for webhooks that take no BXML: validated, observed, answered 204."""

    kind: ClassVar[str] = "event"

    def select(self, data: dict[str, Any], event_type: str) -> str | None:
        return None


def request_host(header: str | None) -> str:
    """The host name of a Host header, lower case, without the port (`[::1]:8000` -> `::1`)."""
    host = (header or "").strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
