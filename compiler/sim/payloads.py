"""Webhook payloads shaped like Bandwidth's: which fields an event carries comes from flowc.bxml.webhooks (the
typed models of Bandwidth's callback schemas, the project's one list of them), the values from the emulator.

Ids look like Bandwidth's (`c-` and five groups of hex digits for calls, `conf-...` for conferences, `r-...`
for recordings) and are drawn from a seeded generator, so a run is reproducible. Times are ISO 8601 UTC
strings from the virtual clock.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

# Fields Bandwidth sends only in some circumstances (a tag that was set, the B leg of a transfer, a queued
# outbound call, an inbound call with a diversion ...): present when they have a value, absent otherwise.
CONDITIONAL = frozenset({
    "tag", "parentCallId", "transferCallerId", "transferTo", "enqueuedTime", "diversion", "uui", "sipHeaders",
    "machineDetectionResult", "sipResponseCode", "answerTime", "streamParams", "transcription", "mediaUrl",
})
# Fields Bandwidth sends as null when there is nothing to say (an error message on a normal hang-up).
NULLABLE = frozenset({"errorMessage", "errorId"})
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@cache
def fields_of(event_type: str) -> tuple[str, ...]:
    """The JSON names of every field Bandwidth documents for an event, in the schema's order."""
    from flowc.bxml.webhooks import model_for

    model = model_for(event_type, event_type.startswith("conference"))
    return tuple(info.alias or name for name, info in model.model_fields.items())


def build(event_type: str, values: dict[str, Any]) -> dict[str, Any]:
    """The payload of `event_type`: every documented field the values know, nulls where Bandwidth sends them."""
    values = {**values, "eventType": event_type}
    payload: dict[str, Any] = {}
    for name in fields_of(event_type):
        value = values.get(name)
        if value is not None:
            payload[name] = value
        elif name in NULLABLE:
            payload[name] = None
    return payload


class Ids:
    """Bandwidth-shaped identifiers from a seeded generator (the same seed gives the same ids)."""

    def __init__(self, seed: int = 0) -> None:
        self.random = random.Random(seed)

    def _hex(self, digits: int) -> str:
        return f"{self.random.getrandbits(digits * 4):0{digits}x}"

    def _groups(self) -> str:
        return "-".join(self._hex(n) for n in (8, 8, 4, 4, 4)) + self._hex(8)

    def call(self) -> str:
        return "c-" + self._groups()

    def conference(self) -> str:
        return "conf-" + self._groups()

    def recording(self) -> str:
        return "r-" + self._groups()

    def sip_call_id(self) -> str:
        return f"{self._hex(16)}@sim.bandwidth.invalid"


def iso(seconds: float) -> str:
    """Virtual seconds as an ISO 8601 UTC time (millisecond precision, `Z`), as Bandwidth writes them."""
    moment = EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(seconds: float) -> str:
    """An ISO 8601 duration such as PT20.056S."""
    return f"PT{seconds:.3f}S".replace(".000S", "S")
