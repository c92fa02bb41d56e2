"""flowc.runtime.store: the same behaviour from SQLite and from a real Redis server (the `store` fixture runs each
test against both), atomic steps under real concurrency, and the refusals (a second worker on one SQLite file,
a bad FLOWC_STORE)."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flowc.runtime.store import Effect, RedisStore, SqliteStore, StoreError, Timer, event_id, open_store


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "state.sqlite")
    else:
        opened = RedisStore(request.getfixturevalue("redis_url"))
        opened.clear()
    yield opened
    opened.clear()
    opened.close()


def other_connection(store):
    """A second client of the same store, as another worker would have."""
    return SqliteStore(store.path) if isinstance(store, SqliteStore) else RedisStore(store.url)


# -- rooms -------------------------------------------------------------------------------------------------------

def test_a_cap_counts_members_still_joining(store):
    assert store.admit("r", "c1", "member", cap=2) == "join"
    assert store.admit("r", "c2", "member", cap=2) == "join"  # pending, not joined yet: still a seat
    assert store.admit("r", "c3", "member", cap=2) == "full"
    assert store.room("r").reserved == 2
    store.left("r", "c1")  # hung up before its memberJoin: the seat is free again
    assert store.admit("r", "c3", "member", cap=2) == "join"


def test_asking_again_gives_the_same_answer_without_a_second_seat(store):
    assert store.admit("r", "c1", "member", cap=1) == "join"
    assert store.admit("r", "c1", "member", cap=1) == "join"
    assert store.room("r").reserved == 1


def test_guests_wait_in_the_lobby_until_the_host_joins_and_one_seat_stays_the_hosts(store):
    assert [store.admit("r", f"g{i}", "guest", cap=3, wait_for_host=True) for i in range(3)] == \
        ["lobby", "lobby", "full"]  # the third seat is kept for a host
    assert store.admit("r", "h", "host", host=True, cap=3, wait_for_host=True) == "join"
    assert [m.call_id for m in store.members("r", ("lobby",))] == ["g0", "g1"]
    joined = store.joined("r", "h", "conf-1")
    assert joined.first_host and joined.released == ("g0", "g1")
    assert store.members("r", ("lobby",)) == []
    assert [m.state for m in store.members("r", ("pending",))] == ["pending", "pending"]
    assert store.admit("r", "g3", "guest", cap=3, wait_for_host=True) == "full"
    store.joined("r", "g1", "conf-1")
    store.joined("r", "g0", "conf-1")
    assert [m.call_id for m in store.members("r")] == ["h", "g1", "g0"]  # join order
    assert [m.seq for m in store.members("r")] == [1, 2, 3]
    assert store.room("r") == type(store.room("r"))("conf-1", 1, False, 3)


def test_a_guest_after_the_host_joined_goes_straight_in(store):
    store.admit("r", "h", "host", host=True, wait_for_host=True)
    assert store.admit("r", "g", "guest", wait_for_host=True) == "lobby"  # the host is not joined yet
    store.joined("r", "h")
    assert store.admit("r", "g2", "guest", wait_for_host=True) == "join"
    assert store.left("r", "h").hosts == 0
    assert store.admit("r", "g3", "guest", wait_for_host=True) == "lobby"  # no host any more


def test_an_exit_delivered_before_its_join_wins(store):
    store.admit("r", "c1", "member")
    left = store.left("r", "c1")
    assert left.member is not None and left.member.state == "pending"
    assert store.joined("r", "c1").member is None
    assert store.members("r") == [] and store.room("r").reserved == 0
    assert store.left("r", "c1").member is None  # a duplicated exit


def test_a_duplicated_join_changes_nothing(store):
    store.admit("r", "h", "host", host=True)
    first, second = store.joined("r", "h"), store.joined("r", "h")
    assert first.first_host and not second.first_host
    assert store.room("r").hosts == 1 and second.member == first.member


def test_a_join_nobody_admitted_is_a_member(store):
    joined = store.joined("r", "stranger", "conf-9")
    assert joined.member is not None and (joined.member.role, joined.member.host) == ("member", False)


def test_locked_rooms_let_hosts_in(store):
    store.set_locked("r", True)
    assert store.admit("r", "g", "guest") == "locked"
    assert store.admit("r", "h", "host", host=True) == "join"
    store.set_locked("r", False)
    assert store.admit("r", "g", "guest") == "join"
    assert not store.room("r").locked


def test_member_data_merges(store):
    store.admit("r", "c", "member", data={"label": "alice"})
    store.update_member("r", "c", mute=True)
    member = store.update_member("r", "c", hold=False)
    assert member is not None and member.data == {"label": "alice", "mute": True, "hold": False}
    assert store.member("r", "c") == member
    assert store.update_member("r", "nobody", mute=True) is None


def test_end_room_forgets_it_but_not_a_newer_generation(store):
    store.admit("r", "a", "member")
    store.joined("r", "a", "conf-1")
    store.admit("r", "b", "member")
    store.left("r", "a")
    assert [m.call_id for m in store.end_room("r", "conf-1")] == ["b"]
    assert store.room("r").reserved == 0 and store.member("r", "a") is None
    store.admit("r", "c", "member")
    store.joined("r", "c", "conf-2")  # the name used again: a new conference id
    assert store.end_room("r", "conf-1") == []  # a late, duplicated completion of the first one
    assert store.room("r").conference_id == "conf-2" and store.room("r").reserved == 1


def test_concurrent_admissions_never_exceed_the_cap(store):
    """Twelve workers (threads, each with its own connection) race for five seats."""
    clients = [other_connection(store) for _ in range(12)]
    barrier = threading.Barrier(len(clients))

    def arrive(index: int) -> str:
        barrier.wait()
        return clients[index].admit("race", f"c{index}", "member", cap=5)

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(arrive, range(len(clients))))
    for client in clients:
        client.close()
    assert answers.count("join") == 5 and answers.count("full") == 7
    assert store.room("race").reserved == 5


def together(barrier: threading.Barrier, work):
    barrier.wait()
    return work()


def race_guest_and_host(store, room: str):
    """One worker admits a guest while another records the host's memberJoin, started together."""
    guest, host = other_connection(store), other_connection(store)
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        admitted = pool.submit(together, barrier, lambda: guest.admit(room, "g", "guest", wait_for_host=True))
        joined = pool.submit(together, barrier, lambda: host.joined(room, "h"))
        result = admitted.result(), joined.result()
    guest.close()
    host.close()
    return result


