"""The Voice API's rate limits as the emulator enforces them, per account, in virtual time.

Bandwidth documents two limits on creating calls (5 a second, 100 active sessions; a 429 whose description
gives the reason) and says that every Voice API endpoint may answer 429 with Retry-After, without publishing
the rate of the others. The figures live in the vocabulary (`rest_limits` in data/bxml.json): `create_call`
and `requests` (every other request under /accounts/{accountId}, flowc's assumption), each a rate a second and
a burst, and `active_sessions`. The generated app's client (flowc.runtime.bandwidth) paces itself with the
same figures.

Each rate is a token bucket, full when the emulator starts: a request takes a token, tokens come back at the
rate, up to the burst. A request with no token left is refused, 429, with `Retry-After` the whole seconds
until one is back (at least 1), and does not count. Times are the emulator's (`Engine.now`), counted to the
millisecond (RESOLUTION), so that a client pacing itself on the same clock is never refused for the rounding
of a float. `RateLimits.refused` keeps every refusal, for tests to assert there was none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flowc.bxml.vocabulary import Rate, vocabulary

RESOLUTION = 0.001  # seconds: a request this close to its token's return is on time
CALL_CREATION = "Account call creation rate limit exceeded"
CONCURRENT_CALLS = "Account concurrent call limit exceeded"
REQUESTS = "Account request rate limit exceeded"


@dataclass
class Bucket:
    rate: Rate
    tokens: float = -1.0  # -1: full (set on first use)
    last: float = 0.0

    def take(self, now: float) -> float | None:
        """Take a token at `now`; None when taken, else the seconds until one is back."""
        per_second, burst = self.rate.per_second, float(self.rate.burst)
        tokens = burst if self.tokens < 0 else min(burst, self.tokens + (now - self.last) * per_second)
        self.last = now
        if tokens + RESOLUTION * per_second >= 1.0:
            self.tokens = max(0.0, tokens - 1.0)
            return None
        self.tokens = tokens
        return (1.0 - tokens) / per_second


@dataclass(frozen=True)
class Refusal:
    time: float
    method: str
    path: str
    reason: str


@dataclass
class RateLimits:
    """One account's limits; `Bandwidth(rate_limits=RateLimits(requests=Rate(2, 2)))` sets others."""

    create_call: Rate = field(default_factory=lambda: vocabulary().rest_limits.create_call)
    requests: Rate = field(default_factory=lambda: vocabulary().rest_limits.requests)
    active_sessions: int = field(default_factory=lambda: vocabulary().rest_limits.active_sessions)
    refused: list[Refusal] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._calls, self._requests = Bucket(self.create_call), Bucket(self.requests)

    def check(self, method: str, path: str, now: float, active_calls: int) -> tuple[str, int] | None:
        """A request to the Voice API at `now`: None when it may go on, else (why, Retry-After seconds)."""
        refusal: tuple[str, float] | None = None
        if method == "POST" and path.rstrip("/").endswith("/calls"):
            if active_calls >= self.active_sessions:
                refusal = CONCURRENT_CALLS, 1.0
            else:
                wait = self._calls.take(now)
                refusal = None if wait is None else (CALL_CREATION, wait)
        else:
            wait = self._requests.take(now)
            refusal = None if wait is None else (REQUESTS, wait)
        if refusal is None:
            return None
        reason, wait = refusal
        self.refused.append(Refusal(now, method, path, reason))
        return reason, max(1, math.ceil(wait - RESOLUTION))
