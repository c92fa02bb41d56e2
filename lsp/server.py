"""`flowc lsp`: the language server (pygls 2, stdio). Wiring only: each handler converts positions, asks a
feature module (diagnostics, hover, completion, navigation, actions) and converts the answer back.

Nothing here checks the project: checks run in a worker thread on snapshots (lsp/diagnostics.py,
lsp/analysis.py). Requests answer from analyses already made: hover, completion, symbols and formatting from the
front end of the document's current text (cached; computed in a thread when missing), names from the latest
check; definition, references and code actions from the latest check if it saw the document's current text,
else from the next one (awaited, never run here). lsp/protocol.py answers malformed and early requests and keeps
the documents' texts exact.

Every handler is guarded: an exception is logged (and sent to the client's log) and the request answers with
an empty result, so one bad request never takes the server down. Setting FLOWC_LSP_FAULT=hover,completion
makes the named handlers fail on purpose (the tests use it to prove the guard works).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import logging
import os
import stat
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, BinaryIO, cast

from flowc import __version__
from flowc.core.diagnostics import Span
from flowc.lsp.actions import code_actions, format_edits
from flowc.lsp.completion import Item, Names, complete
from flowc.lsp.convert import Positions, Shift, path_of, uri_of
from flowc.lsp.cursor import locate
from flowc.lsp.diagnostics import Publisher, positions_of
from flowc.lsp.hover import hover_at
from flowc.lsp.navigation import Name, Symbol, definitions, name_at, outline, references
from flowc.lsp.protocol import FlowProtocol
from flowc.lsp.workspace import CheckResult, FileAnalysis, Workspace
from flowc.syntax.source import SourceFile
from lsprotocol import types
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec

logger = logging.getLogger("flowc.lsp")
# The collector runs in whichever thread allocates, holding the GIL: with `flowc`'s (100000, 50, 100) a young
# collection in the check thread walks 100,000 objects (20-90 ms measured, a hover waits for all of it). Small
# young generations keep each pause under a few milliseconds; the oldest generation is never collected
# automatically (a full collection would walk the check's millions of live objects): lsp/diagnostics.py
# freezes what a check leaves alive and collects everything once when the server is idle.
GC_THRESHOLDS = (2_000, 10, 1_000_000_000)
Handler = Callable[..., Any]  # a feature handler: (server, params) -> answer, or a coroutine of it
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


class FlowServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("flowc", __version__, protocol_cls=FlowProtocol)
        self.project = Workspace()
        self.debounce = DEFAULT_DEBOUNCE
        self.publisher = Publisher(self.project, self.text_document_publish_diagnostics,
                                   lambda: self.workspace.position_codec)
        self._recent_map: tuple[tuple[str, str, str], Shift, SourceFile] | None = None

    @property
    def flow_protocol(self) -> FlowProtocol:
        return cast(FlowProtocol, self.protocol)  # (pygls types it as its base class; __init__ chose FlowProtocol)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio. pygls reads every header line and body in its thread pool, three hand-offs between
        threads per message, each waiting for the GIL while a check runs; when stdin is a pipe (as editors start
        servers), the event loop reads it itself instead."""
        stdin = stdin or sys.stdin.buffer
        if not stat.S_ISFIFO(os.fstat(stdin.fileno()).st_mode):  # (a file or a terminal: pygls' own reader)
            super().start_io(stdin, stdout)
            return
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve_pipe(stdin))
        except BrokenPipeError:
            logger.error("the connection to the client is lost")
        except (KeyboardInterrupt, SystemExit):  # `exit` ends the server with SystemExit
            pass
        # (pygls' shutdown() stops its reader thread pool and TCP server; this way of serving starts neither)

    async def _serve_pipe(self, stdin: BinaryIO) -> None:
        stream = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        await run_async(stop_event=threading.Event(), reader=PipeReader(stream), protocol=self.protocol,
                        logger=logger, error_handler=self.report_server_error)

    def document_lost(self, uri: str) -> None:
        """lsp.protocol could not apply a change: check the file's disk text and show nothing for the document."""
        self.project.lost(path_of(uri))
        self.publisher.schedule(0)

    def editor_text(self, uri: str) -> str | None:
        """The document's text as the editor has it (None when it is not open, or out of sync)."""
        if uri in self.flow_protocol.out_of_sync:
            return None
        document = self.workspace.text_documents.get(uri)
        return document.source if document is not None else None

    async def document(self, uri: str) -> tuple[FileAnalysis, Positions] | None:
        """The analysis of a document's current text (the editor's if open, else the disk's)."""
        if uri in self.flow_protocol.out_of_sync:
            return None
        path = path_of(uri)
        text = self.editor_text(uri)
        if text is None:
            text = self.project.text(path)
            if text is None:
                return None
        analyser = self.project.analyser
        analysis = analyser.cached(path, text)
        if analysis is None:  # not analysed yet (an edit the debounced check has not reached): in a thread
            analysis = await asyncio.to_thread(analyser.front_end, path, text, path in self.project.open)
        return analysis, Positions(analysis.source, self.workspace.position_codec)

    def recent(self, uri: str) -> tuple[FileAnalysis, Shift, Positions] | None:
        """The latest analysis of an open document, maybe of an earlier text, with the map of offsets between
        that text and the current one, and the current text's positions: what hover answers from while the new
        text is still being analysed."""
        text = self.editor_text(uri)
        if text is None:
            return None
        analysis = self.project.analyser.cache.get(path_of(uri))
        if analysis is None or analysis.module is None or analysis.source.text != analysis.text:
            return None
        if analysis.text is text or analysis.text == text:
            return analysis, Shift(text, text), Positions(analysis.source, self.workspace.position_codec)
        key = (uri, analysis.text, text)
        if self._recent_map is None or self._recent_map[0] != key:  # hovers come in runs: map the two texts once
            shift = Shift(analysis.text, text)
            self._recent_map = (key, shift, shift.source(analysis.source, text))
        _, shift, source = self._recent_map
        return analysis, shift, Positions(source, self.workspace.position_codec)

    def last_group(self, path: str) -> CheckResult | None:
        last = self.project.analyser.last
        return last.group(path) if last is not None else None


