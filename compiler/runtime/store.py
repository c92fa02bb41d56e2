"""The state a conference's policy needs between webhooks, behind one small interface with two backends.

Consecutive webhooks of one conference can land on different workers, so everything rooms decide on lives
here, and every decision that reads and writes (admit a caller under a cap, release the lobby when the host
joins, claim a due timer, claim an event or an outbox entry) is one atomic step of the store.

Public interface (the `Store` protocol; `open_store()` builds one from FLOWC_STORE):

- rooms, by conference name: `admit` (-> "join" | "lobby" | "full" | "locked"), `joined` (memberJoin: pending
  -> joined, a host's join releases the lobby), `left` (memberExit or a hang-up: a tombstone), `members`,
  `member`, `update_member` (merge per-member data), `set_locked`, `room` (-> RoomState), `end_room`
  (conferenceCompleted). A member is `lobby` (waiting for a host, not in the conference), `pending` (its
  `<Conference>` served, no memberJoin yet), `joined` or `left` (kept, so an exit delivered before its join is
  not undone by the join). Lobby, pending and joined members all hold a seat against the room's cap.
- timers: `schedule` (a key is unique: scheduling it again moves it), `cancel`, `next_due`, `claim_due`
  (held by one worker for a lease), `finish`.
- outbox of REST side effects: `record` (False when the id is already there), `effect`, `claim_effect`,
  `claim_effects` (one worker at a time, for a lease), `settle` (done, failed, or pending again at a time),
  `unsettled`.
- processed events: `first_time(event_id)` is True exactly once per id (within 25 h), `forget_event` releases
  one whose handling failed; `event_id(fields)`.
- lifetime: `claim_single_worker` (SQLite: refuse a second process), `clear`, `close`.

Backends: SQLite (`sqlite:///abs/path`, `sqlite:rel/path`, a bare path; default `flowc-state.sqlite`; stdlib
sqlite3, WAL, one `BEGIN IMMEDIATE` transaction per step) for one worker, and Redis (`redis://host:port/db`;
redis-py, one Lua script per step) for any number of workers and hosts. Methods are synchronous and short
(one transaction or one round trip), so the event loop calls them directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Protocol, cast

DEFAULT_SQLITE = "flowc-state.sqlite"
EVENT_TTL = 25 * 3600.0  # a conference lasts at most 24 h: an event id older than that cannot come back
CHECKPOINT_SECONDS = 1.0  # how often SQLite's WAL is copied into the database file (SqliteStore._checkpoint)
ROOM_TTL = 25 * 3600  # Redis keys of a room and of an outbox entry expire after this (refreshed on writes)

Admission = Literal["join", "lobby", "full", "locked"]
MemberState = Literal["lobby", "pending", "joined", "left"]
EffectState = Literal["pending", "done", "failed"]


class StoreError(RuntimeError):
    """The store cannot be used as configured (a bad FLOWC_STORE, a second worker on one SQLite file)."""


@dataclass(frozen=True)
class Member:
    call_id: str
    role: str
    host: bool = False
    state: MemberState = "pending"
    seq: int = 0  # join order in the room (0 until joined)
    data: dict[str, Any] = field(default_factory=dict)  # what handlers keep per member (desired mute, a label)


@dataclass(frozen=True)
class RoomState:
    conference_id: str = ""  # the current generation's id (a name used again gets a new one)
    hosts: int = 0  # hosts joined now
    locked: bool = False
    reserved: int = 0  # lobby + pending + joined


@dataclass(frozen=True)
class Joined:
    """What `joined` did: the member (None when the call had already left: an exit delivered first), whether
    this join is the first host's, and the lobby released by it (call ids, in arrival order)."""

    member: Member | None
    first_host: bool = False
    released: tuple[str, ...] = ()


@dataclass(frozen=True)
class Left:
    """What `left` did: the member as it was before leaving (None if unknown or already left) and how many
    hosts are still joined."""

    member: Member | None
    hosts: int = 0


@dataclass(frozen=True)
class Timer:
    key: str  # unique: scheduling the same key again moves the timer
    kind: str  # which handler runs it (flowc.runtime.timers)
    due: float  # seconds on the runtime's clock (time.time() unless a test or the emulator drives it)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """One REST request to Bandwidth, recorded before it is sent (flowc.runtime.outbox sends it)."""

    id: str  # derived from what caused it (event id, timer key), so a repeated cause finds it already there
    method: str
    path: str  # below /accounts/{accountId}
    body: str | None = None  # JSON or XML text
    content_type: str = "application/json"
    idempotent: bool = False  # may be sent again when it is unknown whether an attempt was applied
    state: EffectState = "pending"
    attempts: int = 0


