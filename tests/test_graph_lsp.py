"""The language server's `flowc/graph` request end to end: a real `python -m flowc lsp` over stdio (pytest-lsp),
answering with the same diagram `flowc graph` prints, from the editor's unsaved text."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from flowc.backend.graph import project_graph, render
from flowc.semantics.project import find_flow_files, read_files
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ivr-menu"
SERVER = [sys.executable, "-m", "flowc", "lsp"]
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("graph-workspace")
    for file in EXAMPLE.glob("*.flow"):
        shutil.copy(file, root / file.name)
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, folder: Path):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # the server's file watcher, as VS Code accepts it
        return None

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="workspace")]))
    yield
    await lsp_client.shutdown_session()


async def request(client: LanguageClient, params: dict):
    import asyncio

    return await asyncio.wait_for(client.protocol.send_request_async("flowc/graph", params), TIMEOUT)


def expected(folder: Path, fmt: str, flow: str | None = None) -> str:
    graph, _, _ = project_graph(read_files(find_flow_files([str(folder)])), flow)
    return render(graph, fmt)


async def test_graph_of_the_workspace_is_the_command_s(client: LanguageClient, folder: Path):
    mermaid = await request(client, {"uri": (folder / "main.flow").as_uri()})
    assert mermaid.format == "mermaid" and mermaid.text == expected(folder, "mermaid")
    assert mermaid.text == (ROOT / "tests" / "golden_graph" / "ivr-menu.mmd").read_text()
    dot = await request(client, {"format": "dot", "flow": "billing"})
    assert dot.text == expected(folder, "dot", "billing")


async def test_graph_follows_unsaved_edits(client: LanguageClient, folder: Path):
    document = (folder / "billing.flow").as_uri()
    text = (folder / "billing.flow").read_text().replace("redirect to main", "redirect to mian")
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=document, language_id="flow", version=1, text=text)))
    answer = await request(client, {"uri": document})
    assert 'f_billing_choice -.->|"digits #34;2#34;: redirect"| mf_mian' in answer.text
    assert "FC401 no flow named #96;mian#96;" in answer.text and "did you mean #96;main#96;?" in answer.text
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=document)))
    assert "mf_mian" not in (await request(client, {"uri": document})).text


async def test_bad_requests_answer_an_error_not_a_crash(client: LanguageClient):
    assert "unknown format" in (await request(client, {"format": "png"})).error
    assert "no flow or conference named `nope`" in (await request(client, {"flow": "nope"})).error
    assert (await request(client, {})).text.startswith("flowchart TD\n")  # the server is still there
