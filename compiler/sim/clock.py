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
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from flowc.sim.payloads import EPOCH

if TYPE_CHECKING:
    from flowc.sim.engine import Engine

START = EPOCH.timestamp()


class VirtualClock:
    def __init__(self, engine: Engine, runtime: Any) -> None:
        self.engine, self.runtime = engine, runtime

    def now(self) -> float:
        return START + self.engine.now

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
            engine.run_on_loop(engine._while_serving(self._due()))
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


def attach(engine: Engine, app: Any) -> Attached | None:
    """Put a generated app's runtime on the virtual clock. Without FLOWC_STORE it gets a SQLite file of its
    own, removed when the emulator closes, so that no state leaks from one emulator (one test) to the next."""
    runtime = runtime_of(app)
    if runtime is None or not hasattr(runtime, "use_clock"):
        return None
    runtime.use_clock(VirtualClock(engine, runtime))
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
