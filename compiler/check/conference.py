"""Conferences: the names of rooms (characters, length, runtime values that could break them) and the joins of
one room (call count, one coach, the webhook settings only the first join decides)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, Shape, format_number, vocabulary
from flowc.check.common import CheckContext, diagnostic, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span
from flowc.semantics.analysis import Join, name_pattern
from flowc.semantics.ir import FILTERS, Attribute, Env, Flow, ListValue, Number, Slot, Text, Word

JOIN = vocabulary().join.name  # the statement this module is about: `join`, <Conference>
COACH = "callIdsToCoach"  # the attribute that makes the joining call a coach
NAME_CHARACTERS = FILTERS["safe"].characters  # what a conference name may hold is what `|safe` keeps
MAX_NAME_LENGTH = vocabulary().limits.conference_name_length
VALID_NAME = re.compile(vocabulary().conference_name_pattern)
DIGITS = FILTERS["digits"].characters


def conference_names(context: CheckContext) -> Iterator[Text]:
    """Every conference name to check once: declarations, and joins by literal name."""
    for conference in context.conferences.values():
        yield conference.conference_name
    for element, _, _ in context.tagged(JOIN):
        if element.conference is None:
            yield from element.texts


@rule("FC304", "FC305", "FC306", elements=(JOIN,),
      on_elements={code: lambda spec: spec.name == JOIN for code in ("FC304", "FC305", "FC306")})
def conference_name_rules(context: CheckContext) -> Iterator[Diagnostic]:
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
        shape = vocabulary().fields.get(part.name) if part.source == "payload" else None
        if shape is None:
            unbounded = True  # a hook or an unknown field: the generated handler checks it per request
            continue
        shape = shape.filtered(FILTERS[part.filter].characters if part.filter else None)
        low += shape.min
        high += shape.max or 0
        if shape.characters is None or not shape.characters <= NAME_CHARACTERS:
            yield _forbidden_slot(name, part, shape)
    low += literal_length
    high += literal_length
    if name.literal == "":
        yield diagnostic("FC304", "the conference name is empty", name.span,
                         help=f"a conference name has 1 to {MAX_NAME_LENGTH} letters, digits, `-`, `_` or `.`")
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
                     help=f"a conference name has 1 to {MAX_NAME_LENGTH} letters, digits, `-`, `_` or `.`", fix=fix)


def _forbidden_slot(name: Text, slot: Slot, shape: Shape) -> Diagnostic:
    whole_value = name.span == slot.span  # `$from` rather than "...{from}..."
    filtered = f"{{{slot.name}|safe}}"
    replacement = f'"{filtered}"' if whole_value else filtered
    return diagnostic(
        "FC305", f"`{slot.name}` is {shape.description} and can contain {shape.forbidden(NAME_CHARACTERS)}, which a "
        "conference name "
        "cannot", slot.span,
        help=f"write `{filtered}` to keep only letters, digits, `-`, `_` and `.`"
        + (f", or `{{{slot.name}|digits}}`" if shape.characters and DIGITS & shape.characters else ""),
        notes=["the generated handler checks the name again when the call arrives"],
        fix=Fix(f"use `{filtered}`", (Edit(slot.span, replacement),)),
    )




def _coach(element: ElementSpec, attribute: AttributeSpec) -> bool:
    return attribute.name == COACH


@rule("FC307", "FC308", "FC309", elements=(JOIN,),
      on_elements={"FC309": lambda spec: spec.name == JOIN}, on_declarations=("FC309",),
      on_attributes={"FC307": _coach, "FC308": _coach, "FC309": lambda element, attribute: attribute.webhook_setting})
def conference_membership(context: CheckContext) -> Iterator[Diagnostic]:
    all_joins = context.joins
    yield from coach_list_size(all_joins, context)
    by_room: dict[str, list[Join]] = {}
    for join in all_joins:
        if join.key is not None:
            by_room.setdefault(join.key, []).append(join)
    for room in by_room.values():
        yield from one_coach(room, context)
        if len(room) > 1:
            yield from consistent_settings(room, context)


def coach_list_size(all_joins: list[Join], context: CheckContext) -> Iterator[Diagnostic]:
    for join in all_joins:
        coach = join.settings.get(COACH)
        if coach is None:
            continue
        items = coach.value.items if isinstance(coach.value, ListValue) else [coach.value]
        coached = sum(1 for item in items if not isinstance(item, Slot))
        most = context.vocab.limits.conference_calls
        if coached + 1 > most:
            yield diagnostic("FC307", f"this coach and the {coached} calls it coaches make {coached + 1} calls; a "
                             f"conference holds at most {most}", coach.value.span,
                             help=f"coach at most {most - 1} calls per conference",
                             notes=["coaching does not add the listed calls: each joins with its own `join`, and "
                                    "all of them count towards the limit"])


def one_coach(room: list[Join], context: CheckContext) -> Iterator[Diagnostic]:
    coaches: dict[int, Join] = {}
    for join in room:
        if COACH in join.settings:
            coaches.setdefault(id(join.body.owner), join)
    if len(coaches) < 2:
        return
    first, *others = coaches.values()
    for join in others:
        span = join.settings[COACH].span
        yield diagnostic("FC308", f"{_where(join, context)} also joins {_room(join)} as coach", span,
                         labels=[Label(first.settings[COACH].span,
                                       f"{_where(first, context)} coaches it here")],
                         help="a conference can have only one coach at a time; make sure these cannot run for "
                         "the same conference at once",
                         notes=["coaching does not add the coached calls to the conference"])


def consistent_settings(room: list[Join], context: CheckContext) -> Iterator[Diagnostic]:
    """Compare every join of a room with the first one; one diagnostic per join lists all its differences."""
    spec = context.vocab.join
    present = [name for name in context.vocab.webhook_settings if any(name in join.settings for join in room)]
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
                if own and join.declared is not None else
                "Declare them once with `conference NAME \"name\" { ... }` and use `join NAME` everywhere"),
        )


def _setting_value(attribute: Attribute | None, default: object) -> str | None:
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


def _where(join: Join, context: CheckContext) -> str:
    owner = join.body.owner
    if context.is_xml(owner.span.file):
        return owner.span.file
    return f"flow `{owner.name}`" if isinstance(owner, Flow) else f"conference `{owner.name}`"
