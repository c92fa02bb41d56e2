"""The checker: every rule that can be known before a call, run over the whole project.

Rules are small functions registered with @rule; each reads the IR, the name-resolution links and the
vocabulary table, and yields diagnostics. Value rules are driven entirely by the table (types, enums, ranges,
lengths), so they cover every attribute of every verb.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flowc.codes import CODES
from flowc.diagnostics import Diagnostic, Edit, Fix, Label, Severity, Span, did_you_mean
from flowc.ir import Attribute, Element, Env, ListValue, Number, Project, Slot, Text, Value, Word, walk
from flowc.links import Links, bodies, is_flow_reference, resolve
from flowc.vocabulary import AttributeSpec, ElementSpec, Vocabulary, vocabulary


@dataclass
class Context:
    project: Project
    links: Links
    vocab: Vocabulary


Rule = Callable[[Context], Iterator[Diagnostic]]
RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    RULES.append(function)
    return function


def diagnostic(code: str, message: str, span: Span, **extra) -> Diagnostic:
    severity = extra.pop("severity", CODES[code].severity)
    return Diagnostic(code, severity, message, span, **extra)


def check_project(project: Project) -> list[Diagnostic]:
    context = Context(project, resolve(project), vocabulary())
    diagnostics: list[Diagnostic] = []
    for check in RULES:
        diagnostics.extend(check(context))
    return diagnostics


def all_elements(context: Context) -> Iterator[tuple[Element, ElementSpec]]:
    for _, body in bodies(context.project):
        for element in walk(body):
            yield element, context.vocab.elements[element.tag]


def keyword(element: Element, context: Context) -> str:
    return context.vocab.elements[element.tag].keyword


# -- names -------------------------------------------------------------------------------------------------


@rule
def duplicate_names(context: Context) -> Iterator[Diagnostic]:
    for kind in ("flows", "conferences"):
        seen: dict[str, Span] = {}
        for file in context.project.files:
            for declaration in getattr(file, kind):
                first = seen.get(declaration.name)
                if first is None:
                    seen[declaration.name] = declaration.name_span
                    continue
                yield diagnostic("FC111", f"`{declaration.name}` is defined twice", declaration.name_span,
                                 labels=[Label(first, "first defined here")],
                                 help="rename one of them")


@rule
def undefined_flows(context: Context) -> Iterator[Diagnostic]:
    flows = context.links.flows
    for reference in context.links.references:
        if reference.flow in flows:
            continue
        span = reference.attribute.value.span
        guess = did_you_mean(reference.flow, flows)
        yield diagnostic(
            "FC401", f"no flow named `{reference.flow}`", span,
            help=f"did you mean `{guess}`?" if guess else "define it with `flow NAME { ... }`, or give a URL in quotes",
            fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None,
        )


@rule
def undefined_conferences(context: Context) -> Iterator[Diagnostic]:
    conferences = context.project.conferences
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


# -- values ------------------------------------------------------------------------------------------------

URL = re.compile(r"^(https?|wss?)://[^\s/$.?#][^\s]*$", re.IGNORECASE)
RELATIVE_URL = re.compile(r"^(/|\./|\.\./)?[A-Za-z0-9._~!$&'()*+,;=:@%/?#\[\]-]*$")


@rule
def attribute_values(context: Context) -> Iterator[Diagnostic]:
    for element, spec in all_elements(context):
        seen: dict[str, Attribute] = {}
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is None:
                continue
            if attribute.name in seen:
                yield diagnostic("FC206", f"`{attribute.written or attribute.name}` is set twice", attribute.span,
                                 labels=[Label(seen[attribute.name].span, "first set here")],
                                 fix=Fix("remove the second one", (Edit(attribute.span, ""),)))
            seen[attribute.name] = attribute
            yield from check_value(attribute, attribute_spec, spec)


def check_value(attribute: Attribute, spec: AttributeSpec, element: ElementSpec) -> Iterator[Diagnostic]:
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
        yield from check_number(value, spec, written)
    elif kind in ("enum", "http_method"):
        yield from check_enum(value, spec, written)
    elif kind == "url":
        yield from check_url(attribute, spec, written)
    elif kind in ("string", "ssml_time"):
        yield from check_text(value, spec, written)
    elif kind == "csv_list":
        for item in value.items if isinstance(value, ListValue) else [value]:
            if not isinstance(item, Text | Slot | Word):
                yield diagnostic("FC201", f"`{written}` takes a list of text values", item.span)


def check_number(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    if not isinstance(value, Number):
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
        bounds = f"from {_number(low)} to {_number(high)}" if low is not None and high is not None else (
            f"at most {_number(high)}" if high is not None else f"at least {_number(low)}")
        yield diagnostic("FC203", f"`{written}` is {_number(amount)}{unit}, but must be {bounds}{unit}", value.span)


def check_enum(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    choice = value.value if isinstance(value, Word) else value.literal if isinstance(value, Text) else None
    if choice is None:
        yield diagnostic("FC201", f"`{written}` takes one of: {', '.join(spec.enum)}", value.span)
        return
    if choice in spec.enum:
        return
    guess = did_you_mean(choice, spec.enum)
    yield diagnostic("FC202", f"`{choice}` is not a valid `{written}`", value.span,
                     help=(f"did you mean `{guess}`? " if guess else "") + "allowed: " + ", ".join(spec.enum),
                     fix=Fix(f"use `{guess}`", (Edit(value.span, guess),)) if guess else None)


def check_url(attribute: Attribute, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    value = attribute.value
    if isinstance(value, Word):
        if not spec.reply_bxml:
            yield diagnostic("FC201", f"`{written}` takes a URL in quotes; its webhook takes no BXML, so it cannot "
                             "name a flow", value.span)
        return  # a flow name: resolved by undefined_flows
    if not isinstance(value, Text):
        yield diagnostic("FC201", f"`{written}` takes a URL", value.span)
        return
    literal = value.literal
    if literal is None:
        return
    if URL.match(literal):
        return
    if spec.relative_ok and literal and RELATIVE_URL.match(literal) and "://" not in literal:
        return
    where = "an absolute http(s) URL" + (" or a relative path" if spec.relative_ok else "")
    yield diagnostic("FC205", f"`{literal}` is not {where}", value.span)


def check_text(value: Value, spec: AttributeSpec, written: str) -> Iterator[Diagnostic]:
    if isinstance(value, Env):
        return
    if isinstance(value, Number) and spec.type == "ssml_time":
        return
    if not isinstance(value, Text | Word | Number):
        yield diagnostic("FC201", f"`{written}` takes text", value.span)
        return
    if isinstance(value, Text) and spec.max_length is not None:
        literal = "".join(p for p in value.parts if isinstance(p, str))
        if len(literal) > spec.max_length:
            yield diagnostic("FC204", f"`{written}` is {len(literal)} characters; at most {spec.max_length} "
                             "are allowed", value.span)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:g}"


@rule
def literal_passwords(context: Context) -> Iterator[Diagnostic]:
    def settings():
        for element, spec in all_elements(context):
            yield from ((a, spec.attributes.get(a.name)) for a in element.attributes)
        for conference in context.project.conferences.values():
            spec = context.vocab.elements["Conference"]
            yield from ((a, spec.attributes.get(a.name)) for a in conference.settings)

    for attribute, spec in settings():
        if spec is not None and spec.is_secret and isinstance(attribute.value, Text) and attribute.value.literal:
            variable = re.sub(r"(?<!^)(?=[A-Z])", "_", spec.name).upper()
            yield diagnostic("FC404", f"`{attribute.written or spec.name}` is written in the file", attribute.value.span,
                             help=f"read it from the environment: `env({variable})`",
                             fix=Fix(f"use env({variable})", (Edit(attribute.value.span, f"env({variable})"),),
                                     safe=False))


@rule
def conference_settings_values(context: Context) -> Iterator[Diagnostic]:
    spec = context.vocab.elements["Conference"]
    for conference in context.project.conferences.values():
        for attribute in conference.settings:
            attribute_spec = spec.attributes.get(attribute.name)
            if attribute_spec is not None:
                yield from check_value(attribute, attribute_spec, spec)


# -- structure ---------------------------------------------------------------------------------------------


@rule
def required_content(context: Context) -> Iterator[Diagnostic]:
    for element, spec in all_elements(context):
        if spec.text and spec.text.get("required") and not element.content and element.conference is None:
            yield diagnostic("FC207", f"`{spec.keyword}` needs {_content_name(spec)}", element.keyword_span)


def _content_name(spec: ElementSpec) -> str:
    return {"PlayAudio": "the URL of the audio to play", "Conference": "the name of the conference to join",
            "SpeakSentence": "the text to speak", "SendDtmf": "the digits to send", "Bridge": "the call id to "
            "bridge with", "PhoneNumber": "a phone number", "SipUri": "a SIP URI", "Endpoint": "an endpoint id",
            }.get(spec.name, "text content")


CHILD_LIMITS = {"Transfer": (1, 8), "StartStream": (0, 12), "StartTranscription": (0, 12), "Refer": (1, 1),
                "Connect": (1, None)}


@rule
def child_counts(context: Context) -> Iterator[Diagnostic]:
    for element, spec in all_elements(context):
        count = len(element.children)
        if element.tag in CHILD_LIMITS:
            low, high = CHILD_LIMITS[element.tag]
            if count < low or (high is not None and count > high):
                what = "destinations" if element.tag in ("Transfer", "Refer") else (
                    "endpoints" if element.tag == "Connect" else "parameters")
                bound = f"{low} to {high}" if high is not None and high != low else (
                    f"exactly {low}" if high == low else f"at least {low}")
                yield diagnostic("FC208", f"`{spec.keyword}` has {count} {what}; it takes {bound}",
                                 element.keyword_span)
        if element.tag == "Gather":
            repeat = element.attribute("repeatCount")
            times = repeat.value.value if repeat and isinstance(repeat.value, Number) else 1
            if count * times > 20:
                yield diagnostic("FC208", f"{count} prompts repeated {_number(times)} times is {_number(count * times)} "
                                 "prompts; Bandwidth allows at most 20", element.keyword_span)


# -- contexts ----------------------------------------------------------------------------------------------


@rule
def conference_replies(context: Context) -> Iterator[Diagnostic]:
    allowed = context.vocab.contexts["conference"]
    for conference in context.project.conferences.values():
        for handler in conference.handlers:
            if handler.event in ("conferenceCompleted", "conferenceRecordingAvailable"):
                for element in handler.body:
                    yield diagnostic("FC303", f"Bandwidth ignores BXML in the reply to {handler.event}",
                                     element.keyword_span,
                                     fix=Fix("remove it", (Edit(element.span, ""),)))
                continue
            for element in handler.body:
                if element.tag not in allowed:
                    yield diagnostic("FC301", f"`{keyword(element, context)}` cannot be used in a conference reply",
                                     element.keyword_span,
                                     help="allowed: " + ", ".join(context.vocab.elements[n].keyword for n in sorted(allowed)),
                                     fix=Fix("remove it", (Edit(element.span, ""),), safe=False))


@rule
def transfer_answer_replies(context: Context) -> Iterator[Diagnostic]:
    allowed = context.vocab.contexts["transfer-answer"]
    for flow in context.project.flows.values():
        if context.links.context(flow.name) != "transfer-answer":
            continue
        bodies_ = [flow.body] + [b.body for b in flow.branches]
        for body in bodies_:
            for element in body:
                if element.tag not in allowed:
                    yield diagnostic("FC302", f"`{keyword(element, context)}` cannot run in a transfer answer",
                                     element.keyword_span,
                                     help=f"flow `{flow.name}` answers transferAnswer (the called party, before "
                                     "bridging)")


def flow_reference_spans(context: Context) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = {}
    for reference in context.links.references:
        spans.setdefault(reference.flow, []).append(reference.attribute.value.span)
    return spans


__all__ = ["check_project", "RULES", "is_flow_reference", "Severity"]
