"""flowc.sim, conferences: creation, settings from the creator, limits, events, audio, mute, hold, coach,
who hears whom, ending. Each behaviour both ways where it has two."""

from __future__ import annotations

import pytest
from flowc.sim import Bandwidth
from sim_helpers import ScriptedApp, response, say


def conference(name: str = "room", **attributes: str) -> str:
    attrs = "".join(f" {k}='{v}'" for k, v in attributes.items())
    return f"<Conference{attrs}>{name}</Conference>"


@pytest.fixture
def room(request):
    """emulator(routes) -> (Bandwidth, ScriptedApp); /join joins `room` with events to /events."""
    started = []

    def start(routes=None, **options):
        base = {"/join": response(conference(conferenceEventUrl="/events", tag="creator-tag"), say("after")),
                "/events": (204, "")}
        app = ScriptedApp({**base, **(routes or {})})
        emulator = Bandwidth(app=app, rest=options.pop("rest", False), **options)
        started.append(emulator)
        return emulator, app

    yield start
    for emulator in started:
        emulator.close()


def event_types(app: ScriptedApp) -> list[str]:
    return [r.event_type for r in app.requests if r.event_type.startswith("conference")]


def test_the_first_join_creates_the_conference_and_events_come_in_a_realistic_order(room):
    bw, app = room()
    first = bw.inbound("/join")
    conf = bw.conference("room")
    assert conf is not None and conf.id.startswith("conf-") and conf.members == [first]
    second = bw.inbound("/join")
    first.hangup()
    second.hangup()
    assert event_types(app) == ["conferenceCreated", "conferenceMemberJoin", "conferenceMemberJoin",
                                "conferenceMemberExit", "conferenceMemberExit", "conferenceCompleted"]
    join = app.of("conferenceMemberJoin")[1].payload
    assert join["callId"] == second.id and join["conferenceId"] == conf.id and join["tag"] == "creator-tag"
    assert bw.conference("room") is None


def test_settings_come_only_from_the_creating_document(room):
    bw, app = room({"/join-other": response(conference(conferenceEventUrl="/other-events", tag="ignored")),
                    "/other-events": (204, "")})
    bw.inbound("/join")
    bw.inbound("/join-other")
    assert not [r for r in app.requests if r.path == "/other-events"]
    assert {r.payload.get("tag") for r in app.of("conferenceMemberJoin")} == {"creator-tag"}


def test_a_creator_without_an_event_url_means_no_conference_events_at_all(room):
    bw, app = room({"/quiet": response(conference())})
    bw.inbound("/quiet")
    bw.inbound("/join")  # a later joiner's event URL is ignored
    assert event_types(app) == []


def test_a_name_used_again_after_completion_gets_a_new_id(room):
    bw, _ = room()
    call = bw.inbound("/join")
    first_id = bw.conference("room").id
    call.hangup()
    bw.inbound("/join")
    assert bw.conference("room").id != first_id


def test_the_last_member_leaving_completes_the_conference_and_one_leaving_does_not(room):
    bw, app = room()
    a, b = bw.inbound("/join"), bw.inbound("/join")
    a.hangup()
    assert bw.conference("room") is not None and "conferenceCompleted" not in event_types(app)
    b.hangup()
    assert bw.conference("room") is None and event_types(app)[-1] == "conferenceCompleted"


def test_twenty_members_at_most_the_21st_is_not_admitted_and_carries_on(room):
    bw, _ = room({"/join": response(conference(), say("the room is full"))})
    members = [bw.inbound("/join") for _ in range(20)]
    assert len(bw.conference("room").members) == 20 and all(m.heard == [] for m in members)
    late = bw.inbound("/join")
    assert late.heard == ["the room is full"] and len(bw.conference("room").members) == 20


def test_a_conference_lasts_24_hours_at_most_then_members_carry_on(room):
    bw, _ = room()
    call = bw.inbound("/join")
    bw.advance(24 * 3600 - 1)
    assert bw.conference("room") is not None and call.heard == []
    bw.advance(1)
    assert bw.conference("room") is None and call.heard == ["after"]


def test_replies_to_conference_events_are_queued_and_played_to_every_member_one_after_another(room):
    bw, app = room({"/events": lambda r: response(say(f"{r.event_type} one two"))
                    if r.event_type == "conferenceMemberJoin" else (204, "")})
    a = bw.inbound("/join")
    b = bw.inbound("/join")
    assert a.heard == ["conferenceMemberJoin one two"] * 2 and b.heard == ["conferenceMemberJoin one two"]
    plays = [e for e in bw.events if getattr(e, "conference_id", None) and e.kind == "heard"]
    assert plays[-1].time - plays[0].time >= 3 * 0.4  # never overlapping: the second waits for the first


