"""examples/meeting-room, driven through the emulator (the `bandwidth` fixture): every behaviour the rooms
issue lists, each shown both ways, and the races of the conference reference under the emulator's faults."""

from __future__ import annotations

import pytest
from sim_helpers import ROOT, build

pytestmark = pytest.mark.e2e

HOLD = "https://cdn.example.com/hold.mp3"
BEEP = "https://cdn.example.com/beep.wav"
HOST_WELCOME = "Welcome, host."
GUEST_WELCOME = "Welcome to the stand-up."
FULL = "The meeting is full."
ENDED = "The host has ended the meeting."
WARNING = "One minute left."


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return build(tmp_path_factory.mktemp("meeting-room"), ROOT / "examples" / "meeting-room")


@pytest.fixture(params=["sqlite", "redis", "redis-2-workers"])
def bw(request, out, bandwidth, monkeypatch):
    """The suite runs three times: the default SQLite store (a fresh file per emulator), a real Redis server,
    and two app workers taking the webhooks in turn, sharing that Redis."""
    if request.param == "sqlite":
        return bandwidth(out)
    from flowc.runtime.store import open_store

    url = request.getfixturevalue("redis_url")
    store = open_store(url)
    store.clear()
    store.close()
    monkeypatch.setenv("FLOWC_STORE", url)
    return bandwidth(out, workers=2 if request.param == "redis-2-workers" else 1)


def room(bw):
    return bw.conference("standup")


# -- the two flows -------------------------------------------------------------------------------------------

def test_the_host_is_welcomed_and_joins_standup_as_its_host(bw):
    host = bw.inbound("host")
    assert host.heard == [HOST_WELCOME]
    assert room(bw).name == "standup" and room(bw).members == [host]


def test_a_guest_is_welcomed_and_joins_as_a_member_once_the_host_is_in(bw):
    host = bw.inbound("host")
    guest = bw.inbound("guest")
    assert guest.heard[0] == GUEST_WELCOME and HOLD not in guest.heard
    assert room(bw).members == [host, guest] and room(bw).member(guest)["mute"] is False


# -- the lobby -----------------------------------------------------------------------------------------------

def test_guests_before_the_host_hear_the_hold_music_on_a_loop_and_are_not_members(bw):
    first = bw.inbound("guest")
    second = bw.inbound("guest")
    assert first.heard[0] == GUEST_WELCOME and first.heard[1:] == [HOLD] * (len(first.heard) - 1)
    assert first.heard.count(HOLD) >= 3  # a loop, not one play
    assert bw.conference("standup") is None and first.state == second.state == "active"


def test_when_the_host_arrives_the_waiting_guests_join_and_everyone_hears_everyone(bw):
    guests = [bw.inbound("guest") for _ in range(3)]
    host = bw.inbound("host")
    members = room(bw).members
    assert set(members) == {host, *guests}
    assert all(room(bw).can_hear(a, b) for a in members for b in members if a != b)
    waited = len(guests[0].heard)
    bw.advance(30)
    assert guests[0].heard[waited:].count(HOLD) == 0  # the music stopped


def test_a_guest_still_hearing_the_welcome_when_the_host_arrives_is_not_cut_off(bw):
    guest = bw.inbound("guest", wait=False)  # both at the same moment: the guest is admitted before the host
    host = bw.inbound("host")
    assert guest.heard[0] == GUEST_WELCOME and HOLD not in guest.heard
    assert set(room(bw).members) == {host, guest}


# -- tones ---------------------------------------------------------------------------------------------------

def test_a_join_after_the_start_beeps_to_the_whole_room(bw):
    host = bw.inbound("host")
    first = bw.inbound("guest")
    second = bw.inbound("guest")
    assert host.heard == [HOST_WELCOME, BEEP, BEEP]
    assert first.heard[-1] == BEEP and second.heard[-1] == BEEP


