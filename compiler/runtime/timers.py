"""Durable timers shared by workers: kept in the store, claimed by one worker, run by a handler per kind.

A timer (a conference's time limit, its warning, a grace period) is scheduled under a unique key (scheduling
the key again moves it) and survives a restart. Every worker's background loop (started by the app's
lifespan) claims due timers with a lease, runs each kind's handler, and finishes it; a worker that dies
mid-run loses its lease and another runs the timer. A handler must tolerate what has already ended (a REST
404 means the room is gone: nothing to do) since a timer can outlive its conference.

Times are seconds on the runtime's clock (`Clock.now()`; time.time() unless a test or the emulator drives
it). `Clock.wake(when)` tells the clock's owner that something is due then: the system clock wakes the
background loop early; a virtual clock can schedule the firing in its own time. `await Clock.sleep(seconds)`
is how the runtime's Bandwidth client waits (pacing, Retry-After), in the clock's time.

Public interface: `Clock` (protocol), `SystemClock`, `TimerHandler`, `Timers(store, worker, clock)`,
`on(kind, handler)`, `schedule(key, kind, due, data)`, `schedule_in(key, kind, seconds, data)`, `cancel(key)`,
`await fire_due(now=None) -> int`, `await run(poll)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from flowc.runtime.store import Store, Timer

log = logging.getLogger("flowc.app")

TimerHandler = Callable[[Timer], Awaitable[None]]
LEASE = 60.0  # seconds a worker holds a timer it runs
DEFAULT_POLL = 0.5  # seconds between two looks at the store (FLOWC_TIMER_POLL)


class Clock(Protocol):
    def now(self) -> float: ...

    def wake(self, when: float) -> None:
        """Something is due at `when` (a timer was scheduled)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time; `wake` interrupts the background loop's sleep so a near timer is not late by a poll."""

    def __init__(self) -> None:
        self.changed: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> float:
        return time.time()

    def wake(self, when: float) -> None:
        if self.changed is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.changed.set)  # also from a plain `def` hook's thread

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Timers:
    def __init__(self, store: Store, worker: str, clock: Clock,
                 handlers: dict[str, TimerHandler] | None = None) -> None:
        self.store, self.worker, self.clock = store, worker, clock
        self.handlers: dict[str, TimerHandler] = handlers if handlers is not None else {}
        self.fired = 0  # timers this worker ran

    def on(self, kind: str, handler: TimerHandler) -> None:
        """Run `handler(timer)` for timers of this kind."""
        self.handlers[kind] = handler

    def schedule(self, key: str, kind: str, due: float, data: dict[str, Any] | None = None) -> None:
        self.store.schedule(Timer(key, kind, due, dict(data or {})))
        self.clock.wake(due)

    def schedule_in(self, key: str, kind: str, seconds: float, data: dict[str, Any] | None = None) -> float:
        """Schedule `seconds` from now on the runtime's clock; returns the due time."""
        due = self.clock.now() + seconds
        self.schedule(key, kind, due, data)
        return due

    def cancel(self, key: str) -> bool:
        return self.store.cancel(key)

    async def fire_due(self, now: float | None = None) -> int:
        """Claim and run every timer due by `now` (the clock's time by default); how many ran."""
        ran = 0
        while True:
            claimed = self.store.claim_due(self.worker, self.clock.now() if now is None else now, LEASE)
            if not claimed:
                return ran
            for timer in claimed:
                await self._run(timer)
                ran += 1

    async def _run(self, timer: Timer) -> None:
        handler = self.handlers.get(timer.kind)
        try:
            if handler is None:
                log.error("timer %s: no handler for its kind %r; dropped", timer.key, timer.kind)
            else:
                await handler(timer)
                self.fired += 1
        except Exception:  # a handler's bug must not stop the other timers; it is not run again
            log.exception("timer %s (%s) failed", timer.key, timer.kind)
        self.store.finish(timer.key, self.worker)

    async def run(self, poll: float = DEFAULT_POLL) -> None:
        """The background loop: fire what is due, then sleep until the next timer (at most `poll`), waking
        early when this worker schedules one."""
        changed = asyncio.Event()
        if isinstance(self.clock, SystemClock):
            self.clock.changed, self.clock.loop = changed, asyncio.get_running_loop()
        while True:
            try:
                await self.fire_due()
                upcoming = self.store.next_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store unreachable for a moment: log, go on
                log.exception("timers: claiming due timers failed")
                upcoming = None
            delay = poll if upcoming is None else max(0.0, min(poll, upcoming - self.clock.now()))
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=delay)
