"""Name resolution: which flows and conferences each statement refers to, and what that implies.

A flow named where a URL is expected (`gather then route`) becomes a webhook route; the attribute tells which
Bandwidth event arrives there and in which context the flow's BXML runs (a call, or the called party of a
transfer). The checker and the document planner both read this one analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from flowc.ir import Attribute, Element, Flow, Project, Word, walk
from flowc.vocabulary import AttributeSpec, vocabulary

FLOW_PATH = "/flows/{name}"
CONFERENCE_PATH = "/conferences/{name}/events"
ENTRY_EVENTS = ["initiate", "answer"]


@dataclass
class Reference:
    """A use of a flow's name in a URL attribute."""

    flow: str
    element: Element
    attribute: Attribute
    spec: AttributeSpec
    in_flow: str | None  # the flow (or conference handler owner) that contains the reference
    method: str = "POST"


@dataclass
class Links:
    flows: dict[str, Flow]
    references: list[Reference] = field(default_factory=list)
    conference_joins: list[tuple[Element, str | None]] = field(default_factory=list)  # (element, in flow)

    by_flow: dict[str, list[Reference]] = field(default_factory=dict)

    def add(self, reference: Reference) -> None:
        self.references.append(reference)
        self.by_flow.setdefault(reference.flow, []).append(reference)

    def references_to(self, flow: str) -> list[Reference]:
        return self.by_flow.get(flow, [])

    def context(self, flow: str) -> str:
        if any(r.spec.name == "transferAnswerUrl" for r in self.references_to(flow)):
            return "transfer-answer"
        if any(r.spec.name == "conferenceEventUrl" for r in self.references_to(flow)):
            return "conference"  # `join conference "room" events NAME`: NAME answers conference webhooks
        return "call"

    def events(self, flow: Flow) -> list[str]:
        events: list[str] = list(flow.entry_events)
        for reference in self.references_to(flow.name):
            for event in reference.spec.events:
                if event not in events:
                    events.append(event)
        return events or list(ENTRY_EVENTS)


def is_flow_reference(spec: AttributeSpec, attribute: Attribute) -> bool:
    return spec.is_url and spec.reply_bxml and isinstance(attribute.value, Word)


def bodies(project: Project):
    """(owner name, body) for every flow body, branch and conference handler."""
    for file in project.files:
        for flow in file.flows:
            yield flow.name, flow.body
            for branch in flow.branches:
                yield flow.name, branch.body
        for conference in file.conferences:
            for handler in conference.handlers:
                yield None, handler.body
                for branch in handler.branches:
                    yield None, branch.body


@lru_cache(maxsize=1)
def _callback_attributes() -> dict[str, dict[str, AttributeSpec]]:
    """Per element, the attributes that may name a flow (URLs whose webhook replies with BXML)."""
    return {tag: {name: a for name, a in spec.attributes.items() if a.is_url and a.reply_bxml}
            for tag, spec in vocabulary().elements.items()}


def resolve(project: Project) -> Links:
    return resolve_elements(project, ((element, owner) for owner, body in bodies(project) for element in walk(body)))


def resolve_elements(project: Project, elements: Iterable[tuple[Element, str | None]]) -> Links:
    """Links from every (element, owning flow or None) of the project, for callers that already walked it."""
    callbacks = _callback_attributes()
    links = Links(project.flows)
    for element, owner in elements:
        if element.tag == "Conference":
            links.conference_joins.append((element, owner))
        if callbacks[element.tag]:
            _add_references(links, element, owner, callbacks[element.tag])
    for conference in project.conferences.values():
        policy = conference.policy
        if policy is not None and policy.overflow is not None and policy.overflow_span is not None:
            # `max 5 else full`: the app redirects a caller over the cap to that flow
            _add_references(links, _overflow_redirect(policy.overflow, policy.overflow_span), None,
                            callbacks[vocabulary().by_keyword("redirect").name])  # type: ignore[union-attr]
        # `conference room "r1" { events on_events }`: every join carries these settings, so they name flows
        # exactly as a `join ... events on_events` would. The declaration stands in for the element.
        if conference.settings:
            declared = Element("Conference", conference.span, conference.name_span, list(conference.settings))
            _add_references(links, declared, None, callbacks["Conference"])
    return links


def _overflow_redirect(flow: str, span) -> Element:
    spec = vocabulary().by_keyword("redirect")
    assert spec is not None
    attribute = Attribute(spec.positional[0], Word(flow, span), span, span, "")
    return Element(spec.name, span, span, [attribute])


def _add_references(links: Links, element: Element, owner: str | None, candidates: dict[str, AttributeSpec]) -> None:
    for attribute in element.attributes:
        attribute_spec = candidates.get(attribute.name)
        if attribute_spec is not None and type(attribute.value) is Word:
            method = element.attribute(attribute_spec.method_attribute or "")
            method_value = method.value.value if method and isinstance(method.value, Word) else "POST"
            links.add(Reference(attribute.value.value, element, attribute,  # type: ignore[union-attr]
                                attribute_spec, owner, method_value))
