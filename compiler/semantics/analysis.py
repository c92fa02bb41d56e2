"""The analysis of a project: what the checker, the planner and the language server all read, computed once.

It owns:
- the bodies: one BXML document's worth of statements per flow body, `when` branch and conference handler,
  each with the context it runs in (`Context`: a call, a transfer answer, a conference reply, or no BXML);
- the sites: every statement with its vocabulary entry and its body, depth first, and by element name;
- the name links (flowc.semantics.links): which flows and conferences each statement names, and so which webhooks each
  flow answers and in which context its documents run;
- the joins: every `join`, the room it joins and its settings merged with its declared conference's;
- the HTTP method Bandwidth uses for a callback URL (`callback_method`, defined beside the name links, which
  record it first);
- the kinds of route the planner makes of it (`RouteKind`).

`analyse(project)` returns the analysis of a project, reusing the last ones while the project (and its files)
are the same objects: `flowc check`, then `flowc compile`'s planner, then the language server's features read
one analysis.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from flowc.bxml.vocabulary import CALL, Context, ElementSpec, Vocabulary, vocabulary
from flowc.core.diagnostics import Span
from flowc.semantics.ir import Attribute, Branch, Conference, Element, Flow, Project, Text, walk
from flowc.semantics.links import CONFERENCE_PATH, Links, callback_method, resolve_elements

__all__ = ["Analysis", "Body", "Context", "Join", "RouteKind", "Site", "analyse", "callback_method",
           "conference_event_url", "join_attributes"]


class RouteKind(StrEnum):
    """What a route of the generated web app serves."""

    FLOW = "flow"  # a flow's documents (BXML replies)
    CONFERENCE = "conference"  # a declared conference's handlers
    EVENT = "event"  # a webhook whose reply carries no BXML (recordings, transcriptions, dtmf ...)


@dataclass(slots=True)
class Body:
    """One BXML document's worth of statements: a flow body, a `when` branch or a conference handler."""

    owner: Flow | Conference
    elements: list[Element]
    context: Context
    span: Span  # the source the document comes from
    event: str | None = None  # the conference event a handler answers
    joins: bool = False  # whether it puts the call into a conference
    branch: Branch | None = None  # the `when` branch it is, if any

    @property
    def file(self) -> str:
        return self.owner.span.file

    @property
    def flow(self) -> str | None:
        """The flow it belongs to, as name resolution records it (None in a conference handler)."""
        return self.owner.name if type(self.owner) is Flow else None


Site = tuple[Element, ElementSpec, Body]


@dataclass
class Join:
    """A `join`: the room it joins and the settings it joins with (its declared conference's, then its own)."""

    element: Element
    body: Body
    key: str | None  # the conference name pattern ("support-{to|safe}"); joins with equal keys share a room
    settings: dict[str, Attribute]
    declared: Conference | None


def name_pattern(name: Text) -> str:
    """A conference name with its runtime values as placeholders: equal patterns name the same room."""
    return "".join(p if isinstance(p, str) else f"{{{p.source}:{p.name}|{p.filter or ''}}}" for p in name.parts)


def conference_event_url(conference: Conference) -> str | None:
    """The event URL a declared conference uses: its `events` setting, or a derived path."""
    setting = conference.setting(vocabulary().conference_event_url.name)
    if setting is not None and isinstance(setting.value, Text):
        return setting.value.literal
    return CONFERENCE_PATH.format(name=conference.name) if receives_events(conference) else None


def receives_events(conference: Conference) -> bool:
    """Whether the app must receive the conference's events: it has handlers, or a room policy the app runs."""
    return bool(conference.handlers) or conference.policy is not None


def join_attributes(conference: Conference, join: Element) -> list[Attribute]:
    """`join support`: the declared settings (with a derived event URL) followed by the join's own."""
    attributes = list(conference.settings)
    event_url = vocabulary().conference_event_url.name
    if conference.setting(event_url) is None and receives_events(conference):
        url = conference_event_url(conference) or ""
        attributes.insert(0, Attribute(event_url, Text([url], conference.name_span),
                                       conference.name_span, conference.name_span, ""))
    own = {a.name for a in join.attributes}
    return [a for a in attributes if a.name not in own] + join.attributes


