"""`flowc import FILE.xml`: an existing BXML document -> an equivalent .flow, so users can migrate.

Reading happens twice, on purpose. `lint_xml.read_bxml` checks the document with the same rules, codes and
spans as `flowc check doc.xml` (malformed XML, unknown or misplaced elements ...). lxml, with entities and the
network disabled, then gives the exact tree: attribute values and text as written, comments to carry over.

Writing goes through the vocabulary table, the one lowering reads forward: statement keywords, attribute
aliases, positional values and units. Each value is written in the most idiomatic spelling (a duration for an
attribute with a unit, a bare phone number, a word for an enum, a flag for `true`) that the emitter turns back
into exactly the original text; strings escape everything the .flow string syntax treats specially.

Whitespace: text of verbs is trimmed at both ends (Bandwidth's own examples indent it), and spoken text
(<SpeakSentence> and its SSML) has each run of whitespace read as one space, as a speech engine reads it.
Attribute values and the inside of other text are kept exactly.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowc.bxml.lint_xml import PUBLISHED_SPELLINGS, BxmlDocument, read_bxml
from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, vocabulary
from flowc.cli.usage import UsageError
from flowc.core.codes import CODES, coded
from flowc.core.diagnostics import Diagnostic, Span
from flowc.semantics.ir import Element, Number
from flowc.semantics.lower import CREDENTIAL_PAIRS, MULTIWORD_STARTS, UNKNOWN, XML_NAME
from flowc.syntax.source import MAX_SOURCE_BYTES, SourceFile

# An lxml element or element tree: lxml ships no type information (lxml-stubs is a separate project).
XmlNode = Any
Written = tuple[str, str, AttributeSpec, Span]  # an attribute as written: (name, raw value, spec, span)

INDENT = "    "
MAX_DEPTH = 256  # libxml2's limit on nested elements, which lxml keeps unless told to parse huge trees
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Token shapes, as grammar/flow.lark defines them: a value written bare must lex back as the same token.
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")
PHONE = re.compile(r"\+[0-9]{2,15}")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
SSML_TIME = re.compile(r"[0-9]+(\.[0-9]+)?(ms|s)")
WHITESPACE = re.compile(r"[ \t\n\r]+")
STRING_ESCAPES = {"\\": "\\\\", "\r": "\\r", '"': '\\"', "\n": "\\n", "\t": "\\t", "{": "{{", "}": "}}"}
# lint_xml's warnings about parts Bandwidth ignores and .flow has no place for (text in an element that takes
# none, FC506): left out, with FC602. (An unknown attribute, FC503, may do something: it is carried over as
# `unknown NAME "VALUE"`; a misspelt one, FC507, is an error of the document itself, as in `flowc check`.)
LEFT_OUT = {"FC506"}
# Where a document is checked: the context its flow has once imported (a flow nothing names answers calls).
IMPORT_CONTEXT = "call"


@dataclass
class ImportResult:
    source: SourceFile
    flow: str | None  # the .flow text; None when the document cannot be imported
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def import_file(path: str, name: str | None) -> int:
    """The `flowc import` command: print the .flow to stdout, diagnostics to stderr; the exit code."""
    from flowc.cli.render import render_text, summary, use_color

    if name is not None and not WORD.fullmatch(name):
        raise UsageError(f"`{name}` is not a valid flow name: use letters, digits, `_` and inner `-`")
    from flowc.core.files import read_regular, require_utf8_name

    require_utf8_name(path)
    data = read_regular(path, MAX_SOURCE_BYTES + 1)  # OSError and FileProblem propagate: the CLI exits 2
    result = import_source(path, data, name)
    if result.diagnostics:
        print(render_text(result.diagnostics, {path: result.source}, color=use_color(sys.stderr)), file=sys.stderr)
        print(summary(result.diagnostics), file=sys.stderr)
    if result.flow is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(result.flow.encode())
        sys.stdout.buffer.flush()
    return 1 if result.has_errors else 0


def flow_name(path: str) -> str:
    """A valid flow name from a file name: `Main Menu.xml` -> `Main_Menu`, `1st.xml` -> `flow_1st`."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem)
    stem = re.sub(r"-{2,}", "-", stem).strip("-")
    if not stem or not (stem[0].isalpha() or stem[0] == "_"):
        stem = "flow_" + stem
    return stem if WORD.fullmatch(stem) else "imported"


