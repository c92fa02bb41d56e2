"""flowc.sim, calls: every modelled behaviour of a call, each both ways where it has two.

Most tests script the app's replies (sim_helpers.ScriptedApp, in-process); the examples are in
test_sim_examples.py, conferences in test_sim_conference.py, the REST API in test_sim_rest.py.
"""

from __future__ import annotations

import re

import pytest
from flowc.bxml.webhooks import model_for
from flowc.sim import Bandwidth
from sim_helpers import ScriptedApp, build, response, say

# Keeps a call open without the clock running on: a forwarded call only ends when someone hangs up.
WAIT = "<Forward to='+15550009999'/>"
CALL_ID = re.compile(r"^c-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}[0-9a-f]{8}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def scripted(request):
    """emulator(routes, **options) -> (Bandwidth, ScriptedApp) in front of a scripted in-process app."""
    started = []

    def start(routes, **options):
        app = ScriptedApp(routes)
        emulator = Bandwidth(app=app, rest=options.pop("rest", False), **options)
        started.append(emulator)
        return emulator, app

    yield start
    for emulator in started:
        emulator.close()


# -- media and time ------------------------------------------------------------------------------------------

def test_speech_is_heard_as_text_with_ssml_reduced_and_takes_time_per_word(scripted):
    bw, _ = scripted({"/start": response('<SpeakSentence>Hello <emphasis>there</emphasis>,<break time="1s"/>'
                                         'friend.</SpeakSentence>', "<Pause duration='10'/>")})
    call = bw.inbound("/start")
    assert call.heard == ["Hello there , friend."]
    assert bw.now == pytest.approx(4 * 0.4 + 1 + 10)  # the pause passes by itself ...
    assert call.state == "completed" and call.cause == "hangup"  # ... and the document ends: a hang-up


def test_settable_speech_rate_and_audio_lengths(scripted):
    bw, _ = scripted({"/start": response(say("one two"), "<PlayAudio>https://a.example/x.mp3</PlayAudio>",
                                         "<PlayAudio>https://a.example/y.mp3</PlayAudio>", WAIT)},
                     seconds_per_word=1.0, audio_lengths={"https://a.example/x.mp3": 3}, audio_seconds=7)
    call = bw.inbound("/start")
    assert call.heard == ["one two", "https://a.example/x.mp3", "https://a.example/y.mp3"]
    assert bw.now == pytest.approx(2 + 3 + 7)


def test_pause_and_ring_take_their_time(scripted):
    bw, _ = scripted({"/start": response("<Ring duration='3'/>", "<Pause duration='2'/>", say("done"), WAIT)})
    call = bw.inbound("/start")
    assert call.heard == ["done"] and bw.now == pytest.approx(5.4)


def test_ring_with_answer_call_false_keeps_the_call_unanswered(scripted):
    bw, _ = scripted({"/start": response("<Ring duration='3' answerCall='false'/>", say("now"), WAIT)})
    bw.inbound("/start")
    answered = [e for e in bw.events if getattr(e, "state", "") == "answered"]
    assert answered[0].time == 3


def test_quiescence_stops_looping_audio_after_the_settable_stretch(scripted):
    bw, app = scripted({"/loop": response("<PlayAudio>https://a.example/music.mp3</PlayAudio>",
                                          "<Redirect redirectUrl='/loop'/>")}, settle_seconds=12)
    call = bw.inbound("/loop")
    assert bw.now == 12 and call.state == "active"
    assert call.heard.count("https://a.example/music.mp3") == 3  # at 0, 5 and 10 s
    bw.advance(10)
    assert bw.now == 22 and call.heard.count("https://a.example/music.mp3") == 5


def test_quiescence_returns_when_the_call_waits_for_digits_without_running_the_timeout(scripted):
    bw, app = scripted({"/start": response("<Gather gatherUrl='/g' firstDigitTimeout='8'>" + say("press")
                                           + "</Gather>"), "/g": response(say("got it"))})
    bw.inbound("/start")
    assert bw.now == pytest.approx(0.4) and not app.of("gather")
    bw.advance(8)
    assert app.of("gather")[0].payload["digits"] == ""


# -- Gather --------------------------------------------------------------------------------------------------

def gather_app(scripted, attributes: str, prompt: str = "Enter it."):
    return scripted({"/start": response(f"<Gather gatherUrl='/g' {attributes}>{say(prompt)}</Gather>",
                                        say("after gather")),
                     "/g": response(say("thanks"), WAIT)})


def test_gather_ends_at_max_digits(scripted):
    bw, app = gather_app(scripted, "maxDigits='3'")
    call = bw.inbound("/start")
    call.press("12")
    assert not app.of("gather")
    call.press("3")
    assert app.of("gather")[0].payload["digits"] == "123"
    assert call.heard == ["Enter it.", "thanks"]  # a verb after a Gather with gatherUrl never runs


def test_gather_ends_at_a_terminating_digit_which_is_reported_not_collected(scripted):
    bw, app = gather_app(scripted, "maxDigits='10' terminatingDigits='#'")
    call = bw.inbound("/start")
    call.press("42#")
    payload = app.of("gather")[0].payload
    assert payload["digits"] == "42" and payload["terminatingDigit"] == "#"


def test_gather_inter_digit_timeout_ends_collection(scripted):
    bw, app = gather_app(scripted, "maxDigits='10' interDigitTimeout='3'")
    call = bw.inbound("/start")
    call.press("7")
    bw.advance(2.9)
    assert not app.of("gather")
    bw.advance(0.2)
    assert app.of("gather")[0].payload["digits"] == "7"


def test_gather_repeat_count_replays_the_prompts_and_one_plays_them_once(scripted):
    bw, app = gather_app(scripted, "repeatCount='3' firstDigitTimeout='2'")
    call = bw.inbound("/start")
    bw.advance(20)
    assert call.heard[:3] == ["Enter it."] * 3 and app.of("gather")[0].payload["digits"] == ""
    bw2, app2 = gather_app(scripted, "firstDigitTimeout='2'")
    call2 = bw2.inbound("/start")
    bw2.advance(20)
    assert call2.heard[:2] == ["Enter it.", "thanks"]


def test_a_digit_during_the_prompt_stops_it(scripted):
    bw, app = gather_app(scripted, "maxDigits='1'", prompt=" ".join(["word"] * 200))
    call = bw.inbound("/start")  # the prompt is 80 s long: the run stops after 30 s, mid-prompt
    assert bw.now == 30
    call.press("5")
    assert app.of("gather")[0].payload["digits"] == "5" and call.heard[-1] == "thanks"


def test_gather_without_url_discards_digits_and_continues(scripted):
    bw, app = scripted({"/start": response(f"<Gather maxDigits='1'>{say('press')}</Gather>", say("next"), WAIT)})
    call = bw.inbound("/start")
    call.press("1")
    assert call.heard == ["press", "next"] and not app.of("gather")


def test_a_digit_nothing_collects_is_discarded_and_noted(scripted):
    bw, _ = scripted({"/start": response(WAIT)})
    call = bw.inbound("/start")
    call.press("9")
    assert any("discarded" in getattr(e, "text", "") for e in bw.events)


# -- control flow --------------------------------------------------------------------------------------------

def test_redirect_hands_the_call_to_the_reply_and_later_verbs_never_run(scripted):
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/next'/>", say("never")),
                        "/next": response(say("next document"))})
    call = bw.inbound("/start")
    assert call.heard == ["next document"] and app.of("redirect")
    assert call.state == "completed"  # the next document ran out of verbs: hang-up


