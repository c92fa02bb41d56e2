"""What the benchmarks share: percentiles of latency samples, and one timed request to an ASGI app in process
(no sockets, no HTTP parsing: what the app itself costs)."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 (the sample below which 99 % of them lie) and the worst."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)], ordered[-1]


async def timed_post(app: Any, path: str, payload: dict[str, Any]) -> tuple[int, float]:
    """POST payload as JSON to path on the ASGI app; its status and the milliseconds it took."""
    body = json.dumps(payload).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"app"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())], "server": ("app", 80),
             "client": ("127.0.0.1", 1)}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter_ns()
    await app(scope, receive, send)
    elapsed = (time.perf_counter_ns() - started) / 1e6
    assert statuses, f"{path}: no response"
    return statuses[0], elapsed
