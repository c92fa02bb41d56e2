"""Completion: the statements valid at the cursor, attributes of the statement being typed, the values an
attribute takes (voices, locales, methods ...), and the project's flow and conference names.

Everything offered comes from the vocabulary table (statement keywords by where they may appear, attribute
spellings, enums) and from the last check (names); this module decides which applies at the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, vocabulary
from flowc.lsp.cursor import Cursor, Scope, match_attribute, match_keyword, words
from flowc.semantics.ir import FILTERS
from flowc.semantics.links import ENTRY_EVENTS
from flowc.semantics.lower import ATTEMPT_ELEMENT, BOOLEAN_WORDS, CONFERENCE_EVENTS, CREDENTIAL_PAIRS
from flowc.syntax.tree import Atom, Token

FLOW_KEYWORDS = {"when": "branch on a runtime value: `when digits \"1\" { ... }`, `when hook(name) \"yes\" { ... }`",
                 "otherwise": "the document served when no `when` branch matches"}
TOP_KEYWORDS = {"flow": "`flow NAME [on EVENT, ...] [auth USER PASSWORD] { ... }`",
                "conference": "`conference NAME [\"room name\"] { settings, on EVENT { ... } }`",
                "application": "`application auth USER PASSWORD`: the callback credentials of the Bandwidth "
                               "application, required on every route of the web app",
                "hours": "`hours NAME in \"ZONE\" { DAYS TIME to TIME, closed DATE, override hook(name) }`: "
                         "business hours, for `when NAME open { ... }`"}
AUTH_ITEM = ("auth", "keyword", "callback credentials", "`auth USER PASSWORD`: what the Bandwidth application "
             "sends on these callbacks")


@dataclass
class Item:
    label: str
    kind: str  # keyword | attribute | value | flow | conference | event
    detail: str = ""
    documentation: str = ""


@dataclass
class Names:
    flows: list[str]
    conferences: list[str]
    hours: list[str] = field(default_factory=list)


def complete(cursor: Cursor, names: Names) -> list[Item]:
    scope = cursor.scope
    before = cursor.before
    if scope.kind == "top":
        if not before:
            return [Item(k, "keyword", "declaration", d) for k, d in TOP_KEYWORDS.items()]
        head = words(before)
        if head == ["application"]:
            return [Item(*AUTH_ITEM)]
        if head[:1] == ["flow"] and len(head) >= 3 and head[-1] in ("as", "for") and type(before[-1]) is Token \
                and before[-1].text == head[-1]:  # `flow NAME for |`: the documents of the update endpoints
            documents = vocabulary().update_documents
            return [Item("bxml", "keyword", "a <Bxml> root")] if head[-1] == "as" else \
                [Item(name, "keyword", f"a <Bxml> document for {d['endpoint']}") for name, d in documents.items()]
        if head[:1] == ["flow"] and "on" in head[2:]:
            if "auth" in head:
                return []
            last = before[-1]
            if type(last) is Token and last.kind == "WORD" and last.text != "on":  # `on initiate |`: a comma first
                return [Item(*AUTH_ITEM)]  # or the entry flow's callback credentials
            listed = {a.text for a in before[head.index("on", 2) + 1 :] if type(a) is Token}
            return [Item(e, "event", "entry event" if e in ENTRY_EVENTS else "webhook whose reply is a call's BXML")
                    for e in vocabulary().flow_events if e not in listed]
        return []
    if scope.kind == "slot":
        return slot_items(scope.context)
    if scope.kind == "conference":
        return conference_items(before, names)
    if scope.kind == "hours":
        return hours_items(before)
    if scope.kind == "flow" and words(before)[:1] == ["when"] and len(before) in (1, 2):
        return when_items(before, names)
    if scope.kind in ("flow", "handler", "element"):
        return statement_items(scope, before, names)
    return []


SLOT_FILTERS = {name: f.description for name, f in FILTERS.items()}


def slot_items(part: str) -> list[Item]:
    """In a string's `{...}`: the webhook payload fields whose shape flowc knows, or the filters after `|`."""
    fields = vocabulary().fields
    if part == "filter":
        return [Item(name, "value", "filter", text) for name, text in SLOT_FILTERS.items()]
    return [Item(name, "value", shape.description, f"The webhook payload's `{name}` field: {shape.description}.")
            for name, shape in fields.items()]


def allowed_statements(scope: Scope) -> dict[tuple[str, ...], ElementSpec]:
    """Keyword phrases valid in this block: the element's children, or the verbs of the webhook context."""
    vocab = vocabulary()
    if scope.kind == "element":
        return vocab.statements(scope.spec.name) if scope.spec else {}
    if scope.context == "no-bxml":
        return {}
    allowed = vocab.contexts.get(scope.context)
    phrases = vocab.statements(None)
    return {p: s for p, s in phrases.items() if allowed is None or s.name in allowed}


