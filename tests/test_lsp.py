"""The language server end to end: a real `python -m flowc lsp` subprocess driven over stdio by pytest-lsp.

One server (and one temporary workspace folder holding a two-file project) is shared by the module; each test
opens its own documents under names no other test uses, and closes them again.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

SERVER = [sys.executable, "-m", "flowc", "lsp"]
MENU = """\
flow menu {
    gather max 1 then billing {
        say "Press 1 for billing." gender male
    }
}
"""
BILLING = """\
conference team "team-room" {
    timeout 10s
    on member join {
        say "Welcome."
    }
}

flow billing {
    say "Billing." voice kate
    join team
}
"""
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "menu.flow").write_text(MENU)
    (root / "billing.flow").write_text(BILLING)
    (root / "legacy.flow").write_text('flow legacy {\n    hangup "now"\n}\n')  # never opened in the editor
    (root / "blob.flow").write_bytes(b"\x89PNG\r\n\x00\x00")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "skipped.flow").write_text("flow skipped {\n    sya\n}\n")
    return root


class PublishLog(dict):
    """The latest diagnostics per document, as pytest-lsp keeps them, plus every publish in order."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.log: list[str] = []

    def __setitem__(self, document: str, diagnostics) -> None:
        self.log.append(document)
        super().__setitem__(document, diagnostics)


async def start(client: LanguageClient, folder: Path) -> types.InitializeResult:
    client.registrations = []  # what the server registers dynamically (file watchers), as VS Code would

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    client.diagnostics = PublishLog(client.diagnostics)  # pytest-lsp stores each publish here

    capabilities = client_capabilities("visual-studio-code")
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="workspace")],
        initialization_options={"debounceMs": 100},
    ))


def started_client():
    """The `client` fixture of a module of editor tests (`client = started_client()`): one real server for the
    module, initialised on the module's `folder` fixture and shut down after its last test."""

    @pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER), name="client")
    async def client(lsp_client: LanguageClient, folder: Path):
        lsp_client.initialize_result = await start(lsp_client, folder)
        yield
        await lsp_client.shutdown_session()
    return client


client = started_client()


# -- helpers ---------------------------------------------------------------------------------------------------

def uri(folder: Path, name: str) -> str:
    return (folder / name).as_uri()


def open_document(client: LanguageClient, document: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=document, language_id="flow", version=version, text=text)))


def change_document(client: LanguageClient, document: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=document, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def close_document(client: LanguageClient, document: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=document)))


async def diagnostics(client: LanguageClient, document: str, condition) -> list[types.Diagnostic]:
    """Wait until the diagnostics published for `document` satisfy `condition`."""
    async def until():
        while True:
            current = client.diagnostics.get(document)
            if current is not None and condition(current):
                return list(current)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(until(), TIMEOUT)


def codes(found) -> list[str]:
    return [d.code for d in found]


