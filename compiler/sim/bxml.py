"""Reading the BXML an app answers with, as strictly as Bandwidth does, and flowc's checker on top.

`read_reply` turns a reply body into the verbs to run, or refuses it with the reason Bandwidth would have:
not well-formed XML, a root other than the one expected, a name that is not a BXML verb, a verb the webhook's
context does not allow (a conference reply may hold only the six conference verbs; a `transferAnswer` reply
no Transfer, Bridge, Conference or Forward), more than 64 KB. What passes is also run through flowc's own
checker (`flowc.bxml.lint_xml`) in that context, so values a hook computed at run time are checked like a
compiled document's: its errors refuse the reply (Bandwidth would reject the attribute values), its warnings
are kept on the webhook's record. Limits and context lists come from the vocabulary (data/bxml.json).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from flowc.bxml.vocabulary import AttributeSpec, vocabulary


@dataclass(frozen=True)
class Reply:
    verbs: tuple[ET.Element, ...]
    reason: str = ""  # why it was refused
    diagnostics: tuple[str, ...] = field(default_factory=tuple)
    refused: bool = False


def refusal(reason: str, diagnostics: tuple[str, ...] = ()) -> Reply:
    return Reply((), reason, diagnostics, refused=True)


EMPTY = Reply(())


def read_reply(text: str, context: str = "call", root: str = "Response", check: bool = True) -> Reply:
    """The verbs of one reply (an empty body is an empty document). `context` is call, conference or
    transfer-answer; `root` is Response for webhook replies and Bxml for the REST API's PUT .../bxml."""
    if not text.strip():
        return EMPTY
    return _read(text, context, root, check)


@lru_cache(maxsize=4096)  # an app answers with a few documents many times; a run-time value makes a new one
def _read(text: str, context: str, root: str, check: bool) -> Reply:
    words = vocabulary()
    size = len(text.encode())
    if size > words.max_document_bytes:
        return refusal(f"the document is {size} bytes; Bandwidth accepts at most {words.max_document_bytes}")
    try:
        document = ET.fromstring(text)
    except ET.ParseError as error:
        return refusal(f"not XML: {error}")
    if document.tag != root:
        return refusal(f"the root element is <{document.tag}>, not <{root}>")
    allowed = words.contexts[context]
    for verb in document:
        spec = words.elements.get(verb.tag)
        if spec is None or spec.kind != "verb":
            return refusal(f"<{verb.tag}> is not a BXML verb")
        if verb.tag not in allowed:
            return refusal(f"<{verb.tag}> is not allowed in a {context.replace('-', ' ')} reply")
    diagnostics: tuple[str, ...] = ()
    if check:
        errors, diagnostics = _checker(text, context)
        if errors:
            return refusal("flowc's checker: " + "; ".join(errors), diagnostics)
    return Reply(tuple(document), "", diagnostics)


def _checker(text: str, context: str) -> tuple[list[str], tuple[str, ...]]:
    from flowc.bxml.lint_xml import lint_sources
    from flowc.core.diagnostics import Severity

    _, found = lint_sources({"reply.xml": text.encode()}, context)
    errors = [f"{d.code} {d.message}" for d in found if d.severity is Severity.ERROR]
    return errors, tuple(f"{d.severity.label} {d.code} {d.message}" for d in found)


def spoken_text(element: ET.Element) -> str:
    """A SpeakSentence's words: its text with SSML tags dropped and whitespace collapsed."""
    return " ".join(" ".join(element.itertext()).split())


def break_seconds(element: ET.Element) -> float:
    """The silence SSML <break time="..."> elements add to a sentence."""
    total = 0.0
    for pause in element.iter("break"):
        value = pause.get("time", "").strip()
        if value.endswith("ms"):
            total += _number(value[:-2]) / 1000
        elif value.endswith("s"):
            total += _number(value[:-1])
    return total


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def attribute(element: ET.Element, name: str) -> Any:  # (the written text, or a default: str, number, bool)
    """An attribute's value, or its documented default from the vocabulary (None when it has none)."""
    value = element.get(name)
    if value is not None:
        return value
    spec = vocabulary().elements[element.tag].attributes.get(name)
    return None if spec is None else spec.default


def number(element: ET.Element, name: str, fallback: float = 0.0) -> float:
    value = attribute(element, name)
    try:
        return float(value) if value is not None else fallback
    except (TypeError, ValueError):
        return fallback


def flag(element: ET.Element, name: str) -> bool:
    value = attribute(element, name)
    return value is True or str(value).lower() == "true"


def seconds(element: ET.Element, name: str) -> float:
    """A duration attribute (or its default) in seconds, converted by the unit the vocabulary gives it."""
    value = number(element, name)
    spec = vocabulary().elements[element.tag].attributes.get(name)
    return value / 1000 if spec is not None and spec.unit == "ms" else value


@dataclass(frozen=True)
class Callback:
    """Where an element sends one of its webhooks."""

    url: str | None
    method: str
    fallback_url: str | None
    fallback_method: str


def callback(element: ET.Element, event_type: str) -> Callback:
    """The URL (and method, and fallback) an element names for `event_type`: the vocabulary says which of its
    URL attributes receives the event and which attribute holds that URL's method."""
    spec = _event_attribute(element.tag, event_type)
    if spec is None:
        return Callback(None, "POST", None, "POST")
    method = attribute(element, spec.method_attribute) if spec.method_attribute else None
    fallback = spec.name.removesuffix("Url") + "Fallback"  # BXML spells each URL's fallback pair this way
    return Callback(element.get(spec.name), method or "POST", element.get(fallback + "Url"),
                    attribute(element, fallback + "Method") or "POST")


@cache
def _event_attribute(tag: str, event_type: str) -> AttributeSpec | None:
    return next((spec for spec in vocabulary().elements[tag].attributes.values() if event_type in spec.events), None)


def credentials_of(element: ET.Element | None, fallback: bool = False) -> tuple[str, str] | None:
    """The user name and password an element gives for its webhooks (or for their fallback URL), None when
    it gives none. Which attributes hold them comes from the vocabulary's credential pairs."""
    user, password = _credential_attributes(fallback)
    if element is None or element.get(user) is None:
        return None
    return element.get(user, ""), element.get(password, "")


@lru_cache(maxsize=2)
def _credential_attributes(fallback: bool) -> tuple[str, str]:
    words = vocabulary()
    pairs = words.credential_pairs.values()
    return next(pair for pair in pairs if (pair[0] in words.fallback_credentials) == fallback)


def children(element: ET.Element) -> list[ET.Element]:
    """The element's children that the vocabulary allows inside it (the prompts of a Gather, the targets of
    a Transfer or Refer)."""
    allowed = vocabulary().elements[element.tag].children
    return [child for child in element if child.tag in allowed]
