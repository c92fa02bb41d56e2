"""Lowering: the generic syntax tree -> typed IR, reading keywords and attribute names from the vocabulary.

Structural mistakes are reported here (unknown statements and attributes with "did you mean" fixes, missing
values); whether values are valid for their attributes is the checker's job.
"""

from __future__ import annotations

import re
from typing import Protocol

from flowc.bxml.vocabulary import AttributeSpec, Context, ElementSpec, vocabulary
from flowc.core.codes import coded
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Span, did_you_mean, edit_distance
from flowc.runtime.schedule import DAYS, GROUPS, day_range
from flowc.semantics.ir import (
    FILTERS,
    MAX_ATTEMPTS,
    Application,
    Attempts,
    Attribute,
    Branch,
    BranchSource,
    ClosedDate,
    Conference,
    Element,
    Env,
    Flow,
    FlowFile,
    Handler,
    Hours,
    ListValue,
    Number,
    OpeningRange,
    Policy,
    Slot,
    Text,
    Value,
    Word,
)
from flowc.semantics.policy import POLICY_HEADS, join_role, policy_line
from flowc.syntax.tree import MAX_NESTING_DEPTH, Atom, Block, Call, Module, Statement, Token


class Located(Protocol):
    """A piece of syntax with its character offsets (a token, a call, a statement or a block)."""

    start: int
    end: int

BOOLEAN_WORDS = {"true", "false"}
UNKNOWN = "unknown"  # `unknown NAME "VALUE"`: an attribute flowc does not know, carried into the BXML as written
XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # an attribute name lxml can write (no namespace prefix)
DECLARATIONS = ("flow", "conference", "application", "hours")  # the statements a file's top level holds
CREDENTIAL_PAIRS = vocabulary().credential_pairs  # `auth USER PASSWORD`: one phrase, two attributes
CONFERENCE_EVENTS = vocabulary().conference_events  # `on member join`
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def match_statement(atoms: list[Atom], parent: str | None) -> tuple[ElementSpec, int] | None:
    """The statement whose keyword phrase starts `atoms` inside `parent` (None: a flow body), and the number of
    atoms the phrase takes; the longest phrase wins (`pause recording` before `pause`). Lowering and the editor
    read statements with this one function."""
    if not atoms or atoms[0].kind != "WORD":
        return None
    candidates = vocabulary().phrases_by_first_word(parent).get(atoms[0].text, ())
    for phrase, spec in candidates:
        length = len(phrase)
        if length == 1:
            return spec, 1
        if len(atoms) >= length and all(atoms[i].kind == "WORD" and atoms[i].text == phrase[i]
                                        for i in range(1, length)):
            return spec, length
    return None


def match_attribute(phrases: dict[tuple[str, ...], AttributeSpec], atoms: list[Atom], index: int
                    ) -> tuple[tuple[str, ...], int] | None:
    """The attribute names the words at `atoms[index]` set (two for `auth USER PASSWORD`) and how many words
    the name takes; `phrases` is an element's ElementSpec.attribute_phrases."""
    atom = atoms[index]
    if type(atom) is Token and atom.kind == "WORD" and atom.text not in MULTIWORD_STARTS:
        spec = phrases.get((atom.text,))  # the common case: a one-word attribute name
        return ((spec.name,), 1) if spec is not None else None
    words = []
    for atom in atoms[index : index + 3]:
        if atom.kind != "WORD":
            break
        words.append(atom.text)
    for length in range(len(words), 0, -1):
        key = tuple(words[:length])
        if key in CREDENTIAL_PAIRS and (CREDENTIAL_PAIRS[key][0],) in phrases:
            return CREDENTIAL_PAIRS[key], length
        if key in phrases:
            return (phrases[key].name,), length
    return None


def lower(module: Module) -> tuple[FlowFile, list[Diagnostic]]:
    lowering = Lowering(module.path)
    return lowering.file(module), lowering.diagnostics


