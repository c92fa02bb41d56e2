"""Rooms beyond the meeting room: roles, handlers branching on a role, exit tones, listeners, the coach's
monitor -> whisper -> barge, lock, kick the last joiner, leave, a hook moving a host, the store on Redis,
and the <Bxml> documents checked like every other. Driven through the emulator."""

from __future__ import annotations

import pytest
from sim_helpers import build

pytestmark = pytest.mark.e2e

APP = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n"
DESK = APP + '''
conference desk "desk" {
    role agent host
    role caller member
    role supervisor coach of agent
    end when host leaves
    tone exit "https://cdn.example.com/bye.wav" for caller
    key "1" monitor for supervisor
    key "2" whisper for supervisor
    key "3" barge for supervisor
    key "*5" lock for agent
    key "*3" kick last for agent
    key "*9" leave
    on member join {
        when role agent {
            say "The agent is here."
        }
    }
}

flow agent on initiate {
    join desk as agent
}

flow caller on initiate {
    say "Connecting."
    join desk as caller
    say "Goodbye."
}

flow supervisor on initiate {
    join desk as supervisor
}

flow listener on initiate {
    join desk as listener
}

flow full {
    say "Sorry, the desk is closed."
    hangup
}
'''


@pytest.fixture(scope="module")
def desk_out(tmp_path_factory):
    return build(tmp_path_factory.mktemp("desk"), {"desk.flow": DESK})


@pytest.fixture
def bw(desk_out, bandwidth):
    return bandwidth(desk_out)


def room(bw):
    return bw.conference("desk")


def test_a_handler_branches_on_the_members_role(bw):
    agent = bw.inbound("agent")
    caller = bw.inbound("caller")
    assert agent.heard == ["The agent is here."]  # the agent's join: its own branch
    assert "The agent is here." not in caller.heard[1:]  # the caller's join: the default (empty)


def test_without_a_lobby_callers_join_before_the_host(bw):
    caller = bw.inbound("caller")
    assert room(bw).members == [caller]


def test_exit_tones_play_for_their_role_only(bw):
    agent = bw.inbound("agent")
    caller = bw.inbound("caller")
    listener = bw.inbound("listener")
    caller.hangup()
    assert agent.heard[-1] == "https://cdn.example.com/bye.wav"
    listener.hangup()
    assert agent.heard.count("https://cdn.example.com/bye.wav") == 1


def test_a_listener_joins_muted(bw):
    agent = bw.inbound("agent")
    listener = bw.inbound("listener")
    assert room(bw).member(listener)["mute"] is True
    assert room(bw).can_hear(listener, agent) and not room(bw).can_hear(agent, listener)


def test_the_supervisor_monitors_then_whispers_then_barges(bw):
    agent = bw.inbound("agent")
    caller = bw.inbound("caller")
    supervisor = bw.inbound("supervisor")
    desk = room(bw)
    # monitor: hears both, heard by neither
    assert desk.can_hear(supervisor, agent) and desk.can_hear(supervisor, caller)
    assert not desk.can_hear(agent, supervisor) and not desk.can_hear(caller, supervisor)
    supervisor.press("2")  # whisper: the agent hears the supervisor, the caller does not
    assert desk.can_hear(agent, supervisor) and not desk.can_hear(caller, supervisor)
    supervisor.press("3")  # barge: everyone hears the supervisor
    assert desk.can_hear(agent, supervisor) and desk.can_hear(caller, supervisor)
    supervisor.press("1")  # monitor again
    assert not desk.can_hear(agent, supervisor) and not desk.can_hear(caller, supervisor)


def test_whispering_follows_an_agent_who_joins_later(bw):
    caller = bw.inbound("caller")
    supervisor = bw.inbound("supervisor")
    supervisor.press("2")
    agent = bw.inbound("agent")
    assert room(bw).can_hear(agent, supervisor) and not room(bw).can_hear(caller, supervisor)


