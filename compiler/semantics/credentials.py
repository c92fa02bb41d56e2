"""Webhook credentials: the application's own, and what every route of the web app requires.

Bandwidth sends Basic credentials with a webhook when the statement (or conference) causing it declares them
(`auth USER PASSWORD`), and with the application's own callbacks (initiate, answer ...) when the Bandwidth
application is set up with callback credentials. `application auth USER PASSWORD` declares those once per
project, `flow NAME on initiate auth USER PASSWORD` for one entry flow. The application's credentials are also
written into every statement that sends webhooks only to this app without credentials of its own (never into
one that also calls another host), and every route requires them unless a statement declares its own: a
webhook without credentials of its own (<Refer>, <Connect> cannot carry any) is taken to carry the
application's, as Bandwidth sends them with its callbacks.

This module is the one place that decides, per route, which credentials it accepts, which statements reach it
without any (FC706), which credentials it cannot check (FC705) and whether it stays open (FC711, FC712). The
routes are flowc.semantics.routes' table, so the checker reads the same answer as the web-app backend and the
manifest without planning, and it is computed once per analysis. Imports only the core (no pydantic, lxml,
jinja2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

from flowc.bxml.vocabulary import AttributeSpec, vocabulary
from flowc.core.codes import CODES
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span
from flowc.semantics.analysis import join_attributes
from flowc.semantics.ir import Attribute, Conference, Element, Env, Flow, Number, Project, Text, Value, Word, walk
from flowc.semantics.links import FLOW_PATH, Links
from flowc.semantics.routes import Routes, Served

PRIMARY = ("username", "password")
FALLBACK = ("fallbackUsername", "fallbackPassword")
APPLICATION_DECLARATION = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)"


@dataclass(frozen=True, slots=True)
class Key:
    """One half of a credential as the app checks it."""

    kind: str  # env | literal | sha256 (a literal password, kept only as its digest)
    value: str


@dataclass(frozen=True, slots=True)
class Pair:
    """A username and password a route accepts. A fallback pair (sent only to a fallback URL on another host)
    is accepted only on requests to that host, and only while the primary pair of the same statement is fully
    configured: a missing primary secret must not leave the fallback one as the way in."""

    username: Key
    password: Key
    fallback_host: str | None = None
    primary: Pair | None = None


@dataclass
class RouteAuth:
    """What one route of the web app requires."""

    path: str
    span: Span  # where the route comes from: the flow's or conference's name, or the first statement naming it
    pairs: list[Pair] = field(default_factory=list)
    unverified: list[Span] = field(default_factory=list)  # credentials computed per request (FC705)
    uncredentialed: list[tuple[Span, bool]] = field(default_factory=list)  # (where, is an entry flow) FC706
    callback_timeout: float | None = None  # seconds: the smallest callbackTimeout of the webhooks reaching it

    @property
    def is_open(self) -> bool:
        return not self.pairs


def application_credentials(project: Project) -> list[Attribute]:
    application = project.application
    return application.auth if application is not None else []


def is_served_here(value: Value) -> bool:
    """Whether a callback URL reaches this app: a flow's name or a relative URL (resolved against the URL of
    the document's own request, so on the same host)."""
    if isinstance(value, Word):
        return True
    if isinstance(value, Text):
        first = value.parts[0] if value.parts else ""
        return isinstance(first, str) and first.startswith("/") and not first.startswith("//")
    return False


def effective_attributes(tag: str, attributes: list[Attribute], application: list[Attribute]) -> list[Attribute]:
    """The attributes a statement is emitted with: its own, plus the application's credentials when it sends
    webhooks only to this app and declares none (so the routes they reach can require them)."""
    if not application or any(a.name in PRIMARY for a in attributes):
        return attributes
    spec = vocabulary().elements[tag]
    if "username" not in spec.attributes:
        return attributes
    urls = [a for a in attributes if _is_callback(spec.attributes.get(a.name)) and not a.name.endswith("FallbackUrl")]
    if not urls or not all(is_served_here(a.value) for a in urls):
        return attributes
    return attributes + application


def _is_callback(spec: AttributeSpec | None) -> bool:
    return spec is not None and spec.is_url and bool(spec.events)


