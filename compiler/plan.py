"""Planning: which BXML documents a project compiles to, and which webhook routes serve them.

One document per flow body, per `when` branch and per conference handler; one route per flow and per
conference that receives events. This is the data behind OUT/manifest.json and the generated web app.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from flowc.diagnostics import Span
from flowc.ir import Attribute, Conference, Element, Project, Text
from flowc.links import CONFERENCE_PATH, FLOW_PATH, Links, resolve
from flowc.rooms import (
    KEYS_PATH,
    LOBBY_PATH,
    RoomPlan,
    Site,
    audio_elements,
    is_room,
    keys_elements,
    keys_for,
    lobby_elements,
    muted,
    named_join,
    needs_lobby,
    overflow_elements,
    role_kind,
    to_lobby_elements,
)

CONFERENCE_ROUTE_EVENTS = ["conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit",
                           "conferenceCompleted", "conferenceRedirect"]
NO_BXML_EVENTS = {"conferenceCompleted", "conferenceRecordingAvailable"}
EVENT_SLUGS = {
    "conferenceCreated": "created", "conferenceMemberJoin": "member-join", "conferenceMemberExit": "member-exit",
    "conferenceCompleted": "completed", "conferenceRedirect": "redirect",
    "conferenceRecordingAvailable": "recording-available",
}


@dataclass
class Document:
    file: str  # path under OUT
    flow: str  # the flow (or conference) the document belongs to
    context: str  # call | conference | transfer-answer
    span: Span
    elements: list[Element]
    branch: dict | None = None  # {"field": "digits", "values": ["1"]} for a `when` branch
    event: str | None = None  # the conference event a handler answers
    root: str = "Response"  # `Bxml` for what the app PUTs to /calls/{id}/bxml or /conferences/{id}/bxml


@dataclass
class Route:
    method: str
    path: str
    events: list[str]
    flow: str
    conference: str | None = None
    documents: list[Document] = field(default_factory=list)
    room: str | None = None  # a room's lobby or keys route (flowc.rooms)
    room_kind: str = ""  # lobby | keys


@dataclass
class Plan:
    project: Project
    links: Links
    documents: list[Document]
    routes: list[Route]
    rooms: list[RoomPlan] = field(default_factory=list)

    def flow_url(self, name: str) -> str:
        return FLOW_PATH.format(name=name)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


MAX_BRANCH_STEM = 64  # file names stay far below the 255 bytes file systems allow


def branch_file(flow: str, field: str, values: list[str], taken: set[str]) -> str:
    """`flows/route.digits-1-2.xml`; distinct for every branch even when values slug alike ("*" and "#")."""
    stem = f"{slug(field)}-{slug('-'.join(values))}"
    if len(stem) > MAX_BRANCH_STEM:
        digest = hashlib.sha256("\0".join([field, *values]).encode()).hexdigest()[:10]
        stem = f"{stem[:MAX_BRANCH_STEM - 11].rstrip('-.')}-{digest}"
    name, count = f"flows/{flow}.{stem}.xml", 1
    while name.casefold() in taken:  # `"a"` and `"A"` must not share a file on case-insensitive file systems
        count += 1
        name = f"flows/{flow}.{stem}-{count}.xml"
    taken.add(name.casefold())
    return name


def conference_event_url(conference: Conference) -> str | None:
    """The conferenceEventUrl a declared conference uses: its `events` setting, or a derived path."""
    setting = conference.setting("conferenceEventUrl")
    if setting is not None and isinstance(setting.value, Text):
        return setting.value.literal
    return CONFERENCE_PATH.format(name=conference.name) if receives_events(conference) else None


def receives_events(conference: Conference) -> bool:
    """Whether the app must receive the conference's events: it has handlers, or a policy the app runs."""
    return bool(conference.handlers) or conference.policy is not None


def conference_join_attributes(conference: Conference, join: Element) -> list[Attribute]:
    """`join support`: the declared settings (with a derived event URL) followed by the join's own."""
    attributes = list(conference.settings)
    if conference.setting("conferenceEventUrl") is None and receives_events(conference):
        url = conference_event_url(conference) or ""
        attributes.insert(0, Attribute("conferenceEventUrl", Text([url], conference.name_span),
                                       conference.name_span, conference.name_span, ""))
    own = {a.name for a in join.attributes}
    return [a for a in attributes if a.name not in own] + join.attributes


def plan(project: Project, links: Links | None = None) -> Plan:
    links = links or resolve(project)
    documents: list[Document] = []
    routes: list[Route] = []
    for file in project.files:
        for flow in file.flows:
            context = links.context(flow.name)
            flow_documents = [Document(f"flows/{flow.name}.xml", flow.name, context, flow.span, flow.body)]
            taken: set[str] = set()
            for branch in flow.branches:
                name = branch_file(flow.name, branch.field, branch.values, taken)
                flow_documents.append(Document(name, flow.name, context, branch.span, branch.body,
                                               branch={"field": branch.field, "values": branch.values}))
            documents.extend(flow_documents)
            methods = sorted({r.method for r in links.references_to(flow.name)} or {"POST"})
            for method in methods:
                routes.append(Route(method, FLOW_PATH.format(name=flow.name), links.events(flow), flow.name,
                                    documents=flow_documents))
        for conference in file.conferences:
            handler_documents = []
            for handler in conference.handlers:
                if handler.event in NO_BXML_EVENTS:
                    continue
                stem = f"conferences/{conference.name}.{EVENT_SLUGS[handler.event]}"
                handler_documents.append(Document(f"{stem}.xml", conference.name, "conference", handler.span,
                                                  handler.body, event=handler.event))
                used: set[str] = set()
                for branch in handler.branches:  # `when role host { ... }`: one document per branch
                    name = branch_file(stem.removeprefix("conferences/"), branch.field, branch.values, used)
                    handler_documents.append(Document(
                        "conferences/" + name.removeprefix("flows/"), conference.name, "conference", branch.span,
                        branch.body, event=handler.event, branch={"field": branch.field, "values": branch.values}))
            documents.extend(handler_documents)
            url = conference_event_url(conference)
            if url is None or "://" in url and not urlparse(url).path:
                continue
            method_setting = conference.setting("conferenceEventMethod")
            method = getattr(method_setting.value, "value", "POST") if method_setting else "POST"
            path = urlparse(url).path if "://" in url else url
            routes.append(Route(str(method), path, list(CONFERENCE_ROUTE_EVENTS), conference.name,
                                conference=conference.name, documents=handler_documents))
    result = Plan(project, links, documents, routes)
    plan_rooms(result)
    return result