def test_hangup_ends_the_call_and_the_verbs_after_it_never_run(scripted):
    bw, _ = scripted({"/start": response(say("bye"), "<Hangup/>", say("never"))})
    call = bw.inbound("/start")
    assert call.heard == ["bye"] and call.state == "completed" and call.cause == "hangup"


def test_an_empty_response_is_a_hang_up(scripted):
    bw, _ = scripted({"/start": response()})
    assert bw.inbound("/start").state == "completed"


def test_the_caller_hanging_up_ends_the_call_and_sends_disconnect(scripted):
    bw, app = scripted({"/start": response(WAIT), "/status": (204, "")},
                       manifest={"routes": [{"path": "/status", "events": ["disconnect"]}]})
    call = bw.inbound("/start")
    assert call.state == "active"
    call.hangup()
    assert call.state == "completed" and app.of("disconnect")[0].payload["cause"] == "hangup"


def test_tag_is_sent_with_later_webhooks_and_an_empty_tag_clears_it(scripted):
    bw, app = scripted({"/start": response("<Tag>first</Tag>", "<Redirect redirectUrl='/a'/>"),
                        "/a": response("<Tag></Tag>", "<Redirect redirectUrl='/b'/>"), "/b": response()})
    bw.inbound("/start")
    first, second = app.of("redirect")
    assert first.payload["tag"] == "first" and "tag" not in second.payload


