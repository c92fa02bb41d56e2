"""The editor's side of business hours (`hours NAME in "ZONE" { ... }`): what hover says of the declaration,
its lines and the branches on it, and what completion offers inside it. Texts come from flowc.runtime.schedule (the
words) and flowc.core.codes (the rules), as for statements."""

from __future__ import annotations

from flowc.check.registry import RULES
from flowc.core.codes import CODES
from flowc.runtime.schedule import DAY_NAMES, DAYS, GROUPS, STATES
from flowc.semantics.ir import Hours

HOURS_DECLARATION = '`hours NAME in "ZONE" { DAYS TIME to TIME[, ...] / closed DATE[, ...] / override hook(name) }`'
LINE_WORDS = {
    "closed": "`closed DATE[, DATE...]`: dates (YYYY-MM-DD, in the zone) closed all day, such as holidays",
    "override": "`override hook(name)`: your function returns \"open\" or \"closed\" to decide instead of the "
                "hours, or \"\" to follow them",
    "to": "`DAY to DAY` runs over the days between (`friday to monday` crosses the weekend); `TIME to TIME` is a "
          "range, open from its start up to its end",
    **{group: f"`{group}`: " + ", ".join(DAY_NAMES[d] for d in days) for group, days in GROUPS.items()},
}
STATE_TEXTS = {"open": "within the opening hours, on a day that is not closed (or the override says open)",
               "closed": "outside the opening hours, on a closed date, or the override says closed"}


def rule_codes() -> list[str]:
    return [code for rule in RULES if rule.function.__module__.endswith(".schedules") for code in rule.codes]


def hours_text(hours: Hours | None, name: str) -> str:
    """Hover on a declaration's name or keyword, or on `when NAME` of a branch on it."""
    if hours is None:
        return f"**hours `{name}`**\n\n{HOURS_DECLARATION}"
    lines = [f"**hours `{name}`** in `{hours.zone}`, evaluated by the web app per request", ""]
    for opening in hours.opening:
        days = ", ".join(DAY_NAMES[d] for d in opening.days)
        lines.append(f"- {days}: {opening.start} to {opening.end}")
    if hours.closed:
        lines.append("- closed on " + ", ".join(c.date for c in hours.closed))
    if hours.override is not None:
        lines.append(f"- `hook({hours.override.name})` may decide instead (\"open\" or \"closed\")")
    lines += ["", f"A flow branches on it with `when {name} open {{ ... }}` or `when {name} closed {{ ... }}`."]
    lines += ["", "**Rules**", ""] + [f"- `{c}` {CODES[c].title}" for c in rule_codes()]
    return "\n".join(lines)


def word_text(word: str) -> str | None:
    """Hover on a word of a line inside `hours { ... }`: a day, a group, `closed`, `override`, `to`."""
    if word in DAYS:
        return f"**`{word}`**: {DAY_NAMES[DAYS[word]]}, in the declaration's time zone"
    if word in LINE_WORDS:
        return f"**`{word}`**: {LINE_WORDS[word]}"
    return None


def state_text(name: str, value: str) -> str:
    if value in STATE_TEXTS:
        return f"**`{value}`**: this branch's document is served while `{name}` is {value}: {STATE_TEXTS[value]}"
    return f"**`{value}`**: `{name}` is only ever `open` or `closed` (FC256)"


def line_items() -> list[tuple[str, str]]:
    """Completion at the start of a line inside `hours { ... }`."""
    items = [(day, f"opening hours on {day}") for day in DAY_NAMES]
    items += [(group, text) for group, text in LINE_WORDS.items() if group in GROUPS]
    items += [("closed", LINE_WORDS["closed"]), ("override", LINE_WORDS["override"])]
    return items


def state_items() -> list[tuple[str, str]]:
    return [(state, STATE_TEXTS[state]) for state in STATES]
