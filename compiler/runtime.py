"""What the generated web app runs: answer Bandwidth's webhooks with the precompiled BXML documents.

The generated OUT/app.py is only data (documents as pre-serialised XML segments, routes, credentials); this
module turns it into an ASGI app. Per request it checks credentials, reads and validates the payload, picks
the document (branch or conference event), fills the runtime values in (escaped), re-checks what the compiler
could not know (conference names, call ids, lengths) and answers `application/xml`. It keeps no state between
requests, so any number of workers can serve the same OUT.

Starlette rather than FastAPI: routes are fixed at compile time and payloads are validated by our own pydantic
models, so FastAPI's dependency injection and OpenAPI generation would only add per-request work and a
dependency. Starlette is imported lazily so the document/rendering part can be used (and benchmarked) alone.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import importlib.util
import inspect
import json
import keyword
import logging
import os
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from flowc.ir import FILTERS, SlotRef
from flowc.webhooks import Webhook, model_for
from pydantic import BaseModel, ValidationError

log = logging.getLogger("flowc.app")

DEFAULT_BODY_LIMIT = 256 * 1024  # Bandwidth's payloads are a few KB; transcriptions can be longer
XML = "application/xml"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]').search
# Tab, newline and carriage return as character references: a parser turns them into spaces in an attribute
# value (and \r\n into \n in text) when written as themselves.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
                          "\r": "&#13;"})


def escape(value: str) -> str:
    """XML-escape a runtime value for text or a double-quoted attribute; drop characters XML cannot hold."""
    if _SPECIAL(value) is None:  # the common case: nothing to do
        return value
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("", value)
    return value.translate(_ESCAPES)


def python_name(hook: str) -> str:
    """The function implementing hook(name): `-` becomes `_`, and a Python keyword gets a trailing `_`."""
    name = re.sub(r"\W", "_", hook)
    return name + "_" if keyword.iskeyword(name) else name


def snake(event_type: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", event_type).lower()


def observer_name(event_type: str) -> str:
    """The hooks-module function called for every webhook of this type: conferenceMemberJoin ->
    on_conference_member_join."""
    return "on_" + snake(event_type)


class Problem(Exception):
    """A request the app refuses: an HTTP status and a short explanation (JSON body)."""

    def __init__(self, status: int, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


# -- documents -----------------------------------------------------------------------------------------------

class Template:
    """Literal strings with slot values inserted at fixed positions: one list copy and one join per use."""

    __slots__ = ("pieces", "positions")

    def __init__(self, items: tuple[str | int, ...]) -> None:
        self.pieces = [item if isinstance(item, str) else "" for item in items]
        self.positions = [(position, item) for position, item in enumerate(items) if not isinstance(item, str)]

    def join(self, values: list[str]) -> str:
        pieces = self.pieces.copy()
        for position, index in self.positions:
            pieces[position] = values[index]
        return "".join(pieces)


@dataclass(slots=True)
class Check:
    """A rule on one attribute value or element text that holds runtime values, checked after filling in."""

    what: str  # e.g. "the conference name", "callIdsToCoach of <Conference>"
    items: tuple[str | int, ...]  # literal text (unescaped) or the index of a slot
    pattern: str | None = None  # the whole value (or each comma-separated item) must match
    each: bool = False
    max_length: int | None = None
    rule: str = ""  # the rule in words, for the error message
    _template: Template = field(init=False, repr=False, compare=False)
    _match: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._template = Template(self.items)
        self._match = re.compile(self.pattern).fullmatch if self.pattern is not None else None

    def verify(self, values: list[str]) -> None:
        self.check(self._template.join(values))

    def check(self, value: str) -> None:
        if self.max_length is not None and len(value) > self.max_length:
            raise Problem(422, f"{self.what} would be {len(value)} characters; at most {self.max_length} are allowed")
        if self._match is not None:
            for item in value.split(",") if self.each else (value,):
                if self._match(item) is None:
                    raise Problem(422, f"{self.what} would be {item!r}, which is not {self.rule}")


_environment: dict[str, str] = {}


def environment(name: str, file: str) -> str:
    """A secret from the environment, read once per process (restart the workers to rotate secrets)."""
    value = _environment.get(name)
    if value is None:
        value = os.environ.get(name)
        if value is None:
            log.error("environment variable %s is not set (used by %s)", name, file)
            raise Problem(500, "the server is not configured: a secret is missing")
        _environment[name] = value
    return value


def _getter(slot: SlotRef, file: str):
    """A function data -> the slot's value (before escaping), for payload and environment slots. One closure
    per kind, no nesting: this runs for every runtime value of every request."""
    name = slot.name
    if slot.source == "env":
        def get_env(data: dict) -> str:
            value = _environment.get(name)
            return value if value is not None else environment(name, file)
        return get_env if slot.filter is None else lambda data: FILTERS[slot.filter].apply(get_env(data))
    if slot.filter is None:
        def get(data: dict) -> str:
            value = data.get(name)
            return value if value.__class__ is str else text_of(value, name, file)
        return get
    remove = FILTERS[slot.filter].removed.sub

    def get_filtered(data: dict) -> str:
        value = data.get(name)
        return remove("", value if value.__class__ is str else text_of(value, name, file))
    return get_filtered


class Document:
    """A compiled BXML document: serialised XML segments with runtime slots (indexes into `slots`)."""

    __slots__ = ("file", "parts", "slots", "checks", "static", "template", "getters", "has_hooks", "fast")

    def __init__(self, file: str, parts: tuple[str | int, ...], slots: tuple[SlotRef, ...] = (),
                 checks: tuple[Check, ...] = ()) -> None:
        self.file, self.parts, self.slots, self.checks = file, parts, slots, checks
        self.static = "".join(p for p in parts if isinstance(p, str)).encode() if not slots else None
        self.template = Template(parts)
        self.getters = [None if slot.source == "hook" else _getter(slot, file) for slot in slots]
        self.has_hooks = any(slot.source == "hook" for slot in slots)
        self.fast = _specialise(self) if slots and not self.has_hooks else None

    async def render(self, data: dict, payload: Webhook | None = None, hooks: Hooks | None = None,
                     computed: dict[str, str] | None = None) -> bytes:
        """`computed`: the hook values the request already has (a branch tested them)."""
        if self.static is not None:
            return self.static
        if self.fast is not None:
            return self.fast(data)
        values = []
        computed = {} if computed is None else computed  # each hook runs once per request, however often used
        for slot, get in zip(self.slots, self.getters, strict=True):
            if get is not None:
                values.append(get(data))
                continue
            if slot.name not in computed:
                computed[slot.name] = await self.hook_value(slot.name, payload, hooks)
            value = computed[slot.name]
            values.append(FILTERS[slot.filter].apply(value) if slot.filter else value)
        return self.fill(values)

    def render_sync(self, data: dict) -> bytes:
        """Payload and environment slots only (no hooks): the benchmark's and tests' entry point."""
        if self.static is not None:
            return self.static
        if self.fast is None:  # only documents with hooks lack one: they need the payload and the event loop
            raise TypeError(f"{self.file} uses hooks: render it with `await render(...)`")
        return self.fast(data)

    def fill(self, values: list[str]) -> bytes:
        for check in self.checks:
            check.verify(values)
        return self.template.join([v if _SPECIAL(v) is None else escape(v) for v in values]).encode()

    async def hook_value(self, name: str, payload: Webhook | None, hooks: Hooks | None) -> str:
        if hooks is None:
            raise Problem(501, f"hook `{name}` is not available")
        return await hooks.value(name, payload, self.file)


def _specialise(document: Document):
    """A render function written for this one document (as dataclasses write __init__): straight-line code
    that reads each value, applies its filter, runs the checks and joins the escaped values with the XML
    around them. About twice as fast as the generic loop in Document.fill, which it must match exactly."""
    names = {"_text": text_of, "_env": environment, "_cache": _environment, "_special": _SPECIAL,
             "_escape": escape,
             "_safe": FILTERS["safe"].removed.sub, "_digits": FILTERS["digits"].removed.sub, "FILE": document.file,
             "CHECKS": document.checks}
    lines = ["def render(data):"]
    for i, slot in enumerate(document.slots):
        if slot.source == "env":
            lines += [f"    v{i} = _cache.get({slot.name!r})",
                      f"    if v{i} is None: v{i} = _env({slot.name!r}, FILE)"]
        else:
            lines += [f"    v{i} = data.get({slot.name!r})",
                      f"    if v{i}.__class__ is not str: v{i} = _text(v{i}, {slot.name!r}, FILE)"]
        if slot.filter is not None:
            lines.append(f"    v{i} = {'_safe' if slot.filter == 'safe' else '_digits'}('', v{i})")
    for k, check in enumerate(document.checks):
        value = " + ".join(repr(item) if isinstance(item, str) else f"v{item}" for item in check.items) or "''"
        lines.append(f"    CHECKS[{k}].check({value})")
    for i in range(len(document.slots)):
        lines.append(f"    e{i} = v{i} if _special(v{i}) is None else _escape(v{i})")
    pieces = ", ".join(repr(part) if isinstance(part, str) else f"e{part}" for part in document.parts)
    lines.append(f"    return ''.join(({pieces},)).encode()")
    exec(compile("\n".join(lines), f"<flowc render {document.file}>", "exec"), names)  # noqa: S102
    return names["render"]


def text_of(value: Any, name: str, file: str) -> str:
    if value is None:
        raise Problem(422, f"payload field `{name}` is required by {file}")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise Problem(422, f"payload field `{name}` must be a text value")


# -- user hooks ----------------------------------------------------------------------------------------------

class Hooks:
    """The user's module: value hooks (hook(name) in .flow) and observers (on_<event>)."""

    def __init__(self, module: Any = None, path: str = "") -> None:
        self.module, self.path = module, path
        self.functions: dict[str, Any] = {}
        if module is not None:
            self.functions = {n: f for n, f in vars(module).items() if callable(f) and not n.startswith("_")}

    @classmethod
    def load(cls, path: Path) -> Hooks:
        if not path.is_file():
            log.warning("no hooks module at %s: flows that use hook(...) will answer 501", path)
            return cls()
        return cls(_import_file(f"flowc_hooks_{_digest(path)}", path), str(path))

    async def call(self, function: Any, payload: Webhook | None) -> Any:
        """`async def` hooks run on the event loop; plain `def` hooks in a worker thread, so a blocking lookup
        (a database, an HTTP API) does not stall the other requests (FastAPI's rule for endpoints). A hook that
        raises is logged with its traceback and answered 500; the server carries on."""
        try:
            if inspect.iscoroutinefunction(function):
                return await function(payload)
            from starlette.concurrency import run_in_threadpool

            result = await run_in_threadpool(function, payload)
            return await result if inspect.isawaitable(result) else result
        except (NotImplementedError, Problem):
            raise
        except Exception:
            name = getattr(function, "__name__", "?")
            log.exception("hook %s (%s) raised an exception", name, self.path)
            raise Problem(500, f"hook `{name}` failed") from None

    async def value(self, name: str, payload: Webhook | None, file: str) -> str:
        function = self.functions.get(python_name(name))
        if function is None:
            raise Problem(501, f"hook `{name}` (used by {file}) is not defined in the hooks module")
        try:
            result = await self.call(function, payload)
        except NotImplementedError:
            raise Problem(501, f"hook `{name}` (used by {file}) is not implemented yet") from None
        if isinstance(result, list | tuple):
            return ",".join(str(item) for item in result)
        if result is None:
            log.error("hook %s returned None (used by %s)", name, file)
            raise Problem(500, f"hook `{name}` returned no value")
        return str(result)

    async def observe(self, payload: Webhook) -> None:
        function = self.functions.get(observer_name(payload.event_type))
        if function is not None:
            try:
                await self.call(function, payload)
            except NotImplementedError:
                raise Problem(501, f"`{function.__name__}` is not implemented yet") from None