def test_a_conference_reply_with_a_verb_outside_the_six_is_refused_whole(room):
    bw, _ = room({"/events": lambda r: response(say("hello"), "<Gather/>")
                  if r.event_type == "conferenceMemberJoin" else (204, "")})
    call = bw.inbound("/join")
    join = next(w for w in bw.webhooks if w.event_type == "conferenceMemberJoin")
    assert not join.accepted and "<Gather> is not allowed in a conference reply" in join.reason
    assert call.heard == [] and call.state == "active"


def test_conference_completed_takes_no_bxml(room):
    bw, _ = room({"/events": lambda r: response(say("ignored"))})
    a = bw.inbound("/join")
    a.hangup()
    completed = next(w for w in bw.webhooks if w.event_type == "conferenceCompleted")
    assert completed.accepted and completed.status == 200


def test_mute_is_heard_by_nobody_but_hears_everyone(room):
    bw, _ = room({"/muted": response(conference(mute="true"))})
    muted, other = bw.inbound("/muted"), bw.inbound("/join")
    conf = bw.conference("room")
    assert not conf.can_hear(other, muted) and conf.can_hear(muted, other)
    assert conf.member(muted)["mute"] is True


def test_hold_hears_nobody_and_is_heard_by_nobody_and_misses_conference_audio(room):
    bw, _ = room({"/held": response(conference(hold="true", conferenceEventUrl="/events")),
                  "/events": lambda r: response(say("welcome")) if r.event_type == "conferenceMemberJoin"
                  else (204, "")})
    held = bw.inbound("/held")
    other = bw.inbound("/join")
    conf = bw.conference("room")
    assert not conf.can_hear(other, held) and not conf.can_hear(held, other)
    assert held.heard == [] and other.heard == ["welcome"]


def test_the_coach_is_heard_only_by_the_calls_it_coaches_and_hears_the_room(room):
    bw, app = room()
    customer, agent = bw.inbound("/join"), bw.inbound("/join")
    app.routes["/coach"] = response(conference(callIdsToCoach=agent.id))
    coach = bw.inbound("/coach")
    conf = bw.conference("room")
    assert conf.coach == coach
    assert conf.can_hear(agent, coach) and not conf.can_hear(customer, coach)
    assert conf.can_hear(coach, customer) and conf.can_hear(coach, agent)  # an assumption: see docs/testing.md
    assert conf.can_hear(customer, agent) and conf.can_hear(agent, customer)


def test_coached_calls_may_join_after_the_coach_and_coaching_adds_nobody(room):
    bw, app = room()
    app.routes["/coach"] = response(conference(callIdsToCoach="c-later"))
    coach = bw.inbound("/coach")
    conf = bw.conference("room")
    assert [m.id for m in conf.members] == [coach.id]  # the coached call is not made a member
    later = bw.inbound("/join", call_id="c-later")
    assert conf.can_hear(later, coach)


def test_one_coach_at_a_time_a_second_joins_without_coaching(room):
    bw, app = room()
    app.routes["/coach"] = response(conference(callIdsToCoach="c-x"))
    first, second = bw.inbound("/coach"), bw.inbound("/coach")
    conf = bw.conference("room")
    assert conf.coach == first and conf.member(second)["callIdsToCoach"] is None
    first.hangup()
    assert bw.conference("room").coach is None
    third = bw.inbound("/coach")
    assert bw.conference("room").coach == third  # the coach left: a new one may join


def test_can_hear_is_false_across_conferences_and_for_oneself(room):
    bw, _ = room({"/other": response(conference("elsewhere"))})
    a, b = bw.inbound("/join"), bw.inbound("/other")
    conf = bw.conference("room")
    assert not conf.can_hear(a, b) and not conf.can_hear(a, a)


def test_a_conference_recording_is_delivered_when_it_stops(room):
    bw, app = room({"/events": lambda r: response("<StartRecording recordingAvailableUrl='/rec'/>")
                    if r.event_type == "conferenceCreated" else (204, ""), "/rec": (204, "")})
    a = bw.inbound("/join")
    bw.advance(10)
    a.hangup()
    available = app.of("conferenceRecordingAvailable")[0].payload
    assert available["channels"] == 1 and available["duration"] == "PT10S"
    assert available["conferenceId"].startswith("conf-")


def test_webhook_credentials_and_timeout_of_the_conference_are_the_creators(room):
    bw, app = room({"/join": response(conference(conferenceEventUrl="/events", username="u", password="p",
                                                 callbackTimeout="2"))})
    bw.faults.slow(3, event_type="conferenceMemberJoin")
    bw.inbound("/join")
    assert app.of("conferenceCreated")[0].headers["authorization"] == "Basic dTpw"
    join = next(w for w in bw.webhooks if w.event_type == "conferenceMemberJoin")
    assert "no answer within 2" in join.reason


def test_a_full_conference_of_twenty_with_join_and_exit_events(room):
    bw, app = room()
    calls = [bw.inbound("/join") for _ in range(20)]
    for call in calls:
        call.hangup()
    assert event_types(app).count("conferenceMemberJoin") == 20
    assert event_types(app).count("conferenceMemberExit") == 20 and event_types(app)[-1] == "conferenceCompleted"
