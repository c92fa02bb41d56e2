"""examples/call-centre through the emulator: the queue with music, the agent as the room's host, the
supervisor's monitor -> whisper -> barge, the cap, the recording started by the agent's join, the end."""

from __future__ import annotations

import pytest
from sim_helpers import ROOT, build

pytestmark = pytest.mark.e2e

QUEUE = "https://cdn.example.com/support/queue-music.mp3"
CHIME = "https://cdn.example.com/support/join-chime.wav"
CASE = "12345678"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return build(tmp_path_factory.mktemp("call-centre"), ROOT / "examples" / "call-centre")


@pytest.fixture
def bw(out, bandwidth):
    # The queue music loops, so the emulator is never quiet: each step runs half a second (keys are pressed
    # that far apart, well within the gathers' timeouts) and the helpers let the sentences play out.
    return bandwidth(out, settle_seconds=0.5)


def dial(bw, flow: str, then: float):
    call = bw.inbound(flow)
    bw.advance(6)  # the greeting
    call.press(CASE + "#")
    bw.advance(then)  # what is said before the join, and the join
    return call


def customer(bw):
    return dial(bw, "caller", 4)


def agent(bw):
    return dial(bw, "rep", 3)


def supervisor(bw):
    return dial(bw, "lead", 9)


def room(bw):
    return bw.conference(f"ticket-{CASE}")


def test_the_customer_queues_with_music_until_an_agent_takes_the_case(bw):
    waiting = customer(bw)
    assert "Thank you. Please hold for the next free agent." in waiting.heard
    assert waiting.heard[-1] == QUEUE and room(bw) is None
    staff = agent(bw)
    assert set(room(bw).members) == {waiting, staff}
    assert room(bw).can_hear(waiting, staff) and room(bw).can_hear(staff, waiting)
    assert CHIME not in waiting.heard  # the queue's release and the agent starting the case: no chime


def test_the_agents_join_starts_the_recording_a_customer_join_does_not(bw):
    staff = agent(bw)
    assert any(e.kind == "state" and e.state == "recording" for e in bw.events)
    assert staff in room(bw).members


def test_a_customer_joining_a_case_in_progress_is_chimed_in(bw):
    staff = agent(bw)
    late = customer(bw)
    assert late in room(bw).members and staff.heard[-1] == CHIME


def test_the_supervisor_monitors_whispers_and_barges(bw):
    waiting, staff = customer(bw), agent(bw)
    boss = supervisor(bw)
    case = room(bw)
    assert case.can_hear(boss, staff) and case.can_hear(boss, waiting)  # monitor: hears the call ...
    assert not case.can_hear(staff, boss) and not case.can_hear(waiting, boss)  # ... unheard
    assert CHIME not in staff.heard[-1:]  # no chime gives the supervisor away
    boss.press("2")  # whisper
    bw.advance(1)
    assert case.can_hear(staff, boss) and not case.can_hear(waiting, boss)
    boss.press("3")  # barge
    bw.advance(1)
    assert case.can_hear(staff, boss) and case.can_hear(waiting, boss)
    boss.press("1")  # monitor again
    bw.advance(1)
    assert not case.can_hear(staff, boss) and not case.can_hear(waiting, boss)


def test_a_fourth_caller_on_the_case_is_turned_away(bw):
    customer(bw)
    agent(bw)
    supervisor(bw)
    fourth = customer(bw)
    bw.advance(6)
    assert fourth.heard[-1] == "This case already has its call in progress. Please try again later."
    assert fourth.state == "completed" and len(room(bw).members) == 3


def test_the_agent_leaving_ends_the_call_and_the_customer_hears_goodbye(bw):
    waiting, staff = customer(bw), agent(bw)
    staff.hangup()
    bw.advance(4)
    assert waiting.heard[-1] == "Thank you for calling Example Support. Goodbye."
    assert waiting.state == "completed"


def test_the_agent_mutes_with_star_6(bw):
    waiting, staff = customer(bw), agent(bw)
    staff.press("*6")
    bw.advance(1)
    assert not room(bw).can_hear(waiting, staff)
    staff.press("*6")
    bw.advance(1)
    assert room(bw).can_hear(waiting, staff)


def test_the_call_is_warned_then_ended_after_an_hour(bw):
    waiting, staff = customer(bw), agent(bw)
    bw.advance(55 * 60)
    assert waiting.heard[-1] == "This call will end in five minutes."
    bw.advance(5 * 60 + 6)
    assert waiting.heard[-1] == "Thank you for calling Example Support. Goodbye." and staff.state == "completed"
