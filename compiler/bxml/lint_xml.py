"""Linting raw BXML (.xml) files with the checker's own rules, for users not ready to write .flow.

`read_bxml` parses a document with the standard library's expat (no lxml on the check path), keeping the
character offsets of every element, attribute and text, and converts it into the same IR the .flow front end
produces (Element / Attribute / Text with spans). `lint_sources` then runs flowc.check over those documents,
telling it which webhook each one answers, so the codes, messages and rendering are the same as for .flow.
The converter is also the entry point for anything else that reads BXML (such as `flowc import`).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, vocabulary
from flowc.core.codes import coded
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span, did_you_mean, edit_distance
from flowc.semantics.ir import Attribute, Element, Flow, FlowFile, ListValue, Number, Project, Text, Value, Word
from flowc.syntax.source import SourceError, SourceFile, decode
from flowc.syntax.tree import MAX_NESTING_DEPTH

ROOTS = ("Response", "Bxml")
# Spellings that Bandwidth's own published examples use for an attribute whose reference name differs; they
# are read as the documented attribute so the published examples check clean.
PUBLISHED_SPELLINGS = {("StartStream", "streamEventsUrl"): "streamEventUrl"}
START_TAG = re.compile(r"""<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


# -- raw tree: what expat saw, with character offsets ------------------------------------------------------


@dataclass
class RawAttribute:
    name: str
    value: str  # entities decoded
    name_span: tuple[int, int]
    value_span: tuple[int, int]  # inside the quotes


@dataclass
class RawText:
    text: str
    start: int  # raw source range, whitespace trimmed
    end: int


@dataclass
class RawElement:
    name: str
    start: int
    start_tag_end: int
    self_closing: bool
    attributes: list[RawAttribute]
    content: list[RawElement | RawText] = field(default_factory=list)
    end: int = 0
    end_tag: tuple[int, int] | None = None  # the name in `</Name>`


class Refused(Exception):
    """A construct flowc will not read (entity declarations); reported like malformed XML."""


class TreeBuilder:
    def __init__(self, text: str, data: bytes) -> None:
        self.text = text
        self.chars = _byte_to_char(text, data)
        self.parser = expat.ParserCreate(encoding="UTF-8")
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.buffer_text = False  # with buffering, positions point past the text; we need its start
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.characters
        self.parser.CommentHandler = self.flush_here
        self.parser.ProcessingInstructionHandler = self.flush_here
        self.parser.EntityDeclHandler = self.refuse_entities
        self.stack: list[RawElement] = []
        self.root: RawElement | None = None
        self.pending: list[str] = []
        self.pending_start = 0

    def position(self) -> int:
        return self.chars(self.parser.CurrentByteIndex)

    def parse(self, data: bytes) -> RawElement | None:
        self.parser.Parse(data, True)
        return self.root

    def start(self, name: str, attributes: dict[str, str]) -> None:
        start = self.position()
        self.flush(start)
        tag = START_TAG.match(self.text, start)
        assert tag is not None  # expat accepted the start tag, so it has this shape
        base = tag.start(2)
        raw_attributes = []
        for match in ATTRIBUTE.finditer(tag.group(2)):
            name_start, value_start = base + match.start(1), base + match.start(2)
            raw_attributes.append(RawAttribute(
                match.group(1), attributes.get(match.group(1), ""), (name_start, base + match.end(1)),
                (value_start + 1, base + match.end(2) - 1)))
        element = RawElement(name, start, tag.end(), tag.group(3) == "/", raw_attributes)
        if self.stack:
            self.stack[-1].content.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, name: str) -> None:
        element = self.stack.pop()
        if element.self_closing:
            element.end = element.start_tag_end
            return
        position = self.position()  # at `</`
        self.flush(position, element)
        element.end = self.text.index(">", position) + 1
        element.end_tag = (position + 2, position + 2 + len(name))

    def characters(self, data: str) -> None:
        if not self.pending:
            self.pending_start = self.position()
        self.pending.append(data)

    def flush_here(self, *_: object) -> None:
        self.flush(self.position())

    def flush(self, end: int, owner: RawElement | None = None) -> None:
        """Attach the text read since the last markup (ending at `end`) to the open element."""
        if not self.pending:
            return
        text = "".join(self.pending)
        self.pending = []
        owner = owner or (self.stack[-1] if self.stack else None)
        if owner is None or not text.strip():
            return
        raw = self.text[self.pending_start : end]
        start = self.pending_start + len(raw) - len(raw.lstrip())
        stop = end - (len(raw) - len(raw.rstrip()))
        owner.content.append(RawText(text.strip(), start, stop))

    def refuse_entities(self, *_: object) -> None:
        raise Refused("entity declarations are not allowed in BXML")


