"""`flowc lsp`: the language server (pygls 2, stdio). Wiring only: each handler converts positions, asks a
feature module (diagnostics, hover, completion, navigation, actions) and converts the answer back.

Every handler is guarded: an exception is logged (and sent to the client's log) and the request answers with
an empty result, so one bad request never takes the server down. Setting FLOWC_LSP_FAULT=hover,completion
makes the named handlers fail on purpose (the tests use it to prove the guard works).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable

from flowc import __version__
from flowc.lsp.actions import code_actions, format_edits
from flowc.lsp.completion import Item, Names, complete
from flowc.lsp.convert import Positions, path_of, uri_of
from flowc.lsp.cursor import locate
from flowc.lsp.diagnostics import Publisher, positions_of
from flowc.lsp.hover import hover_at
from flowc.lsp.navigation import Name, Symbol, definitions, name_at, outline, references
from flowc.lsp.workspace import CheckResult, FileAnalysis, Workspace
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

logger = logging.getLogger("flowc.lsp")
DEFAULT_DEBOUNCE = 0.15  # seconds between the last keystroke and the check
FAULTS = frozenset(filter(None, os.environ.get("FLOWC_LSP_FAULT", "").split(",")))

ITEM_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "attribute": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "flow": types.CompletionItemKind.Function,
    "conference": types.CompletionItemKind.Module,
    "event": types.CompletionItemKind.Event,
}
SYMBOL_KINDS = {
    "flow": types.SymbolKind.Function,
    "branch": types.SymbolKind.Event,
    "conference": types.SymbolKind.Namespace,
    "handler": types.SymbolKind.Event,
}


class FlowProtocol(LanguageServerProtocol):
    """pygls' protocol, minus a capability it always advertises: executeCommand, with no commands."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        result = yield from super().lsp_initialize(params)
        if not self.fm.commands:
            result.capabilities.execute_command_provider = None
        return result


class FlowServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("flowc", __version__, protocol_cls=FlowProtocol)
        self.project = Workspace()
        self.debounce = DEFAULT_DEBOUNCE
        self.publisher = Publisher(self.project, self.text_document_publish_diagnostics,
                                   lambda: self.workspace.position_codec, self.version_of)

    def version_of(self, path: str) -> int | None:
        document = self.workspace.text_documents.get(uri_of(path))
        return document.version if document is not None else None

    def document(self, uri: str) -> tuple[FileAnalysis, Positions] | None:
        """The analysis of a document's current text (the editor's if open, else the disk's)."""
        path = path_of(uri)
        open_document = self.workspace.text_documents.get(uri)
        text = open_document.source if open_document is not None else None
        analysis = self.project.analysis(path, text)
        if analysis is None:
            return None
        return analysis, Positions(analysis.source, self.workspace.position_codec)


def guarded(empty: Callable[[], object]):
    """Log a handler's exception and answer `empty()` instead of an error."""

    def decorate(function):
        name = function.__name__

        @functools.wraps(function)
        def handler(ls: FlowServer, params):
            try:
                if name in FAULTS:
                    raise RuntimeError(f"fault injected into {name} (FLOWC_LSP_FAULT)")
                return function(ls, params)
            except Exception:
                logger.exception("%s failed", name)
                ls.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Error, message=f"flowc: {name} failed\n{traceback.format_exc()}"))
                return empty()

        return handler

    return decorate


def none() -> None:
    return None


server = FlowServer()


@server.feature(types.INITIALIZE)
@guarded(none)
def initialize(ls: FlowServer, params: types.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    if isinstance(options.get("debounceMs"), int | float):
        ls.debounce = max(0.0, options["debounceMs"] / 1000)
    folders = [path_of(uri) for uri in ls.workspace.folders] or (
        [ls.workspace.root_path] if ls.workspace.root_path else [])
    ls.project.load_folders([f for f in folders if f and os.path.isdir(f)])


@server.feature(types.INITIALIZED)
@guarded(none)
def initialized(ls: FlowServer, params: types.InitializedParams) -> None:
    if ls.project.disk:
        ls.publisher.schedule(0)
    watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if watched and watched.dynamic_registration:  # files created, changed or deleted outside the editor
        ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="flowc-watch-flow-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*.flow")]))])).add_done_callback(_registered)


