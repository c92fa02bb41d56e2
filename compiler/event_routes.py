"""Relative URLs the flows give for webhooks that take no BXML (recordings, transcriptions, dtmf, streams ...).

The generated web app serves each one (it validates the payload, calls the user's on_<event> function and
answers 204), so the manifest lists them next to the planned flow and conference routes: one source for both.
Imports only the core (no pydantic, jinja2 or lxml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from flowc.ir import Attribute, Project, Text, Word, walk
from flowc.links import bodies
from flowc.vocabulary import vocabulary


@dataclass
class EventRoute:
    path: str
    events: list[str]
    owner: str  # the flow (or conference) whose statement gives the URL first
    method: str = "POST"
    # (attributes of the element, the URL attribute) for every statement naming this path: its credentials
    uses: list[tuple[list[Attribute], str]] = field(default_factory=list)


def event_routes(project: Project, taken: set[str]) -> list[EventRoute]:
    """Every relative no-BXML webhook URL whose path is not already a route in `taken`, in source order."""
    vocab = vocabulary()
    found: dict[str, EventRoute] = {}
    for owner, body in _owned_bodies(project):
        for element in walk(body):
            spec = vocab.elements[element.tag]
            for attribute in element.attributes:
                attribute_spec = spec.attributes.get(attribute.name)
                if attribute_spec is None or attribute_spec.reply_bxml or not attribute_spec.events:
                    continue
                value = attribute.value
                if not isinstance(value, Text) or not (value.literal or "").startswith("/"):
                    continue
                path = urlparse(value.literal).path  # type: ignore[arg-type]
                if path in taken:
                    continue
                events = list(attribute_spec.events)
                if owner[1] and "recordingAvailable" in events:  # a conference handler's recording
                    events = ["conferenceRecordingAvailable"]
                method = element.attribute(attribute_spec.method_attribute or "")
                route = found.setdefault(path, EventRoute(path, [], owner[0], _method(method)))
                route.events.extend(e for e in events if e not in route.events)
                route.uses.append((element.attributes, attribute.name))
    return list(found.values())


def _method(attribute: Attribute | None) -> str:
    value = attribute.value if attribute is not None else None
    return str(value.value).upper() if isinstance(value, Word) else "POST"


def _owned_bodies(project: Project):
    """((owner name, is a conference), body) for every flow body, branch and conference handler."""
    conferences = {id(h.body): c.name for f in project.files for c in f.conferences for h in c.handlers}
    for owner, body in bodies(project):
        yield (owner, False) if owner is not None else (conferences.get(id(body), ""), True), body


def unserved_urls(project: Project, served: set[str]) -> list[tuple[str, Attribute]]:
    """Relative URLs given for webhooks that take BXML (`gather then "/custom"`) whose path the app does not
    serve: some other server behind the same host must answer them."""
    vocab = vocabulary()
    found: list[tuple[str, Attribute]] = []
    for _, body in bodies(project):
        for element in walk(body):
            spec = vocab.elements[element.tag]
            for attribute in element.attributes:
                attribute_spec = spec.attributes.get(attribute.name)
                value = attribute.value
                if attribute_spec is None or not attribute_spec.reply_bxml or not isinstance(value, Text):
                    continue
                path = urlparse(value.literal or "").path
                if (value.literal or "").startswith("/") and path not in served:
                    found.append((path, attribute))
    return found
