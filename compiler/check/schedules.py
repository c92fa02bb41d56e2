"""Business hours: the zone exists, times are on a clock, dates are in the calendar, ranges are not empty and do
not overlap, and a branch on a schedule compares it with `open` or `closed`.

The zone is looked up with zoneinfo itself (one file read for a valid name); the whole list of zones, slow to
build (docs/performance.md), is read only to suggest a name for an unknown one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from flowc.check.common import CheckContext, diagnostic, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, did_you_mean
from flowc.runtime.schedule import DAY_NAMES, MINUTES_PER_DAY, STATES, clock, date, minutes
from flowc.semantics.ir import Hours, OpeningRange


def zone_exists(name: str) -> bool:
    """Whether zoneinfo knows the zone, as the web app will construct it."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name.split("/"):
        return False
    if not _loads(name):
        return False
    if name.upper() == name or not _loads(name.upper()):
        return True  # the usual case: a case-sensitive file system found exactly this name
    return name in _zones_by_folded().get(name.casefold(), [])  # `america/new_york` on macOS or Windows


def _loads(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.cache
def _zones_by_folded() -> dict[str, list[str]]:
    from zoneinfo import available_timezones

    zones: dict[str, list[str]] = {}
    for zone in available_timezones():
        zones.setdefault(zone.casefold(), []).append(zone)
    return zones


def suggest_zone(name: str) -> str | None:
    zones = _zones_by_folded()
    same = zones.get(name.casefold().replace(" ", "_"))
    if same:
        return same[0]  # `america/new_york`, `America/New York`
    folded = did_you_mean(name.casefold(), list(zones))
    return zones[folded][0] if folded else None


@rule("FC251")
def unknown_zones(context: CheckContext) -> Iterator[Diagnostic]:
    for hours in context.project.hours.values():
        if zone_exists(hours.zone):
            continue
        guess = suggest_zone(hours.zone)
        yield diagnostic("FC251", f"unknown time zone `{hours.zone}`", hours.zone_span,
                         help=f"did you mean `{guess}`?" if guess else
                         "use an IANA zone name such as \"America/New_York\" or \"Europe/Paris\"",
                         fix=Fix(f"use `{guess}`", (Edit(hours.zone_span, f'"{guess}"'),)) if guess else None)


@rule("FC252")
def invalid_times(context: CheckContext) -> Iterator[Diagnostic]:
    for hours in context.project.hours.values():
        for opening in hours.opening:
            ends = ((opening.start, opening.start_span, False), (opening.end, opening.end_span, True))
            for text, span, is_end in ends:
                value = minutes(text)
                if value is not None and (is_end or value < MINUTES_PER_DAY):
                    continue
                why = "`24:00` ends a day; a range starting at midnight starts at `0:00`" if value is not None else \
                    "times run from 0:00 to 24:00, with minutes 00 to 59"
                yield diagnostic("FC252", f"`{text}` is not a time of day", span, help=why)


@rule("FC253")
def invalid_dates(context: CheckContext) -> Iterator[Diagnostic]:
    for hours in context.project.hours.values():
        for closed in hours.closed:
            if date(closed.date) is None:
                yield diagnostic("FC253", f"`{closed.date}` is not a date in the calendar", closed.span,
                                 help="dates are written YYYY-MM-DD, such as 2026-12-25")


@rule("FC254")
def empty_ranges(context: CheckContext) -> Iterator[Diagnostic]:
    for hours in context.project.hours.values():
        for opening in hours.opening:
            start, end = minutes(opening.start), minutes(opening.end)
            if start is None or end is None or start >= MINUTES_PER_DAY or start < end:
                continue  # (a start of 24:00 is FC252's)
            help = "the end must come after the start"
            if end < start:
                help += (f"; hours past midnight are two ranges: `... {opening.start} to 24:00` and the next day "
                         f"`0:00 to {opening.end}`")
            yield diagnostic("FC254", f"`{opening.start} to {opening.end}` is an empty range", opening.span,
                             help=help)


@rule("FC255")
def overlapping_ranges(context: CheckContext) -> Iterator[Diagnostic]:
    for hours in context.project.hours.values():
        yield from _overlaps(hours)


def _overlaps(hours: Hours) -> Iterator[Diagnostic]:
    seen: dict[int, list[tuple[int, int, OpeningRange]]] = {}
    for opening in hours.opening:
        start, end = minutes(opening.start), minutes(opening.end)
        if start is None or end is None or start >= end:
            continue  # reported by FC252 or FC254
        clash = None
        for day in opening.days:
            for other_start, other_end, other in seen.get(day, []):
                if start < other_end and other_start < end and clash is None:
                    clash = (day, other, max(start, other_start), min(end, other_end))
            seen.setdefault(day, []).append((start, end, opening))
        if clash is not None:
            day, other, first, last = clash
            yield diagnostic("FC255", f"`{opening.start} to {opening.end}` overlaps `{other.start} to {other.end}` "
                             f"on {DAY_NAMES[day]} ({clock(first)} to {clock(last)})", opening.span,
                             labels=[Label(other.span, "overlapped range")],
                             help="merge the two ranges, or correct the time or day that is wrong")


@rule("FC256")
def unknown_states(context: CheckContext) -> Iterator[Diagnostic]:
    schedules = context.project.hours
    for flow in context.flows.values():
        for branch in flow.branches:
            if branch.field not in schedules:
                continue
            for value, span in zip(branch.values, branch.value_spans, strict=False):
                if value in STATES:
                    continue
                guess = did_you_mean(value, list(STATES))
                yield diagnostic("FC256", f"`{branch.field}` is `open` or `closed`, never `{value}`", span,
                                 help=f"did you mean `{guess}`?" if guess else f"write `when {branch.field} open`",
                                 fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None)
