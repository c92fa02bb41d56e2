"""`flowc sim`: run a simulated call against OUT's app (or a URL) and print its timeline, interactively on a
terminal; or, with --load, drive a running app with many concurrent calls over real HTTP and report.

Exit status: 0 when every webhook was answered and every reply accepted, 1 when one failed or was refused,
2 for usage errors (an OUT that does not exist, a load target that is not on loopback).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.sim.transport import is_loopback

if TYPE_CHECKING:
    import argparse

    from flowc.sim.api import Bandwidth, Call
    from flowc.sim.timeline import Webhook

MAX_LOAD_CALLS = 100_000
MAX_CONCURRENCY = 256
SHOWN_PROBLEMS = 20


class SimUsageError(Exception):
    pass


def _emulator(target: str, **options: Any) -> Bandwidth:
    from flowc.sim import Bandwidth

    if target.startswith(("http://", "https://")):
        return Bandwidth(url=target, **options)
    if not (Path(target) / "manifest.json").is_file():
        raise SimUsageError(f"{target} is not an OUT directory (no manifest.json): run `flowc compile ... -o "
                            f"{target}` first, or give a URL")
    try:
        return Bandwidth(target, **options)
    except FileNotFoundError:
        raise
    except Exception as error:  # the app (or the hooks module it imports) fails at import: one line, no traceback
        raise SimUsageError(f"the app in {target} cannot start: {type(error).__name__}: {error}") from None


CREDENTIALS_UNSET = "FC811"


def unset_callback_credentials(target: str) -> list[str]:
    """The environment variables OUT's `application auth env(USER) env(PASSWORD)` names that are not set (the
    app refuses every callback without them); none for a URL, which has no manifest here."""
    try:
        auth = json.loads((Path(target) / "manifest.json").read_text()).get("application", {}).get("auth")
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(auth, dict):
        return []
    names = [auth.get("username_env"), auth.get("password_env")]
    return [name for name in names if isinstance(name, str) and name and name not in os.environ]


def warn_unset_callback_credentials(target: str, served: bool) -> None:
    """FC811, before any call is placed: OUT's app needs callback credentials the environment does not hold."""
    unset = unset_callback_credentials(target)
    if not unset:
        return
    names = " and ".join(unset)
    verb = "is" if len(unset) == 1 else "are"
    if served:
        effect = "the app served for the load refuses every webhook (401) until they are set"
    else:
        effect = ("the emulator makes up values for this run, but `flowc serve` and a deployed app refuse "
                  "Bandwidth's callbacks (401) without them")
    print(f"flowc: warning[{CREDENTIALS_UNSET}]: {names} (`application auth` in {target}/manifest.json) {verb} "
          f"not set: {effect}; export them with the Bandwidth application's callback user and password",
          file=sys.stderr)


def problems(webhooks: Iterable[Webhook]) -> list[Webhook]:
    return [w for w in webhooks if not w.accepted]


def run_call(target: str, flow: str, from_: str, to: str, presses: list[str], fmt: str,
             interactive: bool) -> int:
    warn_unset_callback_credentials(target, served=False)
    with _emulator(target) as bw:
        try:
            call = bw.inbound(flow, from_=from_, to=to)
        except ValueError as error:
            raise SimUsageError(str(error)) from None
        if interactive:
            _interact(bw, call)
        else:
            for digits in presses:
                if call.state != "active":
                    break
                call.press(digits)
        failed = problems(bw.webhooks)
        if fmt == "mermaid":
            from flowc.sim.sequence import sequence_mermaid

            print(sequence_mermaid(bw.events, call.id), end="")
        elif fmt == "json":
            calls = [{"id": c.id, "state": c.state, "cause": c.cause, "heard": c.heard} for c in bw.calls]
            print(json.dumps({"calls": calls, "events": bw.timeline_data()}, indent=2, default=str))
        elif not interactive:
            print(bw.timeline())
        if failed and fmt == "text":
            print(f"{len(failed)} webhook(s) failed or were refused", file=sys.stderr)
        return 1 if failed else 0