def _registered(future) -> None:
    """A client that refuses the registration still works (files change on disk less often than in the editor)."""
    if not future.cancelled() and future.exception() is not None:
        logger.info("the client did not register the .flow file watcher: %s", future.exception())


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded(none)
def did_open(ls: FlowServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.project.opened(path_of(params.text_document.uri), params.text_document.text)
    ls.publisher.schedule(0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded(none)
def did_change(ls: FlowServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.project.open[path_of(uri)] = ls.workspace.get_text_document(uri).source
    ls.publisher.schedule(ls.publisher.edit_delay(ls.debounce))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded(none)
def did_save(ls: FlowServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.publisher.schedule(0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded(none)
def did_close(ls: FlowServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.project.closed(path_of(params.text_document.uri))
    ls.publisher.schedule(0)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded(none)
def did_change_watched_files(ls: FlowServer, params: types.DidChangeWatchedFilesParams) -> None:
    for change in params.changes:
        path = path_of(change.uri)
        if not path.endswith(".flow"):
            continue
        ls.project.changed_on_disk(path, deleted=change.type == types.FileChangeType.Deleted)
    ls.publisher.schedule(0)


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
@guarded(none)
def did_change_workspace_folders(ls: FlowServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    for folder in params.event.removed:
        ls.project.remove_folder(path_of(folder.uri))
    ls.project.load_folders([path_of(f.uri) for f in params.event.added if os.path.isdir(path_of(f.uri))])
    ls.publisher.schedule(0)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded(none)
def hover(ls: FlowServer, params: types.HoverParams) -> types.Hover | None:
    found = ls.document(params.text_document.uri)
    if found is None or found[0].module is None:
        return None
    analysis, positions = found
    last = ls.project.last.group(analysis.path) if ls.project.last else None
    answer = hover_at(analysis, positions.offset(params.position), last)
    if answer is None:
        return None
    text, start, end = answer
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=positions.range(start, end))


# `|` only ever starts a filter in a string's `{field|...}`; `{` is not a trigger: it also opens blocks, where a list
# popping up would take the Enter meant for a new line.
@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(resolve_provider=False, trigger_characters=["|"]))
@guarded(lambda: types.CompletionList(is_incomplete=False, items=[]))
def completion(ls: FlowServer, params: types.CompletionParams) -> types.CompletionList:
    empty = types.CompletionList(is_incomplete=False, items=[])
    found = ls.document(params.text_document.uri)
    if found is None or found[0].module is None:
        return empty
    analysis, positions = found
    offset = positions.offset(params.position)
    last = ls.project.last.group(analysis.path) if ls.project.last else None
    context_of = (lambda name: last.links.context(name)) if last else (lambda name: "call")
    cursor = locate(analysis.module, analysis.source.text, offset, context_of)
    names = Names(sorted(last.flows) if last else [], sorted(last.conferences) if last else [])
    start, end = (cursor.word.start, cursor.word.end) if cursor.word else (offset, offset)
    where = positions.range(start, end)
    items = complete(cursor, names)
    return types.CompletionList(is_incomplete=False, items=[_item(item, where, i) for i, item in enumerate(items)])


def _item(item: Item, where: types.Range, rank: int) -> types.CompletionItem:
    return types.CompletionItem(
        label=item.label, kind=ITEM_KINDS.get(item.kind), detail=item.detail or None, sort_text=f"{rank:04d}",
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.documentation)
        if item.documentation else None,
        text_edit=types.TextEdit(range=where, new_text=item.label))


def _locations(ls: FlowServer, spans) -> list[types.Location]:
    result = ls.project.last
    positions = positions_of(result, ls.workspace.position_codec) if result else {}
    return [types.Location(uri=uri_of(s.file), range=positions[s.file].span_range(s)) for s in spans
            if s.file in positions]


def _name_under_cursor(ls: FlowServer, params: types.TextDocumentPositionParams) -> tuple[CheckResult, Name] | None:
    """The flow or conference named at the cursor, with the current check of its file's project."""
    found = ls.document(params.text_document.uri)
    if found is None:
        return None
    analysis, positions = found
    name = name_at(analysis, positions.offset(params.position))
    return None if name is None else (ls.project.current().group(analysis.path), name)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded(list)
def definition(ls: FlowServer, params: types.DefinitionParams) -> list[types.Location]:
    found = _name_under_cursor(ls, params)
    return _locations(ls, definitions(*found)) if found else []


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded(list)
def find_references(ls: FlowServer, params: types.ReferenceParams) -> list[types.Location]:
    found = _name_under_cursor(ls, params)
    return _locations(ls, references(*found, params.context.include_declaration)) if found else []


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded(list)
def document_symbol(ls: FlowServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    found = ls.document(params.text_document.uri)
    if found is None:
        return []
    analysis, positions = found
    return [_symbol(symbol, positions) for symbol in outline(analysis.flow_file)]


def _symbol(symbol: Symbol, positions: Positions) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=symbol.name, kind=SYMBOL_KINDS[symbol.kind], range=positions.span_range(symbol.span),
        selection_range=positions.span_range(symbol.selection),
        children=[_symbol(child, positions) for child in symbol.children] or None)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@guarded(list)
def code_action(ls: FlowServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    found = ls.document(params.text_document.uri)
    if found is None:
        return []
    _, here = found
    result = ls.project.current()
    positions = positions_of(result, ls.workspace.position_codec)
    path = path_of(params.text_document.uri)
    start, end = here.offset(params.range.start), here.offset(params.range.end)
    return code_actions(result, path, start, end, positions)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded(list)
def formatting(ls: FlowServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    found = ls.document(params.text_document.uri)
    if found is None or found[0].module is None:
        return []
    analysis, positions = found
    return format_edits(analysis.source.text, analysis.path, positions)


@server.feature("flowc/graph")  # flowc.lsp.graph.METHOD: the diagram of the open project (`flowc graph`)
@guarded(lambda: {"error": "the graph request failed; see the server's log"})
def graph(ls: FlowServer, params) -> dict:
    from flowc.lsp.graph import graph_request

    return graph_request(ls.project, params)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="flowc lsp: %(levelname)s %(message)s")
    server.start_io()
    return 0