# -- routes --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Secret:
    kind: str  # env | literal | sha256 (a literal password, kept only as its digest)
    value: str

    def matches(self, given: bytes) -> bool:
        if self.kind == "env":
            expected = os.environ.get(self.value)
            if expected is None:
                log.error("environment variable %s is not set: every request to this route is refused", self.value)
                return False
            return hmac.compare_digest(given, expected.encode())
        if self.kind == "sha256":
            return hmac.compare_digest(hashlib.sha256(given).hexdigest().encode(), self.value.encode())
        return hmac.compare_digest(given, self.value.encode())


@dataclass(frozen=True, slots=True)
class Credential:
    username: Secret
    password: Secret

    def matches(self, username: bytes, password: bytes) -> bool:
        # Both are always compared, so the time taken does not tell which one was wrong.
        return self.username.matches(username) & self.password.matches(password)


@dataclass(frozen=True, slots=True)
class Choice:
    """A `when` branch: the document served when the tested value (a payload field, a hook or an environment
    variable, as a SlotRef) is one of `values`; `event`: the conference event of a handler's branch."""

    ref: SlotRef
    values: tuple[str, ...]
    file: str
    event: str | None = None


class Values:
    """The runtime values one request reads: a hook runs at most once per request, whether a branch tests it, a
    document fills it in, or both."""

    __slots__ = ("data", "payload", "hooks", "computed")

    def __init__(self, data: dict, payload: Webhook | None, hooks: Hooks | None) -> None:
        self.data, self.payload, self.hooks = data, payload, hooks
        self.computed: dict[str, str] = {}

    async def hook(self, name: str, file: str) -> str:
        if name not in self.computed:
            if self.hooks is None:
                raise Problem(501, f"hook `{name}` is not available")
            self.computed[name] = await self.hooks.value(name, self.payload, file)
        return self.computed[name]

    async def tested(self, choice: Choice) -> str:
        """The value a branch compares with its choices (an absent payload field is the empty text)."""
        ref = choice.ref
        if ref.source == "hook":
            return await self.hook(ref.name, choice.file)
        if ref.source == "env":  # read per request, unlike a secret filled into a document: a switch
            return os.environ.get(ref.name, "")
        value = self.data.get(ref.name)
        return text_of(value, ref.name, choice.file) if value is not None else ""


