"""Business hours: what `hours NAME in "ZONE" { ... }` means, shared by the compiler and the web app.

The compiler reads day names, times and dates with the functions here, and the generated web app evaluates
the same `WeeklyHours` per request, in the declared zone, with the standard library's zoneinfo: a schedule is
never decided at compile time, so a document compiled in winter still routes correctly in summer. This module
imports nothing of the compiler's, so the web app loads it without the compiler's heavy parts.

The clock is the server's (UTC, converted to the zone), unless FLOWC_NOW pins it: an ISO 8601 instant with
its offset (`2026-12-25T10:00:00-05:00`), read per request, for tests and for trying a schedule by hand.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

# Monday first, as datetime.weekday() counts; each day by its full name and its three-letter abbreviation.
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAYS = {**{name: index for index, name in enumerate(DAY_NAMES)},
        **{name[:3]: index for index, name in enumerate(DAY_NAMES)}}
GROUPS = {"daily": tuple(range(7)), "weekdays": tuple(range(5)), "weekends": (5, 6)}
STATES = ("open", "closed")  # the values a schedule has, and a branch on it compares with
MINUTES_PER_DAY = 24 * 60
CLOCK_VARIABLE = "FLOWC_NOW"


def minutes(text: str) -> int | None:
    """`9:00` -> 540; `24:00` (the end of a day) -> 1440; None for a time that is not on a clock."""
    hours, _, mins = text.partition(":")
    if not (hours.isdigit() and mins.isdigit() and len(mins) == 2):
        return None
    value = int(hours) * 60 + int(mins)
    if int(mins) >= 60 or value > MINUTES_PER_DAY:
        return None
    return value


def clock(value: int) -> str:
    return f"{value // 60}:{value % 60:02d}"


def date(text: str) -> dt.date | None:
    """`2026-12-25` -> the date; None for one that is not in the calendar (`2026-02-30`)."""
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def day_range(first: int, last: int) -> tuple[int, ...]:
    """`friday to monday` runs over the weekend: friday, saturday, sunday, monday."""
    return tuple((first + step) % 7 for step in range(((last - first) % 7) + 1))


def now() -> dt.datetime:
    """The instant a request is answered at: FLOWC_NOW when set, else the server's clock."""
    pinned = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not pinned:
        return dt.datetime.now(dt.UTC)
    moment = dt.datetime.fromisoformat(pinned)
    if moment.tzinfo is None:
        raise ValueError(f"{CLOCK_VARIABLE}={pinned!r} needs an offset, such as {pinned}+00:00")
    return moment


@dataclass(frozen=True)
class WeeklyHours:
    """A compiled `hours` declaration: opening ranges per weekday, dates closed, an optional override hook."""

    name: str
    zone: str
    opening: tuple[tuple[int, int, int], ...]  # (weekday, first minute, minute after the last)
    closed: tuple[str, ...] = ()  # ISO dates, in the zone
    override: str | None = None  # hook(name): "open" or "closed" wins; anything else follows the schedule

    def state(self, moment: dt.datetime) -> str:
        """"open" or "closed" at an instant, in the schedule's zone."""
        from zoneinfo import ZoneInfo

        local = moment.astimezone(ZoneInfo(self.zone))
        if local.date().isoformat() in self.closed:
            return "closed"
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        if any(day == weekday and start <= minute < end for day, start, end in self.opening):
            return "open"
        return "closed"
