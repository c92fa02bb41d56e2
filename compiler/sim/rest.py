"""The emulated Voice REST API: Bandwidth's paths, bodies and status codes, served on loopback by uvicorn.

Under `/api/v2/accounts/{accountId}`: create a call (`POST /calls`, 201), read its state (`GET /calls/{id}`),
update it (`POST /calls/{id}`: redirect or hang up, 200), replace its BXML (`PUT /calls/{id}/bxml` with a
`<Bxml>` root, 204); read conferences (`GET /conferences`, `GET /conferences/{id}` with `activeMembers`),
update one (`POST /conferences/{id}`: `status: completed` or `redirectUrl`, 204), replace its BXML
(`PUT /conferences/{id}/bxml`, the six conference verbs only, 204), read and update a member
(`GET`/`PUT /conferences/{id}/members/{callId}`: mute, hold, callIdsToCoach, 204); recordings' media.
`POST /api/v1/oauth2/token` is the OAuth2 client-credentials token endpoint. Requests need Basic auth or a
bearer token when the emulator was given credentials, and any credentials otherwise.

Each request is carried out by the engine (under its lock, see Engine.submit) before it is answered, and the
calls it affects run until they wait again. The account's rate limits (flowc.sim.limits: creating calls, every
other request, active calls) are counted in the emulator's time first: a request over them is answered 429
with `Retry-After` and the reason, and is not carried out.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from flowc.sim.bxml import read_reply
from flowc.sim.engine import Actor, Endpoint, Engine, Room, SimCall
from flowc.sim.payloads import iso
from flowc.sim.timeline import RestRequest, redact_fields

if TYPE_CHECKING:
    from flowc.sim.api import Bandwidth


Params = dict[str, Any]  # a route's path parameters
Answer = tuple[int, Any]  # status, and a JSON value, bytes (media) or None (no body)


class ApiError(Exception):
    def __init__(self, status: int, description: str, kind: str = "validation") -> None:
        super().__init__(description)
        self.status, self.description, self.kind = status, description, kind


class RestServer:
    """uvicorn in a daemon thread on a socket bound at once (so the URL is known before it starts)."""

    def __init__(self, bandwidth: Bandwidth) -> None:
        self.bandwidth = bandwidth
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.origin = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn_config(build_app(self.bandwidth))
        self.server = _PromptServer(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="flowc-sim-rest", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.stop()
            self.thread.join(timeout=5)
        self.socket.close()


def uvicorn_config(app: Any) -> Any:
    import uvicorn

    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", date_header=False,
                          timeout_graceful_shutdown=1)


def _PromptServer(config: Any) -> Any:
    """A uvicorn server that stops as soon as asked (uvicorn's own loop looks every 0.1 s), so that starting
    and stopping an emulator per test costs milliseconds."""
    import asyncio

    import uvicorn

    class PromptServer(uvicorn.Server):
        stopping: asyncio.Event | None = None
        loop: asyncio.AbstractEventLoop | None = None
        stop_requested = False

        async def main_loop(self) -> None:
            self.loop, self.stopping = asyncio.get_running_loop(), asyncio.Event()
            if not self.stop_requested:
                await self.stopping.wait()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if self.server_state.connections:  # uvicorn's own shutdown waits 0.1 s for them
                await super().shutdown(sockets)
                return
            for server in self.servers:
                server.close()
            for server in self.servers:
                await server.wait_closed()

        def stop(self) -> None:
            self.stop_requested = self.should_exit = True
            if self.loop is not None and self.stopping is not None:
                self.loop.call_soon_threadsafe(self.stopping.set)

    return PromptServer(config)


def build_app(bandwidth: Bandwidth) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    api = VoiceApi(bandwidth)
    account = "/api/v2/accounts/{account_id}"
    table = [
        ("POST", "/calls", api.create_call), ("GET", "/calls/{call_id}", api.get_call),
        ("POST", "/calls/{call_id}", api.update_call), ("PUT", "/calls/{call_id}/bxml", api.update_call_bxml),
        ("GET", "/calls/{call_id}/recordings/{recording_id}/media", api.media),
        ("GET", "/conferences", api.list_conferences), ("GET", "/conferences/{conference_id}", api.get_conference),
        ("POST", "/conferences/{conference_id}", api.update_conference),
        ("PUT", "/conferences/{conference_id}/bxml", api.update_conference_bxml),
        ("GET", "/conferences/{conference_id}/members/{member_id}", api.get_member),
        ("PUT", "/conferences/{conference_id}/members/{member_id}", api.update_member),
        ("GET", "/conferences/{conference_id}/recordings/{recording_id}/media", api.media),
    ]
    routes = [Route(account + path, api.endpoint(handler), methods=[method]) for method, path, handler in table]
    routes.append(Route("/api/v1/oauth2/token", api.token, methods=["POST"]))
    return Starlette(routes=routes)


class VoiceApi:
    def __init__(self, bandwidth: Bandwidth) -> None:
        self.bandwidth = bandwidth
        self.tokens: set[str] = set()

    @property
    def engine(self) -> Engine:
        return self.bandwidth.engine

    # -- plumbing ----------------------------------------------------------------------------------------------

    def authorized(self, header: str) -> bool:
        expected = self.bandwidth.credentials
        if expected is None:
            return True
        if header.startswith("Bearer "):
            return header[7:] in self.tokens
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return secrets.compare_digest(f"{user}:{password}", f"{expected[0]}:{expected[1]}")
        return False

    def endpoint(self, handler: Callable[[Params, bytes], Answer]) -> Callable[[Any], Awaitable[Any]]:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse, Response

        async def serve(request: Any) -> Any:
            raw = await request.body()
            path, method = request.url.path, request.method
            problem = self.refusal(request, path)
            if problem is not None:
                status, content, headers = problem
                await run_in_threadpool(self.engine.submit, lambda: self.log(method, path, status, raw, content))
                return JSONResponse(content, status_code=status, headers=headers)

            def work() -> tuple[int, Any, dict[str, str] | None]:
                headers = None
                content: Any  # a JSON body, audio bytes, or None
                limited = self.limited(method, path)
                if limited is not None:
                    status, content, headers = limited
                else:
                    try:
                        status, content = handler(request.path_params, raw)
                    except ApiError as error:
                        status, content = error.status, {"type": error.kind, "description": error.description}
                self.log(method, path, status, raw, content)
                return status, content, headers

            status, reply, reply_headers = await run_in_threadpool(self.engine.submit, work)
            if isinstance(reply, bytes):
                return Response(reply, status_code=status, media_type="audio/wav")
            if reply is None:
                return Response(status_code=status)
            return JSONResponse(reply, status_code=status, headers=reply_headers)

        return serve

    def refusal(self, request: Any, path: str) -> tuple[int, dict[str, Any], dict[str, str] | None] | None:
        if not self.authorized(request.headers.get("authorization", "")):
            return 401, {"type": "authentication-error", "description": "bad credentials"}, \
                {"WWW-Authenticate": 'Basic realm="flowc.sim"'}
        if request.path_params.get("account_id") != self.bandwidth.account_id:
            return 403, {"type": "authorization-error", "description": "not your account"}, None
        limit = self.engine.faults.take("rate_limit", None, path)
        if limit is not None:
            return 429, {"type": "rate-limit", "description": "too many requests"}, \
                {"Retry-After": str(limit.retry_after)}
        return None

    def limited(self, method: str, path: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """429 when the request is over one of the account's rate limits (under the engine's lock)."""
        active = sum(1 for call in self.engine.calls.values() if call.state == "active")
        over = self.bandwidth.rate_limits.check(method, path, self.engine.now, active)
        if over is None:
            return None
        reason, seconds = over
        return 429, {"type": "rate-limit", "description": reason}, {"Retry-After": str(seconds)}

    def log(self, method: str, path: str, status: int, raw: bytes, content: Any) -> None:
        body: Any = raw.decode("utf-8", "replace")
        with contextlib.suppress(ValueError):
            body = json.loads(body) if body else None
        shown = None if isinstance(content, bytes) else content
        self.engine.record(RestRequest(self.engine.now, method, path, status, redact_fields(body),
                                       redact_fields(shown)))

    @staticmethod
    def json_body(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        return body

    def find_call(self, call_id: str, active: bool = False) -> SimCall:
        call = self.engine.calls.get(call_id)
        if call is None or (active and call.state != "active"):
            raise ApiError(404, f"call {call_id} not found" + (" or already completed" if call else ""),
                           "not-found")
        return call

    def find_room(self, conference_id: str, active: bool = False) -> Room:
        room = self.engine.rooms.get(conference_id)
        if room is None or (active and room.state != "active"):
            raise ApiError(404, f"conference {conference_id} not found" + (" or completed" if room else ""),
                           "not-found")
        return room

    # -- calls -------------------------------------------------------------------------------------------------

    def create_call(self, params: Params, raw: bytes) -> Answer:
        body = self.json_body(raw)
        missing = [k for k in ("from", "to", "applicationId", "answerUrl") if not body.get(k)]
        if missing:
            raise ApiError(400, f"missing required fields: {', '.join(missing)}")
        engine = self.engine
        call = engine.new_call(body["from"], body["to"], "outbound")
        call.base_url = body["answerUrl"]
        call.tag = body.get("tag")
        call.callback_timeout = float(body.get("callbackTimeout") or 15)
        call.app_credentials = (body["username"], body.get("password", "")) if body.get("username") else None
        if body.get("disconnectUrl"):
            call.disconnect = (body["disconnectUrl"], body.get("disconnectMethod") or "POST")
        endpoint = Endpoint(body["answerUrl"], body.get("answerMethod") or "POST", call.app_credentials,
                            body.get("answerFallbackUrl"), body.get("answerFallbackMethod") or "POST",
                            (body["fallbackUsername"], body.get("fallbackPassword", ""))
                            if body.get("fallbackUsername") else None, call.callback_timeout, body["answerUrl"])
        call_timeout = float(body.get("callTimeout") or 30)
        engine.start(call, engine.outbound(call, endpoint, call_timeout))
        fields = ("answerUrl", "answerFallbackUrl", "disconnectUrl", "username", "password", "fallbackUsername",
                  "fallbackPassword", "priority", "tag")
        response = {
            "applicationId": body["applicationId"], "accountId": self.bandwidth.account_id, "callId": call.id,
            "to": call.to, "from": call.from_, "enqueuedTime": iso(engine.now), "callUrl": engine.call_url(call),
            "callTimeout": call_timeout, "callbackTimeout": call.callback_timeout,
            "answerMethod": body.get("answerMethod") or "POST",
            "answerFallbackMethod": body.get("answerFallbackMethod") or "POST",
            "disconnectMethod": body.get("disconnectMethod") or "POST",
            **{k: body.get(k) for k in fields},
        }
        return 201, response

    def call_state(self, call: SimCall) -> dict[str, Any]:
        state = "disconnected" if call.state == "completed" else "answered" if call.answer_time is not None \
            else "initiated"
        return {
            "applicationId": self.engine.application_id, "accountId": self.bandwidth.account_id,
            "callId": call.id, "parentCallId": call.parent.id if call.parent else None, "to": call.to,
            "from": call.from_, "direction": call.direction, "state": state,
            "enqueuedTime": iso(call.start_time) if call.direction == "outbound" else None,
            "startTime": iso(call.start_time),
            "answerTime": iso(call.answer_time) if call.answer_time is not None else None,
            "endTime": iso(call.end_time) if call.end_time is not None else None,
            "disconnectCause": call.cause, "errorMessage": None, "errorId": None, "lastUpdate": iso(self.engine.now),
        }

    def get_call(self, params: Params, raw: bytes) -> Answer:
        return 200, self.call_state(self.find_call(params["call_id"]))

    def update_call(self, params: Params, raw: bytes) -> Answer:
        body = self.json_body(raw)
        call = self.find_call(params["call_id"], active=True)
        state = body.get("state") or "active"
        if state == "completed":
            if body.get("redirectUrl"):
                raise ApiError(400, "redirectUrl is not allowed when state is completed")
            self.engine.end_call(call, "hangup")
            return 200, None
        if state != "active":
            raise ApiError(400, f"state must be active or completed, not {state!r}")
        if "tag" in body:
            call.tag = body["tag"] or None
        if not body.get("redirectUrl"):
            if "tag" in body:
                return 200, None
            raise ApiError(400, "redirectUrl is required when state is active")
        self.engine.redirect(call, self.redirect_endpoint(body, call.callback_timeout, call.base_url))
        return 200, None

    @staticmethod
    def redirect_endpoint(body: dict[str, Any], timeout: float, base: str) -> Endpoint:
        credentials = (body["username"], body.get("password", "")) if body.get("username") else None
        fallback = (body["fallbackUsername"], body.get("fallbackPassword", "")) if body.get("fallbackUsername") \
            else None
        return Endpoint(body["redirectUrl"], body.get("redirectMethod") or "POST", credentials,
                        body.get("redirectFallbackUrl"), body.get("redirectFallbackMethod") or "POST", fallback,
                        timeout, base)

    def bxml(self, raw: bytes, context: str) -> tuple[ET.Element, ...]:
        reply = read_reply(raw.decode("utf-8", "replace"), context, root="Bxml", check=self.engine.options.strict)
        if reply.refused:
            raise ApiError(400, reply.reason)
        return reply.verbs

    def update_call_bxml(self, params: Params, raw: bytes) -> Answer:
        call = self.find_call(params["call_id"], active=True)
        self.engine.replace_bxml(call, self.bxml(raw, "call"))
        return 204, None

    def media(self, params: Params, raw: bytes) -> Answer:
        return 200, silent_wav(0.5)

    # -- conferences -------------------------------------------------------------------------------------------

    def conference(self, room: Room) -> dict[str, Any]:
        return {
            "id": room.id, "name": room.name, "createdTime": iso(room.created),
            "completedTime": iso(room.completed) if room.completed is not None else None,
            "conferenceEventUrl": room.event_url, "conferenceEventMethod": room.event_method, "tag": room.tag,
            "activeMembers": [self.member(room, call_id) for call_id in room.members],
        }

    def member(self, room: Room, call_id: str) -> dict[str, Any]:
        member = room.members[call_id]
        return {"callId": call_id, "conferenceId": room.id,
                "memberUrl": f"{self.bandwidth.api_url}/accounts/{self.bandwidth.account_id}/conferences/"
                             f"{room.id}/members/{call_id}",
                "mute": member.mute, "hold": member.hold, "callIdsToCoach": member.coaching}

    def list_conferences(self, params: Params, raw: bytes) -> Answer:
        return 200, [self.conference(room) for room in self.engine.rooms.values()]

    def get_conference(self, params: Params, raw: bytes) -> Answer:
        return 200, self.conference(self.find_room(params["conference_id"]))

    def update_conference(self, params: Params, raw: bytes) -> Answer:
        body = self.json_body(raw)
        room = self.find_room(params["conference_id"], active=True)
        status = body.get("status") or "active"
        if status == "completed":
            self.engine.end_room(room, "ended through the REST API")
            return 204, None
        if status != "active":
            raise ApiError(400, f"status must be active or completed, not {status!r}")
        if not body.get("redirectUrl"):
            raise ApiError(400, "redirectUrl is required when status is active")
        endpoint = self.redirect_endpoint(body, room.callback_timeout, room.base_url)
        self.engine.start(Actor(room.id + " redirect"), self._conference_redirect(room, endpoint))
        return 204, None

    def _conference_redirect(self, room: Room, endpoint: Endpoint) -> Generator[Any, Any, None]:
        engine = self.engine
        payload = engine.room_event(room, "conferenceRedirect")
        reply = yield from engine.fetch("conferenceRedirect", payload, endpoint, "conference", conference_id=room.id)
        if not isinstance(reply, str) and room.state == "active":
            engine.play_in_room(room, reply.verbs)

    def update_conference_bxml(self, params: Params, raw: bytes) -> Answer:
        room = self.find_room(params["conference_id"], active=True)
        self.engine.play_in_room(room, self.bxml(raw, "conference"))
        return 204, None

    def find_member(self, params: Params) -> tuple[Room, str]:
        room = self.find_room(params["conference_id"])
        if params["member_id"] not in room.members:
            raise ApiError(404, f"{params['member_id']} is not a member of {room.id}", "not-found")
        return room, params["member_id"]

    def get_member(self, params: Params, raw: bytes) -> Answer:
        return 200, self.member(*self.find_member(params))

    def update_member(self, params: Params, raw: bytes) -> Answer:
        body = self.json_body(raw)
        room, call_id = self.find_member(params)
        member = room.members[call_id]
        for name in ("mute", "hold"):
            if name in body and not isinstance(body[name], bool):
                raise ApiError(400, f"{name} must be true or false")
        coaching = body.get("callIdsToCoach")
        if coaching is not None:
            if not isinstance(coaching, list) or not all(isinstance(c, str) for c in coaching):
                raise ApiError(400, "callIdsToCoach must be an array of call ids")
            if room.coach_id not in (None, call_id):
                raise ApiError(400, f"the conference already has a coach ({room.coach_id})")
            member.coaching, room.coach_id = coaching, call_id
        member.mute = body.get("mute", member.mute)
        member.hold = body.get("hold", member.hold)
        self.engine.state(call_id, "member updated", json.dumps(body, sort_keys=True))
        return 204, None

    # -- OAuth2 ------------------------------------------------------------------------------------------------

    async def token(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        form = (await request.body()).decode()
        if "grant_type=client_credentials" not in form:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if not self.authorized(request.headers.get("authorization", "")):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})


def silent_wav(seconds: float, rate: int = 8000) -> bytes:
    """A mono 8 kHz 16-bit WAV of silence: what a fake recording's media URL serves."""
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data))
    return header + data
