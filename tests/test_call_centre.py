"""examples/support-line, the call centre, through the emulator: customers queued with music until an agent (the
room's host) takes the case, the supervisor's monitor -> whisper -> barge switched mid-call by keys, the cap and
its overflow flow, hang-ups on either side, the time limit, and the room's webhooks (authenticated, tagged, the
recording started when the agent's arrival creates the room)."""

from __future__ import annotations

import pytest
from sim_helpers import ROOT, SECRETS, build

pytestmark = pytest.mark.e2e

QUEUE = "https://cdn.example.com/support/queue-music.mp3"
CHIME = "https://cdn.example.com/support/join-chime.wav"
GREETING = "Thanks for calling Example Support. This call may be recorded for quality purposes."
PROMPT = "Please enter your eight digit case number, then press pound."
HOLD_ON = "Thank you. Please hold for the next free agent."
GOODBYE = "Thank you for calling Example Support. Goodbye."
BUSY = "This case already has its call in progress. Please try again later."
CUSTOMER_LEFT = "The customer has left the call."
CASE = "12345678"

# Keys the room does not use reach the hooks module's on_dtmf (here: 9 flags the case for follow-up).
HOOKS = '''
import pathlib

FLAGGED = pathlib.Path(__file__).with_name("flagged")


def on_dtmf(payload):
    if payload.digit == "9":
        FLAGGED.write_text(payload.call_id)
'''


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return build(tmp_path_factory.mktemp("support-line"), ROOT / "examples" / "support-line", HOOKS)


@pytest.fixture
def bw(out, bandwidth, monkeypatch):
    # The queue music loops, so the emulator is never quiet: each step runs half a second (keys are pressed
    # that far apart, well within the gathers' timeouts) and the helpers let the sentences play out.
    for name, value in SECRETS.items():  # the room's webhook credentials, as the app's environment
        monkeypatch.setenv(name, value)
    return bandwidth(out, settle_seconds=0.5)


def dial(bw, flow: str, then: float, case: str = CASE):
    call = bw.inbound(flow)
    bw.advance(6)  # the greeting
    call.press(case + "#")
    bw.advance(then)  # what is said before the join, and the join
    return call


def customer(bw, case: str = CASE):
    return dial(bw, "customer", 4, case)


def agent(bw, case: str = CASE):
    return dial(bw, "agent", 3, case)


def supervisor(bw):
    return dial(bw, "supervisor", 9)


def room(bw, case: str = CASE):
    return bw.conference(f"case-{case}")


# -- the queue -----------------------------------------------------------------------------------------------

def test_the_customer_queues_with_music_until_an_agent_takes_the_case(bw):
    waiting = customer(bw)
    assert waiting.heard[:3] == [GREETING, PROMPT, HOLD_ON]
    assert waiting.heard[3:] == [QUEUE] * (len(waiting.heard) - 3) and room(bw) is None  # outside the room
    bw.advance(20)
    assert waiting.heard.count(QUEUE) >= 3 and waiting.state == "active"  # a loop, not one play
    staff = agent(bw)
    assert staff.heard[-1] == f"Joining case {CASE}."
    assert set(room(bw).members) == {waiting, staff}
    assert room(bw).can_hear(waiting, staff) and room(bw).can_hear(staff, waiting)
    assert CHIME not in waiting.heard + staff.heard  # the queue's release and the agent taking the case: no chime
    queued = waiting.heard.count(QUEUE)
    bw.advance(20)
    assert waiting.heard.count(QUEUE) == queued  # the music stopped


def test_an_agent_with_nobody_waiting_takes_the_case_and_a_customer_calling_then_is_chimed_in(bw):
    staff = agent(bw)
    assert room(bw).members == [staff]
    late = customer(bw)
    assert QUEUE not in late.heard and set(room(bw).members) == {staff, late}
    assert staff.heard[-1] == CHIME  # played to the room


def test_each_case_has_its_own_queue(bw):
    first, other = customer(bw), customer(bw, "87654321")
    staff = agent(bw)
    assert set(room(bw).members) == {first, staff} and room(bw, "87654321") is None
    assert other.heard[-1] == QUEUE and other.state == "active"


