"""The console's web server: a Starlette app over one `Bandwidth` emulator, and `serve` for `flowc sim --ui`.

Every touch of the emulator (placing a call, pressing keys, the clock, reading a snapshot) runs on one worker
thread, one at a time, so the page never sees a half-made change. Conference controls go through the
emulator's own REST API over HTTP, exactly as an app's code would, so they show in the timeline as REST
requests. A broadcaster reads a snapshot every tick (and, in real-time mode, moves the virtual clock on by
the wall-clock time that passed) and pushes it to every open page over server-sent events when it changed.

Only this machine may use it: it listens on loopback, answers only requests whose Host is its own loopback
address (so a page elsewhere cannot reach it through DNS rebinding), and takes changes only as JSON from its
own origin (so another site's form or script cannot drive it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from flowc.sim.console.state import snapshot

if TYPE_CHECKING:
    from flowc.sim.api import Bandwidth, Call
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

TICK_SECONDS = 0.1
MAX_REALTIME_STEP = 1.0  # a stalled tick never moves the clock by more than this
HEARTBEAT_SECONDS = 15.0
DIGITS = re.compile(r"^[0-9*#A-D]{1,32}$")
STATIC = resources.files("flowc.sim.console") / "static"
T = TypeVar("T")


class ConsoleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_loopback_host(host: str) -> bool:
    """The emulator's one rule for "this machine" (flowc.sim.transport.is_loopback), for a bare host."""
    from flowc.sim.transport import is_loopback

    bare = host.strip("[]")
    return is_loopback(f"http://[{bare}]/" if ":" in bare else f"http://{bare}/")


