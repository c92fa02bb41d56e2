"""`flowc import`: BXML -> .flow. The contract is a round trip: compiling the imported flow with the real
compiler gives back the same document (canonical XML), for every Bandwidth documentation example and for
tests/corpus/import, which covers every element and attribute of the vocabulary, SSML and escaping."""

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.backend.build import render
from flowc.bxml.import_xml import flow_name, import_source, quote
from flowc.bxml.lint_xml import PUBLISHED_SPELLINGS
from flowc.bxml.vocabulary import vocabulary
from flowc.semantics.project import compile_sources
from lxml import etree

CORPUS = Path(__file__).resolve().parent / "corpus"
DOCS = sorted((CORPUS / "bandwidth_docs").glob("*.xml"))
OWN = sorted(p for p in (CORPUS / "import").glob("*.xml") if not p.name.startswith("invalid_"))
INVALID = sorted((CORPUS / "import").glob("invalid_*.xml"))  # values `flowc check` rejects: refused
BXML = sorted((CORPUS / "bxml").glob("*.xml"))  # <Bxml> documents: update endpoints, a webhook reply
SPEECH = {"SpeakSentence"} | {n for n, e in vocabulary().elements.items() if e.kind == "ssml"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# -- canonical form --------------------------------------------------------------------------------------------


def canonical(data: bytes, renames: bool = False, numbers: bool = False) -> bytes:
    """C14N of a document after dropping comments and insignificant whitespace: blanks between elements, the
    ends of a verb's text, and, in spoken text, the length of a run of whitespace. With `renames`, the
    published attribute spellings are read as the documented ones (what import writes, with FC602)."""
    root = etree.fromstring(data, etree.XMLParser(remove_comments=True, remove_pis=True, resolve_entities=False))
    _normalise(root, renames)
    if numbers:  # `010`, `10.0` and `10` are the same number to Bandwidth; the import writes `10` (FC602)
        for node in root.iter():
            spec = vocabulary().elements.get(node.tag) if isinstance(node.tag, str) else None
            for name, value in list(node.attrib.items()):
                attribute = spec.attributes.get(name) if spec else None
                if attribute is not None and attribute.type in ("integer", "decimal"):
                    with contextlib.suppress(ValueError):
                        node.set(name, repr(float(value)))
    return etree.tostring(root, method="c14n")


def _normalise(node, renames: bool) -> None:
    tag = node.tag
    if renames:
        for old_name in [a for a in node.attrib if (tag, a) in PUBLISHED_SPELLINGS]:
            node.set(PUBLISHED_SPELLINGS[(tag, old_name)], node.attrib.pop(old_name))
    if tag == "SpeakSentence" or tag in SPEECH and node.getparent().tag in SPEECH:
        _collapse(node, trim=tag == "SpeakSentence")
    elif vocabulary().elements.get(tag) is not None and vocabulary().elements[tag].text is not None:
        node.text = (node.text or "").strip() or None
    else:
        node.text = None
        for child in node:
            child.tail = None
    for child in node:
        _normalise(child, renames)


def _collapse(node, trim: bool) -> None:
    def squash(text):
        return re.sub(r"[ \t\n\r]+", " ", text) if text else text

    node.text = squash(node.text)
    for child in node:
        child.tail = squash(child.tail)
    if trim:
        if node.text:
            node.text = node.text.lstrip() or None
        last = node[-1] if len(node) else None
        if last is not None and last.tail:
            last.tail = last.tail.rstrip() or None
        elif last is None and node.text:
            node.text = node.text.rstrip() or None


def compiled(flow: str, name: str, check: bool = True) -> bytes:
    compilation = compile_sources({f"{name}.flow": flow.encode()}, check=check)
    errors = [(d.code, d.message) for d in compilation.diagnostics if d.is_error]
    assert not errors, f"{errors}\n{flow}"
    _, rendered, oversized = render(compilation)
    assert not oversized
    return next(r.xml for r in rendered if r.document.file == f"flows/{name}.xml")


def round_trip(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    result = import_source(str(path), data)
    assert not result.has_errors, [(d.code, d.message) for d in result.diagnostics]
    assert result.flow is not None
    return result.flow, compiled(result.flow, flow_name(str(path)))


# -- round trips -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCS + OWN + BXML, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compiling_the_import_gives_back_the_document(path):
    flow, xml = round_trip(path)
    assert canonical(xml) == canonical(path.read_bytes(), renames=True), flow


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_values_check_rejects_are_refused_with_the_checkers_codes(path):
    """The flow would not compile: nothing is printed, and the reasons are `flowc check`'s own."""
    from flowc.bxml.lint_xml import lint_sources

    result = import_source(str(path), path.read_bytes())
    assert result.flow is None
    found = [(d.code, d.span.start) for d in result.diagnostics if d.is_error]
    checked = [(d.code, d.span.start) for d in lint_sources({str(path): path.read_bytes()})[1] if d.is_error]
    assert found == checked and {c for c, _ in found} >= {"FC201", "FC202", "FC203", "FC304"}


def test_documentation_examples_import_cleanly_except_the_published_misspelling():
    warned = {}
    for path in DOCS:
        result = import_source(str(path), path.read_bytes())
        warned.update({path.name: [d.code for d in result.diagnostics]} if result.diagnostics else {})
    assert warned == {"startstream_1.xml": ["FC602"]}


def test_corpus_covers_every_element_and_attribute_of_the_vocabulary():
    seen: set[tuple[str, str | None]] = set()
    for path in OWN:
        for node in etree.parse(str(path)).getroot().iter(tag=etree.Element):
            seen.add((node.tag, None))
            seen.update((node.tag, "xml:lang" if a == XML_LANG else a) for a in node.attrib)
    wanted = {(name, None) for name in vocabulary().elements}
    wanted |= {(name, a) for name, e in vocabulary().elements.items() for a in e.attributes}
    assert wanted - seen == set()


def test_idiomatic_spellings():
    flow, _ = round_trip(CORPUS / "bandwidth_docs" / "speaksentence_2.xml")
    assert flow == (
        "flow speaksentence_2 {\n"
        "    say voice jorge {\n"
        '        "Hello, you have reached the home of "\n'
        '        lang es-MX "Antonio Mendoza"\n'
        '        ". Please leave a message."\n'
        "    }\n"
        "}\n")
    flow, _ = round_trip(CORPUS / "bandwidth_docs" / "transfer_1.xml")
    assert "    transfer +15554567892 from +15554567891\n" in flow
    flow, _ = round_trip(CORPUS / "bandwidth_docs" / "record_1.xml")
    assert 'record then "https://myapp.com/nextBXML" max 10s\n' in flow
    assert "    # Any verbs after this point would be replaced" in flow  # comments are carried over
    flow, _ = round_trip(CORPUS / "bandwidth_docs" / "redirect_2.xml")
    assert 'redirect "http://flow.url/newFlow" auth "username" "password"' in flow


def imported(xml: str, name: str = "doc") -> str:
    result = import_source(f"{name}.xml", xml.encode())
    assert not result.has_errors, [(d.code, d.message) for d in result.diagnostics]
    return result.flow or ""


def test_values_are_written_in_the_attribute_unit():
    flow = imported('<Response><Pause duration="7200"/><Pause duration="90"/><Pause duration="1.5"/>'
                    '<SendDtmf toneDuration="2000" toneInterval="250">1</SendDtmf>'
                    '<Gather maxDigits="3" firstDigitTimeout="0"/><Ring duration="10.0"/></Response>')
    assert flow.splitlines()[1:-1] == ["    pause 2h", "    pause 90s", "    pause 1.5s",
                                       '    send dtmf "1" tone 2s gap 250ms', "    gather max 3 timeout 0s",
                                       '    ring 10s']  # `10.0`: the same number, with FC602


def test_relative_urls_stay_literal():
    xml = ('<Response><Gather gatherUrl="/flows/menu"/><Redirect redirectUrl="/next"/>'
           '<Record recordCompleteUrl="../saved"/></Response>')
    flow = imported(xml)
    assert '"/flows/menu"' in flow and 'redirect "/next"' in flow and 'then "../saved"' in flow
    compilation = compile_sources({"doc.flow": flow.encode()})
    assert not compilation.has_errors  # no flow named `menu` is needed: the URL is a string


def test_strings_escape_what_flow_strings_treat_specially():
    text = 'say "hi" \\ {from} ${to} }} {{\n\tend'
    assert quote(text) == '"say \\"hi\\" \\\\ {{from}} ${{to}} }}}} {{{{\\n\\tend"'
    flow = imported(f"<Response><Tag>{text}</Tag></Response>")
    assert canonical(compiled(flow, "doc")) == canonical(f"<Response><Tag>{text}</Tag></Response>".encode())


def test_flow_names_from_file_names():
    assert flow_name("dir/Main Menu.xml") == "Main_Menu"
    assert flow_name("1st-try.xml") == "flow_1st-try"
    assert flow_name("--a--b--.xml") == "a-b"
    assert flow_name("ünïcode.xml") == "_n_code"
    assert imported("<Response/>", "x").startswith("flow x {\n")


# -- diagnostics -------------------------------------------------------------------------------------------------


def diagnostics(xml: str | bytes) -> list[tuple[str, str, int]]:
    data = xml.encode() if isinstance(xml, str) else xml
    result = import_source("doc.xml", data)
    if result.has_errors:
        assert result.flow is None
    return [(d.code, d.severity.label, d.span.start) for d in result.diagnostics]


def test_fc601_unknown_attribute_stray_text_and_bad_flag():
    xml = ('<Response>\n<Record trancribe="true"/>\n<Hangup>now</Hangup>\n<Conference mute="yes">r</Conference>\n'
           '</Response>')
    found = diagnostics(xml)  # one edit from `transcribe`: misspelt (FC507), an error in `flowc check` too
    assert [c for c, _, _ in found] == ["FC507", "FC602"]  # text Bandwidth ignores is left out: a warning
    assert [s for _, _, s in found] == [xml.index("trancribe"), xml.index("now")]
    assert [severity for _, severity, _ in found] == ["error", "warning"]
    assert imported('<Response>\n<Hangup>now</Hangup>\n</Response>').splitlines()[1] == "    hangup"
    xml = '<Response>\n<Record transcribe="yes"/>\n</Response>'
    assert [(c, s) for c, _, s in diagnostics(xml)] == [("FC201", xml.index('yes'))]  # check's own verdict
    xml = '<Response>\n<Record transcriptionProfile="x"/>\n</Response>'  # not one edit from anything: carried
    assert [c for c, _, _ in diagnostics(xml)] == ["FC503"]
    assert 'unknown transcriptionProfile "x"' in imported(xml)


def test_fc602_published_spelling_and_a_bxml_root_kept():
    xml = '<Bxml><StartStream destination="wss://m.example.com" streamEventsUrl="/e"/></Bxml>'
    result = import_source("doc.xml", xml.encode())
    assert [(d.code, d.severity.label) for d in result.diagnostics] == [("FC602", "warning")]  # the spelling only
    assert result.flow is not None and 'on event "/e"' in result.flow and "flow doc as bxml {" in result.flow
    assert canonical(compiled(result.flow, "doc")) == canonical(
        b'<Bxml><StartStream destination="wss://m.example.com" streamEventUrl="/e"/></Bxml>')


def test_a_namespaced_root_loses_only_its_namespace():
    xml = '<Response xmlns="http://example.com/bxml"><Hangup/></Response>'
    result = import_source("doc.xml", xml.encode())
    assert [d.code for d in result.diagnostics] == ["FC602"] and "flow doc {" in result.flow


def test_fc602_namespaced_root():
    xml = '<Response xmlns="urn:x"><SpeakSentence>Hi</SpeakSentence></Response>'
    result = import_source("doc.xml", xml.encode())
    assert [(d.code, d.span.start) for d in result.diagnostics] == [("FC602", 1)]
    assert result.flow == 'flow doc {\n    say "Hi"\n}\n'


@pytest.mark.parametrize("xml, code", [
    ("<Response><Speak>hi</Speak></Response>", "FC502"),
    ("<Document><Hangup/></Document>", "FC504"),
    ("<Response><Gather><Hangup/></Gather></Response>", "FC505"),
    ("<Response><SpeakSentence>Tom & Jerry</SpeakSentence></Response>", "FC501"),
    ('<!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Tag>&a;</Tag></Response>', "FC501"),
    (b"\x00\x01binary", "FC003"),
    (b"<Response><Tag>\xff</Tag></Response>", "FC004"),
])
def test_documents_that_cannot_be_imported(xml, code):
    assert [c for c, _, _ in diagnostics(xml)] == [code]


@pytest.mark.parametrize("depth", [300, 5000])
def test_absurdly_deep_nesting_is_reported_not_raised(depth):
    xml = "<Response><SpeakSentence>" + "<s>" * depth + "x" + "</s>" * depth + "</SpeakSentence></Response>"
    result = import_source("deep.xml", xml.encode())
    assert [d.code for d in result.diagnostics] == ["FC008"] and "deep" in result.diagnostics[0].message


# -- command line ------------------------------------------------------------------------------------------------


def flowc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


def test_cli_import_prints_a_flow_that_compiles(tmp_path):
    result = flowc("import", str(CORPUS / "bandwidth_docs" / "conference_2.xml"))
    assert result.returncode == 0 and result.stderr == b""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "c.flow").write_bytes(result.stdout)
    assert flowc("compile", str(tmp_path / "src"), "-o", str(tmp_path / "out")).returncode == 0
    assert canonical((tmp_path / "out" / "flows" / "conference_2.xml").read_bytes()) == canonical(
        (CORPUS / "bandwidth_docs" / "conference_2.xml").read_bytes())


def test_cli_import_name_option_and_unicode(tmp_path):
    path = tmp_path / "greeting.xml"
    path.write_text("<Response><SpeakSentence>Grüße 👋</SpeakSentence></Response>", encoding="utf-8")
    result = flowc("import", str(path), "--name", "hello")
    assert result.returncode == 0
    assert result.stdout.decode() == 'flow hello {\n    say "Grüße 👋"\n}\n'
    bad = flowc("import", str(path), "--name", "no good")
    assert bad.returncode == 2 and b"not a valid flow name" in bad.stderr and bad.stdout == b""


@pytest.mark.parametrize("content, code", [
    (b"<Response><SpeakSentence>Hi</Speak></Response>", "FC501"),
    (b"<html><body/></html>", "FC504"),
    (b"<Response><Dance/></Response>", "FC502"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "FC003"),
])
def test_cli_import_refuses_bad_documents(tmp_path, content, code):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    result = flowc("import", str(path))
    assert result.returncode == 1 and result.stdout == b""
    assert f"error[{code}]".encode() in result.stderr and b"bad.xml:1:" in result.stderr


def test_cli_import_missing_file_is_an_io_error(tmp_path):
    result = flowc("import", str(tmp_path / "nope.xml"))
    assert result.returncode == 2 and b"nope.xml" in result.stderr and result.stdout == b""


def test_contexts_file_lists_every_documentation_example():
    contexts = json.loads((CORPUS / "bandwidth_docs" / "contexts.json").read_text())
    assert set(contexts) == {p.name for p in DOCS}


# -- layout and documentation ------------------------------------------------------------------------------------


def test_imports_are_already_in_the_canonical_layout():
    formatter = pytest.importorskip("flowc.syntax.formatter")
    for path in DOCS + OWN:
        flow = import_source(str(path), path.read_bytes()).flow
        assert flow is not None and formatter.format_source(flow, str(path)) == flow, path


def test_the_migration_example_in_the_language_docs_is_what_import_prints():
    text = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text()
    section = text[text.index("## Migrating existing BXML"):]
    document = re.search(r"^```text\n(.*?)^```$", section, re.MULTILINE | re.DOTALL).group(1)
    flow = re.search(r"^```flow\n(.*?)^```$", section, re.MULTILINE | re.DOTALL).group(1)
    assert imported(document, "home") == flow


# -- generated documents -----------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VOCAB = vocabulary()
# Text with everything .flow strings or XML treat specially, whitespace runs, non-ASCII and runtime look-alikes.
TEXT = st.lists(st.sampled_from(list('ab Z09"\\{}$|<>&\'\n\t\ré—日👋') + ["{from}", "${to}", "{{", "}}", "  "]),
                max_size=10).map("".join)
NUMBERS = st.one_of(st.integers(0, 100_000).map(str), st.decimals(0, 500, places=2).map(str),
                    st.sampled_from(["0", "1.50", "-2", "010", "1e3", "", " 5"]))


def attribute_value(spec) -> st.SearchStrategy[str]:
    if spec.type == "boolean":
        return st.sampled_from(["true", "false"])
    if spec.type in ("integer", "decimal"):
        return NUMBERS
    if spec.type in ("enum", "http_method"):
        return st.one_of(st.sampled_from(list(spec.enum) or ["x"]), TEXT)
    if spec.type == "ssml_time":
        return st.one_of(st.sampled_from(["500ms", "1s", "2.5s", "0s"]), TEXT)
    if spec.type == "csv_list":
        return st.lists(st.sampled_from(["c-1", "c-2", " c-3", "en-US", ""]), min_size=1, max_size=3).map(",".join)
    return st.one_of(TEXT, st.sampled_from(["+15551234567", "/next", "sip:a@b.example.com", "GET"]))


@st.composite
def element(draw, name: str, depth: int) -> etree._Element:
    spec = VOCAB.elements[name]
    node = etree.Element(name)
    for attribute in draw(st.lists(st.sampled_from(list(spec.attributes) or [""]), unique=True, max_size=4)):
        if attribute:
            key = XML_LANG if attribute == "xml:lang" else attribute
            node.set(key, draw(attribute_value(spec.attributes[attribute])))
    if spec.text is not None:
        node.text = draw(TEXT)
    children = list(spec.children) if depth < 3 else []
    for _ in range(draw(st.integers(0, 3 if children else 0))):
        child = draw(element(draw(st.sampled_from(children)), depth + 1))
        child.tail = draw(TEXT) if spec.text is not None else draw(st.sampled_from(["", "\n  "]))
        node.append(child)
    if draw(st.booleans()) and depth < 2:
        node.append(etree.Comment(draw(st.sampled_from([" note ", "a\nb", ""]))))
    return node


@st.composite
def documents(draw) -> bytes:
    root = etree.Element(draw(st.sampled_from(["Response", "Response", "Bxml"])))
    verbs = [name for name, spec in VOCAB.elements.items() if spec.kind == "verb"]
    for name in draw(st.lists(st.sampled_from(verbs), max_size=4)):
        verb = draw(element(name, 1))
        verb.tail = "\n    "
        root.append(verb)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_round_trip(data):
    """Values are random, so `flowc check` rejects many documents: the import refuses those (with the codes);
    every one it prints compiles, checked, back to the document (numbers compared as numbers, FC602)."""
    result = import_source("doc.xml", data)
    if result.flow is None:
        assert result.has_errors
        return
    xml = compiled(result.flow, "doc")
    assert canonical(xml, numbers=True) == canonical(data, numbers=True), result.flow  # a <Bxml> root is kept


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<Response>", "</Response>", "<SpeakSentence>", "</SpeakSentence>", "hi", "&",
                                 "<!--", "-->", '<Pause duration="', '"/>', "<Tag/>", "<", ">", "\x00", "é"]),
                max_size=20).map("".join))
def test_any_input_gives_a_flow_or_diagnostics(text):
    result = import_source("soup.xml", text.encode())
    assert (result.flow is None) == result.has_errors
    for diagnostic in result.diagnostics:
        assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(result.source.text)
