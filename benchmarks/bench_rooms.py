"""Benchmark of rooms (flowc.runtime.rooms) through the generated app of examples/meeting-room, in-process (ASGI,
no sockets): what admission and event handling add to a webhook over the stateless path, on SQLite and on Redis,
and how long releasing a lobby of 19 callers takes in the emulator's virtual time. Figures: docs/performance.md.

1. Alternating rounds of three webhooks answered by the same app: `initiate` of `full` (a plain document: the
   stateless path), `initiate` of `guest` (an admission: one atomic step of the store), and a
   `conferenceMemberJoin` of that guest (claim the event, join, the tone). Each round uses a new room name's
   worth of callers (the store is cleared every 18 admissions, so no room fills). Percentiles per kind; the
   difference with the stateless path is what rooms add.
2. The emulator: 19 callers wait in the lobby, the host joins; how many REST requests the release makes, how
   many the emulator refused for going over the Voice API's rate limits (flowc.sim.limits), the virtual time
   from the host's join to the last caller's join next to what the limits allow ((19 - burst) / rate: the
   first `burst` PUTs at once, then one per 1/rate s), and the real time the release took.

    .venv/bin/python benchmarks/bench_rooms.py [--webhooks 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from flowc.cli.commands import main as flowc  # noqa: E402
from measure import percentiles, timed_post  # noqa: E402
from redis_server import RedisServer  # noqa: E402


async def call(app, path: str, payload: dict) -> float:
    status, elapsed = await timed_post(app, path, payload)
    assert status in (200, 204), (path, status)
    return elapsed


def initiate(call_id: str) -> dict:
    return {"eventType": "initiate", "callId": call_id, "from": "+15550000001", "to": "+15550000002",
            "direction": "inbound", "accountId": "1", "applicationId": "a", "eventTime": "2026-01-01T00:00:00Z"}


def member_join(call_id: str, n: int) -> dict:
    return {"eventType": "conferenceMemberJoin", "conferenceId": "conf-bench", "name": "standup", "callId": call_id,
            "from": "+15550000001", "to": "+15550000002", "eventTime": f"2026-01-01T00:00:{n % 60:02d}Z"}


async def rounds(app, rooms, webhooks: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"stateless": [], "admission": [], "memberJoin": []}
    host = "c-host"
    for n in range(webhooks):
        if n % 18 == 0:
            rooms.store.clear()
            await call(app, "/flows/host", initiate(host))
            await call(app, "/conferences/standup/events", member_join(host, n))
        guest = f"c-guest-{n}"
        samples["stateless"].append(await call(app, "/flows/full", initiate(guest + "-x")))
        samples["admission"].append(await call(app, "/flows/guest", initiate(guest)))
        samples["memberJoin"].append(await call(app, "/conferences/standup/events", member_join(guest, n)))
    return samples


def measure(out: Path, store_url: str, webhooks: int) -> dict[str, tuple[float, float]]:
    os.environ["FLOWC_STORE"] = store_url
    from flowc.sim.transport import load_out

    _, app = load_out(out)
    rooms = app.state.webhooks.rooms  # no REST request here (no lobby to release); the emulator part has them

    async def measured() -> dict[str, list[float]]:
        try:
            return await rounds(app, rooms, webhooks)
        finally:
            await rooms.runtime.stop()
    samples = asyncio.run(measured())
    return {kind: percentiles(values)[:2] for kind, values in samples.items()}


def lobby_release() -> dict[str, float]:
    from flowc.bxml.vocabulary import vocabulary
    from flowc.sim import Bandwidth

    limit = vocabulary().rest_limits.requests
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        flowc(["compile", str(ROOT / "benchmarks" / "data" / "big-room"), "-o", str(out)])
        with Bandwidth(out, settle_seconds=10) as bw:
            waiting = [bw.inbound("guest") for _ in range(19)]
            before = len([e for e in bw.events if e.kind == "rest"])
            started = time.perf_counter()
            host = bw.inbound("host", wait=False)
            bw.advance(30)  # the host's sentence, its join, the release
            real = time.perf_counter() - started
            room = bw.conference("big")
            assert room is not None and set(room.members) == {host, *waiting}, "not all released"
            joins = [e.time for e in bw.events if e.kind == "state" and e.state == "joined"]
            joined_at = next(e.time for e in bw.events if e.kind == "state" and e.state == "joined"
                             and e.subject == host.id)
            rest = len([e for e in bw.events if e.kind == "rest"]) - before
            return {"rest": rest, "refused": len(bw.rate_limits.refused), "virtual": max(joins) - joined_at,
                    "allowed": max(0, 19 - limit.burst) / limit.per_second, "members": len(room.members),
                    "real": real, "rate": limit.per_second, "burst": limit.burst}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=3000)
    args = parser.parse_args()
    os.environ.setdefault("BANDWIDTH_CALLBACK_USER", "bench")
    os.environ.setdefault("BANDWIDTH_CALLBACK_PASSWORD", "bench")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        source = Path(folder) / "src"
        source.mkdir()
        for file in (ROOT / "examples" / "meeting-room").glob("*.flow"):  # without credentials: app time only
            text = file.read_text().replace("application auth", "# application auth")
            (source / file.name).write_text(text)
        flowc(["compile", str(source), "-o", str(out)])
        (Path(folder) / "redis").mkdir()
        redis = RedisServer(Path(folder) / "redis")
        redis.start()
        try:
            results = {"sqlite": measure(out, f"sqlite:{folder}/state.sqlite", args.webhooks),
                       "redis": measure(out, redis.url, args.webhooks)}
        finally:
            redis.stop()
            os.environ.pop("FLOWC_STORE", None)
    for store, kinds in results.items():
        base50, base99 = kinds["stateless"]
        for kind, (p50, p99) in kinds.items():
            extra = "" if kind == "stateless" else f"  adds p50 {p50 - base50:+.3f} ms, p99 {p99 - base99:+.3f} ms"
            print(f"{store:6} {kind:10} p50 {p50:.3f} ms  p99 {p99:.3f} ms{extra}")
    lobby = lobby_release()
    print(f"lobby of 19: {lobby['rest']} REST requests, {lobby['refused']} refused over the limits "
          f"({lobby['rate']:g}/s, bursts of {lobby['burst']}); last caller joined {lobby['virtual']:.3f} s (virtual) "
          f"after the host, the limits allow {lobby['allowed']:.3f} s; {lobby['members']} members; "
          f"{lobby['real'] * 1000:.0f} ms real time for the host's arrival and 30 s of virtual time")


if __name__ == "__main__":
    main()