class PipeReader:
    """pygls' reader interface over an asyncio stream: b"" at the end of input, as pygls expects."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as error:
            return error.partial


def guarded(empty: Callable[[], object]) -> Callable[[Handler], Handler]:
    """Log a handler's exception and answer `empty()` instead of an error."""

    def decorate(function: Handler) -> Handler:
        name = function.__name__

        def failed(ls: FlowServer) -> object:
            logger.exception("%s failed", name)
            ls.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"flowc: {name} failed\n{traceback.format_exc()}"))
            return empty()

        def inject() -> None:
            if name in FAULTS:
                raise RuntimeError(f"fault injected into {name} (FLOWC_LSP_FAULT)")

        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def answer(ls: FlowServer, params: Any) -> object:
                try:
                    inject()
                    return await function(ls, params)
                except Exception:
                    return failed(ls)

            return cast(Handler, answer)

        @functools.wraps(function)
        def handler(ls: FlowServer, params: Any) -> object:
            try:
                inject()
                return function(ls, params)
            except Exception:
                return failed(ls)

        return cast(Handler, handler)

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
    ls.project.use_options(options)  # `select`/`ignore`: the codes to report
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


def _registered(future: Future[None]) -> None:
    """A client that refuses the registration still works (files change on disk less often than in the editor)."""
    if not future.cancelled() and future.exception() is not None:
        logger.info("the client did not register the .flow file watcher: %s", future.exception())


@server.feature(types.SHUTDOWN)
@guarded(none)
def shutdown(ls: FlowServer, params: None) -> None:
    """Stop a running check at its next file, so that `exit` does not wait for it."""
    ls.project.generation += 1
    if ls.publisher.task is not None:
        ls.publisher.task.cancel()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded(none)
