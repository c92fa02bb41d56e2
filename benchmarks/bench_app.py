"""Benchmark of the generated web app (figures in docs/performance.md).

1. Rendering one response: the precompiled document (flowc.runtime.Document) against building the same
   document per request with Bandwidth's official SDK (`bandwidth.models.bxml`), side by side in one run.
2. HTTP: the generated app under uvicorn on loopback, server pinned to one core and the load generator (a
   small keep-alive HTTP/1.1 client on asyncio sockets) to the other; requests per second and latency.

    pip install bandwidth-sdk        # only this benchmark needs it
    .venv/bin/python benchmarks/bench_app.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {"SUPPORT_WEBHOOK_USER": "support", "SUPPORT_WEBHOOK_PASSWORD": "s3cret",
       "SUPPORT_FALLBACK_PASSWORD": "fallback-s3cret"}
GATHER = json.loads((ROOT / "tests/data/webhooks/gather.json").read_text()) | {"digits": "12345678"}


def compile_example(out: Path) -> None:
    from flowc.cli import main

    status = main(["compile", str(ROOT / "examples/support-line"), "-o", str(out), "--format", "json"])
    assert status == 0, status


def load_documents(out: Path) -> dict:
    spec = importlib.util.spec_from_file_location("bench_generated_app", out / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DOCUMENTS


def sdk_agent_case(data: dict) -> str:
    """flows/agent_case.xml built per request with the official SDK, as a hand-written server would."""
    from bandwidth.models.bxml import Conference, Response, SpeakSentence, StartGather

    digits = data["digits"]
    only_digits = "".join(c for c in digits if c.isdigit())
    caller = "".join(c for c in data["from"] if c.isdigit())
    response = Response()
    response.add_verb(SpeakSentence(f"Joining case {digits}.", voice="dave"))
    response.add_verb(StartGather(dtmf_url="/hooks/support/agent-keys", tag=f"agent-{caller}"))
    response.add_verb(Conference(
        f"case-{only_digits}", conference_event_url="/conferences/case_room/events", callback_timeout="10",
        username=os.environ["SUPPORT_WEBHOOK_USER"], password=os.environ["SUPPORT_WEBHOOK_PASSWORD"],
        conference_event_fallback_url="https://backup.example.com/conferences/case_room/events",
        fallback_username=os.environ["SUPPORT_WEBHOOK_USER"],
        fallback_password=os.environ["SUPPORT_FALLBACK_PASSWORD"], tag="support-case"))
    return response.to_bxml()


def timed(function, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number * 1e6


def per_call(functions: dict, repeat: int = 9, number: int = 2000) -> dict[str, float]:
    """Microseconds per call of each function: best of `repeat` rounds, the functions interleaved in every
    round so that a noisy neighbour or a frequency change affects them alike."""
    best = {name: float("inf") for name in functions}
    for _ in range(repeat):
        for name, (function, scale) in functions.items():
            best[name] = min(best[name], timed(function, max(1, number // scale)))
    return best


def bench_render(out: Path) -> dict[str, float]:
    from flowc.webhooks import model_for

    documents = load_documents(out)
    dynamic, static = documents["flows/agent_case.xml"], documents["flows/agent.xml"]
    functions = {
        "flowc: flows/agent_case.xml (6 runtime values, 2 checks)": (lambda: dynamic.render_sync(GATHER), 1),
        "flowc: the same, payload validated with the pydantic model first":
            (lambda: dynamic.render_sync(model_for("gather").model_validate(GATHER) and GATHER), 1),
        "flowc: flows/agent.xml (no runtime values)": (lambda: static.render_sync(GATHER), 1),
    }
    try:
        import bandwidth.models.bxml  # noqa: F401
    except ImportError:
        print("bandwidth-sdk is not installed (pip install bandwidth-sdk): SDK comparison skipped")
    else:
        functions["SDK: the same document built per request (bandwidth.models.bxml)"] = \
            (lambda: sdk_agent_case(GATHER), 4)
    return per_call(functions)


# -- HTTP ----------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_bytes(path: str, body: dict, headers: dict | None = None) -> bytes:
    data = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def connection(port: int, request: bytes, stop: float, latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < stop:
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - start)
        if status not in (200, 204):
            errors.append(status)
    writer.close()


async def load(port: int, request: bytes, seconds: float, connections: int) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    warm = time.perf_counter() + 1
    await asyncio.gather(*(connection(port, request, warm, [], []) for _ in range(connections)))
    stop = time.perf_counter() + seconds
    await asyncio.gather(*(connection(port, request, stop, latencies, errors) for _ in range(connections)))
    return latencies, errors


def bench_http(out: Path, seconds: float, connections: int, pure_python: bool = False) -> list[tuple]:
    import base64

    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "--app-dir", str(out), "app:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
         *(["--http", "h11", "--loop", "asyncio"] if pure_python else [])],
        env={**os.environ, **ENV})
    os.sched_setaffinity(0, {1})  # the load generator runs on the other core
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        auth = {"Authorization": "Basic " + base64.b64encode(b"support:s3cret").decode()}
        member = json.loads((ROOT / "tests/data/webhooks/conferenceMemberJoin.json").read_text())
        cases = [
            ("POST /flows/agent (static document)",
             request_bytes("/flows/agent", GATHER | {"eventType": "initiate"})),
            ("POST /flows/agent_case (runtime values, checks)", request_bytes("/flows/agent_case", GATHER)),
            ("POST /conferences/case_room/events (Basic auth, memberJoin)",
             request_bytes("/conferences/case_room/events", member, auth)),
        ]
        rows = []
        for name, request in cases:
            latencies, errors = asyncio.run(load(port, request, seconds, connections))
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99)]
            rows.append((name, len(latencies) / seconds, statistics.median(latencies) * 1e3, p99 * 1e3, len(errors)))
        return rows
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pure-python", action="store_true",
                        help="uvicorn without httptools and uvloop (plain `pip install uvicorn`)")
    args = parser.parse_args()
    os.environ.update(ENV)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        compile_example(out)
        rows = bench_render(out)
        print("\n| rendering one response | µs per response |\n|---|---|")
        for name, micros in rows.items():
            print(f"| {name} | {micros:.2f} |")
        names = list(rows)
        if len(names) == 4:
            sdk = rows[names[3]]
            print(f"\nSDK / flowc: {sdk / rows[names[0]]:.1f}x (rendering only), "
                  f"{sdk / rows[names[1]]:.1f}x (flowc also validating the payload)")
        server = "uvicorn, h11 + asyncio" if args.pure_python else "uvicorn, httptools + uvloop"
        print(f"\n| route ({server}; {args.connections} keep-alive connections, {args.seconds:.0f} s, 1 core) "
              "| requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
        for name, rps, p50, p99, errors in bench_http(out, args.seconds, args.connections, args.pure_python):
            print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} |")


if __name__ == "__main__":
    main()