def test_a_caller_cannot_use_the_supervisors_keys(bw):
    bw.inbound("agent")
    caller = bw.inbound("caller")
    caller.press("3")
    assert room(bw).member(caller)["callIdsToCoach"] is None and room(bw).coach is None


def test_the_agent_locks_the_desk_and_a_new_caller_is_turned_away(bw):
    agent = bw.inbound("agent")
    agent.press("*5")
    late = bw.inbound("caller")
    assert late not in room(bw).members and late.state == "completed"
    agent.press("*5")  # unlocked
    later = bw.inbound("caller")
    assert later in room(bw).members


def test_the_agent_kicks_the_last_caller_to_join(bw):
    agent = bw.inbound("agent")
    first, last = bw.inbound("caller"), bw.inbound("caller")
    agent.press("*3")
    assert last.state == "completed" and first.state == "active"
    assert set(room(bw).members) == {agent, first}


def test_a_caller_pressing_star_9_leaves(bw):
    agent = bw.inbound("agent")
    caller = bw.inbound("caller")
    caller.press("*9")
    assert caller.state == "completed" and room(bw).members == [agent]


def test_the_agent_leaving_ends_the_desk_and_callers_carry_on_after_their_join(bw):
    agent = bw.inbound("agent")
    caller = bw.inbound("caller")
    agent.hangup()
    assert caller.heard[-1] == "Goodbye." and caller.state == "completed"


# -- a hook moves the host out: the room does not end (conference-superset.md 2.3 race a) ----------------------

MOVE = APP + '''
conference standup "standup" {
    end when host leaves
    key "*1" mute for host
}

flow host on initiate {
    join standup as host
}

flow guest on initiate {
    join standup as member
    say "The meeting is over."
}

flow aside {
    say "One moment, back to the meeting."
    join standup as host
}
'''

MOVE_HOOKS = '''
async def on_dtmf(payload, context):
    if payload.digit == "9":
        rooms = context.state.values["rooms"]
        await rooms.move("standup", payload.call_id, "http://app/flows/aside")
'''


CONTROL_HOOKS = '''
def on_dtmf(payload, context):
    if payload.digit == "9":
        context.control.move(url="http://app/flows/aside", room="standup")
'''

# A key pressed in the room is a request about the room: the control API knows which without room=.
CONTROL_HOOKS_IN_THE_ROOM = CONTROL_HOOKS.replace(', room="standup"', "")


@pytest.mark.parametrize("hooks", [MOVE_HOOKS, CONTROL_HOOKS, CONTROL_HOOKS_IN_THE_ROOM],
                         ids=["rooms.move", "context.control.move", "context.control.move without room="])
def test_a_host_moved_by_the_app_does_not_end_the_room(tmp_path, bandwidth, hooks):
    bw = bandwidth(build(tmp_path, {"move.flow": MOVE}, hooks))
    host = bw.inbound("host")
    guest = bw.inbound("guest")
    host.press("9")  # the hook redirects the host out of the room and back
    assert "One moment, back to the meeting." in host.heard
    assert guest.state == "active" and "The meeting is over." not in guest.heard
    assert set(bw.conference("standup").members) == {host, guest}
    host.hangup()  # a real exit still ends it
    assert guest.heard[-1] == "The meeting is over."


# -- any host ------------------------------------------------------------------------------------------------

ANY = APP + '''
conference panel "panel" {
    end when any host leaves
}

flow chair on initiate {
    join panel as host
}

flow cochair on initiate {
    join panel as moderator
}

flow audience on initiate {
    join panel as listener
}
'''

LAST = ANY.replace("end when any host leaves", "end when host leaves")