def document_attributes(element: Element, project: Project, application: list[Attribute]) -> list[Attribute]:
    """What an element is written with: a declared conference's settings for `join NAME`, then the
    application's credentials where they apply. The BXML emitter and the checker both read this."""
    attributes = element.attributes
    if element.conference is not None:
        conference = project.conferences.get(element.conference)
        if conference is not None:
            attributes = join_attributes(conference, element)
    return effective_attributes(element.tag, attributes, application)


def secrets(elements: list[Element], project: Project, application: list[Attribute]) -> Iterator[Attribute]:
    """Attributes of a document that carry a secret: an `env()` value, read from the server's environment when
    the document is served. (A literal password is in the sources already, and FC404 says so.)"""
    for element in walk(elements):
        for attribute in document_attributes(element, project, application):
            if isinstance(attribute.value, Env):
                yield attribute


# -- per route ------------------------------------------------------------------------------------------------

def _key(value: Value, password: bool) -> Key | None:
    if isinstance(value, Env):
        return Key("env", value.name)
    if isinstance(value, Text) and value.literal is not None:
        if password:  # never keep a literal password in OUT, only its digest (FC404 already warns)
            return Key("sha256", hashlib.sha256(value.literal.encode()).hexdigest())
        return Key("literal", value.literal)
    return None  # a hook or payload value cannot be known before the request: not enforced


def _pair(attributes: list[Attribute], names: tuple[str, str], auth: RouteAuth) -> Pair | None:
    values = {a.name: a for a in attributes}
    if names[0] not in values or names[1] not in values:
        return None
    username, password = _key(values[names[0]].value, False), _key(values[names[1]].value, True)
    if username and password:
        return Pair(username, password)
    # Computed per request (hook or payload value): the app cannot know what Bandwidth will send back (FC705).
    auth.unverified.append(values[names[0] if username is None else names[1]].span)
    return None


def _path_of(value: Value) -> str | None:
    if isinstance(value, Word):
        return FLOW_PATH.format(name=value.value)
    if isinstance(value, Text) and value.literal is not None:
        return urlparse(value.literal).path or None
    return None


@dataclass(frozen=True, slots=True)
class _Declared:
    """The application's credentials, read once per project: the pair they make, or where they cannot be
    checked (FC705)."""

    attributes: list[Attribute]
    pair: Pair | None
    unverified: list[Span]


def _declared(application: list[Attribute]) -> _Declared:
    scratch = RouteAuth("", Span("", 0, 0))
    pair = _pair(application, PRIMARY, scratch) if application else None
    return _Declared(application, pair, scratch.unverified)


def _add_source(auth: RouteAuth, attributes: list[Attribute], url_attribute: str, application: _Declared) -> bool:
    """The credentials Bandwidth sends to the route from one statement: username/password, and the fallback
    pair when the fallback URL of the same callback has this path too (the same app behind another host); for
    a statement that declares none (or cannot: <Refer>, <Connect>), the application's. Returns whether the
    webhook carries any credentials."""
    declares = False
    fallback_url: Attribute | None = None
    timeout: Value | None = None
    fallback_name = url_attribute[:-3] + "FallbackUrl" if url_attribute.endswith("Url") else ""
    for attribute in attributes:  # one pass: this runs for every statement reaching every route
        name = attribute.name
        if name in PRIMARY:
            declares = True
        elif name == fallback_name and fallback_url is None:
            fallback_url = attribute
        elif name == "callbackTimeout" and timeout is None:
            timeout = attribute.value
    if declares:
        primary = _pair(attributes, PRIMARY, auth)
    else:
        primary = application.pair
        auth.unverified.extend(application.unverified)
    if primary is not None:
        auth.pairs.append(primary)
    if fallback_url is not None and _path_of(fallback_url.value) == auth.path:
        fallback = _pair(attributes, FALLBACK, auth)
        if fallback is not None:
            literal = fallback_url.value.literal if isinstance(fallback_url.value, Text) else None
            host = urlparse(literal).hostname if literal and "://" in literal else None
            auth.pairs.append(Pair(fallback.username, fallback.password, host, primary))
    if isinstance(timeout, Number):
        seconds = timeout.in_unit("s")
        auth.callback_timeout = min(seconds, auth.callback_timeout or seconds)
    return declares or bool(application.attributes)


