"""The control API, the outbox and the timers in a generated app on the emulator, against SQLite and a real
Redis: side effects sent after the reply, exactly once under duplicated events, a 429 honoured, what a crash
left sent by the background loop, timers claimed once."""

from __future__ import annotations

import asyncio
import time

import pytest
from flowc.runtime.bandwidth import ApiConfig, BandwidthClient, call_bxml
from flowc.runtime.outbox import GRACE, Outbox
from flowc.runtime.services import Runtime
from flowc.runtime.store import RedisStore, SqliteStore, StoreError, Timer
from sim_helpers import ROOM_AND_GUEST, build

pytestmark = pytest.mark.e2e

FLOWS = {"a.flow": ROOM_AND_GUEST + 'flow waiter {\n    say "Please hold."\n    pause 600s\n}\n'}

WAITER_NUMBER = "+15550000001"
CLOSED = "<Bxml><SpeakSentence>The room has closed.</SpeakSentence><Pause duration='600'/></Bxml>"

HOOKS = f"""
from flowc.runtime import after_reply

waiting = []

def on_initiate(payload, context):
    if payload.to == {WAITER_NUMBER!r}:
        waiting.append(payload.call_id)

def on_conference_member_join(payload, context):
    context.control.mute()  # this member, this conference: sent after the reply

def on_conference_completed(payload, context):
    context.control.move(waiting[0], bxml={CLOSED!r})
"""


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path}/state.sqlite"
    else:
        url = request.getfixturevalue("redis_url")
        RedisStore(url).clear()
    monkeypatch.setenv("FLOWC_STORE", url)
    yield url
    if request.param == "redis":
        RedisStore(url).clear()


def workers_for(store_url: str, many: int = 2) -> int:
    """Several workers share Redis; SQLite refuses a second one (even in one process: the lock is per open)."""
    return many if store_url.startswith("redis://") else 1


@pytest.fixture
def out(tmp_path):
    return build(tmp_path, FLOWS, HOOKS)


def rest(bw, method: str, fragment: str) -> list:
    return [e for e in bw.events if type(e).__name__ == "RestRequest" and e.method == method and fragment in e.path]


def test_side_effects_run_after_the_reply_and_once_under_duplicated_events(bandwidth, out, store_url):
    bw = bandwidth(out)
    bw.faults.duplicate("conferenceCompleted")
    waiter = bw.inbound("waiter", to=WAITER_NUMBER)
    guest = bw.inbound("guest")
    room = bw.conference("room")
    assert room.member(guest)["mute"]  # muted by the hook, through the outbox
    guest.hangup()  # the last member leaves: conferenceCompleted, delivered twice
    completions = [w for w in bw.webhooks if w.event_type == "conferenceCompleted"]
    assert len(completions) == 2 and all(w.status == 204 for w in completions)
    assert waiter.heard == ["Please hold.", "The room has closed."]
    assert len(rest(bw, "PUT", f"/calls/{waiter.id}/bxml")) == 1
    assert len(rest(bw, "PUT", "/members/")) == 1


def test_a_429_on_a_side_effect_is_waited_out(bandwidth, out, store_url):
    bw = bandwidth(out)
    bw.inbound("waiter", to=WAITER_NUMBER)
    bw.faults.rate_limit(times=1, retry_after=1, path="/members/")
    guest = bw.inbound("guest")
    assert bw.conference("room").member(guest)["mute"]
    assert [e.status for e in rest(bw, "PUT", "/members/")] == [429, 204]


def test_what_a_crash_left_in_the_outbox_is_sent_by_the_background_loop_once(bandwidth, out, store_url):
    bw = bandwidth(out)
    waiter = bw.inbound("waiter", to=WAITER_NUMBER)
    runtime = Runtime()  # FLOWC_STORE from the fixture
    control = runtime.control({"callId": waiter.id}, cause="crashed-request")
    control.move(bxml=CLOSED)  # recorded; the worker "dies" before sending it
    runtime.close_store()

    async def two_workers_recover() -> list[int]:
        early = Runtime()
        assert await early.outbox.deliver_available() == 0  # left to its request for GRACE seconds
        await early.stop()
        later = time.time() + GRACE + 1
        workers = [Runtime(clock=ManualClock(later)) for _ in range(workers_for(store_url))]
        try:
            return list(await asyncio.gather(*(w.outbox.deliver_available() for w in workers)))
        finally:
            for worker in workers:
                await worker.stop()

    assert sum(asyncio.run(two_workers_recover())) == 1
    assert waiter.heard == ["Please hold.", "The room has closed."]
    later = Runtime()
    assert later.store.effect(control.effects[0]).state == "done"
    later.close_store()