class Store(Protocol):
    """The one interface both backends implement (see the module docstring for each state's meaning)."""

    url: str
    shared: bool  # whether several workers (processes, hosts) may use it at once

    # -- rooms -------------------------------------------------------------------------------------------------

    def admit(self, room: str, call_id: str, role: str, *, host: bool = False, cap: int | None = None,
              wait_for_host: bool = False, data: dict[str, Any] | None = None) -> Admission:
        """Atomically decide where a caller goes: `locked` when the room is locked (hosts still get in);
        `full` when `cap` seats are held (while a room waits for a host and none holds a seat, one seat is
        kept for a host); `lobby` when it waits for a host and none is joined; else `join` (a pending seat).
        Asking again for the same live call gives the same answer without a second seat."""
        ...

    def joined(self, room: str, call_id: str, conference_id: str = "") -> Joined:
        """memberJoin: pending (or unknown: admitted by no one) becomes joined with the next join order; a
        host's join releases the lobby (now pending) in the same step. Repeated: changes nothing. After the
        call's exit: ignored (member None). A new conference id binds the room's new generation."""
        ...

    def left(self, room: str, call_id: str) -> Left:
        """memberExit, or a lobby/pending caller hanging up: the call becomes a tombstone, its seat is free."""
        ...

    def members(self, room: str, states: tuple[MemberState, ...] = ("joined",)) -> list[Member]:
        """The room's members in those states: joined ones in join order, the others in arrival order."""
        ...

    def member(self, room: str, call_id: str) -> Member | None: ...

    def update_member(self, room: str, call_id: str, **data: Any) -> Member | None:
        """Merge `data` into a member's own fields (desired mute, hold, a label); None if unknown."""
        ...

    def set_locked(self, room: str, locked: bool) -> None: ...

    def room(self, room: str) -> RoomState: ...

    def end_room(self, room: str, conference_id: str = "") -> list[Member]:
        """conferenceCompleted: forget the room (its name may be used again) and return who was still in it
        (not left). With a conference id that is not the room's current one (a late completion of an earlier
        generation): nothing happens."""
        ...

    # -- timers ------------------------------------------------------------------------------------------------

    def schedule(self, timer: Timer) -> None: ...

    def cancel(self, key: str) -> bool: ...

    def next_due(self) -> float | None:
        """When the earliest timer is due (or its holder's lease ends), None without timers."""
        ...

    def claim_due(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Timer]:
        """Due timers nobody holds (or whose holder's lease ran out), now held by `worker` until now+lease."""
        ...

    def finish(self, key: str, worker: str) -> bool:
        """Remove a timer its worker has run; False if it was cancelled, moved or taken over meanwhile."""
        ...

    # -- outbox ------------------------------------------------------------------------------------------------

    def record(self, effect: Effect, available: float = 0.0) -> bool:
        """Add a pending effect; False (and nothing changes) when its id is already there. `claim_effects`
        leaves it alone before `available` (the recording request sends it itself, with `claim_effect`)."""
        ...

    def effect(self, effect_id: str) -> Effect | None: ...

    def claim_effect(self, effect_id: str, worker: str, now: float, lease: float) -> Effect | None:
        """Hold one pending effect until now+lease: one nobody has claimed yet, or whose holder's lease or
        retry time has passed."""
        ...

    def claim_effects(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Effect]:
        """Hold the pending effects available now (oldest first): what a crash or a retry left to send."""
        ...

    def settle(self, effect_id: str, state: EffectState, attempts: int, retry_at: float = 0.0) -> None:
        """Mark an effect done or failed, or pending again (available from `retry_at`)."""
        ...

    def unsettled(self, limit: int = 100) -> list[Effect]:
        """The pending effects, oldest first (for inspection: sending goes through the claims)."""
        ...

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id: str, ttl: float = EVENT_TTL) -> bool:
        """True exactly once per event id (until ttl seconds have passed): the caller handles the event."""
        ...

    def forget_event(self, event_id: str) -> None:
        """Release a claimed event id whose handling failed, so that Bandwidth's retry is handled."""
        ...

    # -- lifetime ----------------------------------------------------------------------------------------------

    def claim_single_worker(self) -> None:
        """Refuse (StoreError) when this store cannot be shared and another process already uses it."""
        ...

    def clear(self) -> None:
        """Forget everything (tests, benchmarks)."""
        ...

    def close(self) -> None: ...


def event_id(fields: dict[str, Any]) -> str:
    """A stable id for a webhook, for `first_time`: Bandwidth's events carry no id of their own, so it is made
    of what identifies one (C7 of the conference reference: type, conference, call, event time)."""
    parts = (fields.get("eventType"), fields.get("conferenceId") or fields.get("name"), fields.get("callId"),
             fields.get("eventTime"), fields.get("digit"), fields.get("recordingId"))
    return "|".join(str(p or "") for p in parts)


def open_store(url: str | None = None) -> Store:
    """The store FLOWC_STORE names (or `url`): sqlite:///PATH, sqlite:PATH, a bare path, or redis://..."""
    url = (url if url is not None else os.environ.get("FLOWC_STORE", "")).strip() or f"sqlite:{DEFAULT_SQLITE}"
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/"):
            raise StoreError(f"FLOWC_STORE={url!r}: write sqlite:///absolute/path or sqlite:relative/path")
    elif url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
    elif "://" in url:
        raise StoreError(f"FLOWC_STORE={url!r}: the store is sqlite:///PATH or redis://HOST:PORT/DB")
    else:
        path = url
    if not path:
        raise StoreError(f"FLOWC_STORE={url!r} names no file")
    return SqliteStore(path)


