"""What the console shows, as plain data: one snapshot of the emulator (calls, conferences, timeline, clock).

`snapshot(bw)` is read under the engine's lock, so it is one consistent moment. The page renders it whole;
the server pushes a new one whenever it differs from the last (see flowc.sim.console.server).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flowc.sim.timeline import Event, Heard, RestRequest, StateChange, Webhook

if TYPE_CHECKING:
    from flowc.sim.api import Bandwidth
    from flowc.sim.engine import Room, SimCall

_REST_SUBJECT = re.compile(r"/(?:calls|members)/([^/]+)")
_REST_CONFERENCE = re.compile(r"/conferences/([^/]+)")


def snapshot(bw: Bandwidth, realtime: bool) -> dict[str, Any]:
    engine = bw.engine
    with engine.lock:
        events = list(engine.events)
        rooms = list(engine.rooms.values())
        return {
            "now": round(engine.now, 3),
            "realtime": realtime,
            "calls": [_call(bw, call, events) for call in engine.calls.values()],
            "conferences": [_conference(bw, room) for room in rooms],
            "timeline": _timeline(events),
            "events": len(events),
        }


def _call(bw: Bandwidth, call: SimCall, events: list[Event]) -> dict[str, Any]:
    from flowc.sim.api import Call

    heard = [{"time": e.time, "text": e.text, "media": e.media, "conference": e.conference_id}
             for e in events if isinstance(e, Heard) and e.call_id == call.id]
    return {"id": call.id, "from": call.from_, "to": call.to, "direction": call.direction, "state": call.state,
            "cause": call.cause, "waiting": Call(bw, call).waiting, "heard": heard,
            "conference": call.room.id if call.room is not None else None}


def _conference(bw: Bandwidth, room: Room) -> dict[str, Any]:
    from flowc.sim.api import Conference

    conference = Conference(bw, room)
    members = []
    for call_id, member in room.members.items():
        role = "coach" if member.coaching is not None else "member"
        members.append({"call": call_id, "from": member.call.from_, "role": role, "mute": member.mute,
                        "hold": member.hold, "coaching": list(member.coaching or [])})
    ids = list(room.members)
    matrix = [[None if listener == speaker else conference.can_hear(listener, speaker) for speaker in ids]
              for listener in ids]
    return {"id": room.id, "name": room.name, "state": room.state, "coach": room.coach_id, "members": members,
            "matrix": {"calls": ids, "hears": matrix},
            # The lobby: members held until someone lets them in (the emulator keeps no other waiting room).
            "lobby": [m["call"] for m in members if m["hold"]]}


def _timeline(events: list[Event]) -> list[dict[str, Any]]:
    """Every webhook and every REST request, each with the calls it concerns (for the page's filter): its
    call, or every call that was ever a member of its conference."""
    members: dict[str, set[str]] = {}
    for event in events:
        if isinstance(event, StateChange) and event.state == "joined" and event.detail:
            members.setdefault(event.detail.split()[0], set()).add(event.subject)
    entries = []
    for index, event in enumerate(events):
        if isinstance(event, Webhook):
            entries.append({
                "index": index, "kind": "webhook", "time": event.time, "event": event.event_type,
                "method": event.method, "url": event.url, "call": event.call_id, "conference": event.conference_id,
                "payload": event.payload, "status": event.status, "reply": event.reply,
                "accepted": event.accepted, "reason": event.reason, "fallback": event.fallback,
                "calls": [event.call_id] if event.call_id else sorted(members.get(event.conference_id or "", ())),
            })
        elif isinstance(event, RestRequest):
            subject = _REST_SUBJECT.search(event.path)
            conference = _REST_CONFERENCE.search(event.path)
            conference_id = conference.group(1) if conference else None
            entries.append({
                "index": index, "kind": "rest", "time": event.time, "method": event.method, "url": event.path,
                "status": event.status, "payload": event.body, "reply": event.response,
                "accepted": event.status < 400, "conference": conference_id,
                "calls": [subject.group(1)] if subject else sorted(members.get(conference_id or "", ())),
            })
    return entries