class Console:
    """The emulator, the worker thread that touches it, and the pages listening for snapshots."""

    def __init__(self, bw: Bandwidth, target: str) -> None:
        self.bw = bw
        self.target = target
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="flowc-console")
        self.realtime = False
        self.listeners: set[asyncio.Queue[str]] = set()
        self.latest = ""
        self._last_tick = time.monotonic()
        self._fingerprint: tuple[object, ...] = ()
        self._state = ""

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, partial(work, *args))

    # -- what the page can do ----------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        routes = self.bw.manifest.get("routes", [])
        flows = [r["flow"] for r in routes if r.get("flow") and "initiate" in r.get("events", ())]
        flows += [r["flow"] for r in routes if r.get("flow") and r.get("bxml", True) and r["flow"] not in flows]
        return {"target": self.target, "flows": list(dict.fromkeys(flows)), "base_url": self.bw.base_url,
                "api_url": self.bw.api_url, "account_id": self.bw.account_id}

    def place_call(self, body: dict[str, Any]) -> dict[str, Any]:
        where = str(body.get("path") or body.get("flow") or "").strip()
        if not where:
            raise ConsoleError(400, "say which flow (or path) to call")
        fields = {k: str(body[k]).strip() for k in ("from", "to") if str(body.get(k) or "").strip()}
        try:
            call = self.bw.inbound(where, from_=fields.get("from", "+15559998765"),
                                   to=fields.get("to", "+15551112345"))
        except ValueError as error:
            raise ConsoleError(400, str(error)) from None
        return {"id": call.id}

    def _call(self, call_id: str) -> Call:
        call = self.bw.call(call_id)
        if call is None:
            raise ConsoleError(404, f"no call {call_id}")
        return call

    def press(self, call_id: str, digits: str) -> None:
        if not DIGITS.match(digits or ""):
            raise ConsoleError(400, "digits are 0-9, *, # and A-D (at most 32)")
        call = self._call(call_id)
        if call.state != "active":
            raise ConsoleError(409, f"call {call_id} has ended")
        call.press(digits)

    def hangup(self, call_id: str) -> None:
        call = self._call(call_id)
        if call.state == "active":
            call.hangup()

    def sequence(self, call_id: str) -> dict[str, Any]:
        from flowc.sim.sequence import build, to_data

        self._call(call_id)
        return to_data(build(self.bw.events, call_id))

    def clock(self, body: dict[str, Any]) -> None:
        if "realtime" in body:
            self.realtime = bool(body["realtime"])
            self._last_tick = time.monotonic()
        if "advance" in body:
            try:
                seconds = float(body["advance"])
            except (TypeError, ValueError):
                raise ConsoleError(400, "advance takes a number of seconds") from None
            if not 0 <= seconds <= 24 * 3600:
                raise ConsoleError(400, "advance takes 0 to 86400 seconds")
            self.bw.advance(seconds)

    def rest(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A request to the emulator's REST API (for the conference controls), answered with its status."""
        import httpx

        user, password = self.bw.credentials or ("console", "console")
        url = f"{self.bw.api_url}/accounts/{self.bw.account_id}{path}"
        response = httpx.request(method, url, json=body, auth=(user, password), timeout=30)
        answer: Any = None
        if response.content:
            try:
                answer = response.json()
            except ValueError:
                answer = response.text
        return {"status": response.status_code, "body": answer}

    # -- pushing snapshots -------------------------------------------------------------------------------------

    def tick(self) -> str:
        """The state as JSON text, read anew only when something happened since the last read (every change
        the emulator makes is recorded as an event, or moves the clock)."""
        now = time.monotonic()
        if self.realtime:
            self.bw.advance(min(now - self._last_tick, MAX_REALTIME_STEP))
        self._last_tick = now
        engine = self.bw.engine
        with engine.lock:
            fingerprint = (len(engine.events), engine.now, self.realtime)
            if fingerprint != self._fingerprint or not self._state:
                self._state = json.dumps(snapshot(self.bw, self.realtime), default=str)
                self._fingerprint = fingerprint
            return self._state

    async def broadcast(self) -> None:
        while True:
            try:
                state = await self.run(self.tick)
            except Exception as error:  # a failed tick is shown, not fatal: the next one tries again
                state = json.dumps({"error": str(error)})
            if state != self.latest:
                self.latest = state
                for queue in list(self.listeners):
                    queue.put_nowait(state)
            await asyncio.sleep(TICK_SECONDS)


def create_app(console: Console, allowed_hosts: set[str]) -> Starlette:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import FileResponse, JSONResponse, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-store"})

    async def info(request: Request) -> Response:
        return JSONResponse(await console.run(console.info))

    async def state(request: Request) -> Response:
        return JSONResponse(json.loads(await console.run(console.tick)))

    async def stream(request: Request) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue()
        console.listeners.add(queue)

        async def events() -> AsyncIterator[str]:
            try:
                first = console.latest or await console.run(console.tick)
                yield f"data: {first}\n\n"
                while True:
                    try:
                        state = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                        yield f"data: {state}\n\n"
                    except TimeoutError:
                        yield ": still here\n\n"
            finally:
                console.listeners.discard(queue)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    def action(work: Callable[..., object], *names: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await _json_body(request)
            try:
                result = await console.run(work, *[request.path_params[n] for n in names], body)
            except ConsoleError as error:
                return JSONResponse({"error": str(error)}, status_code=error.status)
            return JSONResponse(result if result is not None else {"ok": True})
        return endpoint

    async def sequence(request: Request) -> Response:
        try:
            return JSONResponse(await console.run(console.sequence, request.path_params["call_id"]))
        except ConsoleError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)

    routes = [
        Route("/", index), Route("/api/info", info), Route("/api/state", state), Route("/api/stream", stream),
        Route("/api/calls", action(lambda body: console.place_call(body)), methods=["POST"]),
        Route("/api/calls/{call_id}/press",
              action(lambda call_id, body: console.press(call_id, str(body.get("digits", ""))), "call_id"),
              methods=["POST"]),
        Route("/api/calls/{call_id}/hangup", action(lambda call_id, body: console.hangup(call_id), "call_id"),
              methods=["POST"]),
        Route("/api/calls/{call_id}/sequence", sequence),
        Route("/api/conferences/{conference_id}/members/{call_id}",
              action(lambda conference_id, call_id, body: console.rest(
                  "PUT", f"/conferences/{conference_id}/members/{call_id}", _member_update(body)),
                  "conference_id", "call_id"), methods=["PUT"]),
        Route("/api/conferences/{conference_id}/end",
              action(lambda conference_id, body: console.rest(
                  "POST", f"/conferences/{conference_id}", {"status": "completed"}), "conference_id"),
              methods=["POST"]),
        Route("/api/clock", action(lambda body: console.clock(body)), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(console.broadcast())
        try:
            yield
        finally:
            task.cancel()

    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(_OnlyThisMachine, allowed_hosts=allowed_hosts)])


def _member_update(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("mute", "hold", "callIdsToCoach") if k in body}


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class _OnlyThisMachine:
    """Refuses requests not addressed to the console's own loopback host, and changes that are not JSON from
    the console's own origin (a plain cross-site form cannot send JSON without a preflight this app refuses)."""

    def __init__(self, app: ASGIApp, allowed_hosts: set[str]) -> None:
        self.app, self.allowed_hosts = app, allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        problem = None
        if host not in self.allowed_hosts:
            problem = f"this console answers only requests to {sorted(self.allowed_hosts)[0]}"
        elif scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if not headers.get("content-type", "").startswith("application/json"):
                problem = "changes are sent as application/json"
            elif origin is not None and origin != f"http://{host}":
                problem = "changes come only from the console's own page"
        if problem is None:
            return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse

        await JSONResponse({"error": problem}, status_code=403)(scope, receive, send)


def allowed_hosts(host: str, port: int) -> set[str]:
    names = {host, "localhost", "127.0.0.1"} if host in ("localhost", "127.0.0.1") else {host}
    return {f"{'[' + n + ']' if ':' in n else n}:{port}" for n in names}


def serve(bw: Bandwidth, target: str, host: str = "127.0.0.1", port: int = 0,
          ready: Callable[[str], object] = print) -> None:
    """Serve the console until interrupted; `ready` is told the page's URL once it listens."""
    import uvicorn

    if not is_loopback_host(host):
        raise ConsoleError(2, f"the console listens only on loopback (127.0.0.1, ::1, localhost), not {host}: "
                              "it has no login, and whoever reaches it drives your app")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), port))
        listener.listen(128)  # before the URL is shown: a page opened at once finds it listening
    except OSError as error:
        listener.close()
        raise ConsoleError(2, f"cannot listen on {host}:{port}: {error.strerror}") from None
    port = listener.getsockname()[1]
    console = Console(bw, target)
    app = create_app(console, allowed_hosts(host.strip("[]"), port))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, access_log=False)
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    ready(f"http://{shown}:{port}/")
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        console.worker.shutdown(wait=True)
        listener.close()
