"""Planning rooms: a conference with a policy becomes documents and routes the generated app chooses among.

Bandwidth's `<Conference>` has no roles, lobby, cap or time limit (../shared conference-superset.md), so the app
runs them: when it serves a document that joins a room, it asks its store whether the caller joins, waits in
the lobby or is turned away, and serves the matching variant of that document, each compiled here ahead of
time. For every join of a room (a *site*: one planned document with a top-level `join ROOM`):

- the document itself: the statements before the join, `start gather` (when the room has keys), the join,
  the statements after it (where the caller's flow continues when the room ends);
- `lobby`: the statements before the join, then a redirect to the room's lobby route, which loops the lobby
  audio until a host is in (`PlayAudio` has no loop attribute: the loop is the redirect). Only callers in
  that loop are released by a PUT; one still hearing the statements before its join is not interrupted: its
  redirect finds the host in and joins;
- `loop`: the lobby audio and the redirect again; `join`: the join and what follows it (the lobby route's
  reply once a host is in); `release`: the same as a `<Bxml>` document, which the app PUTs to each waiting
  call when the host arrives (a PUT replaces the call's document, so the continuation travels with it);
- `full`: the statements before the join, then a redirect to the overflow flow (or a hang-up).

Per room: tone documents (played by replying to memberJoin/memberExit, with the matching handler's verbs
after the tone), the time-limit warning (a `<Bxml>` the app PUTs to the conference), the lobby route and the
keys route (`start gather` sends each key there; the app acts by REST). The elements are written as .flow
statements and lowered, so no BXML name is spelled here. Which joins are sites, a role's kind and whether a
site needs the lobby or keys are flowc.semantics.routes' decisions (the routes and their credentials follow them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from urllib.parse import quote

from flowc.core.diagnostics import Span
from flowc.semantics.ir import Attribute, Conference, Element, Slot, Text
from flowc.semantics.routes import KEYS_PATH, LOBBY_PATH, is_room, keys_for, needs_lobby, role_kind

__all__ = ["KEYS_PATH", "LOBBY_PATH", "RoomPlan", "Site", "audio_elements", "is_room", "keys_elements", "keys_for",
           "lobby_elements", "muted", "named_join", "needs_lobby", "overflow_elements", "role_kind",
           "to_lobby_elements"]



@dataclass
class Site:
    """One join of a room: the document that joins it and its variants (files under OUT, None if unused)."""

    file: str
    room: str  # the conference declaration
    role: str
    kind: str  # host | member | coach | listener
    lobby: str | None = None
    loop: str | None = None
    join: str | None = None
    release: str | None = None
    full: str | None = None


@dataclass
class RoomPlan:
    conference: Conference
    event_path: str
    lobby_path: str
    keys_path: str | None
    sites: list[Site] = field(default_factory=list)
    # (event "join"|"exit", roles or () for every role, ((handler file or "", tone file), ...))
    tones: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = field(default_factory=list)
    warning: str | None = None


@functools.cache
def _snippet(source: str) -> tuple[Element, ...]:
    """Elements of a flow body written in .flow (lowered once per distinct text)."""
    from flowc.semantics.lower import lower
    from flowc.syntax.parser import parse

    module, _ = parse("flow x {\n" + source + "\n}\n", "<rooms>")
    flow_file, _ = lower(module)
    return tuple(flow_file.flows[0].body)


def _elements(source: str, texts: dict[str, Text] | None = None, span: Span | None = None) -> list[Element]:
    """Fresh copies of a snippet's elements with the placeholders `"@N"` replaced by the given Texts and every
    span moved to `span` (the policy line they come from)."""
    import copy

    elements = copy.deepcopy(list(_snippet(source)))
    for element in elements:
        _retarget(element, texts or {}, span)
    return elements


def _retarget(element: Element, texts: dict[str, Text], span: Span | None) -> None:
    if span is not None:
        element.span = element.keyword_span = span
    for index, item in enumerate(element.content):
        if isinstance(item, Text):
            literal = item.literal or ""
            if literal in texts:
                element.content[index] = texts[literal]
            elif span is not None:
                item.span = span
        else:
            _retarget(item, texts, span)
    for attribute in element.attributes:
        value = attribute.value
        if isinstance(value, Text) and (value.literal or "") in texts:
            attribute.value = texts[value.literal or ""]
        elif span is not None:
            attribute.span = attribute.name_span = attribute.value.span = span


def templated(conference: Conference) -> bool:
    """Whether the room's name is computed per call (`"case-{digits}"`): later webhooks of its callers (the
    lobby's redirects, keys) do not carry what it was computed from, so the name travels in their URLs."""
    return conference.conference_name.literal is None


