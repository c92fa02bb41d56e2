"""Routes as types: which document answers a request (flows branch on a payload field, conferences dispatch on
the event type, event routes answer 204), and the credentials a route accepts."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import ClassVar

from flowc.runtime.documents import text_of
from flowc.runtime.problem import log


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
class Route:
    """A path of the web app and what arrives there. Subclasses decide which document answers."""

    kind: ClassVar[str] = ""
    conference: ClassVar[bool] = False  # whether its payloads are conference events whatever their type
    path: str
    events: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()  # events answered with an empty 204 whatever the route
    auth: tuple[Credential, ...] = ()
    hook_timeout: float | None = None  # the smallest callbackTimeout of the webhooks reaching it, in seconds

    def select(self, data: dict, event_type: str) -> str | None:
        """The file of the document answering this request, or None for an empty 204."""
        raise NotImplementedError

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
    branches: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # (field, values, document file)

    def select(self, data: dict, event_type: str) -> str | None:
        if event_type in self.silent:
            return None
        for name, values, file in self.branches:
            value = data.get(name)
            if (text_of(value, name, file) if value is not None else "") in values:
                return file
        return self.default

    @property
    def files(self) -> tuple[str, ...]:
        return (self.default, *(file for _, _, file in self.branches))


@dataclass(frozen=True, slots=True)
class ConferenceRoute(Route):
    """A conference's event URL: one handler document per event type (none: 204)."""

    kind: ClassVar[str] = "conference"
    conference: ClassVar[bool] = True
    by_event: tuple[tuple[str, str], ...] = ()  # (eventType, document file)
    # (eventType, field, values, document file): `when role host { ... }` in a handler; `role` is the member's
    # role, which a room (flowc.runtime.rooms) adds to the fields before choosing
    branches: tuple[tuple[str, str, tuple[str, ...], str], ...] = ()
    room: str | None = None  # the room whose policy the app runs on these events
    _by_event: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_event", dict(self.by_event))

    def select(self, data: dict, event_type: str) -> str | None:
        if event_type in self.silent:
            return None
        for event, name, values, file in self.branches:
            if event == event_type:
                value = data.get(name)
                if (text_of(value, name, file) if value is not None else "") in values:
                    return file
        return self._by_event.get(event_type)

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(file for _, file in self.by_event) + tuple(b[3] for b in self.branches)


@dataclass(frozen=True, slots=True)
class EventRoute(Route):
    """A URL for webhooks that take no BXML: validated, observed, answered 204."""

    kind: ClassVar[str] = "event"

    def select(self, data: dict, event_type: str) -> str | None:
        return None


def request_host(header: str | None) -> str:
    """The host name of a Host header, lower case, without the port (`[::1]:8000` -> `::1`)."""
    host = (header or "").strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