def import_source(path: str, data: bytes, name: str | None = None) -> ImportResult:
    """Import one BXML document held in memory. Never raises for bad input: problems become diagnostics."""
    document = read_bxml(path, data)  # deep nesting is FC008 there, before lxml's own limit of 256 levels
    result = ImportResult(document.source, None)
    for diagnostic in document.diagnostics:
        if diagnostic.code == "FC503" and "has no attribute" in diagnostic.message:  # not the root's (FC601)
            diagnostic.notes.append('carried over as `unknown NAME "VALUE"`: the flow writes it into the BXML as '
                                    "it is")
        if diagnostic.code in LEFT_OUT:
            diagnostic = Diagnostic("FC602", CODES["FC602"].severity, diagnostic.message, diagnostic.span,
                                    help=diagnostic.help, fix=diagnostic.fix,
                                    notes=["Bandwidth ignores it, and the imported flow leaves it out"])
        result.diagnostics.append(diagnostic)
    if document.root is None or any(d.is_error and d.code != "FC601" for d in result.diagnostics):
        return result  # the structure is wrong; parts that would only be lost do not stop the reading
    tree = parse_exact(path, data, result)
    if tree is None:
        return result
    checked = checker_errors(document)  # what `flowc check` rejects the flow would carry: refused, with its codes
    result.diagnostics.extend(checked)
    if result.has_errors:
        return result
    writer = Writer(path, document.root)
    text = writer.document(tree, name or flow_name(path))
    result.diagnostics.extend(writer.diagnostics)
    if not result.has_errors:
        result.diagnostics.extend(compiles_back(text, tree, document.root.keyword_span))
    if not result.has_errors:
        result.flow = text
    return result


def checker_errors(document: BxmlDocument) -> list[Diagnostic]:
    """The errors `flowc check` reports in the document (checked as the call flow the import writes)."""
    from flowc.check import check_project
    from flowc.semantics.ir import Project

    project = Project([document.flow_file()])
    return [d for d in check_project(project, xml_contexts={document.source.path: IMPORT_CONTEXT}) if d.is_error]


def compiles_back(text: str, tree: XmlNode, span: Span) -> list[Diagnostic]:
    """FC603 when the flow the import wrote would not compile, or not to the document: a last guard, so
    that the import never prints a flow that does not compile back (the difference is the reason given)."""
    from flowc.backend.build import render
    from flowc.semantics.project import compile_sources

    compilation = compile_sources({"imported.flow": text.encode()})
    errors = [d for d in compilation.diagnostics if d.is_error]
    if errors:
        return [coded("FC603", "the imported flow would not compile back", span,
                      notes=[f"{d.code}: {d.message}" for d in errors[:5]])]
    _, rendered, _ = render(compilation)
    from lxml import etree

    difference = first_difference(tree.getroot(), etree.fromstring(rendered[0].xml))
    if difference is None:
        return []
    return [coded("FC603", f"the imported flow would compile to a different document: {difference}", span)]


def first_difference(original: XmlNode, compiled: XmlNode, path: str = "") -> str | None:
    """Where two BXML trees differ beyond what the import documents (blanks around and inside text, the root's
    namespace, the published `streamEventsUrl` spelling), in words; None when they are the same document."""
    tag = local_name(original)
    where = f"{path}/{tag}"
    if tag != local_name(compiled):
        return f"<{local_name(compiled)}> instead of <{tag}> at {where}"
    spec = vocabulary().elements.get(tag)
    wanted = {PUBLISHED_SPELLINGS.get((tag, bxml_name(k)), bxml_name(k)): v for k, v in original.attrib.items()}
    given = {bxml_name(k): v for k, v in compiled.attrib.items()}
    changed = sorted(k for k in wanted.keys() | given.keys() if not _same_value(spec, k, wanted.get(k), given.get(k)))
    if changed:
        return f"attribute `{changed[0]}` of {where} is {given.get(changed[0])!r}, not {wanted.get(changed[0])!r}"
    if spec is not None and spec.text is not None and _text_of(original) != _text_of(compiled):
        return f"the text of {where} changes"
    children = [c for c in original if isinstance(c.tag, str)]
    others = [c for c in compiled if isinstance(c.tag, str)]
    if len(children) != len(others):
        return f"{where} has {len(others)} elements instead of {len(children)}"
    for index, (child, other) in enumerate(zip(children, others, strict=True)):
        found = first_difference(child, other, f"{where}[{index}]")
        if found is not None:
            return found
    return None


