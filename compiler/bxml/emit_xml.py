"""The BXML backend: planned documents -> XML bytes, with lxml.

Values known at compile time are written as escaped XML; values known only per request (payload fields,
hooks, secrets from the environment) become slots. A rendered document is a list of segments (already
serialised XML text, and slots) so the web app only escapes and joins strings per request.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.backend.plan import Document, Plan
from flowc.bxml.vocabulary import AttributeSpec, vocabulary
from flowc.runtime.values import ASK_PARAMETER, ATTEMPT_PARAMETER
from flowc.semantics.credentials import application_credentials, document_attributes
from flowc.semantics.ir import Attribute, Element, Env, ListValue, Number, Slot, SlotRef, Text, Value, Word
from flowc.semantics.links import FLOW_PATH
from lxml import etree

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML_NS = "http://www.w3.org/XML/1998/namespace"
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters: valid XML, never typed by users


@dataclass
class RenderedDocument:
    document: Document
    segments: list[str | SlotRef]

    @property
    def xml(self) -> bytes:
        """The document as written to OUT: slots shown as ${name} placeholders."""
        return "".join(s if isinstance(s, str) else s.placeholder for s in self.segments).encode()

    @property
    def slots(self) -> list[SlotRef]:
        return [s for s in self.segments if isinstance(s, SlotRef)]


def format_number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


class Emitter:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.vocab = vocabulary()
        self.slots: list[SlotRef] = []
        self.document: Document | None = None
        self.application = application_credentials(plan.project)

    def slot(self, ref: SlotRef) -> str:
        self.slots.append(ref)
        return f"{MARK_OPEN}{len(self.slots) - 1}{MARK_CLOSE}"

    def render(self, document: Document) -> RenderedDocument:
        self.slots = []
        self.document = document
        root = etree.Element(document.root)
        if document.elements:
            root.text = "\n"
        for element in document.elements:
            child = self.element(element)
            child.tail = "\n"
            root.append(child)
        body = etree.tostring(root, encoding="unicode")
        return RenderedDocument(document, self.split(DECLARATION.decode() + body))

    def split(self, text: str) -> list[str | SlotRef]:
        segments: list[str | SlotRef] = []
        for index, piece in enumerate(text.split(MARK_OPEN)):
            if index:
                number, _, piece = piece.partition(MARK_CLOSE)
                segments.append(self.slots[int(number)])
            if piece:
                segments.append(piece)
        return segments

    def element(self, element: Element) -> etree._Element:
        spec = self.vocab.elements[element.tag]
        node = etree.Element(element.tag)
        attributes = document_attributes(element, self.plan.project, self.application)
        if element.conference is not None:
            conference = self.plan.project.conferences.get(element.conference)
            if conference is not None:
                node.text = self.text(conference.conference_name)
        for attribute in attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            name = f"{{{XML_NS}}}lang" if attribute.name == "xml:lang" else attribute.name
            node.set(name, self.attribute_value(attribute, attribute_spec))
        ask = self.plan.asks.get(id(element)) if element.attempts is not None else None
        if ask is not None:
            url = self.vocab.attempt_callback[1]
            node.set(url, f"{node.get(url)}?{ASK_PARAMETER}={ask}&{ATTEMPT_PARAMETER}={self.attempt_number(ask)}")
        last = None
        for item in element.content:
            if isinstance(item, Text):
                value = self.text(item)
                if last is None:
                    node.text = (node.text or "") + value
                else:
                    last.tail = (last.tail or "") + value
            else:
                last = self.element(item)
                node.append(last)
        return node

    def attempt_number(self, ask: str) -> int:
        """The attempt a counted gather asks in the document being rendered: 1, except in the documents that
        ask it again."""
        attempt = self.document.attempt if self.document is not None else None
        return attempt["attempt"] if attempt and attempt["ask"] == ask and "attempt" in attempt else 1

    def attribute_value(self, attribute: Attribute, spec: AttributeSpec | None) -> str:
        return self.value(attribute.value, spec)

    def value(self, value: Value, spec: AttributeSpec | None) -> str:
        if isinstance(value, Text):
            return self.text(value)
        if isinstance(value, Number):
            if spec is not None and spec.type == "ssml_time":
                return value.text if value.unit else f"{format_number(value.value)}s"
            return format_number(value.in_unit(spec.unit if spec else None))
        if isinstance(value, Word):
            if spec is not None and spec.is_url and spec.reply_bxml:
                return FLOW_PATH.format(name=value.value)
            return value.value
        if isinstance(value, Env):
            return self.slot(SlotRef("env", value.name))
        if isinstance(value, Slot):
            return self.slot(SlotRef(value.source, value.name, value.filter))
        if isinstance(value, ListValue):
            return ",".join(self.value(item, spec) for item in value.items)
        raise TypeError(f"cannot emit {value!r}")

    def text(self, text: Text) -> str:
        return "".join(p if isinstance(p, str) else self.slot(SlotRef(p.source, p.name, p.filter))
                       for p in text.parts)


def render_plan(plan: Plan) -> list[RenderedDocument]:
    emitter = Emitter(plan)
    return [emitter.render(document) for document in plan.documents]