def test_a_non_idempotent_effect_whose_outcome_is_unknown_is_never_sent_again(tmp_path):
    """A loopback server that never answers: the PUT may have been applied, so the entry is failed, not kept."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    store = SqliteStore(tmp_path / "s.sqlite")
    client = BandwidthClient(ApiConfig(f"http://127.0.0.1:{server.getsockname()[1]}/api/v2", "1", timeout=0.2))
    outbox = Outbox(store, lambda: client, "w1")
    outbox.add("e1", call_bxml("c-1", CLOSED))

    async def send() -> None:
        await outbox.deliver(["e1"])
        await client.close()

    asyncio.run(send())
    server.close()
    assert store.effect("e1").state == "failed" and store.effect("e1").attempts == 1
    assert store.claim_effects("w2", now=1e12, lease=30) == []
    store.close()


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.time, self.woken = now, []

    def now(self) -> float:
        return self.time

    def wake(self, when: float) -> None:
        self.woken.append(when)


def test_a_timer_fires_once_among_workers_and_its_handler_uses_the_control_api(bandwidth, out, store_url):
    bw = bandwidth(out)
    waiter = bw.inbound("waiter", to=WAITER_NUMBER)
    clock = ManualClock()
    workers = [Runtime(clock=clock) for _ in range(workers_for(store_url, 3))]
    fired: list[str] = []

    def handler_of(runtime: Runtime):
        async def announce(timer: Timer) -> None:
            fired.append(runtime.worker)
            control = runtime.timer_control(timer, callId=timer.data["call"])
            control.move(bxml=CLOSED)
            await runtime.deliver(control)
        return announce

    for worker in workers:
        worker.timers.on("close", handler_of(worker))
    due = workers[0].timers.schedule_in("close:waiter", "close", 60, {"call": waiter.id})
    assert clock.woken == [due]

    async def all_look(now: float) -> int:
        return sum(await asyncio.gather(*(w.timers.fire_due(now) for w in workers)))

    async def scenario() -> list[int]:
        try:
            return [await all_look(due - 1), await all_look(due), await all_look(due + 100)]
        finally:
            for worker in workers:
                await worker.stop()

    assert asyncio.run(scenario()) == [0, 1, 0]
    assert len(fired) == 1 and waiter.heard == ["Please hold.", "The room has closed."]


def test_sqlite_under_several_workers_is_refused_before_anything_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWC_STORE", f"sqlite://{tmp_path}/state.sqlite")
    monkeypatch.setenv("FLOWC_WORKERS", "2")
    with pytest.raises(StoreError, match="runs 2 workers but its state store is SQLite"):
        Runtime().store  # noqa: B018
    assert not (tmp_path / "state.sqlite").exists()
    monkeypatch.setenv("FLOWC_WORKERS", "1")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")  # FLOWC_WORKERS says it first
    Runtime().close_store()
    monkeypatch.delenv("FLOWC_WORKERS")
    with pytest.raises(StoreError, match="runs 4 workers"):
        Runtime().check_workers()
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    with pytest.raises(StoreError, match="positive whole number"):
        Runtime().check_workers()


def test_redis_under_several_workers_is_fine(monkeypatch, redis_url):
    monkeypatch.setenv("FLOWC_STORE", redis_url)
    monkeypatch.setenv("FLOWC_WORKERS", "4")
    runtime = Runtime()
    assert runtime.store.shared
    runtime.close_store()


TIMED_HOOKS = """
def on_conference_member_join(payload, context):
    context.state.runtime.timers.schedule_in("warn:" + payload.conference_id, "warn", 29 * 60,
                                             {"conference": payload.conference_id})

async def on_timer_warn(timer, runtime):
    control = runtime.timer_control(timer, conferenceId=timer.data["conference"])
    control.announce("<Bxml><SpeakSentence>One minute left.</SpeakSentence></Bxml>")
    await runtime.deliver(control)
