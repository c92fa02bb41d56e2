"""The sequence diagram of a simulated call: `flowc sim ... --format mermaid` and the console's diagram.

`build(events, call_id)` reads the emulator's timeline (flowc.sim.timeline) and keeps what concerns one call:
what it heard, its state changes and key presses, every webhook about it or its conference with the app's
answer, every REST request that names it or its conference, and the comings and goings of the other calls
in its conference or bridged to it. The result, a `Sequence` of participants (the caller, Bandwidth, the
app, other calls, the conference) and steps, is written out by `to_mermaid` (a Mermaid `sequenceDiagram`,
every label escaped with Mermaid's entity codes) or `to_svg` (a plain SVG drawn here, for pages that ship no
Mermaid renderer). Both are deterministic: the same timeline gives the same text, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flowc.sim.timeline import Event, Heard, Note, RestRequest, StateChange, Webhook, clock

CALLER, BANDWIDTH, APP = "caller", "bw", "app"
MAX_TEXT = 160  # longer labels are cut (with an ellipsis) so the diagram stays readable
_ACCOUNT_PREFIX = re.compile(r"^/api/v2/accounts/[^/]+")
# Characters Mermaid reads as syntax inside a label (`;` ends a statement, `#` starts an entity code, `<` `>`
# `&` are HTML, `%` starts a comment, braces and quotes delimit shapes): written as `#code;` entity codes.
_UNSAFE = set('#;<>&%{}"`\\')


@dataclass(frozen=True)
class Step:
    source: str  # a participant key
    target: str
    text: str
    style: str = "request"  # request | reply | failed | note


@dataclass
class Sequence:
    participants: list[tuple[str, str]] = field(default_factory=list)  # (key, label), in column order
    steps: list[Step] = field(default_factory=list)


def build(events: list[Event], call_id: str | None = None) -> Sequence:
    """The diagram of `call_id` (by default the first call of the timeline)."""
    calls = [e.subject for e in events if isinstance(e, StateChange) and e.state == "initiated"]
    call_id = call_id or (calls[0] if calls else None)
    rooms = _rooms_of(events, call_id)
    members, legs = _related_calls(events, call_id, rooms)
    keys = _Participants(call_id, events)
    sequence = Sequence()
    for event in events:
        for step in _steps(event, call_id, rooms, (members, legs), keys):
            sequence.steps.append(step)
    sequence.participants = keys.used(sequence.steps)
    return sequence


def sequence_mermaid(events: list[Event], call_id: str | None = None) -> str:
    return to_mermaid(build(events, call_id))


def _rooms_of(events: list[Event], call_id: str | None) -> set[str]:
    rooms = {e.detail.split()[0] for e in events
             if isinstance(e, StateChange) and e.subject == call_id and e.state in ("joined", "left") and e.detail}
    rooms |= {e.conference_id for e in events if isinstance(e, Webhook) and e.call_id == call_id and e.conference_id}
    return rooms


def _related_calls(events: list[Event], call_id: str | None, rooms: set[str]) -> tuple[set[str], set[str]]:
    """Other calls in one of the call's conferences (members), and calls bridged or transferred to it (legs)."""
    members, legs = set(), set()
    for e in events:
        if not isinstance(e, StateChange) or e.subject == call_id:
            continue
        if e.state in ("joined", "left") and e.detail and e.detail.split()[0] in rooms:
            members.add(e.subject)
        elif e.state == "bridged" and e.detail == call_id:
            legs.add(e.subject)
    legs |= {e.detail for e in events
             if isinstance(e, StateChange) and e.subject == call_id and e.state == "bridged" and e.detail}
    return members - {call_id}, legs - {call_id}


