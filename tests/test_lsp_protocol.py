"""The language server under malformed and out-of-order messages, over raw JSON-RPC on a real `python -m flowc
lsp` subprocess's pipes (pytest-lsp's client checks params itself, so it could not send these).

Every request gets an answer (InvalidParams -32602 where its params do not fit, ServerNotInitialized -32002
before initialize), and a change the server cannot apply never leaves it working on a text the editor does not
have: it clears what it showed, says so, and resumes from the next full text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_wire import Wire, change, codes, initialize, position, start_server, stop_server

pytestmark = [pytest.mark.e2e]

TEXT = 'flow main on answer {\n    sya "Hi"\n}\n'  # one diagnostic: FC102, `sya`


@pytest.fixture
async def wire(tmp_path: Path):
    peer = await start_server()
    yield peer
    await stop_server(peer)


async def open_main(wire: Wire, folder: Path) -> str:
    uri = (folder / "main.flow").as_uri()
    wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "flow", "version": 1,
                                                          "text": TEXT}})
    assert codes(await wire.diagnostics(uri, lambda ds: bool(ds))) == ["FC102"]
    return uri


async def test_requests_before_initialize_get_server_not_initialized(wire: Wire, tmp_path: Path):
    uri = (tmp_path / "main.flow").as_uri()
    response = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(0, 0)})
    assert response["error"]["code"] == -32002
    wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "flow", "version": 1,
                                                          "text": TEXT}})  # dropped: before initialize
    await initialize(wire, tmp_path)
    response = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(1, 5)})
    assert response["result"] is None  # the early didOpen was not taken: the document is not open


async def test_malformed_requests_are_answered_with_invalid_params(wire: Wire, tmp_path: Path):
    await initialize(wire, tmp_path)
    uri = await open_main(wire, tmp_path)
    bogus = await wire.request("textDocument/hover", {"bogus": 1})
    assert bogus["error"]["code"] == -32602 and "textDocument/hover" in bogus["error"]["message"]
    negative = await wire.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                             "position": position(1, -5)})
    assert negative["error"]["code"] == -32602
    missing = await wire.request("textDocument/definition", None)
    assert missing["error"]["code"] == -32602
    hover = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(0, 1)})
    assert "flow" in hover["result"]["contents"]["value"]  # and the server goes on answering


async def test_a_change_that_cannot_be_applied_never_leaves_a_wrong_text(wire: Wire, tmp_path: Path):
    await initialize(wire, tmp_path)
    uri = await open_main(wire, tmp_path)
    wire.notify("textDocument/didChange", change(uri, 2, position(1, -3), position(1, 2), "XX"))
    assert await wire.diagnostics(uri, lambda ds: not ds) == []  # what was shown for the old text is cleared
    [shown] = wire.notifications("window/showMessage")
    assert shown["type"] == 2 and "main.flow" in shown["message"] and "reopen" in shown["message"]
    # a later partial change cannot be applied to a text the server does not know: still nothing, no edits
    wire.notify("textDocument/didChange", change(uri, 3, position(1, 4), position(1, 7), "say"))
    formatting = await wire.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                                "options": {"tabSize": 4, "insertSpaces": True}})
    assert formatting["result"] == []
    hover = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(0, 1)})
    assert hover["result"] is None
    # the editor's full text puts it back in step
    wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4},
                                           "contentChanges": [{"text": TEXT.replace("main", "again")}]})
    found = await wire.diagnostics(uri, lambda ds: bool(ds))
    assert codes(found) == ["FC102"]
    hover = await wire.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(0, 1)})
    assert "flow" in hover["result"]["contents"]["value"]


@pytest.mark.parametrize("start, end", [
    (position(9, 0), position(9, 4)),  # beyond the document's three lines
    (position(1, 6), position(1, 2)),  # ends before it starts
])
async def test_a_change_outside_the_document_is_not_applied_and_a_save_resyncs(wire: Wire, tmp_path: Path,
                                                                                 start, end):
    await initialize(wire, tmp_path)
    uri = await open_main(wire, tmp_path)
    wire.notify("textDocument/didChange", change(uri, 2, start, end, 'say "lost"'))
    assert await wire.diagnostics(uri, lambda ds: not ds) == []
    assert len(wire.notifications("window/showMessage")) == 1
    fixed = TEXT.replace("sya", "say")
    (tmp_path / "main.flow").write_text(fixed)
    wire.notify("textDocument/didSave", {"textDocument": {"uri": uri}, "text": fixed})
    wire.notify("textDocument/didChange", change(uri, 3, position(1, 4), position(1, 7), "sya"))
    assert codes(await wire.diagnostics(uri, lambda ds: bool(ds))) == ["FC102"]  # in step with the editor again