def statement_items(scope: Scope, before: list[Atom], names: Names) -> list[Item]:
    phrases = allowed_statements(scope)
    typed = words(before)
    items: list[Item] = []
    if len(typed) == len(before):  # only words so far: the statement's keyword may still be unfinished
        for phrase, spec in sorted(phrases.items()):
            if len(phrase) > len(typed) and list(phrase[: len(typed)]) == typed:
                items.append(Item(" ".join(phrase[len(typed) :]), "keyword", f"<{spec.name}>", spec.doc))
        if not before and (scope.kind == "flow" or scope.kind == "handler" and scope.context != "no-bxml"):
            items += [Item(k, "keyword", "branch", d) for k, d in FLOW_KEYWORDS.items()]
    matched = match_keyword(before, scope.spec.name if scope.kind == "element" and scope.spec else None)
    if matched is not None and tuple(typed[: matched[1]]) in phrases:
        spec, used = matched
        items += attribute_items(spec, before, used, names)
    return items


def hours_items(before: list[Atom]) -> list[Item]:
    """Inside `hours { ... }`: the words that start a line; after a day, `to` and the other days."""
    from flowc.lsp.hours import line_items
    from flowc.runtime.schedule import DAY_NAMES

    if not before:
        return [Item(word, "keyword", "business hours", text) for word, text in line_items()]
    last = before[-1]
    if type(last) is Token and last.text == "to" and len(before) >= 2 and before[-2].kind == "WORD":
        return [Item(day, "value", "day") for day in DAY_NAMES]
    return []


def when_items(before: list[Atom], names: Names) -> list[Item]:
    """`when |`: the business hours declared (a branch on a payload field is typed freely); `when office |`:
    `open` or `closed`."""
    from flowc.lsp.hours import state_items

    if len(before) == 1:
        return [Item(name, "value", "business hours", f"`when {name} open {{ ... }}`") for name in names.hours]
    if before[1].kind == "WORD" and before[1].text in names.hours:
        return [Item(state, "value", f"hours {before[1].text}", text) for state, text in state_items()]
    return []


def conference_items(before: list[Atom], names: Names) -> list[Item]:
    typed = words(before)
    if typed[:1] == ["on"]:
        rest = typed[1:]
        return [Item(" ".join(event[len(rest) :]), "event", name)
                for event, name in CONFERENCE_EVENTS.items()
                if len(event) > len(rest) and list(event[: len(rest)]) == rest]
    spec = vocabulary().elements["Conference"]
    items = []
    if not before:
        items.append(Item("on", "keyword", "event handler", "`on EVENT { ... }`: the reply to a conference webhook"))
    return items + attribute_items(spec, before, 0, names)


COUNTING_TEXTS = {
    "attempts": "`attempts N`: ask at most N times in all (1 to 10); an answer that selects no `when` branch of "
                "the `then` flow is a failed attempt, answered with that flow's `otherwise` and the question again",
    "exhausted": "`exhausted FLOW`: where the call continues after the last failed attempt (without it: the `then` "
                 "flow's `otherwise`)",
}


def counting_items(spec: ElementSpec, atoms: list[Atom], index: int, names: Names) -> list[Item] | None:
    """`gather ... attempts 2 exhausted |`: flow names after `exhausted`; else the counting words not yet used
    (None: not the statement whose answers are counted)."""
    if spec.name != ATTEMPT_ELEMENT:
        return None
    typed = [a.text for a in atoms[index:] if type(a) is Token and a.kind == "WORD"]
    last = atoms[-1] if len(atoms) > index else None
    if type(last) is Token and last.text == "exhausted":
        return [Item(n, "flow", "continues after the last attempt") for n in names.flows]
    if type(last) is Token and last.text == "attempts":
        return []  # a number comes next
    return [Item(word, "attribute", "counted attempts", text) for word, text in COUNTING_TEXTS.items()
            if word not in typed]