@dataclass(frozen=True)
class Route:
    path: str
    kind: str  # flow | conference | event
    events: tuple[str, ...] = ()
    default: str | None = None  # flow: the document served when no branch matches
    branches: tuple[Choice, ...] = ()  # in source order; a handler's carry its event
    by_event: dict[str, str] = field(default_factory=dict)  # conference: eventType -> document file
    silent: tuple[str, ...] = ()  # events answered with an empty 204 whatever the route
    auth: tuple[Credential, ...] = ()

    async def select(self, values: Values, event_type: str) -> str | None:
        """The file of the document answering this request, or None for an empty 204."""
        if event_type in self.silent or self.kind == "event":
            return None
        conference = self.kind == "conference"
        if conference and event_type not in self.by_event:
            return None
        for choice in self.branches:
            if conference and choice.event != event_type:
                continue
            if await values.tested(choice) in choice.values:
                return choice.file
        return self.by_event[event_type] if conference else self.default

    @property
    def files(self) -> tuple[str, ...]:
        """Every document the route may serve."""
        return tuple(f for f in (self.default, *self.by_event.values(), *(c.file for c in self.branches)) if f)


def authorized(route: Route, header: str | None) -> bool:
    if not route.auth:
        return True
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    username, _, password = decoded.partition(b":")
    ok = False
    for credential in route.auth:
        ok |= credential.matches(username, password)
    return ok