def test_neither_the_host_starting_the_meeting_nor_the_released_lobby_beep(bw):
    waiting = [bw.inbound("guest") for _ in range(2)]
    host = bw.inbound("host")
    bw.advance(10)
    assert host.heard == [HOST_WELCOME] and all(BEEP not in g.heard for g in waiting)


# -- the cap -------------------------------------------------------------------------------------------------

def test_the_sixth_caller_hears_the_meeting_is_full_and_is_hung_up(bw):
    host = bw.inbound("host")
    guests = [bw.inbound("guest") for _ in range(4)]
    sixth = bw.inbound("guest")
    assert sixth.heard == [GUEST_WELCOME, FULL] and sixth.state == "completed"
    assert set(room(bw).members) == {host, *guests}
    assert all(g.state == "active" for g in guests)


def test_five_are_let_in_and_a_seat_frees_when_one_leaves(bw):
    bw.inbound("host")
    guests = [bw.inbound("guest") for _ in range(4)]
    assert FULL not in guests[-1].heard and len(room(bw).members) == 5
    guests[0].hangup()
    late = bw.inbound("guest")
    assert FULL not in late.heard and late in room(bw).members


def test_a_seat_is_kept_for_the_host_while_guests_wait(bw):
    waiting = [bw.inbound("guest") for _ in range(4)]
    fifth = bw.inbound("guest")
    assert fifth.heard == [GUEST_WELCOME, FULL] and fifth.state == "completed"
    host = bw.inbound("host")
    assert set(room(bw).members) == {host, *waiting}


# -- *6 ------------------------------------------------------------------------------------------------------

def test_a_guest_pressing_star_6_mutes_and_unmutes_themself(bw):
    host = bw.inbound("host")
    guest = bw.inbound("guest")
    guest.press("*6")
    assert room(bw).member(guest)["mute"] is True and not room(bw).can_hear(host, guest)
    assert room(bw).can_hear(guest, host)  # muted, not deaf
    guest.press("*6")
    assert room(bw).member(guest)["mute"] is False and room(bw).can_hear(host, guest)


def test_other_keys_and_a_lone_6_change_nothing(bw):
    bw.inbound("host")
    guest = bw.inbound("guest")
    guest.press("6")
    guest.press("*5")
    guest.press("9")
    assert room(bw).member(guest)["mute"] is False


def test_star_6_of_one_guest_mutes_only_that_guest(bw):
    bw.inbound("host")
    first, second = bw.inbound("guest"), bw.inbound("guest")
    first.press("*6")
    assert room(bw).member(first)["mute"] is True and room(bw).member(second)["mute"] is False


# -- the host leaving ----------------------------------------------------------------------------------------

def test_when_the_host_leaves_every_guest_hears_it_and_their_call_ends(bw):
    host = bw.inbound("host")
    guests = [bw.inbound("guest") for _ in range(3)]
    host.hangup()
    assert all(g.heard[-1] == ENDED and g.state == "completed" for g in guests)
    assert bw.conference("standup") is None  # no active conference of that name


def test_a_guest_leaving_ends_nothing(bw):
    host = bw.inbound("host")
    leaving, staying = bw.inbound("guest"), bw.inbound("guest")
    leaving.hangup()
    assert staying.state == "active" and ENDED not in staying.heard
    assert set(room(bw).members) == {host, staying}


def test_after_the_meeting_ended_a_new_guest_waits_for_the_next_host(bw):
    host = bw.inbound("host")
    bw.inbound("guest")
    host.hangup()
    late = bw.inbound("guest")
    assert HOLD in late.heard and bw.conference("standup") is None
    second_host = bw.inbound("host")
    assert set(room(bw).members) == {second_host, late}


# -- the time limit ------------------------------------------------------------------------------------------