class _Participants:
    """Stable keys and labels: the caller, Bandwidth, the app, other calls and conferences by first mention."""

    def __init__(self, call_id: str | None, events: list[Event]) -> None:
        self.call_id = call_id
        self.labels: dict[str, str] = {}
        initiated = next((e for e in events if isinstance(e, StateChange) and e.subject == call_id
                          and e.state == "initiated"), None)
        numbers = initiated.detail.split(" ", 1)[1] if initiated and " " in initiated.detail else ""
        self.caller_label = f"Caller {numbers}".strip()
        self.names = {e.subject: e.detail for e in events if isinstance(e, StateChange) and e.state == "created"}
        self.keys: dict[str, str] = {}

    def call(self, call_id: str) -> str:
        if call_id == self.call_id:
            return CALLER
        return self._key(call_id, "call", f"Other call {call_id}")

    def room(self, room_id: str) -> str:
        name = self.names.get(room_id)
        return self._key(room_id, "conf", f"Conference {name}" if name else f"Conference {room_id}")

    def _key(self, subject: str, prefix: str, label: str) -> str:
        if subject not in self.keys:
            self.keys[subject] = f"{prefix}{sum(k.startswith(prefix) for k in self.keys.values()) + 1}"
            self.labels[self.keys[subject]] = label
        return self.keys[subject]

    def used(self, steps: list[Step]) -> list[tuple[str, str]]:
        mentioned = {s.source for s in steps} | {s.target for s in steps}
        fixed = [(CALLER, self.caller_label), (BANDWIDTH, "Bandwidth"), (APP, "App")]
        ordered = fixed + [(key, self.labels[key]) for key in sorted(self.labels, key=_column_order)]
        return [(key, label) for key, label in ordered if key in mentioned or key in (CALLER, BANDWIDTH)]


def _column_order(key: str) -> tuple[int, int]:
    return (0 if key.startswith("call") else 1, int(re.sub(r"\D", "", key) or 0))


def _steps(event: Event, call_id: str | None, rooms: set[str], others: tuple[set[str], set[str]],
           keys: _Participants) -> list[Step]:
    members, legs = others
    at = clock(event.time)
    if isinstance(event, Heard):
        if event.call_id != call_id:
            return []
        source = keys.room(event.conference_id) if event.conference_id else BANDWIDTH
        what = f"“{event.text}”" if event.media == "speech" else f"audio {event.text}"
        return [Step(source, CALLER, f"{at} hears {what}")]
    if isinstance(event, Webhook):
        if not (event.call_id and event.call_id in {call_id, *legs} or event.conference_id in rooms):
            return []
        return _webhook_steps(event, at)
    if isinstance(event, RestRequest):
        path = _ACCOUNT_PREFIX.sub("", event.path)
        if not any(subject and subject in path for subject in {call_id, *rooms}):
            return []
        return [Step(APP, BANDWIDTH, f"{at} REST {event.method} {path}"),
                Step(BANDWIDTH, APP, str(event.status), "reply" if event.status < 400 else "failed")]
    if isinstance(event, StateChange):
        return _state_steps(event, call_id, rooms, members, legs, keys, at)
    if isinstance(event, Note) and event.subject == call_id:
        if event.text.startswith("presses"):
            return [Step(CALLER, BANDWIDTH, f"{at} {event.text}")]
        return [Step(CALLER, CALLER, f"{at} {event.text}", "note")]
    return []


def _webhook_steps(event: Webhook, at: str) -> list[Step]:
    request = Step(BANDWIDTH, APP, f"{at} {event.event_type}: {event.method} {event.url}"
                   + (" (fallback)" if event.fallback else ""))
    status = str(event.status) if event.status is not None else "no answer"
    if event.accepted:
        return [request, Step(APP, BANDWIDTH, status, "reply")]
    return [request, Step(APP, BANDWIDTH, f"{status}, refused: {event.reason}", "failed")]


def _state_steps(event: StateChange, call_id: str | None, rooms: set[str], members: set[str], legs: set[str],
                 keys: _Participants, at: str) -> list[Step]:
    room = event.detail.split()[0] if event.detail else ""
    if event.subject in rooms:
        where = keys.room(event.subject)
        return [Step(where, where, f"{at} conference {event.state}", "note")]
    if event.subject != call_id and event.subject not in legs | members:
        return []
    who = keys.call(event.subject)
    if event.subject in members - legs and event.state not in ("joined", "left", "member updated"):
        return []
    if event.state == "initiated":
        return [Step(who, BANDWIDTH, f"{at} calls {event.detail}")]
    if event.state == "answered":
        return [Step(BANDWIDTH, who, f"{at} answered", "reply")]
    if event.state == "joined" and room in rooms:
        coach = " as coach" if event.detail.endswith("as coach") else ""
        return [Step(who, keys.room(room), f"{at} joins{coach}")]
    if event.state == "left" and room in rooms:
        return [Step(who, keys.room(room), f"{at} leaves", "reply")]
    if event.state == "bridged" and event.detail:
        return [Step(who, keys.call(event.detail), f"{at} bridged")]
    if event.subject in members - legs and event.state != "member updated":
        return []
    detail = f" ({event.detail})" if event.detail else ""
    return [Step(who, who, f"{at} {event.state}{detail}", "note")]


