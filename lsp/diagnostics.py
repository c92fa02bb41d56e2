"""Push diagnostics: after an edit settles (debounced), check the whole project and publish every file whose
diagnostics changed, including empty lists for files that became clean."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from flowc.diagnostics import Diagnostic, sort_key
from flowc.lsp.convert import Positions, lsp_diagnostic, uri_of
from flowc.lsp.workspace import CheckResult, Workspace
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

logger = logging.getLogger(__name__)
SLOW_CHECK = 0.25  # seconds: below this (a 5,000-line file checks in ~0.1 s) the debounce alone applies
MAX_EDIT_DELAY = 5.0  # seconds: even the largest file gets checked once typing pauses this long


def snapshot(diagnostics: list[Diagnostic]) -> tuple:
    """What was published, as plain values: spans are mutable and an incremental re-parse moves them."""
    return tuple((d.code, d.severity, d.message, d.span.file, d.span.start, d.span.end, d.help, tuple(d.notes),
                  tuple((lb.span.file, lb.span.start, lb.span.end, lb.message) for lb in d.labels),
                  d.fix is not None) for d in diagnostics)


def positions_of(result: CheckResult, codec: PositionCodec) -> dict[str, Positions]:
    return {path: Positions(analysis.source, codec) for path, analysis in result.analyses.items()}


class Publisher:
    """Debounces checks (one pending task: a newer edit supersedes an older one) and publishes the results."""

    def __init__(self, project: Workspace, send: Callable[[types.PublishDiagnosticsParams], None],
                 codec: Callable[[], PositionCodec], version_of: Callable[[str], int | None]) -> None:
        self.project = project
        self.send = send
        self.codec = codec
        self.version_of = version_of
        self.published: dict[str, tuple] = {}
        self.task: asyncio.Task | None = None
        self.last_check_seconds = 0.0

    def edit_delay(self, debounce: float) -> float:
        """The pause after an edit before checking. A project whose check blocks the server for a noticeable
        time (a file of tens of thousands of lines) waits for longer pauses in typing, so hover, completion
        and the keystrokes themselves are not held up behind a check on every keystroke."""
        if self.last_check_seconds < SLOW_CHECK:
            return debounce
        return min(max(debounce, 2 * self.last_check_seconds), MAX_EDIT_DELAY)

    def schedule(self, delay: float) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = asyncio.get_running_loop().create_task(self._later(delay))

    async def _later(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        try:
            for path in list(self.project.open):  # the edited files' front end first (cached by text) ...
                self.project.analysis(path)
            await asyncio.sleep(0)  # ... then let requests that arrived meanwhile answer before the rules run
            self.publish()
        except Exception:  # a checker bug must not stop later checks; the log says what happened
            logger.exception("checking the project failed")
        self.last_check_seconds = time.perf_counter() - started

    def publish(self) -> CheckResult:
        result = self.project.check()
        codec = self.codec()
        positions = positions_of(result, codec)
        for path in sorted(set(result.diagnostics) | set(self.published)):
            new = sorted(result.diagnostics.get(path, []), key=sort_key)
            old = self.published.get(path)
            is_open = path in self.project.open
            state = snapshot(new)
            if not is_open and (old == state or (old is None and not new)):
                continue
            self.published[path] = state
            if path not in positions:  # a file that left the project (closed, deleted): clear it
                self.send(types.PublishDiagnosticsParams(uri=uri_of(path), diagnostics=[]))
                del self.published[path]
                continue
            self.send(types.PublishDiagnosticsParams(
                uri=uri_of(path), version=self.version_of(path) if is_open else None,
                diagnostics=[lsp_diagnostic(d, positions) for d in new]))
        return result
