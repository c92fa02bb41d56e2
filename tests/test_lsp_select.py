"""The editor's choice of codes: `select`/`ignore` in the language server's initialization options, read as
`flowc check --select/--ignore` reads them. A real `python -m flowc lsp` over stdio, driven by pytest-lsp."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

UNCLEAN = """\
flow main on initiate {
    say "hi" voice bogus
    hangup
    say "never"
}
flow unused { hangup }
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("selected")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "flowc", "lsp"]))
async def client(lsp_client: LanguageClient, folder: Path):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # file watchers, as an editor accepts them
        pass

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="selected")],
        initialization_options={"debounceMs": 50, "select": ["FC2", "FC4"], "ignore": ["FC403"]},
    ))
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, document: str) -> list[types.Diagnostic]:
    async def until():
        while client.diagnostics.get(document) is None:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[document])

    return await asyncio.wait_for(until(), 10.0)


async def test_the_server_reports_only_the_selected_codes(client: LanguageClient, folder: Path):
    document = (folder / "main.flow").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=document, language_id="flow", version=1, text=UNCLEAN)))
    found = await published(client, document)
    assert sorted(d.code for d in found) == ["FC202", "FC405"]  # FC403 ignored; nothing else to report
