"""The web-app backend: planned routes + rendered documents -> OUT/app.py, and the user's hooks module.

OUT/app.py is regenerated on every build and holds only data (documents as XML segments, routes, checks,
credentials) for flowc.runtime, written by the explicit serialisers below (one constructor call per runtime
object, every argument named); which credentials each route requires is decided by flowc.semantics.credentials.

The user's module (default: hooks.py beside OUT, or $FLOWC_HOOKS) is created once with typed stubs and never
written again; later builds compare it with what the flows use and report missing (FC701) and unused (FC702)
hooks instead of editing it.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flowc import __version__
from flowc.backend.plan import NO_BXML_EVENTS, Plan
from flowc.backend.plan import Document as PlannedDocument
from flowc.backend.plan import Route as PlannedRoute
from flowc.bxml.emit_xml import MARK_CLOSE, MARK_OPEN, RenderedDocument
from flowc.bxml.vocabulary import vocabulary
from flowc.bxml.webhooks import model_name
from flowc.core.diagnostics import Diagnostic, Severity, Span
from flowc.core.files import FileProblem, kind_of, read_regular
from flowc.runtime.documents import Check, Document
from flowc.runtime.hooks import observer_name, python_name
from flowc.runtime.rooms import KeysRoute, LobbyRoute, RoomSpec, SiteSpec
from flowc.runtime.routes import Choice, ConferenceRoute, Credential, EventRoute, FlowRoute, Retry, Route, Secret
from flowc.runtime.schedule import WeeklyHours, minutes
from flowc.runtime.values import SlotRef
from flowc.semantics.analysis import analyse
from flowc.semantics.credentials import Pair, RouteAuth, open_route_diagnostics, route_credentials
from flowc.semantics.event_routes import unserved_urls
from flowc.semantics.ir import Attribute, Element, Hours, ListValue, Project, Slot, Text, walk

if TYPE_CHECKING:
    import jinja2
    from flowc.semantics.project import Compilation
    from flowc.syntax.source import SourceFile

APP_FILE = "app.py"
HOOKS_FILE = "hooks.py"  # default location: beside OUT (OUT/../hooks.py), so cleaning OUT never loses it
_MARKED = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")


@dataclass
class CompiledDocument:
    file: str
    parts: tuple[str | int, ...]
    slots: tuple[SlotRef, ...]
    checks: tuple[Check, ...]
    uses: dict[int, str] = field(default_factory=dict)  # slot index -> where it goes, in words


@dataclass
class HookUse:
    name: str  # the Python function: hook(agent-id) is agent_id, hook(class) is class_
    written: str = ""  # as written in .flow
    events: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    is_list: bool = False


@dataclass
class AppModel:
    documents: list[CompiledDocument]
    routes: list[Route]
    hooks: dict[str, HookUse]
    unverified: list[tuple[str, Span]] = field(default_factory=list)  # credentials the app cannot check
    uncredentialed: list[tuple[str, Span, bool]] = field(default_factory=list)  # refused for lack of credentials
    unserved: list[tuple[str, Attribute]] = field(default_factory=list)  # relative BXML URLs served elsewhere

    @property
    def observed_events(self) -> list[str]:
        """Events a stub observer is written for: conference events and the no-BXML event routes."""
        events = [e for r in self.routes if not isinstance(r, FlowRoute) for e in r.events]
        return list(dict.fromkeys(events))

    @property
    def all_events(self) -> set[str]:
        return {e for r in self.routes for e in r.events}


# -- documents -----------------------------------------------------------------------------------------------

@functools.cache
def _rules() -> tuple[str, int, str]:
    """The checker's rules, applied again per request: conference name pattern and length, call id pattern
    (all from the vocabulary, as the checker reads them)."""
    vocab = vocabulary()
    call_id = vocab.fields["callId"]
    characters = "".join(sorted(call_id.characters or "")).replace("-", "") + "-"
    return (vocab.conference_name_pattern, vocab.limits.conference_name_length,
            f"[{characters}]{{{call_id.min},{call_id.max}}}")


def _items(text: str) -> tuple[str | int, ...]:
    pieces = _MARKED.split(text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(pieces) if i % 2 or p)


def _address_check(tag: str, attribute: str | None, items: tuple[str | int, ...]) -> Check | None:
    """Phone numbers and SIP URIs (<PhoneNumber>, <SipUri>, <Forward to/from>): the checker's FC212 rule."""
    vocab = vocabulary()
    shape = vocab.addresses.get((tag, attribute))
    if shape is None:
        return None
    pattern = vocab.address_pattern(shape)
    rule = " or ".join(w for name, w in (("E.164", "a phone number (+15551234567)"), ("SIP URI", "a SIP URI"))
                       if name in shape)
    what = f"{attribute} of <{tag}>" if attribute else f"the text of <{tag}>"
    return Check(what, items, pattern=pattern, rule=rule)