def test_send_dtmf_takes_the_tone_time(scripted):
    bw, _ = scripted({"/start": response("<SendDtmf toneDuration='100' toneInterval='100'>1234</SendDtmf>", WAIT)})
    bw.inbound("/start")
    assert bw.now == pytest.approx(0.8)


# -- recordings ----------------------------------------------------------------------------------------------

def test_record_ends_on_a_terminating_digit_and_sends_record_complete_and_recording_available(scripted):
    bw, app = scripted({"/start": response("<Record recordCompleteUrl='/done' recordingAvailableUrl='/rec' "
                                           "maxDuration='60'/>", say("never")),
                        "/done": response(say("saved")), "/rec": (204, "")})
    call = bw.inbound("/start")
    bw.advance(4)
    call.press("#")
    complete, available = app.of("recordComplete")[0].payload, app.of("recordingAvailable")[0].payload
    assert complete["duration"] == "PT4S" and complete["recordingId"].startswith("r-")
    assert available["recordingId"] == complete["recordingId"] and available["status"] == "complete"
    assert call.heard == ["saved"]


def test_record_stops_at_max_duration_and_without_url_continues(scripted):
    bw, app = scripted({"/start": response("<Record maxDuration='5' transcribe='true' "
                                           "transcriptionAvailableUrl='/tr'/>", say("next"), WAIT),
                        "/tr": (204, "")})
    call = bw.inbound("/start")
    assert call.heard == []
    bw.advance(5)
    assert call.heard == ["next"] and app.of("transcriptionAvailable")[0].payload["transcription"]["text"]


def test_start_pause_resume_stop_recording_counts_only_the_recorded_time(scripted):
    bw, app = scripted({"/start": response("<StartRecording recordingAvailableUrl='/rec'/>", "<Pause duration='3'/>",
                                           "<PauseRecording/>", "<Pause duration='10'/>", "<ResumeRecording/>",
                                           "<Pause duration='2'/>", "<StopRecording/>", WAIT),
                        "/rec": (204, "")})
    bw.inbound("/start")
    assert app.of("recordingAvailable")[0].payload["duration"] == "PT5S"


def test_a_recording_still_running_at_hang_up_is_delivered(scripted):
    bw, app = scripted({"/start": response("<StartRecording recordingAvailableUrl='/rec'/>",
                                           "<Pause duration='4'/>"), "/rec": (204, "")})
    bw.inbound("/start")
    assert app.of("recordingAvailable")[0].payload["duration"] == "PT4S"


# -- StartGather, streams, transcription ---------------------------------------------------------------------

def test_start_gather_sends_a_dtmf_event_per_digit_until_stop_gather(scripted):
    bw, app = scripted({"/start": response("<StartGather dtmfUrl='/keys'/>", "<Pause duration='10'/>",
                                           "<StopGather/>", WAIT), "/keys": (204, "")})
    call = bw.inbound("/start")
    call.press("1")
    assert not app.of("dtmf")
    bw2, app2 = scripted({"/start": response("<StartGather dtmfUrl='/keys'/>", WAIT),
                          "/keys": (204, "")})
    call2 = bw2.inbound("/start")
    call2.press("19")
    assert [r.payload["digit"] for r in app2.of("dtmf")] == ["1", "9"]


def test_streams_and_transcriptions_send_their_events(scripted):
    bw, app = scripted({"/start": response("<StartStream name='s' destination='wss://x.example' "
                                           "streamEventUrl='/stream'/>",
                                           "<StartTranscription name='t' transcriptionEventUrl='/tr'/>",
                                           "<Pause duration='1'/>", "<StopStream name='s'/>"),
                        "/stream": (204, ""), "/tr": (204, "")})
    bw.inbound("/start")
    assert [r.event_type for r in app.of("mediaStreamStarted") + app.of("mediaStreamStopped")] == \
        ["mediaStreamStarted", "mediaStreamStopped"]
    assert app.of("realTimeTranscriptionStarted") and app.of("realTimeTranscriptionStopped")  # at hang-up


# -- transfers, bridges, forward, refer ----------------------------------------------------------------------

