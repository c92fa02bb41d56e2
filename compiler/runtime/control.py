"""The control API: what hooks (and the generated conference handlers) do to calls and rooms mid-call.

`context.control` (on the RequestContext a hook gets) is a `Control`. Each method records one outbox entry
and returns its id; the entries are sent after the webhook's reply, in order (flowc.runtime.outbox). Ids are
made from the request's cause (the event's id, or the timer's key and due time) and the entry's position in
it, so a duplicated event that runs the same hook records nothing new and nothing is sent twice.

A method's call defaults to the request's `callId`, its conference to the current conference of `room=` (a
conference name) in the store, else to the request's `conferenceId`, else to the current conference of the
room the request is about (`room`, set by the app for a room's conference events, keys and lobby: so a hook
run by a key pressed in a room needs no `room=`).

Public interface (all keyword arguments after the first optional call id):
`mute(call_id, conference_id=, room=)`, `unmute(...)`, `hold(...)`, `unhold(...)`,
`coach(call_ids, coach_id=, conference_id=, room=)`, `kick(call_id, then_url=)` (hang up, or continue the
call's flow at a URL), `move(call_id, url=, bxml=)` (redirect to a URL, or replace its BXML with a `<Bxml>`
document), `announce(bxml, conference_id=, room=)` (a `<Bxml>` document of conference verbs to the whole
room), `end(conference_id=, room=)`, `send(request, name)` (any `flowc.runtime.bandwidth.Request`);
`effects` lists the ids recorded by this request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowc.runtime import bandwidth

if TYPE_CHECKING:
    from flowc.runtime.outbox import Outbox
    from flowc.runtime.store import Store


class ControlError(ValueError):
    """A control call that names no call or no conference (the request has none to default to)."""


class Control:
    def __init__(self, outbox: Outbox, store: Store, fields: dict[str, Any], cause: str) -> None:
        self.outbox, self.store, self.fields, self.cause = outbox, store, fields, cause
        self.room: str | None = None  # the Bandwidth name of the room this request is about, if any
        self.effects: list[str] = []  # ids recorded now, to send after the reply
        self._count = 0

    # -- members -----------------------------------------------------------------------------------------------

    def mute(self, call_id: str | None = None, *, conference_id: str | None = None, room: str | None = None) -> str:
        return self._member(call_id, conference_id, room, "control.mute", mute=True)

    def unmute(self, call_id: str | None = None, *, conference_id: str | None = None,
               room: str | None = None) -> str:
        return self._member(call_id, conference_id, room, "control.unmute", mute=False)

    def hold(self, call_id: str | None = None, *, conference_id: str | None = None, room: str | None = None) -> str:
        return self._member(call_id, conference_id, room, "control.hold", hold=True)

    def unhold(self, call_id: str | None = None, *, conference_id: str | None = None,
               room: str | None = None) -> str:
        return self._member(call_id, conference_id, room, "control.unhold", hold=False)

    def coach(self, call_ids: list[str], *, coach_id: str | None = None, conference_id: str | None = None,
              room: str | None = None) -> str:
        """Make `coach_id` (default: this request's call) coach exactly these calls ([] stops coaching)."""
        return self._member(coach_id, conference_id, room, "control.coach", call_ids_to_coach=list(call_ids))

    def _member(self, call_id: str | None, conference_id: str | None, room: str | None, name: str,
                **settings: Any) -> str:
        request = bandwidth.member_update(self._conference(conference_id, room), self._call(call_id), **settings)
        return self.send(request, name)

    # -- calls -------------------------------------------------------------------------------------------------

    def kick(self, call_id: str | None = None, *, then_url: str | None = None, room: str | None = None) -> str:
        """Take a call out of its conference: hang it up, or (then_url) continue its flow there (in a room,
        `room=`: an expected exit, which ends nothing and plays no tone)."""
        call = self._call(call_id)
        if then_url is not None:
            self._expect_exit(call, room)
            return self.send(bandwidth.call_update(call, redirect_url=then_url), "control.kick")
        return self.send(bandwidth.call_update(call, state="completed"), "control.kick")

    def move(self, call_id: str | None = None, *, url: str | None = None, bxml: str | bytes | None = None,
             room: str | None = None) -> str:
        """Redirect a call: to `url` (its reply runs next), or to a `<Bxml>` document (e.g. another room). A
        member of a room (`room=`, or the conference of this request's event) leaves it expectedly: a host's
        move does not end the room (flowc.runtime.rooms)."""
        if (url is None) == (bxml is None):
            raise ControlError("move() takes one of url= and bxml=")
        call = self._call(call_id)
        self._expect_exit(call, room)
        if bxml is not None:
            return self.send(bandwidth.call_bxml(call, _text(bxml)), "control.move")
        return self.send(bandwidth.call_update(call, redirect_url=url), "control.move")

    def _expect_exit(self, call_id: str, room: str | None) -> None:
        name = room or self.room or self.fields.get("name")
        if isinstance(name, str) and name:
            self.store.update_member(name, call_id, expect_exit=True)

    # -- rooms -------------------------------------------------------------------------------------------------

    def announce(self, bxml: str | bytes, *, conference_id: str | None = None, room: str | None = None) -> str:
        """Play a `<Bxml>` document of conference verbs to the whole room (queued behind its audio)."""
        request = bandwidth.conference_bxml(self._conference(conference_id, room), _text(bxml))
        return self.send(request, "control.announce")

    def end(self, *, conference_id: str | None = None, room: str | None = None) -> str:
        """End the conference: every member carries on with the verb after its `<Conference>`."""
        return self.send(bandwidth.conference_update(self._conference(conference_id, room), status="completed"),
                         "control.end")

    # -- any request -------------------------------------------------------------------------------------------

    def send(self, request: bandwidth.Request, name: str = "request") -> str:
        """Record `request` in the outbox (once per cause and position); returns the entry's id."""
        self._count += 1
        effect_id = f"{self.cause}#{self._count}:{name}"
        if self.outbox.add(effect_id, request):
            self.effects.append(effect_id)
        return effect_id

    def _call(self, call_id: str | None) -> str:
        found = call_id or self.fields.get("callId")
        if not found:
            raise ControlError("this request has no callId: name the call")
        return str(found)

    def _conference(self, conference_id: str | None, room: str | None) -> str:
        if conference_id:
            return conference_id
        if room is not None:
            return self._bound(room)
        found = self.fields.get("conferenceId")
        if found:
            return str(found)
        if self.room:  # a key pressed in the room, its lobby: the room's conference now
            return self._bound(self.room)
        raise ControlError("this request has no conferenceId: pass conference_id= or room=")

    def _bound(self, room: str) -> str:
        bound = self.store.room(room).conference_id
        if not bound:
            raise ControlError(f"the room {room!r} has no conference now")
        return bound


def _text(document: str | bytes) -> str:
    return document.decode() if isinstance(document, bytes) else document
