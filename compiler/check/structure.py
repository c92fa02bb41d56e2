"""Structure: content and attributes a statement needs, how many children it takes, the tones it can send, and
the size of each document."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowc.bxml.vocabulary import ElementSpec, format_number, vocabulary
from flowc.check.common import CheckContext, diagnostic, keyword, rule
from flowc.core.diagnostics import Diagnostic, Span
from flowc.semantics.analysis import Body
from flowc.semantics.ir import Element, ListValue, Number, Text, Value, Word
from flowc.semantics.links import FLOW_PATH


def document_too_large(what: str, span: Span, help: str) -> Diagnostic:
    """FC209, for every way a document's size is known: a lower bound of a .flow body (this checker), a BXML
    file's bytes (flowc.bxml.lint_xml) or a rendered document (the build)."""
    limit = vocabulary().max_document_bytes
    return diagnostic("FC209", f"{what}; Bandwidth accepts at most {limit}", span, help=help)


@rule("FC207")
def required_content(context: CheckContext) -> Iterator[Diagnostic]:
    for element, spec, _ in context.sites:
        if spec.text and spec.text.get("required") and not element.content and element.conference is None:
            yield diagnostic("FC207", f"`{keyword(element, context)}` needs {_content_name(spec)}",
                             element.keyword_span)


def _content_name(spec: ElementSpec) -> str:
    return str((spec.text or {}).get("name", "text content"))


# Attributes Bandwidth's reference marks as required (the vocabulary's `required` flag).
REQUIRED_ATTRIBUTES = {tag: names for tag, spec in vocabulary().elements.items()
                       if (names := tuple(n for n, a in spec.attributes.items() if a.required))}


@rule("FC211", elements=tuple(REQUIRED_ATTRIBUTES))
def required_attributes(context: CheckContext) -> Iterator[Diagnostic]:
    for element, spec, _ in context.tagged(*REQUIRED_ATTRIBUTES):
        for name in REQUIRED_ATTRIBUTES[element.tag]:
            if element.attribute(name) is None:
                attribute = spec.attributes[name]
                written = name if context.is_xml(element.span.file) or not attribute.aliases else (
                    f"{attribute.aliases[0]}` (`{name}`")
                yield diagnostic("FC211", f"`{keyword(element, context)}` needs `{written}`", element.keyword_span,
                                 help=attribute.doc.split(". ")[0].removeprefix("Required. ") or None)


TONES = "SendDtmf"


@rule("FC202", "FC204", elements=(TONES,))
def dtmf_digits(context: CheckContext) -> Iterator[Diagnostic]:
    """The tones of `send dtmf`: the characters and the count the vocabulary gives its content."""
    content = context.vocab.elements[TONES].text or {}
    tones, most = re.compile(content["pattern"]), content["max_length"]
    for element, _, _ in context.tagged(TONES):
        for text in element.texts:
            literal = text.literal
            if literal is None:
                continue
            literal = literal.strip()
            if not tones.fullmatch(literal):
                bad = next(c for c in literal if not tones.fullmatch(c))
                yield diagnostic("FC202", f"`{bad}` cannot be sent as a tone", text.span,
                                 help="tones are 0-9, *, #, A-D; `w` waits half a second and `,` one second")
            elif len(literal) > most:
                yield diagnostic("FC204", f"{len(literal)} tones; at most {most} can be sent at once", text.span)


LIMITED = tuple(name for name, spec in vocabulary().elements.items() if spec.child_limits)


@rule("FC208", elements=LIMITED)
def child_counts(context: CheckContext) -> Iterator[Diagnostic]:
    """How many children a statement has, against its `child_limits` in the vocabulary."""
    for element, spec, _ in context.tagged(*LIMITED):
        limits = spec.child_limits
        assert limits is not None
        count = len(element.children)
        low, high = limits.min, limits.max
        if limits.max_prompts is None and (count < low or (high is not None and count > high)):
            bound = f"{low} to {high}" if high is not None and high != low else (
                f"exactly {low}" if high == low else f"at least {low}")
            yield diagnostic("FC208", f"`{keyword(element, context)}` has {count} {limits.noun}; it takes {bound}",
                             element.keyword_span)
        if limits.max_prompts is not None:
            repeat = element.attribute(limits.repeat or "")
            times = repeat.value.value if repeat and isinstance(repeat.value, Number) else 1
            if count * times > limits.max_prompts:
                total = format_number(count * times)
                yield diagnostic("FC208", f"{count} prompts repeated {format_number(times)} times is {total} "
                                 f"prompts; Bandwidth allows at most {limits.max_prompts}", element.keyword_span)


XML_OVERHEAD = len('<?xml version="1.0" encoding="UTF-8"?>\n<Response></Response>')


@rule("FC209")
def document_size(context: CheckContext) -> Iterator[Diagnostic]:
    """A lower bound of each compiled document's size (runtime values count as empty); BXML files are measured
    as they are by flowc.bxml.lint_xml."""
    limit = context.vocab.max_document_bytes
    for body in context.bodies:
        if context.is_xml(body.file) or not body.elements:
            continue
        if _size_bound(body, context) <= limit:
            continue  # cannot be too large: skip the exact count
        size = XML_OVERHEAD + sum(_element_size(e, context) for e in body.elements)
        if size > limit:
            yield document_too_large(f"this document is at least {size} bytes", body.owner.name_span,
                                     help="split it: move statements into another flow and `redirect to` it")


EXPANSION = 16  # no .flow text grows by more than this when compiled (`"a", "b"` -> two <PhoneNumber>s is ~7x)


def _size_bound(body: Body, context: CheckContext) -> int:
    """A cheap upper bound of a document's size: its source, expanded, plus the declared conferences it joins."""
    bound = XML_OVERHEAD + EXPANSION * (body.span.end - body.span.start)
    for element in body.elements:
        declared = context.conferences.get(element.conference) if element.conference else None
        if declared is not None:
            bound += EXPANSION * (declared.span.end - declared.span.start)
    return bound


def _element_size(element: Element, context: CheckContext) -> int:
    size = 2 * len(element.tag) + 5
    attributes = element.attributes
    if element.conference in context.conferences:
        declared = context.conferences[element.conference]
        attributes = declared.settings + attributes
        size += _value_size(declared.conference_name)
    for attribute in attributes:
        size += len(attribute.name) + 4 + _value_size(attribute.value)
    for child in element.content:
        if type(child) is Element:
            size += _element_size(child, context)
        elif type(child) is Text:
            size += _value_size(child)
    return size


def _value_size(value: Value) -> int:
    if type(value) is Text:
        return sum(len(p) for p in value.parts if type(p) is str)
    if type(value) is Word:
        return len(value.value) + len(FLOW_PATH) - 6  # a flow name becomes /flows/NAME
    if type(value) is Number:
        return len(value.text)
    if type(value) is ListValue:
        return sum(_value_size(item) + 1 for item in value.items)
    return 0


@rule("FC508", on_attributes={"FC508": lambda element, attribute: attribute.status == "undocumented"})
def undocumented_attributes(context: CheckContext) -> Iterator[Diagnostic]:
    """A note on each attribute of a BXML file that Bandwidth's main reference does not document (the editor's
    hover says the same of a .flow statement's attribute)."""
    for element, spec, body in context.sites:
        if not context.is_xml(body.file):
            continue
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is not None and attribute_spec.status == "undocumented":
                yield diagnostic("FC508", f"`{attribute.name}` of <{spec.name}> is not in Bandwidth's main BXML "
                                 "reference", attribute.name_span,
                                 help="flowc knows it from newer pages or the SDKs: verify that Bandwidth honours "
                                 "it before relying on it")