TRANSFER = response("<Transfer transferCompleteUrl='/complete' callTimeout='20'>"
                    "<PhoneNumber transferAnswerUrl='/answer' transferDisconnectUrl='/gone'>"
                    "+15550001111</PhoneNumber>"
                    "</Transfer>", say("never"))


def transfer_app(scripted):
    return scripted({"/start": TRANSFER, "/answer": response(say("whisper to the callee")),
                     "/complete": response(say("transfer over")), "/gone": (204, "")})


def test_transfer_answered_runs_transfer_answer_on_the_callee_leg_then_bridges(scripted):
    bw, app = transfer_app(scripted)
    caller = bw.inbound("/start")
    callee = next(c for c in bw.calls if c.id != caller.id)
    assert callee.heard == ["whisper to the callee"] and caller.heard == []
    answer = app.of("transferAnswer")[0].payload
    assert answer["parentCallId"] == caller.id and answer["callId"] == callee.id
    assert callee.state == "active" and caller.state == "active"  # bridged
    callee.hangup()
    assert app.of("transferComplete")[0].payload["cause"] == "hangup"
    assert app.of("transferDisconnect")[0].payload["callId"] == callee.id
    assert caller.heard == ["transfer over"]


def test_transfer_to_a_busy_callee_completes_with_busy(scripted):
    bw, app = transfer_app(scripted)
    bw.callees["+15550001111"] = "busy"
    caller = bw.inbound("/start")
    assert app.of("transferComplete")[0].payload["cause"] == "busy" and not app.of("transferAnswer")
    assert caller.heard == ["transfer over"]


def test_transfer_nobody_answers_completes_with_timeout_after_call_timeout(scripted):
    bw, app = transfer_app(scripted)
    bw.callees["+15550001111"] = "no-answer"
    bw.inbound("/start")
    assert not app.of("transferComplete")
    bw.advance(20)
    assert app.of("transferComplete")[0].payload["cause"] == "timeout"


def test_the_caller_hanging_up_ends_the_callee_leg(scripted):
    bw, app = transfer_app(scripted)
    caller = bw.inbound("/start")
    callee = next(c for c in bw.calls if c.id != caller.id)
    caller.hangup()
    assert callee.state == "completed" and not app.of("transferComplete")


def test_transfer_answer_reply_may_not_transfer_again(scripted):
    bw, app = scripted({"/start": TRANSFER, "/answer": response("<Forward to='+15550002222'/>"),
                        "/complete": response(say("transfer over")), "/gone": (204, "")})
    bw.inbound("/start")
    refused = next(w for w in bw.webhooks if w.event_type == "transferAnswer")
    assert not refused.accepted and "not allowed in a transfer answer reply" in refused.reason


def test_bridge_connects_two_calls_and_bridge_complete_follows_the_target_leaving(scripted):
    bw, app = scripted({"/wait": response(WAIT), "/done": response(say("bridge over")),
                        "/target-done": response(say("the other side left"))})
    target = bw.inbound("/wait")
    app.routes["/bridge"] = response(f"<Bridge bridgeCompleteUrl='/done' bridgeTargetCompleteUrl='/target-done'>"
                                     f"{target.id}</Bridge>")
    caller = bw.inbound("/bridge")
    assert target.waiting.startswith("bridged") and caller.waiting.startswith("bridged")
    target.hangup()
    assert caller.heard == ["bridge over"] and app.of("bridgeComplete")
    caller2 = bw.inbound("/wait")
    app.routes["/bridge2"] = response(f"<Bridge bridgeTargetCompleteUrl='/target-done'>{caller2.id}</Bridge>")
    a_leg = bw.inbound("/bridge2")
    a_leg.hangup()
    assert caller2.heard == ["the other side left"]


def test_forward_keeps_the_call_active_until_hang_up(scripted):
    bw, _ = scripted({"/start": response(WAIT, say("never"))})
    call = bw.inbound("/start")
    assert call.state == "active" and call.heard == [] and "forwarded" in call.waiting


@pytest.mark.parametrize("outcome", ["answer", "busy"])
def test_refer_success_ends_the_call_and_failure_runs_the_reply(scripted, outcome):
    bw, app = scripted({"/start": response("<Refer referCompleteUrl='/refer'><SipUri>sip:desk@pbx.example.com"
                                           "</SipUri></Refer>"), "/refer": response(say("refer failed"))})
    bw.callees["sip:desk@pbx.example.com"] = outcome
    call = bw.inbound("/start")
    status = app.of("referComplete")[0].payload["referCallStatus"]
    if outcome == "answer":
        assert status == "success" and call.state == "completed" and call.heard == []
    else:
        assert status == "failure" and call.heard == ["refer failed"]