def _byte_to_char(text: str, data: bytes) -> Callable[[int], int]:
    """A function from UTF-8 byte offsets (what expat reports) to character offsets (what spans use)."""
    if len(data) == len(text):
        return lambda offset: offset
    table = array("l")
    for index, char in enumerate(text):
        table.extend([index] * len(char.encode()))
    table.append(len(text))
    return lambda offset: table[min(offset, len(table) - 1)]


# -- conversion to the IR ----------------------------------------------------------------------------------


@dataclass
class BxmlDocument:
    """A BXML file read into the IR: its verbs (children of <Response>) and what was wrong with the XML."""

    source: SourceFile
    root: Element | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def verbs(self) -> list[Element]:
        return self.root.children if self.root else []

    def flow_file(self) -> FlowFile:
        """The document as a one-flow file, named after its path, for the checker."""
        file = FlowFile(self.source.path)
        if self.root is not None:
            file.flows.append(Flow(self.source.path, self.root.span, self.root.keyword_span, self.verbs))
        return file


def read_bxml(path: str, data: bytes | str) -> BxmlDocument:
    """Parse one BXML document into the IR. Never raises for bad input: problems become diagnostics."""
    if isinstance(data, str):
        data = data.encode()
    try:
        source = decode(path, data)
    except SourceError as error:
        diagnostic = coded(error.code, error.message, Span(path, 0, 0))
        return BxmlDocument(SourceFile(path, ""), None, [diagnostic])
    encoded = source.text.encode()
    builder = TreeBuilder(source.text, encoded)
    try:
        raw = builder.parse(encoded)
    except expat.ExpatError as error:
        return BxmlDocument(source, None, [malformed(source, error, builder)])
    except Refused as error:
        span = Span(path, *_declaration_at(source.text, builder.position()))
        return BxmlDocument(source, None, [coded("FC501", str(error), span,
                                                      help="write the text out instead of declaring entities")])
    converter = Converter(path)
    root = converter.root(raw) if raw is not None else None
    if len(data) > vocabulary().max_document_bytes and root is not None:
        from flowc.check import document_too_large

        split = "split it: end it with a <Redirect> to a second document"
        converter.diagnostics.append(document_too_large(f"this document is {len(data)} bytes", root.keyword_span,
                                                        help=split))
    return BxmlDocument(source, root, converter.diagnostics)


XML_NAME = re.compile(r"[^\s=/<>\"']+")
ENTITY_DECLARATION = re.compile(r"""<!ENTITY\s(?:[^>"']|"[^"]*"|'[^']*')*>?""")


def _declaration_at(text: str, position: int) -> tuple[int, int]:
    """The `<!ENTITY ...>` declaration around `position` (expat reports a point inside or at the end of it)."""
    start = text.rfind("<!ENTITY", 0, position + 1)
    match = ENTITY_DECLARATION.match(text, start) if start >= 0 else None
    return (match.start(), match.end()) if match else (position, min(position + 1, len(text)))


