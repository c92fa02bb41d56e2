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

from flowc.analysis import Analysis, Body, RouteKind, analyse, callback_method, conference_event_url, join_attributes
from flowc.diagnostics import Span
from flowc.ir import Branch, Element, Project, Word
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

    @property
    def kind(self) -> RouteKind:
        return RouteKind.CONFERENCE if self.conference is not None else RouteKind.FLOW


@dataclass
class Plan:
    project: Project
    links: Links
    documents: list[Document]
    routes: list[Route]
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
            document = _handler_document(body, f"{owner.name}.{slugs[body.event]}",  # type: ignore[index]
                                         taken.setdefault(f"conference {owner.name}", set()))
            conferences.setdefault(owner.name, []).append(document)
            documents.append(document)
    asks = _counted_gathers(analysis, flows, documents)
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
    return Plan(project, links, documents, routes, asks)


def _counted_gathers(analysis: Analysis, flows: dict[str, list[Document]],
                     documents: list[Document]) -> dict[int, str]:
    """`gather ... then choice attempts 3 exhausted voicemail`: the documents `choice`'s route serves when an
    answer selects none of its branches (its default statements, then the same gather asking attempt 2, 3 ...;
    after the last, its default statements and a redirect to `voicemail`). Returns each counted gather's name
    in the callback URLs: its flow's, with `.2`, `.3` ... for a flow's later counted gathers."""
    tag, url = analysis.vocab.attempt_callback
    asks: dict[int, str] = {}
    per_flow: dict[str, int] = {}
    for element, _, body in analysis.tagged(tag):
        attempts, target = element.attempts, element.attribute(url)
        receiver = analysis.flows.get(target.value.value) if target and type(target.value) is Word else None
        if attempts is None or attempts.whole is None or receiver is None or body.flow is None:
            continue  # FC120 / FC121: nothing is counted
        per_flow[body.flow] = per_flow.get(body.flow, 0) + 1
        ask = asks[id(element)] = body.flow + (f".{per_flow[body.flow]}" if per_flow[body.flow] > 1 else "")
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