def did_open(ls: FlowServer, params: types.DidOpenTextDocumentParams) -> None:
    document = params.text_document
    ls.project.opened(path_of(document.uri), document.text, document.version)
    ls.publisher.schedule(0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded(none)
def did_change(ls: FlowServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    text = ls.editor_text(uri)
    if text is not None:
        ls.project.edited(path_of(uri), text, params.text_document.version)
    ls.publisher.schedule(ls.debounce)


# The text comes with each save: a document lsp.protocol lost track of is in step again from its next save.
@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=True))
@guarded(none)
def did_save(ls: FlowServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    text = ls.editor_text(uri)
    if text is not None and path_of(uri) in ls.project.hidden | set(ls.project.open):
        ls.project.edited(path_of(uri), text, ls.workspace.get_text_document(uri).version)
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
async def hover(ls: FlowServer, params: types.HoverParams) -> types.Hover | None:
    recent = ls.recent(params.text_document.uri)
    if recent is not None:  # from the latest analysis, unless the cursor is in what changed since
        analysis, shift, positions = recent
        offset = shift.to_old(positions.offset(params.position))
        if offset is not None:
            answer = hover_at(analysis, offset, ls.last_group(analysis.path))
            if answer is None:
                return None
            text, start, end = answer
            start, end = shift.to_new(start), shift.to_new(end)  # type: ignore[assignment]
            if start is not None and end is not None:
                return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                                   range=positions.range(start, end))
    found = await ls.document(params.text_document.uri)
    if found is None or found[0].module is None:
        return None
    analysis, positions = found
    answer = hover_at(analysis, positions.offset(params.position), ls.last_group(analysis.path))
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
async def completion(ls: FlowServer, params: types.CompletionParams) -> types.CompletionList:
    empty = types.CompletionList(is_incomplete=False, items=[])
    found = await ls.document(params.text_document.uri)
    if found is None:
        return empty
    analysis, positions = found
    if analysis.module is None:
        return empty
    offset = positions.offset(params.position)
    last = ls.last_group(analysis.path)
    context_of = (lambda name: last.links.context(name)) if last else (lambda name: "call")
    cursor = locate(analysis.module, analysis.source.text, offset, context_of)
    names = Names(sorted(last.flows) if last else [], sorted(last.conferences) if last else [],
                  sorted(last.project.hours) if last else [])
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


def _locations(result: CheckResult, codec: PositionCodec, spans: Iterable[Span]) -> list[types.Location]:
    positions = positions_of(result, codec)
    return [types.Location(uri=uri_of(s.file), range=positions[s.file].span_range(s)) for s in spans
            if s.file in positions]


async def _name_under_cursor(ls: FlowServer, params: types.DefinitionParams | types.ReferenceParams
                             ) -> tuple[CheckResult, Name] | None:
    """The flow or conference named at the cursor, with a check of its project that saw the document's text."""
    found = await ls.document(params.text_document.uri)
    if found is None:
        return None
    analysis, positions = found
    name = name_at(analysis, positions.offset(params.position))
    if name is None:
        return None
    result = await ls.publisher.current(analysis.path, analysis.text)
    return None if result is None else (result.group(analysis.path), name)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded(list)
async def definition(ls: FlowServer, params: types.DefinitionParams) -> list[types.Location]:
    found = await _name_under_cursor(ls, params)
    return _locations(found[0], ls.workspace.position_codec, definitions(*found)) if found else []


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded(list)
async def find_references(ls: FlowServer, params: types.ReferenceParams) -> list[types.Location]:
    found = await _name_under_cursor(ls, params)
    if not found:
        return []
    return _locations(found[0], ls.workspace.position_codec, references(*found, params.context.include_declaration))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded(list)
async def document_symbol(ls: FlowServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    found = await ls.document(params.text_document.uri)
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
async def code_action(ls: FlowServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    found = await ls.document(params.text_document.uri)
    if found is None:
        return []
    analysis, here = found
    result = await ls.publisher.current(analysis.path, analysis.text)  # fixes are edits of this very text
    if result is None:
        return []
    positions = positions_of(result, ls.workspace.position_codec)
    path = path_of(params.text_document.uri)
    start, end = here.offset(params.range.start), here.offset(params.range.end)
    return code_actions(result, path, start, end, positions)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded(list)
async def formatting(ls: FlowServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    found = await ls.document(params.text_document.uri)
    if found is None or found[0].module is None:
        return []
    analysis, positions = found
    return format_edits(analysis.source.text, analysis.path, positions)


@server.feature("flowc/graph")  # flowc.lsp.graph.METHOD: the diagram of the open project (`flowc graph`)
@guarded(lambda: {"error": "the graph request failed; see the server's log"})
async def graph(ls: FlowServer, params: object) -> dict[str, Any]:
    from flowc.lsp.graph import graph_request

    result = await ls.publisher.up_to_date()
    if result is None:
        return {"error": "the project is still being checked; try again"}
    return graph_request(result, params)


def main() -> int:
    # The check thread gives the GIL up this often when the event loop wants it (Python's default is 5 ms): a
    # request that arrives during a check waits at most this long for each slice of its own work.
    sys.setswitchinterval(0.001)
    gc.set_threshold(*GC_THRESHOLDS)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="flowc lsp: %(levelname)s %(message)s")
    server.start_io()
    return 0