def _same_value(spec: ElementSpec | None, name: str, wanted: str | None, given: str | None) -> bool:
    """Equal text, or, for a number attribute, the same number (`10.0` written `10`, with FC602)."""
    if wanted == given:
        return True
    attribute = spec.attributes.get(name) if spec is not None else None
    if attribute is None or attribute.type not in ("integer", "decimal") or wanted is None or given is None:
        return False
    number = number_value(wanted)
    return number is not None and number == number_value(given)


def _text_of(node: XmlNode) -> str:
    """An element's own text (not its children's), as the import keeps it: blank runs read as one space, the
    ends trimmed."""
    parts = [node.text or ""] + [child.tail or "" for child in node]
    return WHITESPACE.sub(" ", "".join(parts)).strip()


def parse_exact(path: str, data: bytes, result: ImportResult) -> XmlNode | None:
    """The document as lxml reads it: no entity expansion, no network, comments kept."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as error:  # read_bxml accepted it: only namespace errors get here
        line, column = error.position if error.position else (1, 1)
        start = result.source.offset(line, max(column, 1))
        reason = re.sub(r", line \d+, column \d+$", "", error.msg)
        if reason.startswith("Excessive depth"):
            reason = f"elements are nested more than {MAX_DEPTH} levels deep"
        result.diagnostics.append(coded("FC501", f"malformed XML: {reason}",
                                        Span(path, start, min(start + 1, len(result.source.text)))))
        return None


# -- writing .flow -------------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A .flow string that lowers to exactly `text`: quotes, backslashes, newlines, tabs, braces escaped."""
    return '"' + "".join(STRING_ESCAPES.get(char, char) for char in text) + '"'


def emitted_number(token: str, spec: AttributeSpec) -> str:
    """What the emitter writes for a number or duration token in this attribute (see emit_xml.value)."""
    from flowc.bxml.emit_xml import format_number

    digits = token.rstrip("mshd")
    number = Number(float(digits), token, Span("", 0, 0), token[len(digits):])  # type: ignore[arg-type]
    return format_number(number.in_unit(spec.unit))


def number_candidates(raw: str, unit: str | None) -> list[str]:
    """Spellings of a number, most idiomatic first: a duration in the roundest unit when the attribute has one."""
    if not NUMBER.fullmatch(raw):
        return []
    value = float(raw)
    candidates = []
    if unit and value >= 0:
        seconds = value if unit == "s" else value / 1000
        if seconds == int(seconds) and seconds > 0:
            whole = int(seconds)
            candidates += [f"{whole // 3600}h"] if whole % 3600 == 0 else []
            candidates += [f"{whole // 60}m"] if whole % 60 == 0 else []
            candidates.append(f"{whole}s")
        candidates.append(f"{raw}{unit}")
    candidates.append(raw)
    return candidates


def number_value(raw: str) -> float | None:
    """The number an attribute's text means, as the checker reads it (lint_xml.typed_value); None if none."""
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def format_words(attribute: AttributeSpec) -> list[str]:
    """Words a text attribute's documented format lists (prosody `rate`: slow, fast ...): written bare."""
    return re.split(r"[|\s,()]+", attribute.format or "") if attribute.type == "string" else []


def speech(text: str) -> str:
    return WHITESPACE.sub(" ", text)


@dataclass
class Piece:
    """One item of an element's content, in document order."""

    kind: str  # text | element | comment
    text: str = ""
    node: XmlNode = None
    ir: Element | None = None

    @property
    def element_ir(self) -> Element:
        """read_bxml's IR of an element piece (set for every element)."""
        assert self.ir is not None, "an element piece carries its IR"
        return self.ir