def route_credentials(table: Routes) -> dict[str, RouteAuth]:
    """Per path served by the web app (flows, conferences, relative no-BXML URLs), what it requires. Computed
    once per table: the compile's manifest, web app and FC711 read the same answer."""
    if table.credentials is None:
        table.credentials = _route_credentials(table, until_closed=False)
    return table.credentials


def open_routes(table: Routes) -> dict[str, RouteAuth]:
    """The routes that require no credentials, each computed in full. A route's statements are read only until
    one gives it credentials to require (the checker asks this of every project it checks; most routes are
    closed by their first statement)."""
    found = table.credentials if table.credentials is not None else _route_credentials(table, until_closed=True)
    return {path: auth for path, auth in found.items() if auth.is_open}


Steps = Iterator[None]  # one item per statement (or declaration) whose credentials were added to the route


def _route_credentials(table: Routes, until_closed: bool) -> dict[str, RouteAuth]:
    application = _declared(application_credentials(table.analysis.project))
    routes: dict[str, RouteAuth] = {}
    for auth, steps in _route_sources(table, application):
        for _ in steps:
            if until_closed and auth.pairs:
                break  # it requires credentials: whatever else reaches it, it is not open
        routes[auth.path] = auth
    for auth in routes.values():
        if len(auth.pairs) > 1:
            auth.pairs = list(dict.fromkeys(auth.pairs))
        if len(auth.unverified) > 1:
            auth.unverified = list(dict.fromkeys(auth.unverified))
        if auth.is_open:  # nothing is required, so nothing is refused: no statement lacks anything
            auth.uncredentialed = []
    return routes


def _route_sources(table: Routes, application: _Declared) -> Iterator[tuple[RouteAuth, Steps]]:
    """Each path's RouteAuth with the steps that fill it, in the table's order, then the no-BXML event routes."""
    analysis = table.analysis
    flows, conferences = analysis.flows, analysis.conferences
    joins: dict[str, list[Element]] = {}  # each declared conference's joins, found once
    for element, _ in analysis.links.conference_joins:
        if element.conference is not None:
            joins.setdefault(element.conference, []).append(element)
    seen: set[str] = set()
    for route in table.routes:  # a flow reached with GET and POST is planned twice: one route serves both
        if route.path in seen:
            continue
        seen.add(route.path)
        if route.room is not None:
            conference = conferences[route.room]
            auth = RouteAuth(route.path, conference.name_span)
            yield auth, _room_steps(auth, conference, application)
        elif route.conference:
            conference = conferences[route.conference]
            auth = RouteAuth(route.path, conference.name_span)
            yield auth, _conference_steps(auth, conference, joins.get(route.conference, []), application)
        else:
            flow = flows[route.flow]
            auth = RouteAuth(route.path, flow.name_span)
            yield auth, _flow_steps(auth, analysis.links, flow, conferences, application)
    for found in table.events:
        if found.uses:
            first_attributes, first_name = found.uses[0]
            auth = RouteAuth(found.path, next(a for a in first_attributes if a.name == first_name).span)
            yield auth, _event_steps(auth, found.uses, application)


def _room_steps(auth: RouteAuth, conference: Conference, application: _Declared) -> Steps:
    """A room's lobby and keys: reached from documents the app serves, which carry the application's
    credentials (written into their redirect and start gather)."""
    if application.attributes:
        _add_source(auth, [], "", application)
    else:
        auth.uncredentialed.append((conference.name_span, False))
    yield


def _conference_steps(auth: RouteAuth, conference: Conference, joins: list[Element], application: _Declared) -> Steps:
    _add_source(auth, conference.settings, "conferenceEventUrl", application)
    yield
    for element in joins:
        _add_source(auth, join_attributes(conference, element), "conferenceEventUrl", application)
        yield


def _event_steps(auth: RouteAuth, uses: list[tuple[list[Attribute], str]], application: _Declared) -> Steps:
    for attributes, name in uses:
        if not _add_source(auth, attributes, name, application):
            auth.uncredentialed.append((next(a for a in attributes if a.name == name).span, False))
        yield