def malformed(source: SourceFile, error: expat.ExpatError, builder: TreeBuilder) -> Diagnostic:
    reason = expat.ErrorString(error.code)
    start = source.offset(error.lineno, error.offset + 1)
    if source.text[start - 1 : start] == "&" and "invalid token" in reason:
        start -= 1  # expat points just past a bare `&`
    end = min(start + 1, len(source.text))
    name = XML_NAME.match(source.text, start)
    if name and ("mismatched tag" in reason or "duplicate attribute" in reason):
        end = name.end()  # the whole tag or attribute name, not its first letter
    elif "junk after document element" in reason:
        end = len(source.text.rstrip())  # everything after the root element is the junk
    span = Span(source.path, start, max(end, min(start + 1, len(source.text))))
    at = source.text[start : start + 1]
    labels: list[Label] = []
    help_ = None
    if at == "&":
        help_ = "write `&amp;` for a literal `&` (and `&lt;` for `<`)"
    elif at == "<" and "invalid token" in reason:
        help_ = "write `&lt;` for a literal `<`"
    elif "mismatched tag" in reason and builder.stack:
        opened = builder.stack[-1]
        help_ = f"`<{opened.name}>` is still open here; close it with `</{opened.name}>` first"
        labels.append(Label(Span(source.path, opened.start, opened.start_tag_end), "opened here"))
    elif "no element found" in reason:
        help_ = "the document is empty or ends before its root element is closed"
    elif "junk after document element" in reason:
        help_ = "a BXML document has one root element, <Response>, that contains every verb"
    return coded("FC501", f"malformed XML: {reason}", span, help=help_, labels=labels)


