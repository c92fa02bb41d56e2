"""flowc.sim, the REST API: Bandwidth's paths, bodies and status codes over real HTTP on loopback, Basic and
OAuth2 auth, 429s on demand, and the official bandwidth-sdk driving it unchanged."""

from __future__ import annotations

import httpx
import pytest
from flowc.sim import Bandwidth
from sim_helpers import ScriptedApp, response, say

pytestmark = pytest.mark.e2e

WAIT = "<Forward to='+15550009999'/>"


@pytest.fixture
def api(request):
    """emulator(routes, **options) -> (Bandwidth, ScriptedApp, httpx.Client on the account's base URL)."""
    started = []

    def start(routes=None, **options):
        app = ScriptedApp(routes or {})
        emulator = Bandwidth(app=app, **options)
        client = httpx.Client(base_url=f"{emulator.api_url}/accounts/{emulator.account_id}", timeout=10,
                              auth=options.get("credentials"))
        started.append((emulator, client))
        return emulator, app, client

    yield start
    for emulator, client in started:
        client.close()
        emulator.close()


def conference_routes(**more):
    return {"/join": response(say("joining"), "<Conference conferenceEventUrl='/events'>room</Conference>",
                              say("after the conference"), WAIT),
            "/events": (204, ""), **more}


def test_api_url_ends_in_api_v2_and_is_served_on_loopback(api):
    bw, _, client = api()
    assert bw.api_url.startswith("http://127.0.0.1:") and bw.api_url.endswith("/api/v2")
    assert client.get("/calls/c-nope").status_code == 404


def test_create_call_answers_201_then_the_answer_webhook_runs_the_call(api):
    bw, app, client = api({"/answer": response(say("hello from an outbound call"), WAIT), "/bye": (204, "")})
    created = client.post("/calls", json={"from": "+15551110000", "to": "+15552220000",
                                          "applicationId": "app-1", "answerUrl": "http://app/answer",
                                          "disconnectUrl": "http://app/bye", "tag": "t1"})
    assert created.status_code == 201
    body = created.json()
    call = bw.call(body["callId"])
    assert call.heard == ["hello from an outbound call"]  # carried out before it was answered
    assert app.of("answer")[0].payload["tag"] == "t1" and body["callUrl"].endswith(body["callId"])
    state = client.get(f"/calls/{call.id}").json()
    assert state["state"] == "answered" and state["direction"] == "outbound"
    assert client.post(f"/calls/{call.id}", json={"state": "completed"}).status_code == 200
    assert call.state == "completed" and app.of("disconnect")[0].payload["cause"] == "hangup"
    assert client.get(f"/calls/{call.id}").json()["state"] == "disconnected"


def test_create_call_refuses_a_body_without_the_required_fields(api):
    _, _, client = api()
    refused = client.post("/calls", json={"from": "+15551110000"})
    assert refused.status_code == 400 and "answerUrl" in refused.json()["description"]


def test_an_outbound_call_to_a_busy_number_ends_busy(api):
    bw, _, client = api({"/answer": response(say("never"))})
    bw.callees["+15552220000"] = "busy"
    body = client.post("/calls", json={"from": "+15551110000", "to": "+15552220000", "applicationId": "a",
                                       "answerUrl": "http://app/answer"}).json()
    assert bw.call(body["callId"]).cause == "busy"


def test_update_call_redirect_ends_the_current_verbs_and_runs_the_redirect_reply(api):
    bw, app, client = api({"/start": response(say("first"), WAIT, say("never")),
                           "/new": response(say("redirected"), WAIT)})
    call = bw.inbound("/start")
    assert client.post(f"/calls/{call.id}", json={"redirectUrl": "http://app/new"}).status_code == 200
    assert call.heard == ["first", "redirected"] and app.of("redirect")
    missing = client.post(f"/calls/{call.id}", json={"state": "active"})
    assert missing.status_code == 400


def test_update_call_bxml_takes_a_bxml_root_and_refuses_a_response_root(api):
    bw, _, client = api({"/start": response(WAIT)})
    call = bw.inbound("/start")
    headers = {"content-type": "application/xml"}
    wrong = client.put(f"/calls/{call.id}/bxml", content="<Response><Hangup/></Response>", headers=headers)
    assert wrong.status_code == 400 and "not <Bxml>" in wrong.json()["description"]
    assert call.state == "active"
    right = client.put(f"/calls/{call.id}/bxml", content=f"<Bxml>{say('replaced')}</Bxml>", headers=headers)
    assert right.status_code == 204 and call.heard == ["replaced"] and call.state == "completed"


def test_updating_an_unknown_or_completed_call_is_404(api):
    bw, _, client = api({"/start": response()})
    call = bw.inbound("/start")
    assert client.post(f"/calls/{call.id}", json={"state": "completed"}).status_code == 404
    assert client.post("/calls/c-unknown", json={"state": "completed"}).status_code == 404


