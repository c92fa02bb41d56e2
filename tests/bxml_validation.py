"""An independent validator for emitted BXML, driven only by the vocabulary table (compiler/data/bxml.json).

It deliberately does not reuse the checker: it walks the XML that `flowc compile` wrote, with lxml, and checks
each element and attribute against the table, so a bug in lowering, the checker or the emitter that produces
invalid BXML is caught here. Values filled in per request (`${...}` placeholders) are only checked where
their shape is known statically (nothing is assumed about them).
"""

from __future__ import annotations

import re

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, Vocabulary, vocabulary
from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PLACEHOLDER = "${"
INTEGER = re.compile(r"-?[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
SSML_TIME = re.compile(r"[0-9]+(\.[0-9]+)?(ms|s)")
E164 = re.compile(r"\+[0-9]{2,15}")


def attribute_name(name: str) -> str:
    return "xml:lang" if name == XML_LANG else name


def validate(xml: bytes, context: str, vocab: Vocabulary | None = None) -> list[str]:
    """Every problem found in one document answering a webhook of `context` (call, conference ...)."""
    vocab = vocab or vocabulary()
    problems: list[str] = []
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        return [f"malformed XML: {error}"]
    # Bandwidth reads a webhook reply with either root; its update endpoints' documents have a <Bxml> root
    update = vocab.update_documents.get(context)
    roots = (update["root"],) if update else ("Response", "Bxml")
    if root.tag not in roots:
        problems.append(f"root element is <{root.tag}>, expected <{roots[0]}>")
    if root.attrib:
        problems.append("<Response> takes no attributes")
    if context not in vocab.contexts:
        return problems + [f"unknown context {context!r}"]
    allowed = vocab.contexts[context]
    _no_text(root, "<Response>", problems)
    for child in root:
        if not isinstance(child.tag, str):
            problems.append(f"unexpected node in <Response>: {child!r}")
            continue
        spec = vocab.elements.get(child.tag)
        if spec is None:
            problems.append(f"unknown element <{child.tag}>")
            continue
        if spec.kind != "verb":
            problems.append(f"<{child.tag}> is not a verb and cannot be a child of <Response>")
        elif child.tag not in allowed:
            problems.append(f"<{child.tag}> is not allowed in a {context} document")
        _element(child, spec, vocab, problems)
    return problems


def _no_text(node, where: str, problems: list[str]) -> None:
    pieces = [node.text] + [child.tail for child in node]
    if any(piece and piece.strip() for piece in pieces):
        problems.append(f"text in {where}, which takes none")


def _element(node, spec: ElementSpec, vocab: Vocabulary, problems: list[str]) -> None:
    where = f"<{spec.name}>"
    for raw_name, value in node.attrib.items():
        name = attribute_name(raw_name)
        attribute = spec.attributes.get(name)
        if attribute is None:
            problems.append(f"{where} has no attribute {name!r}")
            continue
        problem = _value(attribute, value)
        if problem:
            problems.append(f"{where} {name}={value!r}: {problem}")
    if spec.text is None and spec.kind != "ssml":
        _no_text(node, where, problems)
    else:
        text = "".join(node.itertext())
        if spec.text and spec.text.get("required") and not text.strip():
            problems.append(f"{where} needs text content")
        elif spec.text and PLACEHOLDER not in text:
            problem = _text(spec, text)
            if problem:
                problems.append(f"{where} text {text!r}: {problem}")
    for child in node:
        if not isinstance(child.tag, str):
            problems.append(f"unexpected node in {where}: {child!r}")
            continue
        child_spec = vocab.elements.get(child.tag)
        if child_spec is None:
            problems.append(f"unknown element <{child.tag}> in {where}")
            continue
        if child.tag not in spec.children:
            problems.append(f"<{child.tag}> is not allowed in {where}")
        _element(child, child_spec, vocab, problems)


def _text(spec: ElementSpec, text: str) -> str | None:
    assert spec.text is not None
    kind, text_format = spec.text.get("type"), spec.text.get("format")
    if kind == "url" and not re.match(r"https?://", text):
        return "not an http(s) URL"
    if text_format == "E.164" and not E164.fullmatch(text):
        return "not an E.164 phone number"
    if text_format == "SIP URI" and not text.startswith("sip:"):
        return "not a SIP URI"
    return None


def _value(spec: AttributeSpec, value: str) -> str | None:
    if PLACEHOLDER in value:
        return None  # filled in per request; its shape is checked by the generated handler
    kind = spec.type
    if kind == "boolean":
        return None if value in ("true", "false") else "not true or false"
    if kind in ("enum", "http_method"):
        return None if value in spec.enum else f"not one of {', '.join(spec.enum)}"
    if kind in ("integer", "decimal"):
        if not (INTEGER if kind == "integer" else DECIMAL).fullmatch(value):
            return f"not a{'n integer' if kind == 'integer' else ' number'}"
        number = float(value)
        if spec.min is not None and number < spec.min:
            return f"below the minimum {spec.min}"
        if spec.max is not None and number > spec.max:
            return f"above the maximum {spec.max}"
        return None
    if kind == "string":
        if spec.max_length is not None and len(value) > spec.max_length:
            return f"longer than {spec.max_length} characters"
        if spec.format == "E.164" and not E164.fullmatch(value):
            return "not an E.164 phone number"
        return None
    if kind == "url":
        if (spec.format or "").startswith("websocket"):
            return None if re.match(r"wss?://", value) else "not a WebSocket URL"
        if re.match(r"https?://[^/\s]+", value):
            return None
        if spec.relative_ok and value.startswith("/"):
            return None
        return "not an absolute http(s) URL" + (" or a relative path" if spec.relative_ok else "")
    if kind == "csv_list":
        items = value.split(",")
        return None if all(item.strip() for item in items) else "an empty item in the list"
    if kind == "ssml_time":
        if not SSML_TIME.fullmatch(value):
            return "not a time like 500ms or 2s"
        seconds = float(value[:-2]) / 1000 if value.endswith("ms") else float(value[:-1])
        return None if seconds <= 10 else "longer than 10 seconds"
    return f"unknown attribute type {kind!r} in the table"