def _field_check(tag: str, attribute: str | None, text: str) -> Check | None:
    vocab = vocabulary()
    spec = vocab.elements.get(tag)
    name_pattern, name_length, call_id = _rules()
    items = _items(text)
    address = _address_check(tag, attribute, items)
    if address is not None:
        return address
    if attribute is None:
        if tag == "Conference":
            return Check("the conference name", items, pattern=name_pattern, max_length=name_length,
                         rule=f"a conference name (1 to {name_length} letters, digits, `-`, `_` or `.`)")
        if spec is not None and spec.text and spec.text.get("format") == "callId":
            return Check(f"the call id of <{tag}>", items, pattern=call_id, rule="a call id")
        if tag == "Tag":  # <Tag> sets the same tag as the `tag` attribute of the verbs, with the same limit
            limit = vocab.elements["Gather"].attributes["tag"].max_length
            return Check("the <Tag> text", items, max_length=limit)
        return None
    attribute_spec = spec.attributes.get(attribute) if spec else None
    if attribute_spec is None:
        return None
    what = f"{attribute} of <{tag}>"
    if attribute_spec.item == "callId":
        return Check(what, items, pattern=call_id, each=True, max_length=attribute_spec.max_length,
                     rule="a comma-separated list of call ids")
    if attribute_spec.max_length is not None:
        return Check(what, items, max_length=attribute_spec.max_length)
    return None


def compile_document(item: RenderedDocument) -> CompiledDocument:
    """Segments -> parts (XML text or slot index), plus the checks on every field holding a runtime value."""
    refs: list[SlotRef] = list(dict.fromkeys(s for s in item.segments if isinstance(s, SlotRef)))
    index = {ref: i for i, ref in enumerate(refs)}
    parts = tuple(s if isinstance(s, str) else index[s] for s in item.segments)
    checks: list[Check] = []
    uses: dict[int, str] = {}
    if refs:
        marked = "".join(s if isinstance(s, str) else f"{MARK_OPEN}{index[s]}{MARK_CLOSE}" for s in item.segments)
        for tag, name, value, checked in _marked_fields(marked):
            check = _field_check(tag, name, value) if checked else None
            if check is not None:
                checks.append(check)
            _note_uses(uses, value, f"{name} of <{tag}>" if name else f"the text of <{tag}>")
    return CompiledDocument(item.document.file, parts, tuple(refs), tuple(checks), uses)


def _marked_fields(marked: str) -> Iterator[tuple[str, str | None, str, bool]]:
    """(element, attribute or None for text, value, whether it is the whole field) for every attribute value
    and text holding a slot marker. Text after a child element (SSML inside <SpeakSentence>) is part of the
    parent's mixed content, where no rule applies."""
    from lxml import etree

    for element in etree.fromstring(marked.encode()).iter():
        tag = str(element.tag)
        for name, value in element.attrib.items():
            if MARK_OPEN in value:
                yield tag, str(name), value, True
        if element.text and MARK_OPEN in element.text:
            yield tag, None, element.text, True
        parent = element.getparent()
        if element.tail and MARK_OPEN in element.tail and parent is not None:
            yield str(parent.tag), None, element.tail, False


