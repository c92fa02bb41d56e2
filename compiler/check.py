"""The checker: every rule that can be known before a call, run over the whole project.

Rules are small functions registered with @rule; each reads the IR, the name-resolution links and the
vocabulary table, and yields diagnostics. Value rules are driven entirely by the table (types, enums, ranges,
lengths), so they cover every attribute of every verb.

The same rules check BXML files (`flowc check doc.xml`): flowc.lint_xml converts each document into the IR,
and `xml_contexts` says which webhook each one answers. Rules about .flow-only ideas (flow names, `on`,
`env()`) skip those files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flowc.codes import CODES
from flowc.diagnostics import Diagnostic, Edit, Fix, Label, Severity, Span, did_you_mean
from flowc.ir import (
    FILTERS,
    Attribute,
    Conference,
    Element,
    Env,
    Flow,
    ListValue,
    Number,
    Project,
    Slot,
    Text,
    Value,
    Word,
)
from flowc.links import CONFERENCE_PATH, FLOW_PATH, is_flow_reference, resolve_elements
from flowc.vocabulary import UNIT_NAMES, AttributeSpec, ElementSpec, Vocabulary, format_number, vocabulary

NO_BXML_EVENTS = ("conferenceCompleted", "conferenceRecordingAvailable")


@dataclass(slots=True)
class Body:
    """One BXML document's worth of statements: a flow body, a `when` branch or a conference handler."""

    owner: Flow | Conference
    elements: list[Element]
    context: str  # call | transfer-answer | conference | no-bxml
    span: Span  # the source the document comes from
    event: str | None = None  # the conference event a handler answers
    joins: bool = False  # whether it puts the call into a conference

    @property
    def file(self) -> str:
        return self.owner.span.file


Site = tuple[Element, ElementSpec, Body]


class Context:
    """What every rule reads: the project, its links, the vocabulary, and indexes computed once."""

    def __init__(self, project: Project, vocab: Vocabulary, xml_contexts: dict[str, str]) -> None:
        self.project = project
        self.vocab = vocab
        self.xml_contexts = xml_contexts
        self.flows = project.flows
        self.conferences = project.conferences
        self.bodies = list(self._bodies())
        self.sites: list[Site] = []
        specs = vocab.elements
        for body in self.bodies:
            _flatten(body.elements, body, specs, self.sites)
            body.joins = any(e.tag == "Conference" for e in body.elements)
        # Name resolution reads the same walk, then decides which webhook each flow's documents answer.
        self.links = resolve_elements(project, ((site[0], _owner_name(site[2])) for site in self.sites))
        for body in self.bodies:
            if type(body.owner) is Flow:
                body.context = self.flow_context(body.owner)
        self.by_tag: dict[str, list[Site]] = {}
        for site in self.sites:
            self.by_tag.setdefault(site[0].tag, []).append(site)

    def tagged(self, *tags: str) -> Iterator[Site]:
        for tag in tags:
            yield from self.by_tag.get(tag, ())

    def is_xml(self, file: str) -> bool:
        return file in self.xml_contexts

    def flow_context(self, flow: Flow) -> str:
        xml = self.xml_contexts.get(flow.span.file)
        return xml if xml is not None else self.links.context(flow.name)  # the planner's context, not a second one

    def _bodies(self) -> Iterator[Body]:
        for file in self.project.files:
            for flow in file.flows:  # the context is set once the links are known
                yield Body(flow, flow.body, "call", flow.span)
                for branch in flow.branches:
                    yield Body(flow, branch.body, "call", branch.span)
            for conference in file.conferences:
                for handler in conference.handlers:
                    context = "no-bxml" if handler.event in NO_BXML_EVENTS else "conference"
                    yield Body(conference, handler.body, context, handler.span, handler.event)
                    for branch in handler.branches:  # `when role host { ... }`
                        yield Body(conference, branch.body, context, branch.span, handler.event)


def _owner_name(body: Body) -> str | None:
    """The flow a statement belongs to, as name resolution records it (None in a conference handler)."""
    return body.owner.name if type(body.owner) is Flow else None


def _flatten(elements: list[Element], body: Body, specs: dict[str, ElementSpec], out: list[Site]) -> None:
    for element in elements:
        out.append((element, specs[element.tag], body))
        if element.content:
            children = [c for c in element.content if type(c) is Element]
            if children:
                _flatten(children, body, specs, out)


Rule = Callable[[Context], Iterator[Diagnostic]]
RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    RULES.append(function)
    return function


def diagnostic(code: str, message: str, span: Span, **extra) -> Diagnostic:
    severity = extra.pop("severity", CODES[code].severity)
    return Diagnostic(code, severity, message, span, **extra)


@rule
def room_policy(context: Context) -> Iterator[Diagnostic]:
    """Rooms (conferences with a policy): flowc.room_rules."""
    from flowc.room_rules import room_diagnostics

    if any(c.policy is not None for c in context.conferences.values()) or any(
            e.role is not None for e, _, _ in context.tagged("Conference")):
        yield from room_diagnostics(context.project)


def check_project(project: Project, xml_contexts: dict[str, str] | None = None) -> list[Diagnostic]:
    """Run every rule. `xml_contexts` maps the files that came from BXML documents to the webhook they answer."""
    context = Context(project, vocabulary(), xml_contexts or {})
    diagnostics: list[Diagnostic] = []
    for check in RULES:
        diagnostics.extend(check(context))
    return diagnostics


def keyword(element: Element, context: Context) -> str:
    spec = context.vocab.elements[element.tag]
    return f"<{spec.name}>" if context.is_xml(element.span.file) else spec.keyword


def phrase_span(element: Element, attribute: Attribute) -> Span:
    """The whole phrase that set `attribute`: `auth USER PASSWORD` sets two attributes from one name."""
    span = attribute.span
    for other in element.attributes:
        if other.name_span == attribute.name_span:
            span = span.cover(other.span)
    return span


def removal(attribute: Attribute) -> Fix:
    return Fix(f"remove `{attribute.written or attribute.name}`", (Edit(attribute.span, ""),), safe=False)


# -- names -------------------------------------------------------------------------------------------------


@rule
def duplicate_names(context: Context) -> Iterator[Diagnostic]:
    for kind in ("flows", "conferences"):
        seen: dict[str, tuple[str, Span]] = {}
        for file in context.project.files:
            for declaration in getattr(file, kind):
                # `Main` and `main` would write flows/Main.xml and flows/main.xml: one file on macOS and Windows
                first = seen.get(declaration.name.casefold())
                if first is None:
                    seen[declaration.name.casefold()] = (declaration.name, declaration.name_span)
                    continue
                message = f"`{declaration.name}` is defined twice" if first[0] == declaration.name else (
                    f"`{declaration.name}` and `{first[0]}` differ only in case, so their documents would be one "
                    "file on case-insensitive file systems")
                yield diagnostic("FC111", message, declaration.name_span,
                                 labels=[Label(first[1], "first defined here")],
                                 help="rename one of them")