def is_flat(body: bytes, content_type: str) -> bool:
    """Whether parse_body reads flat text fields (query parameters or a form) rather than JSON."""
    return not body.strip() or content_type.startswith("application/x-www-form-urlencoded")


def parse_body(body: bytes, content_type: str, query: dict[str, str]) -> dict:
    """The payload's fields. Parameters written in the callback URL (`"/hooks/rec?tenant=acme"`) are kept
    under the body's own fields, so hooks can read them (`payload.model_extra`)."""
    if not body.strip():
        return dict(query)
    if content_type.startswith("application/x-www-form-urlencoded"):
        data = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            raise Problem(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Problem(400, "the body must be a JSON object")
    return {**query, **data} if query else data


@functools.cache
def _object_fields(model: type[Webhook]) -> frozenset[str]:
    """The JSON names of the fields holding an object (diversion, machineDetectionResult, sipHeaders ...)."""
    names = set()
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if any(typing.get_origin(k) is dict or isinstance(k, type) and (k is dict or issubclass(k, BaseModel))
               for k in kinds):
            names.add(info.alias or name)
    return frozenset(names)


def _unflatten(data: dict, model: type[Webhook]) -> dict:
    """Query parameters and form fields are flat text: an object field arrives as JSON text, or in some form
    this app cannot read. Decode the first; leave the second out of the typed payload (it stays in the raw
    data) rather than refuse the call over a field no document needs."""
    found = _object_fields(model) & data.keys()
    if not found:
        return data
    data = dict(data)
    for name in found:
        value = data[name]
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                decoded = None
            if isinstance(decoded, dict):
                data[name] = decoded
            else:
                del data[name]
    return data


def validate(data: dict, route: Route, flat: bool = False) -> Webhook:
    """The typed payload; `flat` for GET query parameters and form bodies."""
    event_type = data.get("eventType")
    event_type = event_type if isinstance(event_type, str) else ""
    model = model_for(event_type, route.kind == "conference" or event_type.startswith("conference"))
    try:
        return model.model_validate(_unflatten(data, model) if flat else data)
    except ValidationError as error:
        detail = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                  for e in error.errors(include_url=False, include_input=False)]
        raise Problem(422, "the payload does not match the webhook", detail) from None