def _note_uses(uses: dict[int, str], text: str, where: str) -> None:
    for number in _MARKED.findall(text):
        uses.setdefault(int(number), where)


# -- routes --------------------------------------------------------------------------------------------------

def _credential(pair: Pair) -> Credential:
    requires = _credential(pair.primary) if pair.primary is not None else None
    username, password = pair.username, pair.password
    return Credential(Secret(username.kind, username.value), Secret(password.kind, password.value),
                      pair.fallback_host, requires)


def _auth(auth: RouteAuth | None) -> tuple[Credential, ...]:
    return tuple(_credential(pair) for pair in auth.pairs) if auth is not None else ()


# Call status webhooks no verb attribute names (the application's or createCall's URLs): Bandwidth expects an
# empty 204 to them, and an application may point them at a flow's URL.
@functools.cache
def _silent_events() -> tuple[str, ...]:
    """Events answered with an empty 204: every event whose reply takes no BXML (the vocabulary's events)."""
    return tuple(sorted(vocabulary().no_bxml_events))


def _flow_route(path: str, events: list[str], documents: Sequence[PlannedDocument], auth: RouteAuth,
                hours: dict[str, Hours]) -> Route:
    default = next(d.file for d in documents if d.branch is None and d.attempt is None)
    return FlowRoute(path, tuple(events), silent=_silent_events(), auth=_auth(auth),
                     hook_timeout=auth.callback_timeout, default=default, branches=_choices(documents),
                     retries=_retries(documents), schedules=_schedules(documents, hours))


def _schedules(documents: Sequence[PlannedDocument], hours: dict[str, Hours]) -> tuple[WeeklyHours, ...]:
    """The business hours the flow's branches test (`when office open`), once each."""
    names = dict.fromkeys(d.branch["field"] for d in documents if d.branch and d.branch["source"] == "hours")
    return tuple(weekly_hours(hours[name]) for name in names)


def weekly_hours(hours: Hours) -> WeeklyHours:
    """What the web app evaluates per request for `hours NAME`: minutes per weekday (the checker has made
    sure every time is on the clock and every range is not empty)."""
    opening = sorted((day, minutes(o.start) or 0, minutes(o.end) or 0) for o in hours.opening for day in o.days)
    override = hours.override.name if hours.override is not None else None
    closed = tuple(sorted({c.date for c in hours.closed}))
    return WeeklyHours(hours.name, hours.zone, tuple(opening), closed, override)


def _retries(documents: Sequence[PlannedDocument]) -> tuple[Retry, ...]:
    """Per counted gather whose answers reach the flow: its documents asking again, in order, and its exhausted
    document."""
    asking: dict[str, dict[int, str]] = {}
    exhausted: dict[str, str] = {}
    for document in documents:
        attempt = document.attempt
        if attempt is None:
            continue
        asking.setdefault(attempt["ask"], {})
        if "attempt" in attempt:
            asking[attempt["ask"]][attempt["attempt"]] = document.file
        else:
            exhausted[attempt["ask"]] = document.file
    return tuple(Retry(ask, tuple(files[n] for n in sorted(files)), exhausted.get(ask))
                 for ask, files in asking.items())


def _conference_route(path: str, events: list[str], documents: Sequence[PlannedDocument], auth: RouteAuth,
                      room: str | None) -> Route:
    by_event = tuple((d.event, d.file) for d in documents if d.event and d.branch is None)
    return ConferenceRoute(path, tuple(events), silent=tuple(sorted(NO_BXML_EVENTS)), auth=_auth(auth),
                           hook_timeout=auth.callback_timeout, by_event=by_event, branches=_choices(documents),
                           room=room)


def _choices(documents: Sequence[PlannedDocument]) -> tuple[Choice, ...]:
    """The `when` branches of a flow or of a conference's handlers, in source order, as the web app tests them."""
    return tuple(Choice(SlotRef(d.branch["source"], d.branch["field"]), tuple(str(v) for v in d.branch["values"]),
                        d.file, d.event) for d in documents if d.branch)