@rule
def undefined_flows(context: Context) -> Iterator[Diagnostic]:
    flows = context.flows
    for attribute, name in [(r.attribute, r.flow) for r in context.links.references]:
        if name in flows:
            continue
        span = attribute.value.span
        guess = did_you_mean(name, [f for f in flows if not context.is_xml(flows[f].span.file)])
        yield diagnostic(
            "FC401", f"no flow named `{name}`", span,
            help=f"did you mean `{guess}`?" if guess else
            "define it with `flow NAME { ... }`, or give a URL in quotes",
            fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None,
        )


@rule
def undefined_conferences(context: Context) -> Iterator[Diagnostic]:
    conferences = context.conferences
    for element, _ in context.links.conference_joins:
        if element.conference is None or element.conference in conferences:
            continue
        span = element.conference_span or element.keyword_span
        guess = did_you_mean(element.conference, conferences)
        yield diagnostic(
            "FC402", f"no conference named `{element.conference}`", span,
            help=f"did you mean `{guess}`?" if guess else
            f'declare it with `conference {element.conference} {{ ... }}`, or join by literal name: '
            f'`join conference "{element.conference}"`',
            fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None,
        )


@rule
def unused_flows(context: Context) -> Iterator[Diagnostic]:
    flows = [f for f in context.flows.values() if not context.is_xml(f.span.file)]
    if not any(flow.entry_events for flow in flows):
        return  # no declared entry points: every flow nobody names is one
    named = {r.flow for r in context.links.references if r.in_flow != r.flow}
    for flow in flows:
        if flow.entry_events or flow.name in named:
            continue
        yield diagnostic("FC403", f"flow `{flow.name}` is never used", flow.name_span,
                         help=f"nothing refers to `{flow.name}` and it has no `on`: name it in a `then`/`to` "
                         f"somewhere, or write `flow {flow.name} on initiate, answer {{ ... }}` if calls start "
                         "here",
                         fix=Fix(f"remove flow `{flow.name}`", (Edit(flow.span, ""),), safe=False))


# -- values ------------------------------------------------------------------------------------------------

URL = re.compile(r"^(https?|wss?)://[^\s/$.?#][^\s]*$", re.IGNORECASE)
RELATIVE_URL = re.compile(r"^(/|\./|\.\./)?[A-Za-z0-9._~!$&'()*+,;=:@%/?#\[\]-]*$")
HOST_WITHOUT_SCHEME = re.compile(r"^(www\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(:[0-9]+)?(/|$)")
DAY_SECONDS = 24 * 3600
@rule
def attribute_values(context: Context) -> Iterator[Diagnostic]:
    for element, spec, body in context.sites:
        if not element.attributes:
            continue
        conference_scope = body.joins or body.context == "conference"
        seen: dict[str, Attribute] = {}
        repeated: set[Span] = set()
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is None:
                continue
            if attribute.name in seen and attribute.name_span not in repeated:
                repeated.add(attribute.name_span)  # `auth U P` twice: one report, removing the whole phrase
                span, first = phrase_span(element, attribute), phrase_span(element, seen[attribute.name])
                yield diagnostic("FC206", f"`{attribute.written or attribute.name}` is set twice", span,
                                 labels=[Label(first, "first set here")],
                                 fix=Fix("remove the second one", (Edit(span, ""),)))
            seen[attribute.name] = attribute
            if conference_scope and _longer_than_a_day(attribute.value, attribute_spec):
                hours = _hours(attribute.value, attribute_spec)  # type: ignore[arg-type]
                yield diagnostic("FC310", f"`{attribute.written or attribute.name}` is {hours} hours, but a "
                                 "conference lasts at most 24 hours", attribute.value.span,
                                 help="this flow puts its call into a conference" if body.joins else None)
                continue
            if not _plainly_valid(attribute.value, attribute_spec):
                yield from check_value(attribute, attribute_spec, spec, xml=context.is_xml(body.file))


def _plainly_valid(value: Value, spec: AttributeSpec) -> bool:
    """The common valid cases, decided without building a generator (the checker's hot path)."""
    kind = type(value)
    if kind is Word:
        if spec.type == "boolean":
            return value.value in ("true", "false")  # type: ignore[union-attr]
        if spec.type in ("enum", "http_method"):
            return value.value in spec.enum  # type: ignore[union-attr]
        return spec.type == "url" and spec.reply_bxml  # a flow name
    if kind is Text:
        return spec.type == "string" and spec.max_length is None and spec.pattern is None
    if kind is Number and spec.type in ("integer", "decimal") and (spec.unit or not value.unit):  # type: ignore
        amount = value.in_unit(spec.unit)  # type: ignore[union-attr]
        return (spec.type == "decimal" or amount == int(amount)) and (spec.min is None or amount >= spec.min) and (
            spec.max is None or amount <= spec.max)
    return kind is Slot


def _seconds(value: Number, spec: AttributeSpec) -> float:
    if value.unit:
        return value.in_unit("s")
    return value.value / 1000 if spec.unit == "ms" else value.value


def _longer_than_a_day(value: Value, spec: AttributeSpec) -> bool:
    return spec.unit is not None and isinstance(value, Number) and _seconds(value, spec) > DAY_SECONDS


def _hours(value: Number, spec: AttributeSpec) -> str:
    return format_number(round(_seconds(value, spec) / 3600, 2))


def check_value(attribute: Attribute, spec: AttributeSpec, element: ElementSpec,
                xml: bool = False) -> Iterator[Diagnostic]:
    value = attribute.value
    written = attribute.written or spec.name
    if isinstance(value, Slot):
        return  # filled per request; the generated handler re-checks it
    if isinstance(value, ListValue) and spec.type != "csv_list":
        yield diagnostic("FC201", f"`{written}` takes one value, not a list", value.span)
        return
    kind = spec.type
    if kind == "boolean":
        if not (isinstance(value, Word) and value.value in ("true", "false")):
            yield diagnostic("FC201", f"`{written}` is true or false", value.span)
    elif kind in ("integer", "decimal"):
        yield from check_number(value, spec, written, xml)
    elif kind in ("enum", "http_method"):
        yield from check_enum(value, spec, written)
    elif kind == "url":
        yield from check_url(attribute, spec, written, xml)
    elif kind in ("string", "ssml_time"):
        yield from check_text(value, spec, written)
    elif kind == "csv_list":
        for item in value.items if isinstance(value, ListValue) else [value]:
            if not isinstance(item, Text | Slot | Word):
                yield diagnostic("FC201", f"`{written}` takes a list of text values", item.span)
            elif isinstance(item, Text) and item.literal is not None and not item.literal.strip() and (
                    isinstance(value, ListValue)):
                yield diagnostic("FC201", f"`{written}` has an empty item", item.span,
                                 help="remove it (and its comma)")


