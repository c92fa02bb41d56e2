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


@dataclass
class Route:
    method: str
    path: str
    events: list[str]
    flow: str
    conference: str | None = None
    documents: list[Document] = field(default_factory=list)


@dataclass
class Plan:
    project: Project
    links: Links
    documents: list[Document]
    routes: list[Route]

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
    return CONFERENCE_PATH.format(name=conference.name) if conference.handlers else None


def conference_join_attributes(conference: Conference, join: Element) -> list[Attribute]:
    """`join support`: the declared settings (with a derived event URL) followed by the join's own."""
    attributes = list(conference.settings)
    if conference.setting("conferenceEventUrl") is None and conference.handlers:
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
                handler_documents.append(Document(
                    f"conferences/{conference.name}.{EVENT_SLUGS[handler.event]}.xml", conference.name,
                    "conference", handler.span, handler.body, event=handler.event))
            documents.extend(handler_documents)
            url = conference_event_url(conference)
            if url is None or "://" in url and not urlparse(url).path:
                continue
            method_setting = conference.setting("conferenceEventMethod")
            method = getattr(method_setting.value, "value", "POST") if method_setting else "POST"
            path = urlparse(url).path if "://" in url else url
            routes.append(Route(str(method), path, list(CONFERENCE_ROUTE_EVENTS), conference.name,
                                conference=conference.name, documents=handler_documents))
    return Plan(project, links, documents, routes)