def _seats(members: list[Member]) -> tuple[int, bool]:
    """Seats held (lobby, pending, joined) and whether a host holds one."""
    live = [m for m in members if m.state != "left"]
    return len(live), any(m.host for m in live)


def _admission(live: int, host_seated: bool, hosts_joined: int, locked: bool, *, host: bool, cap: int | None,
               wait_for_host: bool) -> Admission:
    """The admission rule, shared by the SQLite backend and (rewritten in Lua) the Redis one."""
    if locked and not host:
        return "locked"
    if cap is not None:
        seats = cap - 1 if wait_for_host and not host and not host_seated else cap  # keep the host's seat
        if live >= seats:
            return "full"
    return "lobby" if wait_for_host and not host and hosts_joined == 0 else "join"


# -- SQLite --------------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (name TEXT PRIMARY KEY, conference_id TEXT NOT NULL DEFAULT '',
    hosts INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS members (room TEXT NOT NULL, call_id TEXT NOT NULL, role TEXT NOT NULL,
    host INTEGER NOT NULL, state TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,
    arrived INTEGER NOT NULL, PRIMARY KEY (room, call_id));
CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, kind TEXT NOT NULL, due REAL NOT NULL,
    data TEXT NOT NULL, holder TEXT, available REAL NOT NULL);
CREATE INDEX IF NOT EXISTS timers_available ON timers (available);
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, method TEXT NOT NULL, path TEXT NOT NULL, body TEXT,
    content_type TEXT NOT NULL, idempotent INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
    recorded REAL NOT NULL, available REAL NOT NULL, holder TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, available);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, expires REAL NOT NULL);