def test_get_conference_lists_active_members_and_member_updates_change_who_hears_whom(api):
    bw, _, client = api(conference_routes())
    a, b = bw.inbound("/join"), bw.inbound("/join")
    conf = bw.conference("room")
    body = client.get(f"/conferences/{conf.id}").json()
    assert body["name"] == "room" and [m["callId"] for m in body["activeMembers"]] == [a.id, b.id]
    assert body["activeMembers"][0]["memberUrl"].endswith(f"/members/{a.id}")
    assert conf.can_hear(b, a)
    assert client.put(f"/conferences/{conf.id}/members/{a.id}", json={"mute": True}).status_code == 204
    assert not conf.can_hear(b, a) and client.get(f"/conferences/{conf.id}/members/{a.id}").json()["mute"]
    client.put(f"/conferences/{conf.id}/members/{a.id}", json={"mute": False, "hold": True})
    assert not conf.can_hear(a, b)
    client.put(f"/conferences/{conf.id}/members/{a.id}", json={"hold": False, "callIdsToCoach": []})
    assert conf.coach == a and not conf.can_hear(b, a)
    assert client.get(f"/conferences/{conf.id}/members/c-nobody").status_code == 404
    assert client.get("/conferences").json()[0]["id"] == conf.id


def test_ending_a_conference_through_rest_lets_members_continue_after_conference(api):
    bw, app, client = api(conference_routes())
    a, b = bw.inbound("/join"), bw.inbound("/join")
    conf = bw.conference("room")
    assert client.post(f"/conferences/{conf.id}", json={"status": "completed"}).status_code == 204
    assert a.heard == ["joining", "after the conference"] and b.heard[-1] == "after the conference"
    assert bw.conference("room") is None
    assert [r.event_type for r in app.requests if r.event_type.startswith("conference")][-1] == "conferenceCompleted"
    assert client.get(f"/conferences/{conf.id}").json()["completedTime"]


def test_redirecting_a_members_call_skips_the_verbs_after_conference(api):
    bw, app, client = api(conference_routes(**{"/elsewhere": response(say("moved"), WAIT)}))
    a, _ = bw.inbound("/join"), bw.inbound("/join")
    client.post(f"/calls/{a.id}", json={"redirectUrl": "http://app/elsewhere"})
    assert a.heard == ["joining", "moved"] and len(bw.conference("room").members) == 1
    assert app.of("conferenceMemberExit")[0].payload["callId"] == a.id


def test_update_conference_bxml_is_played_to_every_member_and_other_verbs_are_refused(api):
    bw, _, client = api(conference_routes())
    a, b = bw.inbound("/join"), bw.inbound("/join")
    conf = bw.conference("room")
    headers = {"content-type": "application/xml"}
    bad = client.put(f"/conferences/{conf.id}/bxml", content="<Bxml><Hangup/></Bxml>", headers=headers)
    assert bad.status_code == 400 and "not allowed in a conference reply" in bad.json()["description"]
    good = client.put(f"/conferences/{conf.id}/bxml", content=f"<Bxml>{say('announcement')}</Bxml>", headers=headers)
    assert good.status_code == 204 and a.heard[-1] == b.heard[-1] == "announcement"


def test_conference_redirect_sends_conference_redirect_and_plays_its_reply(api):
    bw, app, client = api(conference_routes(**{"/conf-redirect": response(say("redirected room"))}))
    a = bw.inbound("/join")
    conf = bw.conference("room")
    assert client.post(f"/conferences/{conf.id}", json={"redirectUrl": "http://app/conf-redirect"}).status_code == 204
    assert app.of("conferenceRedirect")[0].payload["conferenceId"] == conf.id and a.heard[-1] == "redirected room"


def test_basic_auth_is_required_when_credentials_are_set(api):
    bw, _, client = api(credentials=("user", "pw"))
    assert client.get("/conferences").status_code == 200
    base = f"{bw.api_url}/accounts/{bw.account_id}"
    assert httpx.get(f"{base}/conferences").status_code == 401
    assert httpx.get(f"{base}/conferences", auth=("user", "wrong")).status_code == 401


def test_any_credentials_are_accepted_without_settings_but_the_account_must_match(api):
    bw, _, _ = api()
    assert httpx.get(f"{bw.api_url}/accounts/{bw.account_id}/conferences", auth=("x", "y")).status_code == 200
    assert httpx.get(f"{bw.api_url}/accounts/123/conferences").status_code == 403


def test_oauth2_client_credentials_token_then_bearer(api):
    bw, _, _ = api(credentials=("client", "secret"))
    token = httpx.post(bw.token_url, auth=("client", "secret"), data={"grant_type": "client_credentials"})
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
    headers = {"authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{bw.api_url}/accounts/{bw.account_id}/conferences", headers=headers).status_code == 200
    bogus = {"authorization": "Bearer not-a-token"}
    assert httpx.get(f"{bw.api_url}/accounts/{bw.account_id}/conferences", headers=bogus).status_code == 401
    assert httpx.post(bw.token_url, auth=("client", "nope"), data={"grant_type": "client_credentials"}
                      ).status_code == 401


