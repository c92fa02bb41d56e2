"""flowc.runtime.bandwidth against the emulator's REST API over real HTTP: each typed update does what Bandwidth
does, Basic and OAuth2 (token cached, fetched again after a 401), a 429's Retry-After honoured, and retries
only where they cannot apply an update twice (a loopback server that never answers)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from flowc.bxml.vocabulary import Rate
from flowc.runtime.bandwidth import ApiConfig, ApiError, BandwidthClient, call_bxml, member_update, retry_after
from flowc.sim import Bandwidth
from sim_helpers import ScriptedApp, response, say

pytestmark = pytest.mark.e2e

WAIT = "<Forward to='+15550009999'/>"
ROOM = "<Conference conferenceEventUrl='/events'>room</Conference>"
CREDENTIALS = ("api-user", "api-secret")


@pytest.fixture
def emulator():
    started = []

    def start(**options):
        routes = {"/join": response(say("joining"), ROOM, say("after the room"), WAIT), "/events": (204, ""),
                  "/wait": response(WAIT), "/next": response(say("next step"), WAIT)}
        bw = Bandwidth(app=ScriptedApp(routes), credentials=CREDENTIALS, **options)
        started.append(bw)
        return bw

    yield start
    for bw in started:
        bw.close()


def config(bw: Bandwidth, **changes) -> ApiConfig:
    values = {"api_url": bw.api_url, "account_id": bw.account_id, "username": CREDENTIALS[0],
              "password": CREDENTIALS[1], "token_url": bw.token_url, **changes}
    return ApiConfig(**values)


def run(client: BandwidthClient, work):
    async def go():
        try:
            return await work(client)
        finally:
            await client.close()
    return asyncio.run(go())


def rest_log(bw: Bandwidth) -> list[tuple[str, str, int]]:
    return [(e.method, e.path.split(bw.account_id)[-1], e.status) for e in bw.events if hasattr(e, "method")
            and hasattr(e, "path") and not hasattr(e, "event_type")]


def test_member_updates_mute_hold_and_coach(emulator):
    bw = emulator()
    first, coach = bw.inbound("/join"), bw.inbound("/join")
    room = bw.conference("room")

    async def work(client: BandwidthClient):
        await client.update_member(room.id, first.id, mute=True)
        await client.update_member(room.id, coach.id, call_ids_to_coach=[first.id])
        await client.update_member(room.id, first.id, hold=True)
        return await client.get_conference(room.id)

    state = run(BandwidthClient(config(bw)), work)
    assert room.member(first) == {"mute": True, "hold": True, "callIdsToCoach": None}
    assert room.coach == coach and room.member(coach)["callIdsToCoach"] == [first.id]
    assert {m["callId"] for m in state["activeMembers"]} == {first.id, coach.id}


def test_call_and_conference_updates(emulator):
    bw = emulator()
    staying, moved, replaced, hung_up = (bw.inbound("/join") for _ in range(4))
    room = bw.conference("room")

    async def work(client: BandwidthClient):
        await client.redirect_call(moved.id, "http://app/next")
        await client.update_call_bxml(replaced.id, f"<Bxml>{say('replaced')}{WAIT}</Bxml>")
        await client.hang_up(hung_up.id)
        await client.update_conference_bxml(room.id, f"<Bxml>{say('to everyone')}</Bxml>")
        await client.end_conference(room.id)

    run(BandwidthClient(config(bw)), work)
    assert moved.heard[-1] == "next step" and replaced.heard[-1] == "replaced"
    assert hung_up.state == "completed"
    assert staying.heard[-2:] == ["to everyone", "after the room"]  # soft end: the flow carries on
    assert bw.conference("room") is None


def test_oauth2_fetches_one_token_and_a_new_one_after_a_401(emulator):
    bw = emulator()
    call = bw.inbound("/join")
    room = bw.conference("room")
    token_requests = []

    async def count(request: httpx.Request) -> None:
        if str(request.url) == bw.token_url:
            token_requests.append(request)

    client = BandwidthClient(config(bw, auth="oauth2"), httpx.AsyncClient(event_hooks={"request": [count]}))

    async def work(client: BandwidthClient):
        await client.update_member(room.id, call.id, mute=True)
        await client.update_member(room.id, call.id, mute=False)
        client._token = ("revoked", time.monotonic() + 3600)  # e.g. the account's tokens were revoked
        await client.update_member(room.id, call.id, hold=True)

    run(client, work)
    assert len(token_requests) == 2
    assert room.member(call) == {"mute": False, "hold": True, "callIdsToCoach": None}


def test_wrong_credentials_are_an_error_not_a_retry(emulator):
    bw = emulator()
    call = bw.inbound("/join")
    with pytest.raises(ApiError) as refused:
        run(BandwidthClient(config(bw, password="wrong")), lambda c: c.hang_up(call.id))
    assert refused.value.status == 401 and call.state == "active"


def test_a_429_waits_for_retry_after_then_succeeds(emulator):
    bw = emulator()
    call = bw.inbound("/join")
    room = bw.conference("room")
    bw.faults.rate_limit(times=2, retry_after=1)
    started = time.monotonic()
    run(BandwidthClient(config(bw)), lambda c: c.update_call_bxml(call.id, f"<Bxml>{say('once')}{WAIT}</Bxml>"))
    assert time.monotonic() - started >= 2.0  # two waits of Retry-After: 1
    assert call.heard.count("once") == 1
    statuses = [e.status for e in bw.events if type(e).__name__ == "RestRequest"]
    assert statuses == [429, 429, 204]
    assert room is not None


def test_a_429_longer_than_the_request_may_wait_is_an_error_with_its_retry_after(emulator):
    bw = emulator()
    call = bw.inbound("/join")
    bw.faults.rate_limit(times=1, retry_after=30)
    with pytest.raises(ApiError) as limited:
        run(BandwidthClient(config(bw, max_wait=2)), lambda c: c.hang_up(call.id))
    assert limited.value.status == 429 and limited.value.retry_after == 30 and call.state == "active"


def test_a_404_is_not_retried(emulator):
    bw = emulator()
    with pytest.raises(ApiError) as missing:
        run(BandwidthClient(config(bw)), lambda c: c.hang_up("c-gone"))
    assert missing.value.status == 404
    assert [e.status for e in bw.events if type(e).__name__ == "RestRequest"] == [404]


class Silent:
    """A loopback server that accepts connections and never answers: each request's outcome is unknown."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/api/v2"
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