def test_no_lost_wake_up_between_a_guest_and_the_hosts_join(store):
    """A guest arriving while the host joins either is released by the join or goes straight in."""
    for attempt in range(20):
        room = f"wake{attempt}"
        store.admit(room, "h", "host", host=True, wait_for_host=True)
        admission, joined = race_guest_and_host(store, room)
        assert (admission == "join") != (joined.released == ("g",)), (admission, joined, attempt)
        assert store.members(room, ("lobby",)) == []


# -- timers ------------------------------------------------------------------------------------------------------

def test_a_due_timer_is_claimed_once(store):
    store.schedule(Timer("deadline:conf-1", "room.deadline", 100.0, {"conference": "conf-1"}))
    store.schedule(Timer("later", "room.warning", 200.0))
    assert store.next_due() == 100.0
    assert store.claim_due("w1", now=99.0, lease=10) == []
    claimed = store.claim_due("w1", now=100.0, lease=10)
    assert claimed == [Timer("deadline:conf-1", "room.deadline", 100.0, {"conference": "conf-1"})]
    assert store.claim_due("w2", now=101.0, lease=10) == []  # held by w1
    assert not store.finish("deadline:conf-1", "w2")
    assert store.finish("deadline:conf-1", "w1")
    assert store.claim_due("w2", now=150.0, lease=10) == []
    assert store.next_due() == 200.0