class WebhookApp:
    """Documents + routes + hooks; `asgi()` wraps them in a Starlette app."""

    def __init__(self, documents: dict[str, Document], routes: tuple[Route, ...], hooks: Hooks,
                 body_limit: int = DEFAULT_BODY_LIMIT) -> None:
        self.documents, self.routes, self.hooks, self.body_limit = documents, routes, hooks, body_limit

    async def read_body(self, request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.body_limit):
            raise Problem(413, f"the body is larger than {self.body_limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.body_limit:
                raise Problem(413, f"the body is larger than {self.body_limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def answer(self, route: Route, request) -> tuple[int, bytes]:
        if not authorized(route, request.headers.get("authorization")):
            raise Problem(401, "missing or wrong credentials")
        body = b"" if request.method == "GET" else await self.read_body(request)
        content_type = request.headers.get("content-type", "").lower()  # media types are case-insensitive
        data = parse_body(body, content_type, request.query_params)
        payload = validate(data, route, is_flat(body, content_type))
        await self.hooks.observe(payload)
        values = Values(data, payload, self.hooks)
        file = await route.select(values, payload.event_type)
        if file is None:
            return 204, b""
        return 200, await self.documents[file].render(data, payload, self.hooks, values.computed)

    def endpoint(self, route: Route):
        from starlette.responses import JSONResponse, Response

        async def handle(request):
            try:
                try:
                    status, body = await self.answer(route, request)
                except Problem:
                    raise
                except Exception:  # a bug: logged, answered like any other refusal, the server carries on
                    log.exception("%s %s failed", request.method, route.path)
                    raise Problem(500, "internal error") from None
            except Problem as problem:
                # Every refusal gets a line (with --no-access-log it is the only trace of, say, Bandwidth
                # sending credentials the server does not expect).
                log.warning("%s %s: %d %s", request.method, route.path, problem.status, problem.message)
                content = {"error": problem.message}
                if problem.detail is not None:
                    content["detail"] = problem.detail
                headers = {"WWW-Authenticate": 'Basic realm="flowc"'} if problem.status == 401 else None
                return JSONResponse(content, status_code=problem.status, headers=headers)
            if status == 204:
                return Response(status_code=204)
            return Response(body, media_type=XML)

        return handle

    def asgi(self):
        from starlette.applications import Starlette
        from starlette.routing import Route as StarletteRoute

        return Starlette(routes=[StarletteRoute(r.path, self.endpoint(r), methods=["GET", "POST"])
                                 for r in self.routes])


def create_app(documents: dict[str, Document], routes: tuple[Route, ...], app_file: str, hooks_file: str,
               value_hooks: tuple[str, ...] = ()):
    """The ASGI app of a generated OUT/app.py. FLOWC_HOOKS overrides where the hooks module is,
    FLOWC_MAX_BODY the request body limit in bytes."""
    path = Path(os.environ.get("FLOWC_HOOKS") or Path(app_file).resolve().parent / hooks_file)
    hooks = Hooks.load(path)
    missing = [python_name(name) for name in value_hooks if python_name(name) not in hooks.functions]
    if missing and hooks.module is not None:
        log.warning("hooks module %s does not define %s: requests that need them answer 501", path,
                    ", ".join(missing))
    _report_unset_secrets(documents, routes)
    return WebhookApp(documents, routes, hooks, _body_limit()).asgi()


def _body_limit() -> int:
    raw = os.environ.get("FLOWC_MAX_BODY", "").strip()
    if not raw:
        return DEFAULT_BODY_LIMIT
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(f"FLOWC_MAX_BODY must be a positive number of bytes, not {raw!r}")
    return int(raw)


def _report_unset_secrets(documents: dict[str, Document], routes: tuple[Route, ...]) -> None:
    """Say at start-up, not at the first call, that a secret the flows read with env() is missing. The app
    still starts (other routes work), but never serves without it: documents that need it answer 500 and
    routes whose credentials need it refuse every request (401)."""
    needed: dict[str, set[str]] = {}
    for document in documents.values():
        for slot in document.slots:
            if slot.source == "env":
                needed.setdefault(slot.name, set()).add(document.file)
    for route in routes:
        for credential in route.auth:
            for secret in (credential.username, credential.password):
                if secret.kind == "env":
                    needed.setdefault(secret.value, set()).add(f"credentials of {route.path}")
    for name in sorted(n for n in needed if n not in os.environ):
        log.error("environment variable %s is not set: requests that need it are refused until it is (%s)", name,
                  ", ".join(sorted(needed[name])))


def load_app(out: str | Path):
    """Import OUT/app.py by path and return its ASGI app (what `flowc serve` runs)."""
    path = Path(out) / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `flowc compile -o {out}` with flowc[serve] installed")
    return _import_file(f"flowc_app_{_digest(path)}", path).app


def _digest(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


def _import_file(name: str, path: Path) -> Any:
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