# -- strictness ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "reason"), [
    ("this is not xml", "not XML"),
    ("<Response><Dance/></Response>", "<Dance> is not a BXML verb"),
    ("<Bxml><Hangup/></Bxml>", "not <Response>"),
    ("<Response>" + say("x" * 70_000) + "</Response>", "at most 65536"),
    ("<Response><SpeakSentence voice='nobody'>hi</SpeakSentence></Response>", "FC202"),
])
def test_replies_bandwidth_would_refuse_are_refused_with_the_reason(scripted, reply, reason):
    bw, _ = scripted({"/start": reply})
    call = bw.inbound("/start")
    webhook = bw.webhooks[0]
    assert not webhook.accepted and reason in webhook.reason
    assert call.state == "completed" and call.cause == "invalid-bxml"


def test_a_valid_reply_is_accepted_and_the_checker_can_be_turned_off(scripted):
    bw, _ = scripted({"/start": response(say("fine"))})
    bw.inbound("/start")
    assert bw.webhooks[0].accepted and bw.webhooks[0].reason == ""
    lax, _ = scripted({"/start": "<Response><SpeakSentence voice='nobody'>hi</SpeakSentence></Response>"},
                      strict=False)
    assert lax.inbound("/start").heard == ["hi"]


def test_run_time_values_from_a_hook_are_checked(tmp_path):
    out = build(tmp_path, {"main.flow": 'flow main on initiate {\n    say hook(greeting) voice julie\n}\n'},
                hooks="def greeting(payload):\n    return 'x' * 70000\n")
    with Bandwidth(out, rest=False) as bw:
        call = bw.inbound("main")
    assert call.cause == "invalid-bxml" and "at most 65536" in bw.webhooks[0].reason


# -- webhooks ------------------------------------------------------------------------------------------------

def test_payloads_carry_every_documented_field_with_bandwidth_shaped_ids_and_times(scripted):
    from flowc.sim.payloads import CONDITIONAL

    bw, app = scripted({"/start": response("<Gather gatherUrl='/g' maxDigits='1'/>"), "/g": response(),
                        "/status": (204, "")}, manifest={"routes": [{"path": "/status", "events": ["disconnect"]}]})
    call = bw.inbound("/start")
    call.press("1")
    for request in app.requests:
        payload = request.payload
        documented = [f.alias or n for n, f in model_for(payload["eventType"]).model_fields.items()]
        missing = [f for f in documented if f not in payload and f not in CONDITIONAL]
        assert not missing, (payload["eventType"], missing)
        model_for(payload["eventType"]).model_validate(payload)
        assert CALL_ID.match(payload["callId"]) and ISO.match(payload["eventTime"])
    assert app.of("gather")[0].payload["eventTime"] != app.of("initiate")[0].payload["eventTime"] or bw.now == 0


def test_ids_are_reproducible_from_the_seed(scripted):
    first, _ = scripted({"/start": response()}, seed=7)
    second, _ = scripted({"/start": response()}, seed=7)
    third, _ = scripted({"/start": response()}, seed=8)
    ids = [bw.inbound("/start").id for bw in (first, second, third)]
    assert ids[0] == ids[1] != ids[2]


def test_a_get_webhook_sends_the_fields_as_query_parameters(scripted):
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/next' redirectMethod='GET'/>"),
                        "/next": response()})
    bw.inbound("/start")
    request = app.of("redirect")[0]
    assert request.method == "GET" and request.payload["callId"]


def test_basic_auth_from_the_document_and_none_without(scripted):
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/a' username='u' password='p'/>"),
                        "/a": response("<Redirect redirectUrl='/b'/>"), "/b": response()})
    bw.inbound("/start")
    with_auth, without = app.of("redirect")
    assert with_auth.headers["authorization"] == "Basic dTpw" and "authorization" not in without.headers


def test_a_webhook_whose_verb_sets_no_credentials_carries_the_applications(scripted):
    # as flowc's compiler assumes when it protects the routes such webhooks reach (<Refer> cannot set any)
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/a' username='u' password='p'/>"),
                        "/a": response("<Redirect redirectUrl='/b'/>"), "/b": response()},
                       callback_credentials=("x", "y"))
    bw.inbound("/start")
    own, application = app.of("redirect")
    assert own.headers["authorization"] == "Basic dTpw" and application.headers["authorization"] == "Basic eDp5"


