"""flowc.sim scenarios: the main paths of every example project (examples/*), compiled and driven through
the `bandwidth` fixture, with hooks modules written for the test."""

from __future__ import annotations

import pytest
from sim_helpers import ROOT, SECRETS, build

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples"


def compiled(tmp_path, name: str, hooks: str | None = None):
    return build(tmp_path, EXAMPLES / name, hooks)


# -- seed ----------------------------------------------------------------------------------------------------

def test_seed_join_announces_then_joins_the_conference(tmp_path, bandwidth):
    bw = bandwidth(compiled(tmp_path, "seed"))
    call = bw.inbound("join")
    assert call.heard == ["You will be added to your conference now."]
    conf = bw.conference("my-conference-name")
    assert conf.members == [call] and conf.id.startswith("conf-") and call.state == "active"


def test_seed_coach_is_heard_only_by_the_two_calls_it_coaches(tmp_path, bandwidth):
    bw = bandwidth(compiled(tmp_path, "seed"))
    first = bw.inbound("join", call_id="c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d")
    coach = bw.inbound("coach")
    second = bw.inbound("join", call_id="c-2a913f94-6a486f3a-3cae-4034-bcc3-f0c9fa77ca2f")
    other = bw.inbound("join")
    conf = bw.conference("my-conference-name")
    assert coach.heard == ["Welcome. You are going to coach 2 calls, please wait."] and conf.coach == coach
    assert conf.can_hear(first, coach) and conf.can_hear(second, coach) and not conf.can_hear(other, coach)
    assert all(conf.can_hear(x, y) for x in (first, second, other) for y in (first, second, other) if x != y)
    assert len(conf.members) == 4


# -- ivr-menu ------------------------------------------------------------------------------------------------

IVR_HOOKS = '''
def balance_sentence(payload):
    return "Your balance is 42 dollars."

def payment_result(payload):
    return f"Card ending {payload.digits[-4:]} charged."
'''
MENU = "Thanks for calling Example Co. For billing, press 1. For sales, press 2. For the front desk, press 0."
BILLING = "Billing. To pay your balance by card, press 1. To hear your balance, press 2."


