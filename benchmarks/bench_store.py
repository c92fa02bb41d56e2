"""Benchmark of the rooms state store (flowc.runtime.store): what its operations add to a webhook, on SQLite and
on Redis (figures in docs/performance.md; the issue's targets: at most 2 ms p99 on SQLite, 5 ms on Redis).

1. Store operations per webhook, timed as the handlers do them: an admission (claim the event, admit the
   caller under a cap of 20 with a lobby), a memberJoin (claim, join, one outbox entry) and a memberExit
   (claim, leave), over rooms of a host and 18 guests that fill, then empty and end.
2. Through the generated app, in-process (ASGI, no sockets): the same conferenceMemberJoin webhook answered
   by an app whose async observer does nothing (the stateless path) and by one whose observer does the
   memberJoin operations on the store, in alternating rounds; the difference of the percentiles is what the
   store adds to a webhook.

A redis-server is started on a free loopback port (tools/install-test-deps.sh installs it).

    .venv/bin/python benchmarks/bench_store.py [--rooms 100] [--webhooks 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from flowc.runtime.store import Effect, RedisStore, SqliteStore, Store, event_id  # noqa: E402
from measure import percentiles, timed_post  # noqa: E402
from redis_server import RedisServer  # noqa: E402

GUESTS = 18


def timed(samples: list[float], work: Callable[[], object]) -> None:
    started = time.perf_counter_ns()
    work()
    samples.append((time.perf_counter_ns() - started) / 1e6)


def room_cycle(store: Store, room: str, kinds: dict[str, list[float]]) -> None:
    """One meeting: guests wait in the lobby, the host arrives and releases them, everyone joins, then leaves."""
    calls = [f"{room}-g{i}" for i in range(GUESTS)]
    host = f"{room}-host"

    def arrive(call: str, is_host: bool) -> None:
        store.first_time(f"initiate|{call}")
        store.admit(room, call, "host" if is_host else "guest", host=is_host, cap=20, wait_for_host=True)

    def join(call: str) -> None:
        store.first_time(f"conferenceMemberJoin|{room}|{call}")
        store.joined(room, call, f"conf-{room}")
        store.record(Effect(f"join|{room}|{call}#1", "PUT", f"/conferences/conf-{room}/members/{call}",
                            '{"mute":false}', idempotent=True))

    def leave(call: str) -> None:
        store.first_time(f"conferenceMemberExit|{room}|{call}")
        store.left(room, call)

    for call in calls[:6]:
        timed(kinds["admission"], lambda call=call: arrive(call, False))
    timed(kinds["admission"], lambda: arrive(host, True))
    for call in calls[6:]:
        timed(kinds["admission"], lambda call=call: arrive(call, False))
    for call in [host, *calls]:
        timed(kinds["memberJoin"], lambda call=call: join(call))
    for call in [*calls, host]:
        timed(kinds["memberExit"], lambda call=call: leave(call))
    store.end_room(room, f"conf-{room}")


def bench_operations(store: Store, rooms: int) -> dict[str, list[float]]:
    kinds: dict[str, list[float]] = {"admission": [], "memberJoin": [], "memberExit": []}
    for index in range(max(5, rooms // 10)):  # warm-up: connections, statements, scripts
        room_cycle(store, f"warm{index}", {k: [] for k in kinds})
    for index in range(rooms):
        room_cycle(store, f"room{index}", kinds)
    return kinds


# -- through the app ---------------------------------------------------------------------------------------------

FLOW = 'conference room "room" {\n    on member join {\n    }\n}\nflow guest {\n    join room\n}\n'
STATELESS = "async def on_conference_member_join(payload, context):\n    return None\n"
STATEFUL = """
from flowc.runtime.store import Effect, event_id

async def on_conference_member_join(payload, context):
    store = context.state.runtime.store
    store.first_time(event_id(context.data))
    store.joined("room", payload.call_id, payload.conference_id)
    store.record(Effect(event_id(context.data) + "#1", "PUT", "/conferences/x/members/y", "{}", idempotent=True))
"""


def compile_app(folder: Path, hooks: str):
    from flowc.cli.commands import main as flowc
    from flowc.sim.transport import load_out

    (folder / "src").mkdir(parents=True)
    (folder / "src" / "a.flow").write_text(FLOW)
    (folder / "hooks.py").write_text(hooks)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert flowc(["compile", str(folder / "src"), "-o", str(folder / "out")]) == 0
    return load_out(folder / "out")[1]


async def one_webhook(app, index: int) -> float:
    status, elapsed = await timed_post(app, "/conferences/room/events", {
        "eventType": "conferenceMemberJoin", "eventTime": f"2026-01-01T00:00:{index % 60:02}.000Z",
        "conferenceId": "conf-1", "name": "room", "callId": f"c-{index}", "from": "+15551110000",
        "to": "+15552220000"})
    assert status < 300, status
    return elapsed


async def bench_app(stateless, stateful, webhooks: int, rounds: int = 8) -> tuple[list[float], list[float]]:
    base: list[float] = []
    store: list[float] = []
    per_round = webhooks // rounds
    for warm in range(300):
        await one_webhook(stateless, -warm - 1)
        await one_webhook(stateful, -warm - 1)
    for round_ in range(rounds):  # alternate, so that drift in the machine's load hits both alike
        for index in range(per_round):
            base.append(await one_webhook(stateless, round_ * per_round + index))
        for index in range(per_round):
            store.append(await one_webhook(stateful, round_ * per_round + index))
    return base, store


def report(name: str, samples: list[float]) -> None:
    p50, p99, worst = percentiles(samples)
    print(f"  {name:<12} n={len(samples):>6}  p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  max {worst:7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=4000)
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            for label, url, make in (("SQLite", f"sqlite://{folder}/bench.sqlite", lambda u: SqliteStore(u[9:])),
                                     ("Redis", server.url, RedisStore)):
                store = make(url)
                store.clear()
                print(f"{label}: store operations per webhook ({args.rooms} rooms of 1 host + {GUESTS} guests)")
                for kind, samples in bench_operations(store, args.rooms).items():
                    report(kind, samples)
                store.clear()
                store.close()
                os.environ["FLOWC_STORE"] = url
                stateless = compile_app(Path(folder) / f"{label}-stateless", STATELESS)
                stateful = compile_app(Path(folder) / f"{label}-stateful", STATEFUL)
                base, with_store = asyncio.run(bench_app(stateless, stateful, args.webhooks))
                print(f"{label}: conferenceMemberJoin through the app, in-process")
                report("stateless", base)
                report("with store", with_store)
                b50, b99, _ = percentiles(base)
                s50, s99, _ = percentiles(with_store)
                print(f"  added: p50 {s50 - b50:+.3f} ms, p99 {s99 - b99:+.3f} ms")
                stateful.state.webhooks.runtime.close_store()
                make(url).clear()
        finally:
            server.stop()
    print(f"event_id example: {event_id({'eventType': 'conferenceMemberJoin', 'callId': 'c-1'})}")


if __name__ == "__main__":
    main()