class Converter:
    """Raw tree -> IR, reporting unknown and misplaced elements and attributes (FC502-FC506)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.vocab = vocabulary()
        self.verbs = [name for name, spec in self.vocab.elements.items() if spec.kind == "verb"]
        self.diagnostics: list[Diagnostic] = []

    def span(self, start: int, end: int) -> Span:
        return Span(self.path, start, end)

    def report(self, code: str, message: str, span: Span, **extra: Any) -> None:
        self.diagnostics.append(coded(code, message, span, **extra))

    def root(self, raw: RawElement) -> Element:
        root = Element(raw.name, self.span(raw.start, raw.end), self.name_span(raw))
        if raw.name not in ROOTS:
            guess = did_you_mean(raw.name, ROOTS)
            self.report("FC504", f"the root element is <{raw.name}>; BXML documents are a <Response>",
                        root.keyword_span, help="put the verbs inside <Response> ... </Response>",
                        fix=self.rename(raw, guess or "Response"))
        for attribute in raw.attributes:
            if not attribute.name.startswith("xmlns"):
                self.report("FC503", f"<{raw.name}> takes no attributes; `{attribute.name}` has no effect",
                            self.span(*attribute.name_span))
        for item in raw.content:
            if isinstance(item, RawText):
                self.stray_text(item, raw.name)
                continue
            element = self.element(item, None)
            if element is not None:
                root.content.append(element)
        return root

    def name_span(self, raw: RawElement) -> Span:
        return self.span(raw.start + 1, raw.start + 1 + len(raw.name))

    def rename(self, raw: RawElement, new_name: str) -> Fix:
        edits = [Edit(self.name_span(raw), new_name)]
        if raw.end_tag is not None:
            edits.append(Edit(self.span(*raw.end_tag), new_name))
        return Fix(f"rename to <{new_name}>", tuple(edits))

    def element(self, raw: RawElement, parent: ElementSpec | None, depth: int = 1) -> Element | None:
        if depth > MAX_NESTING_DEPTH:
            self.report("FC008", f"elements are nested more than {MAX_NESTING_DEPTH} deep", self.name_span(raw),
                        help="nothing inside this element is checked")
            return None
        allowed = list(parent.children) if parent is not None else self.verbs
        where = f"inside <{parent.name}>" if parent is not None else "in <Response>"
        spec = self.vocab.elements.get(raw.name)
        if spec is None:
            guess = did_you_mean(raw.name, allowed) or did_you_mean(raw.name, self.vocab.elements)
            self.report("FC502", f"unknown element <{raw.name}>", self.name_span(raw),
                        help=f"did you mean <{guess}>?" if guess else "see `flowc explain FC502`",
                        fix=self.rename(raw, guess) if guess else None)
            return None
        if raw.name not in allowed:
            self.report("FC505", f"<{raw.name}> cannot be used {where}", self.name_span(raw),
                        help=("allowed here: " + ", ".join(f"<{n}>" for n in allowed)) if allowed else
                        f"<{parent.name}> takes no nested elements" if parent else None)
            return None
        element = Element(spec.name, self.span(raw.start, raw.end), self.name_span(raw))
        element.attributes = [a for a in (self.attribute(raw, spec, item) for item in raw.attributes) if a]
        takes_text = spec.text is not None
        for item in raw.content:
            if isinstance(item, RawText):
                if takes_text:
                    element.content.append(Text([item.text], self.span(item.start, item.end)))
                else:
                    self.stray_text(item, raw.name)
                continue
            child = self.element(item, spec, depth + 1)
            if child is not None:
                element.content.append(child)
        return element

    def stray_text(self, text: RawText, owner: str) -> None:
        self.report("FC506", f"<{owner}> takes no text; `{_preview(text.text)}` is not used",
                    self.span(text.start, text.end),
                    help="words to speak go in <SpeakSentence>" if owner in ROOTS else None)

    def attribute(self, raw: RawElement, spec: ElementSpec, item: RawAttribute) -> Attribute | None:
        if item.name.startswith("xmlns"):
            return None
        name = PUBLISHED_SPELLINGS.get((spec.name, item.name), item.name)
        attribute_spec = spec.attributes.get(name)
        name_span = self.span(*item.name_span)
        if attribute_spec is None:
            guess = did_you_mean(item.name, spec.attributes)
            # one edit from a real attribute: a typo Bandwidth would drop silently (FC507, an error); a name
            # further away may be a newer attribute flowc does not know yet (FC503, a warning)
            code = "FC507" if guess and edit_distance(item.name, guess) == 1 else "FC503"
            self.report(code, f"<{spec.name}> has no attribute `{item.name}`", name_span,
                        help=f"did you mean `{guess}`?" if guess else
                        ("attributes: " + ", ".join(spec.attributes)) if spec.attributes else
                        f"<{spec.name}> takes no attributes",
                        fix=Fix(f"use `{guess}`", (Edit(name_span, guess),)) if guess else None)
            return None
        value = typed_value(item.value, attribute_spec, self.span(*item.value_span))
        span = self.span(item.name_span[0], item.value_span[1] + 1)
        return Attribute(name, value, span, name_span, item.name)


def typed_value(raw: str, spec: AttributeSpec, span: Span) -> Value:
    """An attribute's text as the value .flow would have written: numbers, words (enums, booleans), lists."""
    kind = spec.type
    if kind in ("boolean", "enum", "http_method"):
        return Word(raw, span) if raw and raw.strip() == raw else Text([raw], span)
    if kind in ("integer", "decimal"):
        try:
            number = float(raw)
        except ValueError:
            return Text([raw], span)
        if number != number or number in (float("inf"), float("-inf")):
            return Text([raw], span)
        return Number(number, raw.strip(), span)
    if kind == "csv_list" and "," in raw:
        items: list[Value] = []
        position = span.start
        for piece in raw.split(","):
            stripped = piece.strip()
            start = position + len(piece) - len(piece.lstrip())
            items.append(Text([stripped], Span(span.file, start, start + len(stripped))))
            position += len(piece) + 1
        return ListValue(items, span)
    return Text([raw], span)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:27] + "..."


# -- files -------------------------------------------------------------------------------------------------


def lint_sources(files: dict[str, bytes], context: str = "call") -> tuple[dict[str, SourceFile], list[Diagnostic]]:
    """Check BXML documents held in memory ({path: bytes}); `context` is the webhook they answer."""
    from flowc.check import check_project

    sources: dict[str, SourceFile] = {}
    diagnostics: list[Diagnostic] = []
    readable: list[FlowFile] = []
    for path, data in files.items():
        document = read_bxml(path, data)
        sources[path] = document.source
        diagnostics.extend(document.diagnostics)
        if document.root is not None:
            readable.append(document.flow_file())
    contexts = {file.path: context for file in readable}
    diagnostics.extend(check_project(Project(readable), xml_contexts=contexts))
    return sources, diagnostics