def position(text: str, needle: str, shift: int = 0, occurrence: int = 0) -> types.Position:
    """The position of the `occurrence`-th `needle` in `text`, plus `shift` characters (one line only)."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += shift
    line = text.count("\n", 0, index)
    return types.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


async def hover(client: LanguageClient, document: str, at: types.Position) -> str | None:
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=document), position=at))
    return result.contents.value if result else None


async def complete(client: LanguageClient, document: str, at: types.Position) -> list[str]:
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=document), position=at))
    items = result.items if isinstance(result, types.CompletionList) else (result or [])
    return [item.label for item in items]


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def fix(client: LanguageClient, document: str, text: str, diagnostic: types.Diagnostic) -> list:
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=document), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))


# -- capabilities ------------------------------------------------------------------------------------------------

async def test_advertises_only_what_it_implements(client: LanguageClient):
    capabilities = client.initialize_result.capabilities
    assert capabilities.hover_provider and capabilities.definition_provider and capabilities.references_provider
    assert capabilities.completion_provider is not None and capabilities.document_symbol_provider
    assert capabilities.code_action_provider and capabilities.document_formatting_provider
    assert capabilities.rename_provider is None and capabilities.semantic_tokens_provider is None
    assert capabilities.diagnostic_provider is None  # push diagnostics only
    assert capabilities.document_range_formatting_provider is None
    assert capabilities.execute_command_provider is None  # pygls advertises it (with no commands) unless told
    assert capabilities.completion_provider.resolve_provider is False
    assert list(capabilities.completion_provider.trigger_characters) == ["|"]  # a filter in `{field|...}`
    assert client.initialize_result.server_info.name == "flowc"


# -- diagnostics -------------------------------------------------------------------------------------------------

async def test_diagnostics_on_open_change_and_save_and_cleared_when_fixed(client: LanguageClient, folder: Path):
    document = uri(folder, "diag.flow")
    broken = 'flow diag_main {\n    sya "Hi"\n}\n'
    open_document(client, document, broken)
    [found] = await diagnostics(client, document, lambda ds: len(ds) == 1)
    assert found.code == "FC102" and "did you mean `say`?" in found.message
    assert found.range.start == types.Position(line=1, character=4) and found.range.end.character == 7
    assert found.severity == types.DiagnosticSeverity.Error and found.source == "flowc"
    assert found.code_description.href.endswith("diagnostics.md#fc102")

    change_document(client, document, 'flow diag_main {\n    say "Hi"\n}\n', 2)
    assert await diagnostics(client, document, lambda ds: not ds) == []  # cleared once fixed

    change_document(client, document, 'flow diag_main {\n    say "Hi" gender mal\n}\n', 3)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=document)))
    found = await diagnostics(client, document, lambda ds: codes(ds) == ["FC202"])
    assert "male" in found[0].message
    close_document(client, document)
    await diagnostics(client, document, lambda ds: not ds)  # a closed unsaved document leaves no diagnostics


async def test_workspace_files_are_checked_without_being_opened(client: LanguageClient, folder: Path):
    [found] = await diagnostics(client, uri(folder, "legacy.flow"), lambda ds: len(ds) == 1)
    assert found.code == "FC107" and found.range.start.line == 1
    [found] = await diagnostics(client, uri(folder, "blob.flow"), lambda ds: len(ds) == 1)
    assert found.code == "FC003"
    assert uri(folder, ".hidden/skipped.flow") not in client.diagnostics  # hidden directories are skipped


async def test_related_information_from_labels(client: LanguageClient, folder: Path):
    document = uri(folder, "dup.flow")
    open_document(client, document, 'flow dup_one { hangup }\nflow dup_one { say "Hi" }\n')
    [found] = await diagnostics(client, document, lambda ds: codes(ds) == ["FC111"])
    [related] = found.related_information
    assert related.message == "first defined here" and related.location.range.start.line == 0
    close_document(client, document)


async def test_positions_count_utf16_units(client: LanguageClient, folder: Path):
    document = uri(folder, "utf16.flow")
    line = '    say "\U0001F600 caf\u00e9" gender mal'
    open_document(client, document, f"flow utf16_main {{\n{line}\n}}\n")
    [found] = await diagnostics(client, document, lambda ds: len(ds) == 1)
    units = len(line[: line.index("mal")].encode("utf-16-le")) // 2  # the emoji is two UTF-16 units
    assert found.code == "FC202" and found.range.start == types.Position(line=1, character=units)
    at = types.Position(line=1, character=len(line[: line.index("gender") + 2].encode("utf-16-le")) // 2)
    assert "`gender`" in await hover(client, document, at)
    close_document(client, document)


async def test_cross_file_rules_rechecked_across_the_workspace(client: LanguageClient, folder: Path):
    menu, billing = uri(folder, "menu.flow"), uri(folder, "billing.flow")
    document = uri(folder, "cross.flow")
    open_document(client, document, "flow cross {\n    redirect to billing\n}\n")
    assert await diagnostics(client, document, lambda ds: True) == []  # `billing` is defined in another file

    # Renaming the flow in billing.flow breaks menu.flow (not open) and cross.flow; renaming it back clears both.
    open_document(client, billing, BILLING)
    change_document(client, billing, BILLING.replace("flow billing", "flow billing2"), 2)
    [broken] = await diagnostics(client, menu, lambda ds: len(ds) == 1)
    assert broken.code == "FC401" and "billing2" in broken.message  # did you mean the renamed flow?
    await diagnostics(client, document, lambda ds: codes(ds) == ["FC401"])
    change_document(client, billing, BILLING, 3)
    await diagnostics(client, menu, lambda ds: not ds)
    await diagnostics(client, document, lambda ds: not ds)
    close_document(client, billing)
    close_document(client, document)


async def test_workspace_folders_added_and_removed(client: LanguageClient, folder: Path, tmp_path: Path):
    (tmp_path / "extra.flow").write_text("flow extra_target {\n    hangup\n}\n")
    document = uri(folder, "uses_extra.flow")
    open_document(client, document, "flow uses_extra {\n    redirect to extra_target\n}\n")
    await diagnostics(client, document, lambda ds: codes(ds) == ["FC401"])
    extra = types.WorkspaceFolder(uri=tmp_path.as_uri(), name="extra")
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        event=types.WorkspaceFoldersChangeEvent(added=[extra], removed=[])))
    await diagnostics(client, document, lambda ds: not ds)
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        event=types.WorkspaceFoldersChangeEvent(added=[], removed=[extra])))
    await diagnostics(client, document, lambda ds: codes(ds) == ["FC401"])
    close_document(client, document)


async def test_files_changed_on_disk_are_watched(client: LanguageClient, folder: Path):
    for _ in range(100):  # the server registers its watcher after `initialized`, on its own time
        if client.registrations:
            break
        await asyncio.sleep(0.05)
    [registration] = client.registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert [w["globPattern"] for w in registration.register_options["watchers"]] == ["**/*.flow"]

    def changed(path: Path, kind: types.FileChangeType) -> None:
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind)]))

    user = uri(folder, "watch_user.flow")  # open: uses a flow that a file created outside the editor declares
    open_document(client, user, "flow watch_user {\n    redirect to watch_target\n}\n")
    await diagnostics(client, user, lambda ds: codes(ds) == ["FC401"])
    target = folder / "watch_target.flow"
    target.write_text("flow watch_target {\n    hangup\n}\n")
    changed(target, types.FileChangeType.Created)
    await diagnostics(client, user, lambda ds: not ds)
    target.write_text("flow watch_target {\n    sya\n}\n")
    changed(target, types.FileChangeType.Changed)
    await diagnostics(client, target.as_uri(), lambda ds: codes(ds) == ["FC102"])
    target.unlink()
    changed(target, types.FileChangeType.Deleted)
    await diagnostics(client, target.as_uri(), lambda ds: not ds)
    await diagnostics(client, user, lambda ds: codes(ds) == ["FC401"])
    close_document(client, user)


# -- hover ---------------------------------------------------------------------------------------------------------

async def test_hover_statement_attribute_value_and_names(client: LanguageClient, folder: Path):
    menu, billing = uri(folder, "menu.flow"), uri(folder, "billing.flow")
    text = await hover(client, menu, position(MENU, "say", 1))
    assert "`<SpeakSentence>`" in text and "Reads text aloud" in text and "conference replies" in text

    text = await hover(client, menu, position(MENU, "gender", 2))
    assert "`gender`" in text and "one of `male`, `female`" in text and "default: `female`" in text

    text = await hover(client, menu, position(MENU, "male", 1))
    assert "a value of `gender`" in text
    text = await hover(client, menu, position(MENU, "max 1", 4))  # a number describes its attribute
    assert "`maxDigits`" in text and "1 to 50" in text and "default: `50`" in text

    text = await hover(client, billing, position(BILLING, "kate", 1))
    assert "en_US" in text and "female" in text

    text = await hover(client, menu, position(MENU, "then billing", 6))
    assert "flow `billing`" in text and "/flows/billing" in text and "1 reference(s)" in text

    # Conference rules, in the project's words (flowc.core.codes): the settings only the creating call decides.
    text = await hover(client, billing, position(BILLING, "timeout", 1))
    assert "`callbackTimeout`" in text and "FC309" in text and "conflicting conference webhook settings" in text
    text = await hover(client, menu, position(MENU, "gather", 1))
    assert "FC301" in text and "Bandwidth rejects the whole reply" in text
    text = await hover(client, billing, position(BILLING, "join team", 6))
    assert "conference `team`" in text and "team-room" in text

    assert await hover(client, menu, types.Position(line=0, character=11)) is None  # on `{`

    document = uri(folder, "positional.flow")
    text = "flow positional_main {\n    pause 2s\n}\n"
    open_document(client, document, text)
    hovered = await hover(client, document, position(text, "2s", 1))  # a value standing for its attribute
    assert "`duration`" in hovered and "right after `pause`" in hovered and "0.1 to 86400" in hovered
    close_document(client, document)

    text = 'flow empty_default {\n    gather until "#"\n}\n'
    open_document(client, document, text)
    hovered = await hover(client, document, position(text, "until", 1))  # an empty default is shown as `""`
    assert "`terminatingDigits`" in hovered and 'default: `""`' in hovered
    close_document(client, document)


async def test_hover_on_events_and_branch_fields(client: LanguageClient, folder: Path):
    document = uri(folder, "events.flow")
    text = ('flow events_main on initiate, answer {\n    gather then events_main\n}\n'
            'flow events_digits {\n    when digits "1" {\n        hangup\n    }\n}\n'
            'conference events_room {\n    on member join {\n        say "Hi"\n    }\n}\n')
    open_document(client, document, text)
    assert "call comes in" in await hover(client, document, position(text, "initiate", 3))
    assert "outgoing call" in await hover(client, document, position(text, "answer", 2))
    for word in ("member", "join {"):  # every word of the event, not only `on`
        hovered = await hover(client, document, position(text, word, 1))
        assert "`conferenceMemberJoin`" in hovered and "FC301" in hovered
    assert "`digits` field" in await hover(client, document, position(text, "when digits", 7))
    assert "when the webhook's `digits` is `1`" in await hover(client, document, position(text, '"1"', 1))
    close_document(client, document)


async def test_hover_and_completion_for_branches_on_runtime_values(client: LanguageClient, folder: Path):
    """Issue 11 item 2: `when hook(...)`, and `when` inside a conference handler."""
    document = uri(folder, "values.flow")
    text = ('flow values_main on initiate {\n    when hook(after_hours) "yes" {\n        hangup\n    }\n}\n'
            'conference values_room {\n    on member join {\n        when tag "coach" {\n            say "c"\n'
            '        }\n        otherwise {\n            say "x"\n        }\n        \n    }\n}\n')
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    hovered = await hover(client, document, position(text, "after_hours", 2))
    assert "`when hook(after_hours)`" in hovered and "your hook `after_hours`" in hovered
    assert "your hook `after_hours` returns is `yes`" in await hover(client, document, position(text, '"yes"', 1))
    assert "webhook's `tag` field" in await hover(client, document, position(text, "when tag", 6))
    assert "of the conference handler" in await hover(client, document, position(text, "otherwise", 3))
    labels = await complete(client, document, types.Position(line=13, character=8))  # the handler's body
    assert {"when", "otherwise", "say", "play"} <= set(labels) and "gather" not in labels
    close_document(client, document)


async def test_hover_and_completion_for_attempts(client: LanguageClient, folder: Path):
    """Issue 11 item 3: `attempts N` and `exhausted FLOW` on a gather."""
    document = uri(folder, "attempts.flow")
    text = ('flow tries_main on initiate {\n    gather max 1 then tries_choice attempts 3 exhausted tries_vm {\n'
            '        say "Press 1."\n    }\n}\n'
            'flow tries_choice {\n    when digits "1" {\n        say "One."\n    }\n}\n'
            'flow tries_vm {\n    hangup\n}\n')
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    hovered = await hover(client, document, position(text, "attempts 3", 2))
    assert "**`attempts 3`**: asks at most 3 times" in hovered and "continues with flow `tries_vm`" in hovered
    assert "`tries_vm`" in await hover(client, document, position(text, "exhausted tries_vm", 12))
    text2 = 'flow tries_main on initiate {\n    gather then tries_main \n}\n'
    change_document(client, document, text2, 2)
    labels = await complete(client, document, position(text2, "tries_main \n", 11))
    assert {"attempts", "exhausted", "timeout", "max"} <= set(labels)
    text3 = 'flow tries_main on initiate {\n    gather then tries_main attempts 2 exhausted \n}\n'
    change_document(client, document, text3, 3)
    assert "tries_main" in await complete(client, document, position(text3, "exhausted ", 10))
    close_document(client, document)


async def test_hover_on_text_runtime_parts_and_otherwise(client: LanguageClient, folder: Path):
    document = uri(folder, "texts.flow")
    text = ('conference texts_room "case-{digits|digits}" {\n    tag "t"\n}\n'
            'flow texts_main on initiate {\n    when digits "1" {\n        join texts_room\n    }\n'
            '    otherwise {\n        say "Hello {from|safe}"\n        say hook(greeting)\n    }\n}\n')
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    assert "`<SpeakSentence>`" in await hover(client, document, position(text, "Hello", 2))  # a statement's text
    hovered = await hover(client, document, position(text, "from|", 1))
    assert "`from` field of the webhook's payload" in hovered and "Filter `safe`" in hovered
    assert "your own code" in await hover(client, document, position(text, "greeting", 2))
    hovered = await hover(client, document, position(text, "digits|", 2))  # in a conference's room name
    assert "`digits` field" in hovered and "keeps only digits" in hovered and "the digits pressed" in hovered
    assert "no `when` branch" in await hover(client, document, position(text, "otherwise", 3))
    close_document(client, document)


# -- completion ----------------------------------------------------------------------------------------------------

async def test_completion_statements_attributes_values_and_names(client: LanguageClient, folder: Path):
    document = uri(folder, "complete.flow")
    text = ('flow complete_main {\n    \n    say "Hi" \n    say "Hi" voice \n    gather then \n    join \n'
            '    say "Hi" locale \n    redirect to menu method \n}\n'
            'conference complete_room {\n    on member join {\n        \n    }\n}\n')
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)

    labels = await complete(client, document, types.Position(line=1, character=4))  # a flow body
    assert {"say", "play", "join conference", "gather", "hangup", "when", "otherwise"} <= set(labels)
    assert "flow" not in labels and "number" not in labels

    labels = await complete(client, document, types.Position(line=11, character=8))  # a conference reply
    assert {"say", "play", "start recording"} <= set(labels) and "hangup" not in labels

    labels = await complete(client, document, types.Position(line=2, character=13))  # after say's text
    assert {"voice", "gender", "locale"} <= set(labels) and "hangup" not in labels

    labels = await complete(client, document, types.Position(line=3, character=19))  # after `voice`
    assert {"kate", "julie", "simon"} <= set(labels) and "gender" not in labels

    labels = await complete(client, document, types.Position(line=4, character=16))  # after `then`
    assert {"billing", "menu", "complete_main"} <= set(labels)  # flows of every file

    labels = await complete(client, document, types.Position(line=5, character=9))  # after `join`
    assert {"team", "complete_room", "conference"} <= set(labels)

    labels = await complete(client, document, position(text, "locale ", 7))
    assert {"en_US", "fr", "es_MX"} <= set(labels)
    labels = await complete(client, document, position(text, "method ", 7))
    assert labels == ["GET", "POST"]

    labels = await complete(client, document, types.Position(line=0, character=0))  # top level
    assert set(labels) == {"flow", "conference", "application", "hours"}

    text = 'flow complete_main {\n    say "Hi there" # say \n}\n'
    change_document(client, document, text, 2)
    assert await complete(client, document, position(text, "there")) == []  # inside a string
    assert await complete(client, document, position(text, "# say", 5)) == []  # inside a comment
    text = 'flow complete_main {\n    say "Hi there, vo\n}\n'  # typing a sentence: the string is not closed yet
    change_document(client, document, text, 3)
    assert await complete(client, document, position(text, "vo", 2)) == []
    assert await complete(client, document, position(text, "Hi", 0)) == []

    text = 'flow complete_main {\n    join conference "room-{fr}-{to|"\n}\n'  # a string's runtime parts
    change_document(client, document, text, 4)
    labels = await complete(client, document, position(text, "{fr", 3))
    assert {"from", "to", "digits", "callId", "tag"} <= set(labels) and "say" not in labels
    assert await complete(client, document, position(text, "to|", 3)) == ["safe", "digits"]
    text = 'flow complete_main {\n    say "a {{fr"\n}\n'  # `{{` is a literal brace, not a runtime part
    change_document(client, document, text, 5)
    assert await complete(client, document, position(text, "{{fr", 4)) == []

    text = 'flow complete_main on initiate, \n'  # the events not listed yet, entry events first; a comma first
    change_document(client, document, text, 6)
    labels = await complete(client, document, position(text, ", ", 2))
    assert labels[0] == "answer" and "redirect" in labels and "gather" in labels
    assert "initiate" not in labels and "disconnect" not in labels and "conferenceMemberJoin" not in labels
    text = 'flow complete_main on initiate \n'
    change_document(client, document, text, 7)
    assert await complete(client, document, position(text, "initiate ", 9)) == ["auth"]  # a comma, or auth
    text = 'flow complete_main {\n    start recording on \n}\n'  # the rest of a several-word attribute
    change_document(client, document, text, 8)
    assert await complete(client, document, position(text, "on ", 3)) == ["recording", "transcription"]
    close_document(client, document)


async def test_completion_follows_where_the_statement_runs(client: LanguageClient, folder: Path):
    document = uri(folder, "contexts.flow")
    text = ('flow ctx_main {\n    transfer then ctx_done {\n        number "+15551234567" answer ctx_whisper\n'
            '    }\n}\nflow ctx_whisper {\n    \n}\nflow ctx_done {\n    say {\n        \n    }\n}\n')
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    labels = await complete(client, document, types.Position(line=6, character=4))  # answers transferAnswer
    assert {"say", "gather", "hangup"} <= set(labels) and not {"transfer", "join", "bridge"} & set(labels)
    labels = await complete(client, document, types.Position(line=10, character=8))  # SSML inside `say`
    assert {"break", "emphasis", "prosody"} <= set(labels) and "say" not in labels
    labels = await complete(client, document, position(text, "answer", -1))  # a transfer destination
    assert {"answer", "on disconnect", "uui"} <= set(labels)
    close_document(client, document)


async def test_half_typed_document_still_gets_hover_and_completion(client: LanguageClient, folder: Path):
    document = uri(folder, "half.flow")
    text = 'flow half_main {\n    say "Hi" gender male\n    gather then  {\n        say "x" loc'
    open_document(client, document, text)
    found = await diagnostics(client, document, lambda ds: "FC001" in codes(ds))
    assert any("never closed" in d.message for d in found)

    hovered = await hover(client, document, position(text, "gender", 1))
    assert "`gender`" in hovered
    labels = await complete(client, document, position(text, "loc", 3))  # typing an attribute of `say`
    assert "locale" in labels
    labels = await complete(client, document, position(text, "then ", 5))
    assert "billing" in labels
    change_document(client, document, text + "\n        ", 2)  # a new line inside the unclosed gather block
    labels = await complete(client, document, types.Position(line=4, character=8))
    assert set(labels) >= {"say", "play"} and "hangup" not in labels  # gather's prompts only
    close_document(client, document)


async def test_a_file_outside_the_workspace_is_checked_with_its_own_directory(
        client: LanguageClient, folder: Path, tmp_path: Path):
    # Another project: its `billing` must not clash with the workspace's, its `helper` must be found.
    (tmp_path / "lib.flow").write_text("flow helper {\n    redirect to billing\n}\nflow billing {\n    hangup\n}\n")
    document = (tmp_path / "outside.flow").as_uri()
    text = "flow outside_main on initiate {\n    redirect to helper\n}\n"
    open_document(client, document, text)
    assert await diagnostics(client, document, lambda ds: True) == []
    [target] = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=document), position=position(text, "helper", 1)))
    assert target.uri == (tmp_path / "lib.flow").as_uri()
    assert "menu" not in await complete(client, document, position(text, "helper"))  # the workspace's flows
    assert "billing" in await complete(client, document, position(text, "helper"))

    change_document(client, document, text.replace("helper", "menu"), 2)  # a workspace name means nothing here
    await diagnostics(client, document, lambda ds: codes(ds) == ["FC401"])
    close_document(client, document)
    await diagnostics(client, document, lambda ds: not ds)  # closed: it leaves no diagnostics and no names
    workspace_file = uri(folder, "after_outside.flow")
    open_document(client, workspace_file, "flow after_outside {\n    redirect to outside_main\n}\n")
    await diagnostics(client, workspace_file, lambda ds: codes(ds) == ["FC401"])
    close_document(client, workspace_file)


# -- navigation ----------------------------------------------------------------------------------------------------

async def test_definition_and_references_across_files(client: LanguageClient, folder: Path):
    menu, billing = uri(folder, "menu.flow"), uri(folder, "billing.flow")
    at = position(MENU, "then billing", 6)
    [target] = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=menu), position=at))
    assert target.uri == billing and target.range.start == position(BILLING, "billing {", 0)

    found = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=billing), position=position(BILLING, "billing {", 2),
        context=types.ReferenceContext(include_declaration=True)))
    assert sorted((f.uri, f.range.start.line) for f in found) == [(billing, 7), (menu, 1)]

    # a conference: `join team` -> its declaration, and back
    [target] = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=billing), position=position(BILLING, "join team", 6)))
    assert target.range.start == position(BILLING, "team", 0)
    found = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=billing), position=position(BILLING, "team", 1),
        context=types.ReferenceContext(include_declaration=False)))
    assert [f.range.start.line for f in found] == [9]


async def test_document_symbols(client: LanguageClient, folder: Path):
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri(folder, "billing.flow"))))
    assert [(s.name, s.kind) for s in symbols] == [("team", types.SymbolKind.Namespace),
                                                    ("billing", types.SymbolKind.Function)]
    assert [c.name for c in symbols[0].children] == ["on conferenceMemberJoin"]


# -- code actions ----------------------------------------------------------------------------------------------------

async def test_code_actions_apply_each_fix(client: LanguageClient, folder: Path):
    document = uri(folder, "fixes.flow")
    text = ('flow fixes_main {\n    join conference "room" calbackTimeout 5\n}\n'
            'conference fixes_room {\n    auth "agent" "hunter2"\n    on member join {\n        hangup\n'
            '        say "Hi"\n    }\n}\n')
    open_document(client, document, text)
    found = await diagnostics(client, document, lambda ds: {"FC103", "FC404", "FC301"} <= set(codes(ds)))
    by_code = {d.code: d for d in found}

    [action] = await fix(client, document, text, by_code["FC103"])  # did you mean
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    fixed = apply(text, action.edit.changes[document])
    assert 'join conference "room" callbackTimeout 5' in fixed

    [action] = await fix(client, document, text, by_code["FC404"])  # literal password -> env()
    assert 'auth "agent" env(PASSWORD)' in apply(text, action.edit.changes[document])

    [action] = await fix(client, document, text, by_code["FC301"])  # a verb a conference reply may not hold
    assert apply(text, action.edit.changes[document]).endswith('    on member join {\n        say "Hi"\n    }\n}\n')
    close_document(client, document)


async def test_quick_fixes_leave_tidy_text(client: LanguageClient, folder: Path):
    document = uri(folder, "tidy.flow")
    text = ('flow tidy_main on initiate {\n    pause 5s duration 3\n    join tidy_room\n}\n\n'
            'flow tidy_unused {\n    hangup\n}\n\nflow tidy_last on answer {\n    hangup\n}\n'
            'conference tidy_room {\n    on created {\n        say "a"; hangup; say "b"\n    }\n}\n')
    open_document(client, document, text)
    found = await diagnostics(client, document, lambda ds: {"FC206", "FC403", "FC301"} <= set(codes(ds)))
    by_code = {d.code: d for d in found}
    [action] = await fix(client, document, text, by_code["FC206"])  # an attribute: its blank goes with it
    assert "    pause 5s\n" in apply(text, action.edit.changes[document])
    [action] = await fix(client, document, text, by_code["FC301"])  # a statement: its `;` goes with it
    assert '        say "a"; say "b"\n' in apply(text, action.edit.changes[document])
    [action] = await fix(client, document, text, by_code["FC403"])  # a declaration: one blank line stays
    assert "}\n\nflow tidy_last on answer {" in apply(text, action.edit.changes[document])
    close_document(client, document)


# -- formatting ------------------------------------------------------------------------------------------------------

async def test_formatting_through_the_formatter(client: LanguageClient, folder: Path):
    document = uri(folder, "format.flow")
    text = 'flow   format_main {\nsay    "Hi"   gender male\n      hangup\n}\n'
    open_document(client, document, text)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=document),
        options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert apply(text, edits) == 'flow format_main {\n    say "Hi" gender male\n    hangup\n}\n'

    change_document(client, document, 'flow format_main {\n    say "Hi" )\n}\n', 2)  # syntax error: unchanged
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=document),
        options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert not edits

    # Only the lines that change are edited, so the editor keeps the cursor and marks elsewhere where they were.
    body = "".join(f'    say "Line {i}."\n' for i in range(40))
    text = f'flow format_main {{\n  say   "First."\n{body}    hangup  \n}}\n'
    change_document(client, document, text, 3)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=document),
        options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert [(e.range.start.line, e.range.end.line) for e in edits] == [(1, 2), (42, 43)]
    assert apply(text, edits) == f'flow format_main {{\n    say "First."\n{body}    hangup\n}}\n'

    crlf = 'flow format_main {\r\n  say "Hi"\r\n}\r\n'  # a Windows document stays one
    change_document(client, document, crlf, 4)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=document),
        options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    formatted = apply(crlf, edits)
    assert formatted == 'flow format_main {\r\n    say "Hi"\r\n}\r\n'
    change_document(client, document, formatted, 5)
    assert not await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=document),
        options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    close_document(client, document)


# -- robustness ------------------------------------------------------------------------------------------------------

async def test_binary_and_huge_documents_get_a_diagnostic(client: LanguageClient, folder: Path):
    binary = uri(folder, "binary.flow")
    open_document(client, binary, "flow x {\x00\x01\x02 }\n")
    [found] = await diagnostics(client, binary, lambda ds: len(ds) == 1)
    assert found.code == "FC003"
    assert await hover(client, binary, types.Position(line=0, character=1)) is None

    huge = uri(folder, "huge.flow")
    open_document(client, huge, 'flow huge {\n' + '    say "Hello there."\n' * 120_000 + "}\n")
    [found] = await diagnostics(client, huge, lambda ds: len(ds) == 1)
    assert found.code == "FC002"
    assert await complete(client, huge, types.Position(line=1, character=4)) == []
    close_document(client, binary)
    close_document(client, huge)


async def test_a_document_that_is_one_enormous_word_answers_at_once(client: LanguageClient, folder: Path):
    # Just under the size limit: a pasted blob with no spaces is an unknown statement; looking for a keyword it
    # might be a misspelling of once compared all 1.9 million characters with each keyword (seconds per edit).
    document = uri(folder, "blob_word.flow")
    open_document(client, document, "a" * 1_900_000)
    answer = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=document))), 3.0)  # 6 s and more without the fix
    assert answer == []
    await diagnostics(client, document, lambda ds: codes(ds) == ["FC101"])
    close_document(client, document)


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=SERVER, server_env={**os.environ, "FLOWC_LSP_FAULT": "hover"}))
async def faulty(lsp_client: LanguageClient, folder: Path):
    await start(lsp_client, folder)
    yield
    await lsp_client.shutdown_session()


async def test_a_crashing_request_does_not_take_the_server_down(faulty: LanguageClient, folder: Path):
    menu = uri(folder, "menu.flow")
    assert await hover(faulty, menu, position(MENU, "say", 1)) is None  # the handler raised: empty answer
    assert any("fault injected into hover" in m.message for m in faulty.log_messages)
    assert "say" in await complete(faulty, menu, types.Position(line=3, character=8))  # still serving
    document = uri(folder, "after_crash.flow")
    open_document(faulty, document, 'flow after_crash {\n    sya "Hi"\n}\n')
    assert codes(await diagnostics(faulty, document, lambda ds: len(ds) == 1)) == ["FC102"]


async def test_quick_successive_edits_are_checked_once(client: LanguageClient, folder: Path):
    document = uri(folder, "typing.flow")
    text = 'flow typing_main on answer {\n    say "Hello"\n}\n'
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: codes(ds) == [])
    client.diagnostics.log.clear()
    for version, word in enumerate(["sa", "sayy", "sayyy", "sayyyy", "sayyyyy"], start=2):  # faster than 100 ms
        change_document(client, document, text.replace("say", word), version)
    found = await diagnostics(client, document, lambda ds: "sayyyyy" in " ".join(d.message for d in ds))
    await asyncio.sleep(0.4)  # anything still pending would be published by now
    assert codes(found) == ["FC102"]
    assert client.diagnostics.log.count(document) == 1  # one check for five edits, none for the states between
