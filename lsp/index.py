"""What is at an offset of a file: the IR's spans (statement keywords, attribute names, values, flow and
conference names) as sorted lists of sites, one per top-level declaration."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, vocabulary
from flowc.core.diagnostics import Span
from flowc.semantics.ir import (
    Application,
    Attribute,
    Branch,
    Conference,
    Element,
    Flow,
    FlowFile,
    Hours,
    Slot,
    Text,
    Word,
)
from flowc.semantics.links import is_flow_reference

HOURS_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # the words of an `hours` line: days, `closed` ...
OTHERWISE = re.compile(r"^[ \t]*(otherwise)\b", re.MULTILINE)


@dataclass(slots=True)
class Site:
    start: int
    end: int
    kind: str  # element | attribute | value | flow | conference | handler | branch | when_value | event | otherwise
    # | slot | application
    name: str = ""  # flow or conference name, handler event, branch field, entry event
    element: Element | None = None
    spec: ElementSpec | None = None
    attribute: Attribute | None = None
    attribute_spec: AttributeSpec | None = None
    context: str = "call"  # where the statement runs: call | conference | no-bxml (flow contexts come later)
    declaration: bool = False
    slot: Slot | None = None
    value: str = ""  # a `when` branch's value


class FileIndex:
    """Sites are built per top-level declaration on first use, so a hover right after an edit of a large file
    costs one declaration's walk, not the file's."""

    def __init__(self, flow_file: FlowFile, text: str = "") -> None:
        self.text = text  # the source, for the words the IR keeps no span of (events)
        declarations: list[Flow | Conference | Application | Hours] = [*flow_file.flows, *flow_file.conferences,
                                                                        *flow_file.applications, *flow_file.hours]
        self.declarations = sorted(declarations, key=lambda d: d.span.start)
        self.starts = [d.span.start for d in self.declarations]
        self.built: dict[int, tuple[list[Site], list[int]]] = {}

    def at(self, offset: int) -> Site | None:
        """The narrowest site containing the offset (the cursor at either end of a word counts)."""
        index = bisect_right(self.starts, offset) - 1
        if index < 0 or offset > self.declarations[index].span.end:
            return None
        if index not in self.built:
            sites = sorted(declaration_sites(self.declarations[index], self.text), key=lambda s: (s.start, -s.end))
            self.built[index] = (sites, [s.start for s in sites])
        sites, starts = self.built[index]
        best = None
        last = bisect_right(starts, offset) - 1
        # Sites barely nest (a statement's keyword and its attributes are disjoint), so a short look back suffices.
        for site in sites[max(0, last - 16) : last + 1]:
            if site.start <= offset <= site.end and (best is None or site.end - site.start <= best.end - best.start):
                best = site
        return best


def build_index(flow_file: FlowFile, text: str = "") -> FileIndex:
    return FileIndex(flow_file, text)


def _header(text: str, start: int) -> tuple[int, str]:
    """The rest of a declaration's first line from `start` up to its `{` (or a comment, or the line's end)."""
    end = len(text)
    for stop in ("\n", "{", "#"):  # (the line first: the others are searched within it)
        found = text.find(stop, start, end)
        if found != -1:
            end = found
    return end, text[start:end]


def declaration_sites(declaration: Flow | Conference | Application | Hours, text: str = "") -> list[Site]:
    sites: list[Site] = []
    if isinstance(declaration, Hours):
        return hours_sites(declaration, text)
    if isinstance(declaration, Application):  # `application auth U P`: the keyword and `auth`
        auth = declaration.auth[0].name_span if declaration.auth else None
        sites.append(Site(declaration.span.start, declaration.span.start + len("application"), "application"))
        if auth is not None:
            sites.append(Site(auth.start, auth.end, "application"))
        return sites
    if isinstance(declaration, Flow):
        flow = declaration
        sites.append(Site(flow.name_span.start, flow.name_span.end, "flow", flow.name, declaration=True))
        sites.append(Site(flow.span.start, flow.span.start + len("flow"), "flow", flow.name, declaration=True))
        if flow.auth:  # `on initiate auth U P`: the entry flow's own callback credentials
            auth_span = flow.auth[0].name_span
            sites.append(Site(auth_span.start, auth_span.end, "application", flow.name))
        for event, span in zip(flow.entry_events, flow.entry_event_spans, strict=False):  # `on initiate, answer`
            sites.append(Site(span.start, span.end, "event", event))
        _elements(flow.body, None, "call", sites)
        _branches(flow.branches, flow.span, "call", text, sites)
        return sites
    conference, name = declaration, declaration.name
    conference_spec = vocabulary().elements["Conference"]
    sites.append(Site(conference.name_span.start, conference.name_span.end, "conference", name, declaration=True))
    _slots(conference.conference_name, sites)
    sites.append(Site(conference.span.start, conference.span.start + len("conference"), "conference", name,
                      declaration=True))
    for attribute in conference.settings:
        _attribute(attribute, None, conference_spec, "call", sites)
    for handler in conference.handlers:
        context = vocabulary().handler_context(handler.event)
        end = handler.span.start + len("on")
        if text:  # the whole `on member join`
            end = handler.span.start + len(_header(text, handler.span.start)[1].rstrip())
        sites.append(Site(handler.span.start, end, "handler", handler.event, context=context))
        _elements(handler.body, None, context, sites)
        _branches(handler.branches, handler.span, context, text, sites)
    return sites


def hours_sites(hours: Hours, text: str) -> list[Site]:
    """`hours NAME in "ZONE" { ... }`: the keyword and name, the words of its lines, the override hook."""
    from flowc.lsp.hours import word_text

    sites = [Site(hours.span.start, hours.span.start + len("hours"), "hours", hours.name, declaration=True),
             Site(hours.name_span.start, hours.name_span.end, "hours", hours.name, declaration=True)]
    for found in HOURS_WORD.finditer(text, hours.zone_span.end, hours.span.end):
        if word_text(found.group()) is not None:
            sites.append(Site(found.start(), found.end(), "hours_word", hours.name, value=found.group()))
    if hours.override is not None:
        sites.append(Site(hours.override.span.start, hours.override.span.end, "slot", hours.override.name,
                          slot=hours.override))
    return sites


def _branches(branches: list[Branch], span: Span, context: str, text: str, sites: list[Site]) -> None:
    """`when VALUE CHOICES { ... }` and `otherwise` in a flow or a conference handler."""
    if text and branches:  # `otherwise { ... }` leaves no trace in the IR (its body joins the default)
        for found in OTHERWISE.finditer(text, span.start, span.end):
            sites.append(Site(found.start(1), found.end(1), "otherwise", context=context))
    for branch in branches:  # `when digits`: the keyword and the tested value
        end = branch.subject_span.end if branch.subject_span else branch.span.start + len("when")
        sites.append(Site(branch.span.start, end, "branch", branch.subject, context=context))
        for value, value_span in zip(branch.values, branch.value_spans, strict=False):
            sites.append(Site(value_span.start, value_span.end, "when_value", branch.subject, value=value,
                              context=context))
        _elements(branch.body, None, context, sites)


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
        attempts = element.attempts
        if attempts is not None:  # `attempts 3` and the flow named by `exhausted`
            sites.append(Site(attempts.span.start, attempts.span.end, "attempts", element=element, spec=spec,
                              context=context))
            if attempts.exhausted is not None and attempts.exhausted_span is not None:
                span = attempts.exhausted_span
                sites.append(Site(span.start, span.end, "flow", attempts.exhausted, element=element))
        for part in element.content:  # the text a statement says, plays, dials ...: describes the statement
            if isinstance(part, Text):
                sites.append(Site(part.span.start, part.span.end, "element", element=element, spec=spec,
                                  context=context))
                _slots(part, sites)
        children = element.children
        if children:
            _elements(children, spec, context, sites)


def _attribute(attribute: Attribute, element: Element | None, spec: ElementSpec, context: str,
               sites: list[Site]) -> None:
    attribute_spec = spec.attributes.get(attribute.name)
    if attribute_spec is None:
        if attribute.written.startswith("unknown "):  # `unknown NAME "VALUE"`: carried into the BXML unchecked
            sites.append(Site(attribute.span.start, attribute.span.end, "unknown_attribute", attribute.name,
                              element=element, spec=spec, attribute=attribute, context=context))
        return
    name = attribute.name_span
    value = attribute.value
    # A positional value (`pause 2s`) has no name of its own: hovering the value describes its attribute.
    if attribute.written or not isinstance(value, Word):
        sites.append(Site(name.start, name.end, "attribute", element=element, spec=spec, attribute=attribute,
                          attribute_spec=attribute_spec, context=context))
    if value.span == name:
        return
    if isinstance(value, Word):
        kind = "flow" if is_flow_reference(attribute_spec, attribute) else "value"
        sites.append(Site(value.span.start, value.span.end, kind, value.value, element=element, spec=spec,
                          attribute=attribute, attribute_spec=attribute_spec, context=context))
    else:  # a number, text, env() or list: hovering it describes the attribute it sets
        sites.append(Site(value.span.start, value.span.end, "attribute", element=element, spec=spec,
                          attribute=attribute, attribute_spec=attribute_spec, context=context))
        if isinstance(value, Text):
            _slots(value, sites)


def _slots(text: Text | None, sites: list[Site]) -> None:
    """The runtime parts of a string (`{digits|digits}`, `{hook(name)}`): each its own site."""
    if text is None:
        return
    for part in text.parts:
        if isinstance(part, Slot):
            sites.append(Site(part.span.start, part.span.end, "slot", part.name, slot=part))
