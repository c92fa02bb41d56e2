"""`flowc import` never prints a flow that does not compile back (issue 11 item 6).

- A property (hypothesis): for every BXML document built from the vocabulary (verbs, nested elements,
  attributes of every type with awkward values, unknown attributes, text with quotes, braces, newlines,
  comments), the import either refuses it with coded errors and prints nothing, or prints a flow that compiles
  without errors to an equivalent document: the same elements, the same attributes with the same values (an
  unknown one included), the same text up to the blanks the import documents as dropped.
- Every document of tests/corpus round-trips the same way, and those `flowc check` accepts are imported.
- What check accepts is carried (an unknown attribute, as `unknown NAME "VALUE"`); what check rejects is
  refused with check's own code; what .flow cannot hold is refused with FC601; FC603 guards the rest.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from flowc.backend.build import render
from flowc.bxml.import_xml import compiles_back, import_source
from flowc.bxml.lint_xml import PUBLISHED_SPELLINGS, lint_sources
from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, vocabulary
from flowc.semantics.project import compile_sources
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

CORPUS = Path(__file__).resolve().parent / "corpus"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
VOCAB = vocabulary()
VERBS = sorted(name for name, spec in VOCAB.elements.items() if spec.kind == "verb")
# Text that exercises every escape of .flow strings and XML: quotes, backslashes, braces, `${...}`, blanks.
AWKWARD = string.ascii_letters + string.digits + " \n\t\r\"'\\{}$<>&;,.:/-_#|"
BLANKS = re.compile(r"[ \t\n\r]+")


# -- documents ----------------------------------------------------------------------------------------------

def value_for(spec: AttributeSpec):
    if spec.type == "boolean":
        return st.sampled_from(["true", "false"])
    if spec.enum:
        return st.sampled_from(list(spec.enum))
    if spec.type == "http_method":
        return st.sampled_from(["GET", "POST"])
    if spec.type in ("integer", "decimal"):
        low = int(spec.min) if spec.min is not None else 0
        high = int(spec.max) if spec.max is not None else 10_000
        numbers = st.integers(low, max(low, min(high, 10_000))).map(str)
        if spec.type == "decimal":
            numbers = numbers | st.sampled_from([f"{low}.5", f"{low}.25"]).filter(
                lambda v: spec.max is None or float(v) <= spec.max)
        return numbers
    if spec.type == "url":
        scheme = "wss" if spec.websocket else "https"
        return st.sampled_from([f"{scheme}://example.com/a?b=1&c={{x}}", f"{scheme}://h.example.com/x%20y", "/next"])
    if spec.address:
        return ADDRESSES
    return st.text(AWKWARD, min_size=1, max_size=12)


ADDRESSES = st.sampled_from(["+15551234567", "sip:agent@pbx.example.com"])


def text_for(text: dict):
    """An element's text: an address or a call id where it must be one, awkward text elsewhere."""
    if text.get("address"):
        return st.just("sip:a@b.example.com") if text.get("format") == "SIP URI" else st.just(" +15551234567\n")
    if text.get("format") == "callId":
        return st.just("c-1234abcd-5678")
    spoken = st.text(AWKWARD, min_size=1 if text.get("required") else 0, max_size=16)
    return spoken.filter(lambda t: t.strip()) if text.get("required") else spoken


UNKNOWN_NAMES = st.from_regex(r"[a-z][A-Za-z0-9]{2,7}(-[a-z0-9]{1,3})?(\.[a-z]{1,3})?", fullmatch=True)