def attribute_items(spec: ElementSpec, atoms: list[Atom], index: int, names: Names) -> list[Item]:
    """After a statement's keyword: the values the last attribute still needs, else the attributes left."""
    counting = counting_items(spec, atoms, index, names)
    if counting is not None and atoms[index:] and type(atoms[-1]) is Token and \
            atoms[-1].text in COUNTING_TEXTS:
        return counting
    pending, used = _pending_attribute(spec, atoms, index)
    continuations = _phrase_continuations(spec, atoms, index, used)  # `fallback |`: a URL, or `fallback method`
    if continuations and pending is None:
        return continuations
    if pending is not None:
        items = value_items(pending, names) + continuations
        if pending.type != "boolean":  # an on/off attribute may also stand alone
            return items
    elif spec.name == "Conference" and len(atoms) == index == 1:  # `join NAME`: a declared conference
        items = [Item(n, "conference", "declared conference") for n in names.conferences]
    else:
        items = []
    for phrase, attribute in spec.attribute_phrases.items():
        if attribute.name in used:
            continue
        label = " ".join(phrase)
        written = "" if label == attribute.name else f" ({attribute.name})"
        items.append(Item(label, "attribute", f"{value_kind(attribute)}{written}", attribute.doc))
    for phrase, pair in CREDENTIAL_PAIRS.items():
        if pair[0] in spec.attributes and pair[0] not in used:
            items.append(Item(" ".join(phrase), "attribute", f"{pair[0]} and {pair[1]}",
                              spec.attributes[pair[0]].doc))
    if spec.kind != "ssml" and ("unknown",) not in spec.attribute_phrases:
        items.append(Item("unknown", "attribute", 'unknown NAME "VALUE"',
                          "An attribute flowc does not know, written into the BXML unchecked (FC503)."))
    return items + (counting or [])


def _phrase_continuations(spec: ElementSpec, atoms: list[Atom], index: int, used: set[str]) -> list[Item]:
    """`start recording on |`: the words that complete a several-word attribute phrase begun at the end."""
    for length in (2, 1):
        if len(atoms) - index < length:
            continue
        tail = atoms[len(atoms) - length :]
        if not all(type(a) is Token and a.kind == "WORD" for a in tail):
            continue
        if _pending_attribute(spec, atoms[: len(atoms) - length], index)[0] is not None:
            continue  # the words are the value of the attribute before them
        typed = [a.text for a in tail]
        items = [Item(" ".join(phrase[length:]), "attribute", attribute.name, attribute.doc)
                 for phrase, attribute in spec.attribute_phrases.items()
                 if len(phrase) > length and list(phrase[:length]) == typed and attribute.name not in used]
        if items:
            return items
    return []


def value_kind(spec: AttributeSpec) -> str:
    return {"http_method": "method", "csv_list": "list"}.get(spec.type, spec.type)


def _pending_attribute(spec: ElementSpec, atoms: list[Atom], index: int) -> tuple[AttributeSpec | None, set[str]]:
    """Walk the atoms as lowering does; return the attribute whose value is still missing at the end (if any)
    and the attributes already given."""
    used: set[str] = set()
    pending: AttributeSpec | None = None
    while index < len(atoms):
        atom = atoms[index]
        matched = match_attribute(spec, atoms, index) if type(atom) is Token and atom.kind == "WORD" else None
        if matched is None:
            # a value (of the pending attribute, or positional), or a list continuing after a comma
            is_comma = type(atom) is Token and atom.kind == "COMMA"
            if not is_comma and not (pending is not None and pending.type == "csv_list"):
                pending = None
            index += 1
            if is_comma and index == len(atoms) and pending is None:
                return None, used
            continue
        attribute_names, length = matched
        used.update(attribute_names)
        index += length
        remaining = list(attribute_names)
        pending = None
        while remaining:
            attribute = spec.attributes[remaining.pop(0)]
            following = atoms[index] if index < len(atoms) else None
            if following is None:
                return attribute, used
            if attribute.type == "boolean" and not (type(following) is Token and following.text in BOOLEAN_WORDS):
                continue
            index += 1
            pending = attribute if attribute.type == "csv_list" else None
    if pending is not None and type(atoms[-1]) is Token and atoms[-1].kind == "COMMA":
        return pending, used
    return None, used


def value_items(spec: AttributeSpec, names: Names) -> list[Item]:
    if spec.type == "boolean":
        return [Item(w, "value", spec.name) for w in sorted(BOOLEAN_WORDS)]
    if spec.name == "voice":
        voices = {v["voice"]: v for v in vocabulary().voices}
        return [Item(value, "value", _voice_detail(voices.get(value)), spec.doc) for value in spec.enum]
    if spec.enum:
        return [Item(value, "value", spec.name, spec.doc) for value in spec.enum]
    if spec.type == "url" and spec.reply_bxml:
        return [Item(name, "flow", f"flow, for {spec.name}") for name in names.flows]
    if spec.is_secret:
        return [Item("env()", "value", "read from the server's environment")]
    return []


def _voice_detail(voice: dict[str, Any] | None) -> str:
    if voice is None:
        return "voice"
    return f"{voice['locale']} {voice['gender']} ({voice['type']})"
