"""The editor's side of issue 11's language features, through a real `python -m flowc lsp` over stdio: the
diagnostics, quick fixes, hover and completion of what is new (webhook events of `flow NAME on ...`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_lsp import (
    apply,
    close_document,
    codes,
    complete,
    diagnostics,
    fix,
    hover,
    open_document,
    position,
    started_client,
    uri,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("language")


client = started_client()


async def test_unknown_event_has_a_quick_fix_and_a_hover(client: LanguageClient, folder: Path):
    document = uri(folder, "events.flow")
    text = 'flow inbound on initate, redirect {\n    say "Hi"\n}\n'
    open_document(client, document, text)
    [found] = await diagnostics(client, document, lambda ds: "FC115" in codes(ds))
    assert found.severity == types.DiagnosticSeverity.Error and "did you mean `initiate`?" in found.message
    [action] = await fix(client, document, text, found)
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    assert apply(text, action.edit.changes[document]).startswith("flow inbound on initiate, redirect {")
    assert "FC115" in await hover(client, document, position(text, "initate", 2))
    assert "`redirect` webhook" in await hover(client, document, position(text, "redirect", 2))
    close_document(client, document)


async def test_completion_offers_the_webhooks_a_flow_can_answer(client: LanguageClient, folder: Path):
    document = uri(folder, "complete_events.flow")
    text = "flow inbound on \n"
    open_document(client, document, text)
    labels = await complete(client, document, position(text, "on ", 3))
    assert labels[:2] == ["initiate", "answer"] and "redirect" in labels and "disconnect" not in labels
    close_document(client, document)


async def test_completion_and_fix_of_a_document_kind(client: LanguageClient, folder: Path):
    document = uri(folder, "documents.flow")
    text = "flow hold for \n"
    open_document(client, document, text)
    assert await complete(client, document, position(text, "for ", 4)) == ["update-call", "update-conference"]
    text = "flow hold as \n"
    open_document(client, document, text, 2)
    assert await complete(client, document, position(text, "as ", 3)) == ["bxml"]
    close_document(client, document)
    document = uri(folder, "documents_fix.flow")
    text = "flow hold for update-cal {\n    hangup\n}\n"
    open_document(client, document, text)
    [found] = await diagnostics(client, document, lambda ds: "FC107" in codes(ds))
    [action] = await fix(client, document, text, found)
    assert apply(text, action.edit.changes[document]).startswith("flow hold for update-call {")
    close_document(client, document)
