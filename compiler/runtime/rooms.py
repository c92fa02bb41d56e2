"""Rooms at run time: the policy of a declared conference (roles, lobby, cap, tones, keys, time limit, ending)
carried out by the generated app over Bandwidth's thin `<Conference>` (the recipes of ../shared
conference-superset.md; flowc.backend.rooms plans the documents chosen here).

The store, the Bandwidth client, the outbox, the timers and the clock are the app's one
flowc.runtime.services.Runtime (opened by the app's lifespan, or on first use). Every decision reads and writes
the store in one atomic step, so any worker may take any webhook. A handler answers first and does its REST
side effects after the reply (Bandwidth waits at most callbackTimeout for the answer); each side effect is
recorded in the runtime's outbox under an id made of what caused it, so a duplicated event or a retried timer
never sends it twice, and what a crash leaves unsent is sent by the outbox's background loop.

- admission (the document joining a room is about to be served): `join`, `lobby` (no host yet: the lobby
  variant plays the music and loops through the lobby route) or `full` (over the cap, or locked);
- the lobby route: loops while no host is in; once one is, answers the join variant;
- memberJoin: the first host's join releases the lobby (a PUT of the `release` document to each waiting call,
  no tones for them) and starts the time limit; other joins get the join tone of their role;
- memberExit: the exit tone; a host leaving ends the room (POST status completed: everyone carries on after
  their `<Conference>`) unless the app itself moved it (expect_exit);
- keys (`start gather` delivers each digit): mute toggle, leave, kick the last joiner, lock, and the coach's
  monitor / whisper / barge;
- timers (the runtime's, kinds `room.warn` and `room.end`): the warning before the limit (a `<Bxml>` PUT to
  the conference) and the end at the limit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from flowc.runtime import bandwidth
from flowc.runtime.bandwidth import Request
from flowc.runtime.documents import Document
from flowc.runtime.problem import Problem, log
from flowc.runtime.routes import Route
from flowc.runtime.store import Member, Store, Timer, event_id

if TYPE_CHECKING:
    from flowc.runtime.services import Runtime

After = Callable[[], Awaitable[None]]  # side effects run once the reply is sent
Handler = Callable[[dict[str, Any]], str | None]  # the conference route's choice of document
Reply = tuple[str | None, After | None]


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One document that joins a room, and the variants the app may serve instead (flowc.backend.rooms.Site)."""

    file: str
    room: str
    role: str
    kind: str
    lobby: str | None = None
    loop: str | None = None
    join: str | None = None
    release: str | None = None
    full: str | None = None


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """A room's policy as the app needs it."""

    name: str  # the conference declaration
    room_name: Document  # renders the Bandwidth conference name from the payload
    lobby: bool = False
    cap: int | None = None
    limit: float | None = None
    warn_before: float | None = None
    warning: str | None = None  # the <Bxml> document PUT to the conference before the limit
    end: str | None = None  # last | any
    roles: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (role, kind, roles it coaches)
    tones: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = ()
    keys: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (digits, action, roles)

    def kind(self, role: str) -> str:
        for name, kind, _ in self.roles:
            if name == role:
                return kind
        return "host" if role == "moderator" else role

    def coached_roles(self, role: str) -> tuple[str, ...]:
        for name, _, coaches in self.roles:
            if name == role:
                return coaches
        return ()

    def tone(self, event: str, role: str, handler: str | None) -> str | None:
        """The tone document for a join or exit of `role`, given the handler document chosen (or None)."""
        for tone_event, roles, variants in self.tones:
            if tone_event == event and (not roles or role in roles):
                return dict(variants).get(handler or "")
        return None


@dataclass(frozen=True, slots=True)
class LobbyRoute(Route):
    """`/rooms/NAME/lobby`: the redirect that loops a waiting caller's music."""

    kind: ClassVar[str] = "room-lobby"
    room: str = ""

    def select(self, data: dict[str, Any], event_type: str, states: dict[str, str] | None = None) -> str | None:
        return None  # decided by Rooms.lobby


