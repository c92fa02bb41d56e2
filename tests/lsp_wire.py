"""A raw JSON-RPC client for the language server's tests: frames messages on a `python -m flowc lsp`
subprocess's pipes and keeps everything received (pytest-lsp's client checks params itself, so it cannot send
malformed ones, and it does not keep the versions of published diagnostics)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

TIMEOUT = 10.0


async def start_server(**environment: str) -> Wire:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flowc", "lsp", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, **environment})
    return Wire(process)


async def stop_server(wire: Wire) -> None:
    wire.reader.cancel()
    if wire.process.returncode is None:
        wire.process.kill()
        await wire.process.wait()


class Wire:
    """A JSON-RPC peer on the server's stdin/stdout: frames messages, keeps every message received."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict] = []
        self.arrived = asyncio.Event()
        self.next_id = 0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            assert length is not None
            self.received.append(json.loads(await stdout.readexactly(length)))
            self.arrived.set()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    async def request(self, method: str, params) -> dict:
        """Send a request and return the whole response (with `result` or `error`)."""
        self.next_id += 1
        number = self.next_id
        self.send({"id": number, "method": method, "params": params})
        return await self.wait(lambda m: m.get("id") == number and "method" not in m)

    async def wait(self, condition) -> dict:
        async def until() -> dict:
            while True:
                for message in self.received:
                    if condition(message):
                        return message
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(until(), TIMEOUT)

    def notifications(self, method: str) -> list[dict]:
        return [m["params"] for m in self.received if m.get("method") == method]

    def published(self, uri: str) -> list[dict]:
        """Every publishDiagnostics for the document, in order (params: uri, version, diagnostics)."""
        return [m["params"] for m in self.received if m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri]

    async def diagnostics(self, uri: str, condition) -> list[dict]:
        found = await self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                and m["params"]["uri"] == uri and condition(m["params"]["diagnostics"])
                                and m is self._latest(uri))
        return found["params"]["diagnostics"]

    def _latest(self, uri: str) -> dict | None:
        published = [m for m in self.received if m.get("method") == "textDocument/publishDiagnostics"
                     and m["params"]["uri"] == uri]
        return published[-1] if published else None


async def initialize(wire: Wire, folder: Path, debounce_ms: int = 20) -> None:
    response = await wire.request("initialize", {
        "capabilities": {}, "workspaceFolders": [{"uri": folder.as_uri(), "name": "w"}],
        "initializationOptions": {"debounceMs": debounce_ms}})
    assert "result" in response
    wire.notify("initialized", {})


def position(line: int, character: int) -> dict:
    return {"line": line, "character": character}


def change(uri: str, version: int, start: dict, end: dict, text: str) -> dict:
    return {"textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": start, "end": end}, "text": text}]}


def codes(diagnostics: list[dict]) -> list[str]:
    return [d["code"] for d in diagnostics]


def open_document(wire: Wire, uri: str, text: str, version: int = 1) -> None:
    wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "flow", "version": version,
                                                          "text": text}})


def replace_all(wire: Wire, uri: str, text: str, version: int) -> None:
    wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                           "contentChanges": [{"text": text}]})