class Writer:
    def __init__(self, path: str, root: Element) -> None:
        self.path = path
        self.root = root
        self.vocab = vocabulary()
        self.lines: list[str] = []
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, message: str, span: Span, **extra: Any) -> None:
        self.diagnostics.append(Diagnostic(code, CODES[code].severity, message, span, **extra))

    def document(self, tree: XmlNode, name: str) -> str:
        root = tree.getroot()
        for sibling in reversed(list(root.itersiblings(preceding=True))):
            self.comment(sibling, 0)
        tag = local_name(root)
        if root.tag != tag:
            shown = f"{tag} xmlns=\"{root.tag[1:].partition('}')[0]}\""
            self.report("FC602", f"the root <{shown}> becomes a plain <{tag}>", self.root.keyword_span,
                        help="flowc writes BXML documents without a namespace")
        for raw_name in root.attrib:  # (namespace declarations are not attributes to lxml)
            self.report("FC601", f"`{raw_name}` on <{tag}> cannot be written in .flow", self.root.keyword_span,
                        help=f"<{tag}> takes no attributes and Bandwidth ignores them: remove it, then import the "
                        "document again")
        kind = " as bxml" if tag == "Bxml" else ""  # the root is kept: `flow NAME as bxml` writes <Bxml>
        self.lines.append(f"flow {name}{kind} {{")
        for piece in self.pieces(root, self.root):
            if piece.kind == "element":
                self.statement(piece.node, piece.element_ir, self.vocab.elements[local_name(piece.node)], 1)
            elif piece.kind == "comment":
                self.comment(piece.node, 1)
        self.lines.append("}")
        for sibling in root.itersiblings():
            self.comment(sibling, 0)
        return "\n".join(self.lines) + "\n"

    def pieces(self, node: XmlNode, ir: Element) -> list[Piece]:
        """The content of an element: text, child elements (paired with read_bxml's IR for spans), comments."""
        ir_children = iter(ir.children)
        result = [Piece("text", node.text)] if node.text else []
        for child in node:
            if isinstance(child.tag, str):
                result.append(Piece("element", node=child, ir=next(ir_children, ir)))
            elif child.tag.__name__ == "Comment":
                result.append(Piece("comment", node=child))
            if child.tail:
                result.append(Piece("text", child.tail))
        return result

    def comment(self, node: XmlNode, depth: int) -> None:
        if getattr(node.tag, "__name__", "") != "Comment":
            return  # processing instructions carry nothing a flow needs
        for line in (node.text or "").strip().splitlines() or [""]:
            self.lines.append(f"{INDENT * depth}# {line.strip()}".rstrip())

    # -- statements ----------------------------------------------------------------------------------------
    def statement(self, node: XmlNode, ir: Element, spec: ElementSpec, depth: int) -> None:
        pieces = self.content(self.pieces(node, ir), spec)
        children = [p for p in pieces if p.kind == "element"]
        texts = [p for p in pieces if p.kind == "text"]
        attributes = self.attributes(node, ir, spec)
        positional = self.positional(attributes, spec)
        words = [spec.keyword]
        # text is positional only where the positional values before it are written (`lang es-MX "hola"`);
        # otherwise it would be read as one of them, so it goes in a block (`lang { "hola" }`)
        text_in_place = "text" in spec.positional and spec.positional.index("text") == len(positional)
        block = bool(children) or (bool(texts) and not text_in_place)
        if "@children" in spec.positional and children and self.short_destinations(spec, children, pieces):
            words.append(", ".join(self.text_value((p.node.text or "").strip()) for p in children))
            block = False
        text = []
        if not block and text_in_place and spec.text is not None:
            if texts:
                text = [self.text_value(texts[0].text)]
            elif spec.text.get("required"):
                text = ['""']  # keep the (empty) element the document has; the checker will say it is empty
        if spec.kind == "ssml":  # as in the SSML reference: `emphasis level strong "really"`
            words += positional + self.named(attributes, spec) + text
        else:  # as in the statement reference: `say "Hello" voice kate`, `pause 2s`
            words += text + positional + self.named(attributes, spec)
        words += self.unknown(node, ir, spec)
        if not block:
            for piece in pieces:  # comments inside a one-line statement go just above it
                if piece.kind == "comment":
                    self.comment(piece.node, depth)
            self.lines.append(INDENT * depth + " ".join(words))
            return
        self.lines.append(INDENT * depth + " ".join(words + ["{"]))
        for piece in pieces:
            if piece.kind == "text":
                self.lines.append(INDENT * (depth + 1) + quote(piece.text))
            elif piece.kind == "comment":
                self.comment(piece.node, depth + 1)
            else:
                self.statement(piece.node, piece.element_ir, self.vocab.elements[local_name(piece.node)], depth + 1)
        self.lines.append(INDENT * depth + "}")

    def content(self, pieces: list[Piece], spec: ElementSpec) -> list[Piece]:
        """The pieces a statement writes: text as .flow keeps it, comments, child elements."""
        if spec.text is None and spec.name != "SpeakSentence":
            return [p for p in pieces if p.kind != "text"]  # blanks only: read_bxml reported any other text
        if not any(p.kind == "element" for p in pieces):  # one text, however comments split it in the XML
            joined = "".join(p.text for p in pieces if p.kind == "text")
            pieces = [p for p in pieces if p.kind == "comment"] + ([Piece("text", joined)] if joined else [])
        if spec.name == "SpeakSentence" or spec.kind == "ssml":
            return self.spoken(pieces, trim=spec.name == "SpeakSentence")
        return [Piece("text", p.text.strip()) if p.kind == "text" else p for p in pieces
                if p.kind != "text" or p.text.strip()]

    def spoken(self, pieces: list[Piece], trim: bool) -> list[Piece]:
        """Spoken text with whitespace runs as single spaces; trimmed at the ends of a whole <SpeakSentence>."""
        result = [Piece("text", speech(p.text)) if p.kind == "text" else p for p in pieces]
        content = [p for p in result if p.kind != "comment"]
        if trim and content and content[0].kind == "text":
            content[0].text = content[0].text.lstrip()
        if trim and content and content[-1].kind == "text":
            content[-1].text = content[-1].text.rstrip()
        return [p for p in result if p.kind != "text" or p.text]

    def short_destinations(self, spec: ElementSpec, children: list[Piece], pieces: list[Piece]) -> bool:
        """Whether `transfer +1555..., "sip:..."` gives the same children as the block form would."""
        if any(p.kind == "comment" for p in pieces):
            return False
        for child in children:
            text = (child.node.text or "").strip()
            expected = spec.destination(text)  # what lowering would make of `transfer TEXT`
            if child.node.attrib or len(child.node) or not text or local_name(child.node) != expected:
                return False
        return True

    # -- attributes ----------------------------------------------------------------------------------------
    def attributes(self, node: XmlNode, ir: Element, spec: ElementSpec) -> list[Written]:
        """(name, raw value, spec, span) in document order, under their vocabulary names."""
        result: list[Written] = []
        for raw_name, raw in node.attrib.items():
            written = bxml_name(raw_name)
            name = PUBLISHED_SPELLINGS.get((spec.name, written), written)
            if name not in spec.attributes:
                continue  # reported by read_bxml (FC503), carried over by unknown()
            found = next((a for a in ir.attributes if a.written == written), None)
            span = found.span if found else ir.keyword_span
            if name != written:
                self.report("FC602", f"`{written}` is imported as `{name}`, the attribute's documented name",
                            found.name_span if found else span,
                            help=f"Bandwidth's reference and SDKs write `{name}`")
            result.append((name, raw, spec.attributes[name], span))
        return result

    def unknown(self, node: XmlNode, ir: Element, spec: ElementSpec) -> list[str]:
        """Attributes flowc does not know (FC503, a warning in `flowc check`): carried over as
        `unknown NAME "VALUE"`, so the flow compiles back to the same document and says what it does not know."""
        words = []
        for raw_name, raw in node.attrib.items():
            written = bxml_name(raw_name)
            if PUBLISHED_SPELLINGS.get((spec.name, written), written) in spec.attributes:
                continue
            if not XML_NAME.fullmatch(written):  # `{urn:x}flag`: an attribute in a namespace
                self.report("FC601", f"`{written}` is in an XML namespace: .flow writes attributes without one",
                            ir.keyword_span, help="remove it (Bandwidth reads no namespaced attributes), then import "
                            "the document again")
                continue
            name = written if WORD.fullmatch(written) else quote(written)
            words.append(f"{UNKNOWN} {name} {quote(raw)}")
        return words

    def positional(self, attributes: list[Written], spec: ElementSpec) -> list[str]:
        """Values written without their name: a prefix of the element's positional attributes (`pause 2s`)."""
        values = {name: (raw, attribute, span) for name, raw, attribute, span in attributes}
        written = []
        for target in spec.positional:
            if target in ("text", "@children") or target not in values:
                break
            raw, attribute, span = values[target]
            value = self.value(raw, attribute, span, positional=spec)
            if value is None or value == "":
                break
            written.append(value)
            attributes[:] = [a for a in attributes if a[0] != target]
        return written

    def named(self, attributes: list[Written], spec: ElementSpec) -> list[str]:
        present = {name: (raw, span) for name, raw, _, span in attributes}
        pairs = {names[0]: (phrase, names[1]) for phrase, names in CREDENTIAL_PAIRS.items()
                 if names[0] in present and names[1] in present}  # `auth USER PASSWORD` when both are set
        seconds = {second for _, second in pairs.values()}
        words = []
        for name, raw, attribute, span in attributes:
            if name in seconds:
                continue
            value = self.value(raw, attribute, span)
            if name in pairs:
                phrase, second = pairs[name]
                password = self.value(present[second][0], spec.attributes[second], present[second][1])
                words.append(" ".join([*phrase, value or '""', password or '""']))
            elif value is not None:
                words.append(f"{self.spelling(attribute)} {value}".rstrip())
        return words

    def spelling(self, attribute: AttributeSpec) -> str:
        return attribute.aliases[0] if attribute.aliases else attribute.name

    def value(self, raw: str, attribute: AttributeSpec, span: Span, positional: ElementSpec | None = None
              ) -> str | None:
        """The .flow spelling of an attribute value ("" for a bare flag), or None when it has none."""
        kind = attribute.type
        if kind == "boolean":
            if raw in ("true", "false"):
                return "" if raw == "true" and positional is None else raw
            self.report("FC601", f"`{attribute.name}=\"{raw}\"` cannot be written in .flow", span,
                        help=f"on/off attributes are `true` or `false`: change the document to "
                        f"{attribute.name}=\"true\" or \"false\", then import it again")
            return None
        if kind in ("integer", "decimal"):
            for token in number_candidates(raw, attribute.unit):
                if emitted_number(token, attribute) == raw:
                    return token
            return self.same_number(raw, attribute, span)
        if kind == "ssml_time" and SSML_TIME.fullmatch(raw):
            return raw
        if WORD.fullmatch(raw) and (kind in ("enum", "http_method") or raw in format_words(attribute)) and (
                positional is None or not self.reads_as_attribute(raw, positional)):
            return raw
        if kind == "csv_list" and "," in raw:
            items = raw.split(",")
            if all(item and item.strip() == item for item in items):
                return ", ".join(self.text_value(item) for item in items)
        return self.text_value(raw)

    def same_number(self, raw: str, attribute: AttributeSpec, span: Span) -> str:
        """A number the document spells in a way flowc does not write (`10.0`, `010`, ` 5`): the same number in
        flowc's spelling, with FC602 (Bandwidth reads both the same). A string would not compile (FC201)."""
        from flowc.bxml.emit_xml import format_number

        number = number_value(raw)
        if number is None:  # not a number at all: the checker's FC201 refused the document already
            return quote(raw)
        written = format_number(number)
        token = next(t for t in number_candidates(written, attribute.unit) if emitted_number(t, attribute) == written)
        self.report("FC602", f"`{attribute.name}=\"{raw}\"` is written `{written}`, the same number", span,
                    help="flowc writes numbers without padding, leading zeros or a trailing `.0`")
        return token

    @staticmethod
    def reads_as_attribute(word: str, spec: ElementSpec) -> bool:
        """Whether a bare word in a positional place would be read as an attribute name (lower.attributes)."""
        return (word,) in spec.attribute_phrases or word in MULTIWORD_STARTS

    def text_value(self, text: str) -> str:
        return text if PHONE.fullmatch(text) else quote(text)


def bxml_name(raw_name: str) -> str:
    """An attribute's name as BXML writes it: lxml reads `xml:lang` as `{namespace}lang`."""
    return "xml:lang" if raw_name == XML_LANG else raw_name


def local_name(node: XmlNode) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""