@dataclass(frozen=True, slots=True)
class KeysRoute(Route):
    """`/rooms/NAME/keys`: the digits a member presses in the room (dtmf events, answered 204)."""

    kind: ClassVar[str] = "room-keys"
    room: str = ""

    def select(self, data: dict[str, Any], event_type: str, states: dict[str, str] | None = None) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class Effect:
    """A REST side effect and the outbox id it is recorded under (made of what caused it)."""

    id: str
    request: Request


WARN, END = "room.warn", "room.end"  # the runtime's timer kinds for a room's time limit


class Rooms:
    """The rooms of one app: specs, the documents they choose among, and the app's runtime (store, outbox,
    timers, clock), whose timer handlers for the time limit it registers."""

    def __init__(self, rooms: tuple[RoomSpec, ...], sites: tuple[SiteSpec, ...], documents: dict[str, Document],
                 runtime: Runtime) -> None:
        self.rooms = {room.name: room for room in rooms}
        self.sites = {site.file: site for site in sites}
        self.by_call_site = {(site.room, site.file): site for site in sites}
        self.documents = documents
        self.routes: dict[str, Route] = {}  # by path, for the credentials a redirect to one of them needs
        self.runtime = runtime
        runtime.on_timer(WARN, self._warn)
        runtime.on_timer(END, self._end_at_limit)

    @property
    def store(self) -> Store:
        return self.runtime.store

    def room_name(self, spec: RoomSpec, data: dict[str, Any]) -> str:
        """The Bandwidth name of the room: from the `room` URL parameter of the lobby and keys routes (a name
        computed per call), else computed from this webhook's fields."""
        given = data.get("room")
        if isinstance(given, str) and given:
            from flowc.runtime.values import FILTERS

            return FILTERS["safe"].apply(given)
        return spec.room_name.render_sync(data).decode()

    # -- admission ---------------------------------------------------------------------------------------------

    def admit(self, file: str, data: dict[str, Any]) -> str:
        """The document to serve for a site: itself, its lobby variant or its full variant."""
        site = self.sites[file]
        spec = self.rooms[site.room]
        call_id = str(data.get("callId") or "")
        if not call_id:
            raise Problem(422, "payload field `callId` is required to join a room")
        name = self.room_name(spec, data)
        host = site.kind == "host"
        # the store keeps one seat for a host while none holds one: "at most N, the host included"
        answer = self.store.admit(name, call_id, site.role, host=host, cap=spec.cap,
                                  wait_for_host=spec.lobby and site.lobby is not None,
                                  data={"site": site.file})
        if answer == "lobby" and site.lobby:
            return site.lobby
        if answer in ("full", "locked"):
            return site.full or site.file
        return site.file

    def lobby(self, route: LobbyRoute, data: dict[str, Any]) -> str:
        """The lobby's redirect: loop again, or join now that a host is in."""
        site = self.sites.get(str(data.get("site") or ""))
        spec = self.rooms.get(route.room)
        if site is None or spec is None or site.loop is None or site.join is None:
            raise Problem(422, "the lobby does not know this caller's room")
        name = self.room_name(spec, data)
        call_id = str(data.get("callId") or "")
        # Marked first, read after: a host releasing the lobby meanwhile either sees the mark (and PUTs the
        # join to this call) or has already made it pending (and this answer is the join): no lost wake-up.
        self.store.update_member(name, call_id, looping=True)
        member = self.store.member(name, call_id)
        if member is not None and member.state == "lobby":
            return site.loop
        return site.join  # released (or unknown after a restart): join now

    # -- conference events -------------------------------------------------------------------------------------

    def event(self, route: Any, data: dict[str, Any], handler: Handler) -> Reply:
        """A conference event of a room: store changes, the reply's document (a tone, or the handler chosen
        by `handler(data)`, which may branch on `role`), and the side effects to run after the reply."""
        spec = self.rooms[route.room]
        event_type = data.get("eventType")
        name = str(data.get("name") or "")
        conference_id = str(data.get("conferenceId") or "")
        call_id = str(data.get("callId") or "")
        first = self.store.first_time(event_id(data))
        if event_type == "conferenceMemberJoin" and call_id:
            return self._joined(spec, name, conference_id, call_id, data, handler, first)
        if event_type == "conferenceMemberExit" and call_id:
            return self._left(spec, name, conference_id, call_id, data, handler, first)
        if event_type == "conferenceCompleted":
            if first and self.store.room(name).conference_id == conference_id:  # not a late one of an earlier
                self.store.end_room(name, conference_id)  # room (ended by the app, its name used again since)
            return None, None
        return handler(data), None

    def _joined(self, spec: RoomSpec, name: str, conference_id: str, call_id: str, data: dict[str, Any],
                handler: Handler, first: bool) -> Reply:
        if not first:  # a duplicate: the same reply, no second side effect
            known = self.store.member(name, call_id)
            data["role"] = known.role if known else "member"
            return handler(data), None
        result = self.store.joined(name, call_id, conference_id)
        member = result.member
        data["role"] = member.role if member else "member"
        chosen = handler(data)
        if member is None:  # its exit came first: nothing to do
            return chosen, None
        effects: list[Effect] = []
        for released in result.released:
            waiting = self.store.update_member(name, released, released=True)
            if waiting is not None and waiting.data.get("looping"):  # else its lobby redirect joins it
                release = self._release(name, released, conference_id)
                if release is not None:
                    effects.append(release)
        started = result.first_host if spec.lobby else member.seq == 1  # the meeting starts now
        if started and spec.limit is not None:
            self._start_limit(spec, name, conference_id)
        if any(action in ("whisper", "barge") for _, action, _ in spec.keys):  # a coach may be coaching roles
            effects.extend(self._coaching(spec, name, conference_id, member))
        quiet = member.data.get("released") or result.first_host  # the lobby's release; the meeting's start
        tone = None if quiet else spec.tone("join", member.role, chosen)
        return (tone or chosen), self._after(effects)

    def _release(self, name: str, call_id: str, conference_id: str) -> Effect | None:
        """The PUT of the release document to a waiting call, or None when its next lobby redirect joins it."""
        member = self.store.member(name, call_id)
        site = self.sites.get(member.data.get("site", "")) if member else None
        file = site.release if site and site.release else None
        if file is None:
            return None
        try:
            body = self.documents[file].render_sync({"callId": call_id, "room": name}).decode()
        except (Problem, TypeError):  # it needs what only the caller's webhooks carry: its next lobby redirect
            log.info("release of %s left to its lobby redirect", call_id)  # joins it instead
            return None
        return Effect(f"release:{conference_id}:{call_id}", bandwidth.call_bxml(call_id, body))

    def _coaching(self, spec: RoomSpec, name: str, conference_id: str, member: Member) -> list[Effect]:
        """A coach whispering to roles keeps its callIdsToCoach current as members of those roles join."""
        effects = []
        for coach in self.store.members(name):
            mode = coach.data.get("coaching_mode")
            if spec.kind(coach.role) != "coach" or mode not in ("whisper", "barge"):
                continue
            if mode == "barge" or member.role in spec.coached_roles(coach.role):
                effects.append(self._member_update(conference_id, coach.call_id,
                                                   call_ids_to_coach=self._coached(spec, name, coach, mode)))
        return effects

    def _coached(self, spec: RoomSpec, name: str, coach: Member, mode: str) -> list[str]:
        """Whom a coach coaches: in `whisper` the members of the roles it coaches; in `barge` everyone (a
        coach is heard only by the calls it coaches, so barging in is coaching the whole room)."""
        roles = spec.coached_roles(coach.role)
        return [m.call_id for m in self.store.members(name)
                if m.call_id != coach.call_id and (mode == "barge" or m.role in roles)]

    def _left(self, spec: RoomSpec, name: str, conference_id: str, call_id: str, data: dict[str, Any],
              handler: Handler, first: bool) -> Reply:
        known = self.store.member(name, call_id)
        data["role"] = known.role if known else "member"
        chosen = handler(data)
        if not first:
            return chosen, None
        result = self.store.left(name, call_id)
        member = result.member
        if member is None or member.state != "joined":  # unknown, a lobby caller, or an exit before its join
            return chosen, None
        if member.data.get("expect_exit"):  # the app moved it (kick-and-continue, a hook's move): no policy
            return chosen, None
        effects: list[Effect] = []
        ends = member.host and (spec.end == "any" or (spec.end == "last" and result.hosts == 0))
        if ends:
            effects.append(self._end(name, conference_id, "host-left"))
            return chosen, self._after(effects)
        tone = spec.tone("exit", member.role, chosen)
        return (tone or chosen), None

    def _end(self, name: str, conference_id: str, why: str) -> Effect:
        """End the room: members carry on after their <Conference> (soft end). The store forgets the room
        now, so a caller arriving meanwhile starts a new one (and a late completed of this one is ignored)."""
        self.store.end_room(name, conference_id)
        for kind in ("warn", "end"):
            self.store.cancel(f"{kind}:{conference_id}")
        return Effect(f"end:{conference_id}", bandwidth.conference_update(conference_id, status="completed"))

    @staticmethod
    def _member_update(conference_id: str, call_id: str, *, mute: bool | None = None,
                       call_ids_to_coach: list[str] | None = None) -> Effect:
        """A member's settings; the id is new each time (pressing a key twice is two changes)."""
        request = bandwidth.member_update(conference_id, call_id, mute=mute, call_ids_to_coach=call_ids_to_coach)
        return Effect(f"member:{conference_id}:{call_id}:{request.body}:{time.time_ns()}", request)

    async def move(self, name: str, call_id: str, redirect_url: str) -> None:
        """Take a member out of the room by redirecting its call (a hook's move: to another flow or room).
        Its exit is expected, so it ends nothing and plays no tone."""
        self.store.update_member(name, call_id, expect_exit=True)
        username, password = self.credentials_for(redirect_url)
        request = bandwidth.call_update(call_id, redirect_url=redirect_url, username=username, password=password)
        await self._send([Effect(f"move:{call_id}:{time.time_ns()}", request)])

    def credentials_for(self, url: str) -> tuple[str | None, str | None]:
        """The username and password for a redirect to one of this app's routes: what that route requires
        (Bandwidth sends a REST redirect's webhook with the credentials given in the request); (None, None)
        for a route that requires none."""
        from urllib.parse import urlsplit

        route = self.routes.get(urlsplit(url).path)
        if route is None or not route.auth:
            return None, None
        credential = route.auth[0]
        user, password = (os.environ.get(s.value) if s.kind == "env" else s.value if s.kind == "literal" else None
                          for s in (credential.username, credential.password))
        return (user, password) if user is not None and password is not None else (None, None)

    # -- keys --------------------------------------------------------------------------------------------------

    def key(self, route: KeysRoute, data: dict[str, Any]) -> After | None:
        """One digit a member pressed (dtmf event): match it against the room's keys."""
        spec = self.rooms.get(route.room)
        call_id = str(data.get("callId") or "")
        digit = str(data.get("digit") or "")
        if spec is None or not call_id or not digit:
            return None
        # Not deduplicated: two presses of one key at one instant are two presses (a dtmf event has no id)
        name = self.room_name(spec, data)
        member = self.store.member(name, call_id)
        if member is None or member.state != "joined":
            return None
        pressed = str(member.data.get("digits", "")) + digit
        allowed = [(d, a) for d, a, roles in spec.keys if not roles or member.role in roles]
        action = next((a for d, a in allowed if d == pressed), None)
        if action is None and not any(d.startswith(pressed) for d, _ in allowed):
            pressed = digit if any(d.startswith(digit) for d, _ in allowed) else ""
        self.store.update_member(name, call_id, digits="" if action else pressed)
        if action is None:
            return None
        conference_id = self.store.room(name).conference_id
        return self._after(self._action(spec, name, conference_id, member, action))

    def _action(self, spec: RoomSpec, name: str, conference_id: str, member: Member, action: str) -> list[Effect]:
        call_id = member.call_id
        if action == "toggle-mute":
            muted = not member.data.get("muted", spec.kind(member.role) in ("listener", "coach"))
            self.store.update_member(name, call_id, muted=muted)
            return [self._member_update(conference_id, call_id, mute=muted)]
        if action == "leave":
            return [Effect(f"leave:{conference_id}:{call_id}", bandwidth.call_update(call_id, state="completed"))]
        if action == "kick-last":
            others = [m for m in self.store.members(name) if m.call_id != call_id and not m.host]
            if not others:
                return []
            last = max(others, key=lambda m: m.seq)
            return [Effect(f"kick:{conference_id}:{last.call_id}",
                           bandwidth.call_update(last.call_id, state="completed"))]
        if action == "lock":
            locked = not self.store.room(name).locked
            self.store.set_locked(name, locked)
            return []
        if action in ("monitor", "whisper", "barge"):  # monitor: muted, hears the room; whisper: heard by the
            # roles it coaches; barge: heard by everyone
            self.store.update_member(name, call_id, coaching_mode=action, muted=action == "monitor")
            if action == "monitor":
                return [self._member_update(conference_id, call_id, mute=True)]
            return [self._member_update(conference_id, call_id, mute=False,
                                        call_ids_to_coach=self._coached(spec, name, member, action))]
        return []

    # -- time limit --------------------------------------------------------------------------------------------

    def _start_limit(self, spec: RoomSpec, name: str, conference_id: str) -> None:
        assert spec.limit is not None
        start = self.runtime.now()
        data = {"room": spec.name, "name": name, "conference_id": conference_id}
        timers = self.runtime.timers
        timers.schedule(f"end:{conference_id}", END, start + spec.limit, data)
        if spec.warning is not None and spec.warn_before is not None:
            timers.schedule(f"warn:{conference_id}", WARN, start + spec.limit - spec.warn_before, data)

    def _current(self, timer: Timer) -> tuple[RoomSpec, str, str] | None:
        """The room a time-limit timer is about, if it is still the room's current conference."""
        spec = self.rooms.get(str(timer.data.get("room", "")))
        name, conference_id = str(timer.data.get("name", "")), str(timer.data.get("conference_id", ""))
        if spec is None or self.store.room(name).conference_id != conference_id:
            return None
        return spec, name, conference_id

    async def _warn(self, timer: Timer) -> None:
        current = self._current(timer)
        if current is not None and current[0].warning:
            spec, name, conference_id = current
            assert spec.warning is not None
            body = self.documents[spec.warning].render_sync({"name": name}).decode()
            await self._send([Effect(timer.key, bandwidth.conference_bxml(conference_id, body))])

    async def _end_at_limit(self, timer: Timer) -> None:
        current = self._current(timer)
        if current is not None:
            _, name, conference_id = current
            await self._send([self._end(name, conference_id, "time limit")])

    # -- side effects ------------------------------------------------------------------------------------------

    def _after(self, effects: list[Effect]) -> After | None:
        """Record the effects in the outbox now, before the reply (a crash after it leaves them for the outbox's
        background loop), and send them once the reply is out."""
        if not effects:
            return None
        ids = self._record(effects)

        async def run() -> None:
            await self.runtime.outbox.deliver(ids)
        return run

    def _record(self, effects: list[Effect]) -> list[str]:
        outbox = self.runtime.outbox
        return [effect.id for effect in effects if outbox.add(effect.id, effect.request)]

    async def _send(self, effects: list[Effect]) -> None:
        """Record and send now (what an existing id already recorded is not sent again)."""
        await self.runtime.outbox.deliver(self._record(effects))