"""

_MEMBER_COLUMNS = "call_id, role, host, state, seq, data"
_EFFECT_COLUMNS = "id, method, path, body, content_type, idempotent, state, attempts"
MemberRow = tuple[str, str, int, str, int, str]


def _member_row(row: MemberRow) -> Member:
    call_id, role, host, state, seq, data = row
    return Member(call_id, role, bool(host), cast(MemberState, state), seq, json.loads(data))


def _effect_row(row: tuple[Any, ...]) -> Effect:
    effect_id, method, path, body, content_type, idempotent, state, attempts = row
    return Effect(effect_id, method, path, body, content_type, bool(idempotent), state, attempts)


class _Transaction:
    """`with store._write() as db:` one BEGIN IMMEDIATE transaction (committed, or rolled back on an error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


class SqliteStore:
    """One SQLite file in WAL mode; each atomic step is one `BEGIN IMMEDIATE` transaction (it takes the write
    lock first, so two connections serialise instead of both reading the old count)."""

    shared = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite://{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # one connection per thread (plain `def` hooks run in threads)
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._lock_file: IO[str] | None = None
        self._db().executescript(_SCHEMA)  # IF NOT EXISTS: several processes may open one file at once
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoint, name="flowc-sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint(self) -> None:
        """Copy the WAL into the database once a second, off the request path: a checkpoint is where WAL mode
        syncs to disk, and done by the commit that crosses the WAL's size limit it adds milliseconds to that
        webhook (the request connections do not checkpoint: wal_autocheckpoint=0)."""
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                with contextlib.suppress(sqlite3.Error):  # busy: the next round does it
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives a crash of the app, not of the OS
            db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
            self._local.db = db
            with self._guard:
                self._connections.append(db)
        return db

    def _write(self) -> _Transaction:
        return _Transaction(self._db())

    # -- rooms -------------------------------------------------------------------------------------------------

    def _room_row(self, db: sqlite3.Connection, room: str) -> tuple[str, int, int, int]:
        row = db.execute("SELECT conference_id, hosts, locked, seq FROM rooms WHERE name=?", (room,)).fetchone()
        if row is None:
            db.execute("INSERT INTO rooms (name) VALUES (?)", (room,))
            return "", 0, 0, 0
        return cast(tuple[str, int, int, int], row)

    def _all(self, db: sqlite3.Connection, room: str) -> list[Member]:
        rows = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE room=? ORDER BY arrived", (room,))
        return [_member_row(row) for row in rows.fetchall()]

    def _get(self, db: sqlite3.Connection, room: str, call_id: str) -> Member | None:
        row = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE room=? AND call_id=?",
                         (room, call_id)).fetchone()
        return _member_row(row) if row else None

    def _put(self, db: sqlite3.Connection, room: str, member: Member) -> None:
        db.execute("INSERT INTO members (room, call_id, role, host, state, seq, data, arrived) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (room, call_id) DO UPDATE SET role=excluded.role, "
                   "host=excluded.host, state=excluded.state, seq=excluded.seq, data=excluded.data",
                   (room, member.call_id, member.role, int(member.host), member.state, member.seq,
                    json.dumps(member.data), time.time_ns()))

    def admit(self, room: str, call_id: str, role: str, *, host: bool = False, cap: int | None = None,
              wait_for_host: bool = False, data: dict[str, Any] | None = None) -> Admission:
        with self._write() as db:
            _, hosts, locked, _ = self._room_row(db, room)
            known = self._get(db, room, call_id)
            if known is not None and known.state != "left":
                return "lobby" if known.state == "lobby" else "join"
            live, host_seated = _seats(self._all(db, room))
            answer = _admission(live, host_seated, hosts, bool(locked), host=host, cap=cap,
                                wait_for_host=wait_for_host)
            if answer in ("join", "lobby"):
                state: MemberState = "pending" if answer == "join" else "lobby"
                db.execute("DELETE FROM members WHERE room=? AND call_id=?", (room, call_id))  # a new arrival
                self._put(db, room, Member(call_id, role, host, state, 0, dict(data or {})))
            return answer

    def joined(self, room: str, call_id: str, conference_id: str = "") -> Joined:
        with self._write() as db:
            bound, hosts, _, seq = self._room_row(db, room)
            if conference_id and conference_id != bound:
                db.execute("UPDATE rooms SET conference_id=? WHERE name=?", (conference_id, room))
            known = self._get(db, room, call_id)
            if known is not None and known.state == "joined":
                return Joined(known)
            if known is not None and known.state == "left":
                return Joined(None)
            base = known or Member(call_id, "member")
            member = Member(call_id, base.role, base.host, "joined", seq + 1, base.data)
            self._put(db, room, member)
            hosts += member.host
            db.execute("UPDATE rooms SET seq=?, hosts=? WHERE name=?", (seq + 1, hosts, room))
            released: tuple[str, ...] = ()
            if member.host:
                waiting = [m for m in self._all(db, room) if m.state == "lobby"]
                for other in waiting:
                    self._put(db, room, Member(other.call_id, other.role, other.host, "pending", 0, other.data))
                released = tuple(m.call_id for m in waiting)
            return Joined(member, member.host and hosts == 1, released)

    def left(self, room: str, call_id: str) -> Left:
        with self._write() as db:
            _, hosts, _, _ = self._room_row(db, room)
            known = self._get(db, room, call_id)
            if known is not None and known.state == "left":
                return Left(None, hosts)
            if known is not None and known.host and known.state == "joined":
                hosts -= 1
                db.execute("UPDATE rooms SET hosts=? WHERE name=?", (hosts, room))
            base = known or Member(call_id, "member")
            self._put(db, room, Member(call_id, base.role, base.host, "left", base.seq, base.data))
            return Left(known, hosts)

    def members(self, room: str, states: tuple[MemberState, ...] = ("joined",)) -> list[Member]:
        found = [m for m in self._all(self._db(), room) if m.state in states]
        return sorted(found, key=lambda m: m.seq) if states == ("joined",) else found

    def member(self, room: str, call_id: str) -> Member | None:
        return self._get(self._db(), room, call_id)

    def update_member(self, room: str, call_id: str, **data: Any) -> Member | None:
        with self._write() as db:
            known = self._get(db, room, call_id)
            if known is None:
                return None
            member = Member(known.call_id, known.role, known.host, known.state, known.seq, {**known.data, **data})
            self._put(db, room, member)
            return member

    def set_locked(self, room: str, locked: bool) -> None:
        with self._write() as db:
            self._room_row(db, room)
            db.execute("UPDATE rooms SET locked=? WHERE name=?", (int(locked), room))

    def room(self, room: str) -> RoomState:
        db = self._db()
        row = db.execute("SELECT conference_id, hosts, locked FROM rooms WHERE name=?", (room,)).fetchone()
        reserved = db.execute("SELECT COUNT(*) FROM members WHERE room=? AND state!='left'", (room,)).fetchone()[0]
        conference_id, hosts, locked = row or ("", 0, 0)
        return RoomState(conference_id, hosts, bool(locked), reserved)

    def end_room(self, room: str, conference_id: str = "") -> list[Member]:
        with self._write() as db:
            row = db.execute("SELECT conference_id FROM rooms WHERE name=?", (room,)).fetchone()
            if conference_id and row is not None and row[0] and row[0] != conference_id:
                return []
            still = [m for m in self._all(db, room) if m.state != "left"]
            db.execute("DELETE FROM members WHERE room=?", (room,))
            db.execute("DELETE FROM rooms WHERE name=?", (room,))
            return still

    # -- timers ------------------------------------------------------------------------------------------------

    def schedule(self, timer: Timer) -> None:
        with self._write() as db:
            db.execute("INSERT INTO timers (key, kind, due, data, holder, available) VALUES (?, ?, ?, ?, NULL, ?) "
                       "ON CONFLICT (key) DO UPDATE SET kind=excluded.kind, due=excluded.due, data=excluded.data, "
                       "holder=NULL, available=excluded.available",
                       (timer.key, timer.kind, timer.due, json.dumps(timer.data), timer.due))

    def cancel(self, key: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM timers WHERE key=?", (key,)).rowcount > 0

    def next_due(self) -> float | None:
        row = self._db().execute("SELECT MIN(available) FROM timers").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def claim_due(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Timer]:
        with self._write() as db:
            rows = db.execute("SELECT key, kind, due, data FROM timers WHERE available<=? ORDER BY available "
                              "LIMIT ?", (now, limit)).fetchall()
            db.executemany("UPDATE timers SET holder=?, available=? WHERE key=?",
                           [(worker, now + lease, row[0]) for row in rows])
            return [Timer(key, kind, due, json.loads(data)) for key, kind, due, data in rows]

    def finish(self, key: str, worker: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM timers WHERE key=? AND holder=?", (key, worker)).rowcount > 0

    # -- outbox ------------------------------------------------------------------------------------------------

    def record(self, effect: Effect, available: float = 0.0) -> bool:
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO outbox (id, method, path, body, content_type, idempotent, state, attempts, recorded, "
                "available) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (effect.id, effect.method, effect.path, effect.body, effect.content_type, int(effect.idempotent),
                 effect.state, effect.attempts, now, available))
            return cursor.rowcount > 0

    def effect(self, effect_id: str) -> Effect | None:
        row = self._db().execute(f"SELECT {_EFFECT_COLUMNS} FROM outbox WHERE id=?", (effect_id,)).fetchone()
        return _effect_row(row) if row else None

    def claim_effect(self, effect_id: str, worker: str, now: float, lease: float) -> Effect | None:
        with self._write() as db:
            row = db.execute(f"SELECT {_EFFECT_COLUMNS} FROM outbox WHERE id=? AND state='pending' AND "
                             "(holder IS NULL AND attempts=0 OR available<=?)", (effect_id, now)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE outbox SET holder=?, available=? WHERE id=?", (worker, now + lease, effect_id))
            return _effect_row(row)

    def claim_effects(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Effect]:
        with self._write() as db:
            rows = db.execute(f"SELECT {_EFFECT_COLUMNS} FROM outbox WHERE state='pending' AND available<=? "
                              "ORDER BY recorded LIMIT ?", (now, limit)).fetchall()
            db.executemany("UPDATE outbox SET holder=?, available=? WHERE id=?",
                           [(worker, now + lease, row[0]) for row in rows])
            return [_effect_row(row) for row in rows]

    def settle(self, effect_id: str, state: EffectState, attempts: int, retry_at: float = 0.0) -> None:
        with self._write() as db:
            db.execute("UPDATE outbox SET state=?, attempts=?, available=?, holder=NULL WHERE id=?",
                       (state, attempts, retry_at, effect_id))

    def unsettled(self, limit: int = 100) -> list[Effect]:
        rows = self._db().execute(f"SELECT {_EFFECT_COLUMNS} FROM outbox WHERE state='pending' ORDER BY recorded "
                                  "LIMIT ?", (limit,)).fetchall()
        return [_effect_row(row) for row in rows]

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id: str, ttl: float = EVENT_TTL) -> bool:
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM events WHERE id=? AND expires<=?", (event_id, now))
            return db.execute("INSERT INTO events (id, expires) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                              (event_id, now + ttl)).rowcount > 0

    def forget_event(self, event_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM events WHERE id=?", (event_id,))

    # -- lifetime ----------------------------------------------------------------------------------------------

    def claim_single_worker(self) -> None:
        """An exclusive flock on PATH.lock, held while this store is open: a second process (a second worker of
        uvicorn --workers or gunicorn, or another app on the same file) cannot take it and refuses to start.
        The kernel releases it when the process ends, however it ends."""
        import fcntl

        if self._lock_file is not None:
            return
        handle = open(f"{self.path}.lock", "a+")  # noqa: SIM115 - held open for the store's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(f"the SQLite store {self.path} is already used by {holder}: SQLite serves one worker "
                             "only; run one worker, or set FLOWC_STORE=redis://HOST:PORT/DB for several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def clear(self) -> None:
        with self._write() as db:
            for table in ("rooms", "members", "timers", "outbox", "events"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self._stop.set()
        with self._guard:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file releases the flock
            self._lock_file = None


# -- Redis ---------------------------------------------------------------------------------------------------

# Each atomic step is one Lua script: Redis runs a script alone, so a check and the write that depends on it
# cannot interleave with another worker's. Keys (P = prefix): P:room:NAME (hash conference_id, hosts, locked,
# seq, arrived), P:members:NAME (hash call id -> member JSON); P:timers (sorted set key -> when available:
# due, or the holder's lease end), P:timer:KEY (hash); P:outbox (sorted set of pending ids -> when available),
# P:outbox:ID (hash); P:event:ID (a string with a TTL).
_LUA_COMMON = """
local function seats(members)
  local n, host = 0, false
  for _, raw in ipairs(redis.call('HVALS', members)) do
    local m = cjson.decode(raw)
    if m.state ~= 'left' then
      n = n + 1
      if m.host then host = true end
    end
  end
  return n, host
end
local function touch(ttl, ...)
  for _, key in ipairs({...}) do redis.call('EXPIRE', key, ttl) end
end
"""

_ADMIT = _LUA_COMMON + """
local room, members = KEYS[1], KEYS[2]
local call_id, role, host, cap, wait, data, ttl = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]),
  ARGV[5] == '1', ARGV[6], tonumber(ARGV[7])
local known = redis.call('HGET', members, call_id)
if known then
  local state = cjson.decode(known).state
  if state == 'lobby' then return 'lobby' end
  if state ~= 'left' then return 'join' end
end
if not host and redis.call('HGET', room, 'locked') == '1' then return 'locked' end
local live, host_seated = seats(members)
if cap >= 0 then
  local limit = cap
  if wait and not host and not host_seated then limit = cap - 1 end
  if live >= limit then return 'full' end
end
local state = 'pending'
if wait and not host and tonumber(redis.call('HGET', room, 'hosts') or '0') == 0 then state = 'lobby' end
local member = {call_id = call_id, role = role, host = host, state = state, seq = 0, data = cjson.decode(data),
  arrived = redis.call('HINCRBY', room, 'arrived', 1)}
redis.call('HSET', members, call_id, cjson.encode(member))
touch(ttl, room, members)
if state == 'lobby' then return 'lobby' end
return 'join'
"""

_JOINED = _LUA_COMMON + """
local room, members = KEYS[1], KEYS[2]
local call_id, conference_id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if conference_id ~= '' then redis.call('HSET', room, 'conference_id', conference_id) end
local known = redis.call('HGET', members, call_id)
local member
if known then
  member = cjson.decode(known)
  if member.state == 'joined' then return cjson.encode({member = member}) end
  if member.state == 'left' then return cjson.encode({}) end
else
  member = {call_id = call_id, role = 'member', host = false, data = {},
    arrived = redis.call('HINCRBY', room, 'arrived', 1)}
end
member.state = 'joined'
member.seq = redis.call('HINCRBY', room, 'seq', 1)
redis.call('HSET', members, call_id, cjson.encode(member))
local result = {member = member, released = {}}
if member.host then
  result.first_host = redis.call('HINCRBY', room, 'hosts', 1) == 1
  local waiting = {}
  for _, raw in ipairs(redis.call('HVALS', members)) do
    local other = cjson.decode(raw)
    if other.state == 'lobby' then table.insert(waiting, other) end
  end
  table.sort(waiting, function(a, b) return a.arrived < b.arrived end)
  for i, other in ipairs(waiting) do
    other.state = 'pending'
    redis.call('HSET', members, other.call_id, cjson.encode(other))
    result.released[i] = other.call_id
  end
end
touch(ttl, room, members)
return cjson.encode(result)
"""

_LEFT = _LUA_COMMON + """
local room, members = KEYS[1], KEYS[2]
local call_id, ttl = ARGV[1], tonumber(ARGV[2])
local hosts = tonumber(redis.call('HGET', room, 'hosts') or '0')
local known = redis.call('HGET', members, call_id)
local member
if known then
  member = cjson.decode(known)
  if member.state == 'left' then return cjson.encode({hosts = hosts}) end
  if member.host and member.state == 'joined' then hosts = redis.call('HINCRBY', room, 'hosts', -1) end
else
  member = {call_id = call_id, role = 'member', host = false, seq = 0, data = {},
    arrived = redis.call('HINCRBY', room, 'arrived', 1)}
end
local before = cjson.encode(member)
member.state = 'left'
redis.call('HSET', members, call_id, cjson.encode(member))
touch(ttl, room, members)
if known then return cjson.encode({member = cjson.decode(before), hosts = hosts}) end
return cjson.encode({hosts = hosts})
"""

_UPDATE_MEMBER = """
local known = redis.call('HGET', KEYS[2], ARGV[1])
if not known then return false end
local member = cjson.decode(known)
if type(member.data) ~= 'table' or next(member.data) == nil then member.data = {} end
for k, v in pairs(cjson.decode(ARGV[2])) do member.data[k] = v end
local raw = cjson.encode(member)
redis.call('HSET', KEYS[2], ARGV[1], raw)
return raw
"""

_END_ROOM = """
local bound = redis.call('HGET', KEYS[1], 'conference_id')
if ARGV[1] ~= '' and bound and bound ~= '' and bound ~= ARGV[1] then return '[]' end
local raw = redis.call('HVALS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
if #raw == 0 then return '[]' end
return '[' .. table.concat(raw, ',') .. ']'
"""

_CLAIM_TIMERS = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local claimed = {}
for _, key in ipairs(due) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), key)
  local timer = ARGV[5] .. key
  redis.call('HSET', timer, 'holder', ARGV[1])
  local fields = redis.call('HMGET', timer, 'kind', 'due', 'data')
  table.insert(claimed, {key, fields[1], fields[2], fields[3]})
end
return cjson.encode(claimed)
"""

_FINISH = """
if redis.call('HGET', KEYS[2], 'holder') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""

_RECORD = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'method', ARGV[2], 'path', ARGV[3], 'body', ARGV[4], 'content_type', ARGV[5],
  'idempotent', ARGV[6], 'state', 'pending', 'attempts', 0, 'recorded', ARGV[7])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[8]))
