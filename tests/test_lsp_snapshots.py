"""Checks run off the server's event loop, on snapshots: requests are answered while a check runs, a newer edit
drops the running check, and requests that need the current text's check wait for it instead of running one.

FLOWC_LSP_CHECK_DELAY holds every check in the worker thread for a while (cancellably), so that the tests can
act while a check runs without depending on how fast the machine is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_wire import initialize, open_document, position, replace_all, start_server, stop_server

pytestmark = [pytest.mark.e2e]

HOLD = "1.5"  # seconds each check is held
TEXT = 'flow main on answer {\n    say "Hi" gender male\n}\n'


@pytest.fixture
async def wire(tmp_path: Path):
    peer = await start_server(FLOWC_LSP_CHECK_DELAY=HOLD)
    await initialize(peer, tmp_path, debounce_ms=20)
    yield peer
    await stop_server(peer)


async def test_requests_are_answered_while_a_check_runs(wire, tmp_path: Path):
    uri = (tmp_path / "main.flow").as_uri()
    open_document(wire, uri, TEXT)
    await wire.diagnostics(uri, lambda ds: ds == [])
    replace_all(wire, uri, TEXT.replace("say", "sya"), 2)
    await asyncio.sleep(0.3)  # past the debounce: the check of version 2 is running (held)
    hover = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(0, 1)})
    symbols = await wire.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    completion = await wire.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                               "position": position(1, 4)})
    assert "flow" in hover["result"]["contents"]["value"]
    assert [s["name"] for s in symbols["result"]] == ["main"]
    assert "say" in [item["label"] for item in completion["result"]["items"]]
    assert [p["version"] for p in wire.published(uri)] == [1]  # all answered before the check finished
    found = await wire.diagnostics(uri, lambda ds: bool(ds))
    assert [d["code"] for d in found] == ["FC102"] and wire.published(uri)[-1]["version"] == 2


async def test_a_newer_edit_drops_the_running_check(wire, tmp_path: Path):
    uri = (tmp_path / "main.flow").as_uri()
    open_document(wire, uri, TEXT)
    await wire.diagnostics(uri, lambda ds: ds == [])
    replace_all(wire, uri, TEXT.replace("say", "sya"), 2)
    await asyncio.sleep(0.3)  # the check of version 2 is running
    replace_all(wire, uri, TEXT.replace("male", "mael"), 3)
    found = await wire.diagnostics(uri, lambda ds: bool(ds))
    assert [d["code"] for d in found] == ["FC202"]  # the misspelt value, not version 2's `sya`
    await asyncio.sleep(0.3)
    assert [p["version"] for p in wire.published(uri)] == [1, 3]  # version 2's check was dropped, not published


async def test_code_actions_right_after_an_edit_fix_the_new_text(wire, tmp_path: Path):
    uri = (tmp_path / "main.flow").as_uri()
    open_document(wire, uri, TEXT)
    await wire.diagnostics(uri, lambda ds: ds == [])
    edited = '# moved down a line\n' + TEXT.replace("male", "mael")
    replace_all(wire, uri, edited, 2)
    line, column = 2, edited.splitlines()[2].index("mael")  # asked before that text has been checked
    response = await wire.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "context": {"diagnostics": []},
        "range": {"start": position(line, column), "end": position(line, column + 4)}})
    [action] = response["result"]
    [edit] = action["edit"]["changes"][uri]
    assert edit["range"]["start"] == position(line, column) and edit["newText"] == "male"


async def test_hover_right_after_an_edit_answers_in_the_new_texts_positions(tmp_path: Path):
    """Before the (long) debounce ends, hover answers from the previous analysis through the edit's offset map:
    outside the edit it points where the word now is; inside it, the new text is analysed first."""
    wire = await start_server()
    try:
        await initialize(wire, tmp_path, debounce_ms=2000)
        uri = (tmp_path / "main.flow").as_uri()
        open_document(wire, uri, TEXT)
        await wire.diagnostics(uri, lambda ds: ds == [])
        edited = 'flow first {\n    hangup\n}\n' + TEXT  # three lines on top: `say` moves down
        replace_all(wire, uri, edited, 2)
        moved = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(4, 5)})
        assert moved["result"]["range"]["start"] == position(4, 4) and "say" in moved["result"]["contents"]["value"]
        new = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(1, 5)})
        assert new["result"]["range"]["start"] == position(1, 4) and "hangup" in new["result"]["contents"]["value"]
        assert [p["version"] for p in wire.published(uri)] == [1]  # both before the check of version 2
    finally:
        await stop_server(wire)


def test_the_check_runs_without_the_collector_and_freezes_what_it_leaves():
    """A check's objects are long-lived: young collections in the check thread would hold the GIL (and a hover)
    for nothing, so the worker runs with the collector off and freezes what is alive afterwards."""
    import gc

    from flowc.lsp.diagnostics import uncollected

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        with uncollected():
            assert not gc.isenabled()
            kept = [[n] for n in range(1000)]  # noqa: F841  (alive at the end of the block)
        assert gc.isenabled() and gc.get_freeze_count() >= frozen + 1000
        with pytest.raises(RuntimeError), uncollected():
            raise RuntimeError("a failing check")
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_server_also_serves_a_stdin_that_is_not_a_pipe(tmp_path: Path):
    """Editors connect through pipes, which the event loop reads itself; any other stdin (here a file of
    messages) is read by pygls' own reader, and the server answers just the same."""
    import json
    import subprocess
    import sys

    def frame(message: dict) -> bytes:
        body = json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    messages = tmp_path / "messages"
    messages.write_bytes(b"".join(frame(m) for m in [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"}]))
    with messages.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "flowc", "lsp"], stdin=stdin, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b'"id": 1' in done.stdout and b'"id": 2' in done.stdout and b'"capabilities"' in done.stdout