def _room_route(route: PlannedRoute, room: str, auth: RouteAuth) -> Route:
    kind = LobbyRoute if route.room_kind == "lobby" else KeysRoute
    return kind(route.path, tuple(route.events), silent=() if kind is LobbyRoute else _silent_events(),
                auth=_auth(auth), hook_timeout=auth.callback_timeout, room=room)


def room_specs(plan: Plan) -> tuple[tuple[RoomSpec, ...], tuple[SiteSpec, ...]]:
    """What the app needs of each room (flowc.backend.rooms planned its documents)."""
    from flowc.bxml.emit_xml import Emitter

    emitter = Emitter(plan)
    rooms: list[RoomSpec] = []
    sites: list[SiteSpec] = []
    for room in plan.rooms:
        conference = room.conference
        policy = conference.policy
        assert policy is not None
        name = emitter.text(conference.conference_name)
        parts = tuple(int(p) if i % 2 else p for i, p in enumerate(re.split(f"{MARK_OPEN}(\\d+){MARK_CLOSE}", name)))
        name_document = Document(f"room name of {conference.name}", parts, tuple(emitter.slots))
        emitter.slots = []
        roles = tuple((r.name, r.kind, tuple(r.coaches)) for r in policy.roles)
        rooms.append(RoomSpec(conference.name, name_document, lobby=policy.lobby is not None, cap=policy.cap,
                              limit=policy.limit, warn_before=policy.warn_before, warning=room.warning,
                              end=policy.end, roles=roles, tones=tuple(room.tones),
                              keys=tuple((k.digits, k.action, tuple(k.roles)) for k in policy.keys)))
        sites.extend(SiteSpec(s.file, s.room, s.role, s.kind, s.lobby, s.loop, s.join, s.release, s.full)
                     for s in room.sites)
    return tuple(rooms), tuple(sites)


def build_model(plan: Plan, rendered: list[RenderedDocument]) -> AppModel:
    documents = [compile_document(item) for item in rendered]
    required = route_credentials(plan.table)
    routes: list[Route] = []
    seen: set[str] = set()
    for route in plan.routes:  # a flow reached with GET and POST is planned twice: the app serves both
        if route.path in seen:
            continue
        seen.add(route.path)
        if route.room is not None:
            routes.append(_room_route(route, route.room, required[route.path]))
        elif route.conference:
            room = route.conference if any(r.conference.name == route.conference for r in plan.rooms) else None
            routes.append(_conference_route(route.path, route.events, route.documents, required[route.path],
                                            room))
        else:
            routes.append(_flow_route(route.path, route.events, route.documents, required[route.path],
                                      plan.project.hours))
    # Relative URLs of webhooks that take no BXML (flowc.semantics.event_routes, also listed in the manifest): the app
    # validates them, calls the user's on_<event> function if there is one, and answers 204.
    for found in plan.table.events:  # the same paths as `seen`: the table's routes'
        auth = required.get(found.path)
        routes.append(EventRoute(found.path, tuple(found.events), auth=_auth(auth),
                            hook_timeout=auth.callback_timeout if auth else None))
    unverified = [(a.path, span) for a in required.values() for span in a.unverified]
    uncredentialed = [(a.path, span, entry) for a in required.values() for span, entry in a.uncredentialed]
    return AppModel(documents, routes, _hook_uses(documents, routes), unverified, uncredentialed,
                    unserved_urls(plan.project, {r.path for r in routes}))


