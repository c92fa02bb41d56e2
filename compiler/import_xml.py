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

from flowc.codes import CODES, coded
from flowc.diagnostics import Diagnostic, Span
from flowc.ir import Element, Number
from flowc.lint_xml import PUBLISHED_SPELLINGS, read_bxml
from flowc.lower import CREDENTIAL_PAIRS, MULTIWORD_STARTS
from flowc.source import MAX_SOURCE_BYTES, SourceFile
from flowc.usage import UsageError
from flowc.vocabulary import AttributeSpec, ElementSpec, vocabulary

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
STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "{": "{{", "}": "}}"}
# lint_xml's warnings that mean "this part of the document would be lost": an error when importing.
LOST_IN_IMPORT = {"FC503", "FC506", "FC507"}


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
    from flowc.render import render_text, summary, use_color

    if name is not None and not WORD.fullmatch(name):
        raise UsageError(f"`{name}` is not a valid flow name: use letters, digits, `_` and inner `-`")
    from flowc.files import read_regular, require_utf8_name

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
        if diagnostic.code in LOST_IN_IMPORT:
            diagnostic = Diagnostic("FC601", CODES["FC601"].severity, diagnostic.message, diagnostic.span,
                                    help=diagnostic.help, fix=diagnostic.fix,
                                    notes=["the imported flow could not reproduce the document"])
        result.diagnostics.append(diagnostic)
    if document.root is None or any(d.is_error and d.code != "FC601" for d in result.diagnostics):
        return result  # the structure is wrong; parts that would only be lost do not stop the reading
    tree = parse_exact(path, data, result)
    if tree is None:
        return result
    writer = Writer(path, document.root)
    text = writer.document(tree, name or flow_name(path))
    result.diagnostics.extend(writer.diagnostics)
    if not result.has_errors:
        result.flow = text
    return result


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
    from flowc.emit_xml import format_number

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
            written = "xml:lang" if raw_name == XML_LANG else raw_name
            name = PUBLISHED_SPELLINGS.get((spec.name, written), written)
            if name not in spec.attributes:
                continue  # reported by read_bxml (FC503, made FC601 above)
            found = next((a for a in ir.attributes if a.written == written), None)
            span = found.span if found else ir.keyword_span
            if name != written:
                self.report("FC602", f"`{written}` is imported as `{name}`, the attribute's documented name",
                            found.name_span if found else span,
                            help=f"Bandwidth's reference and SDKs write `{name}`")
            result.append((name, raw, spec.attributes[name], span))
        return result

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
            return quote(raw)
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

    @staticmethod
    def reads_as_attribute(word: str, spec: ElementSpec) -> bool:
        """Whether a bare word in a positional place would be read as an attribute name (lower.attributes)."""
        return (word,) in spec.attribute_phrases or word in MULTIWORD_STARTS

    def text_value(self, text: str) -> str:
        return text if PHONE.fullmatch(text) else quote(text)


def local_name(node: XmlNode) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""