# -- rooms (flowc.rooms explains the documents) ---------------------------------------------------------------

def plan_rooms(plan: Plan) -> None:
    project = plan.project
    rooms: dict[str, RoomPlan] = {}
    for conference in project.conferences.values():
        if is_room(conference):
            rooms[conference.name] = _room_plan(plan, conference)
    if not rooms:
        return
    for document in list(plan.documents):
        if document.context == "call":
            _plan_site(plan, rooms, document)
    plan.rooms = list(rooms.values())


def _room_plan(plan: Plan, conference: Conference) -> RoomPlan:
    policy = conference.policy
    assert policy is not None
    room = RoomPlan(conference, conference_event_url(conference) or "", LOBBY_PATH.format(name=conference.name),
                    KEYS_PATH.format(name=conference.name) if policy.keys else None)
    handlers = [d for d in plan.documents if d.flow == conference.name and d.context == "conference"]
    for index, tone in enumerate(policy.tones, 1):
        event = "conferenceMemberJoin" if tone.event == "join" else "conferenceMemberExit"
        variants = []
        answering: list[Document | None] = [d for d in handlers if d.event == event]
        for handler in answering or [None]:  # each document the event may be answered with, or none
            stem = handler.file[:-4] if handler else f"conferences/{conference.name}.{EVENT_SLUGS[event]}"
            file = f"{stem}.tone-{index}.xml"
            elements = audio_elements("play", tone.url, tone.span) + (handler.elements if handler else [])
            plan.documents.append(Document(file, conference.name, "conference", tone.span, elements, event=event))
            variants.append((handler.file if handler else "", file))
        room.tones.append((tone.event, tuple(tone.roles), tuple(variants)))
    if policy.warning is not None and policy.limit_span is not None:
        room.warning = f"rooms/{conference.name}.warning.xml"
        plan.documents.append(Document(room.warning, conference.name, "conference", policy.limit_span,
                                       audio_elements("say", policy.warning, policy.limit_span), root="Bxml"))
    return room


def _plan_site(plan: Plan, rooms: dict[str, RoomPlan], document: Document) -> None:
    at = next((i for i, e in enumerate(document.elements) if e.conference in rooms), None)
    if at is None:
        return
    join = document.elements[at]
    room = rooms[join.conference or ""]
    conference = room.conference
    kind = role_kind(conference, join.role)
    role = join.role or "member"
    before, after = document.elements[:at], document.elements[at + 1:]
    if kind in ("coach", "listener") and join.attribute("mute") is None:  # they join heard by nobody
        join = muted(join)
    keys = keys_elements(room) if keys_for(conference, role) else []
    joined = [*keys, join, *after]
    document.elements = [*before, *joined]
    # what the lobby route serves and the release PUTs: the room's name from the URL (flowc.rooms.templated)
    rejoined = [*(keys_elements(room, True) if keys else []),
                named_join(conference, join, conference_join_attributes(conference, join)), *after]
    stem = document.file[:-4].replace("/", ".")
    site = Site(document.file, conference.name, role, kind)

    def add(variant: str, elements: list[Element], root: str = "Response", folder: str = "flows") -> str:
        name = f"{document.file[:-4]}.room-{variant}.xml" if folder == "flows" else \
            f"rooms/{conference.name}/{stem}.{variant}.xml"
        plan.documents.append(Document(name, document.flow, document.context, document.span, elements,
                                       root=root))
        return name

    if needs_lobby(conference, kind):
        site.lobby = add("lobby", [*before, *to_lobby_elements(room, document.file)])
        site.loop = add("loop", lobby_elements(room, document.file), folder="rooms")
        site.join = add("join", rejoined, folder="rooms")
        site.release = add("release", rejoined, root="Bxml", folder="rooms")
    policy = conference.policy
    if policy is not None and (policy.cap is not None or any(k.action == "lock" for k in policy.keys)):
        site.full = add("full", [*before, *overflow_elements(room)])  # over the cap, or the room is locked
    room.sites.append(site)
    if not any(r.path == room.lobby_path for r in plan.routes) and site.lobby:
        plan.routes.append(Route("POST", room.lobby_path, ["redirect"], conference.name, room=conference.name,
                                 room_kind="lobby"))
    if room.keys_path and keys and not any(r.path == room.keys_path for r in plan.routes):
        plan.routes.append(Route("POST", room.keys_path, ["dtmf"], conference.name, room=conference.name,
                                 room_kind="keys"))
