"""What is at an offset of a file: the IR's spans (statement keywords, attribute names, values, flow and
conference names) as a sorted list of sites, built once per analysed text."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from flowc.check import NO_BXML_EVENTS
from flowc.ir import Attribute, Element, FlowFile, Word
from flowc.links import is_flow_reference
from flowc.vocabulary import AttributeSpec, ElementSpec, vocabulary


@dataclass(slots=True)
class Site:
    start: int
    end: int
    kind: str  # element | attribute | value | flow | conference | handler
    name: str = ""  # flow or conference name, handler event
    element: Element | None = None
    spec: ElementSpec | None = None
    attribute: Attribute | None = None
    attribute_spec: AttributeSpec | None = None
    context: str = "call"  # where the statement runs: call | conference | no-bxml (flow contexts come later)
    declaration: bool = False


class FileIndex:
    def __init__(self, sites: list[Site]) -> None:
        self.sites = sorted(sites, key=lambda s: (s.start, -s.end))
        self.starts = [s.start for s in self.sites]

    def at(self, offset: int) -> Site | None:
        """The narrowest site containing the offset (the cursor at either end of a word counts)."""
        best = None
        index = bisect_right(self.starts, offset) - 1
        # Sites barely nest (a statement's keyword and its attributes are disjoint), so a short look back suffices.
        for site in self.sites[max(0, index - 16) : index + 1]:
            if site.start <= offset <= site.end and (best is None or site.end - site.start <= best.end - best.start):
                best = site
        return best


def build_index(flow_file: FlowFile) -> FileIndex:
    sites: list[Site] = []
    vocab = vocabulary()
    conference_spec = vocab.elements["Conference"]
    for flow in flow_file.flows:
        sites.append(Site(flow.name_span.start, flow.name_span.end, "flow", flow.name, declaration=True))
        sites.append(Site(flow.span.start, flow.span.start + len("flow"), "flow", flow.name, declaration=True))
        _elements(flow.body, None, "call", sites)
        for branch in flow.branches:
            _elements(branch.body, None, "call", sites)
    for conference in flow_file.conferences:
        name = conference.name
        sites.append(Site(conference.name_span.start, conference.name_span.end, "conference", name, declaration=True))
        sites.append(Site(conference.span.start, conference.span.start + len("conference"), "conference", name,
                          declaration=True))
        for attribute in conference.settings:
            _attribute(attribute, None, conference_spec, "call", sites)
        for handler in conference.handlers:
            context = "no-bxml" if handler.event in NO_BXML_EVENTS else "conference"
            sites.append(Site(handler.span.start, handler.span.start + len("on"), "handler", handler.event,
                              context=context))
            _elements(handler.body, None, context, sites)
    return FileIndex(sites)


def _elements(elements: list[Element], parent: ElementSpec | None, context: str, sites: list[Site]) -> None:
    specs = vocabulary().elements
    for element in elements:
        spec = specs[element.tag]
        keyword = element.keyword_span
        sites.append(Site(keyword.start, keyword.end, "element", element=element, spec=spec, context=context))
        if element.conference is not None and element.conference_span is not None:
            span = element.conference_span
            sites.append(Site(span.start, span.end, "conference", element.conference, element=element))
        for attribute in element.attributes:
            _attribute(attribute, element, spec, context, sites)
        children = element.children
        if children:
            _elements(children, spec, context, sites)


def _attribute(attribute: Attribute, element: Element | None, spec: ElementSpec, context: str,
               sites: list[Site]) -> None:
    attribute_spec = spec.attributes.get(attribute.name)
    if attribute_spec is None:
        return
    name = attribute.name_span
    value = attribute.value
    # A positional value (`pause 2s`) has no name of its own: hovering the value describes its attribute.
    if attribute.written or not isinstance(value, Word):
        sites.append(Site(name.start, name.end, "attribute", element=element, spec=spec, attribute=attribute,
                          attribute_spec=attribute_spec, context=context))
    if isinstance(value, Word) and value.span != name:
        kind = "flow" if is_flow_reference(attribute_spec, attribute) else "value"
        sites.append(Site(value.span.start, value.span.end, kind, value.value, element=element, spec=spec,
                          attribute=attribute, attribute_spec=attribute_spec, context=context))
