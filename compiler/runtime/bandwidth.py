"""A client of Bandwidth's Voice API for the generated app: the few updates conference policy needs, paced,
authenticated from the environment, and retried only where a retry cannot apply an update twice.

Public interface:

- `ApiConfig.from_environment()`: BANDWIDTH_API_URL (default https://voice.bandwidth.com/api/v2),
  BANDWIDTH_ACCOUNT_ID, and either Basic credentials (BANDWIDTH_USERNAME, BANDWIDTH_PASSWORD) or OAuth2 client
  credentials (BANDWIDTH_CLIENT_ID and BANDWIDTH_CLIENT_SECRET, or FLOWC_BANDWIDTH_AUTH=oauth2 with the Basic
  pair as client id and secret; the token from BANDWIDTH_TOKEN_URL, cached until a minute before it expires
  and fetched again on a 401). FLOWC_BANDWIDTH_RATE: requests a second other than creating calls, and
  FLOWC_BANDWIDTH_CALL_RATE: calls created a second (defaults: the Voice API's limits in the vocabulary,
  `rest_limits` in data/bxml.json; bursts of one second's worth).
- `BandwidthClient(config, clock=None)`, async: `update_call(call_id, redirect_url=..., state=..., tag=...)`,
  `redirect_call`, `hang_up`, `update_call_bxml(call_id, bxml)`, `update_conference(conference_id,
  status=..., redirect_url=...)`, `end_conference`, `update_conference_bxml(conference_id, bxml)`,
  `update_member(conference_id, call_id, mute=, hold=, call_ids_to_coach=)`, `get_conference`, and `send(request)`
  for a `Request` value (what the outbox stores); `close()`.
- `Request`: method, path below /accounts/{accountId}, body, content type, and whether it is idempotent (an
  update whose repetition changes nothing: member settings, hanging up, ending a conference). Redirects and
  BXML replacements are not: sent again they would restart what the call or room plays.
- `ApiError(status, description, retry_after)`: a refusal (4xx, 5xx) or, with status None, no answer.

Pacing: one `Pacer` for creating calls and one for every other request, each the token bucket of its limit
(kept as the time the next request may go, so concurrent senders each get their own slot without a lock).
Waits (pacing, Retry-After, backing off) are on the client's clock: real time, or the emulator's virtual time
when the app runs in flowc.sim (flowc.runtime.services gives the client the runtime's clock).

Retries: a 429 is never applied, so it is always retried after its Retry-After (within `max_wait` seconds of
waiting in all); a request that never left (no connection) likewise; a timeout or a 5xx only when the request
is idempotent.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from flowc.bxml.vocabulary import Rate, vocabulary

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = "https://voice.bandwidth.com/api/v2"
DEFAULT_TOKEN_URL = "https://api.bandwidth.com/api/v1/oauth2/token"
JSON = "application/json"
XML = "application/xml"


class ApiError(Exception):
    """Bandwidth refused a request (status), or did not answer (status None)."""

    def __init__(self, status: int | None, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status or 'no answer'}: {description}")
        self.status, self.description, self.retry_after = status, description, retry_after


class Clock(Protocol):
    """What the client waits on (flowc.runtime.timers' clocks are such)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealTime:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _rate(name: str, default: Rate) -> Rate:
    """A rate from the environment (bursts of one second's worth), else the vocabulary's."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        per_second = float(raw)
    except ValueError:
        per_second = 0.0
    if not 0 < per_second < float("inf"):
        raise ApiError(None, f"{name} must be a positive number, not {raw!r}")
    return Rate(per_second, max(1, int(per_second)))


@dataclass(frozen=True)
class ApiConfig:
    api_url: str
    account_id: str
    username: str = ""
    password: str = ""
    auth: Literal["basic", "oauth2"] = "basic"
    token_url: str = DEFAULT_TOKEN_URL
    rate: Rate = field(default_factory=lambda: vocabulary().rest_limits.requests)  # per worker, not creating calls
    call_rate: Rate = field(default_factory=lambda: vocabulary().rest_limits.create_call)  # calls created
    timeout: float = 10.0  # seconds for one attempt
    max_wait: float = 30.0  # seconds one request may spend waiting for Retry-After and retries

    @classmethod
    def from_environment(cls) -> ApiConfig:
        env = os.environ
        account = env.get("BANDWIDTH_ACCOUNT_ID", "")
        if not account:
            raise ApiError(None, "BANDWIDTH_ACCOUNT_ID is not set: the app cannot call Bandwidth's Voice API")
        client_id, secret = env.get("BANDWIDTH_CLIENT_ID", ""), env.get("BANDWIDTH_CLIENT_SECRET", "")
        chosen = env.get("FLOWC_BANDWIDTH_AUTH", "").strip().lower() or ("oauth2" if client_id else "basic")
        if chosen not in ("basic", "oauth2"):
            raise ApiError(None, f"FLOWC_BANDWIDTH_AUTH must be basic or oauth2, not {chosen!r}")
        auth: Literal["basic", "oauth2"] = "oauth2" if chosen == "oauth2" else "basic"
        username = client_id if auth == "oauth2" and client_id else env.get("BANDWIDTH_USERNAME", "")
        password = secret if auth == "oauth2" and client_id else env.get("BANDWIDTH_PASSWORD", "")
        limits = vocabulary().rest_limits
        return cls(env.get("BANDWIDTH_API_URL", "").rstrip("/") or DEFAULT_API_URL, account, username, password,
                   auth, env.get("BANDWIDTH_TOKEN_URL", "") or DEFAULT_TOKEN_URL,
                   _rate("FLOWC_BANDWIDTH_RATE", limits.requests),
                   _rate("FLOWC_BANDWIDTH_CALL_RATE", limits.create_call))


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below /accounts/{accountId}, e.g. /calls/c-1/bxml
    body: str | None = None
    content_type: str = JSON
    idempotent: bool = False


def call_update(call_id: str, *, redirect_url: str | None = None, redirect_method: str | None = None,
                state: Literal["active", "completed"] | None = None, tag: str | None = None,
                username: str | None = None, password: str | None = None) -> Request:
    """POST /calls/{id}: a redirect (its reply replaces what the call runs; `username` and `password` are the
    credentials its webhook is sent with) or a hang-up (idempotent)."""
    body = _json(state=state, redirect_url=redirect_url, redirect_method=redirect_method, tag=tag,
                 username=username, password=password)
    return Request("POST", f"/calls/{call_id}", body, JSON, idempotent=state == "completed")


def call_bxml(call_id: str, bxml: str) -> Request:
    """PUT /calls/{id}/bxml: a `<Bxml>` document replaces what the call runs."""
    return Request("PUT", f"/calls/{call_id}/bxml", bxml, XML)


def conference_update(conference_id: str, *, status: Literal["active", "completed"] | None = None,
                      redirect_url: str | None = None, redirect_method: str | None = None) -> Request:
    """POST /conferences/{id}: end it (members carry on after `<Conference>`; idempotent) or redirect it."""
    body = _json(status=status, redirect_url=redirect_url, redirect_method=redirect_method)
    return Request("POST", f"/conferences/{conference_id}", body, JSON, idempotent=status == "completed")


def conference_bxml(conference_id: str, bxml: str) -> Request:
    """PUT /conferences/{id}/bxml: conference verbs played to the whole room (queued behind its audio)."""
    return Request("PUT", f"/conferences/{conference_id}/bxml", bxml, XML)


def member_update(conference_id: str, call_id: str, *, mute: bool | None = None, hold: bool | None = None,
                  call_ids_to_coach: list[str] | None = None) -> Request:
    """PUT /conferences/{id}/members/{callId}: settings; what is omitted is unchanged. Idempotent."""
    body = _json(mute=mute, hold=hold, call_ids_to_coach=call_ids_to_coach)
    return Request("PUT", f"/conferences/{conference_id}/members/{call_id}", body, JSON, idempotent=True)


def _json(**fields: Any) -> str:
    """The JSON body of Bandwidth's REST API: camelCase names of the fields that are set."""
    return json.dumps({_camel(k): v for k, v in fields.items() if v is not None}, separators=(",", ":"))


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


class Pacer:
    """A token bucket of `rate.burst` requests refilled at `rate.per_second`, kept as the instant the next
    request is due (`due`, from an origin taken at the first request so that sums stay small): a request may go
    when it is at most `burst - 1` intervals before that instant."""

    def __init__(self, rate: Rate) -> None:
        self.interval, self.burst = 1.0 / rate.per_second, rate.burst
        self.origin: float | None = None
        self.due = 0.0

    def reserve(self, now: float) -> float:
        """Take the next slot; the seconds to wait for it (0: go now)."""
        if self.origin is None:
            self.origin = now
        elapsed = now - self.origin
        due = max(self.due, elapsed)
        self.due = due + self.interval
        return max(0.0, due - elapsed - (self.burst - 1) * self.interval)

    async def wait(self, clock: Clock) -> None:
        seconds = self.reserve(clock.now())
        if seconds > 0:
            await clock.sleep(seconds)


def retry_after(header: str | None, default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not header:
        return default
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class BandwidthClient:
    """Async client of one account's Voice API (httpx, one connection pool per worker)."""

    def __init__(self, config: ApiConfig, http: httpx.AsyncClient | None = None, clock: Clock | None = None) -> None:
        import httpx

        self.config = config
        self.http = http or httpx.AsyncClient(timeout=config.timeout)
        self.clock: Clock = clock or RealTime()
        self.pacer, self.call_pacer = Pacer(config.rate), Pacer(config.call_rate)
        self._token: tuple[str, float] | None = None  # (access token, monotonic time it is good until)
        self._token_lock = asyncio.Lock()
        self.sent = 0  # attempts that reached the wire (for tests and logs)

    @classmethod
    def from_environment(cls, clock: Clock | None = None) -> BandwidthClient:
        return cls(ApiConfig.from_environment(), clock=clock)

    async def close(self) -> None:
        await self.http.aclose()

    # -- typed updates -----------------------------------------------------------------------------------------

    async def update_call(self, call_id: str, *, redirect_url: str | None = None, redirect_method: str | None = None,
                          state: Literal["active", "completed"] | None = None, tag: str | None = None) -> None:
        await self.send(call_update(call_id, redirect_url=redirect_url, redirect_method=redirect_method,
                                    state=state, tag=tag))

    async def redirect_call(self, call_id: str, url: str) -> None:
        await self.update_call(call_id, redirect_url=url)

    async def hang_up(self, call_id: str) -> None:
        await self.update_call(call_id, state="completed")

    async def update_call_bxml(self, call_id: str, bxml: str) -> None:
        await self.send(call_bxml(call_id, bxml))

    async def update_conference(self, conference_id: str, *, status: Literal["active", "completed"] | None = None,
                                redirect_url: str | None = None, redirect_method: str | None = None) -> None:
        await self.send(conference_update(conference_id, status=status, redirect_url=redirect_url,
                                          redirect_method=redirect_method))

    async def end_conference(self, conference_id: str) -> None:
        await self.update_conference(conference_id, status="completed")

    async def update_conference_bxml(self, conference_id: str, bxml: str) -> None:
        await self.send(conference_bxml(conference_id, bxml))

    async def update_member(self, conference_id: str, call_id: str, *, mute: bool | None = None,
                            hold: bool | None = None, call_ids_to_coach: list[str] | None = None) -> None:
        await self.send(member_update(conference_id, call_id, mute=mute, hold=hold,
                                      call_ids_to_coach=call_ids_to_coach))

    async def get_conference(self, conference_id: str) -> dict[str, Any]:
        response = await self.send(Request("GET", f"/conferences/{conference_id}", idempotent=True))
        found: dict[str, Any] = response.json()
        return found

    # -- sending -----------------------------------------------------------------------------------------------

    async def send(self, request: Request) -> httpx.Response:
        """Send with pacing, Retry-After and the retries the request allows; ApiError when it cannot."""
        waited = 0.0
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            wait: float | None
            try:
                response = await self._attempt(request)
            except _NotSent as error:  # the request never left: safe to try again
                wait = min(2.0 ** attempt * 0.1, 2.0)
                failure = ApiError(None, str(error))
            except _Unknown as error:  # it left and no answer came: only an idempotent request may go again
                if not request.idempotent:
                    raise ApiError(None, f"{error} (not retried: {request.method} {request.path} may have been "
                                         "applied)") from None
                wait = min(2.0 ** attempt * 0.1, 2.0)
                failure = ApiError(None, str(error))
            else:
                status = response.status_code
                if status < 300:
                    return response
                failure = _refusal(response)
                if status == 401 and self.config.auth == "oauth2" and not refreshed:
                    self._token, refreshed, wait = None, True, 0.0
                elif status == 429:
                    wait = failure.retry_after
                elif status >= 500 and request.idempotent:
                    wait = min(2.0 ** attempt * 0.1, 2.0)
                else:
                    raise failure
            if wait is None or waited + wait > self.config.max_wait:
                raise failure
            waited += wait
            await self.clock.sleep(wait)

    async def _attempt(self, request: Request) -> httpx.Response:
        import httpx

        creates_call = request.method == "POST" and request.path == "/calls"
        await (self.call_pacer if creates_call else self.pacer).wait(self.clock)
        headers = {"Authorization": await self._authorization(), "User-Agent": "flowc-runtime"}
        if request.body is not None:
            headers["Content-Type"] = request.content_type
        url = f"{self.config.api_url}/accounts/{self.config.account_id}{request.path}"
        try:
            self.sent += 1
            return await self.http.request(request.method, url, content=request.body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            self.sent -= 1
            raise _NotSent(f"{type(error).__name__}: {error}") from None
        except httpx.HTTPError as error:
            raise _Unknown(f"{type(error).__name__}: {error}") from None

    async def _authorization(self) -> str:
        config = self.config
        if config.auth == "basic":
            import base64

            pair = base64.b64encode(f"{config.username}:{config.password}".encode()).decode()
            return f"Basic {pair}"
        async with self._token_lock:
            if self._token is None or self._token[1] <= time.monotonic():
                self._token = await self._fetch_token()
            return f"Bearer {self._token[0]}"

    async def _fetch_token(self) -> tuple[str, float]:
        import httpx

        try:
            response = await self.http.post(self.config.token_url, data={"grant_type": "client_credentials"},
                                             auth=(self.config.username, self.config.password))
        except httpx.HTTPError as error:
            raise ApiError(None, f"the OAuth2 token endpoint did not answer: {error}") from None
        if response.status_code != 200:
            raise ApiError(response.status_code, f"the OAuth2 token endpoint refused: {response.text[:200]}")
        body = response.json()
        lifetime = float(body.get("expires_in") or 3600)
        return str(body["access_token"]), time.monotonic() + max(lifetime - 60, lifetime / 2)


class _NotSent(Exception):
    pass


class _Unknown(Exception):
    pass


def _refusal(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        description = str(body.get("description") or body.get("error") or body) if isinstance(body, dict) \
            else str(body)
    except ValueError:
        description = response.text[:200] or response.reason_phrase
    after = retry_after(response.headers.get("retry-after")) if response.status_code == 429 else None
    return ApiError(response.status_code, description, after)