def _name_parts(conference: Conference, from_query: bool) -> list[str | Slot]:
    """The room's name in a document: from the webhook that joins (its own parts), or, in what the lobby and
    keys routes serve and the release PUT, from their URL's `room` parameter."""
    if from_query:
        return [Slot("room", conference.name_span, filter="safe")]
    return list(conference.conference_name.parts)


def _url(path: str, conference: Conference, from_query: bool, separator: str) -> Text:
    parts: list[str | Slot] = [path]
    if templated(conference):
        parts += [f"{separator}room=", *_name_parts(conference, from_query)]
    return Text(parts, conference.name_span)


def lobby_url(room: RoomPlan, site_file: str, from_query: bool) -> Text:
    return _url(f"{room.lobby_path}?site={quote(site_file, safe='/')}", room.conference, from_query, "&")


def to_lobby_elements(room: RoomPlan, site_file: str) -> list[Element]:
    """Into the lobby at once: the lobby route then plays the music (or joins, if the host came meanwhile)."""
    policy = room.conference.policy
    assert policy is not None
    return _elements('redirect to "@url"', {"@url": lobby_url(room, site_file, False)}, policy.lobby_span)


def lobby_elements(room: RoomPlan, site_file: str) -> list[Element]:
    """What the lobby route serves while no host is in: the music, then the lobby again."""
    policy = room.conference.policy
    assert policy is not None and policy.lobby is not None
    return _elements('play "@lobby"\nredirect to "@url"',
                     {"@lobby": policy.lobby, "@url": lobby_url(room, site_file, True)}, policy.lobby_span)


def keys_elements(room: RoomPlan, from_query: bool = False) -> list[Element]:
    policy = room.conference.policy
    assert policy is not None and room.keys_path is not None
    url = _url(room.keys_path, room.conference, from_query, "?")
    return _elements('start gather on dtmf "@url"', {"@url": url}, policy.keys[0].span)


def named_join(conference: Conference, join: Element, attributes: list[Attribute]) -> Element:
    """The join as the lobby route and the release write it when the name is computed per call: the name from
    the URL's `room` parameter, the declaration's settings written out."""
    import copy

    if not templated(conference):
        return join
    copied = copy.copy(join)
    copied.conference = None
    copied.attributes = attributes
    copied.content = [Text(_name_parts(conference, True), conference.name_span)]
    return copied


def overflow_elements(room: RoomPlan) -> list[Element]:
    policy = room.conference.policy
    assert policy is not None
    if policy.overflow is None:
        return _elements("hangup", span=policy.cap_span or policy.span)
    return _elements(f"redirect to {policy.overflow}", span=policy.overflow_span)


def audio_elements(kind: str, text: Text, span: Span | None) -> list[Element]:
    """`play URL` or `say TEXT` with the given Text."""
    return _elements(f'{kind} "@text"', {"@text": text}, span)


def muted(join: Element) -> Element:
    """A copy of a join with `mute` (a coach or a listener joins heard by nobody)."""
    import copy

    flag = _elements('join conference "x" mute', span=join.keyword_span)[0].attributes
    if any(a.name == flag[0].name for a in join.attributes):
        return join  # written on the join already (`mute false` included: the flow's choice)
    copied = copy.copy(join)
    copied.attributes = [*join.attributes, *flag]
    return copied