class Lowering:
    def __init__(self, path: str) -> None:
        self.path = path
        self.vocab = vocabulary()
        self.diagnostics: list[Diagnostic] = []
        self.to_one: dict[int, Span] = {}  # `say ... to member` in a handler: keyword start -> span of `to ...`
        self.unread: set[str] = set()  # FlowFile.unread_words
        self.context: Context | None = None  # a conference handler's context while its body is lowered

    def span(self, node: Located) -> Span:
        return Span(self.path, node.start, node.end)

    def error(self, code: str, message: str, node: Located | Span, help: str | None = None, fix: Fix | None = None
              ) -> None:
        """Report `code` (with the severity flowc.core.codes gives it) at `node`."""
        span = node if isinstance(node, Span) else self.span(node)
        self.diagnostics.append(coded(code, message, span, help=help, fix=fix))

    def replace_fix(self, node: Located, old: str, new: str) -> Fix:
        return Fix(f"replace `{old}` with `{new}`", (Edit(self.span(node), new),))

    # -- top level -------------------------------------------------------------------------------------
    def file(self, module: Module) -> FlowFile:
        result = FlowFile(module.path)
        for statement in module.statements:
            head = _word(statement, 0)
            if head == "flow":
                flow = self.flow(statement)
                if flow:
                    result.flows.append(flow)
            elif head == "conference":
                conference = self.conference(statement)
                if conference:
                    result.conferences.append(conference)
            elif head == "hours":
                hours = HoursReader(self).declaration(statement)
                if hours:
                    result.hours.append(hours)
            elif head == "application":
                application = self.application(statement)
                if application:
                    result.applications.append(application)
            else:
                self.unknown_top_level(statement, head)
                self.not_read(statement.atoms, statement.block)
        result.unread_words = sorted(self.unread)
        for span in self.to_one.values():  # `say ... to member` outside a conference handler
            self.error("FC103", "`to` names a member of a room: it is only read in a conference handler", span,
                       help="a flow's audio is heard by its own call; remove `to ...`")
        return result

    def not_read(self, atoms: list[Atom], block: Block | None = None) -> None:
        """Keep the words of a statement that could not be read, with its block's (FlowFile.unread_words)."""
        self.unread.update(a.text for a in atoms if type(a) is Token and a.kind == "WORD")
        for inner in block.statements if block is not None else ():
            self.not_read(inner.atoms, inner.block)

    def unknown_top_level(self, statement: Statement, head: str | None) -> None:
        node = statement.atoms[0] if statement.atoms else statement
        guess = did_you_mean(head, list(DECLARATIONS)) if head else None
        if guess and head:
            self.error("FC101", f"unknown declaration `{head}`", node, help=f"did you mean `{guess}`?",
                       fix=self.replace_fix(node, head, guess))
        elif head and self.vocab.statements(None).get((head,)):
            self.error("FC101", f"`{head}` must be inside a flow", node,
                       help="put statements inside `flow NAME { ... }`")
        else:
            self.error("FC101", "expected `flow NAME { ... }`, `conference NAME { ... }` or "
                       "`application auth USER PASSWORD` or `hours NAME in ZONE { ... }`", node)

    def application(self, statement: Statement) -> Application | None:
        """`application auth USER PASSWORD`: the credentials the Bandwidth application sends on its callbacks."""
        atoms = statement.atoms[1:]
        if statement.block is not None:
            self.error("FC113", "`application` takes no block", statement.block,
                       help="write `application auth USER PASSWORD` on one line")
        if not atoms or atoms[0].kind != "WORD" or atoms[0].text != "auth":
            node = atoms[0] if atoms else statement.atoms[0]
            self.error("FC106", "`application` needs the callback credentials of the Bandwidth application", node,
                       help="write `application auth env(CALLBACK_USER) env(CALLBACK_PASSWORD)`")
            return None
        auth, rest = self.credentials(atoms, 0)
        for extra in rest:
            self.error("FC107", f"unexpected `{extra.text}` after the application credentials", extra)
        return Application(self.span(statement), auth) if auth else None

    def credentials(self, atoms: list[Atom], index: int) -> tuple[list[Attribute], list[Atom]]:
        """`auth USER PASSWORD` at atoms[index] (a declaration's own credentials, outside any verb): the
        username and password attributes, and the atoms after them."""
        name = atoms[index]
        name_span = self.span(name)
        values = atoms[index + 1 : index + 3]
        if len(values) < 2 or any(v.kind in ("COMMA", "LBRACE") for v in values):
            self.error("FC106", "`auth` needs two values, a user name and a password", name_span,
                       help="write `auth USER env(PASSWORD)`")
            return [], atoms[index + 1 + len(values):]
        result = []
        for attribute, atom in zip(CREDENTIAL_PAIRS[("auth",)], values, strict=True):
            value = self.value(atom)
            result.append(Attribute(attribute, value, Span(self.path, name_span.start, value.span.end), name_span,
                                    "auth"))
        return result, atoms[index + 3:]

    def declaration_name(self, statement: Statement, what: str) -> Token | None:
        if len(statement.atoms) < 2 or statement.atoms[1].kind != "WORD":
            self.error("FC110", f"this {what} needs a name", statement.atoms[0],
                       help=f"write `{what} NAME {{ ... }}`")
            return None
        return statement.atoms[1]  # type: ignore[return-value]

    def flow(self, statement: Statement) -> Flow | None:
        name = self.declaration_name(statement, "flow")
        if name is None:
            return None
        flow = Flow(name.text, self.span(statement), self.span(name))
        extras = self.flow_kind(flow, statement.atoms[2:])
        if extras and extras[0].kind == "WORD" and extras[0].text == "on":
            events = list(extras[1:])
            auth_at = next((i for i, a in enumerate(events) if a.kind == "WORD" and a.text == "auth"), len(events))
            words = [a for a in events[:auth_at] if a.kind == "WORD"]
            flow.entry_events = [a.text for a in words]
            flow.entry_event_spans = [self.span(a) for a in words]
            if not flow.entry_events:
                self.error("FC106", "`on` needs the webhook events this flow answers", extras[0],
                           help="for example `flow main on initiate, answer { ... }`")
            extras = [a for a in events[:auth_at] if a.kind not in ("WORD", "COMMA")] + events[auth_at:]
        if extras and extras[0].kind == "WORD" and extras[0].text == "auth":
            flow.auth, rest = self.credentials(extras, 0)
            extras = [*rest]
        for extra in extras:
            self.error("FC107", f"unexpected `{extra.text}` after the flow name", extra)
        if statement.block is None:
            self.error("FC113", f"flow `{name.text}` has no body", name, help="add `{ ... }` with its statements")
            return flow
        self.branching_body(statement.block.statements, flow.body, flow.branches)
        return flow

    def branching_body(self, statements: list[Statement], body: list[Element], branches: list[Branch]) -> None:
        """A flow's or a conference handler's statements: `when` branches, the `otherwise` block and plain
        statements (the last two make the default document)."""
        for inner in statements:
            head = _word(inner, 0)
            if head == "when":
                branch = self.branch(inner)
                if branch:
                    branches.append(branch)
            elif head == "otherwise" and len(inner.atoms) == 1 and inner.block is not None:
                body.extend(self.body(inner.block.statements, None))
            else:
                body.extend(self.body([inner], None))

    def flow_kind(self, flow: Flow, atoms: list[Atom]) -> list[Atom]:
        """`flow NAME as bxml` (a <Bxml> root) and `flow NAME for update-call` (a document for an update
        endpoint); returns the other atoms of the header."""
        rest: list[Atom] = []
        index = 0
        documents = self.vocab.update_documents
        while index < len(atoms):
            word, value = atoms[index], atoms[index + 1] if index + 1 < len(atoms) else None
            if word.kind != "WORD" or word.text not in ("as", "for") or value is None or value.kind != "WORD":
                rest.append(word)
                index += 1
                continue
            index += 2
            choices = ["bxml"] if word.text == "as" else list(documents)
            if value.text in choices:
                flow.root = "Bxml"
                flow.document = value.text if word.text == "for" else flow.document
                continue
            guess = did_you_mean(value.text, choices)
            self.error("FC107", f"unexpected `{word.text} {value.text}` after the flow name", value,
                       help=f"did you mean `{word.text} {guess}`?" if guess else
                       f"write `{word.text} " + "` or `".join(choices) + "`",
                       fix=self.replace_fix(value, value.text, guess) if guess else None)
        if flow.document and any(a.kind == "WORD" and a.text == "on" for a in rest):
            on = next(a for a in rest if a.kind == "WORD" and a.text == "on")
            self.error("FC107", f"a document for {flow.document} answers no webhook, so it takes no `on`", on,
                       help="your code sends it to Bandwidth's API; remove `on ...`")
        return rest

    def branch(self, statement: Statement) -> Branch | None:
        atoms = statement.atoms
        subject = self.branch_subject(atoms[1]) if len(atoms) > 1 else None
        if len(atoms) < 3 or subject is None or statement.block is None:
            if len(atoms) < 2 or subject is not None or atoms[1].kind == "WORD":
                self.error("FC114", "a branch is written `when VALUE CHOICE[, CHOICE...] { ... }`", atoms[0],
                           help='for example `when digits "1" { ... }` or `when hook(after_hours) "yes" { ... }`')
            self.not_read(atoms, statement.block)
            return None
        values: list[str] = []
        spans: list[Span] = []
        for atom in atoms[2:]:
            if atom.kind == "COMMA":
                continue
            if atom.kind in ("STRING", "NUMBER", "WORD", "PHONE"):
                values.append(_unquote(atom.text) if atom.kind == "STRING" else atom.text)
                spans.append(self.span(atom))
            else:
                self.error("FC114", f"`{atom.text}` cannot be a branch's choice: write it as a quoted string", atom,
                           help="choices are compared as text with the value the branch tests")
        body = self.body(statement.block.statements, None)
        source, name = subject
        return Branch(name, values, body, self.span(statement), value_spans=spans, source=source,
                      subject_span=self.span(atoms[1]))

    def branch_subject(self, atom: Atom) -> tuple[BranchSource, str] | None:
        """What a `when` tests: a payload field (`digits`, `$tag`), `hook(name)` or `env(NAME)`. The web app
        reads it per request through the same sources as the values it fills in (flowc.semantics.ir.SlotRef), so a new
        kind of runtime value (the rooms issue's member role) is one more source here and in the runtime."""
        if atom.kind == "WORD":
            return "payload", atom.text
        if atom.kind == "VAR":
            return "payload", atom.text[1:]
        if type(atom) is Call:
            value = self.call(atom)  # reports FC104 for an unknown function
            if isinstance(value, Slot):
                return "hook", value.name
            if isinstance(value, Env):
                return "env", value.name
            return None
        self.error("FC114", f"`{atom.text}` is not a value a branch can test", atom,
                   help="test a payload field (`when digits ...`), a hook (`when hook(name) ...`) or "
                   "`env(NAME)`")
        return None

    def conference(self, statement: Statement) -> Conference | None:
        name = self.declaration_name(statement, "conference")
        if name is None:
            return None
        atoms = statement.atoms[2:]
        if atoms and atoms[0].kind == "STRING":
            conference_name = self.text(atoms[0])
            atoms = atoms[1:]
        else:
            conference_name = Text([name.text], self.span(name))
        conference = Conference(name.text, self.span(statement), self.span(name), conference_name)
        spec = self.vocab.join  # a declaration holds the settings of every join of it
        if atoms:
            conference.settings.extend(self.attributes(spec, atoms, 0, setting=True))
        for inner in statement.block.statements if statement.block else []:
            if _word(inner, 0) == "on":
                handler = self.handler(inner, conference)
                if handler:
                    conference.handlers.append(handler)
            elif _word(inner, 0) in POLICY_HEADS:
                if conference.policy is None:
                    conference.policy = Policy(self.span(statement))
                policy_line(self, conference.policy, inner)
            elif inner.block is not None:
                self.error("FC113", "only `on EVENT { ... }` blocks may appear in a conference", inner.block)
            else:
                conference.settings.extend(self.attributes(spec, inner.atoms, 0, setting=True))
        return conference

    def handler(self, statement: Statement, conference: Conference) -> Handler | None:
        words = tuple(a.text for a in statement.atoms[1:] if a.kind == "WORD")
        event = CONFERENCE_EVENTS.get(words)
        node: Atom | Span = statement.atoms[1] if len(statement.atoms) > 1 else statement.atoms[0]
        if len(statement.atoms) > 1:  # the whole event phrase: `member joined`
            node = Span(self.path, statement.atoms[1].start, statement.atoms[-1].end)
        if event is None:
            written = " ".join(words)
            choices = [" ".join(k) for k in CONFERENCE_EVENTS]
            guess = did_you_mean(written, choices) if written else None
            fix = Fix(f"use `on {guess}`", (Edit(node, guess),)) if guess and isinstance(node, Span) else None
            self.error("FC105", f"unknown conference event `{written}`" if written else "missing conference event",
                       node, help=f"did you mean `on {guess}`?" if guess else "events: " + ", ".join(choices),
                       fix=fix)
            return None
        if statement.block is None:
            self.error("FC113", f"`on {' '.join(words)}` needs a body", node, help="add `{ ... }`")
            return None
        handler = Handler(event, [], self.span(statement))
        self.context = self.vocab.handler_context(event)  # unknown statements name the verbs a reply takes
        try:
            for inner in statement.block.statements:  # `when role host { ... }`: as in a flow
                head = _word(inner, 0)
                if head == "when":
                    branch = self.branch(inner)
                    if branch:
                        self.private_audio(conference, branch.body)
                        handler.branches.append(branch)
                elif head == "otherwise" and len(inner.atoms) == 1 and inner.block is not None:
                    handler.body.extend(self.handler_body(conference, inner.block.statements))
                else:
                    handler.body.extend(self.handler_body(conference, [inner]))
        finally:
            self.context = None
        return handler

    def handler_body(self, conference: Conference, statements: list[Statement]) -> list[Element]:
        return self.private_audio(conference, self.body(statements, None))

    def private_audio(self, conference: Conference, elements: list[Element]) -> list[Element]:
        """`say "..." to member`: audio for one member, which a conference cannot play (FC424). The element
        is kept (without the `to` words) and its span recorded for the checker."""
        for element in elements:
            if element.keyword_span.start in self.to_one:
                if conference.policy is None:
                    conference.policy = Policy(conference.span)
                conference.policy.private_audio.append(self.to_one.pop(element.keyword_span.start))
        return elements

    # -- verbs -----------------------------------------------------------------------------------------
    def body(self, statements: list[Statement], parent: str | None) -> list[Element]:
        elements = []
        for statement in statements:
            element = self.element(statement, parent)
            if element is not None:
                elements.append(element)
        return elements

    def match_keyword(self, statement: Statement, parent: str | None) -> tuple[ElementSpec, int] | None:
        return match_statement(statement.atoms, parent)

    def element(self, statement: Statement, parent: str | None, depth: int = 1) -> Element | None:
        if not statement.atoms:
            self.error("FC113", "a block must follow a statement", statement)  # (no atoms: the block's span)
            return None
        matched = self.match_keyword(statement, parent)
        if matched is None:
            self.unknown_statement(statement, parent)
            self.not_read(statement.atoms, statement.block)
            return None
        spec, used = matched
        keyword_span = Span(self.path, statement.atoms[0].start, statement.atoms[used - 1].end)
        element = Element(spec.name, self.span(statement), keyword_span)
        element.attributes = self.attributes(spec, statement.atoms, used, element)
        if element.attempts is not None:
            self.continuation(element)
        if statement.block is not None:
            self.element_block(element, spec, statement.block, depth)
        return element

    def unknown_statement(self, statement: Statement, parent: str | None) -> None:
        first = statement.atoms[0]
        where = f"inside `{self.vocab.elements[parent].keyword}`" if parent else \
            "in a conference's reply" if self.context is not None else "in a flow"
        if first.kind == "STRING":
            self.error("FC102", f"text is not allowed {where}", first,
                       help="text belongs to a statement, such as `say \"...\"`")
            return
        word = first.text
        elsewhere = self.vocab.by_keyword(word)
        allowed = [" ".join(p) for p, spec in self.vocab.statements(parent).items()
                   if self.allowed_here(spec, parent)]
        if elsewhere is not None or (word, _word(statement, 1)) in {tuple(k.split()) for k in allowed}:
            self.error("FC108", f"`{word}` cannot be used {where}", first,
                       help="allowed here: " + ", ".join(sorted(set(allowed))) if allowed else None)
            return
        guess = did_you_mean(word, {p.split()[0] for p in allowed})
        if guess:
            self.error("FC102", f"unknown statement `{word}`", first, help=f"did you mean `{guess}`?",
                       fix=self.replace_fix(first, word, guess))
        else:
            self.error("FC102", f"unknown statement `{word}`", first,
                       help="statements here: " + ", ".join(sorted(set(allowed))) if allowed else None)

    def allowed_here(self, spec: ElementSpec, parent: str | None) -> bool:
        """Whether a verb may start a statement here: in a conference handler's body, only the verbs its reply
        takes (as completion offers); everywhere else, every statement of the block."""
        if parent is not None or self.context is None:
            return True
        verbs = self.vocab.contexts.get(self.context)
        return verbs is None or spec.name in verbs

    def element_block(self, element: Element, spec: ElementSpec, block: Block, depth: int) -> None:
        if depth >= MAX_NESTING_DEPTH:
            self.error("FC008", f"blocks are nested more than {MAX_NESTING_DEPTH} deep", block,
                       help="flatten the statements; nothing inside this block is checked or compiled")
            return
        takes_text = spec.text is not None and spec.kind != "child"
        if not spec.children and not takes_text:
            self.error("FC113", f"`{spec.keyword}` does not take a block", block)
            return
        for inner in block.statements:
            if takes_text and inner.atoms and inner.atoms[0].kind in ("STRING", "VAR") and inner.block is None:
                for atom in inner.atoms:
                    if atom.kind in ("STRING", "VAR"):
                        element.content.append(self.text(atom) if atom.kind == "STRING" else
                                               Text([self.var_slot(atom)], self.span(atom)))
                    else:
                        self.error("FC107", f"unexpected `{atom.text}` in text", atom)
                continue
            child = self.element(inner, spec.name, depth + 1)
            if child is not None:
                element.content.append(child)

    def attributes(self, spec: ElementSpec, atoms: list[Atom], index: int,
                   element: Element | None = None, setting: bool = False) -> list[Attribute]:
        """`setting`: a conference declaration's settings, which have no positional values (the room name
        is read before them), so every word there must be a setting's name."""
        result: list[Attribute] = []
        positional = [] if setting else list(spec.positional)
        phrases = spec.attribute_phrases
        counts = element is not None and spec.name == ATTEMPT_ELEMENT
        while index < len(atoms):
            atom = atoms[index]
            if atom.kind == "WORD" and atom.text == UNKNOWN and (UNKNOWN,) not in phrases and not setting:
                index = self.unknown_attribute(spec, atoms, index, result)
                continue
            if counts and atom.kind == "WORD" and atom.text in COUNTING_WORDS:
                index = self.counting(element, atoms, index)  # type: ignore[arg-type]
                continue
            if atom.kind == "WORD" and atom.text in ("as", "to") and element is not None \
                    and self.room_words(spec, atoms, index, element):
                index += 2
                continue
            if atom.kind == "WORD":
                matched = self.match_attribute(phrases, atoms, index)
                if matched is not None:
                    names, used = matched
                    index = self.attribute_values(spec, names, atoms, index, used, result)
                    continue
            if positional and not (atom.kind == "WORD" and positional[0] == "text" and not spec.text_names):
                target = positional.pop(0)
                value, index = self.read_value(atoms, index)
                self.positional(spec, target, value, atom, result, element)
                continue
            self.unexpected_word(spec, atom, setting)
            self.not_read(atoms)
            index += 1
            if atom.kind == "WORD" and index < len(atoms) and self.match_attribute(phrases, atoms, index) is None:
                _, index = self.read_value(atoms, index)  # skip the unknown attribute's value too
        return result

    def unknown_attribute(self, spec: ElementSpec, atoms: list[Atom], index: int, result: list[Attribute]) -> int:
        """`unknown NAME "VALUE"`: an attribute flowc does not know, written into the BXML as it is (what
        `flowc import` writes for one). Reported as BXML's unknown attributes are: a warning (FC503), or an
        error one edit from a real attribute (FC507)."""
        keyword = atoms[index]
        name = atoms[index + 1] if index + 1 < len(atoms) else None
        value = atoms[index + 2] if index + 2 < len(atoms) else None
        if name is None or value is None or name.kind not in ("WORD", "STRING") or value.kind != "STRING":
            self.error("FC106", "`unknown` is followed by an attribute's name and its value in quotes", keyword,
                       help='write `unknown NAME "VALUE"`, such as `unknown newFeature "on"`')
            return index + 1
        written = _unquote(name.text) if name.kind == "STRING" else name.text
        span = Span(self.path, keyword.start, value.end)
        name_span = Span(self.path, keyword.start, name.end)
        index += 3
        if written in spec.attributes or (written,) in spec.attribute_phrases:
            self.error("FC103", f"`{written}` is an attribute of `{spec.keyword}`: write it without `unknown`",
                       name_span, help=f"`unknown` carries attributes flowc does not know; write `{written} ...`",
                       fix=Fix(f"remove `{UNKNOWN}`", (Edit(Span(self.path, keyword.start, name.start), ""),)))
            return index
        if not XML_NAME.fullmatch(written):
            self.error("FC103", f"`{written}` cannot be the name of an XML attribute", self.span(name),
                       help="a name is letters, digits, `_`, `-` and `.`, starting with a letter or `_`")
            return index
        guess = did_you_mean(written, spec.attributes)
        code = "FC507" if guess and edit_distance(written, guess) == 1 else "FC503"
        self.error(code, f"`{spec.keyword}` has no attribute `{written}`: it is written into the BXML unchecked",
                   self.span(name), help=f"did you mean `{guess}`?" if guess else
                   "keep it only if Bandwidth documents it; flowc does not know what it does",
                   fix=Fix(f"use `{guess}`", (Edit(span, f"{guess} {value.text}"),)) if guess else None)
        result.append(Attribute(written, self.text(value), span, name_span, f"{UNKNOWN} {written}"))
        return index

    def counting(self, element: Element, atoms: list[Atom], index: int) -> int:
        """`attempts N` and `exhausted FLOW`: flowc's own words on the statement whose answers are counted
        (no BXML attribute: the compiler writes the count into the callback URL). Returns the next index."""
        word = atoms[index]
        value = atoms[index + 1] if index + 1 < len(atoms) else None
        if element.attempts is None:
            element.attempts = Attempts(None, self.span(word))
        attempts = element.attempts
        if word.text == "attempts":
            if value is None or value.kind != "NUMBER":
                self.error("FC106", "`attempts` needs the number of times to ask", word,
                           help=f"for example `attempts 2` (1 to {MAX_ATTEMPTS})")
                return index + (2 if value is not None and value.kind not in ("WORD", "COMMA") else 1)
            attempts.count, attempts.span = float(value.text), Span(self.path, word.start, value.end)
            return index + 2
        if value is None or value.kind != "WORD":
            self.error("FC106", "`exhausted` needs the flow that continues after the last attempt", word,
                       help="for example `exhausted voicemail`")
            return index + (2 if value is not None and value.kind != "COMMA" else 1)
        attempts.exhausted, attempts.exhausted_span = value.text, self.span(value)
        return index + 2

    def continuation(self, element: Element) -> None:
        """The redirect an `exhausted` flow is reached by, carrying the counted statement's credentials (the
        exhausted flow's route then accepts what the receiving flow's does)."""
        attempts = element.attempts
        if attempts is None or attempts.exhausted is None or attempts.exhausted_span is None:
            return
        tag, url = self.vocab.continuation
        spec = self.vocab.elements[tag]
        span = attempts.exhausted_span
        target = Attribute(url, Word(attempts.exhausted, span), span, span, "exhausted")
        credentials = {name for pair in CREDENTIAL_PAIRS.values() for name in pair}
        carried = [a for a in element.attributes if a.name in credentials and a.name in spec.attributes]
        attempts.continuation = Element(tag, span, span, [target, *carried])

    def room_words(self, spec: ElementSpec, atoms: list[Atom], index: int, element: Element) -> bool:
        """`join room as host` (a role) and a trailing `to member` on audio (FC424): words of rooms, not
        attributes. Whether they are used where they mean something is the checker's business."""
        vocab = self.vocab
        if atoms[index].text == "as":
            found = join_role(self, atoms, index) if spec is vocab.by_keyword("join") else None
            if found is None:
                return False
            element.role, element.role_span = found
            return True
        if index + 2 != len(atoms) or atoms[index + 1].kind != "WORD" or \
                spec not in (vocab.by_keyword("say"), vocab.by_keyword("play")):
            return False
        self.to_one[element.keyword_span.start] = Span(self.path, atoms[index].start, atoms[index + 1].end)
        return True

    def match_attribute(self, phrases: dict[tuple[str, ...], AttributeSpec], atoms: list[Atom], index: int
                        ) -> tuple[tuple[str, ...], int] | None:
        return match_attribute(phrases, atoms, index)

    def attribute_values(self, spec: ElementSpec, names: tuple[str, ...], atoms: list[Atom], index: int, used: int,
                         result: list[Attribute]) -> int:
        name_node = atoms[index]
        name_span = Span(self.path, name_node.start, atoms[index + used - 1].end)
        written = name_node.text if used == 1 else " ".join(a.text for a in atoms[index : index + used])
        index += used
        for name in names:
            attribute_spec = spec.attributes[name]
            following = atoms[index] if index < len(atoms) else None
            if attribute_spec.type == "boolean" and not (
                following is not None and following.kind == "WORD" and following.text in BOOLEAN_WORDS
            ):
                value: Value = Word("true", name_span)  # a bare flag: `mute`
            elif following is None or following.kind == "COMMA":
                if len(names) == 2:  # `auth USER PASSWORD`
                    self.error("FC106", f"`{written}` needs two values, a user name and a password", name_span,
                               help=f"write `{written} USER env(PASSWORD)`")
                else:
                    self.error("FC106", f"`{written}` needs a value", name_span, help=f"write `{written} VALUE`")
                return index
            else:
                value, index = self.read_value(atoms, index)
            end = value.span.end if value.span.end > name_span.end else name_span.end
            result.append(Attribute(name, value, Span(self.path, name_span.start, end), name_span, written))
        return index

    def positional(self, spec: ElementSpec, target: str, value: Value, atom: Atom, result: list[Attribute],
                   element: Element | None) -> None:
        span = value.span
        if target == "text":
            if element is None:
                return
            if isinstance(value, Word) and spec.text_names == "conference":
                element.conference = value.value  # `join support`: a declared conference
                element.conference_span = span
            elif isinstance(value, Word | Number):
                element.content.append(Text([value.text if isinstance(value, Number) else value.value], span))
            elif isinstance(value, Slot):
                element.content.append(Text([value], span))
            elif isinstance(value, Text):
                element.content.append(value)
            else:
                self.error("FC107", f"`{atom.text}` cannot be used as text here", atom)
        elif target == "@children":
            if element is None:
                return
            items = value.items if isinstance(value, ListValue) else [value]
            for item in items:
                destination = self.destination(spec, item)
                if destination is not None:
                    element.content.append(destination)
        else:
            result.append(Attribute(target, value, span, span, ""))

    def destination(self, spec: ElementSpec, value: Value) -> Element | None:
        """`transfer +15551234567, "sip:agent@example.com"`: each value becomes a PhoneNumber or SipUri."""
        if isinstance(value, Text):
            text = value
        elif isinstance(value, Slot):
            text = Text([value], value.span)
        elif isinstance(value, Word | Number):
            text = Text([value.text if isinstance(value, Number) else value.value], value.span)
        else:
            self.error("FC107", f"`{spec.keyword}` needs a phone number, SIP URI or runtime value here", value.span)
            return None
        return Element(spec.destination(text.literal), value.span, value.span, content=[text])

    def unexpected_word(self, spec: ElementSpec, atom: Atom, setting: bool = False) -> None:
        if atom.kind != "WORD":
            why = "expected a conference setting's name" if setting else f"`{spec.keyword}` takes no more values"
            self.error("FC107", f"unexpected `{atom.text}`: {why}", atom)
            return
        candidates = {" ".join(p) for p in spec.attribute_phrases} | {"auth"}
        guess = did_you_mean(atom.text, candidates)
        owner = "a conference declaration has no setting" if setting else f"`{spec.keyword}` has no attribute"
        what = "settings of a conference" if setting else f"attributes of `{spec.keyword}`"
        if guess:
            self.error("FC103", f"{owner} `{atom.text}`", atom,
                       help=f"did you mean `{guess}`?", fix=self.replace_fix(atom, atom.text, guess))
        elif not setting and "text" in spec.positional and not spec.text_names:
            self.error("FC103", f"{owner} `{atom.text}`", atom,  # `say hello`: meant as the text to speak
                       help=f'text and URLs are written in double quotes: `{spec.keyword} "{atom.text}"`')
        elif not spec.attributes:
            self.error("FC103", f"{owner} `{atom.text}`", atom, help=f"`{spec.keyword}` takes no attributes")
        else:
            self.error("FC103", f"{owner} `{atom.text}`", atom,
                       help=f"see `flowc explain FC103`; {what}: "
                       + ", ".join(sorted(a.aliases[0] if a.aliases else a.name for a in spec.attributes.values())))

    # -- values ----------------------------------------------------------------------------------------
    def read_value(self, atoms: list[Atom], index: int) -> tuple[Value, int]:
        first = self.value(atoms[index])
        index += 1
        if index < len(atoms) and atoms[index].kind == "COMMA":
            items = [first]
            while index + 1 < len(atoms) and atoms[index].kind == "COMMA":
                items.append(self.value(atoms[index + 1]))
                index += 2
            span = Span(self.path, first.span.start, items[-1].span.end)
            return ListValue(items, span), index
        return first, index

    def value(self, atom: Atom) -> Value:
        kind = atom.kind
        if kind == "STRING":  # the most common value: text() makes its own span
            return self.text(atom)
        if type(atom) is Call:
            return self.call(atom)
        span = Span(self.path, atom.start, atom.end)
        if kind == "WORD":
            return Word(atom.text, span)
        if kind == "NUMBER":
            return Number(float(atom.text), atom.text, span)
        if kind == "DURATION":
            digits = atom.text.rstrip("mshd")
            unit = atom.text[len(digits):]
            return Number(float(digits), atom.text, span, unit)  # type: ignore[arg-type]
        if kind == "PHONE":
            return Text([atom.text], span)
        if kind == "VAR":
            return self.var_slot(atom)
        if kind == "COMMA":
            self.error("FC107", "unexpected `,`", atom)
        return Word(atom.text, span)

    def call(self, call: Call) -> Value:
        span = self.span(call)
        args = [a.text for a in call.args]
        if call.name.text in ("env", "hook") and len(args) == 1 and call.args[0].kind == "WORD":
            if call.name.text == "env":
                return Env(args[0], span)
            return Slot(args[0], span, source="hook")
        self.error("FC104", f"unknown function `{call.name.text}` with {len(args)} argument(s)", call,
                   help="use `env(NAME)` for a secret from the environment or `hook(name)` for a value your code "
                   "computes")
        return Word(call.text, span)

    def var_slot(self, atom: Atom) -> Slot:
        """`$digits`: a runtime value."""
        return Slot(atom.text[1:], Span(self.path, atom.start, atom.end))

    def text(self, token: Atom) -> Text:
        """A string literal with escapes and `{field}` / `{field|filter}` runtime parts."""
        raw = token.text[1:-1]
        if "\\" not in raw and "{" not in raw and "}" not in raw:  # the common case: plain text
            return Text([raw], Span(self.path, token.start, token.end))
        base = token.start + 1
        parts: list[str | Slot] = []
        literal: list[str] = []
        i = 0
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                literal.append(ESCAPES.get(raw[i + 1], raw[i + 1]))
                i += 2
            elif raw.startswith("{{", i) or raw.startswith("}}", i):
                literal.append(char)
                i += 2
            elif char == "{":
                close = raw.find("}", i)
                if close == -1:
                    self.error("FC112", "`{` opens a runtime value that is never closed",
                               Span(self.path, base + i, base + i + 1), help="write `{{` for a literal brace")
                    literal.append(raw[i:])
                    break
                slot = self.slot(raw[i + 1 : close], Span(self.path, base + i, base + close + 1))
                if slot is not None:
                    if literal:
                        parts.append("".join(literal))
                        literal = []
                    parts.append(slot)
                i = close + 1
            else:
                literal.append(char)
                i += 1
        if literal or not parts:
            parts.append("".join(literal))
        return Text(parts, self.span(token))

    def slot(self, inside: str, span: Span) -> Slot | None:
        name, _, filter_name = (p.strip() for p in inside.partition("|"))
        if not name.replace("_", "a").replace(".", "a").isalnum() or not name[:1].isalpha():
            self.error("FC112", f"`{{{inside}}}` is not a runtime value", span,
                       help="write `{from}` for a webhook field, or `{{` for a literal brace")
            return None
        if filter_name and filter_name not in FILTERS:
            self.error("FC112", f"unknown filter `{filter_name}`", span,
                       help="filters: " + ", ".join(sorted(FILTERS)))
            filter_name = ""
        return Slot(name, span, filter=filter_name or None)


