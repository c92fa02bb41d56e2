"""Planning: which BXML documents a project compiles to, and which webhook routes serve them.

One document per flow body, per `when` branch and per conference handler (and the variants rooms and counted
gathers need); the routes serving them are flowc.semantics.routes' table, which the credentials and the checker
read too. This is the data behind OUT/manifest.json and the generated web app. The bodies, their contexts, the
links and the merged join settings come from the project's analysis (flowc.semantics.analysis); the events and
file names of conference handlers from the vocabulary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from flowc.backend.rooms import (
    RoomPlan,
    Site,
    audio_elements,
    keys_elements,
    lobby_elements,
    muted,
    named_join,
    overflow_elements,
    to_lobby_elements,
)
from flowc.bxml.vocabulary import Context, vocabulary
from flowc.core.diagnostics import Span
from flowc.semantics.analysis import (
    Analysis,
    Body,
    RouteKind,
    analyse,
    conference_event_url,
    join_attributes,
)
from flowc.semantics.ir import Branch, Conference, Element, Project
from flowc.semantics.links import FLOW_PATH, Links
from flowc.semantics.routes import (
    CONFERENCE_ROUTE_EVENTS,
    KEYS_PATH,
    LOBBY_PATH,
    CountedGather,
    Routes,
    app_routes,
    is_room,
    keys_for,
    needs_lobby,
    role_kind,
    site_join,
)

# The conference events whose reply takes no BXML (their handlers compile to no document).
NO_BXML_EVENTS = {name for name, e in vocabulary().events.items() if e.phrase and e.reply is None}
conference_join_attributes = join_attributes  # the name the emitters know
__all__ = ["CONFERENCE_ROUTE_EVENTS", "NO_BXML_EVENTS", "Document", "Plan", "Route", "branch_file",
           "conference_event_url", "conference_join_attributes", "plan"]


@dataclass
class Document:
    file: str  # path under OUT
    flow: str  # the flow (or conference) the document belongs to
    context: Context  # call | conference | transfer-answer
    span: Span
    elements: list[Element]
    branch: dict[str, Any] | None = None  # {"source": "payload", "field": "digits", "values": ["1"]}: a branch
    event: str | None = None  # the conference event a handler answers
    root: str = "Response"  # <Bxml> for `flow NAME as bxml` and the documents of update endpoints
    # A counted gather's: {"ask": "main", "attempt": 2} asks again, {"ask": "main", "exhausted": "voicemail"}
    # follows the last failed attempt; both are served by the receiving flow's route
    attempt: dict[str, Any] | None = None


@dataclass
class Route:
    method: str
    path: str
    events: list[str]
    flow: str
    conference: str | None = None
    documents: list[Document] = field(default_factory=list)
    room: str | None = None  # a room's lobby or keys route (flowc.backend.rooms)
    room_kind: str = ""  # lobby | keys

    @property
    def kind(self) -> RouteKind:
        return RouteKind.CONFERENCE if self.conference is not None else RouteKind.FLOW


@dataclass
class Plan:
    project: Project
    links: Links
    documents: list[Document]
    routes: list[Route]
    table: Routes  # the routes as flowc.semantics.routes decides them (these follow it), with their credentials
    rooms: list[RoomPlan] = field(default_factory=list)
    asks: dict[int, str] = field(default_factory=dict)  # id() of each counted gather -> its `ask` in URLs

    def flow_url(self, name: str) -> str:
        return FLOW_PATH.format(name=name)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


MAX_BRANCH_STEM = 64  # file names stay far below the 255 bytes file systems allow


def branch_file(flow: str, field: str, values: list[str], taken: set[str], folder: str = "flows") -> str:
    """`flows/route.digits-1-2.xml`; distinct for every branch even when values slug alike ("*" and "#")."""
    stem = f"{slug(field)}-{slug('-'.join(values))}"
    if len(stem) > MAX_BRANCH_STEM:
        digest = hashlib.sha256("\0".join([field, *values]).encode()).hexdigest()[:10]
        stem = f"{stem[:MAX_BRANCH_STEM - 11].rstrip('-.')}-{digest}"
    name, count = f"{folder}/{flow}.{stem}.xml", 1
    while name.casefold() in taken:  # `"a"` and `"A"` must not share a file on case-insensitive file systems
        count += 1
        name = f"{folder}/{flow}.{stem}-{count}.xml"
    taken.add(name.casefold())
    return name


def plan(project: Project, links: Links | None = None) -> Plan:
    analysis = analyse(project)
    links = links or analysis.links
    table = app_routes(analysis)
    documents: list[Document] = []
    slugs = {name: e.slug for name, e in vocabulary().events.items()}
    flows: dict[str, list[Document]] = {}
    taken: dict[str, set[str]] = {}
    conferences: dict[str, list[Document]] = {}
    for body in analysis.bodies:
        owner = body.owner
        if body.flow is not None:
            flows.setdefault(owner.name, [])
            documents.append(_flow_document(body, flows[owner.name], taken.setdefault(owner.name, set()), links))
        elif body.context is not Context.NO_BXML:
            document = _handler_document(body, f"{owner.name}.{slugs[body.event]}",  # type: ignore[index]
                                         taken.setdefault(f"conference {owner.name}", set()))
            conferences.setdefault(owner.name, []).append(document)
            documents.append(document)
    asks = _counted_gathers(analysis, table.counted, flows, documents)
    hours = project.hours
    for document in documents:  # `when office open`: a branch on declared business hours, not a payload field
        if document.branch and document.branch["source"] == "payload" and document.branch["field"] in hours:
            document.branch["source"] = "hours"
    routes = [Route(r.method, r.path, r.events, r.flow, conference=r.conference, room=r.room, room_kind=r.room_kind,
                    documents=[] if r.room is not None else
                    conferences.get(r.flow, []) if r.conference is not None else flows.get(r.flow, []))
              for r in table.routes]
    result = Plan(project, links, documents, routes, table, asks=asks)
    plan_rooms(result)
    return result


def _counted_gathers(analysis: Analysis, counted: list[CountedGather], flows: dict[str, list[Document]],
                     documents: list[Document]) -> dict[int, str]:
    """`gather ... then choice attempts 3 exhausted voicemail`: the documents `choice`'s route serves when an
    answer selects none of its branches (its default statements, then the same gather asking attempt 2, 3 ...;
    after the last, its default statements and a redirect to `voicemail`). Returns each counted gather's name
    in the callback URLs (flowc.semantics.routes.counted_gathers decides which gathers count)."""
    asks: dict[int, str] = {}
    for gather in counted:
        element, receiver, ask = gather.element, gather.receiver, gather.ask
        attempts = element.attempts
        assert attempts is not None and attempts.whole is not None
        asks[id(element)] = ask
        context = analysis.flow_context(receiver)
        stem = f"flows/{receiver.name}.{ask}"
        planned = [Document(f"{stem}.attempt-{n}.xml", receiver.name, context, element.span,
                            [*receiver.body, element], attempt={"ask": ask, "attempt": n}, root=receiver.root)
                   for n in range(2, attempts.whole + 1)]
        if attempts.continuation is not None:
            planned.append(Document(f"{stem}.exhausted.xml", receiver.name, context, attempts.span,
                                    [*receiver.body, attempts.continuation], root=receiver.root,
                                    attempt={"ask": ask, "exhausted": attempts.exhausted}))
        flows.setdefault(receiver.name, []).extend(planned)
        documents.extend(planned)
    return asks


def branch_entry(branch: Branch) -> dict[str, Any]:
    """A branch as manifest.json and the web app's routes see it: what it tests and the values it serves."""
    return {"source": branch.source, "field": branch.field, "values": branch.values}


