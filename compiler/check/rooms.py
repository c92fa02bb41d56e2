"""Rooms (conferences with a policy, flowc.backend.rooms): what cannot work on Bandwidth.

One registered rule reads the rooms and every join of them and yields the diagnostics below. The facts behind
them are in ../shared/reference/conference-superset.md: at most 20 members (C6), one coach (2.8), no audio to
one member (2.9), at most 24 hours (2.11), the creator's event URL (C1), and one serial audio queue per
conference (C3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flowc.bxml.vocabulary import vocabulary
from flowc.check.common import CheckContext, rule
from flowc.core.codes import CODES
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span
from flowc.semantics.ir import Conference, Element, Policy, Text, walk

MAX_MEMBERS = 20  # "A maximum of 20 calls may be in a particular conference."
MAX_SECONDS = 24 * 3600  # "A conference may last for at most 24 hours."


@dataclass
class Join:
    element: Element
    room: Conference | None  # the declared conference, when joined by its declared name
    owner: str | None


def _diagnostic(code: str, message: str, span: Span, **extra: Any) -> Diagnostic:
    return Diagnostic(code, CODES[code].severity, message, span, **extra)


def _joins(context: CheckContext) -> list[Join]:
    conferences = context.conferences
    return [Join(element, conferences.get(element.conference or ""), body.flow)
            for element, _, body in context.tagged(JOIN)]


ROOM_CODES = ("FC121", "FC420", "FC421", "FC422", "FC423", "FC424", "FC425", "FC426", "FC427")
JOIN = vocabulary().join.name


@rule(*ROOM_CODES, elements=(JOIN,), on_elements={"FC121": lambda spec: spec.name == JOIN},
      on_declarations=("FC420", "FC421", "FC422", "FC423", "FC425", "FC426"))
def room_policy(context: CheckContext) -> Iterator[Diagnostic]:
    rooms = [c for c in context.conferences.values() if c.policy is not None]
    joins = _joins(context)
    if not rooms and not any(j.element.role is not None for j in joins):
        return
    for join in joins:
        yield from _role_of(join)
    for room in rooms:
        policy = room.policy
        assert policy is not None
        of_room = [j for j in joins if j.room is room]
        yield from _cap(policy, of_room)
        yield from _coaches(policy)
        yield from _enders(room, policy, of_room)
        yield from _private_audio(policy)
        yield from _limit(policy)
        yield from _event_url(room, policy, joins)
        yield from _queued_audio(room, policy)


def _role_of(join: Join) -> Iterator[Diagnostic]:
    element = join.element
    if element.role is None or element.role_span is None:
        return
    if join.room is None or join.room.policy is None:
        yield _diagnostic("FC121", f"`as {element.role}` gives a role in a room, and this conference has no "
                          "room policy", element.role_span,
                          help="declare the conference with a policy line (`end when host leaves`, `max 5` ...), "
                          "or remove the role", fix=Fix(f"remove `as {element.role}`",
                                                        (Edit(element.role_span, ""),), safe=False))
        return
    if join.room.policy.role(element.role) is None:
        names = sorted({r.name for r in join.room.policy.roles} | {"host", "moderator", "member", "coach",
                                                                    "listener"})
        yield _diagnostic("FC121", f"room `{join.room.name}` has no role `{element.role}`", element.role_span,
                          help="roles: " + ", ".join(names) + f"; or declare it: `role {element.role} member`")


def _required_at_once(policy: Policy, joins: list[Join]) -> list[str]:
    """The kinds of member the room needs in it together: a host when it waits for one or ends with one, the
    coach (it coaches someone), and someone else."""
    kinds = {_kind(policy, j) for j in joins}
    needed = []
    if "host" in kinds or policy.lobby is not None or policy.end is not None:
        needed.append("a host")
    if "coach" in kinds:
        needed.append("a coach")
    if kinds & {"member", "listener"} or not needed:
        needed.append("a member")
    return needed


def _kind(policy: Policy, join: Join) -> str:
    role = policy.role(join.element.role or "member")
    return role.kind if role is not None else "member"


def _cap(policy: Policy, joins: list[Join]) -> Iterator[Diagnostic]:
    if policy.cap is None or policy.cap_span is None:
        return
    span = policy.cap_span
    if policy.cap > MAX_MEMBERS:
        yield _diagnostic("FC420", f"a room holds at most {MAX_MEMBERS} members on Bandwidth, not {policy.cap}",
                          span, help="a conference takes 20 calls, muted, held and the coach included",
                          fix=Fix(f"replace `{policy.cap}` with `{MAX_MEMBERS}`", (Edit(span, str(MAX_MEMBERS)),)))
        return
    needed = _required_at_once(policy, joins)
    if policy.cap < len(needed):
        yield _diagnostic("FC421", f"`max {policy.cap}` is less than the room needs at once: "
                          + ", ".join(needed), span,
                          help="the cap counts every member: raise it to at least the roles the room needs together",
                          fix=Fix(f"replace `{policy.cap}` with `{len(needed)}`", (Edit(span, str(len(needed))),)))


def _coaches(policy: Policy) -> Iterator[Diagnostic]:
    coaches = [r for r in policy.roles if r.kind == "coach"]
    for second in coaches[1:]:
        yield _diagnostic("FC422", f"role `{second.name}` is a second coach role: a Bandwidth conference has one "
                          "coach at a time", second.span, labels=[Label(coaches[0].span, "the first coach role")],
                          help="make it a listener (monitoring only), or merge the two roles into one")


def _enders(room: Conference, policy: Policy, joins: list[Join]) -> Iterator[Diagnostic]:
    if policy.end is None and policy.lobby is None:
        return
    hosts = [j for j in joins if _kind(policy, j) == "host"]
    if hosts or not joins:
        return
    span = policy.end_span or policy.lobby_span or policy.span
    what = "ends when a host leaves" if policy.end is not None else "waits for a host"
    yield _diagnostic("FC423", f"room `{room.name}` {what}, but no join of it has a host role", span,
                      labels=[Label(j.element.keyword_span, "joins without a host role") for j in joins[:3]],
                      help="give the joins that open and close the room a host role: `join "
                      f"{room.name} as host`")


def _private_audio(policy: Policy) -> Iterator[Diagnostic]:
    for span in policy.private_audio:
        yield _diagnostic("FC424", "audio to one member of a room cannot be built on Bandwidth", span,
                          help="everything a conference plays (its replies, its BXML endpoint) is heard by every "
                          "member; Bandwidth's v2 API has no audio for one member. Say it in that member's own "
                          "flow before it joins, or to the whole room",
                          fix=Fix("play it to the whole room", (Edit(Span(span.file, span.start - 1, span.end),
                                                                     ""),), safe=False))


def _limit(policy: Policy) -> Iterator[Diagnostic]:
    if policy.limit is None or policy.limit_span is None:
        return
    if policy.limit > MAX_SECONDS:
        yield _diagnostic("FC425", f"a conference lasts at most 24 hours on Bandwidth; `limit` gives "
                          f"{policy.limit / 3600:g} hours", policy.limit_span,
                          help="Bandwidth ends every conference after 24 hours: the limit must be 24h or less")
    elif policy.warn_before is not None and policy.warn_before >= policy.limit:
        yield _diagnostic("FC425", "the warning comes before the room starts: `warn` must be less than the limit",
                          policy.limit_span, help="for example `limit 30m warn 1m \"One minute left.\"`")


def _name(text: Text) -> str | None:
    return text.literal


def _event_url(room: Conference, policy: Policy, joins: list[Join]) -> Iterator[Diagnostic]:
    """C1: the creator's document sets the event URL. A join that can create the room without the app's
    event URL (a literal name, or its own `events`) leaves the policy without events."""
    events = _events_attribute()
    declared = room.setting(events)
    if declared is not None:
        yield _diagnostic("FC426", f"room `{room.name}` sends its events to its own `events` URL, so the app "
                          "cannot run its policy", declared.span,
                          help="remove `events`: a room's events go to the route flowc derives for it",
                          fix=Fix("remove `events`", (Edit(declared.span, ""),), safe=False))
    name = _name(room.conference_name)
    for join in joins:
        element = join.element
        if join.room is room:
            own = element.attribute(events)
            if own is not None:
                yield _diagnostic("FC426", f"this join of room `{room.name}` gives its own event URL: if it creates "
                                  "the room, no event reaches the app and the policy stops", own.span,
                                  fix=Fix("remove `events`", (Edit(own.span, ""),), safe=False))
        elif join.room is None and name is not None and element.conference is None and element.texts \
                and element.texts[0].literal == name:
            text = element.texts[0]
            yield _diagnostic("FC426", f"this join names room `{room.name}`'s conference \"{name}\" directly: if it "
                              "creates the room, it sends no events and the policy stops", text.span,
                              labels=[Label(room.name_span, "the room's policy")],
                              help=f"join it by its declared name: `join {room.name}`",
                              fix=Fix(f"join `{room.name}`", (Edit(Span(text.span.file, element.keyword_span.start,
                                                                        text.span.end), f"join {room.name}"),)))


def _events_attribute() -> str:
    """The BXML name of `join`'s `events` (the conference's event URL), read from the vocabulary."""
    return vocabulary().conference_event_url.name


def _queued_audio(room: Conference, policy: Policy) -> Iterator[Diagnostic]:
    """C3: a conference plays its audio one verb after another. Audio a handler plays into the room delays the
    tones and the warning queued after it; the lobby's music played into the room delays them for as long."""
    if not policy.tones and policy.warning is None:
        return
    play = vocabulary().by_keyword("play")
    assert play is not None
    lobby = policy.lobby.literal if policy.lobby is not None else None
    for handler in room.handlers:
        for body in [handler.body, *(b.body for b in handler.branches)]:
            for element in walk(body):
                if element.tag != play.name:
                    continue
                url = element.texts[0].literal if element.texts else None
                if url is not None and url == lobby:
                    message = "the lobby music played into the room holds up every tone and warning behind it"
                else:
                    message = "audio played into the room holds up the tones and the warning queued after it"
                yield _diagnostic("FC427", message, element.span,
                                  labels=[Label(t.span, "queued behind it") for t in policy.tones[:2]],
                                  help="a conference plays its audio one item at a time, in order: keep audio in "
                                  "room handlers short, and the lobby's music in the lobby (`wait for host play`)")
