"""Name resolution: which flows and conferences each statement refers to, and what that implies.

A flow named where a URL is expected (`gather then route`) becomes a webhook route; the attribute tells which
Bandwidth event arrives there and in which context the flow's BXML runs (a call, or the called party of a
transfer). The events and their contexts come from the vocabulary; the links are computed once per project as
part of flowc.semantics.analysis, which the checker, the document planner and the language server read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from flowc.bxml.vocabulary import CALL, CONFERENCE, TRANSFER_ANSWER, AttributeSpec, Context, vocabulary
from flowc.core.diagnostics import Span
from flowc.semantics.ir import Attribute, Element, Flow, Project, Word

FLOW_PATH = "/flows/{name}"
CONFERENCE_PATH = "/conferences/{name}/events"
ENTRY_EVENTS = vocabulary().entry_events  # a flow nothing names answers the webhooks a call starts with
FLOW_EVENTS = frozenset(vocabulary().flow_events)  # what `flow NAME on EVENT` may name (others are FC115)


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

    def context(self, flow: str) -> Context:
        """Where the flow's documents run: the context of the replies to the webhooks it is named for (a
        transfer answer before a conference reply, `join ... events NAME`, before a call)."""
        references = self.by_flow.get(flow)
        if not references:
            return CALL
        replies = _replies()
        found = set().union(*(replies[r.spec.name] for r in references))
        for context in (TRANSFER_ANSWER, CONFERENCE):
            if context in found:
                return context
        return CALL

    def events(self, flow: Flow) -> list[str]:
        # an unknown event (FC115) is never routed nor recorded in the manifest, even when that error is ignored
        events: list[str] = [e for e in flow.entry_events if e in FLOW_EVENTS]
        for reference in self.references_to(flow.name):
            for event in reference.spec.events:
                if event not in events:
                    events.append(event)
        return events or list(ENTRY_EVENTS)


def is_flow_reference(spec: AttributeSpec, attribute: Attribute) -> bool:
    return spec.is_url and spec.reply_bxml and isinstance(attribute.value, Word)


@lru_cache(maxsize=1)
def _replies() -> dict[str, frozenset[Context | None]]:
    """Per URL attribute: the contexts in which the replies to its webhooks run."""
    vocab = vocabulary()
    return {name: frozenset(vocab.events[e].reply for e in a.events)
            for spec in vocab.elements.values() for name, a in spec.attributes.items() if a.events}


@lru_cache(maxsize=1)
def _callback_attributes() -> dict[str, dict[str, AttributeSpec]]:
    """Per element, the attributes that may name a flow (URLs whose webhook replies with BXML)."""
    return {tag: {name: a for name, a in spec.attributes.items() if a.is_url and a.reply_bxml}
            for tag, spec in vocabulary().elements.items()}


def resolve(project: Project) -> Links:
    """The links of a project on their own (semantics.analysis lists the bodies; its analysis resolves names in the
    walk it makes anyway, and the checker, the planner and the language server read those)."""
    from flowc.semantics.analysis import resolve as resolve_project

    return resolve_project(project)


def resolve_elements(project: Project, elements: Iterable[tuple[Element, str | None]]) -> Links:
    """Links from every (element, owning flow or None) of the project, for callers that already walked it."""
    callbacks = _callback_attributes()
    links = Links(project.flows)
    join = vocabulary().join.name
    for element, owner in elements:
        if element.tag == join:
            links.conference_joins.append((element, owner))
        if callbacks[element.tag]:
            _add_references(links, element, owner, callbacks[element.tag])
        continuation = element.attempts.continuation if element.attempts is not None else None
        if continuation is not None:  # `exhausted voicemail`: the last failed attempt redirects there
            _add_references(links, continuation, owner, callbacks[continuation.tag])
    for conference in project.conferences.values():
        policy = conference.policy
        if policy is not None and policy.overflow is not None and policy.overflow_span is not None:
            # `max 5 else full`: the app redirects a caller over the cap to that flow
            _add_references(links, _overflow_redirect(policy.overflow, policy.overflow_span), None,
                            callbacks[vocabulary().by_keyword("redirect").name])  # type: ignore[union-attr]
        # `conference room "r1" { events on_events }`: every join carries these settings, so they name flows
        # exactly as a `join ... events on_events` would. The declaration stands in for the element.
        if conference.settings:
            declared = Element(join, conference.span, conference.name_span, list(conference.settings))
            _add_references(links, declared, None, callbacks[join])
    return links


def _overflow_redirect(flow: str, span: Span) -> Element:
    spec = vocabulary().by_keyword("redirect")
    assert spec is not None
    attribute = Attribute(spec.positional[0], Word(flow, span), span, span, "")
    return Element(spec.name, span, span, [attribute])


def _add_references(links: Links, element: Element, owner: str | None, candidates: dict[str, AttributeSpec]) -> None:
    for attribute in element.attributes:
        attribute_spec = candidates.get(attribute.name)
        if attribute_spec is not None and type(attribute.value) is Word:
            method = callback_method(element.attribute(attribute_spec.method_attribute or ""))
            links.add(Reference(attribute.value.value, element, attribute,
                                attribute_spec, owner, method))


def callback_method(method: Attribute | None) -> str:
    """The HTTP method Bandwidth uses for a callback, from its method attribute (None: not set): POST unless
    the attribute names another."""
    value = method.value if method is not None else None
    return str(value.value).upper() if isinstance(value, Word) else "POST"