def _branch_stem(branch: Branch) -> str:
    """The tested value in a branch's file name: `digits`, `hook-after_hours`, `env-MODE`."""
    return branch.field if branch.source == "payload" else f"{branch.source}-{branch.field}"


def _flow_document(body: Body, siblings: list[Document], taken: set[str], links: Links) -> Document:
    name = body.owner.name
    context = body.context  # the links' context, or the update endpoint a `flow NAME for ...` is sent to
    root = body.owner.root  # type: ignore[union-attr]
    branch = body.branch
    if branch is None:
        document = Document(f"flows/{name}.xml", name, context, body.span, body.elements, root=root)
    else:
        document = Document(branch_file(name, _branch_stem(branch), branch.values, taken), name, context,
                            branch.span, branch.body, branch=branch_entry(branch), root=root)
    siblings.append(document)
    return document


def _handler_document(body: Body, stem: str, taken: set[str]) -> Document:
    """A conference handler's document (`conferences/support.member-join.xml`), or one of its `when` branches
    (`conferences/support.member-join.tag-coach.xml`)."""
    name = body.owner.name
    branch = body.branch
    if branch is None:
        return Document(f"conferences/{stem}.xml", name, Context.CONFERENCE, body.span, body.elements,
                        event=body.event)
    file = branch_file(stem, _branch_stem(branch), branch.values, taken, "conferences")
    return Document(file, name, Context.CONFERENCE, branch.span, branch.body, branch=branch_entry(branch),
                    event=body.event)