@pytest.fixture(autouse=True)
def callback_credentials(monkeypatch):
    """The examples' secrets, the application's callback credentials among them, as the app's environment."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def ivr(tmp_path, bandwidth):
    return bandwidth(compiled(tmp_path, "ivr-menu", IVR_HOOKS))


def test_ivr_menu_rings_answers_and_offers_the_menu(ivr):
    call = ivr.inbound("main")
    assert call.heard == [MENU] and call.tag == "ivr-main"
    assert ivr.now == pytest.approx(2 + len(MENU.split()) * 0.4 + 0.4)  # ringing, the words, the 400 ms break
    answered = next(e for e in ivr.events if getattr(e, "state", "") == "answered")
    assert answered.time == 2  # two seconds of ringing, unanswered


def test_ivr_billing_balance_then_back_to_the_menu(ivr):
    call = ivr.inbound("main")
    call.press("1")
    assert call.heard[-1] == BILLING
    call.press("2")
    assert call.heard[-2:] == ["Your balance is 42 dollars.", MENU]


def test_ivr_card_payment_pauses_the_recording_while_the_card_is_typed(ivr):
    call = ivr.inbound("main")
    call.press("1")
    call.press("1")
    assert call.heard[-1] == "Please enter your card number, followed by the pound key."
    call.press("4111111111111111#")
    assert call.heard[-2:] == ["Card ending 1111 charged.", "Thank you for calling Example Co. Goodbye."]
    assert call.state == "completed"
    states = [e.state for e in ivr.events if e.kind == "state" and e.subject == call.id]
    assert states.index("recording paused") < states.index("recording", states.index("recording paused"))
    available = next(w for w in ivr.webhooks if w.event_type == "recordingAvailable")
    assert available.accepted and available.payload["channels"] == 2  # multichannel


def test_ivr_sales_is_forwarded(ivr):
    call = ivr.inbound("main")
    call.press("2")
    assert call.heard[-1] == "Please hold while we forward you to our sales office."
    assert "forwarded to +15557654321" in call.waiting


@pytest.mark.parametrize(("desk", "heard"), [
    ("answer", "Connecting you to the front desk."),
    ("busy", "The front desk cannot take your call right now. Please call again during office hours."),
])
def test_ivr_front_desk_refer_success_and_failure(ivr, desk, heard):
    ivr.callees["sip:frontdesk@pbx.example.com"] = desk
    call = ivr.inbound("main")
    call.press("0")
    assert call.heard[-1] == heard and call.state == "completed"


def test_ivr_wrong_key_leads_back_to_the_menu(ivr):
    call = ivr.inbound("main")
    call.press("9")
    assert call.heard[-2:] == ["Sorry, that is not one of the options.", MENU]


def test_ivr_silence_repeats_the_menu_then_apologises(ivr):
    silent = ivr.inbound("main")
    ivr.advance(6)
    assert silent.heard == [MENU, MENU]  # repeat 2: the prompt again (8 s), then 6 s more
    ivr.advance(14)
    assert silent.heard[2] == "Sorry, that is not one of the options."


# -- support-line --------------------------------------------------------------------------------------------
# The call centre has its own file: tests/test_call_centre.py.


# -- transfer-announce ---------------------------------------------------------------------------------------

TRANSFER_HOOKS = '''
import os

def waiting_call_id(payload):
    return os.environ["TEST_WAITING_CALL_ID"]
'''


@pytest.fixture
def sales(tmp_path, bandwidth):
    return bandwidth(compiled(tmp_path, "transfer-announce", TRANSFER_HOOKS))


def test_sales_transfer_screened_and_accepted_then_the_callee_hangs_up(sales):
    caller = sales.inbound("inbound")
    assert caller.heard == ["Thanks for calling Example Co sales. Please hold while we connect you."]
    callee = next(c for c in sales.calls if c.to == "+15553334444")
    assert callee.heard[0].startswith("Sales call from")
    callee.press("1")
    assert callee.heard[-1] == "Connecting you now."
    assert caller.state == callee.state == "active"
    callee.hangup()
    complete = next(w for w in sales.webhooks if w.event_type == "transferComplete")
    assert complete.accepted and caller.state == "completed"
    disconnect = next(w for w in sales.webhooks if w.event_type == "transferDisconnect")
    assert disconnect.url.endswith("/hooks/transfer/disconnect")


def test_sales_nobody_answers_and_the_caller_waits_in_the_hold_loop(sales):
    sales.callees["+15553334444"] = "busy"
    sales.callees["sip:sales-desk@pbx.example.com"] = "busy"
    caller = sales.inbound("inbound")
    assert caller.heard[1] == "All of our sales people are busy. Please stay on the line for the next free agent."
    assert caller.heard[2:] == ["https://cdn.example.com/music/hold-loop.mp3"] * (len(caller.heard) - 2)
    assert caller.state == "active"  # the music loops: the run stopped after its stretch of virtual time


def test_sales_after_hours_goes_to_the_answering_service_which_gets_the_extension(sales):
    caller = sales.inbound("after_hours")
    service = next(c for c in sales.calls if c.to == "+15559876543")
    notes = [e.text for e in sales.events if e.kind == "note" and e.subject == service.id]
    assert "sends the tones 4402#" in notes and caller.state == "active"


def test_sales_agent_pickup_bridges_the_waiting_caller(sales, monkeypatch):
    import httpx

    waiting = sales.inbound("after_hours")
    monkeypatch.setenv("TEST_WAITING_CALL_ID", waiting.id)
    created = httpx.post(f"{sales.api_url}/accounts/{sales.account_id}/calls",
                         json={"from": "+15551230000", "to": "+15554445555", "applicationId": "a",
                               "answerUrl": "http://app/flows/agent_pickup"}).json()
    agent = sales.call(created["callId"])
    assert agent.heard == ["Connecting you to a waiting sales caller."]
    waiting.hangup()
    assert agent.heard[-1] == "The caller has left. Goodbye." and agent.state == "completed"


# -- voicemail -----------------------------------------------------------------------------------------------

VOICEMAIL_HOOKS = '''
def caller_number(payload):
    return "+15550001234"

def latest_message_url(payload):
    return "https://media.example.com/messages/1.mp3"
'''


@pytest.fixture
def voicemail(tmp_path, bandwidth, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return bandwidth(compiled(tmp_path, "voicemail", VOICEMAIL_HOOKS))


def test_voicemail_records_and_keeps_the_message(voicemail):
    call = voicemail.inbound("voicemail")
    assert call.heard[-1] == "https://cdn.example.com/voicemail/beep.wav" and "recording" in call.waiting
    voicemail.advance(5)
    call.press("#")
    assert call.heard[-1] == "To keep your message, press 1. To record it again, press 2."
    call.press("1")
    assert call.heard[-1] == "Thank you. Your message has been saved. Goodbye." and call.state == "completed"
    for event in ("recordingAvailable", "transcriptionAvailable"):
        delivery = next(w for w in voicemail.webhooks if w.event_type == event)
        assert delivery.accepted, (event, delivery.status)  # Basic auth from the document, checked by the app


def test_voicemail_record_again(voicemail):
    call = voicemail.inbound("voicemail")
    call.press("#")
    call.press("2")
    assert call.heard[-3] == "Let's try that again." and "recording" in call.waiting


def test_voicemail_silence_ends_the_recording(voicemail):
    call = voicemail.inbound("voicemail")
    voicemail.advance(6)  # silence 6s
    assert call.heard[-1].startswith("To keep your message")


def test_mailbox_plays_the_newest_message(voicemail):
    call = voicemail.inbound("mailbox")
    assert call.heard == ["You have a new message from +15550001234 received today.",
                          "https://media.example.com/messages/1.mp3", "End of messages."]
    assert call.state == "completed"


# -- stream-transcribe ---------------------------------------------------------------------------------------

STREAM_HOOKS = '''
def account_id(payload):
    return "acct-7"

def agent_endpoint_id(payload):
    return "e-1234"
'''


@pytest.fixture
def assistant(tmp_path, bandwidth):
    return bandwidth(compiled(tmp_path, "stream-transcribe", STREAM_HOOKS))


def test_assistant_starts_streams_and_says_goodbye_after_half_an_hour(assistant):
    call = assistant.inbound("assistant")
    started = {w.event_type: w for w in assistant.webhooks}
    assert started["mediaStreamStarted"].accepted and started["realTimeTranscriptionStarted"].accepted
    assistant.advance(30 * 60)
    assert call.heard[-1] == "Thanks for calling. Goodbye." and call.state == "completed"
    assert any(w.event_type == "mediaStreamStopped" and w.accepted for w in assistant.webhooks)


def test_assistant_handoff_when_the_app_redirects_the_call(assistant):
    import httpx

    call = assistant.inbound("assistant")
    call.press("0")
    assert any(w.event_type == "dtmf" and w.accepted for w in assistant.webhooks)
    answer = httpx.post(f"{assistant.api_url}/accounts/{assistant.account_id}/calls/{call.id}",
                        json={"redirectUrl": "http://app/flows/handoff"})
    assert answer.status_code == 200
    assert call.heard[-1] == "Connecting you to a member of our team." and "endpoint" in call.waiting