def test_the_applications_callback_credentials_come_from_the_environment_named_in_the_manifest(scripted, monkeypatch):
    monkeypatch.setenv("APP_USER", "bw")
    monkeypatch.setenv("APP_PASS", "secret")
    manifest = {"application": {"auth": {"username_env": "APP_USER", "password_env": "APP_PASS"}},
                "routes": [{"path": "/start", "flow": "main", "events": ["initiate"]}]}
    bw, app = scripted({"/start": response()}, manifest=manifest)
    bw.inbound("main")
    assert app.requests[0].headers["authorization"] == "Basic Ync6c2VjcmV0"
    monkeypatch.delenv("APP_PASS")
    bw2, app2 = scripted({"/start": response()}, manifest=manifest)  # a variable not set: no credentials
    bw2.inbound("main")
    assert "authorization" not in app2.requests[0].headers


def test_route_credentials_win_and_explicit_ones_win_over_both(scripted, monkeypatch):
    monkeypatch.setenv("R_USER", "route")
    monkeypatch.setenv("R_PASS", "pw")
    manifest = {"routes": [{"path": "/start", "flow": "main", "events": ["initiate"],
                            "auth": {"username_env": "R_USER", "password_env": "R_PASS"}}]}
    bw, app = scripted({"/start": response()}, manifest=manifest)
    bw.inbound("main")
    assert app.requests[0].headers["authorization"] == "Basic cm91dGU6cHc="
    bw2, app2 = scripted({"/start": response()}, manifest=manifest, callback_credentials=("x", "y"))
    bw2.inbound("main")
    assert app2.requests[0].headers["authorization"] == "Basic eDp5"


def test_a_failing_webhook_tries_the_fallback_url(scripted):
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/broken' redirectFallbackUrl='http://app/backup'/>"),
                        "/broken": (500, "oops"), "/backup": response(say("from the fallback"))})
    call = bw.inbound("/start")
    first, second = [w for w in bw.webhooks if w.event_type == "redirect"]
    assert first.status == 500 and not first.accepted and second.fallback and second.accepted
    assert call.heard == ["from the fallback"]


def test_a_fallback_on_another_host_is_never_sent_and_one_on_loopback_is(scripted):
    # Flows name real hosts (support-line's fallback); the emulator must not reach past this machine.
    bw, _ = scripted({"/start": response("<Redirect redirectUrl='/broken' "
                                         "redirectFallbackUrl='https://backup.example.com/x'/>"),
                      "/broken": (500, "oops")})
    call = bw.inbound("/start")
    fallback = [w for w in bw.webhooks if w.fallback]
    assert call.cause == "callback-error" and len(fallback) == 1
    assert fallback[0].status is None and "not this machine" in fallback[0].reason
    from flowc.sim.transport import is_loopback
    assert is_loopback("http://127.0.0.2:9/x") and is_loopback("http://[::1]/") and is_loopback("http://localhost/")
    assert not is_loopback("https://backup.example.com/x") and not is_loopback("http://10.0.0.1/")


def test_a_failing_webhook_without_fallback_ends_the_call_with_callback_error(scripted):
    bw, _ = scripted({"/start": response("<Redirect redirectUrl='/broken'/>"), "/broken": (500, "")})
    assert bw.inbound("/start").cause == "callback-error"


def test_callback_timeout_a_slow_answer_counts_as_none_and_a_quick_one_is_used(scripted):
    bw, app = scripted({"/start": response("<Redirect redirectUrl='/slow' redirectFallbackUrl='http://app/backup'/>"),
                        "/slow": response(say("too late")), "/backup": response(say("backup"))})
    bw.faults.slow(16, url="/slow")  # the call's callbackTimeout is 15 s
    call = bw.inbound("/start")
    assert call.heard == ["backup"] and "no answer within 15" in bw.webhooks[1].reason
    bw2, _ = scripted({"/start": response("<Redirect redirectUrl='/slow'/>"), "/slow": response(say("in time"))})
    bw2.faults.slow(14, url="/slow")
    assert bw2.inbound("/start").heard == ["in time"] and bw2.now >= 14


