"""Helpers for the emulator's tests (tests/test_sim*.py): compiling a project, and a scripted ASGI app."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from flowc.cli.commands import main as flowc

ROOT = Path(__file__).resolve().parent.parent
# The examples' secrets. The generated app reads a secret once per process, so every test of one pytest run
# gives these variables the same values: these (tests/test_app.py's ENV; the `app_secrets` fixture sets them).
SECRETS = {"SUPPORT_WEBHOOK_USER": "support", "SUPPORT_WEBHOOK_PASSWORD": "s3cret",
           "SUPPORT_FALLBACK_PASSWORD": "fallback-s3cret", "VOICEMAIL_HOOK_USER": "vm",
           "VOICEMAIL_HOOK_PASSWORD": "vm-pw", "MEDIA_PASSWORD": "media-s3cret",
           # the application's callback credentials every example declares (`application auth env(...)`)
           "BANDWIDTH_CALLBACK_USER": "bandwidth", "BANDWIDTH_CALLBACK_PASSWORD": "callback-s3cret"}


# A conference whose member-join handler the hooks fill in, and a guest who joins it, then waits: the app of the
# side-effect, timer and worker tests (tests/test_runtime_outbox.py, tests/test_runtime_workers.py).
ROOM_AND_GUEST = """
conference room "room" {
    on member join {
    }
}
flow guest {
    join room
    say "The meeting has ended."
    pause 600s
}
"""


def build(tmp_path: Path, flows: dict[str, str] | Path, hooks: str | None = None) -> Path:
    """Compile .flow sources ({file name: text}, or an example's folder) into tmp_path/out; hooks.py beside it."""
    if isinstance(flows, dict):
        source = tmp_path / "src"
        source.mkdir()
        for name, text in flows.items():
            (source / name).write_text(text)
    else:
        source = flows
    out = tmp_path / "out"
    assert flowc(["compile", str(source), "-o", str(out)]) == 0
    if hooks is not None:
        (tmp_path / "hooks.py").write_text(hooks)
    return out


def build_main(tmp_path: Path, source: str, hooks: str | None = None) -> Path:
    """build() of a project of one file, main.flow."""
    return build(tmp_path, {"main.flow": source}, hooks)


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], payload: dict[str, Any]) -> None:
        self.method, self.path, self.headers, self.payload = method, path, headers, payload

    @property
    def event_type(self) -> str:
        return self.payload.get("eventType", "")


Handler = Callable[[Request], "str | tuple[int, str]"]


class ScriptedApp:
    """An ASGI app answering each path with a fixed BXML text or what a function returns (status, body); it
    keeps every request. A plain function runs in a worker thread (it may call the REST API)."""

    def __init__(self, routes: dict[str, str | Handler]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def of(self, event_type: str) -> list[Request]:
        return [r for r in self.requests if r.event_type == event_type]

    async def __call__(self, scope, receive, send) -> None:
        from starlette.concurrency import run_in_threadpool

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["method"] == "GET":
            payload = dict(parse_qsl(scope["query_string"].decode()))
        else:
            payload = json.loads(body or b"{}")
        request = Request(scope["method"], scope["path"], headers, payload)
        with self.lock:
            self.requests.append(request)
        answer = self.routes.get(scope["path"], (404, ""))
        if callable(answer):
            answer = await run_in_threadpool(answer, request)
        status, text = (200, answer) if isinstance(answer, str) else answer
        kind = b"application/xml" if text.lstrip().startswith("<") else b"text/plain"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": text.encode()})


def response(*verbs: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?><Response>" + "".join(verbs) + "</Response>"


def say(text: str) -> str:
    return f"<SpeakSentence>{text}</SpeakSentence>"