def _multiword_starts() -> frozenset[str]:
    """First words of multi-word attribute phrases (`fallback method`, `as coach of`) and credential pairs."""
    starts = {phrase[0] for phrase in CREDENTIAL_PAIRS if len(phrase) > 1} | {"auth"}
    for element in vocabulary().elements.values():
        starts.update(phrase[0] for phrase in element.attribute_phrases if len(phrase) > 1)
    return frozenset(starts)


MULTIWORD_STARTS = _multiword_starts()
# `gather ... attempts 2 exhausted voicemail`: flowc's own words on the statement whose answers are counted
ATTEMPT_ELEMENT = vocabulary().attempt_callback[0]
COUNTING_WORDS = ("attempts", "exhausted")


def _word(statement: Statement, index: int) -> str | None:
    if len(statement.atoms) > index and statement.atoms[index].kind == "WORD":
        return statement.atoms[index].text
    return None


def _unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")


class HoursReader:
    """`hours NAME in "ZONE" { DAYS TIME to TIME[, ...] | closed DATE[, ...] | override hook(name) }`.

    Lines are read here (FC250 for a line that is not one of the three); whether the zone exists, the times
    are on a clock, the dates in the calendar and the ranges apart is the checker's job."""

    def __init__(self, lowering: Lowering) -> None:
        self.lowering = lowering

    def fail(self, message: str, node: Located | Span, help: str | None = None, fix: Fix | None = None) -> None:
        self.lowering.error("FC250", message, node, help=help, fix=fix)

    def declaration(self, statement: Statement) -> Hours | None:
        low = self.lowering
        name = low.declaration_name(statement, "hours")
        if name is None:
            return None
        atoms = statement.atoms[2:]
        if len(atoms) < 2 or _text(atoms[0]) != "in" or atoms[1].kind != "STRING":
            self.fail(f"`hours {name.text}` needs its time zone", atoms[0] if atoms else name,
                      help=f'write `hours {name.text} in "America/New_York" {{ ... }}` (an IANA zone name)')
            return None
        zone = low.text(atoms[1])
        hours = Hours(name.text, low.span(statement), low.span(name), zone.literal or "", zone.span)
        for extra in atoms[2:]:
            low.error("FC107", f"unexpected `{extra.text}` after the time zone", extra)
        if statement.block is None:
            low.error("FC113", f"hours `{name.text}` have no body", name,
                      help="add `{ ... }` with lines such as `monday to friday 9:00 to 17:00`")
            return hours
        for line in statement.block.statements:
            self.line(hours, line)
        return hours

    def line(self, hours: Hours, line: Statement) -> None:
        low = self.lowering
        if line.block is not None or not line.atoms:
            self.fail("a line of `hours` takes no block", line.block or line)
            return
        head = _text(line.atoms[0])
        if head == "closed":
            self.closed(hours, line.atoms)
        elif head == "override":
            self.override(hours, line.atoms)
        elif head in DAYS or head in GROUPS:
            self.opening(hours, line.atoms)
        else:
            guess = did_you_mean(head, [*DAYS, *GROUPS, "closed", "override"]) if head else None
            first = line.atoms[0]
            self.fail(f"`{first.text}` does not start a line of `hours`", first,
                      help=f"did you mean `{guess}`?" if guess else
                      "lines are `DAYS TIME to TIME`, `closed DATE` or `override hook(name)`",
                      fix=low.replace_fix(first, first.text, guess) if guess else None)

    def closed(self, hours: Hours, atoms: list[Atom]) -> None:
        dates = [a for a in atoms[1:] if a.kind != "COMMA"]
        if not dates:
            self.fail("`closed` needs the dates it is closed on", atoms[0],
                      help="write `closed 2026-12-25, 2027-01-01`")
        for atom in dates:
            if atom.kind in ("DATE", "PHONE", "NUMBER"):  # 2026-13-01 is a DATE too; the checker reads it
                hours.closed.append(ClosedDate(atom.text, self.lowering.span(atom)))
            else:
                self.fail(f"`{atom.text}` is not a date", atom, help="dates are written YYYY-MM-DD: `2026-12-25`")

    def override(self, hours: Hours, atoms: list[Atom]) -> None:
        value = self.lowering.value(atoms[1]) if len(atoms) == 2 else None
        if not (isinstance(value, Slot) and value.source == "hook"):
            self.fail("`override` takes one value, `hook(name)`", atoms[0],
                      help="write `override hook(office_status)`: your function returns \"open\", \"closed\" "
                      "or nothing to follow the hours")
            return
        if hours.override is not None:
            self.fail("`override` is given twice", atoms[0], help="keep one `override hook(name)`")
        hours.override = value

    def opening(self, hours: Hours, atoms: list[Atom]) -> None:
        index, days = self.days(atoms)
        if days is None:
            return
        days_span = Span(self.lowering.path, atoms[0].start, atoms[index - 1].end)
        if index >= len(atoms):
            self.fail("opening hours need a time range after the days", days_span,
                      help=f"write `{atoms[0].text} 9:00 to 17:00`")
            return
        at: int | None = index
        while at is not None and at < len(atoms):
            at = self.time_range(hours, atoms, at, days, days_span)

    def days(self, atoms: list[Atom]) -> tuple[int, list[int] | None]:
        """`monday to friday, sunday`: the weekdays named before the first time, and where the times start."""
        days: list[int] = []
        index = 0
        while index < len(atoms) and atoms[index].kind not in ("TIME", "NUMBER"):
            atom = atoms[index]
            word = _text(atom)
            if atom.kind == "COMMA":
                index += 1
                continue
            if word in GROUPS:
                days.extend(GROUPS[word])
                index += 1
                continue
            if word not in DAYS:
                guess = did_you_mean(word or "", [*DAYS, *GROUPS]) if word else None
                self.fail(f"`{atom.text}` is not a day", atom,
                          help=f"did you mean `{guess}`?" if guess else
                          "days are monday ... sunday (or mon ... sun), daily, weekdays, weekends",
                          fix=self.lowering.replace_fix(atom, atom.text, guess) if guess else None)
                return index, None
            if index + 2 < len(atoms) and _text(atoms[index + 1]) == "to" and _text(atoms[index + 2]) in DAYS:
                days.extend(day_range(DAYS[word], DAYS[_text(atoms[index + 2]) or ""]))
                index += 3
            else:
                days.append(DAYS[word])
                index += 1
        return index, sorted(set(days))

    def time_range(self, hours: Hours, atoms: list[Atom], index: int, days: list[int], days_span: Span) -> int | None:
        """`9:00 to 17:30` at atoms[index]; returns where the next range starts, None after a mistake."""
        path = self.lowering.path
        start = atoms[index]
        if start.kind == "COMMA":
            return index + 1
        end = atoms[index + 2] if index + 2 < len(atoms) else None
        if start.kind != "TIME" or _text(atoms[index + 1] if index + 1 < len(atoms) else None) != "to" or (
                end is None or end.kind != "TIME"):
            hint = f"`{start.text}:00`" if start.kind == "NUMBER" else "`9:00 to 17:00`"
            self.fail(f"expected a time range such as `9:00 to 17:00`, found `{start.text}`", start,
                      help=f"times are written HOURS:MINUTES, as in {hint}; a range is `START to END`")
            return None
        span = Span(path, start.start, end.end)
        hours.opening.append(OpeningRange(days, start.text, end.text, span, Span(path, start.start, start.end),
                                          Span(path, end.start, end.end), days_span))
        return index + 3


def _text(atom: Atom | None) -> str | None:
    """A word's text; None for anything else."""
    return atom.text if atom is not None and atom.kind == "WORD" else None