def test_rate_limit_fault_answers_429_with_retry_after_then_recovers(api):
    bw, _, client = api()
    bw.faults.rate_limit(times=1, retry_after=3)
    limited = client.get("/conferences")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert client.get("/conferences").status_code == 200


def test_an_app_calling_the_api_while_answering_a_webhook_does_not_deadlock(api):
    def mute_the_joiner(request):
        if request.event_type == "conferenceMemberJoin":
            base = f"{bw.api_url}/accounts/{bw.account_id}"
            answer = httpx.put(f"{base}/conferences/{request.payload['conferenceId']}/members/"
                               f"{request.payload['callId']}", json={"mute": True}, timeout=10)
            assert answer.status_code == 204
        return 204, ""

    bw, app, _ = api(conference_routes(**{"/events": mute_the_joiner}))
    a = bw.inbound("/join")
    b = bw.inbound("/join")
    conf = bw.conference("room")
    assert not conf.can_hear(b, a) and conf.member(b)["mute"]


def test_rest_requests_are_in_the_timeline(api):
    from flowc.sim import RestRequest

    bw, _, client = api()
    client.get("/conferences")
    request = next(e for e in bw.events if isinstance(e, RestRequest))
    assert request.method == "GET" and request.status == 200 and request.path.endswith("/conferences")


def test_recording_media_urls_are_served(api):
    bw, app, client = api({"/start": response("<Record maxDuration='2' recordingAvailableUrl='/rec'/>"),
                           "/rec": (204, "")})
    bw.inbound("/start")
    bw.advance(2)
    media = httpx.get(app.of("recordingAvailable")[0].payload["mediaUrl"])
    assert media.status_code == 200 and media.content.startswith(b"RIFF")


def test_the_official_bandwidth_sdk_drives_the_emulator_unchanged(api):
    from bandwidth import ApiClient, Configuration
    from bandwidth.api.calls_api import CallsApi
    from bandwidth.api.conferences_api import ConferencesApi
    from bandwidth.models.create_call import CreateCall
    from bandwidth.models.update_call import UpdateCall
    from bandwidth.models.update_conference_member import UpdateConferenceMember

    bw, app, _ = api(conference_routes(**{"/answer": response(say("sdk call"), WAIT),
                                          "/new": response(say("sdk redirect"), WAIT)}),
                     credentials=("sdk-user", "sdk-pass"))
    configuration = Configuration(host=bw.api_url, ignore_operation_servers=True, username="sdk-user",
                                  password="sdk-pass")
    with ApiClient(configuration) as client:
        calls = CallsApi(client)
        created = calls.create_call(bw.account_id, CreateCall(to="+15552220000", var_from="+15551110000",
                                                              application_id="app-1",
                                                              answer_url="http://app/answer"))
        assert bw.call(created.call_id).heard == ["sdk call"]
        assert calls.get_call_state(bw.account_id, created.call_id).state == "answered"
        calls.update_call(bw.account_id, created.call_id, UpdateCall(redirect_url="http://app/new"))
        assert bw.call(created.call_id).heard[-1] == "sdk redirect"
        a, b = bw.inbound("/join"), bw.inbound("/join")
        conferences = ConferencesApi(client)
        conf = conferences.get_conference(bw.account_id, bw.conference("room").id)
        assert [m.call_id for m in conf.active_members] == [a.id, b.id]
        conferences.update_conference_member(bw.account_id, conf.id, a.id, UpdateConferenceMember(mute=True))
        assert not bw.conference("room").can_hear(b, a)
    oauth = Configuration(host=bw.api_url, ignore_operation_servers=True, client_id="sdk-user",
                          client_secret="sdk-pass", access_token_url=bw.token_url)
    with ApiClient(oauth) as client:
        assert ConferencesApi(client).list_conferences(bw.account_id)[0].name == "room"


def test_bandwidth_out_points_the_apps_environment_at_the_emulator(tmp_path):
    import os

    from sim_helpers import build

    out = build(tmp_path, {"main.flow": 'flow main on initiate {\n    say "hi"\n}\n'})
    before = os.environ.get("BANDWIDTH_API_URL")
    with Bandwidth(out, credentials=("u", "p")) as bw:
        assert os.environ["BANDWIDTH_API_URL"] == bw.api_url
        assert os.environ["BANDWIDTH_ACCOUNT_ID"] == bw.account_id and os.environ["BANDWIDTH_USERNAME"] == "u"
    assert os.environ.get("BANDWIDTH_API_URL") == before


def test_passwords_in_rest_bodies_are_masked_in_the_timeline(api):
    from flowc.sim import RestRequest

    bw, _, client = api({"/answer": response(WAIT)})
    client.post("/calls", json={"from": "+15551110000", "to": "+15552220000", "applicationId": "a",
                                "answerUrl": "http://app/answer", "username": "u", "password": "hunter2"})
    created = next(e for e in bw.events if isinstance(e, RestRequest))
    assert created.body["password"] == "***" and created.response["password"] == "***"
    assert "hunter2" not in bw.timeline() + str(bw.timeline_data())
