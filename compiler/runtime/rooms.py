"""Rooms at run time: the policy of a declared conference (roles, lobby, cap, tones, keys, time limit, ending)
carried out by the generated app over Bandwidth's thin `<Conference>` (the recipes of ../shared
conference-superset.md; flowc.backend.rooms plans the documents chosen here).

Every decision reads and writes the store (flowc.runtime.store) in one atomic step, so any worker may take
any webhook. A handler answers first and does its REST side effects after the reply (Bandwidth waits at most
callbackTimeout for the answer); each side effect is recorded in the store's outbox under an id made of what
caused it, so a duplicated event or a retried timer never sends it twice.

- admission (the document joining a room is about to be served): `join`, `lobby` (no host yet: the lobby
  variant plays the music and loops through the lobby route) or `full` (over the cap, or locked);
- the lobby route: loops while no host is in; once one is, answers the join variant;
- memberJoin: the first host's join releases the lobby (a PUT of the `release` document to each waiting call,
  no tones for them) and starts the time limit; other joins get the join tone of their role;
- memberExit: the exit tone; a host leaving ends the room (POST status completed: everyone carries on after
  their `<Conference>`) unless the app itself moved it (expect_exit);
- keys (`start gather` delivers each digit): mute toggle, leave, kick the last joiner, lock, and the coach's
  monitor / whisper / barge;
- timers: the warning before the limit (a `<Bxml>` PUT to the conference) and the end at the limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from flowc.runtime.documents import Document
from flowc.runtime.problem import Problem, log
from flowc.runtime.routes import Route

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


class Clock:
    """Wall-clock time and timers on the running event loop (the emulator puts its virtual clock here)."""

    def now(self) -> float:
        return time.time()

    def wake(self, at: float, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the lifespan's poller finds the timer in the store
        async def run() -> None:
            await callback()
        loop.call_later(max(0.0, at - self.now()), lambda: loop.create_task(run()))


class Rest:
    """The rooms' REST requests through flowc.runtime.bandwidth (paced, Retry-After on 429, retried only where
    a retry cannot apply an update twice); the answer's status, or None when no answer came."""

    def __init__(self) -> None:
        self._client: Any = None

    async def send(self, method: str, path: str, body: str | None, content_type: str) -> int | None:
        from flowc.runtime.bandwidth import ApiError, BandwidthClient, Request

        if self._client is None:
            self._client = BandwidthClient.from_environment()
        idempotent = "/members/" in path or (body is not None and '"completed"' in body)
        try:
            response = await self._client.send(Request(method, path, body, content_type, idempotent))
        except ApiError as error:
            return error.status
        return int(response.status_code)


@dataclass
class Effect:
    id: str
    method: str
    path: str
    body: str | None = None
    content_type: str = "application/json"


def call_update(call_id: str, **body: Any) -> tuple[str, str, str, str]:
    return "POST", f"/calls/{call_id}", json.dumps(body), "application/json"