# -- Mermaid ---------------------------------------------------------------------------------------------------

def mermaid_text(text: str) -> str:
    """A label Mermaid reads as plain text: one line, cut to MAX_TEXT, syntax characters as entity codes."""
    flat = " ".join(str(text).split())
    if len(flat) > MAX_TEXT:
        flat = flat[:MAX_TEXT - 1] + "…"
    return "".join(f"#{ord(c)};" if c in _UNSAFE else c for c in flat) or " "


_ARROWS = {"request": "->>", "reply": "-->>", "failed": "--x"}


def to_mermaid(sequence: Sequence) -> str:
    lines = ["sequenceDiagram"]
    lines += [f"    participant {key} as {mermaid_text(label)}" for key, label in sequence.participants]
    for step in sequence.steps:
        if step.style == "note":
            lines.append(f"    Note over {step.source}: {mermaid_text(step.text)}")
        else:
            lines.append(f"    {step.source}{_ARROWS[step.style]}{step.target}: {mermaid_text(step.text)}")
    return "\n".join(lines) + "\n"


# -- SVG -------------------------------------------------------------------------------------------------------

COLUMN, ROW, TOP, BOX_HEIGHT = 240, 30, 56, 36
CHARACTER = 6.5  # about how wide a 12-pixel character is: labels are cut to fit their space
_COLOURS = {"request": "#1f4e79", "reply": "#2e7d32", "failed": "#c62828", "note": "#6d4c41"}


def to_svg(sequence: Sequence) -> str:
    """A self-contained SVG of the diagram: a box per participant, a lifeline under each, a row per step."""
    columns = {key: index for index, (key, _) in enumerate(sequence.participants)}
    width = max(1, len(columns)) * COLUMN
    height = TOP + BOX_HEIGHT + (len(sequence.steps) + 1) * ROW
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>']
    for key, label in sequence.participants:
        x = columns[key] * COLUMN + COLUMN // 2
        parts.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{height - 8}" stroke="#bbb" stroke-dasharray="4 3"/>')
        parts.append(f'<rect x="{x - COLUMN // 2 + 8}" y="8" width="{COLUMN - 16}" height="{BOX_HEIGHT}" rx="4" '
                     f'fill="#eef3f8" stroke="#1f4e79"/>')
        shown = xml_escape(_short(label, int((COLUMN - 24) // CHARACTER)))
        parts.append(f'<text x="{x}" y="{8 + BOX_HEIGHT // 2 + 4}" text-anchor="middle">'
                     f'{shown}<title>{xml_escape(label)}</title></text>')
    for row, step in enumerate(sequence.steps, start=1):
        parts.append(_svg_step(step, columns, TOP + BOX_HEIGHT // 2 + row * ROW, width))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_step(step: Step, columns: dict[str, int], y: int, width: int) -> str:
    colour = _COLOURS[step.style]
    source = columns[step.source] * COLUMN + COLUMN // 2
    target = columns[step.target] * COLUMN + COLUMN // 2
    title = f"<title>{xml_escape(step.text)}</title>"  # the whole label, shown on hover
    if step.style == "note" or source == target:
        text = xml_escape(_short(step.text, int((COLUMN - 28) // CHARACTER)))
        return (f'<g>{title}<rect x="{source - COLUMN // 2 + 8}" y="{y - 16}" width="{COLUMN - 16}" height="22" '
                f'fill="#fff8e1" stroke="{colour}"/><text x="{source}" y="{y}" text-anchor="middle" '
                f'fill="{colour}">{text}</text></g>')
    middle = (source + target) // 2
    room = 2 * min(middle, width - middle) - 16  # one label per row: it may reach past its arrow's ends
    text = xml_escape(_short(step.text, int(room // CHARACTER)))
    dash = ' stroke-dasharray="5 3"' if step.style != "request" else ""
    return (f'<g>{title}<line x1="{source}" y1="{y}" x2="{target}" y2="{y}" stroke="{colour}"{dash} '
            f'marker-end="url(#arrow)"/><text x="{middle}" y="{y - 5}" text-anchor="middle" '
            f'fill="{colour}">{text}</text></g>')


def _short(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def to_data(sequence: Sequence) -> dict[str, Any]:
    return {"mermaid": to_mermaid(sequence), "svg": to_svg(sequence)}
