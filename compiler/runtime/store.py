"""The state a conference's policy needs between webhooks, behind one small interface with two backends.

Consecutive webhooks of one conference can land on different workers, so everything rooms decide on lives
here, and every decision that reads and writes (admit a caller under a cap, release the lobby when the host
joins, claim a due timer) is one atomic step of the store:

- members of a room (by conference name): role, whether the role is a host, state `lobby` (waiting for a
  host, not in the conference), `pending` (admitted, its `<Conference>` served, no memberJoin yet), `joined`
  (in the roster, with a join order) or `left` (a tombstone, so an exit that arrives before its join is not
  undone by the join). Lobby, pending and joined all count as reservations against a room's cap.
- timers (durable, claimed with a lease by whichever worker polls first; flowc.runtime.timers runs them),
- the outbox of REST side effects (recorded with an id before they are sent, marked done after;
  flowc.runtime.bandwidth), and the ids of processed events (for handlers idempotent under duplicates).

`open_store(url)` picks the backend from FLOWC_STORE: `sqlite:///path/to/file.sqlite` (the default is
`flowc-state.sqlite` in the working directory) or `redis://host:port/db`. SQLite (stdlib, WAL, one file) is
for one worker: `claim_single_worker()` takes an exclusive lock beside the file for the process's lifetime,
so a second worker on the same file refuses to start. Redis (redis-py, one Lua script per atomic step) serves
any number of workers and hosts. The methods are synchronous and short (one transaction or one round trip).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_SQLITE = "flowc-state.sqlite"
EVENT_TTL = 25 * 3600.0  # a conference lasts at most 24 h: an event id older than that cannot come back
ROOM_TTL = 25 * 3600  # Redis keys of a room expire after this (refreshed on every write)

Admission = Literal["join", "lobby", "full", "locked"]
MemberState = Literal["lobby", "pending", "joined", "left"]


class StoreError(RuntimeError):
    """The store cannot be used as configured (a bad FLOWC_STORE, a second worker on one SQLite file)."""


@dataclass(frozen=True)
class Member:
    call_id: str
    role: str
    host: bool = False
    state: MemberState = "pending"
    seq: int = 0  # join order in the room (0 until joined)
    data: dict[str, Any] = field(default_factory=dict)  # what handlers keep per member (desired mute, label)


@dataclass(frozen=True)
class Joined:
    """What `joined` did: the member (None when the call had already left: an exit delivered first), whether
    this join is the first host's, and the lobby released by it (call ids, in arrival order)."""

    member: Member | None
    first_host: bool = False
    released: tuple[str, ...] = ()


@dataclass(frozen=True)
class Left:
    """What `left` did: the member that left (None if unknown) and how many hosts are still joined."""

    member: Member | None
    hosts: int = 0


@dataclass(frozen=True)
class Timer:
    key: str  # unique: scheduling the same key again moves the timer
    kind: str  # the handler that runs it
    due: float  # time.time() seconds
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """One REST request to Bandwidth, recorded before it is sent."""

    id: str  # derived from what caused it (event id, timer key), so a repeated cause finds it already there
    method: str
    path: str  # below /accounts/{accountId}
    body: str | None = None  # JSON or XML text
    content_type: str = "application/json"
    idempotent: bool = False  # may be sent again when it is not known whether the first attempt arrived
    state: str = "pending"  # pending, done, failed
    attempts: int = 0