class Analysis:
    """Bodies, sites, links, contexts and joins of one project (and which of its files came from BXML)."""

    def __init__(self, project: Project, vocab: Vocabulary, xml_contexts: dict[str, str]) -> None:
        self.project = project
        self.vocab = vocab
        self.xml_contexts = xml_contexts
        self.files = tuple(project.files)
        self.flows = project.flows
        self.conferences = project.conferences
        self.bodies = list(self._bodies())
        self.sites: list[Site] = []
        specs = vocab.elements
        join = vocab.join.name
        for body in self.bodies:
            _flatten(body.elements, body, specs, self.sites)
            body.joins = any(e.tag == join for e in body.elements)
        # Name resolution reads the same walk, then decides which webhook each flow's documents answer.
        self.links: Links = resolve_elements(project, ((site[0], site[2].flow) for site in self.sites))
        for body in self.bodies:
            if type(body.owner) is Flow:
                body.context = self.flow_context(body.owner)
        self.by_tag: dict[str, list[Site]] = {}
        for site in self.sites:
            self.by_tag.setdefault(site[0].tag, []).append(site)

    def tagged(self, *tags: str) -> Iterator[Site]:
        for tag in tags:
            yield from self.by_tag.get(tag, ())

    def is_xml(self, file: str) -> bool:
        return file in self.xml_contexts

    def flow_context(self, flow: Flow) -> Context:
        xml = self.xml_contexts.get(flow.span.file) or flow.document  # `flow NAME for update-call`
        return Context(xml) if xml is not None else self.links.context(flow.name)

    @cached_property
    def joins(self) -> list[Join]:
        found = []
        for element, _, body in self.tagged(self.vocab.join.name):
            declared = self.conferences.get(element.conference) if element.conference else None
            if declared is not None:
                key: str | None = name_pattern(declared.conference_name)
                settings = {a.name: a for a in join_attributes(declared, element)}
            else:
                texts = element.texts
                key = name_pattern(texts[0]) if texts and element.conference is None else None
                settings = {a.name: a for a in element.attributes}
            found.append(Join(element, body, key, settings, declared))
        return found

    def _bodies(self) -> Iterator[Body]:
        return bodies(self.project, self.vocab)


def bodies(project: Project, vocab: Vocabulary) -> Iterator[Body]:
    """Every body of the project in source order: per file, each flow's body and `when` branches (in a call
    until the links say otherwise), then each conference's handlers and their branches."""
    handler_context = vocab.handler_context
    for file in project.files:
        for flow in file.flows:
            yield Body(flow, flow.body, CALL, flow.span)
            for branch in flow.branches:
                yield Body(flow, branch.body, CALL, branch.span, branch=branch)
        for conference in file.conferences:
            for handler in conference.handlers:
                context = handler_context(handler.event)
                yield Body(conference, handler.body, context, handler.span, handler.event)
                for branch in handler.branches:  # `when tag "coach"`, `when role host` (backend.rooms adds `role`)
                    yield Body(conference, branch.body, context, branch.span, handler.event, branch=branch)


def resolve(project: Project) -> Links:
    """The name links alone, from one walk of the bodies (for callers that need no more of the analysis)."""
    return resolve_elements(project, ((element, body.flow) for body in bodies(project, vocabulary())
                                      for element in walk(body.elements)))


def _flatten(elements: list[Element], body: Body, specs: dict[str, ElementSpec], out: list[Site]) -> None:
    for element in elements:
        out.append((element, specs[element.tag], body))
        if element.content:
            children = [c for c in element.content if type(c) is Element]
            if children:
                _flatten(children, body, specs, out)


_RECENT: list[Analysis] = []  # the last few analyses, newest last (a workspace checks a few projects in turn)
_KEPT = 4


def analyse(project: Project, xml_contexts: dict[str, str] | None = None, fresh: bool = False) -> Analysis:
    """The analysis of `project`, reused while the project and its files are the same objects; `fresh`: analyse
    it again (the checker does, so a project changed in place is never judged by an old analysis)."""
    contexts = xml_contexts or {}
    files = project.files
    for analysis in reversed(_RECENT if not fresh else ()):
        if analysis.project is project and analysis.xml_contexts == contexts and len(analysis.files) == len(files) \
                and all(a is b for a, b in zip(analysis.files, files, strict=True)):
            return analysis
    analysis = Analysis(project, vocabulary(), contexts)
    _RECENT.append(analysis)
    del _RECENT[:-_KEPT]
    return analysis