@st.composite
def element(draw, name: str, depth: int = 0) -> etree._Element:
    spec: ElementSpec = VOCAB.elements[name]
    node = etree.Element(name)
    for attribute in spec.attributes.values():
        if attribute.required or draw(st.integers(0, 3)) == 0:
            key = XML_LANG if attribute.name == "xml:lang" else attribute.name
            node.set(key, draw(value_for(attribute)))
    if draw(st.integers(0, 4)) == 0:  # an attribute flowc does not know
        unknown = draw(UNKNOWN_NAMES.filter(lambda n: n not in spec.attributes and n != "xmlns"))
        node.set(unknown, draw(st.text(AWKWARD, max_size=8)))
    children = sorted(spec.children)
    if spec.text is not None:
        node.text = draw(text_for(spec.text))
    elif draw(st.integers(0, 8)) == 0:  # text where none is expected (FC506): ignored by Bandwidth, left out
        node.text = draw(st.text(AWKWARD, min_size=1, max_size=6))
    limits = spec.child_limits
    if children and depth < 3:
        low = limits.min if limits else 0
        for _ in range(draw(st.integers(low, max(low, min(2, limits.max or 2) if limits else 2)))):
            child = draw(element(draw(st.sampled_from(children)), depth + 1))
            child.tail = draw(st.sampled_from(["", "\n    ", " "])) if spec.text is None else \
                draw(st.text(AWKWARD, max_size=6))
            node.append(child)
    if draw(st.integers(0, 6)) == 0:
        comment = etree.Comment(draw(st.text(string.ascii_letters + " ", max_size=10)))
        node.insert(0, comment)
    return node


@st.composite
def documents(draw) -> bytes:
    root = etree.Element(draw(st.sampled_from(["Response", "Response", "Bxml"])))
    root.text = "\n"
    for _ in range(draw(st.integers(1, 4))):
        verb = draw(element(draw(st.sampled_from(VERBS))))
        verb.tail = "\n"
        root.append(verb)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# -- equivalence, written independently of the import's own guard --------------------------------------------

def own_text(node) -> str:
    """An element's text, blank runs as one space; none for an element that takes none (Bandwidth ignores it,
    and the import leaves it out with FC602)."""
    spec = VOCAB.elements.get(etree.QName(node).localname)
    if spec is None or spec.text is None:
        return ""
    pieces = [node.text or ""] + [child.tail or "" for child in node]
    return BLANKS.sub(" ", "".join(pieces)).strip()


def shape(node):
    tag = etree.QName(node).localname
    attributes = {}
    for key, value in node.attrib.items():
        key = "xml:lang" if key == XML_LANG else PUBLISHED_SPELLINGS.get((tag, key), key)
        attributes[key] = value
    return (tag, attributes, own_text(node), [shape(child) for child in node if isinstance(child.tag, str)])


def compiled_document(flow: str) -> bytes:
    compilation = compile_sources({"imported.flow": flow.encode()})
    errors = [(d.code, d.message) for d in compilation.diagnostics if d.is_error]
    assert errors == [], flow
    _, rendered, _ = render(compilation)
    assert len(rendered) == 1
    return rendered[0].xml


def assert_round_trip(data: bytes, name: str = "doc.xml") -> bool:
    """Import `data`; when it prints a flow, that flow compiles to an equivalent document. True if imported."""
    result = import_source(name, data)
    if result.flow is None:
        assert result.has_errors and all(re.fullmatch(r"FC\d{3}", d.code) for d in result.diagnostics)
        return False
    assert not result.has_errors
    original = etree.fromstring(data)
    assert shape(etree.fromstring(compiled_document(result.flow))) == shape(original), result.flow
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_document_import_accepts_compiles_back_to_it(data):
    # `assume`: hypothesis fails the test (FailedHealthCheck) if it finds too few documents the import accepts,
    # so the property is not vacuous.
    assume(assert_round_trip(data))


# -- the corpus ---------------------------------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.rglob("*.xml"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_documents_round_trip(path):
    data = path.read_bytes()
    _, checked = lint_sources({path.name: data})
    imported = assert_round_trip(data, path.name)
    accepted = not any(d.is_error for d in checked)
    assert imported == accepted, [(d.code, d.message) for d in checked]


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) >= 10


# -- the cases of the issue ----------------------------------------------------------------------------------