def test_a_customer_hanging_up_in_the_queue_is_not_taken_in(bw):
    gone, waiting = customer(bw), customer(bw)
    gone.hangup()
    bw.advance(2)
    staff = agent(bw)
    assert set(room(bw).members) == {waiting, staff} and gone.state == "completed"


# -- the supervisor ------------------------------------------------------------------------------------------

def test_the_supervisor_monitors_whispers_and_barges_switched_mid_call(bw):
    waiting, staff = customer(bw), agent(bw)
    boss = supervisor(bw)
    case = room(bw)
    assert case.member(boss)["mute"] is True
    assert case.can_hear(boss, staff) and case.can_hear(boss, waiting)  # monitor: hears the call ...
    assert not case.can_hear(staff, boss) and not case.can_hear(waiting, boss)  # ... unheard
    assert CHIME not in staff.heard + waiting.heard  # no chime gives the supervisor away
    boss.press("2")  # whisper
    bw.advance(1)
    assert case.can_hear(staff, boss) and not case.can_hear(waiting, boss)
    assert case.can_hear(waiting, staff) and case.can_hear(staff, waiting)  # the call goes on
    boss.press("3")  # barge
    bw.advance(1)
    assert case.can_hear(staff, boss) and case.can_hear(waiting, boss)
    boss.press("1")  # monitor again
    bw.advance(1)
    assert not case.can_hear(staff, boss) and not case.can_hear(waiting, boss) and case.can_hear(boss, waiting)


def test_a_supervisor_before_the_agent_waits_in_the_queue_and_whispers_to_the_agent_once_in(bw):
    waiting = customer(bw)
    boss = supervisor(bw)
    assert boss.heard[-1] == QUEUE and room(bw) is None
    boss.press("2")  # keys are the room's: nothing happens in the queue
    staff = agent(bw)
    case = room(bw)
    assert set(case.members) == {waiting, boss, staff}
    assert not case.can_hear(staff, boss) and not case.can_hear(waiting, boss)  # joined as a monitor
    boss.press("2")
    bw.advance(1)
    assert case.can_hear(staff, boss) and not case.can_hear(waiting, boss)


def test_only_the_supervisor_has_the_supervisors_keys(bw):
    waiting, staff = customer(bw), agent(bw)
    boss = supervisor(bw)
    staff.press("3")  # not the agent's key
    bw.advance(1)
    assert not room(bw).can_hear(waiting, boss)


def test_the_supervisor_leaving_is_not_announced_and_ends_nothing(bw):
    waiting, staff = customer(bw), agent(bw)
    boss = supervisor(bw)
    heard = len(staff.heard)
    boss.hangup()
    bw.advance(2)
    assert staff.heard[heard:] == [] and set(room(bw).members) == {waiting, staff}


# -- the agent's keys ----------------------------------------------------------------------------------------

def test_the_agent_mutes_and_unmutes_with_star_6(bw):
    waiting, staff = customer(bw), agent(bw)
    staff.press("*6")
    bw.advance(1)
    assert not room(bw).can_hear(waiting, staff) and room(bw).can_hear(staff, waiting)
    staff.press("*6")
    bw.advance(1)
    assert room(bw).can_hear(waiting, staff)


def test_a_key_the_room_does_not_use_goes_to_the_hooks_module(bw, out):
    flagged = out.parent / "flagged"
    flagged.unlink(missing_ok=True)
    customer(bw)
    staff = agent(bw)
    staff.press("9")
    bw.advance(1)
    assert flagged.read_text() == staff.id and room(bw).member(staff)["mute"] is False


# -- the cap -------------------------------------------------------------------------------------------------

def test_a_fourth_caller_on_the_case_is_turned_away(bw):
    customer(bw)
    agent(bw)
    supervisor(bw)
    fourth = customer(bw)
    bw.advance(6)
    assert fourth.heard[-2:] == [HOLD_ON, BUSY]
    assert fourth.state == "completed" and len(room(bw).members) == 3


def test_while_the_case_waits_a_seat_is_kept_for_the_agent(bw):
    first, second = customer(bw), customer(bw)
    third = customer(bw)
    bw.advance(6)
    assert third.heard[-1] == BUSY and third.state == "completed"
    staff = agent(bw)  # the kept seat
    assert set(room(bw).members) == {first, second, staff}


# -- hanging up ----------------------------------------------------------------------------------------------

