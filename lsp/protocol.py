"""The JSON-RPC layer of the language server: pygls' protocol made strict about what it receives.

pygls turns every message into lsprotocol types while reading it; when that fails (a hover with `{"bogus": 1}`,
a position with a negative character) it only logs, so the request is never answered and a broken didChange is
dropped, leaving the server's text different from the editor's. Here:

- every request is answered: one whose params do not fit its method gets InvalidParams (-32602);
- before `initialize`, requests get ServerNotInitialized (-32002) and notifications are dropped (LSP 3.17);
- a didChange that cannot be applied exactly (malformed, a range outside the document or ending before it
  starts, a document that is not open) is not applied at all: the document is marked out of sync, the user is
  told, and the server stops using its text until a full text arrives again (a change of the whole document, a
  save carrying its text, or opening it again). `out_of_sync` holds those URIs.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

logger = logging.getLogger(__name__)
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002


class Malformed:
    """A message whose params could not be read as its method's type (stands in for the message)."""

    def __init__(self, data: dict[str, Any], error: Exception) -> None:
        self.id = data.get("id")
        self.method = data.get("method", "")
        self.params = data.get("params")
        self.reason = str(error.__cause__ or error)


class FlowProtocol(LanguageServerProtocol):
    """pygls' protocol, answering every request and never applying a text change it cannot apply exactly;
    minus a capability it always advertises: executeCommand, with no commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialized = False
        self.out_of_sync: set[str] = set()

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" in data:  # a request or notification (a bad response to our own request stays an error)
                return Malformed(data, error)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Malformed):
            self._malformed(message)
            return
        method = getattr(message, "method", None)
        if not self.initialized and method not in (types.INITIALIZE, types.EXIT) and method is not None:
            if getattr(message, "id", None) is not None:
                self._error(message.id, SERVER_NOT_INITIALIZED, f"{method} before initialize")
            else:
                logger.warning("dropped %s: it came before initialize", method)
            return
        super().handle_message(message)

    def _malformed(self, message: Malformed) -> None:
        logger.warning("invalid params for %s: %s", message.method, message.reason)
        if message.id is not None:
            self._error(message.id, INVALID_PARAMS, f"invalid params for {message.method}: {message.reason}")
        elif message.method == types.TEXT_DOCUMENT_DID_CHANGE and self.initialized:
            uri = _uri_in(message.params)
            if uri is not None:
                self.lose_sync(uri, f"a change could not be read ({message.reason})")

    def _error(self, msg_id: Any, code: int, text: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=text))

    def lose_sync(self, uri: str, why: str) -> None:
        """Stop trusting a document's text: say so, and let the server clear what it showed for it."""
        if uri in self.out_of_sync:
            return
        self.out_of_sync.add(uri)
        name = uri.rsplit("/", 1)[-1]
        text = (f"flowc lost track of the text of {name}: {why}. Its diagnostics are cleared and hover, completion "
                "and fixes are off for it; save the file, or close and reopen it, to resume.")
        logger.warning("%s", text)
        self._server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=text))
        on_lost = getattr(self._server, "document_lost", None)
        if on_lost is not None:
            on_lost(uri)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, Any]:
        result = yield from super().lsp_initialize(params)
        if not self.fm.commands:
            result.capabilities.execute_command_provider = None
        self.initialized = True
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[Any, Any, Any]:
        self.out_of_sync.discard(params.text_document.uri)
        yield from super().lsp_text_document__did_open(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Generator[Any, Any, Any]:
        uri = params.text_document.uri
        whole = [c for c in params.content_changes if isinstance(c, types.TextDocumentContentChangeWholeDocument)]
        if uri in self.out_of_sync and not whole:
            return  # still out of sync: a partial change of a text we do not know cannot be applied
        if uri in self.out_of_sync:  # a full text: from it on, the changes apply again
            self.out_of_sync.discard(uri)
        if uri not in self.workspace.text_documents:
            self.lose_sync(uri, "it changed without being opened")
            return
        why = unapplicable(self.workspace.get_text_document(uri).lines, params.content_changes)
        if why is not None:
            self.lose_sync(uri, why)
            return
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_SAVE)
    def lsp_text_document__did_save(self, params: types.DidSaveTextDocumentParams) -> Generator[Any, Any, Any]:
        uri = params.text_document.uri
        if uri in self.out_of_sync and params.text is not None and uri in self.workspace.text_documents:
            document = self.workspace.get_text_document(uri)
            document.apply_change(types.TextDocumentContentChangeWholeDocument(text=params.text))
            self.out_of_sync.discard(uri)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_SAVE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[Any, Any, Any]:
        self.out_of_sync.discard(params.text_document.uri)
        yield from super().lsp_text_document__did_close(params)


def unapplicable(lines: Sequence[str], changes: Sequence[types.TextDocumentContentChangeEvent]) -> str | None:
    """Why a list of changes cannot be applied exactly to a document of these lines (None when it can).
    Only the line count is tracked across the changes: a change's text moves the lines after it."""
    count = len(lines)
    for change in changes:
        if isinstance(change, types.TextDocumentContentChangeWholeDocument):
            count = len(change.text.splitlines(True))
            continue
        start, end = change.range.start, change.range.end
        if (start.line, start.character) > (end.line, end.character):
            return "a change's range ends before it starts"
        if end.line > count:
            return f"a change's range reaches line {end.line + 1} of a {count}-line document"
        count += change.text.count("\n") - (end.line - start.line)
    return None


def _uri_in(params: Any) -> str | None:
    if isinstance(params, dict) and isinstance(params.get("textDocument"), dict):
        uri = params["textDocument"].get("uri")
        return uri if isinstance(uri, str) else None
    return None
