"""Relative URLs the flows give for webhooks that take no BXML (recordings, transcriptions, dtmf, streams ...).

The generated web app serves each one (it validates the payload, calls the user's on_<event> function and
answers 204), so the manifest lists them next to the planned flow and conference routes: one source for both.
Imports only the core (no pydantic, jinja2 or lxml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from flowc.semantics.analysis import RouteKind, analyse, callback_method
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
    analysis = analyse(project)
    vocab = analysis.vocab
    found: dict[str, EventRoute] = {}
    for element, spec, body in analysis.sites:
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is None or attribute_spec.reply_bxml or not attribute_spec.events:
                continue
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
