"""Push diagnostics: after an edit settles (debounced), check a snapshot of the project in the worker thread and
publish every file whose diagnostics changed, including empty lists for files that became clean.

The event loop only takes the snapshot and sends the messages; the check, and turning its diagnostics into the
protocol's, run in one worker thread, so requests keep being answered meanwhile. A newer change cancels the
pending check (the task, and the worker's run at its next file or project) and nothing stale is published.

The analyses of a large project are millions of objects, and Python's cyclic garbage collector walks what it
collects while holding the GIL (a full collection: 0.7 s to 4 s for a 24,000-line file on the 2-core VM; even a
young collection of what the check allocated: 3-30 ms), which stalls the event loop too. A check's objects are
long-lived (the analyses it builds) and it makes next to no cyclic garbage, so the collector is off while the
worker runs, and what is alive afterwards is frozen (`gc.freeze`: the collector no longer walks it; what it
drops is still freed by reference counting). Once the server has been idle for a while everything is unfrozen
and collected once, so that cycles are not kept for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from flowc.core.diagnostics import Diagnostic, sort_key
from flowc.lsp.convert import Positions, lsp_diagnostic, uri_of
from flowc.lsp.workspace import CheckResult, Snapshot, Workspace
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

logger = logging.getLogger(__name__)
CURRENT_RESULT_WAIT = 30.0  # seconds a request that needs a check of the current text waits for it at most
CHECK_NICENESS = 5  # added to the check thread's nice value
IDLE_COLLECTION = 20.0  # seconds without a check before the frozen objects are collected once
Published = tuple[tuple[object, ...], ...]  # a file's diagnostics as plain values (`snapshot`)
Change = tuple[str, Published | None, types.PublishDiagnosticsParams]  # (path, new state or None to forget, message)


def snapshot(diagnostics: list[Diagnostic]) -> Published:
    """What was published, as plain values (to compare with the next check's)."""
    return tuple((d.code, d.severity, d.message, d.span.file, d.span.start, d.span.end, d.help, tuple(d.notes),
                  tuple((lb.span.file, lb.span.start, lb.span.end, lb.message) for lb in d.labels),
                  d.fix is not None) for d in diagnostics)


@contextlib.contextmanager
def uncollected() -> Iterator[None]:
    """No automatic collection while the block runs; what it leaves alive is frozen, so that the next young
    collection does not walk it either. For the worker's runs only (one at a time: the collector is global)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def lower_priority() -> None:
    """Run the calling thread at a lower scheduling priority (Linux, where a thread's id is a scheduling
    entity): when the request thread wakes on a busy machine, the scheduler lets it preempt the check."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECK_NICENESS)


def positions_of(result: CheckResult, codec: PositionCodec) -> dict[str, Positions]:
    return {path: Positions(analysis.source, codec) for path, analysis in result.analyses.items()}


class Publisher:
    """Debounces checks (one pending task: a newer edit supersedes an older one) and publishes the results."""

    def __init__(self, workspace: Workspace, send: Callable[[types.PublishDiagnosticsParams], None],
                 codec: Callable[[], PositionCodec]) -> None:
        self.workspace = workspace
        self.send = send
        self.codec = codec
        self.published: dict[str, Published] = {}
        self.compared: dict[str, list[Diagnostic]] = {}  # the list each published state was made from
        self.task: asyncio.Task[None] | None = None
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowc-check", initializer=lower_priority)
        self.finished: asyncio.Event | None = None  # set (and replaced) whenever a check is published
        self.idle: asyncio.TimerHandle | None = None

    def schedule(self, delay: float) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = asyncio.get_running_loop().create_task(self._later(delay))

    async def _later(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        taken = self.workspace.snapshot()
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(self.worker, self._check, taken)
        except Exception:  # a checker bug must not stop later checks; the log says what happened
            logger.exception("checking the project failed")
            return
        if outcome is None or taken.generation != self.workspace.generation:
            return  # cancelled, or the project changed meanwhile: the check scheduled by that change publishes
        changes, self.compared = outcome
        for path, state, params in changes:
            if state is None:
                self.published.pop(path, None)
            else:
                self.published[path] = state
            self.send(params)
        if self.finished is not None:
            self.finished.set()
            self.finished = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.worker, self._prime, taken)
        if self.idle is not None:
            self.idle.cancel()
        self.idle = loop.call_later(IDLE_COLLECTION, self._collect)

    def _collect(self) -> None:
        if self.task is not None and not self.task.done():  # busy again: the next check sets a new timer
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _check(self, taken: Snapshot) -> tuple[list[Change], dict[str, list[Diagnostic]]] | None:
        """In the worker: check the snapshot and say what to publish (None when a newer snapshot cancelled it)."""
        def cancelled() -> bool:
            return self.workspace.generation != taken.generation

        with uncollected():
            result = self.workspace.analyser.check(taken, cancelled)
            if result is None:
                return None
            return self.changes(result, taken, positions_of(result, self.codec())), result.diagnostics

    def _prime(self, taken: Snapshot) -> None:
        with uncollected():
            self.workspace.analyser.prime(taken, lambda: self.workspace.generation != taken.generation)

    def changes(self, result: CheckResult, taken: Snapshot, positions: dict[str, Positions]) -> list[Change]:
        """(path, state, params) to publish: files whose diagnostics changed, open documents, and files to clear.
        A closed file whose list is the very one compared last time is skipped unseen (checks keep the lists of
        the files they did not re-check)."""
        published, compared = dict(self.published), self.compared
        out: list[Change] = []
        for path in sorted(set(result.diagnostics) | set(published) | taken.hidden):
            is_open = path in taken.open
            found = result.diagnostics.get(path)
            if not is_open and found is not None and found is compared.get(path) and path not in taken.hidden:
                continue
            new = sorted(found or [], key=sort_key)
            old = published.get(path)
            if path in taken.hidden or path not in positions:  # out of sync, or left the project: clear it
                if old is not None or path in taken.hidden:
                    out.append((path, None, types.PublishDiagnosticsParams(uri=uri_of(path), diagnostics=[])))
                continue
            state = snapshot(new)
            if not is_open and (old == state or (old is None and not new)):
                continue
            out.append((path, state, types.PublishDiagnosticsParams(
                uri=uri_of(path), version=taken.versions.get(path) if is_open else None,
                diagnostics=[lsp_diagnostic(d, positions) for d in new])))
        return out

    async def current(self, path: str, text: str) -> CheckResult | None:
        """The latest check if it analysed this text of the file, else the next one that does (a request that
        must not mix texts, such as code actions, waits here without blocking the loop)."""
        def saw_text(last: CheckResult) -> bool:
            analysed = last.analyses.get(path)
            return analysed is not None and (analysed.text is text or analysed.text == text)

        return await self._wait(saw_text)

    async def up_to_date(self) -> CheckResult | None:
        """A check of the project as it is now: the latest one, or the next."""
        generation = self.workspace.generation
        return await self._wait(lambda last: self.workspace.analyser.last_generation >= generation)

    async def _wait(self, good: Callable[[CheckResult], bool]) -> CheckResult | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CURRENT_RESULT_WAIT
        while True:
            last = self.workspace.analyser.last
            if last is not None and good(last):
                return last
            if self.task is None or self.task.done():
                self.schedule(0)
            if self.finished is None:
                self.finished = asyncio.Event()
            try:
                await asyncio.wait_for(self.finished.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return None