"""


def test_timers_of_an_in_process_app_run_on_the_emulators_virtual_clock(bandwidth, tmp_path, store_url):
    bw = bandwidth(build(tmp_path, FLOWS, TIMED_HOOKS))
    guest = bw.inbound("guest")
    joined_at = bw.now
    bw.advance(29 * 60 - 1 - (bw.now - joined_at))
    assert "One minute left." not in guest.heard
    bw.advance(1)
    assert guest.heard[-1] == "One minute left." and bw.now == pytest.approx(joined_at + 29 * 60)
    bw.advance(3600)
    assert guest.heard.count("One minute left.") == 1  # fired once, then finished


def test_without_flowc_store_each_emulator_gives_the_app_a_fresh_store(bandwidth, tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWC_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    out = build(tmp_path, FLOWS, HOOKS)
    for _ in range(2):
        bw = bandwidth(out)
        bw.inbound("waiter", to=WAITER_NUMBER)
        guest = bw.inbound("guest")
        assert bw.conference("room").member(guest)["mute"]  # each run records and sends its own entry
        bw.close()
    assert not (tmp_path / "flowc-state.sqlite").exists()


def test_every_control_function_on_the_emulator(bandwidth, tmp_path, store_url):
    bw = bandwidth(build(tmp_path, FLOWS, "def on_initiate(payload):\n    return None\n"))
    first, coach, kicked, moved, continued = (bw.inbound("guest") for _ in range(5))
    waiter = bw.inbound("waiter", to=WAITER_NUMBER)
    room = bw.conference("room")
    runtime = Runtime(clock=ManualClock())
    runtime.store.joined("room", first.id, room.id)  # what the conference handlers record
    fields = {"eventType": "conferenceMemberJoin", "conferenceId": room.id, "callId": first.id}

    async def act() -> list[str]:
        control = runtime.control(fields)
        control.mute()
        control.hold(room="room")
        control.unhold(conference_id=room.id)
        control.coach([first.id], coach_id=coach.id)
        control.kick(kicked.id)
        control.kick(continued.id, then_url="http://app/flows/waiter")
        control.move(moved.id, bxml="<Bxml><SpeakSentence>Moved.</SpeakSentence><Pause duration='60'/></Bxml>")
        control.move(waiter.id, url="http://app/flows/waiter")
        control.announce("<Bxml><SpeakSentence>Hello, room.</SpeakSentence></Bxml>")
        await runtime.deliver(control)
        states = [runtime.store.effect(e).state for e in control.effects]
        ending = runtime.control(fields, cause="the end")
        ending.end(room="room")
        await runtime.deliver(ending)
        await runtime.stop()
        return states

    assert set(asyncio.run(act())) == {"done"}
    assert room.member(first) is None  # the room has ended; what it was before, from the REST log:
    member_bodies = [e.body for e in rest(bw, "PUT", "/members/")]
    assert member_bodies == [{"mute": True}, {"hold": True}, {"hold": False}, {"callIdsToCoach": [first.id]}]
    assert kicked.state == "completed" and continued.heard[-1] == "Please hold."
    assert moved.heard[-1] == "Moved." and waiter.heard == ["Please hold.", "Please hold."]
    assert "Hello, room." in first.heard and first.heard[-1] == "The meeting has ended."
    assert bw.conference("room") is None


def test_control_calls_that_name_nothing_are_refused(tmp_path):
    from flowc.runtime.control import ControlError

    runtime = Runtime(store_url=f"sqlite://{tmp_path}/s.sqlite")
    control = runtime.control({"eventType": "timer"}, cause="c")
    with pytest.raises(ControlError, match="no callId"):
        control.kick()
    with pytest.raises(ControlError, match="no conferenceId"):
        control.mute("c-1")
    with pytest.raises(ControlError, match="has no conference now"):
        control.announce("<Bxml/>", room="empty")
    with pytest.raises(ControlError, match="one of url= and bxml="):
        control.move("c-1")
    assert control.effects == []
    runtime.close_store()


def test_a_retry_after_longer_than_a_request_waits_is_sent_later_on_the_virtual_clock(bandwidth, out, store_url):
    bw = bandwidth(out)
    bw.inbound("waiter", to=WAITER_NUMBER)
    bw.faults.rate_limit(times=1, retry_after=120, path="/members/")
    guest = bw.inbound("guest")
    refused_at = rest(bw, "PUT", "/members/")[0].time  # 429: the entry waits in the outbox
    bw.advance(refused_at + 119 - bw.now)
    assert not bw.conference("room").member(guest)["mute"]
    bw.advance(1)
    assert bw.conference("room").member(guest)["mute"]
    assert [e.status for e in rest(bw, "PUT", "/members/")] == [429, 204]