def _hook_uses(documents: list[CompiledDocument], routes: list[Route]) -> dict[str, HookUse]:
    events_of: dict[str, list[str]] = {}
    uses: dict[str, HookUse] = {}
    for route in routes:
        branches: tuple[Choice, ...] = getattr(route, "branches", ())
        for choice in branches:  # `when hook(name) ...`: the web app calls it to choose the document
            if choice.ref.source == "hook":
                use = uses.setdefault(choice.ref.name, HookUse(python_name(choice.ref.name), choice.ref.name))
                events = [choice.event] if choice.event else route.events
                use.events.extend(e for e in events if e not in use.events)
                use.where.append(f"choosing the `when` branch {choice.file}")
        if isinstance(route, ConferenceRoute):
            for event, file in [*route.by_event, *((c.event, c.file) for c in route.branches)]:
                events_of.setdefault(file, []).append(event or "")  # a conference handler answers one event
            continue
        for file in route.files:
            if file:
                events_of.setdefault(file, []).extend(route.events)
    for route in routes:  # `override hook(name)` of business hours a flow branches on
        for schedule in route.schedules if isinstance(route, FlowRoute) else ():
            if schedule.override is not None:
                use = uses.setdefault(schedule.override, HookUse(python_name(schedule.override), schedule.override))
                use.events.extend(e for e in route.events if e not in use.events)
                use.where.append(f"the override of hours `{schedule.name}` ({route.path})")
    for document in documents:
        for index, slot in enumerate(document.slots):
            if slot.source != "hook":
                continue
            use = uses.setdefault(slot.name, HookUse(python_name(slot.name), slot.name))
            use.events.extend(e for e in events_of.get(document.file, []) if e not in use.events)
            where = document.uses.get(index, "the document")
            use.where.append(f"{where} in {document.file}")
            use.is_list |= where.startswith("callIdsToCoach")
    return uses


# -- output --------------------------------------------------------------------------------------------------

# The latest build's project and model, for the hooks check that follows it. The project is kept, and compared
# with `is`: an id() alone may be reused by a later project once this one is freed.
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("flowc", "templates"), autoescape=False,
                                     keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["py"] = repr
    return environment


def app_outputs(plan: Plan, rendered: list[RenderedDocument]) -> dict[str, bytes]:
    """Files to write under OUT (regenerated on every build)."""
    model = build_model(plan, rendered)
    silent = _silent_events()
    rooms, sites = room_specs(plan)
    source = _environment().get_template("app.py.j2").render(
        version=__version__, hooks_file=f"../{HOOKS_FILE}", value_hooks=tuple(model.hooks), silent=silent,
        documents=[(d.file, document_source(d)) for d in model.documents],
        routes=[route_source(r, {silent: "SILENT"}) for r in model.routes],
        rooms=[room_source(r) for r in rooms], sites=[site_source(s) for s in sites],
        hours=any(isinstance(r, FlowRoute) and r.schedules for r in model.routes))
    return {APP_FILE: source.encode()}


# The generated app.py is written from these functions: one constructor call per runtime object, every
# argument named, values written as Python literals. A field added to a runtime type must be added here, so
# what app.py holds is always what was meant, never whatever a repr() happens to print.

def literal(value: object) -> str:
    """A Python literal for plain data: text, numbers, None, booleans and tuples of them."""
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    if isinstance(value, tuple):
        return _tuple([literal(item) for item in value])
    raise TypeError(f"cannot write {type(value).__name__} into app.py")


def _call(name: str, *arguments: str, **keywords: str) -> str:
    return f"{name}({', '.join([*arguments, *(f'{k}={v}' for k, v in keywords.items())])})"


