"""Values: every attribute's value against its vocabulary entry (types, enums, ranges, lengths, URLs), phone
numbers and SIP addresses written as literals, passwords written in the file, credentials nothing uses."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from flowc.bxml.vocabulary import CONFERENCE, UNIT_NAMES, AttributeSpec, ElementSpec, format_number, vocabulary
from flowc.check.common import CheckContext, diagnostic, phrase_span, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span, did_you_mean
from flowc.semantics.ir import Attribute, Env, ListValue, Number, Slot, Text, Value, Word

URL = re.compile(r"^(https?|wss?)://[^\s/$.?#][^\s]*$", re.IGNORECASE)
RELATIVE_URL = re.compile(r"^(/|\./|\.\./)?[A-Za-z0-9._~!$&'()*+,;=:@%/?#\[\]-]*$")
HOST_WITHOUT_SCHEME = re.compile(r"^(www\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(:[0-9]+)?(/|$)")
DAY_SECONDS = 24 * 3600


@rule("FC201", "FC202", "FC203", "FC204", "FC205", "FC206", "FC310",
      on_attributes={"FC310": lambda element, attribute: attribute.unit is not None})
def attribute_values(context: CheckContext) -> Iterator[Diagnostic]:
    rules_of = context.vocab.context_rules
    for element, spec, body in context.sites:
        if not element.attributes:
            continue
        conference_scope = body.joins or rules_of[body.context] is CONFERENCE
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
    if type(value) is Word:
        if spec.type == "boolean":
            return value.value in ("true", "false")
        if spec.type in ("enum", "http_method"):
            return value.value in spec.enum
        return spec.type == "url" and spec.reply_bxml  # a flow name
    if type(value) is Text:
        return spec.type == "string" and spec.max_length is None and spec.pattern is None
    if type(value) is Number and spec.type in ("integer", "decimal") and (spec.unit or not value.unit):
        amount = value.in_unit(spec.unit)
        return (spec.type == "decimal" or amount == int(amount)) and (spec.min is None or amount >= spec.min) and (
            spec.max is None or amount <= spec.max)
    return type(value) is Slot


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
        if low is not None and high is not None:
            bounds = f"from {format_number(low)} to {format_number(high)}"
        else:
            bounds = f"at most {format_number(high)}" if high is not None else f"at least {format_number(low or 0)}"
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
    if spec.websocket:
        return  # a WebSocket URL: websocket_urls (FC213, FC214)
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


WEBSOCKET_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@rule("FC213", "FC214", on_attributes={code: lambda element, attribute: attribute.websocket
                                       for code in ("FC213", "FC214")})
def websocket_urls(context: CheckContext) -> Iterator[Diagnostic]:
    """A stream or transcription destination is a WebSocket URL: wss://, or ws:// with a warning."""
    for element, spec, body in context.sites:
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            value = attribute.value
            if attribute_spec is None or not attribute_spec.websocket or not isinstance(value, Text):
                continue
            literal = value.literal  # else the literal start of `"wss://{host}/audio"`
            if literal is None:
                literal = value.parts[0] if value.parts and isinstance(value.parts[0], str) else ""
            scheme = WEBSOCKET_SCHEME.match(literal.strip())
            if scheme is not None and scheme.group(1).lower() == "wss":
                continue
            written = attribute.written or attribute.name
            quoted = not context.is_xml(body.file)
            if scheme is not None and scheme.group(1).lower() == "ws":
                yield diagnostic("FC214", f"`{written}` is an unencrypted WebSocket URL (`ws://`)", value.span,
                                 help="the call's audio would cross the internet in the clear: use `wss://`",
                                 fix=_scheme_fix(value, literal, quoted))
            elif value.literal is not None or literal.strip():  # (not `"{url}"`: known at run time only)
                yield diagnostic("FC213", f"`{written}` must be a WebSocket URL (`wss://...`), not `{literal}`",
                                 value.span, help="Bandwidth opens a WebSocket to this address",
                                 fix=_scheme_fix(value, literal, quoted) if scheme is not None else None)


def _scheme_fix(value: Text, literal: str, quoted: bool) -> Fix | None:
    if value.literal is None:
        return None  # `"ws://{host}/a"`: its runtime parts cannot be rewritten as one literal
    rest = literal.strip().split("://", 1)[1]
    return Fix("use wss://", (Edit(value.span, _replacement(f"wss://{rest}", quoted)),), safe=False)


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


ADDRESS_ELEMENTS = tuple(dict.fromkeys(tag for tag, _ in vocabulary().addresses))


