"""Two app workers (`flowc serve --workers 2`: two uvicorn processes on one socket) behind the emulator, sharing
one real Redis: each timer a join schedules fires exactly once, whichever worker took the webhook; and the same
command with SQLite refuses to start, with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from flowc.runtime.store import RedisStore
from flowc.sim import Bandwidth
from redis_server import free_port
from sim_helpers import ROOM_AND_GUEST, build

pytestmark = pytest.mark.e2e

FLOWS = {"a.flow": ROOM_AND_GUEST}

HOOKS = """
import os

def on_conference_member_join(payload, context):
    context.state.runtime.timers.schedule_in("close:" + payload.call_id, "close", 1.0, {"call": payload.call_id})

async def on_timer_close(timer, runtime):
    control = runtime.timer_control(timer, callId=timer.data["call"])
    control.move(bxml=f"<Bxml><SpeakSentence>closed by {os.getpid()}</SpeakSentence><Hangup/></Bxml>")
    await runtime.deliver(control)
"""


def serve(out, port: int, environment: dict[str, str], workers: int = 2) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "flowc.cli.commands", "serve", str(out), "--port", str(port),
                             "--workers", str(workers)], env={**os.environ, **environment},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until_up(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"flowc serve exited: {process.stdout.read() if process.stdout else ''}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=1)
        except urllib.error.HTTPError:
            return  # 404: a worker answers
        except OSError:
            time.sleep(0.1)
    raise AssertionError("flowc serve did not start within 60 s")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_two_workers_sharing_redis_fire_each_timer_once(tmp_path, redis_url):
    out = build(tmp_path, FLOWS, HOOKS)
    RedisStore(redis_url).clear()
    port = free_port()
    with Bandwidth(url=f"http://127.0.0.1:{port}") as bw:
        environment = {"FLOWC_STORE": redis_url, "FLOWC_STATEFUL": "1", "FLOWC_TIMER_POLL": "0.1",
                       "BANDWIDTH_API_URL": bw.api_url, "BANDWIDTH_ACCOUNT_ID": bw.account_id,
                       "BANDWIDTH_USERNAME": "u", "BANDWIDTH_PASSWORD": "p"}
        process = serve(out, port, environment)
        try:
            wait_until_up(port, process)
            guests = [bw.inbound("guest") for _ in range(6)]
            deadline = time.monotonic() + 30
            while any(g.state == "active" for g in guests) and time.monotonic() < deadline:
                time.sleep(0.1)
                bw.advance(0)
            time.sleep(1.0)  # a second firing, if there were one, would arrive now
            bw.advance(0)
        finally:
            output = stop(process)
        assert output.count("Started server process") >= 2, output  # two workers (and the supervisor)
        for guest in guests:
            closings = [text for text in guest.heard if text.startswith("closed by")]
            assert len(closings) == 1 and guest.state == "completed", (guest.heard, bw.timeline())
        replaced = [e for e in bw.events if type(e).__name__ == "RestRequest" and e.path.endswith("/bxml")]
        assert len(replaced) == len(guests) and all(e.status == 204 for e in replaced)
    RedisStore(redis_url).clear()


def test_sqlite_under_two_workers_refuses_to_start(tmp_path):
    out = build(tmp_path, FLOWS, HOOKS)
    port = free_port()
    process = serve(out, port, {"FLOWC_STORE": f"sqlite://{tmp_path}/state.sqlite", "FLOWC_STATEFUL": "1"})
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "the app runs 2 workers but its state store is SQLite" in output
    assert "FLOWC_STORE=redis://" in output and "Traceback" not in output


def test_serve_refuses_fewer_than_one_worker(tmp_path):
    out = build(tmp_path, FLOWS, HOOKS)
    refused = subprocess.run([sys.executable, "-m", "flowc.cli.commands", "serve", str(out), "--workers", "0"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--workers must be at least 1" in refused.stderr