# -- rooms (backend.rooms explains the documents) ---------------------------------------------------------------

def plan_rooms(plan: Plan) -> None:
    project = plan.project
    rooms: dict[str, RoomPlan] = {}
    for conference in project.conferences.values():
        if is_room(conference):
            rooms[conference.name] = _room_plan(plan, conference)
    if not rooms:
        return
    for document in list(plan.documents):
        if document.context == Context.CALL:
            _plan_site(plan, rooms, document)
    plan.rooms = list(rooms.values())


def _room_plan(plan: Plan, conference: Conference) -> RoomPlan:
    policy = conference.policy
    assert policy is not None
    room = RoomPlan(conference, conference_event_url(conference) or "", LOBBY_PATH.format(name=conference.name),
                    KEYS_PATH.format(name=conference.name) if policy.keys else None)
    handlers = [d for d in plan.documents if d.flow == conference.name and d.context == Context.CONFERENCE]
    for index, tone in enumerate(policy.tones, 1):
        event = "conferenceMemberJoin" if tone.event == "join" else "conferenceMemberExit"
        variants = []
        answering: list[Document | None] = [d for d in handlers if d.event == event]
        for handler in answering or [None]:  # each document the event may be answered with, or none
            slug = vocabulary().events[event].slug
            stem = handler.file[:-4] if handler else f"conferences/{conference.name}.{slug}"
            file = f"{stem}.tone-{index}.xml"
            elements = audio_elements("play", tone.url, tone.span) + (handler.elements if handler else [])
            plan.documents.append(Document(file, conference.name, Context.CONFERENCE, tone.span, elements,
                                           event=event))
            variants.append((handler.file if handler else "", file))
        room.tones.append((tone.event, tuple(tone.roles), tuple(variants)))
    if policy.warning is not None and policy.limit_span is not None:
        room.warning = f"rooms/{conference.name}.warning.xml"
        context = Context.UPDATE_CONFERENCE  # PUT to the conference: a <Bxml> of conference verbs
        plan.documents.append(Document(room.warning, conference.name, context, policy.limit_span,
                                       audio_elements("say", policy.warning, policy.limit_span),
                                       root=vocabulary().document_root(context)))
    return room


def _plan_site(plan: Plan, rooms: dict[str, RoomPlan], document: Document) -> None:
    at = site_join(document.elements, rooms)
    if at is None:
        return
    join = document.elements[at]
    room = rooms[join.conference or ""]
    conference = room.conference
    kind = role_kind(conference, join.role)
    role = join.role or "member"
    before, after = document.elements[:at], document.elements[at + 1:]
    if kind in ("coach", "listener"):  # they join heard by nobody
        join = muted(join)
    keys = keys_elements(room) if keys_for(conference, role) else []
    joined = [*keys, join, *after]
    document.elements = [*before, *joined]
    # what the lobby route serves and the release PUTs: the room's name from the URL (flowc.backend.rooms.templated)
    rejoined = [*(keys_elements(room, True) if keys else []),
                named_join(conference, join, conference_join_attributes(conference, join)), *after]
    stem = document.file[:-4].replace("/", ".")
    site = Site(document.file, conference.name, role, kind)

    def add(variant: str, elements: list[Element], context: Context = Context.CALL, folder: str = "flows") -> str:
        name = f"{document.file[:-4]}.room-{variant}.xml" if folder == "flows" else \
            f"rooms/{conference.name}/{stem}.{variant}.xml"
        plan.documents.append(Document(name, document.flow, context, document.span, elements,
                                       root=vocabulary().document_root(context)))
        return name

    if needs_lobby(conference, kind):
        site.lobby = add("lobby", [*before, *to_lobby_elements(room, document.file)])
        site.loop = add("loop", lobby_elements(room, document.file), folder="rooms")
        site.join = add("join", rejoined, folder="rooms")
        site.release = add("release", rejoined, Context.UPDATE_CALL, folder="rooms")  # PUT to the call
    policy = conference.policy
    if policy is not None and (policy.cap is not None or any(k.action == "lock" for k in policy.keys)):
        site.full = add("full", [*before, *overflow_elements(room)])  # over the cap, or the room is locked
    room.sites.append(site)