@rule("FC212", elements=ADDRESS_ELEMENTS)
def addresses(context: CheckContext) -> Iterator[Diagnostic]:
    """Phone numbers and SIP URIs written as literals (where the vocabulary says so); runtime values are left
    to Bandwidth."""
    for (tag, attribute_name), shape in context.vocab.addresses.items():
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
    if _address_pattern(shape).fullmatch(literal):
        return
    fix = None
    digits = re.sub(r"[\s().-]", "", literal)
    if "E.164" in shape and re.fullmatch(r"\+?[1-9][0-9]{10,14}", digits):  # long enough to hold a country code
        fix = Fix(f"write `+{digits.lstrip('+')}`", (Edit(_inner(value), f"+{digits.lstrip('+')}"),), safe=False)
    what = {"E.164": "a phone number", "SIP URI": "a SIP URI"}.get(shape, "a phone number or SIP URI")
    yield diagnostic("FC212", f"`{literal}` is not {what}", value.span,
                     help="phone numbers are written +, country code, number (+15551234567); SIP addresses "
                     "start with `sip:`", fix=fix)


@functools.cache
def _address_pattern(shape: str) -> re.Pattern[str]:
    return re.compile(vocabulary().address_pattern(shape))


def _inner(value: Value) -> Span:
    """The span of a literal's characters, inside the quotes when it was written as a string."""
    span = value.span
    return Span(span.file, span.start + 1, span.end - 1) if isinstance(value, Text) and _quoted(value) else span


def _quoted(value: Text) -> bool:
    return value.span.end - value.span.start == len(value.literal or "") + 2


@rule("FC205")
def content_urls(context: CheckContext) -> Iterator[Diagnostic]:
    """`play "..."`: the audio URL is the element's text; relative URLs resolve against the document's URL."""
    url_elements = [n for n, spec in context.vocab.elements.items() if (spec.text or {}).get("type") == "url"]
    for element, _, body in context.tagged(*url_elements):
        for text in element.texts:
            yield from check_url_text(text, relative_ok=True, quoted=not context.is_xml(body.file))


SECRETS = frozenset(a.name for e in vocabulary().elements.values() for a in e.attributes.values() if a.is_secret)


@rule("FC404", on_attributes={"FC404": lambda element, attribute: attribute.is_secret})
def literal_passwords(context: CheckContext) -> Iterator[Diagnostic]:
    def settings() -> Iterator[tuple[Attribute, AttributeSpec | None]]:
        for element, spec, body in context.sites:
            for attribute in element.attributes:
                # BXML files have no env(): a literal is their only option there
                if attribute.name in SECRETS and not context.is_xml(body.file):
                    yield attribute, spec.attributes.get(attribute.name)
        for conference in context.conferences.values():
            spec = context.vocab.join
            yield from ((a, spec.attributes.get(a.name)) for a in conference.settings)

    for attribute, spec in settings():
        if spec is not None and spec.is_secret and isinstance(attribute.value, Text) and attribute.value.literal:
            variable = re.sub(r"(?<!^)(?=[A-Z])", "_", spec.name).upper()
            written = attribute.written or spec.name
            which = "the fallback password" if spec.name in context.vocab.fallback_credentials else "the password"
            yield diagnostic("FC404", f"{which} of `{written}` is written in the file as plain text",
                             attribute.value.span,
                             help=f"read it from the environment: `env({variable})`",
                             fix=Fix(f"use env({variable})", (Edit(attribute.value.span, f"env({variable})"),),
                                     safe=False))


@rule("FC201", "FC202", "FC203", "FC204", "FC205", elements=("Conference",))
def conference_settings_values(context: CheckContext) -> Iterator[Diagnostic]:
    spec = context.vocab.join
    for conference in context.conferences.values():
        for attribute in conference.settings:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is not None and not _plainly_valid(attribute.value, attribute_spec):
                yield from check_value(attribute, attribute_spec, spec)


@rule("FC210")
def unused_fallback_credentials(context: CheckContext) -> Iterator[Diagnostic]:
    def unused(attributes: list[Attribute], spec: ElementSpec) -> Iterator[Diagnostic]:
        fallback_urls = [n for n in spec.attributes if n.endswith("FallbackUrl")]
        if not fallback_urls or any(a.name in fallback_urls for a in attributes):
            return
        # `fallback auth USER PASSWORD` sets both attributes from one phrase: one report, one removal for it
        phrases: dict[Span, list[Attribute]] = {}
        for attribute in attributes:
            if attribute.name in fallback_credentials:
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

    fallback_credentials = context.vocab.fallback_credentials
    conference_spec = context.vocab.join
    for element, spec, _ in context.sites:
        for attribute in element.attributes:
            if attribute.name in fallback_credentials:
                declared = context.conferences.get(element.conference) if element.conference else None
                yield from unused((declared.settings if declared else []) + element.attributes, spec)
                break
    for conference in context.conferences.values():
        yield from unused(conference.settings, conference_spec)