def test_a_lease_that_runs_out_lets_another_worker_take_the_timer(store):
    store.schedule(Timer("t", "k", 1.0))
    assert len(store.claim_due("w1", now=1.0, lease=5)) == 1  # w1 dies without finishing
    assert store.claim_due("w2", now=5.9, lease=5) == []
    assert [t.key for t in store.claim_due("w2", now=6.0, lease=5)] == ["t"]
    assert not store.finish("t", "w1") and store.finish("t", "w2")


def test_rescheduling_or_cancelling_a_held_timer(store):
    store.schedule(Timer("t", "k", 1.0))
    store.claim_due("w1", now=1.0, lease=60)
    store.schedule(Timer("t", "k", 50.0))  # moved while w1 runs it: w1's finish must not remove the new one
    assert not store.finish("t", "w1")
    assert store.next_due() == 50.0
    assert store.cancel("t") and not store.cancel("t")
    assert store.next_due() is None


def test_concurrent_claims_take_each_timer_once(store):
    for index in range(30):
        store.schedule(Timer(f"t{index}", "k", float(index)))
    clients = [other_connection(store) for _ in range(6)]
    barrier = threading.Barrier(len(clients))

    def claim(index: int) -> list[str]:
        barrier.wait()
        return [t.key for t in clients[index].claim_due(f"w{index}", now=100.0, lease=30, limit=7)]

    with ThreadPoolExecutor(len(clients)) as pool:
        taken = [key for keys in pool.map(claim, range(len(clients))) for key in keys]
    for client in clients:
        client.close()
    assert sorted(taken) == sorted(f"t{i}" for i in range(30))


# -- outbox ------------------------------------------------------------------------------------------------------

def test_an_effect_is_recorded_once_and_claimed_once(store):
    effect = Effect("memberJoin|conf-1|c-1|t:unmute", "PUT", "/conferences/conf-1/members/c-1", '{"mute":false}',
                    idempotent=True)
    assert store.record(effect) and not store.record(effect)
    assert store.effect(effect.id) == effect
    assert store.claim_effect(effect.id, "w1", now=10.0, lease=30) == effect
    assert store.claim_effect(effect.id, "w2", now=11.0, lease=30) is None
    assert store.claim_effects("w2", now=11.0, lease=30) == []
    store.settle(effect.id, "done", 1)
    assert store.effect(effect.id).state == "done"
    assert store.claim_effects("w2", now=100.0, lease=30) == [] and store.unsettled() == []
    assert not store.record(effect)  # done, still known: the same cause again sends nothing


def test_a_retry_time_and_a_lost_lease_make_an_effect_available_again(store):
    store.record(Effect("e1", "POST", "/calls/c-1", '{"state":"completed"}'))
    store.record(Effect("e2", "PUT", "/calls/c-2/bxml", None, "application/xml", idempotent=True))
    assert [e.id for e in store.unsettled()] == ["e1", "e2"]
    assert [e.id for e in store.claim_effects("w1", now=10.0, lease=30)] == ["e1", "e2"]
    store.settle("e1", "pending", 1, retry_at=12.0)  # 429: Retry-After 2
    assert store.claim_effects("w2", now=11.0, lease=30) == []
    again = store.claim_effects("w2", now=12.0, lease=30)
    assert [(e.id, e.attempts) for e in again] == [("e1", 1)]
    assert [e.id for e in store.claim_effects("w3", now=40.0, lease=30)] == ["e2"]  # w1 never settled e2
    assert store.effect("e2").body is None and store.effect("e2").content_type == "application/xml"
    store.settle("e2", "failed", 3)
    assert store.effect("e2").state == "failed"


def test_concurrent_claims_take_each_effect_once(store):
    for index in range(20):
        store.record(Effect(f"e{index:02}", "POST", f"/calls/c-{index}", "{}"))
    clients = [other_connection(store) for _ in range(5)]
    barrier = threading.Barrier(len(clients))

    def claim(index: int) -> list[str]:
        barrier.wait()
        found = [e.id for e in clients[index].claim_effects(f"w{index}", now=1e12, lease=30, limit=6)]
        found += [e.id for e in [clients[index].claim_effect("e19", f"w{index}", 1e12, 30)] if e]
        return found

    with ThreadPoolExecutor(len(clients)) as pool:
        taken = [key for keys in pool.map(claim, range(len(clients))) for key in keys]
    for client in clients:
        client.close()
    assert sorted(taken) == sorted(f"e{i:02}" for i in range(20))


