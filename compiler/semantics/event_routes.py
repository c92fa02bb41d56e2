"""Relative URLs the flows give for webhooks that take no BXML (recordings, transcriptions, dtmf, streams ...).

The generated web app serves each one (it validates the payload, calls the user's on_<event> function and
answers 204), so the manifest lists them next to the planned flow and conference routes: one source for both.
Imports only the core (no pydantic, jinja2 or lxml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from flowc.bxml.vocabulary import Vocabulary
from flowc.semantics.analysis import Analysis, RouteKind, analyse, callback_method
from flowc.semantics.ir import Attribute, Project, Text


@dataclass
class EventRoute:
    path: str
    events: list[str]
    owner: str  # the flow (or conference) whose statement gives the URL first
    method: str = "POST"
    kind: RouteKind = RouteKind.EVENT
    # (attributes of the element, the URL attribute) for every statement naming this path: its credentials
    uses: list[tuple[list[Attribute], str]] = field(default_factory=list)


def event_routes(project: Project, taken: set[str]) -> list[EventRoute]:
    """Every relative no-BXML webhook URL whose path is not already a route in `taken`, in source order."""
    return event_routes_of(analyse(project), taken)


_CALLBACKS: list[tuple[Vocabulary, dict[str, frozenset[str]]]] = []  # for the vocabulary last read


def _no_bxml_callbacks(vocab: Vocabulary) -> dict[str, frozenset[str]]:
    """Per element, its attributes giving a URL for webhooks whose reply takes no BXML."""
    if not _CALLBACKS or _CALLBACKS[0][0] is not vocab:
        _CALLBACKS[:] = [(vocab, {tag: frozenset(name for name, a in spec.attributes.items()
                                                 if a.events and not a.reply_bxml)
                                  for tag, spec in vocab.elements.items()})]
    return _CALLBACKS[0][1]


def event_routes_of(analysis: Analysis, taken: set[str]) -> list[EventRoute]:
    vocab = analysis.vocab
    callbacks = _no_bxml_callbacks(vocab)
    found: dict[str, EventRoute] = {}
    for element, spec, body in analysis.sites:
        names = callbacks[element.tag]
        if not names:
            continue  # most statements send no such webhook
        for attribute in element.attributes:
            if attribute.name not in names:
                continue
            attribute_spec = spec.attributes[attribute.name]
            value = attribute.value
            literal = value.literal if isinstance(value, Text) else None
            if literal is None or not literal.startswith("/"):
                continue
            path = urlparse(literal).path
            if path in taken:
                continue
            events = list(attribute_spec.events)
            if body.flow is None:  # a conference handler's statement: the conference's own events
                events = [vocab.events[e].in_conference or e for e in events]
            method = callback_method(element.attribute(attribute_spec.method_attribute or ""))
            route = found.setdefault(path, EventRoute(path, [], body.owner.name, method))
            route.events.extend(e for e in events if e not in route.events)
            route.uses.append((element.attributes, attribute.name))
    return list(found.values())


def unserved_urls(project: Project, served: set[str]) -> list[tuple[str, Attribute]]:
    """Relative URLs given for webhooks that take BXML (`gather then "/custom"`) whose path the app does not
    serve: some other server behind the same host must answer them."""
    found: list[tuple[str, Attribute]] = []
    for element, spec, _ in analyse(project).sites:
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            value = attribute.value
            if attribute_spec is None or not attribute_spec.reply_bxml or not isinstance(value, Text):
                continue
            path = urlparse(value.literal or "").path
            if (value.literal or "").startswith("/") and path not in served:
                found.append((path, attribute))
    return found