def test_the_agent_leaving_ends_the_call_and_the_customer_hears_goodbye(bw):
    waiting, staff = customer(bw), agent(bw)
    boss = supervisor(bw)
    staff.hangup()
    bw.advance(4)
    assert waiting.heard[-1] == GOODBYE and waiting.state == "completed"
    assert boss.state == "completed" and room(bw) is None


def test_the_customer_leaving_is_announced_to_the_agent_who_stays_on_the_case(bw):
    waiting, staff = customer(bw), agent(bw)
    waiting.hangup()
    bw.advance(3)
    assert staff.heard[-1] == CUSTOMER_LEFT
    assert staff.state == "active" and room(bw).members == [staff]
    staff.hangup()
    bw.advance(1)
    assert room(bw) is None


# -- the time limit ------------------------------------------------------------------------------------------

def test_the_call_is_warned_then_ended_after_an_hour(bw):
    waiting, staff = customer(bw), agent(bw)
    bw.advance(55 * 60)
    assert waiting.heard[-1] == "This call will end in five minutes."
    bw.advance(5 * 60 + 6)
    assert waiting.heard[-1] == GOODBYE and staff.state == "completed"


# -- the room's webhooks -------------------------------------------------------------------------------------

def test_the_rooms_webhooks_are_authenticated_tagged_and_the_agents_arrival_starts_the_recording(bw):
    waiting = customer(bw)
    assert not any(e.kind == "state" and e.state == "recording" for e in bw.events)  # nobody in the room yet
    staff = agent(bw)
    created = next(w for w in bw.webhooks if w.event_type == "conferenceCreated")
    assert created.accepted and created.status == 200  # the app checked the creator's credentials
    assert any(e.kind == "state" and e.state == "recording" for e in bw.events)
    joins = [w for w in bw.webhooks if w.event_type == "conferenceMemberJoin"]
    assert len(joins) == 2 and all(w.accepted and w.payload["tag"] == "support-case" for w in joins)
    waiting.hangup()
    staff.hangup()
    bw.advance(2)
    recording = next(w for w in bw.webhooks if w.event_type == "conferenceRecordingAvailable")
    assert recording.accepted and recording.url.endswith("/hooks/support/recording")


def test_an_empty_case_number_asks_again(bw):
    call = bw.inbound("customer")
    bw.advance(45)  # no digits: the prompt again (repeat 2), then an empty gather
    assert call.heard[3:5] == ["Sorry, I did not get that.", GREETING]
    assert room(bw) is None


# -- races and workers ---------------------------------------------------------------------------------------

def test_a_late_duplicated_completion_of_the_last_call_does_not_end_the_next_one_on_the_case(bw):
    bw.faults.duplicate("conferenceCompleted")
    bw.faults.reorder(20.0)  # the ended call's completions arrive late, twice
    customer(bw)
    first = agent(bw)
    first.hangup()  # the case's call ends ...
    again = customer(bw)  # ... and the customer calls back on the same case while the completions are on their way
    bw.advance(30)
    assert again.state == "active" and again.heard[-1] == QUEUE
    second = agent(bw)
    bw.advance(30)
    assert set(room(bw).members) == {again, second} and again.state == "active"
    assert len([w for w in bw.webhooks if w.event_type == "conferenceCompleted"]) == 2  # both arrived


def test_two_workers_run_the_case_through_redis(out, bandwidth, redis_url, monkeypatch):
    from flowc.runtime.store import open_store

    store = open_store(redis_url)
    store.clear()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FLOWC_STORE", redis_url)
    bw = bandwidth(out, workers=2, settle_seconds=0.5)
    waiting = customer(bw)  # queued by one worker, taken in by whichever takes the agent's join
    staff = agent(bw)
    boss = supervisor(bw)
    assert set(room(bw).members) == {waiting, staff, boss}
    boss.press("3")  # barge: the supervisor's mode, read by whichever worker takes the key
    bw.advance(1)
    assert room(bw).can_hear(waiting, boss) and room(bw).can_hear(staff, boss)
    assert store.room(f"case-{CASE}").hosts == 1  # the state is in Redis, not in either worker
    staff.hangup()
    bw.advance(4)
    assert waiting.heard[-1] == GOODBYE
    store.clear()
    store.close()
