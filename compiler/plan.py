"""Planning: which BXML documents a project compiles to, and which webhook routes serve them.

One document per flow body, per `when` branch and per conference handler; one route per flow and per
conference that receives events. This is the data behind OUT/manifest.json and the generated web app. The
bodies, their contexts, the links and the merged join settings come from the project's analysis
(flowc.analysis); the events and file names of conference handlers from the vocabulary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from flowc.analysis import Body, RouteKind, analyse, callback_method, conference_event_url, join_attributes
from flowc.diagnostics import Span
from flowc.ir import Element, Project
from flowc.links import FLOW_PATH, Links
from flowc.vocabulary import Context, vocabulary

# The events a declared conference's route receives: those its event URL is sent.
CONFERENCE_ROUTE_EVENTS = list(vocabulary().conference_event_url.events)
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
    branch: dict[str, Any] | None = None  # {"field": "digits", "values": ["1"]} for a `when` branch
    event: str | None = None  # the conference event a handler answers
    root: str = "Response"  # <Bxml> for `flow NAME as bxml` and the documents of update endpoints


@dataclass
class Route:
    method: str
    path: str
    events: list[str]
    flow: str
    conference: str | None = None
    documents: list[Document] = field(default_factory=list)

    @property
    def kind(self) -> RouteKind:
        return RouteKind.CONFERENCE if self.conference is not None else RouteKind.FLOW


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


def plan(project: Project, links: Links | None = None) -> Plan:
    analysis = analyse(project)
    links = links or analysis.links
    documents: list[Document] = []
    routes: list[Route] = []
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
            document = Document(f"conferences/{owner.name}.{slugs[body.event]}.xml", owner.name,  # type: ignore
                                Context.CONFERENCE, body.span, body.elements, event=body.event)
            conferences.setdefault(owner.name, []).append(document)
            documents.append(document)
    for file in project.files:
        for flow in file.flows:
            if flow.document is not None:
                continue  # a document for an update endpoint: your code sends it, no webhook asks for it
            methods = sorted({r.method for r in links.references_to(flow.name)} or {"POST"})
            for method in methods:
                routes.append(Route(method, FLOW_PATH.format(name=flow.name), links.events(flow), flow.name,
                                    documents=flows.get(flow.name, [])))
        for conference in file.conferences:
            url = conference_event_url(conference)
            if url is None or "://" in url and not urlparse(url).path:
                continue
            method = callback_method(conference.setting(vocabulary().conference_event_url.method_attribute or ""))
            path = urlparse(url).path if "://" in url else url
            routes.append(Route(method, path, list(CONFERENCE_ROUTE_EVENTS), conference.name,
                                conference=conference.name, documents=conferences.get(conference.name, [])))
    return Plan(project, links, documents, routes)


def _flow_document(body: Body, siblings: list[Document], taken: set[str], links: Links) -> Document:
    name = body.owner.name
    context = body.context  # the links' context, or the update endpoint a `flow NAME for ...` is sent to
    root = body.owner.root  # type: ignore[union-attr]
    branch = body.branch
    if branch is None:
        document = Document(f"flows/{name}.xml", name, context, body.span, body.elements, root=root)
    else:
        document = Document(branch_file(name, branch.field, branch.values, taken), name, context, branch.span,
                            branch.body, branch={"field": branch.field, "values": branch.values}, root=root)
    siblings.append(document)
    return document