def test_a_value_check_rejects_is_refused_with_checks_code():
    data = b'<Response>\n<SpeakSentence voice="a&#10;b">Hi</SpeakSentence>\n</Response>\n'
    result = import_source("voice.xml", data)
    assert result.flow is None and [d.code for d in result.diagnostics] == ["FC202"]
    _, checked = lint_sources({"voice.xml": data})
    assert [d.code for d in checked] == ["FC202"]  # the same verdict as `flowc check`


def test_an_unknown_attribute_is_carried_and_marked():
    data = b'<Response>\n<SpeakSentence voice="kate" newFeature="on &amp; {x}">Hi</SpeakSentence>\n</Response>\n'
    result = import_source("unknown.xml", data)
    assert [d.code for d in result.diagnostics] == ["FC503"]  # a warning, as in `flowc check`
    assert 'say "Hi" voice kate unknown newFeature "on & {{x}}"' in result.flow
    assert b'newFeature="on &amp; {x}"' in compiled_document(result.flow)
    compilation = compile_sources({"unknown.flow": result.flow.encode()})
    assert [d.code for d in compilation.diagnostics] == ["FC503"]  # the flow says it too


def test_a_misspelt_attribute_is_refused_as_check_refuses_it():
    data = b'<Response>\n<Conference calbackTimeout="5">room</Conference>\n</Response>\n'
    result = import_source("typo.xml", data)
    assert result.flow is None and [d.code for d in result.diagnostics] == ["FC507"]


@pytest.mark.parametrize(("data", "code"), [
    (b'<Response xmlns:x="urn:x">\n<Hangup x:flag="1"/>\n</Response>\n', "FC601"),  # a namespaced attribute
    (b'<Response version="2">\n<Hangup/>\n</Response>\n', "FC601"),  # an attribute of the root
])
def test_what_flow_cannot_hold_is_refused_with_a_reason(data, code):
    result = import_source("lost.xml", data)
    assert result.flow is None and code in [d.code for d in result.diagnostics if d.is_error]


def test_carriage_returns_and_tabs_survive_as_escapes():
    data = b'<Response>\n<Redirect redirectUrl="/next" tag="a&#13;b&#9;c"/>\n</Response>\n'
    result = import_source("cr.xml", data)
    assert 'tag "a\\rb\\tc"' in result.flow
    assert etree.fromstring(compiled_document(result.flow))[0].get("tag") == "a\rb\tc"


def test_fc603_the_guard_names_the_difference():
    tree = etree.fromstring(b'<Response><Redirect redirectUrl="/next" tag="x"/></Response>').getroottree()
    span = import_source("g.xml", b"<Response/>").source  # any source: the guard only needs a span
    del span
    from flowc.core.diagnostics import Span

    where = Span("g.xml", 0, 1)
    [found] = compiles_back('flow g {\n    redirect to "/next" tag "y"\n}\n', tree, where)
    assert found.code == "FC603" and "`tag`" in found.message and "'y'" in found.message
    [broken] = compiles_back('flow g {\n    redirect to "/next" tag\n}\n', tree, where)
    assert broken.code == "FC603" and "would not compile back" in broken.message
    assert compiles_back('flow g {\n    redirect to "/next" tag "x"\n}\n', tree, where) == []


@pytest.mark.parametrize(("line", "code", "where"), [
    ('say "Hi" unknown newFeature "on"', "FC503", "newFeature"),  # a warning: compiled as written
    ('say "Hi" unknown voic "kate"', "FC507", "voic"),  # one edit from `voice`: an error, as in BXML
    ('say "Hi" unknown voice "kate"', "FC103", "unknown voice"),  # a known attribute: write it plainly
    ('say "Hi" unknown "a b" "x"', "FC103", '"a b"'),  # not an XML name
    ('say "Hi" unknown', "FC106", "unknown"),
])
def test_unknown_attributes_in_flow_are_checked_as_in_bxml(line, code, where):
    text = f"flow main {{\n    {line}\n}}\n"
    [found] = compile_sources({"u.flow": text.encode()}).diagnostics
    assert found.code == code and text[found.span.start:found.span.end] == where
    if code == "FC507":
        assert found.fix is not None and found.fix.edits[0].new_text == 'voice "kate"'
