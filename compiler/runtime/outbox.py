"""The outbox: REST side effects recorded in the store while a webhook is handled, sent after its reply.

A handler must answer within callbackTimeout, and a crash after the reply must not lose what it decided, so
each side effect is first recorded (`Outbox.add`, with an id made from its cause: a repeated or duplicated
event records nothing new), then sent once the reply is out (`deliver`, by the worker that answered), and
whatever is left (a crash, a Retry-After longer than the request could wait, a worker that lost its lease) is
sent by any worker's background loop (`run`, started by the app's lifespan). Sending claims the entry in the
store first, so two workers never send one entry; a non-idempotent request whose outcome is unknown is marked
failed, never sent again.

Public interface: `Outbox(store, client, worker, clock)`, `add(effect_id, request) -> bool`,
`await deliver(ids)`, `await deliver_available() -> int`, `await run(poll)`; `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flowc.runtime.bandwidth import ApiError, Request
from flowc.runtime.store import Effect, Store

if TYPE_CHECKING:
    from flowc.runtime.bandwidth import BandwidthClient

log = logging.getLogger("flowc.app")

MAX_ATTEMPTS = 5  # sends of one idempotent entry (429s included) before it is given up
LEASE = 60.0  # seconds a worker holds an entry it sends (longer than one request's max_wait)
GRACE = 30.0  # seconds the background loop leaves a new entry to the request that recorded it


def as_request(effect: Effect) -> Request:
    return Request(effect.method, effect.path, effect.body, effect.content_type, effect.idempotent)


class Outbox:
    def __init__(self, store: Store, client: Callable[[], BandwidthClient], worker: str,
                 clock: Callable[[], float] = time.time, wake: Callable[[float], None] | None = None) -> None:
        self.store, self.client, self.worker, self.clock = store, client, worker, clock
        self.wake = wake  # told when an entry is to be sent again (the emulator's clock schedules it)
        self.delivered = 0  # entries this worker sent successfully

    def add(self, effect_id: str, request: Request) -> bool:
        """Record a side effect; False (nothing recorded) when an entry with this id exists already."""
        effect = Effect(effect_id, request.method, request.path, request.body, request.content_type,
                        request.idempotent)
        return self.store.record(effect, available=self.clock() + GRACE)

    async def deliver(self, ids: Iterable[str]) -> None:
        """Send these entries now, in order (those another worker holds or has sent are skipped)."""
        for effect_id in ids:
            effect = self.store.claim_effect(effect_id, self.worker, self.clock(), LEASE)
            if effect is not None:
                await self._send(effect)

    async def deliver_available(self) -> int:
        """Send what is pending and free to send (the background loop's step); how many were tried."""
        effects = self.store.claim_effects(self.worker, self.clock(), LEASE)
        for effect in effects:
            await self._send(effect)
        return len(effects)

    async def run(self, poll: float = 1.0) -> None:
        while True:
            try:
                await self.deliver_available()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store unreachable for a moment: log, go on
                log.exception("outbox: sending pending side effects failed")
            await asyncio.sleep(poll)

    async def _send(self, effect: Effect) -> None:
        attempts = effect.attempts + 1
        try:
            await self.client().send(as_request(effect))
        except ApiError as error:
            self._failed(effect, attempts, error)
            return
        self.store.settle(effect.id, "done", attempts)
        self.delivered += 1

    def _failed(self, effect: Effect, attempts: int, error: ApiError) -> None:
        retryable = error.status == 429 or (error.status is None and effect.idempotent) or \
            (error.status is not None and error.status >= 500 and effect.idempotent)
        if retryable and attempts < MAX_ATTEMPTS:
            wait = error.retry_after if error.retry_after is not None else min(2.0 ** attempts, 30.0)
            self.store.settle(effect.id, "pending", attempts, retry_at=self.clock() + wait)
            if self.wake is not None:
                self.wake(self.clock() + wait)
            log.info("outbox: %s %s: %s; again in %.1f s", effect.method, effect.path, error, wait)
            return
        self.store.settle(effect.id, "failed", attempts)
        level = logging.INFO if error.status == 404 else logging.WARNING  # 404: the call or room has ended
        log.log(level, "outbox: %s %s failed: %s", effect.method, effect.path, error)