@pytest.mark.parametrize("request_, attempts", [
    (call_bxml("c-1", "<Bxml/>"), 1),  # replacing a call's document twice would restart it: sent once
    (member_update("conf-1", "c-1", mute=True), 2),  # setting mute again changes nothing: retried
])
def test_only_idempotent_requests_are_sent_again_when_no_answer_came(request_, attempts):
    silent = Silent()
    try:
        client = BandwidthClient(ApiConfig(silent.url, "9900000", "u", "p", timeout=0.3, max_wait=1.5))
        with pytest.raises(ApiError) as unknown:
            run(client, lambda c: c.send(request_))
        assert unknown.value.status is None
        assert silent.accepted == attempts if attempts == 1 else silent.accepted >= attempts
    finally:
        silent.close()


def test_a_request_that_never_left_is_tried_again_even_if_not_idempotent():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = BandwidthClient(ApiConfig(f"http://127.0.0.1:{port}/api/v2", "9900000", max_wait=0.8))
    started = time.monotonic()
    with pytest.raises(ApiError) as refused:
        run(client, lambda c: c.send(call_bxml("c-1", "<Bxml/>")))
    assert refused.value.status is None and "ConnectError" in str(refused.value)
    assert time.monotonic() - started >= 0.5  # it kept trying until max_wait


