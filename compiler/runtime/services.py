"""The generated app's stateful services in one place: the store, the Bandwidth client, the outbox, the timers
and the clock, opened on first use or by the app's lifespan, and the worker-count rule.

Public interface: `Runtime(store_url=None, clock=None)`; properties `store`, `client`, `outbox`, `timers`,
`clock`, `worker`; `on_timer(kind, handler)`; `check_workers()` (StoreError when the store is SQLite and
FLOWC_WORKERS or WEB_CONCURRENCY says more than one worker); `control(fields, cause=None) -> Control`;
`timer_control(timer, **fields) -> Control`; `await deliver(control)` (send what it recorded); `await start()`
(open the store, claim it, start the timer and outbox loops) and `await stop()`; `use_clock(clock)`;
`worker_count()`.

Environment: FLOWC_STORE (see flowc.runtime.store), FLOWC_WORKERS (set by `flowc serve --workers`),
WEB_CONCURRENCY (uvicorn's and gunicorn's worker count), FLOWC_TIMER_POLL and FLOWC_OUTBOX_POLL (seconds
between background looks at the store), and the BANDWIDTH_* variables of flowc.runtime.bandwidth.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from typing import TYPE_CHECKING, Any

from flowc.runtime.control import Control
from flowc.runtime.outbox import Outbox
from flowc.runtime.store import Store, StoreError, Timer, event_id, open_store
from flowc.runtime.timers import DEFAULT_POLL, Clock, SystemClock, TimerHandler, Timers

if TYPE_CHECKING:
    from flowc.runtime.bandwidth import BandwidthClient


def worker_count() -> int:
    """How many worker processes serve this app, as the server says: FLOWC_WORKERS (`flowc serve
    --workers`), else WEB_CONCURRENCY (uvicorn's --workers default, gunicorn's too), else 1."""
    for name in ("FLOWC_WORKERS", "WEB_CONCURRENCY"):
        raw = os.environ.get(name, "").strip()
        if raw:
            if not raw.isdigit() or int(raw) < 1:
                raise StoreError(f"{name} must be a positive whole number, not {raw!r}")
            return int(raw)
    return 1


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not 0 < value < 3600:
        raise ValueError(f"{name} must be a number of seconds between 0 and 3600, not {raw!r}")
    return value


class Runtime:
    def __init__(self, store_url: str | None = None, clock: Clock | None = None) -> None:
        self.store_url = store_url
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._clock: Clock = clock or SystemClock()
        self._store: Store | None = None
        self._client: BandwidthClient | None = None
        self._outbox: Outbox | None = None
        self._timers: Timers | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.timer_handlers: dict[str, TimerHandler] = {}  # registered before the store is opened

    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        """Run `handler(timer)` for due timers of this kind (every worker registers the same handlers)."""
        self.timer_handlers[kind] = handler

    # -- the services, opened on first use ---------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self.check_workers()
            store = open_store(self.store_url)
            try:
                store.claim_single_worker()
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    @property
    def client(self) -> BandwidthClient:
        if self._client is None:
            from flowc.runtime.bandwidth import BandwidthClient

            self._client = BandwidthClient.from_environment(clock=self._clock)  # it paces on the runtime's clock
        return self._client

    @property
    def clock(self) -> Clock:
        return self._clock

    def use_clock(self, clock: Clock) -> None:
        """Run timers, and the Bandwidth client's waits, on another clock (the emulator's virtual time, a
        test's)."""
        self._clock = clock
        if self._timers is not None:
            self._timers.clock = clock
        if self._client is not None:
            self._client.clock = clock

    def now(self) -> float:
        return self._clock.now()

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.store, lambda: self.client, self.worker, self.now,
                                  lambda when: self._clock.wake(when))
        return self._outbox

    @property
    def timers(self) -> Timers:
        if self._timers is None:
            self._timers = Timers(self.store, self.worker, self._clock, self.timer_handlers)
        return self._timers

    def check_workers(self) -> None:
        """Refuse to run SQLite under several workers, before anything is opened (the flock on the file is the
        second line, for servers that do not say how many workers they start)."""
        url = self.store_url if self.store_url is not None else os.environ.get("FLOWC_STORE", "")
        if url.strip().startswith(("redis://", "rediss://", "unix://")):
            return
        workers = worker_count()
        if workers > 1:
            raise StoreError(f"the app runs {workers} workers but its state store is SQLite, which serves one "
                             "worker only: run one worker, or set FLOWC_STORE=redis://HOST:PORT/DB")

    # -- requests ----------------------------------------------------------------------------------------------

    def control(self, fields: dict[str, Any], cause: str | None = None) -> Control:
        """The control API for one request (its fields give the default call and conference) or timer."""
        return Control(self.outbox, self.store, fields, cause if cause is not None else event_id(fields))

    def timer_control(self, timer: Timer, **fields: Any) -> Control:
        """The control API for a timer's handler: `fields` give the defaults (conferenceId=..., callId=...)."""
        return Control(self.outbox, self.store, fields, f"timer|{timer.key}|{timer.due!r}")

    async def deliver(self, control: Control) -> None:
        """Send what `control` recorded (after the reply; whatever fails stays for the background loop)."""
        if control.effects:
            await self.outbox.deliver(control.effects)

    # -- lifetime ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (refusing SQLite under several workers) and start the background loops."""
        self.store  # noqa: B018 - opened now, so that a configuration error stops the start-up
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self.timers.run(_seconds("FLOWC_TIMER_POLL", DEFAULT_POLL)),
                                        name="flowc-timers"),
                       loop.create_task(self.outbox.run(_seconds("FLOWC_OUTBOX_POLL", 1.0)), name="flowc-outbox")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.close()
            self._client = None
        self.close_store()

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._outbox = self._timers = None