HELP = "digits to press them; `wait N` lets N seconds pass; `hangup`; `quit` (or Ctrl-D)"


def _interact(bw: Bandwidth, call: Call) -> None:
    shown = 0

    def show() -> None:
        nonlocal shown
        events = bw.events
        from flowc.sim.timeline import render_text

        text = render_text(events[shown:])
        if text:
            print(text)
        shown = len(events)

    show()
    print(f"[{HELP}]")
    while call.state == "active":
        try:
            line = input(f"{call.waiting}> ").strip()
        except EOFError:
            break
        if line in ("quit", "q", "exit"):
            break
        if line in ("hangup", "h"):
            call.hangup()
        elif line.startswith("wait"):
            try:
                bw.advance(float(line.split()[1]))
            except (IndexError, ValueError):
                print("say how long: wait 10")
        elif line and all(c in "0123456789*#ABCD" for c in line):
            call.press(line)
        elif line:
            print(HELP)
        show()
    show()


# -- load ------------------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_out(out: Path) -> tuple[subprocess.Popen[bytes], str]:
    """OUT's app under uvicorn in a child process on a free loopback port; (process, base URL)."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(out), "app:app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read().decode() if process.stderr else ""
            raise SimUsageError(f"the app in {out} did not start: {errors[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SimUsageError(f"the app in {out} did not start within 30 s")


def _flow_path(target: str, flow: str | None) -> str:
    """The path initiate goes to: the flow's route in OUT's manifest, else /flows/<flow>."""
    manifest_path = Path(target) / "manifest.json"
    if manifest_path.is_file():
        routes = json.loads(manifest_path.read_text()).get("routes", [])
        entry = [r for r in routes if "initiate" in r.get("events", ()) and (flow is None or r.get("flow") == flow)]
        if not entry:
            raise SimUsageError(f"no flow {flow or ''} answering initiate in {manifest_path}")
        path: str = entry[0]["path"]
        return path
    if flow is None:
        raise SimUsageError("say which flow to call: --call FLOW")
    return flow if flow.startswith("/") else f"/flows/{flow}"


def run_load(target: str, flow: str | None, presses: list[str], count: int, concurrency: int,
             time_limit: float, fmt: str) -> int:
    if not 1 <= count <= MAX_LOAD_CALLS:
        raise SimUsageError(f"--load takes 1 to {MAX_LOAD_CALLS} calls")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise SimUsageError(f"--concurrency takes 1 to {MAX_CONCURRENCY}")
    process = None
    if target.startswith(("http://", "https://")):
        if not is_loopback(target):
            raise SimUsageError(f"--load only drives servers on this machine (loopback), not {target}")
        base = target.rstrip("/")
    elif (Path(target) / "app.py").is_file():
        warn_unset_callback_credentials(target, served=True)
        process, base = _serve_out(Path(target))
    else:
        raise SimUsageError(f"{target} is neither a loopback URL nor an OUT directory with app.py")
    try:
        path = _flow_path(target, flow)
        result = _drive(base, path, presses, count, concurrency, time_limit, _out_credentials(target, path))
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    _report(result, fmt)
    return 1 if result["failed"] or result["refused"] else 0


def _out_credentials(target: str, path: str) -> tuple[str, str] | None:
    """The application's callback credentials for an OUT directory's app (from its manifest and the
    environment the served app also reads); a URL target's are unknown."""
    from flowc.sim.api import declared_credentials

    manifest_path = Path(target) / "manifest.json"
    if not manifest_path.is_file():
        return None
    return declared_credentials(json.loads(manifest_path.read_text()), path)