def test_pacing_spreads_a_burst():
    async def burst() -> float:
        from flowc.runtime.bandwidth import Pacer, RealTime

        pacer = Pacer(Rate(50, 5))
        started = time.monotonic()
        for _ in range(15):
            await pacer.wait(RealTime())
        return time.monotonic() - started

    assert 0.18 <= asyncio.run(burst()) < 1.0  # 5 at once, then 10 at 50 a second


def test_pacing_gives_each_request_its_own_slot_even_when_they_come_together():
    from flowc.runtime.bandwidth import Pacer

    pacer = Pacer(Rate(10, 10))
    waits = [pacer.reserve(1000.0) for _ in range(19)]  # 19 senders at one instant: none waits for another
    assert waits == pytest.approx([0.0] * 10 + [0.1 * k for k in range(1, 10)])
    assert pacer.reserve(1000.0 + 5) == 0.0  # a quiet while later, the bucket is full again
    assert pacer.reserve(1005.0) == 0.0


def test_the_pace_defaults_to_the_voice_apis_limits_and_follows_the_environment(monkeypatch):
    from flowc.bxml.vocabulary import vocabulary

    monkeypatch.setenv("BANDWIDTH_ACCOUNT_ID", "42")
    for name in ("FLOWC_BANDWIDTH_RATE", "FLOWC_BANDWIDTH_CALL_RATE"):
        monkeypatch.delenv(name, raising=False)
    limits = vocabulary().rest_limits
    config = ApiConfig.from_environment()
    assert (config.rate, config.call_rate) == (limits.requests, limits.create_call)
    monkeypatch.setenv("FLOWC_BANDWIDTH_RATE", "2.5")
    monkeypatch.setenv("FLOWC_BANDWIDTH_CALL_RATE", "1")
    config = ApiConfig.from_environment()
    assert (config.rate, config.call_rate) == (Rate(2.5, 2), Rate(1, 1))  # bursts of one second's worth
    monkeypatch.setenv("FLOWC_BANDWIDTH_RATE", "fast")
    with pytest.raises(ApiError, match="FLOWC_BANDWIDTH_RATE must be a positive number"):
        ApiConfig.from_environment()


def test_retry_after_reads_seconds_and_dates():
    assert retry_after("3") == 3.0 and retry_after(None) == 1.0 and retry_after("soon") == 1.0
    assert 50 < retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))) <= 60


def test_configuration_comes_from_the_environment(monkeypatch):
    for name, value in {"BANDWIDTH_API_URL": "http://127.0.0.1:1/api/v2/", "BANDWIDTH_ACCOUNT_ID": "42",
                        "BANDWIDTH_USERNAME": "u", "BANDWIDTH_PASSWORD": "p",
                        "BANDWIDTH_TOKEN_URL": "http://127.0.0.1:1/token"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BANDWIDTH_CLIENT_ID", raising=False)
    monkeypatch.delenv("FLOWC_BANDWIDTH_AUTH", raising=False)
    basic = ApiConfig.from_environment()
    assert (basic.api_url, basic.account_id, basic.auth, basic.username) == ("http://127.0.0.1:1/api/v2", "42",
                                                                             "basic", "u")
    monkeypatch.setenv("BANDWIDTH_CLIENT_ID", "id")
    monkeypatch.setenv("BANDWIDTH_CLIENT_SECRET", "secret")
    oauth = ApiConfig.from_environment()
    assert (oauth.auth, oauth.username, oauth.password, oauth.token_url) == ("oauth2", "id", "secret",
                                                                             "http://127.0.0.1:1/token")
    monkeypatch.setenv("FLOWC_BANDWIDTH_AUTH", "kerberos")
    with pytest.raises(ApiError, match="basic or oauth2"):
        ApiConfig.from_environment()
    monkeypatch.delenv("BANDWIDTH_ACCOUNT_ID")
    with pytest.raises(ApiError, match="BANDWIDTH_ACCOUNT_ID"):
        ApiConfig.from_environment()