class Store:
    """The interface both backends implement (see the module docstring for the meaning of each state)."""

    url: str

    # -- rooms -------------------------------------------------------------------------------------------------

    def admit(self, room: str, call_id: str, role: str, *, host: bool = False, cap: int | None = None,
              wait_for_host: bool = False, data: dict[str, Any] | None = None) -> Admission:
        """Atomically decide where a caller goes: `full` when the room already has `cap` reservations,
        `locked` when the room is locked (hosts still get in), `lobby` when it waits for a host and none is
        joined, else `join` (a reservation, pending until its memberJoin). Asking again for the same call
        gives the same answer without a second reservation."""
        raise NotImplementedError

    def joined(self, room: str, call_id: str, conference_id: str = "") -> Joined:
        """memberJoin: pending (or unknown: a call admitted elsewhere) becomes joined; a host's join pops the
        lobby in the same step. A repeated join changes nothing; a join after the call's exit is ignored."""
        raise NotImplementedError

    def left(self, room: str, call_id: str) -> Left:
        """memberExit (or a lobby caller hanging up): the call becomes a tombstone and frees its reservation."""
        raise NotImplementedError

    def members(self, room: str, states: tuple[MemberState, ...] = ("joined",)) -> list[Member]:
        """The room's members in those states: joined ones in join order, the others in arrival order."""
        raise NotImplementedError

    def member(self, room: str, call_id: str) -> Member | None:
        raise NotImplementedError

    def update_member(self, room: str, call_id: str, **data: Any) -> Member | None:
        """Merge `data` into a member's own fields (desired mute, hold, a label)."""
        raise NotImplementedError

    def set_locked(self, room: str, locked: bool) -> None:
        raise NotImplementedError

    def room(self, room: str) -> dict[str, Any]:
        """{"conference_id", "hosts", "locked", "reserved"} of a room (zeros when it has no state)."""
        raise NotImplementedError

    def end_room(self, room: str) -> list[Member]:
        """conferenceCompleted: forget the room (its name may be used again), returning who was in it."""
        raise NotImplementedError

    # -- timers ------------------------------------------------------------------------------------------------

    def schedule(self, timer: Timer) -> None:
        raise NotImplementedError

    def cancel(self, key: str) -> bool:
        raise NotImplementedError

    def claim_due(self, worker: str, now: float, lease: float, limit: int = 50) -> list[Timer]:
        """Due timers nobody holds (or whose holder's lease ran out), now held by `worker` until now+lease."""
        raise NotImplementedError

    def finish(self, key: str, worker: str) -> bool:
        """Remove a timer its worker has run; False if it was cancelled, moved or taken over meanwhile."""
        raise NotImplementedError

    # -- outbox ------------------------------------------------------------------------------------------------

    def record(self, effect: Effect) -> bool:
        """Add an effect to the outbox; False (and nothing changes) when its id is already there."""
        raise NotImplementedError

    def effect(self, effect_id: str) -> Effect | None:
        raise NotImplementedError

    def settle(self, effect_id: str, state: str, attempts: int) -> None:
        """Mark an effect done or failed (or still pending, after an attempt)."""
        raise NotImplementedError

    def unsettled(self, older_than: float, limit: int = 50) -> list[Effect]:
        """Pending effects recorded before `older_than` (time.time()): what a crash left unsent."""
        raise NotImplementedError

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id: str, ttl: float = EVENT_TTL) -> bool:
        """True exactly once per event id (until ttl seconds have passed): the caller handles the event."""
        raise NotImplementedError

    # -- lifetime ----------------------------------------------------------------------------------------------

    def claim_single_worker(self) -> None:
        """Refuse (StoreError) when this store cannot be shared and another worker already uses it."""

    def clear(self) -> None:
        """Forget everything (tests, benchmarks)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def event_id(fields: dict[str, Any]) -> str:
    """A stable id for a webhook, for `first_time`: Bandwidth's events carry no id of their own, so it is
    made of what identifies one (C7 of the conference reference: type, conference, call, event time)."""
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


def _member(raw: str | dict[str, Any], call_id: str | None = None) -> Member:
    fields = json.loads(raw) if isinstance(raw, str) else raw
    return Member(fields.get("call_id", call_id), fields["role"], bool(fields.get("host")), fields["state"],
                  int(fields.get("seq") or 0), fields.get("data") or {})


def _member_fields(member: Member) -> dict[str, Any]:
    return {"call_id": member.call_id, "role": member.role, "host": member.host, "state": member.state,
            "seq": member.seq, "data": member.data}


# -- SQLite --------------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (name TEXT PRIMARY KEY, conference_id TEXT NOT NULL DEFAULT '',
    hosts INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS members (room TEXT NOT NULL, call_id TEXT NOT NULL, fields TEXT NOT NULL,
    state TEXT NOT NULL, arrived INTEGER NOT NULL, PRIMARY KEY (room, call_id));
CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, kind TEXT NOT NULL, due REAL NOT NULL,
    data TEXT NOT NULL, holder TEXT, lease REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due);
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, fields TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, recorded REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, recorded);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, expires REAL NOT NULL);
"""