def test_faults_fail_once_then_deliver(scripted):
    bw, _ = scripted({"/start": response("<Redirect redirectUrl='/next' redirectFallbackUrl='http://app/next'/>"),
                      "/next": response(say("ok"))})
    bw.faults.fail(503, event_type="redirect", times=1)
    call = bw.inbound("/start")
    assert call.heard == ["ok"] and [w.status for w in bw.webhooks if w.event_type == "redirect"] == [503, 200]


def test_faults_duplicate_asynchronous_events(scripted):
    bw, app = scripted({"/start": response("<StartGather dtmfUrl='/keys'/>", WAIT),
                        "/keys": (204, "")})
    bw.faults.duplicate("dtmf")
    bw.inbound("/start").press("5")
    assert [r.payload["digit"] for r in app.of("dtmf")] == ["5", "5"]


def test_faults_reorder_asynchronous_events(scripted):
    bw, app = scripted({"/start": response("<StartGather dtmfUrl='/keys'/>", WAIT),
                        "/keys": (204, "")}, seed=3)
    bw.faults.reorder(5.0)
    call = bw.inbound("/start")
    call.press("123456")
    bw.advance(10)
    digits = [r.payload["digit"] for r in app.of("dtmf")]
    assert sorted(digits) == list("123456") and digits != list("123456")


def test_an_asynchronous_event_is_retried_once_when_the_connection_fails(scripted):
    bw, app = scripted({"/start": response("<StartGather dtmfUrl='/keys'/>", WAIT),
                        "/keys": (204, "")})
    bw.faults.fail(None, event_type="dtmf", times=1)
    bw.inbound("/start").press("5")
    attempts = [w for w in bw.webhooks if w.event_type == "dtmf"]
    assert [w.status for w in attempts] == [None, 204] and len(app.of("dtmf")) == 1


def test_any_url_over_http(tmp_path):
    import threading
    import time

    import uvicorn

    app = ScriptedApp({"/start": response(say("over the network"))})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with Bandwidth(url=f"http://127.0.0.1:{port}", rest=False) as bw:
            call = bw.inbound("/start")
            assert call.heard == ["over the network"] and bw.webhooks[0].url == f"http://127.0.0.1:{port}/start"
    finally:
        server.should_exit = True
        thread.join(5)


# -- timeline ------------------------------------------------------------------------------------------------

def test_the_timeline_is_typed_data_and_readable_text(scripted):
    from flowc.sim import Heard, StateChange, Webhook

    bw, _ = scripted({"/start": response(say("hello"))})
    call = bw.inbound("/start")
    kinds = {type(e) for e in bw.events}
    assert {Heard, StateChange, Webhook} <= kinds
    text = bw.timeline()
    assert f"{call.id} hears “hello”" in text and "initiate" in text
    data = bw.timeline_data()
    assert data[0]["kind"] == "state" and any(d["kind"] == "webhook" and d["payload"]["callId"] == call.id
                                              for d in data)


def test_secrets_in_replies_never_reach_the_timeline(scripted):
    import json

    bw, app = scripted({"/start": response("<Redirect redirectUrl='/a' username='u' password='hunter2'/>"),
                        "/a": response()})
    bw.inbound("/start")
    assert app.requests[1].headers["authorization"]  # the secret was used ...
    everything = bw.timeline() + json.dumps(bw.timeline_data()) + "".join(w.reply for w in bw.webhooks)
    assert "hunter2" not in everything and 'password="***"' in bw.webhooks[0].reply  # ... and never recorded


def test_a_missing_out_directory_is_an_error_and_changes_nothing(tmp_path):
    import os

    before = {k: os.environ.get(k) for k in ("BANDWIDTH_API_URL", "BANDWIDTH_ACCOUNT_ID")}
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        Bandwidth(tmp_path / "nothing-here")
    assert {k: os.environ.get(k) for k in before} == before


def test_documents_that_loop_without_time_passing_end_the_call_instead_of_hanging(scripted):
    from flowc.sim.engine import MAX_WEBHOOKS_AT_ONE_INSTANT

    bw, app = scripted({"/loop": response("<Redirect redirectUrl='/loop'/>")})
    call = bw.inbound("/loop")
    assert call.state == "completed" and call.cause == "application-error"
    assert len(app.requests) == MAX_WEBHOOKS_AT_ONE_INSTANT
    bw2, _ = scripted({"/loop": response("<Pause duration='1'/>", "<Redirect redirectUrl='/loop'/>")})
    assert bw2.inbound("/loop").state == "active"  # time passes: a loop with a pause is only stopped by the stretch