def _flow_steps(auth: RouteAuth, links: Links, flow: Flow, conferences: dict[str, Conference],
                application: _Declared) -> Steps:
    references = links.references_to(flow.name)
    for reference in references:
        element = reference.element
        attributes = element.attributes
        if element.tag == "Conference" and element.conference in conferences:
            attributes = join_attributes(conferences[element.conference], element)
        if not _add_source(auth, attributes, reference.spec.name, application):
            auth.uncredentialed.append((reference.attribute.span, False))
        yield
    if flow.entry_events or not references:  # the Bandwidth application's own callbacks arrive here
        if flow.auth:
            pair = _pair(flow.auth, PRIMARY, auth)
        else:
            pair = application.pair
            auth.unverified.extend(application.unverified)
        if pair is not None:
            auth.pairs.append(pair)
        elif not flow.auth and not application.attributes:
            auth.uncredentialed.append((flow.name_span, True))
        yield


def manifest_auth(pair: Pair) -> dict[str, str]:
    """A pair as OUT/manifest.json lists it: the environment variables holding it (what the emulator sends).
    A literal username is listed as itself; a literal password only as its digest."""
    entry: dict[str, str] = {}
    for half, key in (("username", pair.username), ("password", pair.password)):
        entry[f"{half}_env" if key.kind == "env" else f"{half}_sha256" if key.kind == "sha256" else half] = key.value
    return entry


def manifest_entries(table: Routes) -> tuple[dict[str, str] | None, dict[str, dict[str, str]]]:
    """The manifest's `application.auth` (None when the project declares none) and each protected route's
    `auth` (its first pair: the one the statements and the application send), by path."""
    declared = _declared(application_credentials(table.analysis.project)).pair
    routes = {path: manifest_auth(auth.pairs[0]) for path, auth in route_credentials(table).items() if auth.pairs}
    return (manifest_auth(declared) if declared else None), routes


# -- diagnostics ----------------------------------------------------------------------------------------------

def _served_secrets(served: Served, project: Project, application: list[Attribute]) -> Iterator[Attribute]:
    """The secrets of one document a route serves; a room's site with keys writes `start gather` before its
    join, which carries the application's credentials (it sends its webhooks only to this app)."""
    at = len(served.elements) if served.keys_at is None else served.keys_at
    yield from secrets(served.elements[:at], project, application)
    if served.keys_at is not None:
        yield from (a for a in application if isinstance(a.value, Env))
    yield from secrets(served.elements[at:], project, application)


def open_route_diagnostics(table: Routes, code: str,
                           skip: Callable[[str], bool] = lambda file: False) -> list[Diagnostic]:
    """FC711 (`code`) for every route that requires no credentials, or FC712 for those of them that serve a
    secret. Without an application declaration the fix adds one, offered in one file (one per project)."""
    project = table.analysis.project
    application = application_credentials(project)
    documents = {r.path: r for r in reversed(table.routes)}
    found: list[tuple[str, Span, list[Label]]] = []
    for path, auth in (route_credentials(table) if code == "FC711" else open_routes(table)).items():
        if not auth.is_open or skip(auth.span.file):
            continue
        route = documents.get(path)
        carried = {a.value.span: a for served in (table.served(route) if route else [])
                   for a in _served_secrets(served, project, application)}
        if code == "FC712" and carried:
            names = dict.fromkeys(f"env({a.value.name})" for a in carried.values())  # type: ignore[union-attr]
            found.append((f"`{path}` requires no credentials but serves {', '.join(names)}: anyone who can reach "
                          "the web app can read them", auth.span,
                          [Label(span, f"{a.name}, served by `{path}`") for span, a in carried.items()]))
        elif code == "FC711" and not carried:
            found.append((f"`{path}` requires no credentials: anyone who can reach the web app can call it",
                          auth.span, []))
    fix_file = min((span.file for _, span, _ in found), default=None) if not application else None
    help = (f"declare the credentials the Bandwidth application sends on its callbacks: `{APPLICATION_DECLARATION}`"
            if not application else "declare `auth USER PASSWORD` on the statements that reach it")
    return [Diagnostic(code, CODES[code].severity, message, span, labels=labels, help=help,
                       fix=Fix("declare the application's callback credentials",
                               (Edit(Span(span.file, 0, 0), APPLICATION_DECLARATION + "\n\n"),))
                       if span.file == fix_file else None)
            for message, span, labels in found]
