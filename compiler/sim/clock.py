"""The emulator's virtual time for an in-process app's runtime (flowc.runtime.services): its timers run on
the emulator's clock, so `bw.advance(29 * 60)` fires a time limit's warning exactly when it is due.

`attach(engine, app)` finds the runtime of a flowc-generated ASGI app (`app.state.webhooks.runtime`) and
gives it a `VirtualClock`: `now()` is the emulator's time as a Unix time (payloads' `eventTime` uses the same
epoch), and `wake(when)` (called when the app schedules a timer, or an outbox entry must wait out a long
Retry-After) puts a timeout on the emulator's queue at that instant; then the runtime fires its due timers and
sends its due outbox entries, on the engine's event loop, while the emulator serves the REST requests they
make. Such timeouts do not keep `settle()` running (like a Gather's timeout): `advance()` reaches them.
Without FLOWC_STORE the runtime gets a SQLite file of its own for the emulator's lifetime. `detach` stops the
runtime when the emulator closes (its store, a SQLite file's lock, its REST client) and removes that file.

`sleep(seconds)` (what the runtime's Bandwidth client waits on: its pacing, a Retry-After) waits in virtual
time too, through `Parking`: the app's work parks on the emulator's queue and goes on when the emulator's time
gets there, so a release paced at the Voice API's rate takes the virtual seconds the rate allows and no real
ones.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from flowc.sim.payloads import EPOCH

if TYPE_CHECKING:
    from flowc.sim.engine import Engine

START = EPOCH.timestamp()


class Parking:
    """The app's work waiting in virtual time (the Bandwidth client's pacing, a Retry-After), on the engine's
    event loop. A task may park once it no longer holds anything up: an in-process webhook's call once the
    app has answered (the side effects it sends after the reply), a timer's run. It then waits on a timer of
    the emulator's queue (busy: `settle()` runs until the work is done) and goes on when the emulator's time
    gets there, while calls, webhooks and the REST API carry on meanwhile. A task that has not answered yet
    (a hook calling Bandwidth before its reply) cannot let time pass: it waits in real time, with a note."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.may_park: set[asyncio.Task[Any]] = set()
        self.parked: set[asyncio.Task[Any]] = set()
        self.detached: set[asyncio.Task[Any]] = set()  # left running by whoever started it, parked
        self._changed: asyncio.Event | None = None

    @property
    def changed(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def allow(self, task: asyncio.Task[Any] | None) -> None:
        if task is None:
            return
        self.may_park.add(task)
        self.changed.set()

    async def sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if task is None or task not in self.may_park:
            self.engine.note("app", f"waited {seconds:g} s in real time while answering a webhook (the "
                             "emulator's time stands still until the answer)")
            await asyncio.sleep(seconds)
            return
        resumed = asyncio.get_running_loop().create_future()
        self.engine.at(seconds, lambda: self._resume(resumed))
        self.parked.add(task)
        self.changed.set()
        try:
            await resumed
        finally:
            self.parked.discard(task)

    def _resume(self, resumed: asyncio.Future[None]) -> None:
        engine = self.engine
        if resumed.done() or engine.loop.is_closed():
            return
        resumed.set_result(None)
        engine.run_on_loop(engine._while_serving(self.until(self._quiet)))

    def _quiet(self) -> bool:
        return all(task.done() or task in self.parked for task in self.may_park)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Run the loop until `condition()` holds; it is looked at again whenever a task parks or ends."""
        while not condition():
            await self.changed.wait()
            self.changed.clear()

    async def run(self, coroutine: Coroutine[Any, Any, Any], may_park: bool = True) -> None:
        """Run the app's work as a task of its own until it is done or parked (it then goes on by itself as the
        emulator's time passes). With `may_park=False` it may park only once allowed (its webhook answered)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        task.add_done_callback(self._finished)
        if may_park:
            self.allow(task)
        try:
            await self.until(lambda: task.done() or task in self.parked)
        except BaseException:  # cancelled: the webhook's timeout
            task.cancel()
            raise
        if task.done():
            task.result()
        else:
            self.detached.add(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.may_park.discard(task)
        self.parked.discard(task)
        if task in self.detached:
            self.detached.discard(task)
            if not task.cancelled() and task.exception() is not None:
                error = task.exception()
                self.engine.note("app", f"work after a wait failed: {type(error).__name__}: {error}")
        if self._changed is not None:
            self._changed.set()

    def close(self) -> None:
        """Cancel what is still parked (the emulator closes)."""
        waiting = [task for task in self.may_park if not task.done()]
        for task in waiting:
            task.cancel()
        if waiting and not self.engine.loop.is_closed():
            self.engine.run_on_loop(asyncio.gather(*waiting, return_exceptions=True))


class VirtualClock:
    def __init__(self, engine: Engine, runtime: Any, parking: Parking) -> None:
        self.engine, self.runtime, self.parking = engine, runtime, parking

    def now(self) -> float:
        return START + self.engine.now

    async def sleep(self, seconds: float) -> None:
        await self.parking.sleep(seconds)

    def wake(self, when: float) -> None:
        engine = self.engine
        if engine.lock.acquire(blocking=False):  # the engine's own thread (re-entrant), or nobody holds it
            try:
                self._arm(when)
            finally:
                engine.lock.release()
        else:  # a plain `def` hook's thread while the engine waits for the app: run it there
            engine.submit(lambda: self._arm(when))

    def _arm(self, when: float) -> None:
        self.engine.at(max(0.0, when - self.now()), self._fire, busy=False)

    def _fire(self) -> None:
        engine = self.engine
        if engine.loop.is_closed():
            return
        try:
            engine.run_on_loop(engine._while_serving(self.parking.run(self._due())))
        except Exception as error:  # the app's store or handler: shown on the timeline, the emulator goes on
            engine.note("app", f"timers failed: {type(error).__name__}: {error}")


    async def _due(self) -> None:
        await self.runtime.timers.fire_due()
        await self.runtime.outbox.deliver_available()  # entries waiting out a long Retry-After


def runtime_of(app: Any) -> Any:
    """The flowc runtime of a generated app, or None for any other ASGI app."""
    webhooks = getattr(getattr(app, "state", None), "webhooks", None)
    return getattr(webhooks, "runtime", None) if webhooks is not None else None


class Attached:
    """An app's runtime on the emulator's clock, and the private store folder it was given (or None)."""

    def __init__(self, runtime: Any, folder: tempfile.TemporaryDirectory[str] | None) -> None:
        self.runtime, self.folder = runtime, folder


def attach(engine: Engine, app: Any, parking: Parking) -> Attached | None:
    """Put a generated app's runtime on the virtual clock. Without FLOWC_STORE it gets a SQLite file of its
    own, removed when the emulator closes, so that no state leaks from one emulator (one test) to the next."""
    runtime = runtime_of(app)
    if runtime is None or not hasattr(runtime, "use_clock"):
        return None
    runtime.use_clock(VirtualClock(engine, runtime, parking))
    folder = None
    if runtime.store_url is None and not os.environ.get("FLOWC_STORE", "").strip():
        folder = tempfile.TemporaryDirectory(prefix="flowc-sim-store-")
        runtime.store_url = f"sqlite://{folder.name}/state.sqlite"
    return Attached(runtime, folder)


def detach(engine: Engine, attached: Attached | None) -> None:
    if attached is None:
        return
    if not engine.loop.is_closed():
        engine.run_on_loop(attached.runtime.stop())
    if attached.folder is not None:
        attached.folder.cleanup()