def _tuple(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def slot_source(slot: SlotRef) -> str:
    return _call("SlotRef", literal(slot.source), literal(slot.name), filter=literal(slot.filter))


def check_source(check: Check) -> str:
    return _call("Check", literal(check.what), literal(check.items), pattern=literal(check.pattern),
                 each=literal(check.each), max_length=literal(check.max_length), rule=literal(check.rule))


def document_source(document: CompiledDocument) -> str:
    return _call("Document", literal(document.file), parts=literal(document.parts),
                 slots=_tuple([slot_source(s) for s in document.slots]),
                 checks=_tuple([check_source(c) for c in document.checks]))


def choice_source(choice: Choice) -> str:
    return _call("Choice", slot_source(choice.ref), literal(choice.values), literal(choice.file),
                 event=literal(choice.event))


def retry_source(retry: Retry) -> str:
    return _call("Retry", literal(retry.ask), literal(retry.files), exhausted=literal(retry.exhausted))


def secret_source(secret: Secret) -> str:
    return _call("Secret", literal(secret.kind), literal(secret.value))


def credential_source(credential: Credential) -> str:
    requires = credential_source(credential.requires) if credential.requires is not None else "None"
    return _call("Credential", secret_source(credential.username), secret_source(credential.password),
                 host=literal(credential.host), requires=requires)


def hours_source(hours: WeeklyHours) -> str:
    return _call("WeeklyHours", literal(hours.name), literal(hours.zone), opening=literal(hours.opening),
                 closed=literal(hours.closed), override=literal(hours.override))


def route_source(route: Route, names: dict[tuple[str, ...], str]) -> str:
    """`names`: values written as a name defined in app.py (the silent events, shared by every route)."""
    keywords = {"events": literal(route.events), "silent": names.get(route.silent) or literal(route.silent),
                "auth": _tuple([credential_source(c) for c in route.auth]),
                "hook_timeout": literal(route.hook_timeout)}
    if isinstance(route, FlowRoute):
        keywords |= {"default": literal(route.default),
                     "branches": _tuple([choice_source(c) for c in route.branches]),
                     "retries": _tuple([retry_source(r) for r in route.retries])}
        if route.schedules:
            keywords["schedules"] = _tuple([hours_source(s) for s in route.schedules])
    elif isinstance(route, ConferenceRoute):
        keywords |= {"by_event": literal(route.by_event),
                     "branches": _tuple([choice_source(c) for c in route.branches]),
                     "room": literal(route.room)}
    elif isinstance(route, LobbyRoute | KeysRoute):
        keywords |= {"room": literal(route.room)}
    return _call(type(route).__name__, literal(route.path), **keywords)


def room_source(room: RoomSpec) -> str:
    name = room.room_name
    document = _call("Document", literal(name.file), parts=literal(name.parts),
                     slots=_tuple([slot_source(s) for s in name.slots]))
    return _call("RoomSpec", literal(room.name), room_name=document,
        lobby=literal(room.lobby), cap=literal(room.cap), limit=literal(room.limit),
        warn_before=literal(room.warn_before), warning=literal(room.warning), end=literal(room.end),
        roles=literal(room.roles), tones=literal(room.tones), keys=literal(room.keys))


def site_source(site: SiteSpec) -> str:
    return _call("SiteSpec", literal(site.file), literal(site.room), literal(site.role), literal(site.kind),
                 lobby=literal(site.lobby), loop=literal(site.loop), join=literal(site.join),
                 release=literal(site.release), full=literal(site.full))


# -- the user's module ---------------------------------------------------------------------------------------

def hooks_path(out: Path) -> Path:
    configured = os.environ.get("FLOWC_HOOKS")
    return Path(configured) if configured else out.resolve().parent / HOOKS_FILE


def stub_source(model: AppModel) -> str:
    classes = sorted({model_name(u.events or ["initiate"]) for u in model.hooks.values()}
                     | {model_name([e]) for e in model.observed_events})
    observers = [(observer_name(e), model_name([e]), e) for e in model.observed_events]
    return _environment().get_template("hooks.py.j2").render(
        classes=classes, hooks=[(u, model_name(u.events or ["initiate"])) for u in model.hooks.values()],
        observers=observers)


def hook_spans(project: Project) -> dict[str, Span]:
    """Where each hook(name) is first used in the .flow sources."""
    spans: dict[str, Span] = {}

    def visit(value: object) -> None:  # a value, a part of text or an element's content
        if isinstance(value, Slot):
            if value.source == "hook":
                spans.setdefault(value.name, value.span)
        elif isinstance(value, Text):
            for part in value.parts:
                visit(part)
        elif isinstance(value, ListValue):
            for item in value.items:
                visit(item)

    def visit_elements(elements: list[Element]) -> None:
        for element in walk(elements):
            for attribute in element.attributes:
                visit(attribute.value)
            for item in element.content:
                visit(item)

    for file in project.files:
        for hours in file.hours:
            if hours.override is not None:
                visit(hours.override)
        for conference in file.conferences:
            visit(conference.conference_name)
            for setting in conference.settings:
                visit(setting.value)
    for body in analyse(project).bodies:
        if body.branch is not None and body.branch.source == "hook" and body.branch.subject_span is not None:
            spans.setdefault(body.branch.field, body.branch.subject_span)  # `when hook(name)` comes first
        visit_elements(body.elements)
    return spans


def unverified_credentials(model: AppModel) -> list[Diagnostic]:
    """FC705: credentials computed per request cannot be checked by the app, so their route is open. FC706: a
    statement sends no credentials to a route that requires them. FC707: a relative URL served elsewhere."""
    protected = {route.path for route in model.routes if route.auth}
    return [Diagnostic(
        "FC705", Severity.WARNING, f"the web app cannot check these credentials: `{path}` "
        + ("only accepts the other credentials declared for it, so requests carrying these are refused"
           if path in protected else "accepts requests without them"),
        span, help="use literal values or `env(NAME)` for webhook credentials",
        notes=["the value is computed per request, so the server cannot know what Bandwidth will send back"])
        for path, span in model.unverified] + [Diagnostic(
        "FC706", Severity.WARNING, f"`{path}` requires the credentials declared elsewhere, but "
        + ("the application's callbacks (declared with `on`) carry none: the web app will refuse them (401)"
           if entry else "this statement sends none: the web app will refuse its webhook (401)"), span,
        help="declare the application's callback credentials (`application auth USER PASSWORD`, or `auth` after "
        "the flow's events)" if entry else "declare the same `auth` here too")
        for path, span, entry in model.uncredentialed] + [Diagnostic(
        "FC707", Severity.INFO, f"the generated web app does not serve `{path}`", attribute.value.span,
        help="name a flow here, or route this path to the server that answers it")
        for path, attribute in model.unserved]


def sync_user_module(compilation: Compilation, out: Path, plan: Plan,
                     rendered: list[RenderedDocument]) -> list[Diagnostic]:
    """Create the hooks module if absent; otherwise report hooks it lacks and functions no flow uses. Also
    reports what the app built from these flows cannot enforce (FC705)."""
    model = build_model(plan, rendered)  # the same model app.py was generated from: a few ms, no shared state
    return (open_route_diagnostics(plan.table, "FC711") + unverified_credentials(model)
            + _sync_hooks(compilation, model, out))


def _shown(path: Path) -> str:
    return os.path.relpath(path) if not os.path.isabs(str(path)) or path.is_relative_to(Path.cwd()) else str(path)


def hooks_file_problems(compilation: Compilation, out: Path) -> list[Diagnostic]:
    """What is wrong with the hooks module's path, found before OUT is written: a directory, FIFO or device
    there is an error (FC905: nothing is built), a dangling symlink a warning (FC906: no stub is written
    through it). A missing module is fine: it is created after the build."""
    from flowc.syntax.source import SourceFile

    path = hooks_path(out)
    shown = _shown(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not os.path.islink(path):
            return []
        compilation.sources.setdefault(shown, SourceFile(shown, ""))
        return [Diagnostic("FC906", Severity.WARNING, f"`{shown}` is a symbolic link to `{os.readlink(path)}`, "
                           "which does not exist: flowc does not create the hooks module through it",
                           Span(shown, 0, 0), help="create the file the link points to, or remove the link "
                           "and compile again to get the stubs")]
    except OSError as error:
        reason = error.strerror or str(error)
    else:
        if stat.S_ISREG(mode):
            return []
        reason = f"it is {kind_of(mode)}"
    compilation.sources.setdefault(shown, SourceFile(shown, ""))
    return [Diagnostic("FC905", Severity.ERROR, f"the hooks module `{shown}` cannot be read: {reason}",
                       Span(shown, 0, 0), help="make it a regular Python file, or set FLOWC_HOOKS to one; "
                       "nothing was written to OUT")]


def _sync_hooks(compilation: Compilation, model: AppModel, out: Path) -> list[Diagnostic]:
    from flowc.backend.outdir import create_beside
    from flowc.syntax.source import MAX_SOURCE_BYTES, SourceFile

    path = hooks_path(out)
    shown = _shown(path)
    if not os.path.lexists(path):
        if not model.hooks and not model.observed_events:
            return []
        text = stub_source(model)
        if create_beside(out, path, text.encode()):  # never over a file someone created meanwhile
            compilation.sources[shown] = SourceFile(shown, text)
            return [Diagnostic("FC703", Severity.INFO, f"created `{shown}` with stubs for {len(model.hooks)} "
                               f"hooks and {len(model.observed_events)} event functions; flowc will not change "
                               "it again", Span(shown, 0, 0))]
    if not os.path.exists(path):  # a dangling symlink: reported before the build (FC906)
        return []
    try:
        data = read_regular(path, MAX_SOURCE_BYTES + 1)
    except (OSError, FileProblem) as error:  # changed since hooks_file_problems looked at it
        reason = error.message if isinstance(error, FileProblem) else error.strerror or str(error)
        return [Diagnostic("FC704", Severity.WARNING, f"`{shown}` cannot be read: {reason}", Span(shown, 0, 0),
                           help="make it a regular Python file; hooks were not checked")]
    text = data.decode("utf-8-sig", errors="replace")  # a byte-order mark is not Python syntax
    compilation.sources[shown] = source = SourceFile(shown, text)
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as error:
        offset = source.offset(error.lineno or 1, error.offset or 1)
        return [Diagnostic("FC704", Severity.WARNING, f"`{shown}` cannot be read: {error.msg}",
                           Span(shown, offset, offset), help="fix the syntax error; hooks were not checked")]
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    return _missing(model, compilation.project, shown, set(defined) | _bound_names(tree)) + \
        _stale(model, shown, defined, source)


def _bound_names(tree: ast.Module) -> set[str]:
    """Top-level names bound otherwise than by `def`: `from mycode import greeting`, `greeting = make()`. The
    app calls them like functions, so they count as present (only `def`s are reported as unused)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name))
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
    return names


def _missing(model: AppModel, project: Project, shown: str, defined: set[str]) -> list[Diagnostic]:
    spans = hook_spans(project)
    found = []
    for name, use in model.hooks.items():
        if use.name in defined:
            continue
        returns = "str | list[str]" if use.is_list else "str"
        span = spans.get(name, Span(shown, 0, 0))
        found.append(Diagnostic(
            "FC701", Severity.WARNING, f"hook `{name}` is used by the flows but `{shown}` does not define it",
            span, help=f"add `def {use.name}(payload: {model_name(use.events or ['initiate'])}) -> {returns}:` to "
            f"`{shown}`", notes=[f"used for {w}" for w in use.where[:3]]
            + ["until it exists, requests that need it are answered 501"]))
    return found


def _stale(model: AppModel, shown: str, defined: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
           source: SourceFile) -> list[Diagnostic]:
    used = {use.name for use in model.hooks.values()} | {observer_name(e) for e in model.all_events}
    found = []
    for name, node in defined.items():
        if name.startswith("_") or name in used:
            continue
        start = source.offset(node.lineno, node.col_offset + 1)
        observer = name.startswith("on_")
        found.append(Diagnostic(
            "FC702", Severity.WARNING,
            f"`{name}` in `{shown}` is not used: " + ("no route receives that event" if observer
                                                      else "no flow uses `hook(" + name + ")`"),
            Span(shown, start, start + len(f"def {name}") + (6 if isinstance(node, ast.AsyncFunctionDef) else 0)),
            help="remove it, or start its name with `_` if it is a helper"))
    return found
