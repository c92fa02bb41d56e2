"""Getting a webhook to the app and its answer back: in-process through ASGI, or over HTTP to any URL.

An OUT directory's app is called directly as an ASGI application (no sockets, no threads of ours), which is
what makes thousands of simulated webhooks a second possible; any other URL goes through httpx. Both are
coroutines run on the engine's private event loop; while one waits, the engine keeps serving REST requests
the app makes to the emulator from inside its handler (see Engine.deliver), so a hook that calls Bandwidth's
API while answering a webhook does not deadlock.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import ipaddress
import json
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    import httpx
    from flowc.sim.clock import Parking

APP_ORIGIN = "http://app"  # the origin an OUT directory's in-process app is given
# Webhooks go only to this machine unless this is set: a flow's fallback URL or a `then "https://..."`
# names real hosts, and a test must never reach them.
ALLOW_NETWORK_VARIABLE = "FLOWC_SIM_ALLOW_NETWORK"

# ASGI, as the emulator calls an app
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Credentials = tuple[str, str]  # Basic auth: user name, password


def is_loopback(url: str) -> bool:
    """Whether URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer at all
    body: str
    latency: float  # wall-clock seconds
    error: str = ""  # why there was no answer (connection refused, timed out ...)


def request_parts(method: str, payload: dict[str, Any],
                  credentials: Credentials | None) -> tuple[Headers, bytes, str]:
    """Headers, body and query string of a webhook: POST JSON, or GET with the fields as query parameters
    (object fields as JSON text), with Basic auth when the document or application gives credentials."""
    headers: Headers = [(b"user-agent", b"BandwidthAPI/v2 (flowc.sim)")]
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        headers.append((b"authorization", f"Basic {token}".encode()))
    if method == "GET":
        query = urlencode({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in payload.items()
                           if v is not None})
        return headers, b"", query
    body = json.dumps(payload).encode()
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return headers, body, ""


class Target(Protocol):
    """Where webhooks go: the engine sends each to the first target that handles its URL."""

    def handles(self, url: str) -> bool: ...

    async def send(self, method: str, url: str, payload: dict[str, Any], credentials: Credentials | None,
                   timeout: float) -> Answer: ...


class AsgiTarget:
    """An ASGI application called in-process; URLs on APP_ORIGIN go to it. With several (the same OUT loaded
    as several workers), each webhook goes to the next in turn, as a load balancer would send them.

    With `parking` (flowc.sim.clock.Parking), the call is a task of its own: once the app has answered, the
    webhook is done when the call ends or waits in virtual time (its side effects, paced), and the rest of the
    call goes on as the emulator's time passes."""

    def __init__(self, app: AsgiApp, *more: AsgiApp) -> None:
        self.apps = (app, *more)
        self.turn = 0
        self.parking: Parking | None = None

    @property
    def app(self) -> AsgiApp:
        app = self.apps[self.turn % len(self.apps)]
        self.turn += 1
        return app

    def handles(self, url: str) -> bool:
        return url.startswith(APP_ORIGIN + "/") or url == APP_ORIGIN

    async def send(self, method: str, url: str, payload: dict[str, Any], credentials: Credentials | None,
                   timeout: float) -> Answer:
        headers, body, query = request_parts(method, payload, credentials)
        parts = urlsplit(url)
        if parts.query:
            query = parts.query + ("&" + query if query else "")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": parts.path or "/", "raw_path": (parts.path or "/").encode(),
            "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"app"), *headers],
            "server": ("app", 80), "client": ("127.0.0.1", 50000),
        }
        sent = False
        status: list[int] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # the request never disconnects while the app works
            return {"type": "http.disconnect"}

        parking = self.parking

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if parking is not None and not message.get("more_body", False):
                    parking.allow(asyncio.current_task())  # answered: what follows may wait in virtual time

        app = self.app

        async def serve() -> None:  # a coroutine of its own: an ASGI app may return any awaitable
            await app(scope, receive, send)

        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                if parking is None:
                    await serve()
                else:
                    await parking.run(serve(), may_park=False)
        except TimeoutError:
            return Answer(None, "", time.perf_counter() - started, f"no answer within {timeout:g} s")
        except Exception as error:  # the app crashed outside its own error handling
            return Answer(None, "", time.perf_counter() - started, f"the app raised {type(error).__name__}: {error}")
        return Answer(status[0] if status else None, b"".join(chunks).decode("utf-8", "replace"),
                      time.perf_counter() - started)


class HttpTarget:
    """Any URL, over real HTTP (httpx)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None  # made on first use (httpx is imported then)

    def handles(self, url: str) -> bool:
        return url.startswith(("http://", "https://"))

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            # TCP_NODELAY: httpx writes a request's head and body separately; with Nagle's algorithm the body
            # waits for the server's delayed ACK (~40 ms a webhook on Linux loopback)
            transport = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                                                 limits=httpx.Limits(max_connections=64))
            self._client = httpx.AsyncClient(transport=transport)
        return self._client

    async def send(self, method: str, url: str, payload: dict[str, Any], credentials: Credentials | None,
                   timeout: float) -> Answer:
        import httpx

        if not is_loopback(url) and os.environ.get(ALLOW_NETWORK_VARIABLE) != "1":
            return Answer(None, "", 0.0, f"not sent: {urlsplit(url).hostname} is not this machine (the emulator "
                                         f"delivers webhooks to loopback only; set {ALLOW_NETWORK_VARIABLE}=1)")
        headers, body, query = request_parts(method, payload, credentials)
        if query:
            url += ("&" if "?" in url else "?") + query
        started = time.perf_counter()
        try:
            response = await self.client().request(method, url, content=body or None, timeout=timeout,
                                                   headers={k.decode(): v.decode() for k, v in headers})
        except httpx.TimeoutException:
            return Answer(None, "", time.perf_counter() - started, f"no answer within {timeout:g} s")
        except httpx.HTTPError as error:
            return Answer(None, "", time.perf_counter() - started, f"{type(error).__name__}: {error}")
        return Answer(response.status_code, response.text, time.perf_counter() - started)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def load_out(out: str | Path) -> tuple[dict[str, Any], AsgiApp]:
    """OUT's manifest and its ASGI `app` (OUT/app.py imported by path, as `flowc serve` does)."""
    out = Path(out)
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} does not exist: run `flowc compile SOURCES -o {out}` first")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    app_path = out / "app.py"
    if not app_path.is_file():
        raise FileNotFoundError(f"{app_path} does not exist: compile with flowc[serve] installed")
    name = f"flowc_sim_app_{abs(hash(str(app_path.resolve()))):x}_{time.monotonic_ns()}"
    spec = importlib.util.spec_from_file_location(name, app_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic models and dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return manifest, module.app
