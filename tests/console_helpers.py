"""Helpers for the console's tests (tests/test_console*.py): `flowc sim OUT --ui` as a real subprocess, and
headless Chromium from the system (Debian's package) driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import SECRETS

IVR_HOOKS = ("def balance_sentence(payload):\n    return 'Forty two.'\n\n"
             "def payment_result(payload):\n    return 'Ok.'\n")  # the hooks examples/ivr-menu calls
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "console"
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


@contextlib.contextmanager
def console(target: Path | str, *extra: str) -> Iterator[str]:
    """Run `flowc sim TARGET --ui` on a free loopback port; yields the page's URL; stops it with Ctrl-C."""
    cwd = Path(target).parent if Path(target).exists() else None
    process = subprocess.Popen([sys.executable, "-m", "flowc", "sim", str(target), "--ui", "--port", "0", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                               env={**os.environ, **SECRETS, "NO_COLOR": "1"})
    try:
        url = _read_url(process)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.returncode == 0, process.stderr.read()


def _read_url(process: subprocess.Popen, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("flowc sim console: "):
                return line.split()[3]
        if process.poll() is not None:
            raise AssertionError(f"the console did not start: {process.stderr.read()}")
    raise AssertionError("the console did not print its URL within 60 s")


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """An ASGI app under uvicorn on a free loopback port, in a thread; yields its base URL."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(5)


def browser_path() -> str | None:
    found = next((p for p in BROWSERS if Path(p).is_file()), None)
    return found or shutil.which("chromium")


def need_browser():
    """Debian's Chromium and Playwright for Python: a failure under CI=true, a skip with the reason locally."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[test]')"
    if reason is None and browser_path() is None:
        reason = "no system Chromium (run tools/install-test-deps.sh: apt-get install chromium)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return browser_path()