def check_number(value: Value, spec: AttributeSpec, written: str, xml: bool = False) -> Iterator[Diagnostic]:
    if not isinstance(value, Number):
        if xml:  # BXML has no durations: `maxDuration="10s"` is wrong, `maxDuration="10"` right
            expected = f"a number of {UNIT_NAMES[spec.unit]}" if spec.unit in UNIT_NAMES else "a number"
        else:
            expected = "a duration such as 10s" if spec.unit else "a number"
        yield diagnostic("FC201", f"`{written}` takes {expected}", value.span)
        return
    if value.unit and not spec.unit:
        yield diagnostic("FC201", f"`{written}` takes a plain number, not a duration", value.span,
                         fix=Fix("drop the unit", (Edit(value.span, value.text.rstrip("mshd")),)))
        return
    amount = value.in_unit(spec.unit)
    if spec.type == "integer" and amount != int(amount):
        yield diagnostic("FC201", f"`{written}` takes a whole number", value.span)
    unit = f" {'seconds' if spec.unit == 's' else 'milliseconds'}" if spec.unit else ""
    low, high = spec.min, spec.max
    if (low is not None and amount < low) or (high is not None and amount > high):
        bounds = f"from {format_number(low)} to {format_number(high)}" if low is not None and high is not None else (
            f"at most {format_number(high)}" if high is not None else f"at least {format_number(low)}")
        yield diagnostic("FC203", f"`{written}` is {format_number(amount)}{unit}, but must be {bounds}{unit}",
                         value.span)


def check_enum(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    choice = value.value if isinstance(value, Word) else value.literal if isinstance(value, Text) else None
    if choice is None:
        yield diagnostic("FC201", f"`{written}` takes one of: {', '.join(spec.enum)}", value.span)
        return
    if choice in spec.enum:
        return
    if spec.name == "voice" and (choice.lower() in spec.enum or choice.lower() in vocabulary().legacy_voices):
        return
    guess = did_you_mean(choice, spec.enum)
    yield diagnostic("FC202", f"`{choice}` is not a valid `{written}`", value.span,
                     help=(f"did you mean `{guess}`? " if guess else "") + "allowed: " + ", ".join(spec.enum),
                     fix=Fix(f"use `{guess}`", (Edit(value.span, guess),)) if guess else None)


def check_url(attribute: Attribute, spec: AttributeSpec, written: str, xml: bool = False) -> Iterator[Diagnostic]:
    value = attribute.value
    if isinstance(value, Word):
        if not spec.reply_bxml:
            yield diagnostic("FC201", f"`{written}` takes a URL in quotes; its webhook takes no BXML, so it cannot "
                             "name a flow", value.span)
        return  # a flow name: resolved by undefined_flows
    if not isinstance(value, Text):
        yield diagnostic("FC201", f"`{written}` takes a URL", value.span)
        return
    yield from check_url_text(value, spec.relative_ok, quoted=not xml)


def _replacement(text: str, quoted: bool) -> str:
    """`text` as it must be written over a value's span: a .flow string literal, or raw inside XML quotes."""
    if not quoted:  # inside an XML attribute or element: escape what XML would read as markup
        return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")
    return f'"{escaped}"'


def check_url_text(value: Text, relative_ok: bool, quoted: bool = True) -> Iterator[Diagnostic]:
    literal = value.literal
    if literal is None:
        return
    literal = literal.strip()
    if URL.match(literal):
        return
    host_like = HOST_WITHOUT_SCHEME.match(literal) is not None and "/" in literal  # cdn.example.com/a.wav
    if relative_ok and literal and not host_like and RELATIVE_URL.match(literal) and "://" not in literal:
        return
    if " " in literal:
        encoded = literal.replace(" ", "%20")
        if URL.match(encoded) or (relative_ok and RELATIVE_URL.match(encoded) and "://" not in encoded):
            yield diagnostic("FC205", f"`{literal}` contains a space, which a URL cannot", value.span,
                             help="write each space as `%20`",
                             fix=Fix("write spaces as %20", (Edit(value.span, _replacement(encoded, quoted)),)))
            return
    where = "an absolute http(s) URL" + (" or a relative path" if relative_ok else "")
    fix = Fix("add https://", (Edit(value.span, _replacement(f"https://{literal}", quoted)),),
              safe=False) if host_like else None
    yield diagnostic("FC205", f"`{literal}` is not {where}", value.span,
                     help="it looks like a host name without `https://`" if host_like else None, fix=fix)


SSML_TIME = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s)")


