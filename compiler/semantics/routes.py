"""The routes of the generated web app and what each serves, decided from the project's analysis.

One route per flow (one per HTTP method its callers use; none for a `flow NAME for ...` document), per declared
conference that receives events, and per room's lobby and keys routes when a join of the room needs them; the
relative URLs of webhooks that take no BXML are flowc.semantics.event_routes'. It also owns the room decisions
the routes follow (which joins are a room's sites, a role's kind, whether a site needs the lobby or sends keys)
and which gathers are counted (`then choice attempts 3`).

The planner (flowc.backend.plan) makes its routes and documents from this table; the credentials each route
requires (flowc.semantics.credentials) read it too, so the checker's open-route rule needs no plan. Computed once
per analysis (`app_routes`). Imports only the core (no pydantic, lxml, jinja2).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from flowc.bxml.vocabulary import CALL, Context, vocabulary
from flowc.semantics.analysis import Analysis, Body, callback_method, conference_event_url
from flowc.semantics.event_routes import EventRoute, event_routes_of
from flowc.semantics.ir import Conference, Element, Flow, Word
from flowc.semantics.links import FLOW_PATH

if TYPE_CHECKING:
    from flowc.semantics.credentials import RouteAuth

LOBBY_PATH = "/rooms/{name}/lobby"
KEYS_PATH = "/rooms/{name}/keys"
# The events a declared conference's route receives: those its event URL is sent.
CONFERENCE_ROUTE_EVENTS = list(vocabulary().conference_event_url.events)


# -- rooms (flowc.backend.rooms writes their documents) ---------------------------------------------------------

def is_room(conference: Conference | None) -> bool:
    return conference is not None and conference.policy is not None


def role_kind(conference: Conference, role: str | None) -> str:
    """The kind of a join's role (`member` when none is written); an unknown role counts as a member (the
    checker reports it)."""
    policy = conference.policy
    found = policy.role(role or "member") if policy is not None else None
    return found.kind if found is not None else "member"


def needs_lobby(conference: Conference, kind: str) -> bool:
    policy = conference.policy
    return policy is not None and policy.lobby is not None and kind != "host"


def keys_for(conference: Conference, role: str) -> bool:
    policy = conference.policy
    return policy is not None and any(not key.roles or role in key.roles for key in policy.keys)


def site_join(elements: list[Element], rooms: Collection[str]) -> int | None:
    """Where a document in a call joins a room: its first top-level join of one (None if it joins none)."""
    return next((i for i, e in enumerate(elements) if e.conference in rooms), None)


@dataclass(frozen=True, slots=True)
class RoomSite:
    """A body in a call with a top-level join of a room: what its document needs."""

    body: Body
    at: int  # the join's index in body.elements
    conference: Conference
    role: str
    kind: str  # host | member | coach | listener
    keys: bool  # whether `start gather` sends the room's keys from before the join
    lobby: bool  # whether the caller may wait in the lobby first


# -- counted gathers -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CountedGather:
    """`gather ... then choice attempts 3 exhausted voicemail`: the receiving flow's route also serves the gather
    asking again and, after the last attempt, its continuation."""

    element: Element
    body: Body
    receiver: Flow
    ask: str  # its name in the callback URLs: its flow's, with `.2`, `.3` ... for a flow's later counted gathers


def counted_gathers(analysis: Analysis) -> list[CountedGather]:
    tag, url = analysis.vocab.attempt_callback
    found: list[CountedGather] = []
    per_flow: dict[str, int] = {}
    for element, _, body in analysis.tagged(tag):
        attempts, target = element.attempts, element.attribute(url)
        receiver = analysis.flows.get(target.value.value) if target and type(target.value) is Word else None
        if attempts is None or attempts.whole is None or receiver is None or body.flow is None:
            continue  # FC140 / FC141: nothing is counted
        per_flow[body.flow] = per_flow.get(body.flow, 0) + 1
        ask = body.flow + (f".{per_flow[body.flow]}" if per_flow[body.flow] > 1 else "")
        found.append(CountedGather(element, body, receiver, ask))
    return found


# -- the table -------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Served:
    """One document's worth of what a route serves: its statements, and for a room's site with keys the index
    of the join that `start gather` (sending the keys, with the application's credentials) is written before."""

    elements: list[Element]
    keys_at: int | None = None


@dataclass(slots=True)
class AppRoute:
    method: str
    path: str
    events: list[str]
    flow: str  # the flow, or the conference, it belongs to
    conference: str | None = None
    room: str | None = None  # a room's lobby or keys route
    room_kind: str = ""  # lobby | keys


@dataclass
class Routes:
    """The web app's routes of one analysis, in the order the planner lists them, and the no-BXML event routes
    whose paths are not among them."""

    analysis: Analysis
    routes: list[AppRoute]
    events: list[EventRoute]
    sites: list[RoomSite]
    counted: list[CountedGather]
    credentials: dict[str, RouteAuth] | None = None  # flowc.semantics.credentials.route_credentials, once
    _served: dict[str, list[Served]] | None = None

    def served(self, route: AppRoute) -> list[Served]:
        """What a route serves, document by document (nothing for a room's routes: they answer from its state).
        Found on the first call: the checker asks only about the routes that require no credentials."""
        if self._served is None:
            self._served = _served(self)
        if route.room is not None:
            return []
        return self._served.get(route.flow if route.conference is None else f"conference {route.flow}", [])


def app_routes(analysis: Analysis) -> Routes:
    """The routes of the analysed project (computed once per analysis)."""
    cached: Any = analysis.__dict__.get("_routes")
    if cached is None:
        cached = analysis.__dict__["_routes"] = _table(analysis)
    return cached  # type: ignore[no-any-return]


def _table(analysis: Analysis) -> Routes:
    project, links, vocab = analysis.project, analysis.links, analysis.vocab
    rooms = {name: c for name, c in analysis.conferences.items() if is_room(c)}
    sites = _sites(analysis, rooms)
    routes: list[AppRoute] = []
    method_attribute = vocab.conference_event_url.method_attribute or ""
    for file in project.files:
        for flow in file.flows:
            if flow.document is not None:
                continue  # a document for an update endpoint: your code sends it, no webhook asks for it
            path, references = FLOW_PATH.format(name=flow.name), links.references_to(flow.name)
            events = links.events(flow)
            for method in sorted({r.method for r in references}) if references else ("POST",):
                routes.append(AppRoute(method, path, events, flow.name))
        for conference in file.conferences:
            url = conference_event_url(conference)
            if url is None or "://" in url and not urlparse(url).path:
                continue
            method = callback_method(conference.setting(method_attribute))
            path = urlparse(url).path if "://" in url else url
            routes.append(AppRoute(method, path, list(CONFERENCE_ROUTE_EVENTS), conference.name,
                                   conference=conference.name))
    for site in sites:
        name = site.conference.name
        wanted = [(LOBBY_PATH, "lobby", ["redirect"], site.lobby), (KEYS_PATH, "keys", ["dtmf"], site.keys)]
        for template, kind, events, needed in wanted:
            path = template.format(name=name)
            if needed and not any(r.path == path for r in routes):
                routes.append(AppRoute("POST", path, events, name, room=name, room_kind=kind))
    return Routes(analysis, routes, event_routes_of(analysis, {r.path for r in routes}), sites,
                  counted_gathers(analysis))


def _served(table: Routes) -> dict[str, list[Served]]:
    """By flow name (and `conference NAME`): the documents its route serves, in the planner's order."""
    keys_at = {id(site.body): site.at for site in table.sites if site.keys}
    served: dict[str, list[Served]] = {}
    for body in table.analysis.bodies:
        if body.flow is not None:
            served.setdefault(body.flow, []).append(Served(body.elements, keys_at.get(id(body))))
        elif body.context is not Context.NO_BXML:
            served.setdefault(f"conference {body.owner.name}", []).append(Served(body.elements))
    for gather in table.counted:  # asked again after the receiver's own documents: what they add is the gather
        extra, attempts = served.setdefault(gather.receiver.name, []), gather.element.attempts
        assert attempts is not None and attempts.whole is not None
        if attempts.whole > 1:
            extra.append(Served([gather.element]))
        if attempts.continuation is not None:
            extra.append(Served([attempts.continuation]))
    return served


def _sites(analysis: Analysis, rooms: dict[str, Conference]) -> list[RoomSite]:
    if not rooms:
        return []
    found = []
    for body in analysis.bodies:
        at = site_join(body.elements, rooms) if body.flow is not None and body.context is CALL else None
        if at is None:
            continue
        join = body.elements[at]
        conference = rooms[join.conference or ""]
        kind, role = role_kind(conference, join.role), join.role or "member"
        found.append(RoomSite(body, at, conference, role, kind, keys_for(conference, role),
                              needs_lobby(conference, kind)))
    return found