class Rooms:
    """The rooms of one app: specs, the documents they choose among, the store, the REST client, the clock."""

    def __init__(self, rooms: tuple[RoomSpec, ...], sites: tuple[SiteSpec, ...],
                 documents: dict[str, Document]) -> None:
        self.rooms = {room.name: room for room in rooms}
        self.sites = {site.file: site for site in sites}
        self.by_call_site = {(site.room, site.file): site for site in sites}
        self.documents = documents
        self.routes: dict[str, Route] = {}  # by path, for the credentials a redirect to one of them needs
        self.clock = Clock()
        self.rest: Any = Rest()
        self._store: Any = None
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @property
    def store(self) -> Any:
        if self._store is None:
            from flowc.runtime.store import open_store

            self._store = open_store()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

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
        from flowc.runtime.store import event_id

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
                release = self._release(spec, name, released, conference_id)
                if release.body is not None:
                    effects.append(release)
        started = result.first_host if spec.lobby else member.seq == 1  # the meeting starts now
        if started and spec.limit is not None:
            self._start_limit(spec, name, conference_id)
        if any(action in ("whisper", "barge") for _, action, _ in spec.keys):  # a coach may be coaching roles
            effects.extend(self._coaching(spec, name, conference_id, member))
        quiet = member.data.get("released") or result.first_host  # the lobby's release; the meeting's start
        tone = None if quiet else spec.tone("join", member.role, chosen)
        return (tone or chosen), self._after(effects)

    def _release(self, spec: RoomSpec, name: str, call_id: str, conference_id: str) -> Effect:
        member = self.store.member(name, call_id)
        site = self.sites.get(member.data.get("site", "")) if member else None
        file = site.release if site and site.release else None
        try:
            body = self.documents[file].render_sync({"callId": call_id, "room": name}).decode() if file else None
        except (Problem, TypeError):  # it needs what only the caller's webhooks carry: its next lobby redirect
            log.info("release of %s left to its lobby redirect", call_id)  # joins it instead
            body = None
        return Effect(f"release:{conference_id}:{call_id}", "PUT", f"/calls/{call_id}/bxml", body,
                      "application/xml")

    def _coaching(self, spec: RoomSpec, name: str, conference_id: str, member: Any) -> list[Effect]:
        """A coach whispering to roles keeps its callIdsToCoach current as members of those roles join."""
        effects = []
        for coach in self.store.members(name):
            mode = coach.data.get("coaching_mode")
            if spec.kind(coach.role) != "coach" or mode not in ("whisper", "barge"):
                continue
            if mode == "barge" or member.role in spec.coached_roles(coach.role):
                effects.append(self._member_update(spec, name, conference_id, coach.call_id,
                                                   callIdsToCoach=self._coached(spec, name, coach, mode)))
        return effects

    def _coached(self, spec: RoomSpec, name: str, coach: Any, mode: str) -> list[str]:
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
        return Effect(f"end:{conference_id}", "POST", f"/conferences/{conference_id}",
                      json.dumps({"status": "completed"}))

    def _member_update(self, spec: RoomSpec, name: str, conference_id: str, call_id: str, **body: Any) -> Effect:
        key = ",".join(f"{k}={v}" for k, v in sorted(body.items()))
        return Effect(f"member:{conference_id}:{call_id}:{key}:{time.time_ns()}", "PUT",
                      f"/conferences/{conference_id}/members/{call_id}", json.dumps(body))

    async def move(self, name: str, call_id: str, redirect_url: str) -> None:
        """Take a member out of the room by redirecting its call (a hook's move: to another flow or room).
        Its exit is expected, so it ends nothing and plays no tone."""
        self.store.update_member(name, call_id, expect_exit=True)
        credentials = self.credentials_for(redirect_url)
        await self._send(Effect(f"move:{call_id}:{time.time_ns()}",
                                *call_update(call_id, redirectUrl=redirect_url, **credentials)))

    def credentials_for(self, url: str) -> dict[str, str]:
        """`username` and `password` for a redirect to one of this app's routes: what that route requires
        (Bandwidth sends a REST redirect's webhook with the credentials given in the request)."""
        from urllib.parse import urlsplit

        route = self.routes.get(urlsplit(url).path)
        if route is None or not route.auth:
            return {}
        credential = route.auth[0]
        values = [os.environ.get(s.value) if s.kind == "env" else s.value if s.kind == "literal" else None
                  for s in (credential.username, credential.password)]
        user, password = values
        return dict(username=user, password=password) if user is not None and password is not None else {}

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

    def _action(self, spec: RoomSpec, name: str, conference_id: str, member: Any, action: str) -> list[Effect]:
        call_id = member.call_id
        if action == "toggle-mute":
            muted = not member.data.get("muted", spec.kind(member.role) in ("listener", "coach"))
            self.store.update_member(name, call_id, muted=muted)
            return [self._member_update(spec, name, conference_id, call_id, mute=muted)]
        if action == "leave":
            return [Effect(f"leave:{conference_id}:{call_id}", *call_update(call_id, state="completed"))]
        if action == "kick-last":
            others = [m for m in self.store.members(name) if m.call_id != call_id and not m.host]
            if not others:
                return []
            last = max(others, key=lambda m: m.seq)
            return [Effect(f"kick:{conference_id}:{last.call_id}", *call_update(last.call_id, state="completed"))]
        if action == "lock":
            locked = not self.store.room(name).locked
            self.store.set_locked(name, locked)
            return []
        if action in ("monitor", "whisper", "barge"):  # monitor: muted, hears the room; whisper: heard by the
            # roles it coaches; barge: heard by everyone
            self.store.update_member(name, call_id, coaching_mode=action, muted=action == "monitor")
            if action == "monitor":
                return [self._member_update(spec, name, conference_id, call_id, mute=True)]
            return [self._member_update(spec, name, conference_id, call_id, mute=False,
                                        callIdsToCoach=self._coached(spec, name, member, action))]
        return []

    # -- time limit --------------------------------------------------------------------------------------------

    def _start_limit(self, spec: RoomSpec, name: str, conference_id: str) -> None:
        from flowc.runtime.store import Timer

        start = self.clock.now()
        assert spec.limit is not None
        data = {"room": spec.name, "name": name, "conference_id": conference_id}
        timers = [Timer(f"end:{conference_id}", "end", start + spec.limit, data)]
        if spec.warning is not None and spec.warn_before is not None:
            timers.append(Timer(f"warn:{conference_id}", "warn", start + spec.limit - spec.warn_before, data))
        for timer in timers:
            self.store.schedule(timer)
            self.clock.wake(timer.due, self.run_due)

    async def run_due(self) -> None:
        """Run the timers that are due (claimed with a lease, so one worker runs each)."""
        for timer in self.store.claim_due(self.worker, self.clock.now(), lease=30.0):
            spec = self.rooms.get(timer.data.get("room", ""))
            name, conference_id = timer.data.get("name", ""), timer.data.get("conference_id", "")
            current = self.store.room(name).conference_id if spec else None
            if spec is not None and current == conference_id:
                if timer.kind == "warn" and spec.warning:
                    body = self.documents[spec.warning].render_sync({"name": name}).decode()
                    await self._send(Effect(timer.key, "PUT", f"/conferences/{conference_id}/bxml", body,
                                            "application/xml"))
                elif timer.kind == "end":
                    await self._send(self._end(name, conference_id, "time limit"))
            self.store.finish(timer.key, self.worker)

    # -- side effects ------------------------------------------------------------------------------------------

    def _after(self, effects: list[Effect]) -> After | None:
        if not effects:
            return None
        for effect in effects:  # recorded before the reply: a crash after it leaves them for a retry
            self._record(effect)

        async def run() -> None:
            for effect in effects:
                await self._send(effect)
        return run

    def _record(self, effect: Effect) -> bool:
        from flowc.runtime.store import Effect as Stored

        return bool(self.store.record(Stored(effect.id, effect.method, effect.path, effect.body,
                                             effect.content_type)))

    async def _send(self, effect: Effect) -> None:
        stored = self.store.effect(effect.id)
        if stored is not None and stored.state == "done":
            return
        if stored is None:
            self._record(effect)
        try:
            status = await self.rest.send(effect.method, effect.path, effect.body, effect.content_type)
        except Exception:  # a bug or the environment (no account configured): left pending in the outbox
            log.exception("%s %s failed", effect.method, effect.path)
            return
        if status is None:  # no answer: pending, for a retry
            log.warning("%s %s: no answer from Bandwidth", effect.method, effect.path)
            return
        if status == 404:  # the call or conference has ended meanwhile: nothing left to do
            log.info("%s %s: 404 (already ended)", effect.method, effect.path)
        elif status >= 400:
            log.warning("%s %s answered %d", effect.method, effect.path, status)
        self.store.settle(effect.id, "done" if status < 500 else "pending", 1)