def test_at_29_minutes_the_room_hears_one_minute_left_and_at_30_it_ends(bw):
    host = bw.inbound("host")
    started = bw.now  # the host's join: the meeting starts
    guests = [bw.inbound("guest") for _ in range(2)]
    bw.advance(started + 29 * 60 - bw.now - 1)
    assert all(WARNING not in c.heard for c in (host, *guests))
    bw.advance(2)
    assert all(c.heard[-1] == WARNING for c in (host, *guests))
    assert all(c.state == "active" for c in (host, *guests))
    bw.advance(58)
    assert all(c.state == "active" for c in (host, *guests))  # 30 minutes from the host's arrival: not yet
    bw.advance(6)
    assert all(g.heard[-1] == ENDED and g.state == "completed" for g in guests)
    assert host.state == "completed" and bw.conference("standup") is None


def test_the_limit_counts_from_the_hosts_arrival_not_from_the_first_guest(bw):
    guest = bw.inbound("guest")
    bw.advance(120)
    host = bw.inbound("host")
    arrived = bw.now
    bw.advance(arrived + 29 * 60 - bw.now - 1)
    assert WARNING not in host.heard and guest.state == "active"
    bw.advance(62)
    assert guest.heard[-1] == ENDED


def test_a_meeting_ended_by_its_host_gives_no_warning_later(bw):
    host = bw.inbound("host")
    guest = bw.inbound("guest")
    host.hangup()
    bw.advance(31 * 60)
    assert WARNING not in guest.heard
    assert not [r for r in bw.events if getattr(r, "path", "").endswith("/bxml") and "conferences" in r.path]


# -- races (conference-superset.md C7, 2.2, 2.3) -------------------------------------------------------------

def test_a_guest_arriving_as_the_host_joins_is_not_left_in_the_lobby(bw):
    host = bw.inbound("host", wait=False)
    bw.advance(0.8)  # the host's sentence ends and it joins at this instant ...
    guest = bw.inbound("guest", wait=False)  # ... as the guest arrives
    bw.advance(20)
    assert set(room(bw).members) == {host, guest}
    assert guest.heard.count(HOLD) <= 1


def test_an_exit_delivered_before_its_join_leaves_no_ghost(bw):
    host = bw.inbound("host")
    bw.faults.swap("conferenceMemberJoin")  # the next join reaches the app after the event that follows it
    ghost = bw.inbound("guest")
    ghost.hangup()
    bw.advance(1)
    guests = [bw.inbound("guest") for _ in range(4)]  # the ghost's seat is free again: four more fit
    assert all(FULL not in g.heard for g in guests)
    assert set(room(bw).members) == {host, *guests}
    assert host.heard.count(BEEP) == 4  # no tone for the ghost's late join


def test_a_duplicated_late_completion_does_not_end_the_next_meeting(bw):
    bw.faults.duplicate("conferenceCompleted")
    bw.faults.reorder(20.0)  # completions arrive late, twice
    host = bw.inbound("host")
    bw.inbound("guest")
    host.hangup()
    waiting = bw.inbound("guest")  # the next meeting's first guest, while the old completions are on their way
    bw.advance(30)
    assert waiting.state == "active"
    second_host = bw.inbound("host")
    assert set(room(bw).members) == {second_host, waiting}


def test_rest_429_while_releasing_the_lobby_is_retried(bw):
    waiting = [bw.inbound("guest") for _ in range(3)]
    bw.faults.rate_limit(times=2, retry_after=0)
    host = bw.inbound("host")
    assert set(room(bw).members) == {host, *waiting}


def test_two_workers_share_the_meeting_through_redis(out, bandwidth, redis_url, monkeypatch):
    from flowc.runtime.store import open_store

    store = open_store(redis_url)
    store.clear()
    monkeypatch.setenv("FLOWC_STORE", redis_url)
    bw = bandwidth(out, workers=2)
    waiting = bw.inbound("guest")  # admitted by one worker ...
    host = bw.inbound("host")  # ... released by whichever takes the host's join
    assert set(room(bw).members) == {host, waiting}
    assert len(bw.rooms_of_workers) == 2 and all(r.runtime._store is not None for r in bw.rooms_of_workers)
    assert store.room("standup").hosts == 1  # the state is in Redis, not in either worker
    store.close()