# -- idempotency -------------------------------------------------------------------------------------------------

def test_an_event_is_handled_the_first_time_only(store):
    fields = {"eventType": "conferenceMemberExit", "conferenceId": "conf-1", "callId": "c-1",
              "eventTime": "2026-01-01T00:00:00.000Z"}
    assert store.first_time(event_id(fields))
    assert not store.first_time(event_id(dict(fields)))
    assert store.first_time(event_id({**fields, "callId": "c-2"}))
    assert store.first_time("short-lived", ttl=0.001)
    threading.Event().wait(0.01)
    assert store.first_time("short-lived", ttl=0.001)  # its time ran out
    store.forget_event(event_id(fields))  # its handling failed: the retry is handled
    assert store.first_time(event_id(fields)) and not store.first_time(event_id(fields))


def test_concurrent_duplicates_are_handled_once(store):
    clients = [other_connection(store) for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def claim(index: int) -> bool:
        barrier.wait()
        return clients[index].first_time("dup")

    with ThreadPoolExecutor(len(clients)) as pool:
        assert sum(pool.map(claim, range(len(clients)))) == 1
    for client in clients:
        client.close()


# -- configuration and refusals ----------------------------------------------------------------------------------

def test_open_store_reads_flowc_store(tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv("FLOWC_STORE", f"sqlite://{tmp_path}/a.sqlite")
    opened = open_store()
    assert isinstance(opened, SqliteStore) and opened.path == tmp_path / "a.sqlite" and not opened.shared
    opened.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWC_STORE")
    default = open_store()
    assert default.path == tmp_path / "flowc-state.sqlite"
    default.close()
    relative = open_store("sqlite:sub/b.sqlite")
    assert relative.path == tmp_path / "sub" / "b.sqlite"
    relative.close()
    shared = open_store(redis_url)
    assert isinstance(shared, RedisStore) and shared.shared
    shared.close()


@pytest.mark.parametrize("url, message", [
    ("sqlite://relative.sqlite", "absolute"),
    ("postgres://db/flowc", "sqlite:///PATH or redis://"),
    ("sqlite:", "names no file"),
])
def test_bad_store_urls_are_refused(url, message):
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_a_second_process_on_one_sqlite_file_is_refused(tmp_path):
    first = SqliteStore(tmp_path / "state.sqlite")
    first.claim_single_worker()
    first.claim_single_worker()  # the same store again: fine
    script = ("import sys\nfrom flowc.runtime.store import SqliteStore, StoreError\n"
              f"s = SqliteStore({str(tmp_path / 'state.sqlite')!r})\n"
              "try:\n    s.claim_single_worker()\nexcept StoreError as e:\n    print(e); sys.exit(3)\n")
    refused = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3, refused.stderr
    assert "SQLite serves one worker only" in refused.stdout and "FLOWC_STORE=redis://" in refused.stdout
    first.close()  # the lock goes with the store
    allowed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_a_new_effect_is_left_to_its_request_until_it_is_available(store):
    store.record(Effect("mine", "PUT", "/conferences/x/members/y", "{}", idempotent=True), available=100.0)
    assert store.claim_effects("background", now=50.0, lease=30) == []  # the recording request sends it
    assert store.claim_effect("mine", "request", now=50.0, lease=100) is not None
    store.record(Effect("orphan", "PUT", "/conferences/x/members/z", "{}"), available=100.0)
    assert [e.id for e in store.claim_effects("background", now=100.0, lease=30)] == ["orphan"]
    store.settle("orphan", "pending", 1, retry_at=200.0)
    assert store.claim_effect("orphan", "request", now=150.0, lease=30) is None  # waits for its retry time