class SqliteStore(Store):
    """One SQLite file in WAL mode; each atomic step is one `BEGIN IMMEDIATE` transaction (it takes the
    write lock first, so two processes on the file serialise instead of both reading the old count)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite://{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # one connection per thread (hooks run in a pool of threads)
        self._connections: list[sqlite3.Connection] = []
        self._lock_file: Any = None
        with self._write() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a crash of the app
            self._local.db = db
            self._connections.append(db)
        return db

    class _Transaction:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, kind, *_) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def _write(self) -> SqliteStore._Transaction:
        return self._Transaction(self._db())

    # -- rooms -------------------------------------------------------------------------------------------------

    def _room_row(self, db: sqlite3.Connection, room: str) -> tuple[str, int, int, int]:
        row = db.execute("SELECT conference_id, hosts, locked, seq FROM rooms WHERE name=?", (room,)).fetchone()
        if row is None:
            db.execute("INSERT INTO rooms (name) VALUES (?)", (room,))
            return "", 0, 0, 0
        return row

    def _get(self, db: sqlite3.Connection, room: str, call_id: str) -> Member | None:
        row = db.execute("SELECT fields FROM members WHERE room=? AND call_id=?", (room, call_id)).fetchone()
        return _member(row[0]) if row else None

    def _put(self, db: sqlite3.Connection, room: str, member: Member, arrived: int | None = None) -> None:
        db.execute("INSERT INTO members (room, call_id, fields, state, arrived) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (room, call_id) DO UPDATE SET fields=excluded.fields, state=excluded.state",
                   (room, member.call_id, json.dumps(_member_fields(member)), member.state,
                    arrived if arrived is not None else time.time_ns()))

    def admit(self, room, call_id, role, *, host=False, cap=None, wait_for_host=False, data=None):
        with self._write() as db:
            _, hosts, locked, _ = self._room_row(db, room)
            known = self._get(db, room, call_id)
            if known is not None and known.state != "left":
                return "lobby" if known.state == "lobby" else "join"
            if locked and not host:
                return "locked"
            reserved = db.execute("SELECT COUNT(*) FROM members WHERE room=? AND state!='left'",
                                  (room,)).fetchone()[0]
            if cap is not None and reserved >= cap:
                return "full"
            state: MemberState = "lobby" if wait_for_host and not host and hosts == 0 else "pending"
            self._put(db, room, Member(call_id, role, host, state, 0, dict(data or {})))
            return "lobby" if state == "lobby" else "join"

    def joined(self, room, call_id, conference_id=""):
        with self._write() as db:
            _, hosts, _, seq = self._room_row(db, room)
            known = self._get(db, room, call_id)
            if known is not None and known.state in ("joined", "left"):
                return Joined(known if known.state == "joined" else None)
            member = Member(call_id, known.role if known else "member", known.host if known else False,
                            "joined", seq + 1, known.data if known else {})
            self._put(db, room, member)
            hosts += member.host
            db.execute("UPDATE rooms SET seq=?, hosts=?, conference_id=CASE WHEN ?='' THEN conference_id ELSE ? "
                       "END WHERE name=?", (seq + 1, hosts, conference_id, conference_id, room))
            released: tuple[str, ...] = ()
            if member.host:
                rows = db.execute("SELECT call_id, fields FROM members WHERE room=? AND state='lobby' "
                                  "ORDER BY arrived", (room,)).fetchall()
                for row_id, raw in rows:
                    waiting = _member(raw, row_id)
                    self._put(db, room, Member(row_id, waiting.role, waiting.host, "pending", 0, waiting.data))
                released = tuple(row[0] for row in rows)
            return Joined(member, member.host and hosts == 1, released)

    def left(self, room, call_id):
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

    def members(self, room, states=("joined",)):
        marks = ",".join("?" * len(states))
        rows = self._db().execute(f"SELECT call_id, fields FROM members WHERE room=? AND state IN ({marks}) "
                                  "ORDER BY arrived", (room, *states)).fetchall()
        found = [_member(raw, call_id) for call_id, raw in rows]
        return sorted(found, key=lambda m: m.seq) if states == ("joined",) else found

    def member(self, room, call_id):
        return self._get(self._db(), room, call_id)

    def update_member(self, room, call_id, **data):
        with self._write() as db:
            known = self._get(db, room, call_id)
            if known is None:
                return None
            member = Member(known.call_id, known.role, known.host, known.state, known.seq, {**known.data, **data})
            self._put(db, room, member)
            return member

    def set_locked(self, room, locked):
        with self._write() as db:
            self._room_row(db, room)
            db.execute("UPDATE rooms SET locked=? WHERE name=?", (int(locked), room))

    def room(self, room):
        db = self._db()
        row = db.execute("SELECT conference_id, hosts, locked FROM rooms WHERE name=?", (room,)).fetchone()
        reserved = db.execute("SELECT COUNT(*) FROM members WHERE room=? AND state!='left'", (room,)).fetchone()[0]
        conference_id, hosts, locked = row or ("", 0, 0)
        return {"conference_id": conference_id, "hosts": hosts, "locked": bool(locked), "reserved": reserved}

    def end_room(self, room):
        with self._write() as db:
            rows = db.execute("SELECT call_id, fields FROM members WHERE room=? AND state!='left' ORDER BY arrived",
                              (room,)).fetchall()
            db.execute("DELETE FROM members WHERE room=?", (room,))
            db.execute("DELETE FROM rooms WHERE name=?", (room,))
            return [_member(raw, call_id) for call_id, raw in rows]

    # -- timers ------------------------------------------------------------------------------------------------

    def schedule(self, timer):
        with self._write() as db:
            db.execute("INSERT INTO timers (key, kind, due, data) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
                       "SET kind=excluded.kind, due=excluded.due, data=excluded.data, holder=NULL, lease=0",
                       (timer.key, timer.kind, timer.due, json.dumps(timer.data)))

    def cancel(self, key):
        with self._write() as db:
            return db.execute("DELETE FROM timers WHERE key=?", (key,)).rowcount > 0

    def claim_due(self, worker, now, lease, limit=50):
        with self._write() as db:
            rows = db.execute("SELECT key, kind, due, data FROM timers WHERE due<=? AND lease<=? ORDER BY due "
                              "LIMIT ?", (now, now, limit)).fetchall()
            db.executemany("UPDATE timers SET holder=?, lease=? WHERE key=?",
                           [(worker, now + lease, row[0]) for row in rows])
            return [Timer(key, kind, due, json.loads(data)) for key, kind, due, data in rows]

    def finish(self, key, worker):
        with self._write() as db:
            return db.execute("DELETE FROM timers WHERE key=? AND holder=?", (key, worker)).rowcount > 0

    # -- outbox ------------------------------------------------------------------------------------------------

    def record(self, effect):
        fields = json.dumps({k: getattr(effect, k) for k in ("method", "path", "body", "content_type",
                                                             "idempotent")})
        with self._write() as db:
            cursor = db.execute("INSERT INTO outbox (id, fields, state, attempts, recorded) VALUES (?, ?, ?, ?, ?) "
                                "ON CONFLICT (id) DO NOTHING",
                                (effect.id, fields, effect.state, effect.attempts, time.time()))
            return cursor.rowcount > 0

    def effect(self, effect_id):
        row = self._db().execute("SELECT id, fields, state, attempts FROM outbox WHERE id=?",
                                 (effect_id,)).fetchone()
        return _effect(*row) if row else None

    def settle(self, effect_id, state, attempts):
        with self._write() as db:
            db.execute("UPDATE outbox SET state=?, attempts=? WHERE id=?", (state, attempts, effect_id))

    def unsettled(self, older_than, limit=50):
        rows = self._db().execute("SELECT id, fields, state, attempts FROM outbox WHERE state='pending' AND "
                                  "recorded<? ORDER BY recorded LIMIT ?", (older_than, limit)).fetchall()
        return [_effect(*row) for row in rows]

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id, ttl=EVENT_TTL):
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM events WHERE id=? AND expires<=?", (event_id, now))
            return db.execute("INSERT INTO events (id, expires) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                              (event_id, now + ttl)).rowcount > 0

    # -- lifetime ----------------------------------------------------------------------------------------------

    def claim_single_worker(self) -> None:
        """An exclusive flock on PATH.lock, held while this store is open: a second process (a second worker of
        uvicorn --workers or gunicorn, or another app started on the same file) cannot take it, and refuses to
        start. The kernel releases it when the process ends, however it ends."""
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
                             "only; run one worker, or set FLOWC_STORE=redis://... for several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def clear(self):
        with self._write() as db:
            for table in ("rooms", "members", "timers", "outbox", "events"):
                db.execute(f"DELETE FROM {table}")

    def close(self):
        for db in self._connections:
            db.close()
        self._connections.clear()
        self._local = threading.local()
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file releases the flock
            self._lock_file = None


def _effect(effect_id: str, raw: str, state: str, attempts: int) -> Effect:
    fields = json.loads(raw)
    return Effect(effect_id, fields["method"], fields["path"], fields.get("body"),
                  fields.get("content_type", "application/json"), bool(fields.get("idempotent")), state, attempts)


# -- Redis ---------------------------------------------------------------------------------------------------

# Each atomic step is one Lua script: Redis runs a script alone, so a check and the write that depends on it
# cannot interleave with another worker's. Keys of a room: P:room:NAME (hash: conference_id, hosts, locked,
# seq, arrived), P:members:NAME (hash call id -> member JSON); P:timers (sorted set key -> due or lease end),
# P:timer:KEY (hash); P:outbox:ID (hash), P:outbox (sorted set of pending ids by time); P:event:ID.
_LUA_COMMON = """
local function reserved(members)
  local n = 0
  for _, raw in ipairs(redis.call('HVALS', members)) do
    if cjson.decode(raw).state ~= 'left' then n = n + 1 end
  end
  return n