@pytest.mark.parametrize("rule, ends", [(ANY, True), (LAST, False)])
def test_any_host_or_the_last_host(tmp_path, bandwidth, rule, ends):
    bw = bandwidth(build(tmp_path, {"panel.flow": rule}))
    chair, cochair = bw.inbound("chair"), bw.inbound("cochair")
    audience = bw.inbound("audience")
    chair.hangup()
    assert (audience.state == "completed") is ends
    if not ends:
        cochair.hangup()
        assert audience.state == "completed"


# -- <Bxml> documents are checked like every other ----------------------------------------------------------

def test_the_documents_put_to_calls_and_conferences_lint_clean(tmp_path):
    import json

    from flowc.bxml.lint_xml import lint_sources
    from sim_helpers import ROOT

    out = build(tmp_path, ROOT / "examples" / "meeting-room")
    manifest = json.loads((out / "manifest.json").read_text())
    put = [d for d in manifest["documents"] if d["context"].startswith("update-")]
    assert {d["context"] for d in put} == {"update-call", "update-conference"}  # the lobby's release, the warning
    for document in put:
        _, diagnostics = lint_sources({document["file"]: (out / document["file"]).read_bytes()}, document["context"])
        # (FC406, a note: what follows the join runs when the room ends, which is the point)
        found = [(d.code, d.message) for d in diagnostics if d.code != "FC406"]
        assert found == [], document["file"]


def test_a_release_document_with_a_verb_a_conference_refuses_would_be_reported(tmp_path):
    from flowc.bxml.lint_xml import lint_sources

    bad = b'<?xml version="1.0" encoding="UTF-8"?>\n<Bxml>\n<Hangup/>\n</Bxml>'
    _, diagnostics = lint_sources({"warning.xml": bad}, "update-conference")
    assert diagnostics and all(d.is_error for d in diagnostics)


# -- a room whose name is computed per call ------------------------------------------------------------------

CASES = APP + '''
conference case_room "case-{digits|digits}" {
    wait for host play "https://cdn.example.com/queue.mp3"
    role agent host
    end when host leaves
    key "*6" mute for member
}

flow customer on initiate {
    gather max 4 then customer_case {
        say "Your case number?"
    }
}

flow customer_case {
    join case_room as member
    say "The agent has left."
}

flow agent on initiate {
    gather max 4 then agent_case {
        say "Case number?"
    }
}

flow agent_case {
    join case_room as agent
}
'''


def test_a_room_named_per_call_keeps_its_lobby_release_and_keys(tmp_path, bandwidth):
    bw = bandwidth(build(tmp_path, {"cases.flow": CASES}), settle_seconds=3)  # the lobby loops: short runs
    customer = bw.inbound("customer")
    customer.press("1234")
    other = bw.inbound("customer")
    other.press("9999")  # another case: another room
    assert customer.heard[-1] == "https://cdn.example.com/queue.mp3" and bw.conference("case-1234") is None
    agent = bw.inbound("agent")
    agent.press("1234")
    room = bw.conference("case-1234")
    assert set(room.members) == {agent, customer} and bw.conference("case-9999") is None
    customer.press("*6")
    assert room.member(customer)["mute"] is True
    agent.hangup()
    assert customer.heard[-1] == "The agent has left." and other.state == "active"


# A hook run by a key pressed in a room named per call: the control API finds the room's conference itself.
MUTE_HOOKS = '''
def on_dtmf(payload, context):
    if payload.digit == "0":
        context.control.mute()
'''


def test_a_key_hook_controls_its_own_room_without_naming_it(tmp_path, bandwidth):
    bw = bandwidth(build(tmp_path, {"cases.flow": CASES}, MUTE_HOOKS), settle_seconds=3)
    customer = bw.inbound("customer")
    customer.press("1234")
    agent = bw.inbound("agent")
    agent.press("1234")
    room = bw.conference("case-1234")
    assert room.member(customer)["mute"] is False
    customer.press("0")  # (the member's keys reach the app: its join has a `start gather`)
    assert room.member(customer)["mute"] is True and room.member(agent)["mute"] is False
