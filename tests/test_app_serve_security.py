"""Issue 9, item 1, as the issue reproduced it: the examples compiled with their secrets set and run with
`flowc serve` (a real process on loopback); requests that prove nothing get a 401 and no secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flowc.cli.commands import main as flowc
from test_app import ENV, basic

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = basic(ENV["BANDWIDTH_CALLBACK_USER"], ENV["BANDWIDTH_CALLBACK_PASSWORD"])
SECRETS = [ENV[name] for name in ("SUPPORT_WEBHOOK_PASSWORD", "SUPPORT_FALLBACK_PASSWORD", "VOICEMAIL_HOOK_PASSWORD",
                                  "BANDWIDTH_CALLBACK_PASSWORD")]
GATHER = {"eventType": "gather", "callId": "c-1", "digits": "12", "from": "+15551234567"}
INITIATE = {"eventType": "initiate", "callId": "c-1", "from": "+15551234567", "to": "+15557654321"}

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(out: Path):
    """`flowc serve OUT` with the examples' secrets in its environment; yields the base URL."""
    port = free_port()
    store = f"sqlite:{out.parent}/state.sqlite"  # a room's state (support-line) in a file of its own
    process = subprocess.Popen([sys.executable, "-m", "flowc", "serve", str(out), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **ENV, "FLOWC_STORE": store})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/", timeout=1)
            return process, base
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "flowc serve did not start"
            time.sleep(0.1)


@pytest.mark.parametrize(("example", "paths", "query"), [
    ("support-line", ["/flows/customer_case", "/flows/agent_case", "/flows/supervise"], GATHER),
    ("voicemail", ["/flows/voicemail"], INITIATE),
])
def test_flowc_serve_answers_unproven_requests_with_401_and_no_secret(tmp_path, example, paths, query):
    out = tmp_path / "out"
    assert flowc(["compile", str(ROOT / "examples" / example), "-o", str(out)]) == 0
    process, base = serve(out)
    try:
        for path in paths:
            for headers in ({}, basic("support", "s3cret"), basic("vm", "vm-pw"), {"Authorization": "Basic Og=="}):
                refused = httpx.get(base + path, params=query, headers=headers)
                assert refused.status_code == 401, (path, headers, refused.text)
                assert not any(secret in refused.text for secret in SECRETS), (path, refused.text)
                assert httpx.post(base + path, json=query, headers=headers).status_code == 401
            served = httpx.get(base + path, params=query, headers=APPLICATION)
            assert served.status_code == 200 and served.text.startswith("<?xml"), (path, served.text)
    finally:
        process.terminate()
        process.wait(10)