def check_ssml_time(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    """SSML pauses are written in seconds or milliseconds (`2s`, `500ms`), up to the table's `max` seconds."""
    if isinstance(value, Number):
        seconds = value.value if not value.unit else value.in_unit("s")
        valid = value.unit in ("", "s", "ms")
    elif isinstance(value, Text) and value.literal is not None:
        match = SSML_TIME.fullmatch(value.literal.strip())
        valid = match is not None
        seconds = float(match[1]) / (1000 if match[2] == "ms" else 1) if match else 0.0
    else:
        return
    if not valid:
        yield diagnostic("FC201", f"`{written}` takes seconds or milliseconds, such as 2s or 500ms", value.span)
    elif spec.max is not None and seconds > spec.max:
        yield diagnostic("FC203", f"`{written}` is {format_number(seconds)} seconds, but a pause may be at most "
                         f"{format_number(spec.max)} seconds", value.span)


def check_text(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    if isinstance(value, Env):
        return
    if spec.type == "ssml_time":
        yield from check_ssml_time(value, spec, written)
        if isinstance(value, Number):
            return
    if not isinstance(value, Text | Word | Number):
        yield diagnostic("FC201", f"`{written}` takes text", value.span)
        return
    literal = value.value if isinstance(value, Word) else value.text if isinstance(value, Number) else value.literal
    if spec.pattern and literal is not None and not re.fullmatch(spec.pattern, literal):
        yield diagnostic("FC202", f"`{literal}` is not a valid `{written}`", value.span,
                         help=f"write {spec.format}" if spec.format else None)
        return
    if isinstance(value, Text) and spec.max_length is not None:
        literal = "".join(p for p in value.parts if isinstance(p, str))
        if len(literal) > spec.max_length:
            yield diagnostic("FC204", f"`{written}` is {len(literal)} characters; at most {spec.max_length} "
                             "are allowed", value.span)


E164 = re.compile(r"\+[1-9][0-9]{1,14}")
SIP_URI = re.compile(r"sips?:[^\s]+", re.IGNORECASE)
# Where a literal must be a phone number or SIP address: (element, attribute or None for the text content).
ADDRESSES = {("PhoneNumber", None): "E.164", ("SipUri", None): "SIP URI", ("Forward", "to"): "E.164 or SIP URI",
             ("Forward", "from"): "E.164"}


@rule
def addresses(context: Context) -> Iterator[Diagnostic]:
    """Phone numbers and SIP URIs written as literals; runtime values are left to Bandwidth."""
    for (tag, attribute_name), shape in ADDRESSES.items():
        for element, _, _ in context.tagged(tag):
            if attribute_name is None:
                values: list[Value] = list(element.texts)
            else:
                attribute = element.attribute(attribute_name)
                values = [attribute.value] if attribute is not None else []
            for value in values:
                yield from check_address(value, shape)


def check_address(value: Value, shape: str) -> Iterator[Diagnostic]:
    literal = value.literal if isinstance(value, Text) else value.value if isinstance(value, Word) else None
    if literal is None:
        return
    literal = literal.strip()
    if ("E.164" in shape and E164.fullmatch(literal)) or ("SIP" in shape and SIP_URI.fullmatch(literal)):
        return
    fix = None
    digits = re.sub(r"[\s().-]", "", literal)
    if "E.164" in shape and re.fullmatch(r"\+?[1-9][0-9]{10,14}", digits):  # long enough to hold a country code
        fix = Fix(f"write `+{digits.lstrip('+')}`", (Edit(_inner(value), f"+{digits.lstrip('+')}"),), safe=False)
    what = {"E.164": "a phone number", "SIP URI": "a SIP URI"}.get(shape, "a phone number or SIP URI")
    yield diagnostic("FC212", f"`{literal}` is not {what}", value.span,
                     help="phone numbers are written +, country code, number (+15551234567); SIP addresses "
                     "start with `sip:`", fix=fix)


def _inner(value: Value) -> Span:
    """The span of a literal's characters, inside the quotes when it was written as a string."""
    span = value.span
    return Span(span.file, span.start + 1, span.end - 1) if isinstance(value, Text) and _quoted(value) else span


def _quoted(value: Text) -> bool:
    return value.span.end - value.span.start == len(value.literal or "") + 2


@rule
def content_urls(context: Context) -> Iterator[Diagnostic]:
    """`play "..."`: the audio URL is the element's text; relative URLs resolve against the document's URL."""
    url_elements = [n for n, spec in context.vocab.elements.items() if (spec.text or {}).get("type") == "url"]
    for element, _, body in context.tagged(*url_elements):
        for text in element.texts:
            yield from check_url_text(text, relative_ok=True, quoted=not context.is_xml(body.file))


SECRETS = frozenset(a.name for e in vocabulary().elements.values() for a in e.attributes.values() if a.is_secret)


@rule
def literal_passwords(context: Context) -> Iterator[Diagnostic]:
    def settings():
        for element, spec, body in context.sites:
            for attribute in element.attributes:
                # BXML files have no env(): a literal is their only option there
                if attribute.name in SECRETS and not context.is_xml(body.file):
                    yield attribute, spec.attributes.get(attribute.name)
        for conference in context.conferences.values():
            spec = context.vocab.elements["Conference"]
            yield from ((a, spec.attributes.get(a.name)) for a in conference.settings)

    for attribute, spec in settings():
        if spec is not None and spec.is_secret and isinstance(attribute.value, Text) and attribute.value.literal:
            variable = re.sub(r"(?<!^)(?=[A-Z])", "_", spec.name).upper()
            written = attribute.written or spec.name
            which = "the password" if spec.name == "password" else "the fallback password"
            yield diagnostic("FC404", f"{which} of `{written}` is written in the file as plain text",
                             attribute.value.span,
                             help=f"read it from the environment: `env({variable})`",
                             fix=Fix(f"use env({variable})", (Edit(attribute.value.span, f"env({variable})"),),
                                     safe=False))


@rule
def application_declarations(context: Context) -> Iterator[Diagnostic]:
    """FC713: one `application auth` per project; FC404 for a literal password in a declaration's `auth`."""
    declarations = [a for file in context.project.files for a in file.applications]
    for repeated in declarations[1:]:
        if _written(repeated.auth) == _written(declarations[0].auth):
            continue  # the same pair again (projects checked together): nothing to choose between
        yield diagnostic("FC713", "the application's callback credentials are declared twice, differently",
                         repeated.span, labels=[Label(declarations[0].span, "first declared here")],
                         help="keep one `application auth USER PASSWORD` for the project",
                         fix=Fix("remove this declaration", (Edit(repeated.span, ""),), safe=False))
    declared = [a.auth for a in declarations] + [f.auth for f in context.flows.values() if f.auth]
    for auth in declared:
        password = auth[1].value
        if isinstance(password, Text) and password.literal is not None:
            yield diagnostic("FC404", "the password of `auth` is written in the file as plain text", password.span,
                             help="read it from the environment: `env(BANDWIDTH_CALLBACK_PASSWORD)`",
                             fix=Fix("use env(BANDWIDTH_CALLBACK_PASSWORD)",
                                     (Edit(password.span, "env(BANDWIDTH_CALLBACK_PASSWORD)"),), safe=False))


def _written(auth: list[Attribute]) -> list[tuple[str, str]]:
    return [(a.name, repr(a.value.name if isinstance(a.value, Env) else getattr(a.value, "literal", a.value)))
            for a in auth]


@rule
def secrets_on_open_routes(context: Context) -> Iterator[Diagnostic]:
    """FC712: a document holding a secret served on a route that requires no credentials (flowc.credentials
    decides; `flowc compile` reports the open routes themselves, FC711)."""
    from flowc.credentials import open_route_diagnostics
    from flowc.plan import plan as make_plan

    planned = make_plan(context.project, context.links)
    yield from open_route_diagnostics(planned, "FC712", skip=context.is_xml)


@rule
def conference_settings_values(context: Context) -> Iterator[Diagnostic]:
    spec = context.vocab.elements["Conference"]
    for conference in context.conferences.values():
        for attribute in conference.settings:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is not None and not _plainly_valid(attribute.value, attribute_spec):
                yield from check_value(attribute, attribute_spec, spec)


FALLBACK_CREDENTIALS = frozenset(("fallbackUsername", "fallbackPassword"))


@rule
def unused_fallback_credentials(context: Context) -> Iterator[Diagnostic]:
    def unused(attributes: list[Attribute], spec: ElementSpec) -> Iterator[Diagnostic]:
        fallback_urls = [n for n in spec.attributes if n.endswith("FallbackUrl")]
        if not fallback_urls or any(a.name in fallback_urls for a in attributes):
            return
        # `fallback auth USER PASSWORD` sets both attributes from one phrase: one report, one removal for it
        phrases: dict[Span, list[Attribute]] = {}
        for attribute in attributes:
            if attribute.name in FALLBACK_CREDENTIALS:
                phrases.setdefault(attribute.name_span, []).append(attribute)
        url = spec.attributes[fallback_urls[0]]
        xml = any(context.is_xml(span.file) for span in phrases)
        url_name = url.name if xml or not url.aliases else url.aliases[0]
        for pair in phrases.values():
            written = pair[0].written or pair[0].name
            span = Span(pair[0].span.file, min(a.span.start for a in pair), max(a.span.end for a in pair))
            yield diagnostic("FC210", f"`{written}` is never used: there is no fallback URL", span,
                             help=f"add the fallback URL (`{url_name}`) or remove the credentials",
                             fix=Fix(f"remove `{written}`", (Edit(span, ""),), safe=False))

    conference_spec = context.vocab.elements["Conference"]
    for element, spec, _ in context.sites:
        for attribute in element.attributes:
            if attribute.name in FALLBACK_CREDENTIALS:
                declared = context.conferences.get(element.conference) if element.conference else None
                yield from unused((declared.settings if declared else []) + element.attributes, spec)
                break
    for conference in context.conferences.values():
        yield from unused(conference.settings, conference_spec)


# -- structure ---------------------------------------------------------------------------------------------


@rule
def required_content(context: Context) -> Iterator[Diagnostic]:
    for element, spec, _ in context.sites:
        if spec.text and spec.text.get("required") and not element.content and element.conference is None:
            yield diagnostic("FC207", f"`{keyword(element, context)}` needs {_content_name(spec)}",
                             element.keyword_span)


def _content_name(spec: ElementSpec) -> str:
    return {"PlayAudio": "the URL of the audio to play", "Conference": "the name of the conference to join",
            "SpeakSentence": "the text to speak", "SendDtmf": "the digits to send", "Bridge": "the call id to "
            "bridge with", "PhoneNumber": "a phone number", "SipUri": "a SIP URI", "Endpoint": "an endpoint id",
            }.get(spec.name, "text content")


# Attributes Bandwidth's reference marks as required (the vocabulary has no flag for them yet).
REQUIRED_ATTRIBUTES = {tag: names for tag, spec in vocabulary().elements.items()
                       if (names := tuple(n for n, a in spec.attributes.items() if a.required))}


@rule
def required_attributes(context: Context) -> Iterator[Diagnostic]:
    for element, spec, _ in context.tagged(*REQUIRED_ATTRIBUTES):
        for name in REQUIRED_ATTRIBUTES[element.tag]:
            if element.attribute(name) is None:
                attribute = spec.attributes[name]
                written = name if context.is_xml(element.span.file) or not attribute.aliases else (
                    f"{attribute.aliases[0]}` (`{name}`")
                yield diagnostic("FC211", f"`{keyword(element, context)}` needs `{written}`", element.keyword_span,
                                 help=attribute.doc.split(". ")[0].removeprefix("Required. ") or None)


DTMF = re.compile(r"[0-9*#a-dA-D,wW]*")
MAX_DTMF = 50


@rule
def dtmf_digits(context: Context) -> Iterator[Diagnostic]:
    for element, _, _ in context.tagged("SendDtmf"):
        for text in element.texts:
            literal = text.literal
            if literal is None:
                continue
            literal = literal.strip()
            if not DTMF.fullmatch(literal):
                bad = next(c for c in literal if not DTMF.fullmatch(c))
                yield diagnostic("FC202", f"`{bad}` cannot be sent as a tone", text.span,
                                 help="tones are 0-9, *, #, A-D; `w` waits half a second and `,` one second")
            elif len(literal) > MAX_DTMF:
                yield diagnostic("FC204", f"{len(literal)} tones; at most {MAX_DTMF} can be sent at once", text.span)


CHILD_LIMITS = {"Transfer": (1, 8), "StartStream": (0, 12), "StartTranscription": (0, 12), "Refer": (1, 1),
                "Connect": (1, None)}


@rule
def child_counts(context: Context) -> Iterator[Diagnostic]:
    for element, _, _ in context.tagged(*CHILD_LIMITS, "Gather"):
        count = len(element.children)
        if element.tag in CHILD_LIMITS:
            low, high = CHILD_LIMITS[element.tag]
            if count < low or (high is not None and count > high):
                what = "destinations" if element.tag in ("Transfer", "Refer") else (
                    "endpoints" if element.tag == "Connect" else "parameters")
                bound = f"{low} to {high}" if high is not None and high != low else (
                    f"exactly {low}" if high == low else f"at least {low}")
                yield diagnostic("FC208", f"`{keyword(element, context)}` has {count} {what}; it takes {bound}",
                                 element.keyword_span)
        if element.tag == "Gather":
            repeat = element.attribute("repeatCount")
            times = repeat.value.value if repeat and isinstance(repeat.value, Number) else 1
            if count * times > 20:
                total = format_number(count * times)
                yield diagnostic("FC208", f"{count} prompts repeated {format_number(times)} times is {total} "
                                 "prompts; Bandwidth allows at most 20", element.keyword_span)


XML_OVERHEAD = len('<?xml version="1.0" encoding="UTF-8"?>\n<Response></Response>')


@rule
def document_size(context: Context) -> Iterator[Diagnostic]:
    """A lower bound of each compiled document's size (runtime values count as empty); BXML files are measured
    as they are by flowc.lint_xml."""
    limit = context.vocab.max_document_bytes
    for body in context.bodies:
        if context.is_xml(body.file) or not body.elements:
            continue
        if _size_bound(body, context) <= limit:
            continue  # cannot be too large: skip the exact count
        size = XML_OVERHEAD + sum(_element_size(e, context) for e in body.elements)
        if size > limit:
            owner = body.owner
            yield diagnostic("FC209", f"this document is at least {size} bytes; Bandwidth accepts at most {limit}",
                             owner.name_span,
                             help="split it: move statements into another flow and `redirect to` it")


EXPANSION = 16  # no .flow text grows by more than this when compiled (`"a", "b"` -> two <PhoneNumber>s is ~7x)


def _size_bound(body: Body, context: Context) -> int:
    """A cheap upper bound of a document's size: its source, expanded, plus the declared conferences it joins."""
    bound = XML_OVERHEAD + EXPANSION * (body.span.end - body.span.start)
    for element in body.elements:
        declared = context.conferences.get(element.conference) if element.conference else None
        if declared is not None:
            bound += EXPANSION * (declared.span.end - declared.span.start)
    return bound


def _element_size(element: Element, context: Context) -> int:
    size = 2 * len(element.tag) + 5
    attributes = element.attributes
    if element.conference in context.conferences:
        declared = context.conferences[element.conference]
        attributes = declared.settings + attributes
        size += _value_size(declared.conference_name)
    for attribute in attributes:
        size += len(attribute.name) + 4 + _value_size(attribute.value)
    for child in element.content:
        size += _element_size(child, context) if type(child) is Element else _value_size(child)
    return size


def _value_size(value: Value) -> int:
    kind = type(value)
    if kind is Text:
        return sum(len(p) for p in value.parts if type(p) is str)  # type: ignore[union-attr]
    if kind is Word:
        return len(value.value) + len(FLOW_PATH) - 6  # a flow name becomes /flows/NAME
    if kind is Number:
        return len(value.text)  # type: ignore[union-attr]
    if kind is ListValue:
        return sum(_value_size(item) + 1 for item in value.items)  # type: ignore[union-attr]
    return 0


# -- contexts ----------------------------------------------------------------------------------------------


@rule
def context_verbs(context: Context) -> Iterator[Diagnostic]:
    conference_allowed = context.vocab.contexts["conference"]
    transfer_allowed = context.vocab.contexts["transfer-answer"]
    for body in context.bodies:
        if body.context == "no-bxml":
            for element in body.elements:
                yield diagnostic("FC303", f"Bandwidth ignores BXML in the reply to {body.event}",
                                 element.keyword_span, fix=Fix("remove it", (Edit(element.span, ""),)))
        elif body.context == "conference":
            for element in body.elements:
                if element.tag not in conference_allowed:
                    yield diagnostic("FC301", f"`{keyword(element, context)}` cannot be used in a conference reply",
                                     element.keyword_span,
                                     help="allowed: " + ", ".join(_names(conference_allowed, body, context)),
                                     notes=["Bandwidth rejects the whole reply when it contains any other verb"],
                                     fix=Fix("remove it", (Edit(element.span, ""),), safe=False))
        elif body.context == "transfer-answer":
            for element in body.elements:
                if element.tag not in transfer_allowed:
                    where = "this document answers transferAnswer" if context.is_xml(body.file) else (
                        f"flow `{body.owner.name}` answers transferAnswer")
                    yield diagnostic("FC302", f"`{keyword(element, context)}` cannot run in a transfer answer",
                                     element.keyword_span,
                                     help=f"{where} (the called party, before bridging); allowed: "
                                     + ", ".join(_names(transfer_allowed, body, context)))


def _names(allowed: frozenset[str], body: Body, context: Context) -> list[str]:
    xml = context.is_xml(body.file)
    return sorted(f"<{n}>" if xml else context.vocab.elements[n].keyword for n in allowed)


IGNORED_IN_CONFERENCE_RECORDINGS = {
    "transcribe": "conference recordings are never transcribed",
    "detectLanguage": "conference recordings are never transcribed",
    "transcriptionAvailableUrl": "conference recordings are never transcribed",
    "transcriptionAvailableMethod": "conference recordings are never transcribed",
    "multiChannel": "conference recordings are always single-channel",
    "tag": "the recording webhooks carry the conference's tag",
}


@rule
def conference_recording_options(context: Context) -> Iterator[Diagnostic]:
    for element, _, body in context.tagged("StartRecording"):
        if body.context != "conference":
            continue
        for attribute in element.attributes:
            reason = IGNORED_IN_CONFERENCE_RECORDINGS.get(attribute.name)
            if reason is None or (isinstance(attribute.value, Word) and attribute.value.value == "false"):
                continue
            yield diagnostic("FC311", f"`{attribute.written or attribute.name}` has no effect when recording a "
                             "conference", attribute.span, help=reason, fix=removal(attribute))


# -- conference names --------------------------------------------------------------------------------------

NAME_CHARACTERS = FILTERS["safe"].characters  # what a conference name may hold is what `|safe` keeps
MAX_NAME_LENGTH = 100
VALID_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
DIGITS = FILTERS["digits"].characters
KEYPAD = frozenset("0123456789*#")
ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class Shape:
    """What a webhook payload field can hold: its characters (None: anything) and length bounds."""

    description: str
    min: int
    max: int | None
    characters: frozenset[str] | None

    def filtered(self, name: str | None) -> Shape:
        if name is None:
            return self
        keep = FILTERS[name].characters
        characters = keep if self.characters is None else self.characters & keep
        lossless = self.characters is not None and self.characters <= keep
        return Shape(self.description, self.min if lossless else 0, self.max, characters)

    @property
    def forbidden(self) -> str:
        if self.characters is None:
            return "any character"
        return " ".join(f"`{c}`" for c in sorted(self.characters - NAME_CHARACTERS))


PHONE = Shape("a phone number", 2, 16, frozenset("+0123456789"))
CALL_ID = Shape("a call id", 3, 50, ID_CHARACTERS)
FIELD_SHAPES: dict[str, Shape] = {
    "from": PHONE, "to": PHONE, "transferCallerId": PHONE, "transferTo": PHONE,
    "callId": CALL_ID, "parentCallId": CALL_ID,
    "conferenceId": Shape("a conference id", 5, 60, ID_CHARACTERS),
    "recordingId": Shape("a recording id", 3, 50, ID_CHARACTERS),
    "accountId": Shape("an account id", 1, 20, DIGITS),
    "applicationId": Shape("an application id", 36, 36, ID_CHARACTERS),
    "digits": Shape("the digits pressed", 0, 50, KEYPAD),
    "terminatingDigit": Shape("a keypad digit", 0, 1, KEYPAD),
    "direction": Shape("inbound or outbound", 7, 8, NAME_CHARACTERS),
    "eventType": Shape("an event type", 1, 40, NAME_CHARACTERS),
    "name": Shape("a conference name", 1, MAX_NAME_LENGTH, NAME_CHARACTERS),
    "tag": Shape("a tag", 0, 256, None),
}


def conference_names(context: Context) -> Iterator[Text]:
    """Every conference name to check once: declarations, and joins by literal name."""
    for conference in context.conferences.values():
        yield conference.conference_name
    for element, _, _ in context.tagged("Conference"):
        if element.conference is None:
            yield from element.texts


@rule
def conference_name_rules(context: Context) -> Iterator[Diagnostic]:
    for name in conference_names(context):
        literal = name.literal
        if literal is not None and VALID_NAME.fullmatch(literal):
            continue  # the common case, decided by one regex
        yield from check_conference_name(name, quoted=not context.is_xml(name.span.file))


def check_conference_name(name: Text, quoted: bool = True) -> Iterator[Diagnostic]:
    """`quoted`: the span includes the quotes of a .flow string (BXML text content has none)."""
    literal_length = 0
    low = high = 0
    unbounded = False
    for part, span in _part_spans(name, quoted):
        if isinstance(part, str):
            literal_length += len(part)
            yield from _forbidden_literal(name, part, span, quoted)
            continue
        shape = FIELD_SHAPES.get(part.name) if part.source == "payload" else None
        if shape is None:
            unbounded = True  # a hook or an unknown field: the generated handler checks it per request
            continue
        shape = shape.filtered(part.filter)
        low += shape.min
        high += shape.max or 0
        if shape.characters is None or not shape.characters <= NAME_CHARACTERS:
            yield _forbidden_slot(name, part, shape)
    low += literal_length
    high += literal_length
    if name.literal == "":
        yield diagnostic("FC304", "the conference name is empty", name.span,
                         help="a conference name has 1 to 100 letters, digits, `-`, `_` or `.`")
    elif low > MAX_NAME_LENGTH:
        what = f"{literal_length} characters" if name.literal is not None else f"at least {low} characters"
        yield diagnostic("FC304", f"the conference name is {what}; at most {MAX_NAME_LENGTH} are allowed", name.span)
    elif not unbounded and high > MAX_NAME_LENGTH:
        yield diagnostic("FC306", f"the conference name can be up to {high} characters once its runtime values are "
                         f"filled in; at most {MAX_NAME_LENGTH} are allowed", name.span,
                         help="shorten the literal part or use a shorter value; calls whose name is too long fail "
                         "to join")


def _part_spans(name: Text, quoted: bool) -> Iterator[tuple[str | Slot, Span | None]]:
    """Each part with its exact span in the source, when it can be known (no escapes in literal parts)."""
    if name.span == getattr(name.parts[0], "span", None):  # `$to`: the value is one slot
        yield name.parts[0], name.parts[0].span  # type: ignore[union-attr]
        return
    quote = 1 if quoted else 0
    position = name.span.start + quote  # after the opening quote
    for index, part in enumerate(name.parts):
        if isinstance(part, Slot):
            yield part, part.span
            position = part.span.end
            continue
        following = name.parts[index + 1] if index + 1 < len(name.parts) else None
        end = following.span.start if isinstance(following, Slot) else name.span.end - quote
        exact = end - position == len(part)
        yield part, Span(name.span.file, position, end) if exact else None
        position = end


def _forbidden_literal(name: Text, part: str, span: Span | None, quoted: bool) -> Iterator[Diagnostic]:
    bad = [i for i, c in enumerate(part) if c not in NAME_CHARACTERS]
    if not bad:
        return
    characters = ", ".join(f"`{c}`" if c != " " else "a space" for c in dict.fromkeys(part[i] for i in bad))
    where = Span(span.file, span.start + bad[0], span.start + bad[0] + 1) if span else name.span
    fix = None
    if name.literal is not None and span is not None:
        cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name.literal).strip("-") or "conference"
        fix = Fix(f"use `{cleaned}`", (Edit(name.span, f'"{cleaned}"' if quoted else cleaned),), safe=False)
    yield diagnostic("FC304", f"a conference name cannot contain {characters}", where,
                     labels=[Label(name.span, "in this conference name")] if where != name.span else [],
                     help="a conference name has 1 to 100 letters, digits, `-`, `_` or `.`", fix=fix)


def _forbidden_slot(name: Text, slot: Slot, shape: Shape) -> Diagnostic:
    whole_value = name.span == slot.span  # `$from` rather than "...{from}..."
    filtered = f"{{{slot.name}|safe}}"
    replacement = f'"{filtered}"' if whole_value else filtered
    return diagnostic(
        "FC305", f"`{slot.name}` is {shape.description} and can contain {shape.forbidden}, which a conference name "
        "cannot", slot.span,
        help=f"write `{filtered}` to keep only letters, digits, `-`, `_` and `.`"
        + (f", or `{{{slot.name}|digits}}`" if shape.characters and DIGITS & shape.characters else ""),
        notes=["the generated handler checks the name again when the call arrives"],
        fix=Fix(f"use `{filtered}`", (Edit(slot.span, replacement),)),
    )


# -- conference membership ---------------------------------------------------------------------------------

MAX_CONFERENCE_CALLS = 20
WEBHOOK_SETTINGS = ("conferenceEventUrl", "conferenceEventMethod", "conferenceEventFallbackUrl",
                    "conferenceEventFallbackMethod", "username", "password", "fallbackUsername", "fallbackPassword",
                    "tag", "callbackTimeout")


@dataclass
class Join:
    element: Element
    body: Body
    key: str | None  # the conference name pattern ("support-{to|safe}"); joins with equal keys share a room
    settings: dict[str, Attribute]
    declared: Conference | None


def name_pattern(name: Text) -> str:
    return "".join(p if isinstance(p, str) else f"{{{p.source}:{p.name}|{p.filter or ''}}}" for p in name.parts)


def joins(context: Context) -> list[Join]:
    found = []
    for element, _, body in context.tagged("Conference"):
        declared = context.conferences.get(element.conference) if element.conference else None
        settings = {}
        if declared is not None:
            key = name_pattern(declared.conference_name)
            settings = {a.name: a for a in declared.settings}
            if "conferenceEventUrl" not in settings and declared.handlers:
                path = CONFERENCE_PATH.format(name=declared.name)
                settings["conferenceEventUrl"] = Attribute("conferenceEventUrl", Text([path], declared.name_span),
                                                           declared.name_span, declared.name_span, "")
        else:
            texts = element.texts
            key = name_pattern(texts[0]) if texts and element.conference is None else None
        settings.update((a.name, a) for a in element.attributes)
        found.append(Join(element, body, key, settings, declared))
    return found


@rule
def conference_membership(context: Context) -> Iterator[Diagnostic]:
    all_joins = joins(context)
    yield from coach_list_size(all_joins, context)
    by_room: dict[str, list[Join]] = {}
    for join in all_joins:
        if join.key is not None:
            by_room.setdefault(join.key, []).append(join)
    for room in by_room.values():
        yield from one_coach(room, context)
        if len(room) > 1:
            yield from consistent_settings(room, context)


def coach_list_size(all_joins: list[Join], context: Context) -> Iterator[Diagnostic]:
    for join in all_joins:
        coach = join.settings.get("callIdsToCoach")
        if coach is None:
            continue
        items = coach.value.items if isinstance(coach.value, ListValue) else [coach.value]
        coached = sum(1 for item in items if not isinstance(item, Slot))
        if coached + 1 > MAX_CONFERENCE_CALLS:
            yield diagnostic("FC307", f"this coach and the {coached} calls it coaches make {coached + 1} calls; a "
                             f"conference holds at most {MAX_CONFERENCE_CALLS}", coach.value.span,
                             help=f"coach at most {MAX_CONFERENCE_CALLS - 1} calls per conference",
                             notes=["coaching does not add the listed calls: each joins with its own `join`, and "
                                    "all of them count towards the limit"])


def one_coach(room: list[Join], context: Context) -> Iterator[Diagnostic]:
    coaches: dict[int, Join] = {}
    for join in room:
        if "callIdsToCoach" in join.settings:
            coaches.setdefault(id(join.body.owner), join)
    if len(coaches) < 2:
        return
    first, *others = coaches.values()
    for join in others:
        span = join.settings["callIdsToCoach"].span
        yield diagnostic("FC308", f"{_where(join, context)} also joins {_room(join)} as coach", span,
                         labels=[Label(first.settings["callIdsToCoach"].span,
                                       f"{_where(first, context)} coaches it here")],
                         help="a conference can have only one coach at a time; make sure these cannot run for "
                         "the same conference at once",
                         notes=["coaching does not add the coached calls to the conference"])


def consistent_settings(room: list[Join], context: Context) -> Iterator[Diagnostic]:
    """Compare every join of a room with the first one; one diagnostic per join lists all its differences."""
    spec = context.vocab.elements["Conference"]
    present = [name for name in WEBHOOK_SETTINGS if any(name in join.settings for join in room)]
    if not present:
        return
    first, *others = room
    expected = {name: _setting_value(first.settings.get(name), spec.attributes[name].default) for name in present}
    for join in others:
        differing = [name for name in present
                     if _setting_value(join.settings.get(name), spec.attributes[name].default) != expected[name]]
        if not differing:
            continue
        name = differing[0]
        value = _setting_value(join.settings.get(name), spec.attributes[name].default)
        span = join.settings[name].span if name in join.settings else join.element.keyword_span
        other = first.settings[name].span if name in first.settings else first.element.keyword_span
        where = ("elsewhere in " if join.body.owner is first.body.owner else "in ") + _where(first, context)
        names = ", ".join(f"`{_alias(n, spec)}`" for n in differing)
        own = join.declared is not None and all(join.settings.get(n) in join.element.attributes for n in differing)
        yield diagnostic(
            "FC309", f"joins of {_room(join)} disagree on {names}: `{_alias(name, spec)}` is {_describe(value)} "
            f"here, {_describe(expected[name])} {where}", span,
            labels=[Label(other, f"{_describe(expected[name])} here")],
            help="only the call that creates the conference decides its webhook settings; Bandwidth silently "
            "ignores them on every later join. " + (
                f"Conference `{join.declared.name}` is declared: set them on its declaration only, not on this join"
                if own else
                "Declare them once with `conference NAME \"name\" { ... }` and use `join NAME` everywhere"),
        )


def _setting_value(attribute: Attribute | None, default) -> str | None:
    if attribute is None:
        return None if default is None else str(default)
    value = attribute.value
    if isinstance(value, Text):
        return '"' + name_pattern(value) + '"'
    if isinstance(value, Number):
        return format_number(value.in_unit("s"))
    if isinstance(value, Word):
        return value.value
    if isinstance(value, Env):
        return f"env({value.name})"
    if isinstance(value, Slot):
        return f"${value.name}"
    return ",".join(str(_setting_value(Attribute("", item, item.span, item.span, ""), None)) for item in value.items)


def _describe(value: str | None) -> str:
    if value is None:
        return "not set"
    return re.sub(r"\{payload:([^|}]*)\|\}", r"{\1}", value).replace("{payload:", "{")


def _alias(setting: str, spec: ElementSpec) -> str:
    aliases = spec.attributes[setting].aliases
    return aliases[0] if aliases else setting


def _room(join: Join) -> str:
    return f"conference `{join.declared.name}`" if join.declared else f'conference "{_describe(join.key)}"'


def _where(join: Join, context: Context) -> str:
    owner = join.body.owner
    if context.is_xml(owner.span.file):
        return owner.span.file
    return f"flow `{owner.name}`" if isinstance(owner, Flow) else f"conference `{owner.name}`"


# -- flow logic --------------------------------------------------------------------------------------------

ALWAYS_TAKES_OVER = ("Hangup", "Forward", "Redirect")
TAKES_OVER_WITH = {"Gather": "gatherUrl", "Record": "recordCompleteUrl", "Transfer": "transferCompleteUrl",
                   "Bridge": "bridgeCompleteUrl", "Refer": "referCompleteUrl"}


def takes_over(element: Element) -> bool:
    """Whether the rest of the document can never run after this verb."""
    if element.tag in ALWAYS_TAKES_OVER:
        return True
    url = TAKES_OVER_WITH.get(element.tag)
    return url is not None and element.attribute(url) is not None


@rule
def statement_order(context: Context) -> Iterator[Diagnostic]:
    for body in context.bodies:
        if body.context in ("call", "transfer-answer") and len(body.elements) > 1:
            yield from _order(body.elements, context)


def _order(elements: list[Element], context: Context) -> Iterator[Diagnostic]:
    join_index: int | None = None
    for index, element in enumerate(elements):
        if takes_over(element):
            if join_index is not None and index > join_index:
                yield _after_join(elements[join_index], elements[join_index + 1 : index + 1], context)
            if index + 1 < len(elements):
                yield _dead(element, elements[index + 1 :])
            return
        if element.tag == "Conference" and join_index is None:
            room = context.conferences.get(element.conference) if element.conference else None
            if room is not None and room.policy is not None:
                continue  # a room's join: what follows is where the call goes on when the room ends (flowc.rooms)
            join_index = index
    if join_index is not None and join_index + 1 < len(elements):
        yield _after_join(elements[join_index], elements[join_index + 1 :], context)


@rule
def shadowed_branch_values(context: Context) -> Iterator[Diagnostic]:
    """`when digits "1"` twice: the web app serves the first branch that matches, so the later value is dead."""
    for flow in context.flows.values():
        earlier: dict[tuple[str, str], Span] = {}
        for branch in flow.branches:
            pairs = list(zip(branch.values, branch.value_spans, strict=False))
            shadowed = [(value, span) for value, span in pairs if (branch.field, value) in earlier]
            what = "this branch never runs" if len(shadowed) == len(pairs) else "this value never selects this branch"
            for value, span in shadowed:
                yield diagnostic("FC405", f"{what}: `{branch.field}` \"{value}\" is matched by an earlier branch",
                                 span, labels=[Label(earlier[(branch.field, value)], "matched here first")],
                                 help="the web app serves the first branch whose values include the payload's "
                                 "field; remove the repeated value")
            for value, span in pairs:
                earlier.setdefault((branch.field, value), span)


def _dead(takeover: Element, after: list[Element]) -> Diagnostic:
    first, last = after[0], after[-1]
    span = first.span.cover(last.span)
    count = f"these {len(after)} statements never run" if len(after) > 1 else "this statement never runs"
    how = {"Hangup": "the call ends here", "Forward": "the call is forwarded here",
           }.get(takeover.tag, "the call continues with the BXML this verb's webhook returns")
    return diagnostic("FC405", count, span, labels=[Label(takeover.keyword_span, how)],
                      fix=Fix("remove the statements that never run",
                              (Edit(Span(span.file, takeover.span.end, last.span.end), ""),), safe=False))


def _after_join(join: Element, after: list[Element], context: Context) -> Diagnostic:
    span = after[0].span.cover(after[-1].span)
    what = "this statement runs" if len(after) == 1 else f"these {len(after)} statements run"
    return diagnostic("FC406", f"{what} only after the call leaves the conference", span,
                      labels=[Label(join.keyword_span, "the call stays in the conference until it leaves")],
                      help=f"move {'it' if len(after) == 1 else 'them'} before the "
                      f"{'<Conference>' if context.is_xml(join.span.file) else 'join'} to run first")


__all__ = ["check_project", "RULES", "is_flow_reference", "Severity", "check_conference_name", "FIELD_SHAPES"]