redis.call('ZADD', KEYS[1], tonumber(ARGV[9]), ARGV[1])
return 1
"""

# ARGV: worker, now, lease, limit, outbox-entry prefix, then the ids to try (none: every available one)
_CLAIM_EFFECTS = """
local ids = {}
if #ARGV > 5 then
  for i = 6, #ARGV do
    local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
    local f = redis.call('HMGET', ARGV[5] .. ARGV[i], 'holder', 'attempts')
    local fresh = (not f[1]) and tonumber(f[2] or '1') == 0
    if score and (fresh or tonumber(score) <= tonumber(ARGV[2])) then table.insert(ids, ARGV[i]) end
  end
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
end
local claimed = {}
for _, id in ipairs(ids) do
  local entry = ARGV[5] .. id
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), id)
  redis.call('HSET', entry, 'holder', ARGV[1])
  local f = redis.call('HMGET', entry, 'method', 'path', 'body', 'content_type', 'idempotent', 'attempts',
    'recorded')
  table.insert(claimed, {id, f[1], f[2], f[3], f[4], f[5], f[6], f[7]})
end
return cjson.encode(claimed)
"""

_SETTLE = """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'attempts', ARGV[3], 'holder', '')
if ARGV[2] == 'pending' then redis.call('ZADD', KEYS[1], tonumber(ARGV[4]), ARGV[1])
else redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
"""

_SCRIPTS = {"admit": _ADMIT, "joined": _JOINED, "left": _LEFT, "update_member": _UPDATE_MEMBER,
            "end_room": _END_ROOM, "claim_timers": _CLAIM_TIMERS, "finish": _FINISH, "record": _RECORD,
            "claim_effects": _CLAIM_EFFECTS, "settle": _SETTLE}


def _redis_member(fields: dict[str, Any]) -> Member:
    data = fields.get("data")
    return Member(str(fields["call_id"]), str(fields["role"]), bool(fields.get("host")),
                  cast(MemberState, fields["state"]), int(fields.get("seq") or 0),
                  data if isinstance(data, dict) else {})  # cjson writes an empty table as [] or {}


def _lua_list(value: Any) -> list[Any]:
    """cjson encodes an empty Lua table as an object ({}), not an array."""
    return value if isinstance(value, list) else []


class RedisStore:
    """Redis through redis-py: hashes per room, sorted sets of timers and outbox entries, one Lua script per
    atomic step."""

    shared = True

    def __init__(self, url: str, prefix: str = "flowc") -> None:
        try:
            import redis
        except ImportError:
            raise StoreError("FLOWC_STORE names Redis: pip install 'flowc[store]' (redis-py)") from None
        self.url, self.prefix = url, prefix
        self.client: Any = redis.Redis.from_url(url, decode_responses=True)
        self._scripts = {name: self.client.register_script(source) for name, source in _SCRIPTS.items()}

    def _keys(self, room: str) -> list[str]:
        return [f"{self.prefix}:room:{room}", f"{self.prefix}:members:{room}"]

    def _run(self, script: str, keys: list[str], *args: Any) -> Any:
        return self._scripts[script](keys=keys, args=list(args))

    # -- rooms -------------------------------------------------------------------------------------------------

    def admit(self, room: str, call_id: str, role: str, *, host: bool = False, cap: int | None = None,
              wait_for_host: bool = False, data: dict[str, Any] | None = None) -> Admission:
        answer = self._run("admit", self._keys(room), call_id, role, int(host), -1 if cap is None else cap,
                           int(wait_for_host), json.dumps(data or {}), ROOM_TTL)
        return cast(Admission, answer)

    def joined(self, room: str, call_id: str, conference_id: str = "") -> Joined:
        result = json.loads(self._run("joined", self._keys(room), call_id, conference_id, ROOM_TTL))
        member = _redis_member(result["member"]) if result.get("member") else None
        return Joined(member, bool(result.get("first_host")), tuple(_lua_list(result.get("released"))))

    def left(self, room: str, call_id: str) -> Left:
        result = json.loads(self._run("left", self._keys(room), call_id, ROOM_TTL))
        member = _redis_member(result["member"]) if result.get("member") else None
        return Left(member, int(result.get("hosts", 0)))

    def _all(self, room: str) -> list[tuple[int, Member]]:
        decoded = [json.loads(item) for item in self.client.hvals(self._keys(room)[1])]
        return sorted(((int(f.get("arrived") or 0), _redis_member(f)) for f in decoded), key=lambda x: x[0])

    def members(self, room: str, states: tuple[MemberState, ...] = ("joined",)) -> list[Member]:
        found = [member for _, member in self._all(room) if member.state in states]
        return sorted(found, key=lambda m: m.seq) if states == ("joined",) else found

    def member(self, room: str, call_id: str) -> Member | None:
        raw = self.client.hget(self._keys(room)[1], call_id)
        return _redis_member(json.loads(raw)) if raw else None

    def update_member(self, room: str, call_id: str, **data: Any) -> Member | None:
        raw = self._run("update_member", self._keys(room), call_id, json.dumps(data))
        return _redis_member(json.loads(raw)) if raw else None

    def set_locked(self, room: str, locked: bool) -> None:
        key = self._keys(room)[0]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, "locked", int(locked))
            pipe.expire(key, ROOM_TTL)
            pipe.execute()

    def room(self, room: str) -> RoomState:
        fields = self.client.hgetall(self._keys(room)[0])
        reserved = sum(1 for _, m in self._all(room) if m.state != "left")
        return RoomState(fields.get("conference_id", ""), int(fields.get("hosts", 0)), fields.get("locked") == "1",
                         reserved)

    def end_room(self, room: str, conference_id: str = "") -> list[Member]:
        decoded = _lua_list(json.loads(self._run("end_room", self._keys(room), conference_id)))
        ordered = sorted(decoded, key=lambda f: int(f.get("arrived") or 0))
        return [_redis_member(fields) for fields in ordered if fields["state"] != "left"]

    # -- timers ------------------------------------------------------------------------------------------------

    def _timer_keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:timers", f"{self.prefix}:timer:{key}"]

    def schedule(self, timer: Timer) -> None:
        timers, entry = self._timer_keys(timer.key)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(entry)
            pipe.hset(entry, mapping={"kind": timer.kind, "due": repr(timer.due), "data": json.dumps(timer.data)})
            pipe.zadd(timers, {timer.key: timer.due})
            pipe.execute()

    def cancel(self, key: str) -> bool:
        timers, entry = self._timer_keys(key)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(timers, key)
            pipe.delete(entry)
            removed, _ = pipe.execute()
        return bool(removed)

    def next_due(self) -> float | None:
        first = self.client.zrange(self._timer_keys("")[0], 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def claim_due(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Timer]:
        timers, _ = self._timer_keys("")
        raw = self._run("claim_timers", [timers], worker, repr(now), repr(lease), limit, f"{self.prefix}:timer:")
        return [Timer(key, kind, float(due), json.loads(data)) for key, kind, due, data in
                _lua_list(json.loads(raw))]

    def finish(self, key: str, worker: str) -> bool:
        return bool(self._run("finish", self._timer_keys(key), key, worker))

    # -- outbox ------------------------------------------------------------------------------------------------

    def _outbox_keys(self, effect_id: str) -> list[str]:
        return [f"{self.prefix}:outbox", f"{self.prefix}:outbox:{effect_id}"]

    def record(self, effect: Effect, available: float = 0.0) -> bool:
        return bool(self._run("record", self._outbox_keys(effect.id), effect.id, effect.method, effect.path,
                              effect.body if effect.body is not None else "\0", effect.content_type,
                              int(effect.idempotent), repr(time.time()), ROOM_TTL, repr(available)))

    def effect(self, effect_id: str) -> Effect | None:
        fields = self.client.hgetall(self._outbox_keys(effect_id)[1])
        if not fields or "method" not in fields:
            return None
        return Effect(effect_id, fields["method"], fields["path"], _body(fields["body"]), fields["content_type"],
                      fields["idempotent"] == "1", fields["state"], int(fields["attempts"]))

    def _claim(self, worker: str, now: float, lease: float, limit: int, ids: tuple[str, ...]) -> list[Effect]:
        queue, _ = self._outbox_keys("")
        raw = self._run("claim_effects", [queue], worker, repr(now), repr(lease), limit, f"{self.prefix}:outbox:",
                        *ids)
        claimed = sorted(_lua_list(json.loads(raw)), key=lambda f: float(f[7] or 0))
        return [Effect(effect_id, method, path, _body(body), content_type, idempotent == "1", "pending",
                       int(attempts or 0))
                for effect_id, method, path, body, content_type, idempotent, attempts, _ in claimed]

    def claim_effect(self, effect_id: str, worker: str, now: float, lease: float) -> Effect | None:
        found = self._claim(worker, now, lease, 1, (effect_id,))
        return found[0] if found else None

    def claim_effects(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Effect]:
        return self._claim(worker, now, lease, limit, ())

    def settle(self, effect_id: str, state: EffectState, attempts: int, retry_at: float = 0.0) -> None:
        self._run("settle", self._outbox_keys(effect_id), effect_id, state, attempts, repr(retry_at))

    def unsettled(self, limit: int = 100) -> list[Effect]:
        ids = self.client.zrange(self._outbox_keys("")[0], 0, limit - 1)
        found = [self.effect(effect_id) for effect_id in ids]
        pending = [effect for effect in found if effect is not None and effect.state == "pending"]
        return sorted(pending, key=lambda e: float(self.client.hget(self._outbox_keys(e.id)[1], "recorded") or 0))

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id: str, ttl: float = EVENT_TTL) -> bool:
        return bool(self.client.set(f"{self.prefix}:event:{event_id}", 1, nx=True, px=int(ttl * 1000)))

    def forget_event(self, event_id: str) -> None:
        self.client.delete(f"{self.prefix}:event:{event_id}")

    # -- lifetime ----------------------------------------------------------------------------------------------

    def claim_single_worker(self) -> None:
        """Redis is shared by design: nothing to claim."""

    def clear(self) -> None:
        keys = list(self.client.scan_iter(f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)

    def close(self) -> None:
        self.client.close()


def _body(raw: str) -> str | None:
    return None if raw == "\0" else raw
