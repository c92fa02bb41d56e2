"""The ASGI app: routes answered from the compiled documents, hooks, credentials, limits, lifespan.

Each route is answered by a plain ASGI callable behind Starlette's router (which gives 404, 405 and the
lifespan protocol): no Request or Response object per request, the body read straight from `receive`, the
headers read in one pass, the query string parsed only when there is one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import inspect
import json
import math
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flowc.runtime.documents import Document
from flowc.runtime.hooks import DEFAULT_HOOK_THREADS, Hook, Hooks, RequestContext, python_name
from flowc.runtime.payloads import is_flat, parse_body, query_fields, validate
from flowc.runtime.problem import Problem, log
from flowc.runtime.routes import ConferenceRoute, FlowRoute, Route
from flowc.runtime.schedule import STATES, WeeklyHours, now
from flowc.runtime.values import SlotRef

if TYPE_CHECKING:
    from flowc.runtime.rooms import KeysRoute, LobbyRoute, Rooms, RoomSpec, SiteSpec
    from flowc.runtime.services import Runtime
    from flowc.runtime.store import Timer
    from flowc.runtime.timers import TimerHandler
    from starlette.applications import Starlette

DEFAULT_BODY_LIMIT = 256 * 1024  # Bandwidth's payloads are a few KB; transcriptions can be longer
# Bandwidth waits callbackTimeout (15 s unless a statement sets it, 1 to 25 s) for a webhook's reply. Hooks get
# at most DEFAULT_HOOK_TIMEOUT (FLOWC_HOOK_TIMEOUT overrides it) and never more than HOOK_SHARE of the route's
# callbackTimeout, so the app answers (504) while Bandwidth still waits and can use its fallback.
DEFAULT_HOOK_TIMEOUT = 10.0
BANDWIDTH_CALLBACK_TIMEOUT = 15.0
HOOK_SHARE = 0.8
XML = "application/xml"

_XML_HEADERS = [(b"content-type", XML.encode())]
_JSON_HEADERS = [(b"content-type", b"application/json")]
_CHALLENGE = (b"www-authenticate", b'Basic realm="flowc"')

# ASGI, as the app uses it (the shapes Starlette declares)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
Number = TypeVar("Number", int, float)
HookValue = Callable[[str, str], Awaitable[str]]  # a hook's value by name, for the document file asking
RoomEffects = Callable[[], Awaitable[None]]  # a room's side effects, run after the reply (flowc.runtime.rooms)


class Request:
    """What the app reads of one HTTP request, taken from the ASGI scope in one pass over the headers."""

    __slots__ = ("method", "query", "authorization", "content_type", "content_length", "host")

    def __init__(self, scope: Scope) -> None:
        self.method: str = scope["method"]
        self.query: bytes = scope.get("query_string", b"")
        self.authorization: str | None = None
        self.content_type: str | None = None
        self.content_length: str | None = None
        self.host: str | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorization = self.authorization or value.decode("latin-1")
            elif name == b"content-type":
                self.content_type = self.content_type or value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = self.content_length or value.decode("latin-1")
            elif name == b"host":
                self.host = self.host or value.decode("latin-1")


async def _tested_value(ref: SlotRef, route: Route, hook_value: HookValue) -> str:
    """A value a branch tests: a hook's (through the request's cache), business hours' state now, or an
    environment variable read per request (a switch, unlike a secret filled into a document; unset is "")."""
    if ref.source == "hook":
        return await hook_value(ref.name, route.path)
    if ref.source == "hours":
        return await hours_state(ref.name, route, hook_value)
    return os.environ.get(ref.name, "")


async def hours_state(name: str, route: Route, hook_value: HookValue) -> str:
    """"open" or "closed" for `when NAME open`, at this instant (flowc.runtime.schedule), unless the declaration's
    override hook answers "open" or "closed" (any case)."""
    schedule = next(s for s in _schedules(route) if s.name == name)
    if schedule.override is not None:
        given = (await hook_value(schedule.override, route.path)).strip().lower()
        if given in STATES:
            return given
        if given:
            log.warning("hook %s returned %r for hours %s: not open or closed, so the hours decide",
                        schedule.override, given, name)
    return schedule.state(now())


def _schedules(route: Route) -> tuple[WeeklyHours, ...]:
    return route.schedules if isinstance(route, FlowRoute) else ()  # only a flow's branches test hours


def _load_hours(routes: tuple[Route, ...]) -> None:
    """Fail at start-up, not at the first call, when a zone is missing from this server's time zone database
    (Windows needs `pip install tzdata`) or FLOWC_NOW is not an instant."""
    schedules = [s for route in routes for s in _schedules(route)]
    if schedules:
        moment = now()
        for schedule in schedules:
            schedule.state(moment)


class WebhookApp:
    """Documents + routes + hooks; `asgi()` wraps them in a Starlette router."""

    def __init__(self, documents: dict[str, Document], routes: tuple[Route, ...], hooks: Hooks,
                 body_limit: int = DEFAULT_BODY_LIMIT, hook_timeout: float = DEFAULT_HOOK_TIMEOUT,
                 stateful: bool = False, rooms: Rooms | None = None) -> None:
        self.documents, self.routes, self.hooks, self.body_limit = documents, routes, hooks, body_limit
        self.hook_timeout = hook_timeout
        self.stateful = stateful  # the lifespan opens the store and runs the timer and outbox loops
        self.rooms = rooms  # flowc.runtime.rooms.Rooms when the flows declare rooms

    @property
    def runtime(self) -> Runtime:
        """The stateful services (flowc.runtime.services.Runtime), opened on first use."""
        return self.hooks.state.runtime

    def choose(self, route: Route, data: dict[str, Any], event_type: str) -> tuple[str | None, RoomEffects | None]:
        """The document answering a request and a room's side effects to run after the reply (None): the
        route's own choice, or a room's (admission, the lobby, conference events, keys)."""
        rooms = self.rooms
        if rooms is None:
            return route.select(data, event_type), None
        kind = route.kind  # a room's routes are told apart by kind: flowc.runtime.rooms is imported only with rooms
        if kind == "room-lobby":
            return rooms.lobby(cast("LobbyRoute", route), data), None
        if kind == "room-keys":
            return None, rooms.key(cast("KeysRoute", route), data) if event_type == "dtmf" else None
        if isinstance(route, ConferenceRoute) and route.room:
            return rooms.event(route, data, lambda fields: route.select(fields, event_type))
        file = route.select(data, event_type)
        if file is not None and file in rooms.sites:
            file = rooms.admit(file, data)
        return file, None

    def room_of(self, route: Route, data: dict[str, Any]) -> str | None:
        """The Bandwidth name of the room a request is about (its hooks' control API defaults to it): from a
        room's conference event, or computed as the room's keys and lobby routes compute it."""
        room = getattr(route, "room", None)
        if self.rooms is None or not room or room not in self.rooms.rooms:
            return None
        if route.kind == "conference":
            name = data.get("name")
            return name if isinstance(name, str) and name else None
        try:
            return str(self.rooms.room_name(self.rooms.rooms[room], data))
        except (Problem, TypeError):  # a name made of fields this request lacks: the route answers why
            return None

    async def read_body(self, request: Request, receive: Receive) -> bytes:
        length = request.content_length
        limit = self.body_limit
        if length is not None and (not length.isdigit() or int(length) > limit):
            raise Problem(413, f"the body is larger than {limit} bytes")
        message = await receive()
        body: bytes = message.get("body", b"")
        if message["type"] == "http.request" and not message.get("more_body", False) and len(body) <= limit:
            return body  # the common case: the whole body in one message
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":  # nobody is left to answer: one log line, not a 500
                raise Problem(400, "the client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Problem(413, f"the body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()

    def hook_budget(self, route: Route) -> float:
        """Seconds the hooks of one request may take: the configured budget, within the route's callbackTimeout."""
        return min(self.hook_timeout, HOOK_SHARE * (route.hook_timeout or BANDWIDTH_CALLBACK_TIMEOUT))

    async def answer(self, route: Route, request: Request, receive: Receive) -> tuple[int, bytes, After | None]:
        """(status, body, what to do after the reply: an After or None)."""
        if not route.authorized(request.authorization, request.host):
            raise Problem(401, "missing or wrong credentials")
        body = b"" if request.method == "GET" else await self.read_body(request, receive)
        content_type = (request.content_type or "").lower()  # media types are case-insensitive
        data = parse_body(body, content_type, query_fields(request.query))
        payload = validate(data, route.conference, is_flat(body, content_type))
        event_type = payload.event_type
        hooks = self.hooks
        observer = hooks.observer(event_type)
        if observer is None and not route.tested_values(event_type):  # the common case: no user code first
            file, effects = self.choose(route, data, event_type)
            later = After(None, effects) if effects is not None else None
            if file is None:
                return 204, b"", later
            document = self.documents[file]
            if not document.has_hooks:
                return 200, document.render_sync(data), later
        loop = asyncio.get_running_loop()
        context = RequestContext(payload, data, route.path, loop.time() + self.hook_budget(route), hooks.state,
                                 loop, self.room_of(route, data))
        try:
            return await self._with_hooks(route, data, event_type, observer, context)
        except Problem as problem:
            problem.context = context  # what its hooks recorded is not to be sent (discard)
            raise

    async def _with_hooks(self, route: Route, data: dict[str, Any], event_type: str, observer: Hook | None,
                          context: RequestContext) -> tuple[int, bytes, After]:
        hooks = self.hooks
        later = After(context)
        if observer is not None:
            if observer.after_reply:
                later.observer = observer
            else:
                await hooks.observe(observer, context)
        computed: dict[str, str] = {}

        async def hook_value(name: str, file: str) -> str:
            """Each hook runs once per request, for the branch that tests it and the document that shows it."""
            if name not in computed:
                computed[name] = await hooks.value(name, file, context)
            return computed[name]
        tested = route.tested_values(event_type)
        if tested:  # `when hook(after_hours) ...`: the values the branches compare, beside the payload's fields
            data = {**data, **{ref.placeholder: await _tested_value(ref, route, hook_value) for ref in tested}}
        file, later.room = self.choose(route, data, event_type)
        if file is None:
            return 204, b"", later
        return 200, await self.documents[file].render(data, hook_value), later

    def endpoint(self, route: Route) -> Handler:
        app = self

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope)
            later: After | None = None
            try:
                try:
                    status, body, later = await app.answer(route, request, receive)
                except Problem:
                    raise
                except Exception:  # a bug: logged, answered like any other refusal, the server carries on
                    log.exception("%s %s failed", request.method, route.path)
                    raise Problem(500, "internal error") from None
            except Problem as problem:
                app.discard(problem)
                # Every refusal gets a line (with --no-access-log it is the only trace of, say, Bandwidth
                # sending credentials the server does not expect).
                log.warning("%s %s: %d %s", request.method, route.path, problem.status, problem.message)
                await _refuse(send, problem)
                return
            if status == 204:
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            else:
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-length", str(len(body)).encode()), *_XML_HEADERS]})
                await send({"type": "http.response.body", "body": body})
            if later is not None:
                await app.after_reply(later)

        return handle

    async def after_reply(self, later: After) -> None:
        """An `@after_reply` observer, then the side effects the request recorded (control API, conference
        policy): sent now, while Bandwidth already has its answer."""
        context = later.context
        if context is not None:
            if later.observer is not None:
                await self.hooks.observe_after_reply(later.observer, context)
            control = context._control
            if control is not None and control.effects:
                try:
                    await self.runtime.deliver(control)
                except Exception:  # the store or the network: what is not sent stays for the outbox loop
                    log.exception("%s: sending side effects after the reply failed", context.path)
        if later.room is not None:
            try:
                await later.room()
            except Exception:  # nobody is left to answer: logged (the outbox keeps what was not sent)
                log.exception("a room's side effects after the reply failed")

    def discard(self, problem: Problem) -> None:
        """A request refused after its hooks recorded side effects: they are not sent (see Problem.context)."""
        context = getattr(problem, "context", None)
        control = getattr(context, "_control", None)
        if control is not None:
            for effect_id in control.effects:
                self.runtime.store.settle(effect_id, "failed", 0)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Opens what the app needs for its requests and closes it at shutdown: the hook threads, and for a
        stateful app (rooms among them) the runtime: the store (refusing SQLite under several workers), the
        Bandwidth client, the timer and the outbox loops."""
        try:
            if self.stateful or self.rooms is not None:
                await self.runtime.start()
            yield
        finally:
            if self.hooks.state._runtime is not None:
                await self.hooks.state._runtime.stop()
            self.hooks.close()

    def asgi(self) -> Dispatch:
        from starlette.applications import Starlette
        from starlette.routing import Route as StarletteRoute

        endpoints = {r.path: self.endpoint(r) for r in self.routes}
        router = Starlette(routes=[StarletteRoute(path, _Endpoint(handle), methods=list(METHODS))
                                   for path, handle in endpoints.items()], lifespan=self.lifespan)
        router.state.webhooks = self
        return Dispatch(endpoints, router)


METHODS = frozenset(("GET", "HEAD", "POST"))


class After:
    """What a request leaves for after its reply: an `@after_reply` observer, the side effects it recorded."""

    __slots__ = ("context", "observer", "room")

    def __init__(self, context: RequestContext | None, room: RoomEffects | None = None) -> None:
        self.context = context
        self.observer: Hook | None = None
        self.room = room  # a room's side effects (flowc.runtime.rooms)


class Dispatch:
    """The app's ASGI entry: a request for one of the routes goes straight to its endpoint (one dict lookup,
    not one regular expression per route); everything else (404, 405, the lifespan, a root path) to the
    Starlette app built from the same endpoints, which answers it as it always has."""

    __slots__ = ("endpoints", "router", "state")

    def __init__(self, endpoints: dict[str, Handler], router: Starlette) -> None:
        self.endpoints, self.router, self.state = endpoints, router, router.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path") and scope["method"] in METHODS:
            handle = self.endpoints.get(scope["path"])
            if handle is not None:
                await handle(scope, receive, send)
                return
        await self.router(scope, receive, send)


class _Endpoint:
    """A plain ASGI callable: Starlette calls an object that is not a function as an ASGI app, without
    building a Request and a Response around it."""

    __slots__ = ("handle",)

    def __init__(self, handle: Handler) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send)


async def _refuse(send: Send, problem: Problem) -> None:
    content: dict[str, Any] = {"error": problem.message}
    if problem.detail is not None:
        content["detail"] = problem.detail
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
    headers = [(b"content-length", str(len(body)).encode()), *_JSON_HEADERS]
    if problem.status == 401:
        headers.append(_CHALLENGE)
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- the generated OUT/app.py ----------------------------------------------------------------------------------

def create_app(documents: dict[str, Document], routes: tuple[Route, ...], app_file: str, hooks_file: str,
               value_hooks: tuple[str, ...] = (), rooms: tuple[RoomSpec, ...] = (), sites: tuple[SiteSpec, ...] = (),
               stateful: bool = False) -> Dispatch:
    """The ASGI app of a generated OUT/app.py. FLOWC_HOOKS overrides where the hooks module is, FLOWC_MAX_BODY
    the request body limit in bytes, FLOWC_HOOK_TIMEOUT the hooks' time budget in seconds, FLOWC_HOOK_THREADS
    how many plain `def` hooks run at once. A `stateful` app (conference policy; or FLOWC_STATEFUL=1, for
    hooks that use the control API) opens its store at start-up and runs the timer and outbox loops; it
    refuses to start with SQLite under several workers."""
    path = Path(os.environ.get("FLOWC_HOOKS") or Path(app_file).resolve().parent / hooks_file)
    body_limit, hook_timeout, threads = _body_limit(), _hook_timeout(), _hook_threads()
    hooks = Hooks.load(path, threads)
    missing = [python_name(name) for name in value_hooks if python_name(name) not in hooks.functions]
    if missing and hooks.module is not None:
        log.warning("hooks module %s does not define %s: requests that need them answer 501", path,
                    ", ".join(missing))
    _report_unset_secrets(documents, routes)
    _load_hours(routes)
    stateful = stateful or os.environ.get("FLOWC_STATEFUL", "") == "1"
    register_timer_hooks(hooks)
    if stateful:
        hooks.state.runtime.check_workers()  # at import, so every worker stops with the reason
    room_state = None
    if rooms:
        from flowc.runtime.rooms import Rooms

        room_state = Rooms(rooms, sites, documents, hooks.state.runtime)
        room_state.routes = {route.path: route for route in routes}
        hooks.state.values["rooms"] = room_state  # hooks reach the rooms' controls through their context
    return WebhookApp(documents, routes, hooks, body_limit, hook_timeout, stateful, room_state).asgi()


TIMER_PREFIX = "on_timer_"


def register_timer_hooks(hooks: Hooks) -> None:
    """`on_timer_<kind>(timer, runtime)` in the hooks module runs the timers of that kind (scheduled with
    `context.state.runtime.timers.schedule_in(key, "<kind>", seconds, data)`); async or plain `def`."""
    runtime = hooks.state.runtime
    for name, function in hooks.functions.items():
        if name.startswith(TIMER_PREFIX) and len(name) > len(TIMER_PREFIX):
            runtime.on_timer(name[len(TIMER_PREFIX):], _timer_hook(hooks, function))


def _timer_hook(hooks: Hooks, function: Callable[..., Any]) -> TimerHandler:
    async def run(timer: Timer) -> None:
        runtime = hooks.state.runtime
        if inspect.iscoroutinefunction(function):
            await function(timer, runtime)
        else:
            await asyncio.get_running_loop().run_in_executor(hooks.state.pool, function, timer, runtime)
    return run


def _positive(name: str, unit: str, default: Number, convert: Callable[[str], Number]) -> Number:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value: Number | None = convert(raw)
    except ValueError:
        value = None
    if value is None or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number of {unit}, not {raw!r}")
    return value


def _body_limit() -> int:
    return _positive("FLOWC_MAX_BODY", "bytes", DEFAULT_BODY_LIMIT, lambda raw: int(raw) if raw.isdigit() else -1)


def _hook_timeout() -> float:
    return _positive("FLOWC_HOOK_TIMEOUT", "seconds", DEFAULT_HOOK_TIMEOUT, float)


def _hook_threads() -> int:
    return _positive("FLOWC_HOOK_THREADS", "threads", DEFAULT_HOOK_THREADS,
                     lambda raw: int(raw) if raw.isdigit() else -1)


def _report_unset_secrets(documents: dict[str, Document], routes: tuple[Route, ...]) -> None:
    """Say at start-up, not at the first call, that a secret the flows read with env() is missing. The app
    still starts (other routes work), but never serves without it: documents that need it answer 500 and
    routes whose credentials need it refuse every request (401)."""
    needed: dict[str, set[str]] = {}
    for document in documents.values():
        for name in document.secrets:
            needed.setdefault(name, set()).add(document.file)
    for route in routes:
        for credential in route.auth:
            for secret in (credential.username, credential.password):
                if secret.kind == "env":
                    needed.setdefault(secret.value, set()).add(f"credentials of {route.path}")
    for name in sorted(n for n in needed if n not in os.environ):
        log.error("environment variable %s is not set: requests that need it are refused until it is (%s)", name,
                  ", ".join(sorted(needed[name])))


def load_app(out: str | Path) -> Any:
    """Import OUT/app.py by path and return its ASGI app (what `flowc serve` runs)."""
    path = Path(out) / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `flowc compile -o {out}` with flowc[serve] installed")
    return import_file(f"flowc_app_{path_digest(path)}", path).app


def path_digest(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


def import_file(name: str, path: Path) -> Any:
    """Import a file as module `name`, registered in sys.modules first as a normal import does: dataclasses
    (with `from __future__ import annotations`), pydantic models and pickling look their module up there."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