def _drive(base: str, path: str, presses: list[str], count: int, concurrency: int,
           time_limit: float, credentials: tuple[str, str] | None = None) -> dict[str, Any]:
    from flowc.sim import Bandwidth

    lock = threading.Lock()
    next_call = iter(range(count))
    latencies: list[float] = []
    shown: list[str] = []
    totals = {"calls": 0, "webhooks": 0, "failed": 0, "refused": 0}
    started = time.perf_counter()
    deadline = started + time_limit

    def worker() -> None:
        with Bandwidth(url=base, rest=False, callback_credentials=credentials) as bw:
            engine = bw.engine
            while time.perf_counter() < deadline:
                with lock:
                    if next(next_call, None) is None:
                        return
                call = bw.inbound(path)
                for digits in presses:
                    if call.state == "active":
                        call.press(digits)
                if call.state == "active":
                    call.hangup()
                with engine.lock, lock:
                    totals["calls"] += 1
                    for webhook in engine.webhooks:
                        totals["webhooks"] += 1
                        latencies.append(webhook.latency)
                        if not webhook.accepted:
                            totals["refused" if webhook.status and 200 <= webhook.status < 300 else "failed"] += 1
                            if len(shown) < SHOWN_PROBLEMS:
                                shown.append(f"{webhook.event_type} {webhook.url}: {webhook.status or 'no answer'}"
                                             f" {webhook.reason}")
                    engine.webhooks.clear()
                    engine.events.clear()
                    engine.calls.clear()
                    engine.rooms.clear()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000 if latencies else 0.0

    return {**totals, "seconds": round(elapsed, 3), "calls_per_second": round(totals["calls"] / elapsed, 1),
            "latency_ms": {"p50": round(percentile(0.50), 2), "p99": round(percentile(0.99), 2)},
            "stopped_by_time_limit": totals["calls"] < count, "problems": shown, "target": base + path,
            "concurrency": concurrency}


def _report(result: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(result, indent=2))
        return
    print(f"{result['calls']} calls to {result['target']} in {result['seconds']} s with {result['concurrency']} "
          f"at a time: {result['calls_per_second']} calls/s")
    print(f"{result['webhooks']} webhooks: latency p50 {result['latency_ms']['p50']} ms, "
          f"p99 {result['latency_ms']['p99']} ms")
    print(f"failed: {result['failed']}, refused replies: {result['refused']}")
    for line in result["problems"]:
        print(f"  {line}")
    if result["stopped_by_time_limit"]:
        print("stopped by the time limit before all calls were made")


def run_ui(target: str, host: str, port: int) -> int:
    """`flowc sim OUT --ui`: the console, until Ctrl-C."""
    from flowc.sim.console import ConsoleError, serve

    warn_unset_callback_credentials(target, served=False)
    try:
        with _emulator(target) as bw:
            serve(bw, target, host, port, ready=lambda url: print(f"flowc sim console: {url}  (Ctrl-C stops it)",
                                                                  flush=True))
    except ConsoleError as error:
        raise SimUsageError(str(error)) from None
    except KeyboardInterrupt:
        pass
    return 0


def main(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "ui", False):
            if args.load is not None or args.call:
                raise SimUsageError("--ui serves the console; place calls from the page (no --call or --load)")
            return run_ui(args.target, args.host, args.port)
        if args.load is not None:
            if args.format == "mermaid":
                raise SimUsageError("--format mermaid draws one call: use it with --call, not --load")
            return run_load(args.target, args.call, args.press, args.load, args.concurrency, args.time_limit,
                            args.format)
        if not args.call:
            raise SimUsageError("say which flow to call: flowc sim OUT --call FLOW")
        interactive = args.format == "text" and not args.press and sys.stdin.isatty() and sys.stdout.isatty() \
            and not os.environ.get("FLOWC_SIM_BATCH")
        return run_call(args.target, args.call, args.from_, args.to, args.press, args.format, interactive)
    except (SimUsageError, FileNotFoundError) as error:
        # a path in the message may not be valid UTF-8 (surrogate escapes from argv): show it with escapes
        message = str(error).encode("utf-8", "backslashreplace").decode("utf-8")
        print(f"flowc: error: {message}", file=sys.stderr)
        return 2