end
local function touch(ttl, ...)
  for _, key in ipairs({...}) do redis.call('EXPIRE', key, ttl) end
end
local function next_arrival(room)
  return redis.call('HINCRBY', room, 'arrived', 1)
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
if cap >= 0 and reserved(members) >= cap then return 'full' end
local state = 'pending'
if wait and not host and tonumber(redis.call('HGET', room, 'hosts') or '0') == 0 then state = 'lobby' end
local member = {call_id = call_id, role = role, host = host, state = state, seq = 0, data = cjson.decode(data),
  arrived = next_arrival(room)}
redis.call('HSET', members, call_id, cjson.encode(member))
touch(ttl, room, members)
if state == 'lobby' then return 'lobby' end
return 'join'
"""

_JOINED = _LUA_COMMON + """
local room, members = KEYS[1], KEYS[2]
local call_id, conference_id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local known = redis.call('HGET', members, call_id)
local member
if known then
  member = cjson.decode(known)
  if member.state == 'joined' then return cjson.encode({member = member}) end
  if member.state == 'left' then return cjson.encode({}) end
else
  member = {call_id = call_id, role = 'member', host = false, data = {}, arrived = next_arrival(room)}
end
member.state = 'joined'
member.seq = redis.call('HINCRBY', room, 'seq', 1)
redis.call('HSET', members, call_id, cjson.encode(member))
if conference_id ~= '' then redis.call('HSET', room, 'conference_id', conference_id) end
local result = {member = member, released = {}}
if member.host then
  local hosts = redis.call('HINCRBY', room, 'hosts', 1)
  result.first_host = hosts == 1
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
  member = {call_id = call_id, role = 'member', host = false, seq = 0, data = {}, arrived = next_arrival(room)}
