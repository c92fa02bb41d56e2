"""The public face of the emulator: `Bandwidth`, and the `Call` and `Conference` handles it gives out.

Every method takes the engine's lock, does its work, and lets the emulator run until it is quiet again (see
flowc.sim.engine for the exact rule), so a test reads state that cannot change under it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.sim.clock import Parking
from flowc.sim.engine import DEFAULT_CALLBACK_TIMEOUT, Endpoint, Engine, Faults, Options, Room, SimCall
from flowc.sim.limits import RateLimits
from flowc.sim.timeline import Event, Webhook, render_text, to_data
from flowc.sim.transport import APP_ORIGIN, AsgiApp, AsgiTarget, HttpTarget, Target, load_out

if TYPE_CHECKING:
    from flowc.sim.rest import RestServer

# What `Bandwidth(OUT)` sets while it runs, so that code in OUT's app that calls Bandwidth's Voice API (base
# URL, account, credentials) reaches the emulator; the previous values come back when it closes.
STORE_VARIABLE = "FLOWC_STORE"


def _forget_cached_secrets() -> None:
    """The generated app reads each secret once per process (flowc.runtime.documents); the emulator changes
    the environment it reads, so the values read before are dropped."""
    from flowc.runtime import documents

    documents._environment.clear()


def _rooms_of(app: Any) -> Any:
    """The rooms of an in-process flowc app (flowc.runtime.rooms.Rooms), or None."""
    webhooks = getattr(getattr(app, "state", None), "webhooks", None)
    return getattr(webhooks, "rooms", None)


API_ENVIRONMENT = ("BANDWIDTH_API_URL", "BANDWIDTH_ACCOUNT_ID", "BANDWIDTH_USERNAME", "BANDWIDTH_PASSWORD",
                   "BANDWIDTH_TOKEN_URL")


class Bandwidth:
    """An emulated Bandwidth voice platform in front of an OUT directory's app (in-process) or any URL.

    `Bandwidth(OUT)` or `Bandwidth(url="http://127.0.0.1:8000")` (or `Bandwidth(app=asgi_app, manifest=...)`
    for any ASGI app in-process); use it as a context manager (or call close()) so its REST server stops.
    """

    def __init__(self, out: str | os.PathLike[str] | None = None, *, url: str | None = None,
                 app: AsgiApp | None = None,
                 manifest: dict[str, Any] | None = None,
                 credentials: tuple[str, str] | None = None,
                 callback_credentials: tuple[str, str] | None = None,
                 account_id: str = "9900000", settle_seconds: float = 30.0, seconds_per_word: float = 0.4,
                 audio_seconds: float = 5.0, audio_lengths: dict[str, float] | None = None,
                 answer_seconds: float = 1.0, strict: bool = True, seed: int = 0, rest: bool = True,
                 workers: int = 1, rate_limits: RateLimits | None = None) -> None:
        if sum(x is not None for x in (out, url, app)) != 1:
            raise ValueError("give one of: an OUT directory, url=, app=")
        self.account_id = account_id
        self.credentials = credentials
        # the account's Voice API limits (the vocabulary's unless given); .refused lists what went over them
        self.rate_limits = rate_limits or RateLimits()
        self._store_directory: Any = None  # a fresh store for an in-process app's rooms (FLOWC_STORE)
        self.manifest: dict[str, Any] = {}
        self._saved_environment: dict[str, str | None] = {}
        self._server: RestServer | None = None
        self._http = HttpTarget()
        self.workers = workers  # OUT's app loaded this many times, webhooks taking turns (shared store: Redis)
        self._runtime: Any = None  # a generated app's flowc.runtime services (flowc.sim.clock)
        try:
            self._start(out, url, app, manifest, rest, Options(
                settle_seconds=settle_seconds, seconds_per_word=seconds_per_word, audio_seconds=audio_seconds,
                audio_lengths=dict(audio_lengths or {}), answer_seconds=answer_seconds, strict=strict,
                account_id=account_id, seed=seed))
        except BaseException:
            self.close()
            raise
        self.callback_credentials = callback_credentials

    def _start(self, out: str | os.PathLike[str] | None, url: str | None, app: AsgiApp | None,
               manifest: dict[str, Any] | None, rest: bool, options: Options) -> None:
        if rest:
            from flowc.sim.rest import RestServer

            self._server = RestServer(self)
        targets: list[Target] = [self._http]
        if out is not None or app is not None:
            self.base_url = APP_ORIGIN
            self._point_app_at_emulator()
            more: list[AsgiApp] = []
            if out is not None:
                self._configure_callback_credentials(Path(out) / "manifest.json")
                self.manifest, app = load_out(Path(out))
                more = [load_out(Path(out))[1] for _ in range(self.workers - 1)]
            else:
                self.manifest = dict(manifest or {})
            assert app is not None  # given, or loaded from OUT
            targets.insert(0, AsgiTarget(app, *more))
            self._apps = [app, *more]
        else:
            assert url is not None  # __init__ made sure one of out, url, app is given
            self.base_url = url.rstrip("/")
        self.engine = Engine(targets, options, lambda: self.api_url)
        self.parking = Parking(self.engine)  # the app's work waiting in virtual time (flowc.sim.clock)
        for target in targets:
            if isinstance(target, AsgiTarget):
                target.parking = self.parking
        every = [_rooms_of(a) for a in getattr(self, "_apps", [])]
        self.rooms_of_workers = [r for r in every if r is not None]
        self.rooms = self.rooms_of_workers[0] if self.rooms_of_workers else None
        if app is not None:
            from flowc.sim.clock import attach

            # the app's timers and waits run on the virtual clock (flowc.sim.clock)
            self._runtime = attach(self.engine, app, self.parking)
            self._more_runtimes = [attach(self.engine, other, self.parking) for other in self._apps[1:]]
        self.engine.application_credentials = self._app_credentials
        if self._server is not None:
            self._server.start()

    # -- lifetime ----------------------------------------------------------------------------------------------

    def __enter__(self) -> Bandwidth:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        engine = getattr(self, "engine", None)
        if engine is not None and not engine.loop.is_closed():
            from flowc.sim.clock import detach

            self.parking.close()
            detach(engine, self._runtime)
            for other in getattr(self, "_more_runtimes", []):
                detach(engine, other)
            self._runtime = None
            engine.run_on_loop(self._http.close())
            engine.close()
        if any(value is None and not name.startswith(("BANDWIDTH_API", "FLOWC")) for name, value in
               self._saved_environment.items()):
            _forget_cached_secrets()  # the callback credentials set above go: the app must not keep them
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
        directory = self._store_directory
        if directory is not None:
            directory.cleanup()
            self._store_directory = None

    def _configure_callback_credentials(self, manifest: Path) -> None:
        """The Bandwidth application's callback credentials, which OUT names as environment variables: when
        they are not set, the emulator (playing the application whose callback user and password they are) sets
        them while it runs, so an in-process app and the emulator agree without a test configuring them."""
        import json
        import secrets

        try:
            auth = json.loads(manifest.read_text()).get("application", {}).get("auth", {})
        except (OSError, ValueError, AttributeError):
            return
        names = [auth.get("username_env"), auth.get("password_env")]
        if not all(isinstance(n, str) and n for n in names) or all(n in os.environ for n in names):
            return
        values = ("flowc-sim", secrets.token_hex(8))
        for name, value in zip(names, values, strict=True):
            if name not in os.environ:
                self._saved_environment[name] = None
                os.environ[name] = value
        _forget_cached_secrets()

    def _point_app_at_emulator(self) -> None:
        user, password = self.credentials or ("sim", "sim")
        values = (self.api_url, self.account_id, user, password, self.token_url)
        for name, value in zip(API_ENVIRONMENT, values, strict=True):
            self._saved_environment[name] = os.environ.get(name)
            os.environ[name] = value
        if not os.environ.get(STORE_VARIABLE):  # rooms keep state: a fresh store per emulator unless one is set
            import tempfile

            directory = tempfile.TemporaryDirectory(prefix="flowc-sim-store-")
            self._store_directory = directory
            self._saved_environment[STORE_VARIABLE] = None
            os.environ[STORE_VARIABLE] = f"sqlite:{directory.name}/state.sqlite"

    # -- the REST API ------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The emulated Voice API, e.g. http://127.0.0.1:PORT/api/v2 (paths /accounts/{accountId}/...)."""
        if self._server is None:
            return "http://127.0.0.1:9/api/v2"  # rest=False: a URL nothing answers
        return self._server.origin + "/api/v2"

    @property
    def token_url(self) -> str:
        """The OAuth2 client-credentials token endpoint (the SDK's `access_token_url`)."""
        origin = self._server.origin if self._server is not None else "http://127.0.0.1:9"
        return origin + "/api/v1/oauth2/token"

    # -- calls -------------------------------------------------------------------------------------------------

    def inbound(self, flow: str, from_: str = "+15559998765", to: str = "+15551112345",
                call_id: str | None = None, wait: bool = True, **fields: Any) -> Call:
        """A call comes in: `initiate` goes to the flow's URL (a flow name of OUT's manifest, a path, or a URL).
        Extra keyword arguments are payload fields (diversion=..., uui=..., sipHeaders=...). With
        `wait=False` it returns at once, the call started at this instant (`advance()` runs it): several calls
        can so arrive at the same moment."""
        with self.engine.lock:
            url = self._initiate_url(flow)
            engine = self.engine
            call = engine.new_call(from_, to, "inbound", call_id)
            call.base_url = url
            call.extra = fields
            call.app_credentials = self._app_credentials(url)
            disconnect = self._route_for_event("disconnect")
            call.disconnect = (disconnect, "POST") if disconnect else None
            endpoint = Endpoint(url, "POST", call.app_credentials, timeout=DEFAULT_CALLBACK_TIMEOUT, base=url)
            engine.start(call, engine.main(call, "initiate", endpoint))
            if wait:
                engine.settle()
            return Call(self, call)

    def advance(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass: timeouts, timers and loops run."""
        with self.engine.lock:
            self.engine.advance(seconds)

    @property
    def now(self) -> float:
        return self.engine.now

    @property
    def calls(self) -> list[Call]:
        with self.engine.lock:
            return [Call(self, c) for c in self.engine.calls.values()]

    def call(self, call_id: str) -> Call | None:
        with self.engine.lock:
            found = self.engine.calls.get(call_id)
            return Call(self, found) if found else None

    @property
    def callees(self) -> dict[str, str]:
        """How simulated callees (transfer targets, outbound calls, refer targets) behave, by number or SIP
        URI: "answer" (the default), "busy" or "no-answer"."""
        return self.engine.callees

    @property
    def faults(self) -> Faults:
        return self.engine.faults

    # -- conferences -------------------------------------------------------------------------------------------

    def conference(self, name: str) -> Conference | None:
        """The active conference of that name, or None."""
        with self.engine.lock:
            room = self.engine.active_rooms.get(name)
            return Conference(self, room) if room else None

    # -- what happened -----------------------------------------------------------------------------------------

    @property
    def webhooks(self) -> list[Webhook]:
        with self.engine.lock:
            return list(self.engine.webhooks)

    @property
    def events(self) -> list[Event]:
        with self.engine.lock:
            return list(self.engine.events)

    def timeline(self, verbs: bool = False) -> str:
        """Everything that happened, one line each, in virtual-time order."""
        return render_text(self.events, verbs)

    def timeline_data(self) -> list[dict[str, Any]]:
        return to_data(self.events)

    # -- OUT's manifest ----------------------------------------------------------------------------------------

    def _initiate_url(self, flow: str) -> str:
        if flow.startswith(("http://", "https://")):
            return flow
        if flow.startswith("/"):
            return self.base_url + flow
        if not self.manifest:
            return f"{self.base_url}/flows/{flow}"  # the path flowc's generated app gives a flow
        routes = [r for r in self.manifest.get("routes", []) if r.get("flow") == flow and r.get("bxml", True)]
        if not routes:
            known = sorted({r.get("flow") for r in self.manifest.get("routes", []) if r.get("flow")})
            raise ValueError(f"no flow {flow!r} in the manifest; its flows are: {', '.join(known)}")
        route = next((r for r in routes if "initiate" in r.get("events", ())), routes[0])
        path: str = route["path"]
        return self.base_url + path

    def _route_for_event(self, event_type: str) -> str | None:
        for route in self.manifest.get("routes", []):
            if event_type in route.get("events", ()):
                path: str = route["path"]
                return self.base_url + path
        return None

    def _app_credentials(self, url: str) -> tuple[str, str] | None:
        """The application's callback credentials: given explicitly, else those OUT declares for the route or
        the application (manifest `auth`: the names of environment variables, read as the app reads them)."""
        if self.callback_credentials is not None:
            return self.callback_credentials
        path = url[len(self.base_url):] if url.startswith(self.base_url) else None
        return declared_credentials(self.manifest, path)


def declared_credentials(manifest: dict[str, Any], path: str | None) -> tuple[str, str] | None:
    """The credentials OUT's manifest declares for the route at `path`, else the application's, with their
    values read from the environment (as the app reads them); None if neither is declared and set."""
    route = next((r for r in manifest.get("routes", []) if r.get("path") == path), None)
    for auth in ((route or {}).get("auth"), manifest.get("application", {}).get("auth")):
        credentials = _from_environment(auth)
        if credentials is not None:
            return credentials
    return None


def _from_environment(auth: Any) -> tuple[str, str] | None:
    if not isinstance(auth, dict):
        return None
    user, password = os.environ.get(auth.get("username_env", "")), os.environ.get(auth.get("password_env", ""))
    if user is None or password is None:
        return None
    return user, password


class Call:
    """A simulated call (inbound, outbound, or the callee leg of a transfer)."""

    def __init__(self, bandwidth: Bandwidth, call: SimCall) -> None:
        self._bandwidth, self._call = bandwidth, call

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.state}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Call) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def id(self) -> str:
        return self._call.id

    @property
    def state(self) -> str:
        """"active" or "completed"."""
        return self._call.state

    @property
    def heard(self) -> list[str]:
        """In order: each sentence's words and each audio file's URL, conference audio included."""
        return list(self._call.heard)

    @property
    def cause(self) -> str | None:
        """Why the call ended (hangup, busy, timeout, callback-error, invalid-bxml ...), None while active."""
        return self._call.cause

    @property
    def tag(self) -> str | None:
        return self._call.tag

    @property
    def from_(self) -> str:
        return self._call.from_

    @property
    def to(self) -> str:
        return self._call.to

    @property
    def direction(self) -> str:
        return self._call.direction

    @property
    def waiting(self) -> str:
        """What the call waits for now, in words."""
        wait = self._call.wait
        if self._call.state != "active":
            return "nothing (completed)"
        return getattr(wait, "what", "") or "nothing"

    def press(self, digits: str) -> None:
        """Press keys, one after another; after each the emulator runs until it is quiet."""
        engine = self._bandwidth.engine
        with engine.lock:
            for digit in digits:
                if self._call.state != "active":
                    raise RuntimeError(f"call {self.id} has ended; it cannot press {digit}")
                engine.press(self._call, digit)
                engine.settle()

    def hangup(self) -> None:
        engine = self._bandwidth.engine
        with engine.lock:
            engine.end_call(self._call, "hangup")
            engine.settle()


class Conference:
    """An emulated conference: its id, members, coach, and who hears whom."""

    def __init__(self, bandwidth: Bandwidth, room: Room) -> None:
        self._bandwidth, self._room = bandwidth, room

    def __repr__(self) -> str:
        return f"<Conference {self.name} {self.id} {len(self._room.members)} members>"

    @property
    def id(self) -> str:
        return self._room.id

    @property
    def name(self) -> str:
        return self._room.name

    @property
    def state(self) -> str:
        return self._room.state

    @property
    def members(self) -> list[Call]:
        return [Call(self._bandwidth, m.call) for m in self._room.members.values()]

    @property
    def coach(self) -> Call | None:
        coach = self._room.members.get(self._room.coach_id or "")
        return Call(self._bandwidth, coach.call) if coach else None

    def member(self, call: Call | str) -> dict[str, Any] | None:
        """A member's settings: {"mute", "hold", "callIdsToCoach"} (None if the call is not a member)."""
        found = self._room.members.get(_call_id(call))
        if found is None:
            return None
        return {"mute": found.mute, "hold": found.hold, "callIdsToCoach": found.coaching}

    def can_hear(self, listener: Call | str, speaker: Call | str) -> bool:
        calls = self._bandwidth.engine.calls
        first, second = calls.get(_call_id(listener)), calls.get(_call_id(speaker))
        if first is None or second is None or first.room is not self._room:
            return False
        return self._bandwidth.engine.can_hear(first, second)


def _call_id(call: Call | str) -> str:
    return call if isinstance(call, str) else call.id
