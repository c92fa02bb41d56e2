"""The speed contract of issue 12 on the emulator: releasing a lobby of 19 callers stays within the Voice API's
rate limits and completes in the virtual time the limits allow; and both sides of those limits: the emulator
refuses what goes over them (429, Retry-After, the reason), the app's client waits out a Retry-After in
virtual time, creating calls has its own limit."""

from __future__ import annotations

import time

import httpx
import pytest
from flowc.bxml.vocabulary import Rate, vocabulary
from flowc.sim.limits import CALL_CREATION, REQUESTS, RateLimits
from sim_helpers import build

pytestmark = pytest.mark.e2e

GUESTS = 19
HOLD = "https://cdn.example.com/hold.mp3"
ROOM = '''application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)

conference big "big" {
    wait for host play "https://cdn.example.com/hold.mp3"
    max 20
    end when host leaves
}

flow host on initiate {
    say "Welcome."
    join big as host
}

flow guest on initiate {
    join big as member
}
'''


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return build(tmp_path_factory.mktemp("big-room"), {"room.flow": ROOM})


def lobby_of(bw, guests: int = GUESTS) -> list:
    """`guests` callers waiting for the host, each hearing the hold music on its loop."""
    waiting = [bw.inbound("guest", wait=False) for _ in range(guests)]
    bw.advance(6)  # the music (5 s) and each caller's first lobby redirect
    assert all(HOLD in guest.heard for guest in waiting) and bw.conference("big") is None
    return waiting


def release(bw, waiting: list):
    """The host arrives; (the host's join time, the release's PUTs, the members' join times by call id)."""
    host = bw.inbound("host")
    joins = {e.subject: e.time for e in bw.events if e.kind == "state" and e.state == "joined"}
    puts = [e for e in bw.events if e.kind == "rest" and e.method == "PUT" and e.path.endswith("/bxml")]
    assert set(bw.conference("big").members) == {host, *waiting}  # every guest ended up a member
    return joins[host.id], puts, joins


def test_releasing_a_lobby_of_19_stays_within_the_limits_in_the_virtual_time_they_allow(out, bandwidth):
    bw = bandwidth(out)
    waiting = lobby_of(bw)
    started = time.perf_counter()
    host_joined, puts, joins = release(bw, waiting)
    assert bw.rate_limits.refused == [] and all(put.status == 204 for put in puts)  # nothing went over
    # The release is one PUT /calls/{id}/bxml per guest. The Voice API allows `burst` requests at once and then
    # one every 1/per_second s: with 10 and 10 a second, guests 1-10 at the host's join, guest k (11..19) at
    # (k - 10) / 10 s after it; the last at (19 - 10) / 10 = 0.9 s.
    limit = vocabulary().rest_limits.requests
    expected = [max(0, k - limit.burst) / limit.per_second for k in range(1, GUESTS + 1)]
    assert [put.time - host_joined for put in puts] == pytest.approx(expected, abs=1e-6)
    last = max(joins[guest.id] for guest in waiting)
    assert last - host_joined == pytest.approx((GUESTS - limit.burst) / limit.per_second, abs=1e-6)
    assert time.perf_counter() - started < 5  # virtual seconds, not real ones


def test_a_client_faster_than_the_limit_is_refused_and_waits_out_retry_after_in_virtual_time(out, bandwidth,
                                                                                            monkeypatch):
    monkeypatch.setenv("FLOWC_BANDWIDTH_RATE", "100")  # bursts of 100: more than the emulator allows
    bw = bandwidth(out)
    waiting = lobby_of(bw)
    host_joined, puts, _ = release(bw, waiting)
    limit = vocabulary().rest_limits.requests
    refused = [put for put in puts if put.status == 429]
    # the 11th PUT goes over: refused once, with Retry-After 1; sent again 1 s later, when the bucket is full
    # again, it and the other eight go at once
    assert len(refused) == 1 and [r.reason for r in bw.rate_limits.refused] == [REQUESTS]
    assert refused[0].time == pytest.approx(host_joined)
    assert max(put.time for put in puts) - host_joined == pytest.approx(1.0, abs=1e-6)
    assert len([put for put in puts if put.status == 204]) == GUESTS and limit.burst == 10


def test_the_emulator_refuses_requests_over_the_limit_with_retry_after(out, bandwidth):
    bw = bandwidth(out, rate_limits=RateLimits(requests=Rate(2, 2)))
    url = f"{bw.api_url}/accounts/{bw.account_id}/conferences"
    statuses = [httpx.get(url, auth=("sim", "sim")) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["retry-after"] == "1" and statuses[2].json()["description"] == REQUESTS
    bw.advance(0.5)  # one token back (2 a second)
    assert httpx.get(url, auth=("sim", "sim")).status_code == 200
    assert httpx.get(url, auth=("sim", "sim")).status_code == 429
    assert len(bw.rate_limits.refused) == 2


def test_creating_calls_has_its_own_limit(out, bandwidth):
    bw = bandwidth(out, rate_limits=RateLimits(create_call=Rate(0.1, 2)))  # two at once, then one per 10 s
    url = f"{bw.api_url}/accounts/{bw.account_id}/calls"
    body = {"from": "+15551230000", "to": "+15551239999", "applicationId": "a", "answerUrl": "http://app/flows/host"}
    answers = [httpx.post(url, json=body, auth=("sim", "sim")) for _ in range(3)]
    # each call rings 1 s and hears "Welcome." (0.4 s) before the next request: at 0, 1.4 and 2.8 s, when 2 -
    # 1 - 1 + 2.8 * 0.1 = 0.28 tokens are left: refused, Retry-After (1 - 0.28) / 0.1 = 7.2 -> 8 s
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["description"] == CALL_CREATION and answers[2].headers["retry-after"] == "8"
    conferences = httpx.get(f"{bw.api_url}/accounts/{bw.account_id}/conferences", auth=("sim", "sim"))
    assert conferences.status_code == 200  # other requests are counted apart