end
local before = cjson.encode(member)
member.state = 'left'
redis.call('HSET', members, call_id, cjson.encode(member))
touch(ttl, room, members)
if known then return cjson.encode({member = cjson.decode(before), hosts = hosts}) end
return cjson.encode({hosts = hosts})
"""

_UPDATE_MEMBER = _LUA_COMMON + """
local known = redis.call('HGET', KEYS[2], ARGV[1])
if not known then return false end
local member = cjson.decode(known)
if type(member.data) ~= 'table' or next(member.data) == nil then member.data = {} end
for k, v in pairs(cjson.decode(ARGV[2])) do member.data[k] = v end
local raw = cjson.encode(member)
redis.call('HSET', KEYS[2], ARGV[1], raw)
return raw
"""

_CLAIM = """
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


class RedisStore(Store):
    """Redis through redis-py: hashes per room, a sorted set of timers, one Lua script per atomic step."""

    def __init__(self, url: str, prefix: str = "flowc") -> None:
        try:
            import redis
        except ImportError:
            raise StoreError("FLOWC_STORE names Redis: pip install 'flowc[store]' (redis-py)") from None
        self.url, self.prefix = url, prefix
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self._scripts = {name: self.client.register_script(source) for name, source in (
            ("admit", _ADMIT), ("joined", _JOINED), ("left", _LEFT), ("update_member", _UPDATE_MEMBER),
            ("claim", _CLAIM), ("finish", _FINISH))}

    def _keys(self, room: str) -> list[str]:
        return [f"{self.prefix}:room:{room}", f"{self.prefix}:members:{room}"]

    def _run(self, script: str, keys: list[str], *args: Any) -> Any:
        return self._scripts[script](keys=keys, args=list(args))

    def admit(self, room, call_id, role, *, host=False, cap=None, wait_for_host=False, data=None):
        return self._run("admit", self._keys(room), call_id, role, int(host), -1 if cap is None else cap,
                         int(wait_for_host), json.dumps(data or {}), ROOM_TTL)

    def joined(self, room, call_id, conference_id=""):
        result = json.loads(self._run("joined", self._keys(room), call_id, conference_id, ROOM_TTL))
        member = _member(result["member"]) if result.get("member") else None
        return Joined(member, bool(result.get("first_host")), tuple(_lua_list(result.get("released"))))

    def left(self, room, call_id):
        result = json.loads(self._run("left", self._keys(room), call_id, ROOM_TTL))
        return Left(_member(result["member"]) if result.get("member") else None, int(result.get("hosts", 0)))

    def _all(self, room: str) -> list[tuple[int, Member]]:
        raw = self.client.hvals(self._keys(room)[1])
        decoded = [json.loads(item) for item in raw]
        return [(int(fields.get("arrived") or 0), _member(fields)) for fields in decoded]

    def members(self, room, states=("joined",)):
        found = sorted(((arrived, m) for arrived, m in self._all(room) if m.state in states), key=lambda x: x[0])
        ordered = [member for _, member in found]
        return sorted(ordered, key=lambda m: m.seq) if states == ("joined",) else ordered

    def member(self, room, call_id):
        raw = self.client.hget(self._keys(room)[1], call_id)
        return _member(raw) if raw else None

    def update_member(self, room, call_id, **data):
        raw = self._run("update_member", self._keys(room), call_id, json.dumps(data))
        return _member(raw) if raw else None

    def set_locked(self, room, locked):
        self.client.hset(self._keys(room)[0], "locked", int(locked))
        self.client.expire(self._keys(room)[0], ROOM_TTL)

    def room(self, room):
        fields = self.client.hgetall(self._keys(room)[0])
        reserved = sum(1 for _, m in self._all(room) if m.state != "left")
        return {"conference_id": fields.get("conference_id", ""), "hosts": int(fields.get("hosts", 0)),
                "locked": fields.get("locked") == "1", "reserved": reserved}

    def end_room(self, room):
        keys = self._keys(room)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hvals(keys[1])
            pipe.delete(*keys)
            raw, _ = pipe.execute()
        decoded = sorted((json.loads(item) for item in raw), key=lambda f: int(f.get("arrived") or 0))
        return [_member(fields) for fields in decoded if fields["state"] != "left"]

    # -- timers ------------------------------------------------------------------------------------------------

    def _timer_keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:timers", f"{self.prefix}:timer:{key}"]

    def schedule(self, timer):
        timers, entry = self._timer_keys(timer.key)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(entry)
            pipe.hset(entry, mapping={"kind": timer.kind, "due": repr(timer.due), "data": json.dumps(timer.data)})
            pipe.zadd(timers, {timer.key: timer.due})
            pipe.execute()

    def cancel(self, key):
        timers, entry = self._timer_keys(key)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(timers, key)
            pipe.delete(entry)
            removed, _ = pipe.execute()
        return bool(removed)

    def claim_due(self, worker, now, lease, limit=50):
        timers, _ = self._timer_keys("")
        raw = self._run("claim", [timers], worker, repr(now), repr(lease), limit, f"{self.prefix}:timer:")
        return [Timer(key, kind, float(due), json.loads(data)) for key, kind, due, data in _lua_list(
            json.loads(raw))]

    def finish(self, key, worker):
        return bool(self._run("finish", self._timer_keys(key), key, worker))

    # -- outbox ------------------------------------------------------------------------------------------------

    def record(self, effect):
        key = f"{self.prefix}:outbox:{effect.id}"
        fields = {"method": effect.method, "path": effect.path, "body": effect.body or "",
                  "content_type": effect.content_type, "idempotent": int(effect.idempotent),
                  "state": effect.state, "attempts": effect.attempts}
        if not self.client.hsetnx(key, "state", effect.state):
            return False
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, int(EVENT_TTL))
            pipe.zadd(f"{self.prefix}:outbox", {effect.id: time.time()})
            pipe.execute()
        return True

    def effect(self, effect_id):
        fields = self.client.hgetall(f"{self.prefix}:outbox:{effect_id}")
        if not fields or "method" not in fields:
            return None
        return Effect(effect_id, fields["method"], fields["path"], fields["body"] or None, fields["content_type"],
                      fields["idempotent"] == "1", fields["state"], int(fields["attempts"]))

    def settle(self, effect_id, state, attempts):
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(f"{self.prefix}:outbox:{effect_id}", mapping={"state": state, "attempts": attempts})
            if state != "pending":
                pipe.zrem(f"{self.prefix}:outbox", effect_id)
            pipe.execute()

    def unsettled(self, older_than, limit=50):
        ids = self.client.zrangebyscore(f"{self.prefix}:outbox", "-inf", f"({older_than!r}", start=0, num=limit)
        found = [self.effect(effect_id) for effect_id in ids]
        return [effect for effect in found if effect is not None and effect.state == "pending"]

    # -- idempotency -------------------------------------------------------------------------------------------

    def first_time(self, event_id, ttl=EVENT_TTL):
        return bool(self.client.set(f"{self.prefix}:event:{event_id}", 1, nx=True, px=int(ttl * 1000)))

    # -- lifetime ----------------------------------------------------------------------------------------------

    def clear(self):
        keys = list(self.client.scan_iter(f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)

    def close(self):
        self.client.close()


def _lua_list(value: Any) -> list:
    """cjson encodes an empty Lua table as an object ({}), not an array."""
    return value if isinstance(value, list) else []
